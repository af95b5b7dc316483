#include "config/config.h"
#include "gtest/gtest.h"

namespace meshmq::config {
namespace {

TEST(ParseHostPortTest, Ipv4) {
  absl::StatusOr<HostPort> hp = ParseHostPort("127.0.0.1:1883");
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(*hp, (HostPort{"127.0.0.1", 1883}));
  EXPECT_EQ(hp->ToString(), "127.0.0.1:1883");
}

TEST(ParseHostPortTest, HostName) {
  absl::StatusOr<HostPort> hp = ParseHostPort("meshmq-0.meshmq.default.svc:8081");
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(*hp, (HostPort{"meshmq-0.meshmq.default.svc", 8081}));
}

TEST(ParseHostPortTest, BracketedIpv6) {
  absl::StatusOr<HostPort> hp = ParseHostPort("[::1]:80");
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(*hp, (HostPort{"::1", 80}));
  EXPECT_EQ(hp->ToString(), "[::1]:80");  // brackets come back so the text re-parses
}

TEST(ParseHostPortTest, EmptyHostMeansAllInterfaces) {
  absl::StatusOr<HostPort> hp = ParseHostPort(":1883");
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(*hp, (HostPort{"0.0.0.0", 1883}));
}

TEST(ParseHostPortTest, PortZeroAndMaxAllowed) {
  EXPECT_EQ(*ParseHostPort("localhost:0"), (HostPort{"localhost", 0}));
  EXPECT_EQ(*ParseHostPort("localhost:65535"), (HostPort{"localhost", 65535}));
}

TEST(ParseHostPortTest, PortOutOfRange) {
  absl::StatusOr<HostPort> hp = ParseHostPort("localhost:70000");
  ASSERT_FALSE(hp.ok());
  EXPECT_EQ(hp.status().message(), "\"localhost:70000\": port 70000 out of range [0, 65535]");
  EXPECT_FALSE(ParseHostPort("h:99999999999999999999999").ok());
}

TEST(ParseHostPortTest, MissingPort) {
  EXPECT_EQ(ParseHostPort("localhost").status().message(),
            "\"localhost\" is not host:port (missing port)");
  EXPECT_EQ(ParseHostPort("localhost:").status().message(),
            "\"localhost:\" is not host:port (missing port)");
  EXPECT_EQ(ParseHostPort("[::1]").status().message(), "\"[::1]\" is not host:port (missing port)");
  EXPECT_FALSE(ParseHostPort("").ok());
}

TEST(ParseHostPortTest, BadPortText) {
  EXPECT_EQ(ParseHostPort("h:80x").status().message(),
            "\"h:80x\" is not host:port (port is not a number)");
  EXPECT_FALSE(ParseHostPort("h:-1").ok());
  EXPECT_FALSE(ParseHostPort("h:+1").ok());
}

TEST(ParseHostPortTest, UnbracketedIpv6Rejected) {
  EXPECT_EQ(ParseHostPort("::1:80").status().message(),
            "\"::1:80\" is not host:port (IPv6 hosts need brackets, e.g. [::1]:1883)");
}

TEST(ParseHostPortTest, BadHostRejected) {
  EXPECT_FALSE(ParseHostPort("[::1:80").ok());
  EXPECT_FALSE(ParseHostPort("[]:80").ok());
  EXPECT_FALSE(ParseHostPort("a b:80").ok());
  EXPECT_FALSE(ParseHostPort("[::1]x:80").ok());
}

}  // namespace
}  // namespace meshmq::config
