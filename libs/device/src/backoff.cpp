#include "kelvin/device/backoff.hpp"

#include <algorithm>

namespace kelvin::device {
namespace {

BackoffPolicy consistent(BackoffPolicy policy) {
  policy.initial_ms = std::max<std::int64_t>(policy.initial_ms, 1);
  policy.max_ms = std::max(policy.max_ms, policy.initial_ms);
  policy.multiplier = std::max<std::uint32_t>(policy.multiplier, 1);
  return policy;
}

}  // namespace

Backoff::Backoff(BackoffPolicy policy, RandomSource& random)
    : policy_(consistent(policy)), random_(random), ceiling_ms_(policy_.initial_ms) {}

std::int64_t Backoff::next_delay_ms() {
  const std::int64_t ceiling = ceiling_ms_;
  const std::int64_t floor = ceiling - ceiling / 2;  // >= 1 because ceiling >= 1
  const auto jitter = uniform_between(random_, 0, static_cast<std::uint64_t>(ceiling - floor));
  // Grow without overflow: once the next step would pass max_ms, stay at max_ms.
  ceiling_ms_ = ceiling > policy_.max_ms / policy_.multiplier ? policy_.max_ms
                                                              : std::min(policy_.max_ms, ceiling * policy_.multiplier);
  return floor + static_cast<std::int64_t>(jitter);
}

void Backoff::reset() {
  ceiling_ms_ = policy_.initial_ms;
}

}  // namespace kelvin::device
