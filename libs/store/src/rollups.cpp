// Rollups: folded from the readings after their commit, not in it.
//
// counters.rollup_position says how far the rollups go: they hold every reading with an export
// position up to it, and none after it. A commit stores its readings and, when a fold is due (a
// second after the last one on this connection, or 20,000 readings behind), reads back the
// readings after the position — the newest rows of `readings`, still in the page cache — and
// merges them into the rollups with one upsert per (series, width, bucket), then moves the position
// to the last export position, all in the commit's own transaction. Per device that is four
// upserts a second however many commits there were, where writing them per commit cost four per
// commit: with many devices each sending one reading per message, most of a commit's work.
//
// Nothing is kept in memory between commits, so a crash loses nothing: the readings after the
// position are in the file and the next fold takes them, whichever process or connection does it.
// Until then a query adds them to the rollups it reads (unrolled_buckets), inside one read
// transaction so it sees the position and both tables as of one moment. What else writes rollups
// or readings keeps the rule: withdrawal folds first and then recomputes buckets from the
// readings; retention deletes and thins only readings at or below the position
// (statements.cpp); a purge deletes a device's readings and rollups alike.

#include <map>

#include "buckets.hpp"
#include "reading_values.hpp"
#include "store_impl.hpp"

namespace kelvin::store {
namespace {

using sqlite::StatementReset;

// A fold is due after this many readings even within the interval: it bounds what a query adds
// (and what a fold reads back) at the highest rates.
constexpr std::int64_t kMaxUnrolledReadings = 20'000;

struct RollupKey {
  std::int64_t series = 0;
  std::int64_t width_ms = 0;
  std::int64_t bucket_start_ms = 0;
  auto operator<=>(const RollupKey&) const = default;
};

// A row of unrolled_readings.
struct UnrolledReading {
  std::int64_t device_row = 0;
  proto::Reading reading;
};

// Steps `select` (unrolled_readings, bound) to its end, calling visit(const UnrolledReading&).
template <class Visit>
Result<void> for_each_unrolled(sqlite::Statement& select, Visit visit) {
  for (;;) {
    auto row = select.step();
    if (!row) return std::move(row).error();
    if (!*row) return {};
    UnrolledReading unrolled;
    unrolled.device_row = select.column_int64(0);
    unrolled.reading.seq = sqlite::from_sql_unsigned(select.column_int64(1));
    unrolled.reading.ts_ms = select.column_int64(2);
    read_values(select, kUnrolledFirstValue, unrolled.reading);
    if (auto visited = visit(unrolled); !visited) return visited;
  }
}

}  // namespace

void bind_rollup_row(sqlite::Statement& statement, std::int64_t series, std::int64_t width_ms,
                     std::int64_t bucket_start_ms, const BucketStats& stats) {
  statement.bind(1, series);
  statement.bind(2, width_ms);
  statement.bind(3, bucket_start_ms);
  statement.bind(4, stats.min);
  statement.bind(5, stats.max);
  statement.bind(6, stats.sum);
  statement.bind(7, sqlite::to_sql(stats.count));
  statement.bind(8, stats.last_ts_ms);
  statement.bind(9, sqlite::to_sql(stats.last_seq));
  statement.bind(10, stats.last_value);
}

Result<std::int64_t> Store::Impl::rollup_position() {
  auto& select = statements_.rollup_position_select;
  StatementReset reset(select);
  auto row = select.step();
  if (!row) return std::move(row).error();
  if (!*row) return make_error(Errc::corrupt, path_.string() + ": the rollup_position counter is missing");
  return select.column_int64(0);
}

Result<bool> Store::Impl::fold_due(std::int64_t now_ms, std::int64_t last_position) {
  if (!last_fold_ms_ || now_ms < *last_fold_ms_ || now_ms - *last_fold_ms_ >= options_.rollup_fold_interval_ms) {
    return true;
  }
  auto folded = rollup_position();
  if (!folded) return std::move(folded).error();
  return last_position - *folded >= kMaxUnrolledReadings;
}

Result<void> Store::Impl::fold_rollups() {
  auto from = rollup_position();
  if (!from) return std::move(from).error();
  auto through = last_export_position();
  if (!through) return std::move(through).error();
  if (*through <= *from) return {};

  std::map<RollupKey, BucketStats> rollups;
  {
    auto& select = statements_.unrolled_readings;
    StatementReset reset(select);
    select.bind(1, *from);
    select.bind_null(2);
    auto folded = for_each_unrolled(select, [&](const UnrolledReading& unrolled) -> Result<void> {
      for (const auto& quantity : proto::kQuantities) {
        auto value = unrolled.reading.value(quantity.quantity);
        if (!value) continue;
        auto series = series_of(unrolled.device_row, quantity.quantity);
        if (!series) return std::move(series).error();
        for (std::int64_t width : kRollupWidthsMs) {
          // A stored ts_ms is within [0, kMaxTimestampMs] (ingest.cpp): aligning cannot fail.
          RollupKey key{*series, width, align_down(unrolled.reading.ts_ms, width).value_or(0)};
          rollups[key].add(unrolled.reading.ts_ms, unrolled.reading.seq, *value);
        }
      }
      return {};
    });
    if (!folded) return folded;
  }

  // One upsert per (series, width, bucket), not one per reading.
  for (const auto& [key, stats] : rollups) {
    auto& upsert = statements_.rollup_upsert;
    StatementReset reset_upsert(upsert);
    bind_rollup_row(upsert, key.series, key.width_ms, key.bucket_start_ms, stats);
    if (auto done = upsert.run(); !done) return std::move(done).error();
  }
  auto& update = statements_.rollup_position_update;
  StatementReset reset_update(update);
  update.bind(1, *through);
  return update.run();
}

Result<UnrolledBuckets> Store::Impl::unrolled_buckets(std::optional<std::int64_t> device_row, proto::Quantity quantity,
                                                      std::int64_t width_ms, std::int64_t start_ms,
                                                      std::int64_t end_ms) {
  auto from = rollup_position();
  if (!from) return std::move(from).error();
  UnrolledBuckets buckets;
  auto& select = statements_.unrolled_readings;
  StatementReset reset(select);
  select.bind(1, *from);
  if (device_row) {
    select.bind(2, *device_row);
  } else {
    select.bind_null(2);
  }
  auto visited = for_each_unrolled(select, [&](const UnrolledReading& unrolled) -> Result<void> {
    auto value = unrolled.reading.value(quantity);
    if (!value) return {};
    const std::int64_t start = align_down(unrolled.reading.ts_ms, width_ms).value_or(0);
    if (start < start_ms || start >= end_ms) return {};
    buckets[{unrolled.device_row, start}].add(unrolled.reading.ts_ms, unrolled.reading.seq, *value);
    return {};
  });
  if (!visited) return std::move(visited).error();
  return buckets;
}

}  // namespace kelvin::store
