// Bridge configuration parsing and topic mapping.
#include "bridge/bridge_config.h"

#include <gtest/gtest.h>

namespace meshmq::bridge {
namespace {

constexpr const char* kExample = R"([{
  "name": "cloud", "address": "mqtt.example.com:8883", "version": "3.1.1",
  "client_id": "edge-1", "keep_alive": 30, "username": "u", "password": "p",
  "tls": {"ca": "/etc/ca.pem"}, "queue_size": 500,
  "out": [{"filter": "sensors/#", "prefix": "site1/", "qos": 1}],
  "in":  [{"filter": "commands/site1/#", "prefix": "remote/", "qos": 2}]
}])";

TEST(ParseBridges, FullExample) {
  auto b = ParseBridges(kExample);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->size(), 1u);
  const BridgeConfig& c = b->front();
  EXPECT_EQ(c.name, "cloud");
  EXPECT_EQ(c.host, "mqtt.example.com");
  EXPECT_EQ(c.port, 8883);
  EXPECT_EQ(c.version, 4);
  EXPECT_EQ(c.client_id, "edge-1");
  EXPECT_EQ(c.keep_alive, 30);
  EXPECT_EQ(c.username, "u");
  EXPECT_EQ(c.password, "p");
  EXPECT_TRUE(c.tls);
  EXPECT_EQ(c.ca_file, "/etc/ca.pem");
  EXPECT_EQ(c.queue_size, 500u);
  ASSERT_EQ(c.out.size(), 1u);
  EXPECT_EQ(c.out[0].prefix, "site1/");
  EXPECT_EQ(c.out[0].qos, 1);
  ASSERT_EQ(c.in.size(), 1u);
  EXPECT_EQ(c.in[0].qos, 2);
}

TEST(ParseBridges, DefaultsAndEmpty) {
  auto none = ParseBridges("");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto b = ParseBridges(R"([{"name":"x","address":"h:1883","out":[{"filter":"#"}]}])");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->front().version, 5);
  EXPECT_EQ(b->front().client_id, "meshmq-bridge-x");
  EXPECT_FALSE(b->front().tls);
  EXPECT_EQ(b->front().out[0].qos, 1);
  EXPECT_EQ(b->front().out[0].prefix, "");
}

TEST(ParseBridges, ErrorsNameTheBridgeAndField) {
  auto expect_error = [](const char* json, const char* part) {
    auto b = ParseBridges(json);
    ASSERT_FALSE(b.ok()) << json;
    EXPECT_NE(std::string(b.status().message()).find(part), std::string::npos)
        << b.status().message();
  };
  expect_error(R"({"name":"x"})", "array");
  expect_error(R"([{"address":"h:1"}])", "name");
  expect_error(R"([{"name":"x","address":"h"}])", "host:port");
  expect_error(R"([{"name":"x","address":"h:0","out":[{"filter":"a"}]}])", "port");
  expect_error(R"([{"name":"x","address":"h:1","version":"4.0","out":[{"filter":"a"}]}])",
               "version");
  expect_error(R"([{"name":"x","address":"h:1"}])", "mapping");
  expect_error(R"([{"name":"x","address":"h:1","out":[{"filter":"a/#/b"}]}])", "out[0]");
  expect_error(R"([{"name":"x","address":"h:1","in":[{"filter":"a","qos":3}]}])", "qos");
  expect_error(R"([{"name":"x","address":"h:1","in":[{"filter":"a","prefix":"p/+/"}]}])",
               "wildcards");
  expect_error(R"([{"name":"x","address":"h:1","in":[{"filter":"a"}],"tls":{"cert":"c"}}])",
               "cert and key");
  expect_error(R"([{"name":"x","address":"h:1","in":[{"filter":"a"}]},
                   {"name":"x","address":"h:2","in":[{"filter":"a"}]}])", "duplicate");
  expect_error(R"([{"name":"x","address":"h:1","keep_alive":"60","in":[{"filter":"a"}]}])",
               "keep_alive");
}

TEST(MapTopic, FirstMatchingMappingPrefixesTheTopic) {
  std::vector<TopicMapping> m = {{"a/#", "x/", 2}, {"+/b", "", 0}, {"#", "all/", 1}};
  uint8_t qos = 9;
  EXPECT_EQ(MapTopic(m, "a/b", &qos), "x/a/b");
  EXPECT_EQ(qos, 2);
  EXPECT_EQ(MapTopic(m, "c/b", &qos), "c/b");
  EXPECT_EQ(qos, 0);
  EXPECT_EQ(MapTopic(m, "z", &qos), "all/z");
  EXPECT_EQ(MapTopic({{"a/+", "p/", 1}}, "a/b/c", nullptr), std::nullopt);
  EXPECT_EQ(MapTopic({{"a/#", "p/", 1}}, "a", nullptr), "p/a");  // '#' includes the parent
  EXPECT_EQ(MapTopic({{"#", "", 1}}, "$SYS/x", nullptr), std::nullopt);  // [MQTT-4.7.2-1]
}

}  // namespace
}  // namespace meshmq::bridge
