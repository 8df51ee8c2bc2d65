// Withdrawing this store's copy of a reading that a peer gateway sharing the broker stored too
// (ConsumedRange::withdraw_own_copies, docs/scaling.md): a resend can race the original to two
// gateways, and the one with the higher identity gives its copy up, so each reading is stored
// once across them. Rare (a gateway lost readings in flight and the device resent), so it favours
// simplicity: the rollup buckets a withdrawn reading was in are recomputed from the readings left.

#include <set>
#include <tuple>
#include <vector>

#include "buckets.hpp"
#include "reading_values.hpp"
#include "store_impl.hpp"

namespace kelvin::store {
namespace {

using sqlite::StatementReset;

}  // namespace

Result<void> Store::Impl::withdraw_readings(const DeviceProgress& progress, std::uint64_t first, std::uint64_t last,
                                            std::int64_t raw_horizon_ms, CommitSummary& summary) {
  struct Copy {
    std::uint64_t seq;
    std::int64_t ts_ms;
  };
  std::vector<Copy> copies;
  {
    auto& select = statements_.readings_in_seq_range;
    StatementReset reset(select);
    select.bind(1, progress.row_id);
    select.bind(2, sqlite::to_sql(first));
    select.bind(3, sqlite::to_sql(last));
    for (;;) {
      auto row = select.step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      copies.push_back({sqlite::from_sql_unsigned(select.column_int64(0)), select.column_int64(1)});
    }
  }
  if (copies.empty()) return {};
  // The buckets are recomputed from the readings below: the rollups must hold all of them first,
  // or a later fold would add the unrolled ones a second time.
  if (auto folded = fold_rollups(); !folded) return folded;

  struct Series {
    std::int64_t id;
    proto::Quantity quantity;
  };
  std::vector<Series> series;
  {
    auto& select = statements_.series_of_device;
    StatementReset reset(select);
    select.bind(1, progress.row_id);
    for (;;) {
      auto row = select.step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      if (auto quantity = proto::parse_quantity(select.column_text(1))) {
        series.push_back({select.column_int64(0), *quantity});
      }
    }
  }

  // (series index, width, start) of every bucket a withdrawn reading was in.
  std::set<std::tuple<std::size_t, std::int64_t, std::int64_t>> buckets;
  std::int64_t withdrawn = 0;
  for (const Copy& copy : copies) {
    // Every bucket it was in is recomputed from raw readings, so the widest must lie wholly
    // after the raw horizon; a copy older than that stays, as an accepted duplicate.
    const auto widest = align_down(copy.ts_ms, kWidestRollupMs);
    if (!widest || *widest < raw_horizon_ms) {
      ++summary.duplicates_kept;
      continue;
    }
    auto& remove = statements_.reading_delete;
    StatementReset reset_remove(remove);
    remove.bind(1, progress.row_id);
    remove.bind(2, sqlite::to_sql(copy.seq));
    if (auto done = remove.run(); !done) return std::move(done).error();
    for (std::size_t index = 0; index < series.size(); ++index) {
      for (std::int64_t width : kRollupWidthsMs)
        buckets.emplace(index, width, align_down(copy.ts_ms, width).value_or(0));
    }
    ++withdrawn;
    ++summary.withdrawn;
  }
  if (withdrawn == 0) return {};

  for (const auto& [index, width, start] : buckets) {
    const std::int64_t id = series[index].id;
    const int value_column = kTimeRangeFirstValue + value_index(series[index].quantity);
    BucketStats stats;
    {
      auto& select = statements_.readings_in_time_range;
      StatementReset reset(select);
      select.bind(1, progress.row_id);
      select.bind(2, start);
      select.bind(3, start + width);
      for (;;) {
        auto row = select.step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        if (select.column_is_null(value_column)) continue;
        stats.add(select.column_int64(0), sqlite::from_sql_unsigned(select.column_int64(1)),
                  select.column_double(value_column));
      }
    }
    if (stats.count == 0) {
      auto& remove = statements_.rollup_delete;
      StatementReset reset(remove);
      remove.bind(1, id);
      remove.bind(2, width);
      remove.bind(3, start);
      if (auto done = remove.run(); !done) return std::move(done).error();
      continue;
    }
    auto& replace = statements_.rollup_replace;
    StatementReset reset(replace);
    bind_rollup_row(replace, id, width, start, stats);
    if (auto done = replace.run(); !done) return std::move(done).error();
  }

  auto& uncount = statements_.device_uncount_readings;
  StatementReset reset(uncount);
  uncount.bind(1, progress.row_id);
  uncount.bind(2, withdrawn);
  return uncount.run();
}

}  // namespace kelvin::store
