#pragma once
// Time-bucket arithmetic and the statistics kept per bucket. The same BucketStats serves three
// places — rollup rows written at commit, rollup rows merged at query time, raw samples folded at
// query time — so rollup-based and raw-based answers are computed identically.

#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>

#include "kelvin/store/types.hpp"

namespace kelvin::store {

inline constexpr std::int64_t kMinuteMs = 60'000;
inline constexpr std::int64_t kHourMs = 3'600'000;
inline constexpr std::int64_t kEightHoursMs = 8 * kHourMs;
inline constexpr std::int64_t kDayMs = 86'400'000;

// The widths the store keeps rollups of, finest first (the CHECK on rollups.width_ms in
// schema.cpp). Each divides the next, so a bucket of a coarser width holds whole buckets of every
// finer one. Eight hours serves a year on the dashboard (about 1,100 points) from 1,095 rows per
// series instead of 8,760 hour rollups: an eighth of the pages a query of a cold year reads.
inline constexpr std::int64_t kRollupWidthsMs[] = {kMinuteMs, kHourMs, kEightHoursMs};
inline constexpr std::int64_t kWidestRollupMs = kRollupWidthsMs[std::size(kRollupWidthsMs) - 1];

// The bucket width of a rollup resolution; nullopt for raw (no buckets of its own).
std::optional<std::int64_t> rollup_width_ms(Resolution resolution) noexcept;

// The start of the width-aligned bucket holding `ts_ms` (floor, also for negative times); nullopt
// when that start is not representable. Precondition: width_ms > 0.
std::optional<std::int64_t> align_down(std::int64_t ts_ms, std::int64_t width_ms) noexcept;

// min, max, sum and count of a bucket's values, and its last value by (ts, seq).
struct BucketStats {
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  double sum = 0;
  std::uint64_t count = 0;
  std::int64_t last_ts_ms = std::numeric_limits<std::int64_t>::min();
  std::uint64_t last_seq = 0;
  double last_value = 0;

  void add(std::int64_t ts_ms, std::uint64_t seq, double value) noexcept;
  void merge(const BucketStats& other) noexcept;
  Bucket to_bucket(std::int64_t start_ms) const noexcept;
};

}  // namespace kelvin::store
