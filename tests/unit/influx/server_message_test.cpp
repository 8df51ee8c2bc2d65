// server_message / one_line: what a server said, as one log-safe line. InfluxDB's {"error":"..."}
// member or the raw body, control characters flattened, the password redacted wherever it is, and
// a bounded length cut on a character boundary.

#include "server_message.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "kelvin/core/utf8.hpp"

namespace kelvin::influx::detail {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(ServerMessage, TakesTheErrorMemberOfInfluxDbsJsonAnswer) {
  EXPECT_EQ(server_message(R"({"error":"unable to parse 'm f=': missing field value"})", ""),
            "unable to parse 'm f=': missing field value");
  EXPECT_EQ(server_message("{\"error\":\"database not found: \\\"kelvin\\\"\"}\n", ""),
            "database not found: \"kelvin\"");
  EXPECT_EQ(server_message(" {\n  \"error\" : \"authorization failed\"\n}\r\n", ""), "authorization failed");
}

TEST(ServerMessage, FindsTheErrorMemberAmongOtherStringMembers) {
  EXPECT_EQ(server_message(R"({"code":"invalid","message":"ignored","error":"the real reason"})", ""),
            "the real reason");
}

TEST(ServerMessage, DecodesJsonEscapesInTheErrorMember) {
  EXPECT_EQ(server_message(R"({"error":"a\\b \/ \"q\" caf\u00e9 \u20ac \ud83d\ude00"})", ""),
            "a\\b / \"q\" café € \xf0\x9f\x98\x80");
  // Escaped line breaks and tabs are flattened like raw ones.
  EXPECT_EQ(server_message(R"({"error":"first\nsecond\r\n\tthird"})", ""), "first second third");
  // A lone surrogate is no character: it becomes U+FFFD, keeping the message valid UTF-8.
  const std::string lone = server_message(R"({"error":"x\ud800y"})", "");
  EXPECT_EQ(lone, "x\xef\xbf\xbdy");
}

TEST(ServerMessage, UsesTheRawBodyWhenItIsNotASimpleJsonObjectWithAnError) {
  EXPECT_EQ(server_message("404 page not found\n", ""), "404 page not found");
  EXPECT_EQ(server_message("<html><body><h1>502 Bad Gateway</h1></body></html>", ""),
            "<html><body><h1>502 Bad Gateway</h1></body></html>");
  EXPECT_EQ(server_message(R"({"message":"no error member"})", ""), R"({"message":"no error member"})");
  EXPECT_EQ(server_message(R"({"code":5,"error":"x"})", ""), R"({"code":5,"error":"x"})");
  EXPECT_EQ(server_message(R"({"error":"unterminated)", ""), R"({"error":"unterminated)");
  EXPECT_EQ(server_message(R"(["error","x"])", ""), R"(["error","x"])");
  EXPECT_EQ(server_message("", ""), "");
}

TEST(ServerMessage, RedactsTheSecretInTheErrorMemberAndInRawBodies) {
  const std::string secret = "pw-hunter2";
  EXPECT_EQ(server_message(R"({"error":"authorization failed for writer:pw-hunter2"})", secret),
            "authorization failed for writer:***");
  EXPECT_EQ(server_message("bad credentials pw-hunter2 (pw-hunter2)", secret), "bad credentials *** (***)");
  // Found after JSON decoding too: a password with a quote, escaped by the server.
  EXPECT_EQ(server_message(R"({"error":"password \"p\"w\" refused"})", "\"p\"w\""), "password *** refused");
}

TEST(OneLine, FlattensControlCharactersCollapsesBlanksAndTrims) {
  EXPECT_EQ(one_line("a\tb\r\nc\x01"
                     "d\x7f"
                     "e",
                     ""),
            "a b c d e");
  EXPECT_EQ(one_line("  several   \n\n  blanks \t here  ", ""), "several blanks here");
  EXPECT_EQ(one_line(std::string("nul\0inside", 10), ""), "nul inside");
  EXPECT_EQ(one_line("\n\r\t ", ""), "");
  EXPECT_EQ(one_line("UTF-8 stays: é € 😀", ""), "UTF-8 stays: é € 😀");
}

TEST(OneLine, ReplacesEveryOccurrenceOfTheSecret) {
  EXPECT_EQ(one_line("s3cr3ts3cr3t and s3cr3t", "s3cr3t"), "****** and ***");
  // Redacted before flattening: a secret containing a blank is still found whole.
  EXPECT_EQ(one_line("user pa ss\nend", "pa ss"), "user *** end");
  EXPECT_EQ(one_line("line\nbreak", "line\nbreak"), "***");
  // A secret made of asterisks cannot make the replacement loop forever.
  EXPECT_EQ(one_line("a * b", "*"), "a *** b");
}

TEST(OneLine, AnEmptySecretRedactsNothing) {
  EXPECT_EQ(one_line("nothing to hide", ""), "nothing to hide");
}

TEST(OneLine, KeepsMessagesUpToTheLimitWhole) {
  const std::string exact(kMaxMessageBytes, 'x');
  EXPECT_EQ(one_line(exact, ""), exact);
}

TEST(OneLine, CutsLongerMessagesAtTheLimitMarkingTheCut) {
  std::string long_text;
  for (int i = 0; long_text.size() < 2 * kMaxMessageBytes; ++i) long_text += std::to_string(i % 10);
  const std::string cut = one_line(long_text, "");
  EXPECT_EQ(cut, long_text.substr(0, kMaxMessageBytes) + "...");
}

TEST(OneLine, CutsOnAUtf8CharacterBoundary) {
  // Two-byte characters after one ASCII byte: byte kMaxMessageBytes falls inside a character.
  std::string two_byte = "a";
  while (two_byte.size() < 2 * kMaxMessageBytes) two_byte += "é";
  // Four-byte characters after two ASCII bytes: again a cut inside a character.
  std::string four_byte = "ab";
  while (four_byte.size() < 2 * kMaxMessageBytes) four_byte += "😀";
  for (const std::string& text : {two_byte, four_byte}) {
    const std::string cut = one_line(text, "");
    EXPECT_THAT(cut, EndsWith("..."));
    const std::string kept = cut.substr(0, cut.size() - 3);
    EXPECT_LE(kept.size(), kMaxMessageBytes);
    EXPECT_GT(kept.size(), kMaxMessageBytes - 4);  // at most one character given up
    EXPECT_TRUE(is_valid_utf8(kept)) << kept;
    EXPECT_THAT(text, StartsWith(kept));
  }
}

TEST(OneLine, RedactsBeforeCuttingSoNoPartOfTheSecretSurvives) {
  const std::string secret = "hunter2-secret";
  // The secret straddles the limit: cutting first would leave its first bytes in the message.
  const std::string text = std::string(kMaxMessageBytes - 4, 'x') + secret + " trailing text";
  const std::string message = one_line(text, secret);
  EXPECT_THAT(message, Not(HasSubstr("hunt")));
  EXPECT_THAT(message, EndsWith("..."));
}

TEST(ServerMessage, CutsALongErrorMember) {
  const std::string reason(3 * kMaxMessageBytes, 'r');
  const std::string message = server_message(R"({"error":")" + reason + R"("})", "");
  EXPECT_EQ(message, reason.substr(0, kMaxMessageBytes) + "...");
}

}  // namespace
}  // namespace kelvin::influx::detail
