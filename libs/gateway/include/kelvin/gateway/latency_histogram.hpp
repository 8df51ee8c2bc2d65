#pragma once
// Millisecond latency distribution (reading timestamp → commit) for the ingest's statistics and
// the ingest benchmark. 1 ms buckets up to 60 s; anything slower lands in the last bucket.

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
  void reset();

 private:
  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
};

}  // namespace kelvin::gateway
