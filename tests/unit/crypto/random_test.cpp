#include "kelvin/crypto/random.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <set>
#include <string>

namespace kelvin::crypto {
namespace {

TEST(RandomHex, IsTwoLowercaseHexDigitsPerByte) {
  for (std::size_t bytes : {std::size_t{0}, std::size_t{1}, std::size_t{8}, std::size_t{33}}) {
    auto hex = random_hex(bytes);
    ASSERT_TRUE(hex.ok()) << hex.error().message;
    EXPECT_EQ(hex->size(), 2 * bytes);
    EXPECT_TRUE(std::all_of(hex->begin(), hex->end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    })) << *hex;
  }
}

TEST(RandomHex, DrawsAFreshValueEveryCall) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto hex = random_hex(8);
    ASSERT_TRUE(hex.ok()) << hex.error().message;
    seen.insert(*hex);
  }
  EXPECT_EQ(seen.size(), 100u);  // 64 bits each: a repeat means the generator is broken
}

TEST(RandomBytes, FillsTheWholeSpan) {
  // 64 zero bytes surviving a draw would happen with probability 2^-512.
  std::array<unsigned char, 64> bytes{};
  ASSERT_TRUE(random_bytes(bytes).ok());
  EXPECT_TRUE(std::any_of(bytes.begin() + 56, bytes.end(), [](unsigned char b) { return b != 0; }));
  EXPECT_TRUE(std::any_of(bytes.begin(), bytes.begin() + 8, [](unsigned char b) { return b != 0; }));
}

}  // namespace
}  // namespace kelvin::crypto
