#include "kelvin/core/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kelvin {
namespace {

// RFC 4648 §10 test vectors.
TEST(Base64Test, EncodesTheRfcVectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64Test, DecodesWhatItEncodesForEveryByte) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  for (std::size_t length = 0; length <= all.size(); length += 37) {
    const std::string bytes = all.substr(0, length);
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes) << length;
  }
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(base64_decode("+/8="), std::string("\xfb\xff"));
}

TEST(Base64Test, RefusesAnythingButCanonicalPaddedStandardBase64) {
  for (const char* text : {"Zg", "Zg=", "Zm9", "Z===", "====", "Zg==Zg==", "Zm9v\n", " Zm9v", "Zm-_",
                           "Zm9v!A==", "Zh==" /* bits in the padding */, "Zm9=" /* likewise */, "Z=9v", "Zm\0v"}) {
    EXPECT_FALSE(base64_decode(text).has_value()) << text;
  }
  EXPECT_FALSE(base64_decode(std::string("Zm\0v", 4)).has_value());
}

}  // namespace
}  // namespace kelvin
