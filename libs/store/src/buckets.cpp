#include "buckets.hpp"

#include <algorithm>
#include <tuple>

namespace kelvin::store {

std::optional<std::int64_t> rollup_width_ms(Resolution resolution) noexcept {
  switch (resolution) {
    case Resolution::minute:
      return kMinuteMs;
    case Resolution::hour:
      return kHourMs;
    case Resolution::eight_hours:
      return kEightHoursMs;
    case Resolution::raw:
      break;
  }
  return std::nullopt;
}

std::optional<std::int64_t> align_down(std::int64_t ts_ms, std::int64_t width_ms) noexcept {
  std::int64_t remainder = ts_ms % width_ms;
  if (remainder < 0) remainder += width_ms;  // C++ truncates toward zero; buckets floor
  std::int64_t start = 0;
  if (__builtin_sub_overflow(ts_ms, remainder, &start)) return std::nullopt;
  return start;
}

void BucketStats::add(std::int64_t ts_ms, std::uint64_t seq, double value) noexcept {
  BucketStats single;
  single.min = value;
  single.max = value;
  single.sum = value;
  single.count = 1;
  single.last_ts_ms = ts_ms;
  single.last_seq = seq;
  single.last_value = value;
  merge(single);
}

void BucketStats::merge(const BucketStats& other) noexcept {
  if (other.count == 0) return;
  min = std::min(min, other.min);
  max = std::max(max, other.max);
  sum += other.sum;
  count += other.count;
  if (count == other.count || std::tie(other.last_ts_ms, other.last_seq) > std::tie(last_ts_ms, last_seq)) {
    last_ts_ms = other.last_ts_ms;
    last_seq = other.last_seq;
    last_value = other.last_value;
  }
}

Bucket BucketStats::to_bucket(std::int64_t start_ms) const noexcept {
  Bucket bucket;
  bucket.start_ms = start_ms;
  bucket.min = min;
  bucket.max = max;
  bucket.count = count;
  bucket.mean = count == 0 ? 0.0 : sum / static_cast<double>(count);
  bucket.last = last_value;
  return bucket;
}

}  // namespace kelvin::store
