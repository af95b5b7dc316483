// Load(): every option type through every source, precedence, and the exit-now outputs.
#include "config/config.h"

#include <functional>

#include "config/option_table.h"
#include "gtest/gtest.h"
#include "load_helper.h"
#include "nlohmann/json.hpp"

namespace meshmq::config {
namespace {

using testing_util::LoadWith;
using testing_util::WriteTempFile;

// One option type: how to spell a value as flag/env text and as JSON, and what it must become.
struct TypeCase {
  std::string name;  // test label
  std::string flag;  // "workers"
  std::string env;   // "MESHMQ_WORKERS"
  std::string text;  // value for --flag and the environment
  std::string json;  // the same value as a JSON literal in the config file
  std::function<void(const Config&)> check;
};

std::vector<TypeCase> TypeCases() {
  return {
      {"String", "node-id", "MESHMQ_NODE_ID", "node-7", "\"node-7\"",
       [](const Config& c) { EXPECT_EQ(c.node_id, "node-7"); }},
      {"Int", "workers", "MESHMQ_WORKERS", "12", "12",
       [](const Config& c) { EXPECT_EQ(c.workers, 12); }},
      {"Uint16", "max-inflight", "MESHMQ_MAX_INFLIGHT", "65535", "65535",
       [](const Config& c) { EXPECT_EQ(c.max_inflight, 65535); }},
      {"Uint32", "max-session-expiry", "MESHMQ_MAX_SESSION_EXPIRY", "0", "0",
       [](const Config& c) { EXPECT_EQ(c.max_session_expiry, 0u); }},
      {"Enum", "log-level", "MESHMQ_LOG_LEVEL", "debug", "\"debug\"",
       [](const Config& c) { EXPECT_EQ(c.log_level, "debug"); }},
      {"Bool", "debug-fault-injection", "MESHMQ_DEBUG_FAULT_INJECTION", "true", "true",
       [](const Config& c) { EXPECT_TRUE(c.debug_fault_injection); }},
      {"HostPort", "mqtt-listen", "MESHMQ_MQTT_LISTEN", "127.0.0.1:0", "\"127.0.0.1:0\"",
       [](const Config& c) {
         EXPECT_EQ(c.mqtt_listen, (HostPort{"127.0.0.1", 0}));
       }},
      {"HostPortOff", "http-listen", "MESHMQ_HTTP_LISTEN", "off", "\"off\"",
       [](const Config& c) {
         EXPECT_EQ(c.http_listen, (HostPort{"off", 0}));
       }},
      {"HostPortText", "cluster-advertise", "MESHMQ_CLUSTER_ADVERTISE", "[::1]:9000",
       "\"[::1]:9000\"", [](const Config& c) { EXPECT_EQ(c.cluster_advertise, "[::1]:9000"); }},
      {"HostPortList", "peers", "MESHMQ_PEERS", "a:1,[::1]:2", "[\"a:1\", \"[::1]:2\"]",
       [](const Config& c) {
         EXPECT_EQ(c.peers, (std::vector<HostPort>{{"a", 1}, {"::1", 2}}));
       }},
  };
}

class OptionTypeTest : public ::testing::TestWithParam<TypeCase> {};

void ExpectRuns(const LoadResult& r) {
  EXPECT_FALSE(r.exit_now) << r.error;
  EXPECT_EQ(r.error, "");
}

TEST_P(OptionTypeTest, FlagWithEquals) {
  LoadResult r = LoadWith({"--" + GetParam().flag + "=" + GetParam().text});
  ExpectRuns(r);
  GetParam().check(r.config);
}

TEST_P(OptionTypeTest, FlagWithSeparateValue) {
  if (GetParam().flag == "debug-fault-injection") {
    LoadResult r = LoadWith({"--debug-fault-injection"});  // bool flags take no separate value
    ExpectRuns(r);
    GetParam().check(r.config);
    return;
  }
  LoadResult r = LoadWith({"--" + GetParam().flag, GetParam().text});
  ExpectRuns(r);
  GetParam().check(r.config);
}

TEST_P(OptionTypeTest, Environment) {
  LoadResult r = LoadWith({}, {GetParam().env + "=" + GetParam().text});
  ExpectRuns(r);
  GetParam().check(r.config);
}

TEST_P(OptionTypeTest, ConfigFile) {
  std::string key = GetParam().flag;
  std::replace(key.begin(), key.end(), '-', '_');
  std::string path = WriteTempFile("type.json", "{\"" + key + "\": " + GetParam().json + "}");
  LoadResult r = LoadWith({"--config", path});
  ExpectRuns(r);
  GetParam().check(r.config);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, OptionTypeTest, ::testing::ValuesIn(TypeCases()),
                         [](const auto& info) { return info.param.name; });

TEST(LoadTest, DefaultsWithNoSources) {
  LoadResult r = LoadWith({}, {"HOSTNAME=pod-3"});
  ExpectRuns(r);
  EXPECT_EQ(r.config.node_id, "pod-3");
  EXPECT_EQ(r.config.mqtt_listen, (HostPort{"0.0.0.0", 1883}));
  EXPECT_EQ(r.config.max_inflight, 32);
  EXPECT_EQ(r.config.discovery, "none");
}

TEST(LoadTest, NodeIdFallsBackToGethostname) {
  LoadResult r = LoadWith({});
  ExpectRuns(r);
  EXPECT_FALSE(r.config.node_id.empty());
}

TEST(LoadTest, ExplicitNodeIdBeatsHostname) {
  LoadResult r = LoadWith({"--node-id=n1"}, {"HOSTNAME=pod-3"});
  EXPECT_EQ(r.config.node_id, "n1");
}

TEST(LoadTest, BoolFlagAcceptsExplicitFalse) {
  LoadResult r = LoadWith({"--debug-fault-injection", "--debug-fault-injection=false"});
  ExpectRuns(r);
  EXPECT_FALSE(r.config.debug_fault_injection);
}

TEST(LoadTest, LaterFlagWins) {
  EXPECT_EQ(LoadWith({"--workers=1", "--workers", "2"}).config.workers, 2);
}

TEST(LoadTest, UnknownMeshmqEnvironmentVariablesAreIgnored) {
  LoadResult r = LoadWith({}, {"MESHMQ_BIN=/usr/bin/meshmq", "MESHMQ_SOURCE_DIR=/src"});
  ExpectRuns(r);
}

TEST(LoadTest, EnvironmentNameMustMatchExactly) {
  // MESHMQ_WORKERS_X is not MESHMQ_WORKERS.
  EXPECT_EQ(LoadWith({}, {"MESHMQ_WORKERS_X=9"}).config.workers, 0);
}

TEST(LoadTest, PeersSkipEmptyItemsAndSpaces) {
  LoadResult r = LoadWith({"--peers", " a:1 , b:2,"});
  ExpectRuns(r);
  EXPECT_EQ(r.config.peers, (std::vector<HostPort>{{"a", 1}, {"b", 2}}));
}

TEST(LoadTest, PeersInFileMayBeACommaSeparatedString) {
  std::string path = WriteTempFile("peers.json", R"({"peers": "a:1,b:2"})");
  EXPECT_EQ(LoadWith({"--config", path}).config.peers, (std::vector<HostPort>{{"a", 1}, {"b", 2}}));
}

TEST(LoadTest, RangeBoundsAreInclusive) {
  ExpectRuns(LoadWith({"--workers=1024", "--max-packet-size=16", "--max-topic-alias=0"}));
  ExpectRuns(LoadWith({"--max-packet-size=268435455", "--max-inflight=1"}));
}

TEST(LoadTest, CrossFieldRequirementsMet) {
  ExpectRuns(LoadWith({"--discovery=static", "--peers=a:1"}));
  ExpectRuns(LoadWith({"--discovery=dns", "--dns-name=meshmq.svc"}));
  ExpectRuns(LoadWith({"--discovery=dns-srv", "--dns-name=_cluster._tcp.meshmq.svc"}));
  ExpectRuns(LoadWith({"--storage=rocksdb", "--data-dir=/var/lib/meshmq"}));
  ExpectRuns(LoadWith({"--cluster-tls-cert=c.pem", "--cluster-tls-key=k.pem",
                       "--cluster-tls-ca=ca.pem"}));
}

TEST(LoadTest, DnsSrvNeedsDnsName) {
  LoadResult r = LoadWith({"--discovery=dns-srv"});
  EXPECT_TRUE(r.exit_now);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.error.find("dns-name"), std::string::npos) << r.error;
}

TEST(LoadTest, PartialClusterTlsIsAnError) {
  // Half a TLS configuration must not start a node that talks plaintext to its peers.
  LoadResult r = LoadWith({"--cluster-tls-cert=c.pem", "--cluster-tls-ca=ca.pem"});
  EXPECT_TRUE(r.exit_now);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.error.find("cluster-tls-key"), std::string::npos) << r.error;
}

TEST(LoadTest, SecretFileIsReadTrimmedAndOverridesSecret) {
  std::string path = WriteTempFile("secret", "  s3cret\n");
  LoadResult r = LoadWith({"--cluster-secret=other", "--cluster-secret-file", path});
  ExpectRuns(r);
  EXPECT_EQ(r.config.cluster_secret, "s3cret");
}

// --- precedence: defaults < file < environment < command line

TEST(PrecedenceTest, FileBeatsDefault) {
  std::string path = WriteTempFile("p.json", R"({"workers": 1})");
  EXPECT_EQ(LoadWith({"--config", path}).config.workers, 1);
}

TEST(PrecedenceTest, EnvironmentBeatsFile) {
  std::string path = WriteTempFile("p.json", R"({"workers": 1, "log_level": "warn"})");
  LoadResult r = LoadWith({"--config", path}, {"MESHMQ_WORKERS=2"});
  EXPECT_EQ(r.config.workers, 2);
  EXPECT_EQ(r.config.log_level, "warn");  // untouched keys keep the file's value
}

TEST(PrecedenceTest, FlagBeatsEnvironmentAndFile) {
  std::string path = WriteTempFile("p.json", R"({"workers": 1})");
  EXPECT_EQ(LoadWith({"--workers=3", "--config", path}, {"MESHMQ_WORKERS=2"}).config.workers, 3);
}

TEST(PrecedenceTest, ConfigFileFromEnvironment) {
  std::string path = WriteTempFile("p.json", R"({"cluster_name": "from-file"})");
  EXPECT_EQ(LoadWith({}, {"MESHMQ_CONFIG=" + path}).config.cluster_name, "from-file");
}

TEST(PrecedenceTest, ConfigFlagBeatsConfigEnvironment) {
  std::string env_file = WriteTempFile("e.json", R"({"cluster_name": "env-file"})");
  std::string flag_file = WriteTempFile("f.json", R"({"cluster_name": "flag-file"})");
  LoadResult r = LoadWith({"--config=" + flag_file}, {"MESHMQ_CONFIG=" + env_file});
  EXPECT_EQ(r.config.cluster_name, "flag-file");
}

// --- --help, --version, --print-config

TEST(OutputTest, HelpListsEveryFlagDefaultEnvAndKey) {
  LoadResult r = LoadWith({"--help"});
  EXPECT_TRUE(r.exit_now);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.error, "");
  for (const internal::Option& option : internal::Options()) {
    std::string flag = "--" + std::string(option.flag);
    EXPECT_NE(r.output.find("  " + flag), std::string::npos) << flag;
    EXPECT_NE(r.output.find("env: " + internal::EnvName(option)), std::string::npos) << flag;
    EXPECT_NE(r.output.find("\"" + internal::JsonKey(option) + "\""), std::string::npos) << flag;
  }
  for (const char* general : {"--help", "--version", "--print-config", "--config FILE"}) {
    EXPECT_NE(r.output.find(general), std::string::npos) << general;
  }
  EXPECT_NE(r.output.find("default: 0.0.0.0:1883  env: MESHMQ_MQTT_LISTEN"), std::string::npos);
  EXPECT_NE(r.output.find("--max-inflight INT 1..65535"), std::string::npos);
  EXPECT_NE(r.output.find("environment variables < command-line flags"), std::string::npos);
}

TEST(OutputTest, HelpTableCoversEveryConfigMember) {
  // A Config member without a row would be missing from every source; count JSON members.
  EXPECT_EQ(internal::Options().size(), nlohmann::json::parse(ToJson(Config{})).size());
  // No two rows may write the same member (a copy-paste slip would hide a field).
  for (size_t i = 0; i < internal::Options().size(); ++i) {
    for (size_t j = i + 1; j < internal::Options().size(); ++j) {
      EXPECT_NE(internal::Options()[i].field, internal::Options()[j].field)
          << internal::Options()[i].flag << " and " << internal::Options()[j].flag;
    }
  }
}

TEST(OutputTest, ShortHelp) {
  LoadResult r = LoadWith({"-h"});
  EXPECT_TRUE(r.exit_now);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("Usage: meshmq"), std::string::npos);
}

TEST(OutputTest, HelpDoesNotReadConfigFile) {
  LoadResult r = LoadWith({"--config=/nonexistent.json", "--help"});
  EXPECT_EQ(r.exit_code, 0);
}

TEST(OutputTest, Version) {
  LoadResult r = LoadWith({"--version"});
  EXPECT_TRUE(r.exit_now);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "meshmq " MESHMQ_VERSION "\n");
}

TEST(OutputTest, PrintConfigShowsEffectiveValuesAndHidesSecret) {
  LoadResult r =
      LoadWith({"--print-config", "--cluster-secret=hunter2", "--workers=5"}, {"HOSTNAME=pod-3"});
  EXPECT_TRUE(r.exit_now);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output.find("hunter2"), std::string::npos);
  nlohmann::json printed = nlohmann::json::parse(r.output);
  EXPECT_EQ(printed["cluster_secret"], "***");
  EXPECT_EQ(printed["workers"], 5);
  EXPECT_EQ(printed["node_id"], "pod-3");
  EXPECT_EQ(printed["mqtt_listen"], "0.0.0.0:1883");
  EXPECT_EQ(printed["peers"], nlohmann::json::array());
}

TEST(OutputTest, PrintConfigHidesSecretFromFile) {
  std::string path = WriteTempFile("secret", "from-file-secret\n");
  LoadResult r = LoadWith({"--print-config", "--cluster-secret-file=" + path});
  EXPECT_EQ(r.output.find("from-file-secret"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(r.output)["cluster_secret"], "***");
}

TEST(OutputTest, UnsetSecretPrintsEmpty) {
  EXPECT_EQ(nlohmann::json::parse(ToJson(Config{}))["cluster_secret"], "");
}

TEST(OutputTest, PrintedConfigLoadsBackToTheSameConfig) {
  LoadResult first = LoadWith({"--discovery=static", "--peers=a:1,[::1]:2", "--http-listen=off",
                               "--debug-fault-injection", "--node-id=n1", "--sys-interval=0"});
  ExpectRuns(first);
  std::string json = ToJson(first.config);
  LoadResult second = LoadWith({"--config", WriteTempFile("round.json", json)});
  ExpectRuns(second);
  EXPECT_EQ(ToJson(second.config), json);
}

TEST(OutputTest, ToJsonSurvivesInvalidUtf8) {
  Config c;
  c.node_id = "bad\xff";
  EXPECT_NO_THROW(nlohmann::json::parse(ToJson(c)));
}

}  // namespace
}  // namespace meshmq::config
