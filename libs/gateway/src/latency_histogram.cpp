#include "kelvin/gateway/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace kelvin::gateway {

void LatencyHistogram::record(std::int64_t latency_ms) {
  auto index = static_cast<std::size_t>(std::clamp<std::int64_t>(latency_ms, 0, kMaxMs));
  ++buckets_[index];
  ++count_;
}

std::int64_t LatencyHistogram::percentile(double fraction) const {
  static const LatencyHistogram empty;
  return percentile(*this, empty, fraction);
}

std::int64_t LatencyHistogram::percentile(const LatencyHistogram& a, const LatencyHistogram& b, double fraction) {
  const std::uint64_t count = a.count_ + b.count_;
  if (count == 0) return 0;
  auto wanted = static_cast<std::uint64_t>(std::ceil(fraction * static_cast<double>(count)));
  wanted = std::max<std::uint64_t>(wanted, 1);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < a.buckets_.size(); ++i) {
    seen += a.buckets_[i] + b.buckets_[i];
    if (seen >= wanted) return static_cast<std::int64_t>(i);
  }
  return kMaxMs;
}

void LatencyHistogram::reset() {
  std::fill(buckets_.begin(), buckets_.end(), 0);
  count_ = 0;
}

RecentLatency::RecentLatency(std::chrono::milliseconds window, Clock::time_point now)
    : window_(window), current_since_(now) {}

void RecentLatency::rotate(Clock::time_point now) {
  if (now - current_since_ < window_) return;
  if (now - current_since_ >= 2 * window_) {
    previous_.reset();  // the current window is older than the reach of a percentile too
  } else {
    std::swap(previous_, current_);
  }
  current_.reset();
  // Windows keep their phase, so "the last one to two windows" holds after a quiet spell too.
  current_since_ += (now - current_since_) / window_ * window_;
}

void RecentLatency::record(std::int64_t latency_ms, Clock::time_point now) {
  rotate(now);
  current_.record(latency_ms);
}

std::int64_t RecentLatency::percentile(double fraction, Clock::time_point now) {
  rotate(now);
  return LatencyHistogram::percentile(current_, previous_, fraction);
}

}  // namespace kelvin::gateway
