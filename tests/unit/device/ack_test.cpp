#include "kelvin/device/ack.hpp"

#include <gtest/gtest.h>

namespace kelvin::device {
namespace {

TEST(Ack, ParsesTheProtocolForm) {
  EXPECT_EQ(parse_ack(R"({"seq":42})"), 42U);
  EXPECT_EQ(parse_ack(R"({"seq":0})"), 0U);
  EXPECT_EQ(parse_ack(R"({"seq":18446744073709551615})"), 18446744073709551615ULL);
}

TEST(Ack, AllowsJsonWhitespaceBetweenTokens) {
  EXPECT_EQ(parse_ack(" {\t\"seq\" :\r\n 7 } \n"), 7U);
  EXPECT_EQ(parse_ack("{ \"seq\": 1234 }"), 1234U);
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
    EXPECT_FALSE(parse_ack(payload)) << payload;
  }
  EXPECT_FALSE(parse_ack(std::string_view("{\"seq\":4\0}", 9)));
}

}  // namespace
}  // namespace kelvin::device
