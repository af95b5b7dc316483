#include "config/json_error.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace meshmq::config::internal {
namespace {

std::string ParseError(const std::string& text) {
  try {
    nlohmann::json parsed = nlohmann::json::parse(text);
    ADD_FAILURE() << "parsed without error: " << parsed.dump();
    return "";
  } catch (const nlohmann::json::parse_error& e) {
    return e.what();
  }
}

TEST(SanitizeJsonErrorTest, DropsExceptionIdAndKeepsPosition) {
  EXPECT_EQ(SanitizeJsonError(ParseError("{\"a\": }")),
            "parse error at line 1, column 7: syntax error while parsing value - unexpected '}'; "
            "expected '[', '{', or a literal");
}

TEST(SanitizeJsonErrorTest, CutsQuotedTokenThatMayHoldASecret) {
  std::string raw = ParseError("{\"cluster_secret\": \"hunter2");
  ASSERT_NE(raw.find("hunter2"), std::string::npos) << "premise: nlohmann quotes the token";
  std::string clean = SanitizeJsonError(raw);
  EXPECT_EQ(clean.find("hunter2"), std::string::npos) << clean;
  EXPECT_EQ(clean,
            "parse error at line 1, column 28: syntax error while parsing value - invalid string: "
            "missing closing quote");
}

TEST(SanitizeJsonErrorTest, TokenImitatingTheExpectedSuffixIsStillCut) {
  std::string clean = SanitizeJsonError(
      "parse error at line 1, column 3: syntax error - invalid literal; last read: 'x'; expected "
      "secret'");
  EXPECT_EQ(clean, "parse error at line 1, column 3: syntax error - invalid literal");
}

TEST(SanitizeJsonErrorTest, KeepsKnownExpectedSuffix) {
  std::string clean = SanitizeJsonError(
      "parse error at line 1, column 3: syntax error - invalid literal; last read: 'tru'; expected "
      "end of input");
  EXPECT_EQ(
      clean,
      "parse error at line 1, column 3: syntax error - invalid literal; expected end of input");
}

}  // namespace
}  // namespace meshmq::config::internal
