#pragma once
// Millisecond latency distributions for the ingest's statistics and the ingest benchmark.
// LatencyHistogram: 1 ms buckets up to 60 s; anything slower lands in the last bucket.
// RecentLatency: the same over the recent past only, so a start-up burst or an outage hours ago
// does not hide what the gateway does now.

#include <chrono>
#include <cstdint>
#include <vector>

namespace kelvin::gateway {

class LatencyHistogram {
 public:
  static constexpr std::int64_t kMaxMs = 60'000;
  LatencyHistogram() : buckets_(kMaxMs + 1, 0) {}

  void record(std::int64_t latency_ms);
  std::uint64_t count() const { return count_; }
  // The smallest latency L such that at least `fraction` of the samples are <= L (0 when empty).
  std::int64_t percentile(double fraction) const;
  // The same over the samples of both histograms together.
  static std::int64_t percentile(const LatencyHistogram& a, const LatencyHistogram& b, double fraction);
  void reset();

 private:
  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
};

// Samples fall into the current window; once it is `window` old it becomes the previous one and a
// new window begins. Percentiles cover the current and the previous window: the samples of the
// last one to two windows. Not thread-safe (the ingest holds its mutex).
class RecentLatency {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RecentLatency(std::chrono::milliseconds window, Clock::time_point now = Clock::now());

  void record(std::int64_t latency_ms, Clock::time_point now);
  // 0 when no sample fell into the last one to two windows.
  std::int64_t percentile(double fraction, Clock::time_point now);

 private:
  void rotate(Clock::time_point now);

  std::chrono::milliseconds window_;
  Clock::time_point current_since_;
  LatencyHistogram current_;
  LatencyHistogram previous_;
};

}  // namespace kelvin::gateway
