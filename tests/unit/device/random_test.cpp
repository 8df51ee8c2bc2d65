#include "kelvin/device/random.hpp"

#include <gtest/gtest.h>

#include <array>
#include <set>

namespace kelvin::device {
namespace {

TEST(SplitMix64, MatchesTheReferenceSequence) {
  // The published SplitMix64 outputs for seed 1234567 (as in Vigna's splitmix64.c).
  SplitMix64 random(1234567);
  EXPECT_EQ(random.next_u64(), 6457827717110365317ULL);
  EXPECT_EQ(random.next_u64(), 3203168211198807973ULL);
  EXPECT_EQ(random.next_u64(), 9817491932198370423ULL);
  EXPECT_EQ(random.next_u64(), 4593380528125082431ULL);
  EXPECT_EQ(random.next_u64(), 16408922859458223821ULL);
}

TEST(SplitMix64, SeedZeroIsUsable) {
  SplitMix64 random(0);
  EXPECT_EQ(random.next_u64(), 0xE220A8397B1DCDAFULL);
  EXPECT_NE(random.next_u64(), 0xE220A8397B1DCDAFULL);
}

TEST(SplitMix64Source, IsTheSameSequenceBehindTheInterface) {
  SplitMix64 engine(77);
  SplitMix64Source source(77);
  RandomSource& random = source;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(random.next_u64(), engine.next_u64());
}

TEST(Random, UniformUnitStaysInHalfOpenInterval) {
  SplitMix64 random(99);
  double low = 1.0;
  double high = 0.0;
  for (int i = 0; i < 10000; ++i) {
    const double x = uniform_unit(random);
    ASSERT_GE(x, 0.0);
    ASSERT_LT(x, 1.0);
    low = std::min(low, x);
    high = std::max(high, x);
  }
  EXPECT_LT(low, 0.01);
  EXPECT_GT(high, 0.99);
}

TEST(Random, UniformBetweenCoversTheInclusiveRangeOnly) {
  SplitMix64 random(7);
  std::array<int, 5> seen{};
  for (int i = 0; i < 5000; ++i) {
    const std::uint64_t x = uniform_between(random, 10, 14);
    ASSERT_GE(x, 10U);
    ASSERT_LE(x, 14U);
    ++seen[x - 10];
  }
  for (int count : seen) EXPECT_GT(count, 800);  // ~1000 each
  EXPECT_EQ(uniform_between(random, 3, 3), 3U);
  // The full 64-bit range does not overflow.
  std::set<std::uint64_t> full;
  for (int i = 0; i < 10; ++i) full.insert(uniform_between(random, 0, ~std::uint64_t{0}));
  EXPECT_EQ(full.size(), 10U);
}

}  // namespace
}  // namespace kelvin::device
