#pragma once
// Injected randomness. The device core never asks the platform for entropy itself: reconnect
// jitter and the simulated sensor take their random bits from outside, so tests are
// deterministic and a port decides where randomness comes from (a seeded SplitMix64 is enough
// for jitter; nothing here needs cryptographic randomness).

#include <concepts>
#include <cstdint>
#include <limits>

namespace kelvin::device {

// Where the session's backoff jitter comes from (a port may wrap a hardware RNG).
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // 64 uniformly distributed bits.
  virtual std::uint64_t next_u64() = 0;
};

// SplitMix64 (Steele, Lea, Flood: "Fast splittable pseudorandom number generators", 2014): one
// 64-bit word of state, passes BigCrush, every seed (including 0) is usable, and the same seed
// gives the same sequence on every platform. A plain value type, not a RandomSource, so the
// device core can use it without owning a polymorphic object (see SplitMix64Source).
class SplitMix64 {
 public:
  explicit constexpr SplitMix64(std::uint64_t seed) : state_(seed) {}

  constexpr std::uint64_t next_u64() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

// A seeded SplitMix64 as a RandomSource. Header-only on purpose, like every class here that
// implements an interface: its vtable and typeinfo are then emitted by the code that constructs
// it, with that code's RTTI setting, never by the -fno-rtti device library (RTTI-enabled users,
// UBSan's vptr check among them, would otherwise find no typeinfo at link time).
class SplitMix64Source final : public RandomSource {
 public:
  explicit SplitMix64Source(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t next_u64() override { return engine_.next_u64(); }

 private:
  SplitMix64 engine_;
};

// Anything with `std::uint64_t next_u64()`: a RandomSource or a SplitMix64.
template <class R>
concept RandomBits = requires(R& r) {
  { r.next_u64() } -> std::same_as<std::uint64_t>;
};

// Uniform in [0, 1), from the top 53 bits of one draw.
template <RandomBits R>
double uniform_unit(R& random) {
  constexpr double kTwoToMinus53 = 1.0 / 9007199254740992.0;
  return static_cast<double>(random.next_u64() >> 11) * kTwoToMinus53;
}

// Uniform in [low, high] (inclusive), without modulo bias. Precondition: low <= high.
template <RandomBits R>
std::uint64_t uniform_between(R& random, std::uint64_t low, std::uint64_t high) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t span = high - low;
  if (span == kMax) return random.next_u64();
  const std::uint64_t range = span + 1;
  // Draws at or above `limit` would favour small residues; redraw them (probability < 1/2).
  const std::uint64_t limit = kMax - kMax % range;
  std::uint64_t x = random.next_u64();
  while (x >= limit) x = random.next_u64();
  return low + x % range;
}

}  // namespace kelvin::device
