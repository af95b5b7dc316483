// WebSocket (ws) and WebSocket-over-TLS (wss) listeners: MQTT.js through node, and a Beast
// WebSocket client that controls framing byte by byte.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "transport/listener.h"
#include "transport/ws_transport.h"
#include "transport_test_support.h"

namespace meshmq::transport {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using boost::asio::ip::tcp;
using testing::BrokerWithListeners;
using testing::RunResult;
using testing::Shell;
using testing::ShellAsync;
using testing::TestPki;

// MQTT 3.1.1 packets, byte by byte.
const std::string kConnect("\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00", 14);  // clean, id ""
const std::string kConnack("\x20\x02\x00\x00", 4);
const std::string kSubscribe(
    "\x82\x08\x00\x01\x00\x03"
    "a/b\x00",
    10);  // id 1, "a/b" QoS 0
const std::string kSuback("\x90\x03\x00\x01\x00", 5);
const std::string kPublish(
    "\x30\x07\x00\x03"
    "a/bhi",
    9);  // QoS 0 "a/b" payload "hi"

TEST(SelectSubprotocolTest, PrefersMqttThenMqttv31) {
  EXPECT_EQ(SelectSubprotocol("mqtt"), "mqtt");
  EXPECT_EQ(SelectSubprotocol("mqttv3.1, mqtt"), "mqtt");
  EXPECT_EQ(SelectSubprotocol(" mqttv3.1 "), "mqttv3.1");
  EXPECT_EQ(SelectSubprotocol("chat, superchat"), "");
  EXPECT_EQ(SelectSubprotocol(""), "");
  EXPECT_EQ(SelectSubprotocol("mqtt5"), "");
}

class WsListenerTest : public ::testing::Test {
 protected:
  // Per test, not in SetUpTestSuite: a failure there would turn every test into "Skipped",
  // which CTest reports as a skip rather than a failure.
  void SetUp() override {
    // CI starts from a clean clone: install MQTT.js from the committed lock file once.
    std::string js = testing::SourceDir() + "/tests/integration/js";
    RunResult r =
        Shell("cd " + js + " && (test -d node_modules/mqtt || npm ci --no-audit --no-fund)");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  Listener* Add(ListenerKind kind) {
    ListenerConfig config;
    config.kind = kind;
    config.tls = pki_.Server();
    config.handshake_timeout = std::chrono::milliseconds(2000);
    return node_.Add(std::move(config));
  }
  RunResult NodeClient(const std::string& url, const std::string& args) {
    return Shell("timeout 30 node " + testing::SourceDir() + "/tests/integration/ws_client.js " +
                 url + " " + args);
  }

  TestPki pki_;
  BrokerWithListeners node_;
};

TEST_F(WsListenerTest, MqttJsRoundTripOverWs) {
  Listener* l = Add(ListenerKind::kWs);
  ASSERT_NE(l, nullptr);
  std::string url = "ws://127.0.0.1:" + std::to_string(l->port()) + "/mqtt";
  RunResult r = NodeClient(url, "ws/t --publish one --publish two --qos 1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output,
            "{\"topic\":\"ws/t\",\"payload\":\"one\",\"qos\":1}\n"
            "{\"topic\":\"ws/t\",\"payload\":\"two\",\"qos\":1}\n");
}

TEST_F(WsListenerTest, MqttJsV5RoundTripOverWssWithCa) {
  Listener* l = Add(ListenerKind::kWss);
  ASSERT_NE(l, nullptr);
  std::string url = "wss://127.0.0.1:" + std::to_string(l->port()) + "/mqtt";
  RunResult r = NodeClient(
      url, "wss/t --publish secret --qos 2 --protocol-version 5 --ca " + pki_.Path("ca.pem"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "{\"topic\":\"wss/t\",\"payload\":\"secret\",\"qos\":2}\n");
  RunResult untrusted = NodeClient(url, "wss/t --publish x --ca " + pki_.Path("other-ca.pem"));
  EXPECT_NE(untrusted.exit_code, 0) << untrusted.output;
}

// A WebSocket published message reaches a plain TCP subscriber (mosquitto_sub).
TEST_F(WsListenerTest, WsPublisherReachesTcpSubscriber) {
  Listener* ws = Add(ListenerKind::kWs);
  Listener* tcp = Add(ListenerKind::kTcp);
  ASSERT_NE(ws, nullptr);
  ASSERT_NE(tcp, nullptr);
  auto sub = ShellAsync("timeout 20 mosquitto_sub -h 127.0.0.1 -p " + std::to_string(tcp->port()) +
                        " -t x/y -C 1 -W 15");
  ASSERT_TRUE(node_.WaitForSubscriptions(1));
  std::string url = "ws://127.0.0.1:" + std::to_string(ws->port()) + "/mqtt";
  RunResult pub = NodeClient(url, "x/y --publish cross --qos 0");
  EXPECT_EQ(pub.exit_code, 0) << pub.output;
  RunResult got = sub.get();
  EXPECT_EQ(got.exit_code, 0) << got.output;
  EXPECT_EQ(got.output, "cross\n");
}

// A Beast WebSocket client; reads are bounded in time so a broken server fails the test instead
// of hanging it.
class RawWsClient {
 public:
  explicit RawWsClient(uint16_t port) : ws_(io_) {
    beast::get_lowest_layer(ws_).connect({boost::asio::ip::make_address("127.0.0.1"), port});
  }
  websocket::response_type Handshake(const std::string& protocols, const std::string& path) {
    ws_.set_option(websocket::stream_base::decorator([protocols](websocket::request_type& req) {
      if (!protocols.empty()) req.set(http::field::sec_websocket_protocol, protocols);
    }));
    websocket::response_type res;
    ws_.handshake(res, "127.0.0.1", path);
    ws_.binary(true);
    return res;
  }
  websocket::stream<tcp::socket>& ws() { return ws_; }

  // Reads messages until `n` bytes arrived (or an error / 5 s).
  std::string ReadBytes(std::size_t n, boost::system::error_code* error = nullptr) {
    std::string out;
    boost::system::error_code ec;
    while (out.size() < n && !ec) {
      beast::flat_buffer buf;
      bool done = false;
      ws_.async_read(buf, [&](boost::system::error_code e, std::size_t) {
        ec = e;
        done = true;
      });
      io_.restart();
      io_.run_for(std::chrono::seconds(5));
      if (!done) {
        ec = boost::asio::error::timed_out;
        break;
      }
      out += beast::buffers_to_string(buf.data());
    }
    if (error) *error = ec;
    return out;
  }

 private:
  boost::asio::io_context io_;
  websocket::stream<tcp::socket> ws_;
};

TEST_F(WsListenerTest, AnswersWithMqttSubprotocol) {
  Listener* l = Add(ListenerKind::kWs);
  ASSERT_NE(l, nullptr);
  RawWsClient a(l->port());
  EXPECT_EQ(a.Handshake("mqtt", "/mqtt")[http::field::sec_websocket_protocol], "mqtt");
  RawWsClient b(l->port());
  EXPECT_EQ(b.Handshake("mqttv3.1", "/mqtt?x=1")[http::field::sec_websocket_protocol], "mqttv3.1");
}

// [MQTT-6.0.0-2]: packets need not line up with frames.
TEST_F(WsListenerTest, ConnectSplitAcrossFramesAndPacketsPackedInOneFrame) {
  Listener* l = Add(ListenerKind::kWs);
  ASSERT_NE(l, nullptr);
  RawWsClient c(l->port());
  c.Handshake("mqtt", "/mqtt");
  // CONNECT in two messages, the second fragmented into two frames.
  c.ws().write(boost::asio::buffer(kConnect.data(), 5));
  c.ws().write_some(false, boost::asio::buffer(kConnect.data() + 5, 4));
  c.ws().write_some(true, boost::asio::buffer(kConnect.data() + 9, kConnect.size() - 9));
  EXPECT_EQ(c.ReadBytes(kConnack.size()), kConnack);
  // SUBSCRIBE and a PUBLISH to the same topic in one frame.
  std::string both = kSubscribe + kPublish;
  c.ws().write(boost::asio::buffer(both));
  EXPECT_EQ(c.ReadBytes(kSuback.size() + kPublish.size()), kSuback + kPublish);
}

TEST_F(WsListenerTest, TextFrameClosesTheConnection) {
  Listener* l = Add(ListenerKind::kWs);
  ASSERT_NE(l, nullptr);
  RawWsClient c(l->port());
  c.Handshake("mqtt", "/mqtt");
  c.ws().write(boost::asio::buffer(kConnect));
  EXPECT_EQ(c.ReadBytes(kConnack.size()), kConnack);
  c.ws().text(true);
  c.ws().write(boost::asio::buffer(kPublish));  // [MQTT-6.0.0-1]: only binary frames
  boost::system::error_code ec;
  EXPECT_EQ(c.ReadBytes(1, &ec), "");
  EXPECT_TRUE(ec) << "connection still open";
  EXPECT_NE(ec, boost::asio::error::timed_out);
}

// Sends one raw HTTP request and returns the response status.
unsigned HttpStatus(uint16_t port, const std::string& request) {
  boost::asio::io_context io;
  tcp::socket s(io);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  boost::asio::write(s, boost::asio::buffer(request));
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  boost::system::error_code ec;
  http::read(s, buf, res, ec);
  return ec ? 0 : res.result_int();
}

TEST_F(WsListenerTest, WrongPathIs404AndPlainRequestIs426) {
  Listener* l = Add(ListenerKind::kWs);
  ASSERT_NE(l, nullptr);
  const std::string upgrade =
      " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Protocol: mqtt\r\n\r\n";
  EXPECT_EQ(HttpStatus(l->port(), "GET /other" + upgrade), 404u);
  EXPECT_EQ(HttpStatus(l->port(), "GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 426u);
  EXPECT_EQ(HttpStatus(l->port(), "GET /mqtt" + upgrade), 101u);
  // Only the accepted upgrade became an MQTT connection (counted once its handshake completed).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (node_.broker().Stats().connections_total == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(node_.broker().Stats().connections_total, 1u);
}

}  // namespace
}  // namespace meshmq::transport
