#pragma once
// Reconnect backoff: exponential with "equal jitter" (the delay is drawn uniformly from
// [ceiling/2, ceiling], and the ceiling grows initial_ms, x multiplier, ... up to max_ms).
//
// Why equal jitter: when a gateway restarts, its whole fleet reconnects at once; jitter spreads
// them out. Full jitter ([0, ceiling]) spreads more but can draw 0 and hammer the broker; equal
// jitter keeps half the ceiling as a floor, so a delay is never 0 and never exceeds max_ms.
//
// When to reset is the session's decision (session.hpp): after a connection that stayed up for a
// while, not merely on connect, so a broker that accepts and immediately drops the device (a
// revoked certificate, two devices sharing one id) still sees the delays grow.

#include <cstdint>

#include "kelvin/device/random.hpp"

namespace kelvin::device {

struct BackoffPolicy {
  std::int64_t initial_ms = 1000;
  std::int64_t max_ms = 60'000;
  std::uint32_t multiplier = 2;
};

class Backoff {
 public:
  // The policy is made consistent: initial_ms >= 1, max_ms >= initial_ms, multiplier >= 1.
  Backoff(BackoffPolicy policy, RandomSource& random);

  // The delay before the next connection attempt, in [ceiling/2, ceiling] where ceiling is
  // ceiling_ms() before the call; then grows the ceiling (capped at max_ms).
  std::int64_t next_delay_ms();
  // Back to initial_ms.
  void reset();

  std::int64_t ceiling_ms() const { return ceiling_ms_; }
  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  RandomSource& random_;
  std::int64_t ceiling_ms_;
};

}  // namespace kelvin::device
