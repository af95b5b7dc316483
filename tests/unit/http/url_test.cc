#include "http/url.h"

#include <gtest/gtest.h>

namespace meshmq::http {
namespace {

TEST(UrlDecode, DecodesEscapes) {
  EXPECT_EQ(UrlDecode("a%2Fb%20c", false), "a/b c");
  EXPECT_EQ(UrlDecode("%e2%82%ac", false), "\xe2\x82\xac");
  EXPECT_EQ(UrlDecode("a+b", false), "a+b");
  EXPECT_EQ(UrlDecode("a+b", true), "a b");
  EXPECT_EQ(UrlDecode("", false), "");
}

TEST(UrlDecode, RejectsMalformedEscapes) {
  for (const char* bad : {"%", "%2", "a%g0", "%%", "abc%1"}) {
    EXPECT_FALSE(UrlDecode(bad, false).has_value()) << bad;
  }
}

TEST(ParseTarget, SplitsPathAndQuery) {
  auto t = ParseTarget("/api/v1/clients?prefix=dev%2D&offset=2&limit=&flag&prefix=x+y");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->path, "/api/v1/clients");
  EXPECT_EQ(t->query["prefix"], "x y");  // last wins
  EXPECT_EQ(t->query["offset"], "2");
  EXPECT_EQ(t->query["limit"], "");
  EXPECT_TRUE(t->query.contains("flag"));
  auto no_query = ParseTarget("/a%2Fb");
  ASSERT_TRUE(no_query.has_value());
  EXPECT_EQ(no_query->path, "/a%2Fb");  // the path stays encoded
  EXPECT_FALSE(ParseTarget("/x?a=%zz").has_value());
}

TEST(Base64, RoundTripsEveryLength) {
  std::string data;
  for (int i = 0; i < 40; ++i) {
    std::string enc = Base64Encode(data);
    EXPECT_EQ(enc.size() % 4, 0u);
    EXPECT_EQ(Base64Decode(enc), data) << enc;
    data += static_cast<char>(i * 37);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
}

TEST(Base64, RejectsMalformedInput) {
  for (const char* bad : {"Zg=", "Z===", "Zg==Zg==", "Zm9v YmFy", "Zm=v", "Zg=a", "****"}) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace meshmq::http
