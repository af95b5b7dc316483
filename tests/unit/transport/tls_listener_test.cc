// TLS listener against real clients: mosquitto_pub/sub and openssl s_client.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>

#include "transport/listener.h"
#include "transport_test_support.h"

namespace meshmq::transport {
namespace {

using testing::BrokerWithListeners;
using testing::RunResult;
using testing::Shell;
using testing::ShellAsync;
using testing::TestPki;

class TlsListenerTest : public ::testing::Test {
 protected:
  Listener* AddTls(TlsSettings tls) {
    ListenerConfig config;
    config.kind = ListenerKind::kTls;
    config.tls = std::move(tls);
    config.handshake_timeout = std::chrono::milliseconds(500);
    return node_.Add(std::move(config));
  }
  std::string Client(const Listener& l, const std::string& tool, const std::string& ca) {
    return "timeout 20 " + tool + " -h 127.0.0.1 -p " + std::to_string(l.port()) + " --cafile " +
           pki_.Path(ca);
  }
  // A TLS listener config on 127.0.0.1:0 with the good server certificate, not yet listening.
  ListenerConfig LocalTlsConfig() const {
    ListenerConfig config;
    config.kind = ListenerKind::kTls;
    config.host = "127.0.0.1";
    config.port = 0;
    config.tls = pki_.Server();
    return config;
  }
  static void ExpectSuccess(const RunResult& r) { EXPECT_EQ(r.exit_code, 0) << r.output; }
  static void ExpectOutput(const RunResult& r, const std::string& output) {
    ExpectSuccess(r);
    EXPECT_EQ(r.output, output);
  }
  // A listener serving copies of server.pem/.key that a test may replace before a reload.
  Listener* AddTlsWithLiveFiles() {
    std::filesystem::copy_file(pki_.Path("server.pem"), live_cert());
    std::filesystem::copy_file(pki_.Path("server.key"), live_key());
    TlsSettings tls;
    tls.cert_file = live_cert();
    tls.key_file = live_key();
    return AddTls(tls);
  }
  std::string live_cert() const { return pki_.Path("live.pem"); }
  std::string live_key() const { return pki_.Path("live.key"); }
  // Publishes a retained message and reads it back with a second connection.
  RunResult PublishRetained(const Listener& l, const std::string& ca, const std::string& extra) {
    RunResult pub = Shell(Client(l, "mosquitto_pub", ca) + extra + " -t tls/r -m hello -r -q 1");
    if (pub.exit_code != 0) return pub;
    return Shell(Client(l, "mosquitto_sub", ca) + extra + " -t tls/r -C 1 -W 10");
  }

  TestPki pki_;
  BrokerWithListeners node_;
};

TEST_F(TlsListenerTest, PublishAndSubscribeWithTrustedCa) {
  Listener* l = AddTls(pki_.Server());
  ASSERT_NE(l, nullptr);
  ExpectOutput(PublishRetained(*l, "ca.pem", ""), "hello\n");
}

TEST_F(TlsListenerTest, LiveMessageReachesSubscriber) {
  Listener* l = AddTls(pki_.Server());
  ASSERT_NE(l, nullptr);
  auto sub = ShellAsync(Client(*l, "mosquitto_sub", "ca.pem") + " -t tls/live -C 1 -W 10 -q 1");
  ASSERT_TRUE(node_.WaitForSubscriptions(1));
  ExpectSuccess(Shell(Client(*l, "mosquitto_pub", "ca.pem") + " -t tls/live -m m1 -q 1"));
  ExpectOutput(sub.get(), "m1\n");
}

TEST_F(TlsListenerTest, ClientWithOtherCaRefusesServer) {
  Listener* l = AddTls(pki_.Server());
  ASSERT_NE(l, nullptr);
  RunResult r = Shell(Client(*l, "mosquitto_pub", "other-ca.pem") + " -t t -m x");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_EQ(node_.broker().Stats().connections_total, 0u);
}

TEST_F(TlsListenerTest, ExpiredServerCertificateIsRefused) {
  Listener* l = AddTls(pki_.Server("server-expired"));
  ASSERT_NE(l, nullptr);
  RunResult r = Shell(Client(*l, "mosquitto_pub", "ca.pem") + " -t t -m x");
  EXPECT_NE(r.exit_code, 0) << r.output;
  // The same CA accepts a valid certificate (the refusal is about the expiry).
  RunResult s = Shell("openssl verify -CAfile " + pki_.Path("ca.pem") + " " +
                      pki_.Path("server-expired.pem"));
  EXPECT_NE(s.output.find("expired"), std::string::npos) << s.output;
}

class TlsVerifyClientTest : public TlsListenerTest {
 protected:
  void SetUp() override {
    TlsSettings tls = pki_.Server();
    tls.ca_file = pki_.Path("ca.pem");
    tls.verify_client = true;
    listener_ = AddTls(tls);
    ASSERT_NE(listener_, nullptr);
  }
  Listener* listener_ = nullptr;
};

TEST_F(TlsVerifyClientTest, ClientCertificateFromCaIsAccepted) {
  RunResult sub =
      PublishRetained(*listener_, "ca.pem",
                      " --cert " + pki_.Path("client.pem") + " --key " + pki_.Path("client.key"));
  EXPECT_EQ(sub.exit_code, 0) << sub.output;
  EXPECT_EQ(sub.output, "hello\n");
}

TEST_F(TlsVerifyClientTest, MissingClientCertificateIsRefused) {
  RunResult r = Shell(Client(*listener_, "mosquitto_pub", "ca.pem") + " -t t -m x -q 1");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_EQ(node_.broker().Stats().connections_total, 0u);
}

TEST_F(TlsVerifyClientTest, ClientCertificateFromOtherCaIsRefused) {
  RunResult r = Shell(Client(*listener_, "mosquitto_pub", "ca.pem") + " --cert " +
                      pki_.Path("client-other.pem") + " --key " + pki_.Path("client-other.key") +
                      " -t t -m x -q 1");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_EQ(node_.broker().Stats().connections_total, 0u);
}

TEST_F(TlsVerifyClientTest, VerifyClientWithoutCaFailsToListen) {
  ListenerConfig config = LocalTlsConfig();
  config.tls.verify_client = true;
  Listener l(node_.broker(), config);
  absl::Status s = l.Listen();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("CA file"), std::string::npos) << s;
}

TEST_F(TlsListenerTest, Tls11IsRefusedAndTls12Accepted) {
  Listener* l = AddTls(pki_.Server());
  ASSERT_NE(l, nullptr);
  // SECLEVEL=0 lets the client itself offer TLS 1.1, so only the server can refuse it.
  std::string s_client =
      "echo | timeout 10 openssl s_client -connect 127.0.0.1:" + std::to_string(l->port()) +
      " -CAfile " + pki_.Path("ca.pem");
  RunResult old = Shell(s_client + " -tls1_1 -cipher DEFAULT@SECLEVEL=0");
  EXPECT_NE(old.exit_code, 0) << old.output;
  EXPECT_NE(old.output.find("alert protocol version"), std::string::npos) << old.output;
  EXPECT_NE(old.output.find("Cipher is (NONE)"), std::string::npos) << old.output;
  RunResult ok = Shell(s_client + " -tls1_2");
  ExpectSuccess(ok);
  EXPECT_NE(ok.output.find("Verify return code: 0 (ok)"), std::string::npos) << ok.output;
}

TEST_F(TlsListenerTest, BadFilesFailToListenNamingTheFile) {
  ListenerConfig config = LocalTlsConfig();
  config.tls.key_file = pki_.Path("client.key");  // does not match the certificate
  Listener mismatched(node_.broker(), config);
  absl::Status s = mismatched.Listen();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("client.key"), std::string::npos) << s;
  config.tls.key_file = pki_.Path("missing.key");
  Listener missing(node_.broker(), config);
  s = missing.Listen();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("missing.key"), std::string::npos) << s;
}

TEST_F(TlsListenerTest, SilentClientIsDroppedAfterHandshakeTimeout) {
  Listener* l = AddTls(pki_.Server());
  ASSERT_NE(l, nullptr);
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), l->port()});
  auto start = std::chrono::steady_clock::now();
  char byte;
  boost::system::error_code ec;
  boost::asio::read(socket, boost::asio::buffer(&byte, 1), ec);  // blocks until the server closes
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset) << ec;
  EXPECT_GE(waited, std::chrono::milliseconds(400));
  EXPECT_LT(waited, std::chrono::seconds(5));
}

// New handshakes use the reloaded files; a connection made before the reload keeps working.
TEST_F(TlsListenerTest, ReloadSwitchesCertificateWithoutDroppingConnections) {
  Listener* l = AddTlsWithLiveFiles();
  ASSERT_NE(l, nullptr);
  auto old_sub =
      ShellAsync(Client(*l, "mosquitto_sub", "ca.pem") + " -t tls/reload -C 1 -W 15 -q 1");
  ASSERT_TRUE(node_.WaitForSubscriptions(1));

  using std::filesystem::copy_options;
  std::filesystem::copy_file(pki_.Path("server-other.pem"), live_cert(),
                             copy_options::overwrite_existing);
  std::filesystem::copy_file(pki_.Path("server-other.key"), live_key(),
                             copy_options::overwrite_existing);
  ASSERT_TRUE(l->ReloadCertificates().ok());

  RunResult refused = Shell(Client(*l, "mosquitto_pub", "ca.pem") + " -t tls/reload -m old-ca");
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  ExpectSuccess(Shell(Client(*l, "mosquitto_pub", "other-ca.pem") + " -t tls/reload -m new -q 1"));
  ExpectOutput(old_sub.get(), "new\n");
}

TEST_F(TlsListenerTest, FailedReloadKeepsServingTheOldCertificate) {
  Listener* l = AddTlsWithLiveFiles();
  ASSERT_NE(l, nullptr);
  std::filesystem::remove(live_key());
  absl::Status s = l->ReloadCertificates();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("live.key"), std::string::npos) << s;
  ExpectOutput(PublishRetained(*l, "ca.pem", ""), "hello\n");
}

}  // namespace
}  // namespace meshmq::transport
