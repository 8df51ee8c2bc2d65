#include "kelvin/proto/json_text.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace kelvin::proto {
namespace {

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(text, out);
  return out;
}

template <class Number>
std::string json_number(Number value) {
  std::string out;
  append_json_number(value, out);
  return out;
}

TEST(JsonText, EscapesStrings) {
  EXPECT_EQ(json_string(R"(a"b\c)"), R"("a\"b\\c")");
  EXPECT_EQ(json_string("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(json_string(std::string_view("\x01\x1f\0", 3)), R"("\u0001\u001f\u0000")");
  EXPECT_EQ(json_string("/ é ✓ \x7f"), "\"/ é ✓ \x7f\"");  // '/', UTF-8 and DEL need no escape
}

TEST(JsonText, WritesNumbersInTheirShortestForm) {
  EXPECT_EQ(json_number(std::numeric_limits<std::uint64_t>::max()), "18446744073709551615");
  EXPECT_EQ(json_number(std::int64_t{-5}), "-5");
  EXPECT_EQ(json_number(21.3), "21.3");
  EXPECT_EQ(json_number(-10.125), "-10.125");
  EXPECT_EQ(json_number(20.0), "20");
}

}  // namespace
}  // namespace kelvin::proto
