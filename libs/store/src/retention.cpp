// Retention: deletes what the policy no longer keeps, chunk by chunk.
//
// Each DELETE statement removes at most kDeleteChunkRows rows and commits on its own, so the
// gateway's commits interleave with a long clean-up instead of timing out behind it. The horizons
// the query planner relies on are raised before anything is deleted: a query running meanwhile
// may avoid data that is still there, but never trusts data that is already half gone.
// Watermarks are never touched, and `readings` / `rejected` rows above a watermark are kept
// whatever their age, because they are what lets the watermark advance when a gap fills; of such
// a reading only the values go. A reading the rollups do not hold yet (rollups.cpp) stays until
// they do.

#include <string>
#include <vector>

#include "buckets.hpp"
#include "store_impl.hpp"

namespace kelvin::store {
namespace {

using sqlite::StatementReset;

// The time before which data of a resolution kept for `days` may go; nullopt keeps everything.
std::optional<std::int64_t> cutoff_for(std::int64_t days, std::int64_t now_ms) {
  if (days <= 0) return std::nullopt;
  std::int64_t span = 0;
  std::int64_t cutoff = 0;
  if (__builtin_mul_overflow(days, kDayMs, &span) || __builtin_sub_overflow(now_ms, span, &cutoff)) {
    return std::nullopt;  // longer than representable time: nothing is that old
  }
  return cutoff;
}

// Runs a chunked DELETE or UPDATE (its last parameter is the LIMIT) until a chunk comes back short.
template <class BindFirst>
Result<std::uint64_t> delete_in_chunks(sqlite::Statement& statement, int limit_index, BindFirst bind_first) {
  std::uint64_t total = 0;
  for (;;) {
    StatementReset reset(statement);
    bind_first(statement);
    statement.bind(limit_index, kDeleteChunkRows);
    if (auto done = statement.run(); !done) return std::move(done).error();
    const std::int64_t changed = statement.changes();
    total += sqlite::from_sql_unsigned(changed);
    if (changed < kDeleteChunkRows) return total;
  }
}

// Reads a one- or two-column id list completely before any DELETE runs: an unfinished SELECT
// would hold its transaction open and merge every chunk into one long write.
Result<std::vector<std::pair<std::int64_t, std::int64_t>>> read_pairs(sqlite::Statement& select) {
  std::vector<std::pair<std::int64_t, std::int64_t>> rows;
  StatementReset reset(select);
  for (;;) {
    auto row = select.step();
    if (!row) return std::move(row).error();
    if (!*row) return rows;
    rows.emplace_back(select.column_int64(0), select.column_int64(1));
  }
}

}  // namespace

Result<RetentionReport> Store::Impl::apply_retention(std::int64_t now_ms) {
  const RetentionPolicy& policy = options_.retention;
  const auto raw_cutoff = cutoff_for(policy.raw_days, now_ms);
  const auto minute_cutoff = cutoff_for(policy.minute_days, now_ms);
  const auto hour_cutoff = cutoff_for(policy.hour_days, now_ms);

  // A rollup bucket goes once it ends at or before the cutoff, so data from the start of the
  // bucket holding the cutoff onwards is complete.
  auto rollup_horizon = [](std::optional<std::int64_t> cutoff, std::int64_t width) -> std::optional<std::int64_t> {
    if (!cutoff) return std::nullopt;
    return align_down(*cutoff, width);
  };
  const std::pair<std::string_view, std::optional<std::int64_t>> horizons[] = {
      {to_string(Resolution::raw), raw_cutoff},
      {to_string(Resolution::minute), rollup_horizon(minute_cutoff, kMinuteMs)},
      {to_string(Resolution::hour), rollup_horizon(hour_cutoff, kHourMs)},
  };
  {
    auto transaction = sqlite::Transaction::begin(db_.get());
    if (!transaction) return std::move(transaction).error();
    // Readings go only once the rollups hold them (statements.cpp): fold what is there now, so
    // only readings committed while retention runs wait for the next run. The fold looks series
    // up in the cache, which another connection's purge may have made stale.
    if (auto fresh = forget_if_changed(); !fresh) return std::move(fresh).error();
    if (auto folded = fold_rollups(); !folded) return std::move(folded).error();
    for (const auto& [resolution, horizon] : horizons) {
      if (!horizon) continue;
      auto& raise = statements_.horizon_raise;
      StatementReset reset(raise);
      raise.bind(1, resolution);
      raise.bind(2, *horizon);
      if (auto done = raise.run(); !done) return std::move(done).error();
    }
    if (auto committed = transaction->commit(); !committed) return std::move(committed).error();
  }

  auto series_rows = read_pairs(statements_.series_all);
  if (!series_rows) return std::move(series_rows).error();
  RetentionReport report;
  for (const auto& [series, device_row] : *series_rows) {
    if (minute_cutoff) {
      auto deleted = delete_rollups_ending_by(series, kMinuteMs, *minute_cutoff);
      if (!deleted) return std::move(deleted).error();
      report.minute_deleted += *deleted;
    }
    if (hour_cutoff) {
      // The 8-hour rollups go with the hour ones (query_plan.hpp: they share the hour horizon).
      for (std::int64_t width : {kHourMs, kEightHoursMs}) {
        auto deleted = delete_rollups_ending_by(series, width, *hour_cutoff);
        if (!deleted) return std::move(deleted).error();
        report.hour_deleted += *deleted;
      }
    }
  }

  if (raw_cutoff) {
    auto devices = read_pairs(statements_.devices_all_watermarks);
    if (!devices) return std::move(devices).error();
    for (const auto& [device_row, watermark] : *devices) {
      const std::uint64_t max_seq = sqlite::from_sql_unsigned(watermark);
      auto deleted = delete_readings_before(device_row, *raw_cutoff, max_seq);
      if (!deleted) return std::move(deleted).error();
      auto cleared = delete_in_chunks(statements_.reading_values_clear_chunk, 4, [&](sqlite::Statement& s) {
        s.bind(1, device_row);
        s.bind(2, *raw_cutoff);
        s.bind(3, sqlite::to_sql(max_seq));
      });
      if (!cleared) return std::move(cleared).error();
      report.raw_deleted += *deleted + *cleared;
      if (auto done = delete_rejected_before(device_row, *raw_cutoff, max_seq); !done) return std::move(done).error();
    }
  }
  return report;
}

Result<std::uint64_t> Store::Impl::delete_rollups_ending_by(std::int64_t series, std::int64_t width_ms,
                                                            std::int64_t end_ms) {
  std::int64_t last_start = 0;
  if (__builtin_sub_overflow(end_ms, width_ms, &last_start)) return std::uint64_t{0};
  return delete_in_chunks(statements_.rollups_delete_chunk, 4, [&](sqlite::Statement& s) {
    s.bind(1, series);
    s.bind(2, width_ms);
    s.bind(3, last_start);
  });
}

Result<std::uint64_t> Store::Impl::delete_readings_before(std::int64_t device_row, std::int64_t before_ms,
                                                          std::uint64_t max_seq) {
  return delete_in_chunks(statements_.readings_delete_chunk, 4, [&](sqlite::Statement& s) {
    s.bind(1, device_row);
    s.bind(2, before_ms);
    s.bind(3, sqlite::to_sql(max_seq));
  });
}

Result<void> Store::Impl::delete_rejected_before(std::int64_t device_row, std::int64_t before_ms,
                                                 std::uint64_t max_seq) {
  auto deleted = delete_in_chunks(statements_.rejected_delete_chunk, 4, [&](sqlite::Statement& s) {
    s.bind(1, device_row);
    s.bind(2, before_ms);
    s.bind(3, sqlite::to_sql(max_seq));
  });
  if (!deleted) return std::move(deleted).error();
  return {};
}

}  // namespace kelvin::store
