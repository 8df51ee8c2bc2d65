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
  if (count_ == 0) return 0;
  auto wanted = static_cast<std::uint64_t>(std::ceil(fraction * static_cast<double>(count_)));
  wanted = std::max<std::uint64_t>(wanted, 1);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= wanted) return static_cast<std::int64_t>(i);
  }
  return kMaxMs;
}

void LatencyHistogram::reset() {
  std::fill(buckets_.begin(), buckets_.end(), 0);
  count_ = 0;
}

}  // namespace kelvin::gateway
