#include "kelvin/proto/ack.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <string>

namespace kelvin::proto {
namespace {

// The seq decode_ack reads from `payload`, or nullopt when it refuses it.
std::optional<std::uint64_t> ack_seq(std::string_view payload) {
  auto seq = decode_ack(payload);
  if (!seq) {
    EXPECT_EQ(seq.error().code, Errc::invalid_argument);
    return std::nullopt;
  }
  return *seq;
}

TEST(Ack, ParsesTheProtocolForm) {
  EXPECT_EQ(ack_seq(R"({"seq":42})"), 42U);
  EXPECT_EQ(ack_seq(R"({"seq":0})"), 0U);
  EXPECT_EQ(ack_seq(R"({"seq":18446744073709551615})"), 18446744073709551615ULL);
}

TEST(Ack, AllowsJsonWhitespaceBetweenTokens) {
  EXPECT_EQ(ack_seq(" {\t\"seq\" :\r\n 7 } \n"), 7U);
  EXPECT_EQ(ack_seq("{ \"seq\": 1234 }"), 1234U);
}

TEST(Ack, RefusesEverythingElse) {
  for (const char* payload : {
           "",
           "{}",
           "42",
           R"({"seq":})",
           R"({"seq":-1})",
           R"({"seq":+1})",
           R"({"seq":01})",
           R"({"seq":1.0})",
           R"({"seq":1e3})",
           R"({"seq":"42"})",
           R"({"seq":18446744073709551616})",     // 2^64
           R"({"seq":99999999999999999999999})",  // far beyond
           R"({"seq":42,"extra":1})",
           R"({"extra":1,"seq":42})",
           R"({"seq":1,"seq":2})",
           R"({"Seq":42})",
           R"({"s\u0065q":42})",
           R"({seq:42})",
           R"({'seq':42})",
           R"({"seq":42)",
           R"({"seq":42}})",
           R"({"seq":42} x)",
           R"([{"seq":42}])",
           R"({"seq":4 2})",
           "{\"seq\":42}\v",            // vertical tab is not JSON whitespace
           "\xEF\xBB\xBF{\"seq\":42}",  // a byte-order mark
       }) {
    EXPECT_FALSE(ack_seq(payload)) << payload;
  }
}

TEST(Ack, APayloadIsItsFullLengthSoARawNulIsRefused) {
  const std::string ack = R"({"seq":42})";
  const std::string nul(1, '\0');
  for (const std::string& payload : {ack + nul, ack + nul + "garbage", nul + ack, std::string("{\"seq\":4\0}", 9),
                                     std::string(R"({"seq":)") + nul + "42}"}) {
    EXPECT_FALSE(ack_seq(payload)) << payload;
  }
}

TEST(Ack, EncodesTheProtocolFormThatDecodesToTheSameSeq) {
  EXPECT_EQ(encode_ack(42), R"({"seq":42})");
  EXPECT_EQ(encode_ack(0), R"({"seq":0})");
  for (std::uint64_t seq : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{9'223'372'036'854'775'807ULL},
                            std::numeric_limits<std::uint64_t>::max()}) {
    EXPECT_EQ(ack_seq(encode_ack(seq)), seq);
  }
}

}  // namespace
}  // namespace kelvin::proto
