// Load() errors: one line naming the source and key, exit code 2, and never a secret.
#include "config/config.h"
#include "gtest/gtest.h"
#include "load_helper.h"

namespace meshmq::config {
namespace {

using testing_util::LoadWith;
using testing_util::WriteTempFile;

// Asserts `r` is an error exit with exactly `message` on stderr and nothing on stdout.
void ExpectError(const LoadResult& r, const std::string& message) {
  EXPECT_TRUE(r.exit_now);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.output, "");
  EXPECT_EQ(r.error, message);
  EXPECT_EQ(r.error.find('\n'), std::string::npos) << "one line";
}

TEST(ConfigErrorTest, FlagOutOfRange) {
  ExpectError(LoadWith({"--max-inflight", "0"}),
              "meshmq: --max-inflight: value 0 out of range [1, 65535]");
  ExpectError(LoadWith({"--workers=1025"}), "meshmq: --workers: value 1025 out of range [0, 1024]");
  ExpectError(LoadWith({"--max-packet-size=15"}),
              "meshmq: --max-packet-size: value 15 out of range [16, 268435455]");
  ExpectError(LoadWith({"--max-topic-alias=65536"}),
              "meshmq: --max-topic-alias: value 65536 out of range [0, 65535]");
  ExpectError(LoadWith({"--max-connections=-1"}),
              "meshmq: --max-connections: value -1 out of range [0, 4294967295]");
  ExpectError(LoadWith({"--forward-batch=0"}),
              "meshmq: --forward-batch: value 0 out of range [1, 65536]");
  ExpectError(LoadWith({"--forward-linger-us=100001"}),
              "meshmq: --forward-linger-us: value 100001 out of range [0, 100000]");
  ExpectError(LoadWith({"--workers=99999999999999999999"}),
              "meshmq: --workers: value 99999999999999999999 out of range [0, 1024]");
}

TEST(ConfigErrorTest, EnvNotAnInteger) {
  ExpectError(LoadWith({}, {"MESHMQ_WORKERS=abc"}),
              "meshmq: MESHMQ_WORKERS: \"abc\" is not an integer");
  ExpectError(LoadWith({}, {"MESHMQ_WORKERS=4 "}),
              "meshmq: MESHMQ_WORKERS: \"4 \" is not an integer");
  ExpectError(LoadWith({}, {"MESHMQ_WORKERS="}), "meshmq: MESHMQ_WORKERS: \"\" is not an integer");
}

TEST(ConfigErrorTest, EnumNotOneOf) {
  ExpectError(LoadWith({"--log-level=loud"}),
              "meshmq: --log-level: \"loud\" is not one of trace|debug|info|warn|error");
  ExpectError(LoadWith({"--log-format=xml"}),
              "meshmq: --log-format: \"xml\" is not one of text|json");
  ExpectError(LoadWith({"--discovery=k8s"}),
              "meshmq: --discovery: \"k8s\" is not one of none|static|dns|dns-srv");
  ExpectError(LoadWith({"--storage=disk"}),
              "meshmq: --storage: \"disk\" is not one of memory|rocksdb");
  ExpectError(LoadWith({}, {"MESHMQ_SHARED_SUBSCRIPTION_STRATEGY=first"}),
              "meshmq: MESHMQ_SHARED_SUBSCRIPTION_STRATEGY: \"first\" is not one of "
              "round_robin|random|hash_client_id");
}

TEST(ConfigErrorTest, BadBool) {
  ExpectError(LoadWith({"--debug-fault-injection=yes"}),
              "meshmq: --debug-fault-injection: \"yes\" is not true|false");
}

TEST(ConfigErrorTest, UnknownFlag) {
  ExpectError(LoadWith({"--mqtt-lisen=:1883"}), "meshmq: unknown flag --mqtt-lisen (see --help)");
  ExpectError(LoadWith({"-x"}), "meshmq: unknown flag -x (flags start with --; see --help)");
}

TEST(ConfigErrorTest, MissingValue) {
  ExpectError(LoadWith({"--workers"}), "meshmq: --workers: missing value");
  ExpectError(LoadWith({"--node-id", "--workers", "2"}), "meshmq: --node-id: missing value");
  ExpectError(LoadWith({"--config"}), "meshmq: --config: missing value");
}

TEST(ConfigErrorTest, ValueOnValuelessFlag) {
  ExpectError(LoadWith({"--help=yes"}), "meshmq: --help: takes no value");
}

TEST(ConfigErrorTest, StrayArgument) {
  ExpectError(LoadWith({"--workers=2", "extra"}),
              "meshmq: unexpected argument #2 (flags start with --; see --help)");
}

TEST(ConfigErrorTest, BadHostPort) {
  ExpectError(LoadWith({"--mqtt-listen=localhost"}),
              "meshmq: --mqtt-listen: \"localhost\" is not host:port (missing port)");
  ExpectError(LoadWith({}, {"MESHMQ_CLUSTER_LISTEN=:70000"}),
              "meshmq: MESHMQ_CLUSTER_LISTEN: \":70000\": port 70000 out of range [0, 65535]");
  ExpectError(LoadWith({"--dns-server=127.0.0.1"}),
              "meshmq: --dns-server: \"127.0.0.1\" is not host:port (missing port)");
  ExpectError(LoadWith({"--mqtt-listen=off"}),  // only http-listen can be switched off
              "meshmq: --mqtt-listen: \"off\" is not host:port (missing port)");
}

TEST(ConfigErrorTest, BadPeerNamesTheItem) {
  ExpectError(LoadWith({"--peers=a:1,b"}),
              "meshmq: --peers: item 2: \"b\" is not host:port (missing port)");
}

TEST(ConfigErrorTest, ConfigFileUnknownKey) {
  std::string path = WriteTempFile("u.json", R"({"mqtt_lisen": ":1883"})");
  ExpectError(LoadWith({"--config", path}),
              "meshmq: config file " + path + ": unknown key \"mqtt_lisen\"");
}

TEST(ConfigErrorTest, ConfigFileNestedKeysAreUnknown) {
  std::string path = WriteTempFile("n.json", R"({"mqtt": {"listen": ":1883"}})");
  ExpectError(LoadWith({"--config", path}),
              "meshmq: config file " + path + ": unknown key \"mqtt\"");
}

TEST(ConfigErrorTest, ConfigFileFlagSpellingIsUnknown) {
  std::string path = WriteTempFile("d.json", R"({"mqtt-listen": ":1883"})");
  ExpectError(LoadWith({"--config", path}),
              "meshmq: config file " + path + ": unknown key \"mqtt-listen\"");
}

TEST(ConfigErrorTest, ConfigFileBadJson) {
  std::string path = WriteTempFile("b.json", "{\"workers\": 1,}");
  ExpectError(LoadWith({"--config", path}),
              "meshmq: config file " + path +
                  ": invalid JSON: parse error at line 1, column 15: syntax error while parsing "
                  "object key - unexpected '}'; expected string literal");
}

TEST(ConfigErrorTest, ConfigFileNotAnObject) {
  std::string path = WriteTempFile("a.json", "[1, 2]");
  ExpectError(LoadWith({"--config", path}),
              "meshmq: config file " + path + ": expected a JSON object of flat keys, got array");
}

TEST(ConfigErrorTest, ConfigFileWrongType) {
  std::string path = WriteTempFile("t.json", R"({"workers": "4"})");
  ExpectError(LoadWith({"--config", path}),
              "meshmq: config file " + path + ": key \"workers\": expected an integer, got string");
  path = WriteTempFile("t.json", R"({"debug_fault_injection": "true"})");
  ExpectError(LoadWith({"--config", path}), "meshmq: config file " + path +
                                                ": key \"debug_fault_injection\": expected true or "
                                                "false, got string");
  path = WriteTempFile("t.json", R"({"log_level": 3})");
  ExpectError(LoadWith({"--config", path}),
              "meshmq: config file " + path + ": key \"log_level\": expected a string, got number");
  path = WriteTempFile("t.json", R"({"workers": 1.5})");
  ExpectError(LoadWith({"--config", path}),
              "meshmq: config file " + path + ": key \"workers\": expected an integer, got number");
  path = WriteTempFile("t.json", R"({"peers": [1]})");
  ExpectError(LoadWith({"--config", path}),
              "meshmq: config file " + path +
                  ": key \"peers\": expected an array of \"host:port\" "
                  "strings, got number");
}

TEST(ConfigErrorTest, ConfigFileValueOutOfRange) {
  std::string path = WriteTempFile("r.json", R"({"max_inflight": 0})");
  ExpectError(LoadWith({"--config", path}), "meshmq: config file " + path +
                                                ": key \"max_inflight\": value 0 out of range [1, "
                                                "65535]");
}

TEST(ConfigErrorTest, ConfigFileNotFound) {
  ExpectError(LoadWith({"--config", "/nonexistent/meshmq.json"}),
              "meshmq: config file /nonexistent/meshmq.json: cannot read: No such file or "
              "directory");
  ExpectError(LoadWith({}, {"MESHMQ_CONFIG=/nonexistent/env.json"}),
              "meshmq: config file /nonexistent/env.json: cannot read: No such file or directory");
}

TEST(ConfigErrorTest, DiscoveryStaticNeedsPeers) {
  ExpectError(LoadWith({"--discovery=static"}),
              "meshmq: --discovery: discovery \"static\" needs peers (--peers, MESHMQ_PEERS or "
              "\"peers\" in the config file)");
}

TEST(ConfigErrorTest, DiscoveryDnsNeedsNameAndNamesTheSource) {
  ExpectError(LoadWith({}, {"MESHMQ_DISCOVERY=dns"}),
              "meshmq: MESHMQ_DISCOVERY: discovery \"dns\" needs dns-name (--dns-name, "
              "MESHMQ_DNS_NAME or \"dns_name\" in the config file)");
}

TEST(ConfigErrorTest, RocksdbNeedsDataDir) {
  std::string path = WriteTempFile("s.json", R"({"storage": "rocksdb"})");
  ExpectError(LoadWith({"--config", path}),
              "meshmq: config file " + path +
                  ": key \"storage\": storage \"rocksdb\" needs data-dir (--data-dir, "
                  "MESHMQ_DATA_DIR or \"data_dir\" in the config file)");
}

TEST(ConfigErrorTest, SecretFileUnreadable) {
  ExpectError(LoadWith({"--cluster-secret-file=/nonexistent/secret"}),
              "meshmq: --cluster-secret-file: cannot read \"/nonexistent/secret\": No such file "
              "or directory");
}

TEST(ConfigErrorTest, SecretFileEmpty) {
  std::string path = WriteTempFile("empty-secret", " \n");
  ExpectError(LoadWith({"--cluster-secret-file", path}),
              "meshmq: --cluster-secret-file: cannot read \"" + path + "\": file is empty");
}

// --- secrets never appear in an error

TEST(SecretLeakTest, TruncatedSecretInConfigFile) {
  std::string path = WriteTempFile("leak.json", "{\"cluster_secret\": \"hunter2");
  LoadResult r = LoadWith({"--config", path});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.error.find("invalid JSON"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("hunter2"), std::string::npos) << r.error;
}

TEST(SecretLeakTest, BadLiteralAfterSecret) {
  std::string path = WriteTempFile("leak.json", "{\"cluster_secret\": hunter2}");
  LoadResult r = LoadWith({"--config", path});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.error.find("hunter2"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("unter"), std::string::npos) << r.error;
}

TEST(SecretLeakTest, SecretOfWrongTypeInFile) {
  std::string path = WriteTempFile("leak.json", R"({"cluster_secret": 12345678})");
  LoadResult r = LoadWith({"--config", path});
  EXPECT_EQ(r.error, "meshmq: config file " + path +
                         ": key \"cluster_secret\": expected a string, got number");
}

TEST(SecretLeakTest, SplitSecretValueIsNotEchoed) {
  LoadResult r = LoadWith({"--cluster-secret=", "hunter2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.error.find("hunter2"), std::string::npos) << r.error;
}

TEST(SecretLeakTest, SecretNotEchoedWhenLaterOptionFails) {
  LoadResult r = LoadWith({"--cluster-secret=hunter2", "--workers=x"});
  EXPECT_EQ(r.error, "meshmq: --workers: \"x\" is not an integer");
}

}  // namespace
}  // namespace meshmq::config
