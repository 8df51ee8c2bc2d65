// Queries: validation and resolution choice (query_plan.cpp), then one range scan of either the
// device's readings (the quantity's column) or a rollup width, folded into step-aligned buckets
// with the same BucketStats. A rollup answer adds the readings not folded into the rollups yet
// (rollups.cpp), read in the same read transaction.

#include <map>
#include <string>
#include <utility>

#include "buckets.hpp"
#include "kelvin/core/identity.hpp"
#include "reading_values.hpp"
#include "store_impl.hpp"

namespace kelvin::store {
namespace {

using sqlite::StatementReset;

// Collects rows arriving in ascending time order into ascending step buckets.
class BucketBuilder {
 public:
  explicit BucketBuilder(std::int64_t step_ms) : step_ms_(step_ms) {}

  // Precondition: ts_ms lies inside the planned (aligned) range, so aligning cannot fail.
  void add(std::int64_t ts_ms, const BucketStats& stats) {
    const std::int64_t start = align_down(ts_ms, step_ms_).value_or(ts_ms);
    if (!current_ || start != current_start_) {
      flush();
      current_ = BucketStats{};
      current_start_ = start;
    }
    current_->merge(stats);
  }

  std::vector<Bucket> finish() && {
    flush();
    return std::move(buckets_);
  }

 private:
  void flush() {
    if (current_ && current_->count > 0) buckets_.push_back(current_->to_bucket(current_start_));
    current_.reset();
  }

  std::int64_t step_ms_;
  std::optional<BucketStats> current_;
  std::int64_t current_start_ = 0;
  std::vector<Bucket> buckets_;
};

// A rollup row's statistics: min, max, sum, count, last_ts_ms, last_seq, last_value in that order
// from column `first` of the current row.
BucketStats rollup_stats(sqlite::Statement& row, int first) {
  BucketStats stats;
  stats.min = row.column_double(first);
  stats.max = row.column_double(first + 1);
  stats.sum = row.column_double(first + 2);
  stats.count = sqlite::from_sql_unsigned(row.column_int64(first + 3));
  stats.last_ts_ms = row.column_int64(first + 4);
  stats.last_seq = sqlite::from_sql_unsigned(row.column_int64(first + 5));
  stats.last_value = row.column_double(first + 6);
  return stats;
}

Result<void> check_fleet_hours(const FleetHoursQuery& query) {
  if (query.from_ms % kHourMs != 0 || query.to_ms % kHourMs != 0) {
    return make_error(Errc::invalid_argument, "a fleet query's range must start and end on whole hours");
  }
  if (query.from_ms >= query.to_ms) return make_error(Errc::invalid_argument, "a fleet query's range is empty");
  if (query.to_ms - query.from_ms > kMaxFleetHoursSpanMs) {
    return make_error(Errc::invalid_argument, "a fleet query spans at most 31 days");
  }
  return {};
}

}  // namespace

Result<std::vector<DeviceBuckets>> Store::Impl::fleet_hours(const FleetHoursQuery& query) {
  if (auto valid = check_fleet_hours(query); !valid) return std::move(valid).error();
  auto snapshot = sqlite::Transaction::begin_read(db_.get());
  if (!snapshot) return std::move(snapshot).error();

  // The unrolled buckets by device name, the order of the rollup rows. The keys come sorted by
  // device row, so each device's name is looked up once.
  auto unrolled = unrolled_buckets(std::nullopt, query.quantity, kHourMs, query.from_ms, query.to_ms);
  if (!unrolled) return std::move(unrolled).error();
  std::map<std::pair<std::string, std::int64_t>, BucketStats> pending;
  std::optional<std::int64_t> named_row;
  std::optional<std::string> name;  // nullopt: the device row is gone
  for (const auto& [key, stats] : *unrolled) {
    if (named_row != key.first) {
      auto& select = statements_.device_name_by_row;
      StatementReset reset(select);
      select.bind(1, key.first);
      auto row = select.step();
      if (!row) return std::move(row).error();
      named_row = key.first;
      name = *row ? std::optional<std::string>(select.column_text(0)) : std::nullopt;
    }
    if (name) pending.emplace(std::make_pair(*name, key.second), stats);
  }

  std::vector<DeviceBuckets> fleet;
  auto append = [&fleet](const std::string& device_id, std::int64_t start_ms, const BucketStats& stats) {
    if (fleet.empty() || fleet.back().device_id != device_id) fleet.push_back({device_id, {}});
    fleet.back().buckets.push_back(stats.to_bucket(start_ms));
  };
  auto next_pending = pending.begin();
  auto& select = statements_.fleet_rollups_in_range;
  StatementReset reset(select);
  select.bind(1, proto::info(query.quantity).name);
  select.bind(2, kHourMs);
  select.bind(3, query.from_ms);
  select.bind(4, query.to_ms);
  for (;;) {
    auto row = select.step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    const auto key = std::make_pair(select.column_text(0), select.column_int64(1));
    for (; next_pending != pending.end() && next_pending->first < key; ++next_pending) {
      append(next_pending->first.first, next_pending->first.second, next_pending->second);
    }
    BucketStats stats = rollup_stats(select, 2);
    if (next_pending != pending.end() && next_pending->first == key) stats.merge((next_pending++)->second);
    append(key.first, key.second, stats);
  }
  for (; next_pending != pending.end(); ++next_pending) {
    append(next_pending->first.first, next_pending->first.second, next_pending->second);
  }
  return fleet;
}

Result<QueryResult> Store::Impl::query(const Query& query) {
  if (auto id = validate_device_id(query.device_id); !id) return std::move(id).error();
  auto horizons = load_horizons();
  if (!horizons) return std::move(horizons).error();
  auto plan = plan_query(query, *horizons);
  if (!plan) return std::move(plan).error();

  QueryResult result;
  result.resolution = plan->resolution;
  auto snapshot = sqlite::Transaction::begin_read(db_.get());
  if (!snapshot) return std::move(snapshot).error();

  std::int64_t series = 0;
  std::int64_t device_row = 0;
  {
    auto& select = statements_.series_by_name;
    StatementReset reset(select);
    select.bind(1, query.device_id);
    select.bind(2, proto::info(query.quantity).name);
    auto row = select.step();
    if (!row) return std::move(row).error();
    if (!*row) return result;  // nothing was ever stored for this series
    series = select.column_int64(0);
    device_row = select.column_int64(1);
  }

  BucketBuilder builder(query.step_ms);
  if (auto width = rollup_width_ms(plan->resolution)) {
    // One device's unrolled buckets, in time order like the rollup rows they are merged into.
    auto unrolled = unrolled_buckets(device_row, query.quantity, *width, plan->start_ms, plan->end_ms);
    if (!unrolled) return std::move(unrolled).error();
    auto next_pending = unrolled->begin();
    auto& select = statements_.rollups_in_range;
    StatementReset reset(select);
    select.bind(1, series);
    select.bind(2, *width);
    select.bind(3, plan->start_ms);
    select.bind(4, plan->end_ms);
    for (;;) {
      auto row = select.step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      const std::int64_t start_ms = select.column_int64(0);
      for (; next_pending != unrolled->end() && next_pending->first.second < start_ms; ++next_pending) {
        builder.add(next_pending->first.second, next_pending->second);
      }
      BucketStats stats = rollup_stats(select, 1);
      if (next_pending != unrolled->end() && next_pending->first.second == start_ms) {
        stats.merge((next_pending++)->second);
      }
      builder.add(start_ms, stats);
    }
    for (; next_pending != unrolled->end(); ++next_pending)
      builder.add(next_pending->first.second, next_pending->second);
  } else {
    auto& select = statements_.readings_in_time_range;
    StatementReset reset(select);
    select.bind(1, device_row);
    select.bind(2, plan->start_ms);
    select.bind(3, plan->end_ms);
    const int value_column = kTimeRangeFirstValue + value_index(query.quantity);
    for (;;) {
      auto row = select.step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      if (select.column_is_null(value_column)) continue;  // no value of this quantity in the reading
      const std::int64_t ts_ms = select.column_int64(0);
      BucketStats stats;
      stats.add(ts_ms, sqlite::from_sql_unsigned(select.column_int64(1)), select.column_double(value_column));
      builder.add(ts_ms, stats);
    }
  }
  result.buckets = std::move(builder).finish();
  return result;
}

Result<RetentionHorizons> Store::Impl::load_horizons() {
  RetentionHorizons horizons;
  auto& select = statements_.horizons_select;
  StatementReset reset(select);
  for (;;) {
    auto row = select.step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    auto resolution = parse_resolution(select.column_text(0));
    const std::int64_t horizon = select.column_int64(1);
    if (!resolution) continue;  // the schema's CHECK makes this unreachable
    switch (*resolution) {
      case Resolution::raw:
        horizons.raw_ms = horizon;
        break;
      case Resolution::minute:
        horizons.minute_ms = horizon;
        break;
      case Resolution::hour:
        horizons.hour_ms = horizon;
        break;
      case Resolution::eight_hours:
        break;  // no row of its own (query_plan.hpp)
    }
  }
  return horizons;
}

}  // namespace kelvin::store
