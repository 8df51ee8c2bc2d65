#include "kelvin/core/utf8.hpp"

#include <gtest/gtest.h>

namespace kelvin {
namespace {

TEST(Utf8, AcceptsWellFormedAndRefusesMalformedSequences) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(
      is_valid_utf8("21.5 \xC2\xB0"
                    "C"));                          // U+00B0
  EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));       // U+20AC
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x8C\xA1"));   // U+1F321
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));   // U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation
  EXPECT_FALSE(is_valid_utf8("\xC3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xC3\x28"));          // bad continuation
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xFF"));
}

TEST(Utf8, AppendsEachCodePointAsItsEncodingAtEveryLengthBoundary) {
  struct Case {
    std::uint32_t code_point;
    const char* encoded;
  };
  for (const Case& c :
       {Case{0x24, "\x24"}, Case{0x7F, "\x7F"}, Case{0x80, "\xC2\x80"}, Case{0xE9, "\xC3\xA9"}, Case{0x7FF, "\xDF\xBF"},
        Case{0x800, "\xE0\xA0\x80"}, Case{0x20AC, "\xE2\x82\xAC"}, Case{0xFFFD, "\xEF\xBF\xBD"},
        Case{0x10000, "\xF0\x90\x80\x80"}, Case{0x1F600, "\xF0\x9F\x98\x80"}, Case{0x10FFFF, "\xF4\x8F\xBF\xBF"}}) {
    std::string out = "x";
    append_utf8(c.code_point, out);
    EXPECT_EQ(out, std::string("x") + c.encoded) << c.code_point;
    EXPECT_TRUE(is_valid_utf8(out)) << c.code_point;
  }
}

TEST(Utf8, ParsesTheFourHexDigitsOfAnEscape) {
  EXPECT_EQ(parse_hex4("00e9"), 0xE9u);
  EXPECT_EQ(parse_hex4("D83Dxyz"), 0xD83Du) << "only the first four count";
  EXPECT_EQ(parse_hex4("ffFF"), 0xFFFFu);
  for (const char* bad : {"", "abc", "00g0", " 0e9", "-001"}) EXPECT_FALSE(parse_hex4(bad).has_value()) << bad;
}

}  // namespace
}  // namespace kelvin
