// Ingest: idempotent storage of a batch and the ack watermark; the rollups follow (rollups.cpp).
//
// Watermark method. Per device the database holds the watermark W (devices.watermark) and the
// consumed seqs above it (rows of `readings` and `rejected` with seq > W, and ranges in
// `consumed_elsewhere` that other gateways reported). The first commit that touches a device in
// this connection loads W and those seqs — one range scan per table, normally empty — into
// DeviceProgress, whose SeqIntervals keeps them as runs. A reading is a duplicate
// iff seq <= W or seq is in a run; after the inserts W advances over the run that starts at
// W + 1. In-order traffic therefore costs no extra query at all. The cache is dropped when the
// transaction fails, and when another connection (kelvinctl) committed in the meantime, which
// PRAGMA data_version reveals.
//
// Claimed floors. A device's status oldest_seq F says "I hold nothing below F": a seq below F that
// never arrived never will, and is given up so the ack can pass it. The claim is not trusted
// further than the device's own traffic: the store keeps the highest claim (devices.claimed_floor)
// and at every commit that touches the device moves the watermark to
//   through = min(claim - 1, the highest seq consumed: the watermark or the highest pending seq)
// counting the seqs it passes that were not consumed as given up. A claim can therefore never give
// up a seq above the highest seq the device really sent (or a peer gateway reported), and a claim
// that arrives before the readings it concerns (a device resending its outbox after a long time
// offline) takes effect when they arrive. For an honest device, whose consumed seqs reach F - 1
// (or beyond) in the same commit, this is the same as moving the watermark to F - 1 at once.

#include <algorithm>
#include <cmath>
#include <compare>
#include <cstddef>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "kelvin/core/identity.hpp"
#include "reading_values.hpp"
#include "store_impl.hpp"

namespace kelvin::store {
namespace {

using sqlite::StatementReset;

// The decoder guarantees most of this; checking again keeps a caller's bug (or a seq beyond what
// SQLite's signed integers hold) from storing data the rest of the store cannot represent.
bool seq_is_representable(std::uint64_t seq) {
  return seq >= 1 && seq <= sqlite::kMaxSqlInteger;
}
bool time_is_representable(std::int64_t ms) {
  return ms >= 0 && ms <= kMaxTimestampMs;
}

bool is_representable(const proto::Reading& reading) {
  if (!seq_is_representable(reading.seq) || !time_is_representable(reading.ts_ms)) return false;
  bool any_value = false;
  for (const auto& value : reading.values) {
    if (!value) continue;
    if (!std::isfinite(*value)) return false;
    any_value = true;
  }
  return any_value;
}

bool is_representable(const ConsumedSeq& consumed) {
  return seq_is_representable(consumed.seq) && time_is_representable(consumed.at_ms);
}

// What one commit does to one device.
struct TouchedDevice {
  std::string_view device_id;
  DeviceProgress* progress = nullptr;  // points into Impl::progress_ (std::map: stable)
  std::uint64_t stored = 0;
  std::uint64_t rejected = 0;
  std::vector<std::uint64_t> stored_now;  // the seqs this commit stored, for DeviceAck::stored
};

// Counts add up without wrapping: a saturated count still says "at least this many".
std::size_t saturating_add(std::size_t total, std::uint64_t more) {
  constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
  return more >= kMax - total ? kMax : total + static_cast<std::size_t>(more);
}

// Applies the device's claimed floor after the commit's seqs are in `pending` and the watermark
// has advanced over them (see the top of this file): moves the watermark to
// min(claim - 1, highest consumed) and on over the run that follows. Returns how many seqs it gave
// up (passed without their being consumed): at most 2^63 - 2, as the highest consumed seq is
// representable.
std::uint64_t apply_claimed_floor(DeviceProgress& progress) {
  if (progress.claimed_floor <= 1) return 0;
  const std::uint64_t highest_consumed = std::max(progress.watermark, progress.pending.highest());
  const std::uint64_t through = std::min(progress.claimed_floor - 1, highest_consumed);
  if (through <= progress.watermark) return 0;
  const std::uint64_t given_up =
      (through - progress.watermark) - progress.pending.count_between(progress.watermark + 1, through);
  progress.watermark = progress.pending.advance(through);
  return given_up;
}

}  // namespace

Result<CommitSummary> Store::Impl::commit(const IngestBatch& batch, std::int64_t now_ms) {
  if (batch.readings.empty() && batch.rejected.empty() && batch.floors.empty() && batch.elsewhere.empty()) {
    return CommitSummary{};
  }
  auto summary = commit_in_transaction(batch, now_ms);
  // The caches were updated as the transaction went; if it did not commit they are wrong.
  if (!summary) forget_caches();
  return summary;
}

Result<CommitSummary> Store::Impl::commit_in_transaction(const IngestBatch& batch, std::int64_t now_ms) {
  auto transaction = sqlite::Transaction::begin(db_.get());
  if (!transaction) return std::move(transaction).error();
  if (auto fresh = forget_if_changed(); !fresh) return std::move(fresh).error();

  CommitSummary summary;
  std::vector<TouchedDevice> touched;
  std::map<std::string_view, std::size_t, std::less<>> touched_index;
  // A device with a malformed id is skipped (nullopt): it cannot be stored and gets no ack.
  auto touch = [&](std::string_view device_id) -> Result<std::optional<std::size_t>> {
    if (auto found = touched_index.find(device_id); found != touched_index.end()) {
      return std::optional<std::size_t>(found->second);
    }
    if (!validate_device_id(device_id)) return std::optional<std::size_t>();
    auto progress = progress_of(device_id);
    if (!progress) return std::move(progress).error();
    touched.push_back(TouchedDevice{device_id, *progress, 0, 0, {}});
    touched_index.emplace(device_id, touched.size() - 1);
    return std::optional<std::size_t>(touched.size() - 1);
  };

  // What other gateways consumed comes first: a reading one of them stored is a duplicate here.
  std::optional<RetentionHorizons> horizons;  // loaded when a withdrawal needs them
  for (const auto& range : batch.elsewhere) {
    auto index = touch(range.device_id);
    if (!index) return std::move(index).error();
    if (!*index || range.first_seq == 0 || range.first_seq > range.last_seq || !seq_is_representable(range.last_seq)) {
      ++summary.invalid;
      continue;
    }
    DeviceProgress& progress = *touched[**index].progress;
    if (range.withdraw_own_copies) {
      if (!horizons) {
        auto loaded = load_horizons();
        if (!loaded) return std::move(loaded).error();
        horizons = *loaded;
      }
      if (auto withdrawn = withdraw_readings(progress, range.first_seq, range.last_seq, horizons->raw_ms, summary);
          !withdrawn) {
        return std::move(withdrawn).error();
      }
    }
    auto recorded = record_elsewhere(progress, range.first_seq, range.last_seq);
    if (!recorded) return std::move(recorded).error();
  }

  // Readings next, so a seq that is both stored and rejected in one batch ends up stored.
  auto last_position = last_export_position();
  if (!last_position) return std::move(last_position).error();
  const std::int64_t first_position = *last_position + 1;
  for (const auto& item : batch.readings) {
    auto index = touch(item.device_id);
    if (!index) return std::move(index).error();
    if (!*index || !is_representable(item.reading)) {
      ++summary.invalid;
      continue;
    }
    TouchedDevice& device = touched[**index];
    DeviceProgress& progress = *device.progress;
    const proto::Reading& reading = item.reading;
    if (reading.seq <= progress.watermark || progress.pending.contains(reading.seq)) {
      ++summary.duplicates;
      continue;
    }

    auto& insert = statements_.reading_insert;
    StatementReset reset_insert(insert);
    insert.bind(1, ++*last_position);
    insert.bind(2, progress.row_id);
    insert.bind(3, sqlite::to_sql(reading.seq));
    insert.bind(4, reading.ts_ms);
    insert.bind(5, now_ms);
    bind_values(insert, 6, reading);
    if (auto done = insert.run(); !done) return std::move(done).error();

    // The series exists from the reading's commit on (queries find the device's data through
    // it); its rollups follow when the readings are folded (rollups.cpp).
    for (const auto& quantity : proto::kQuantities) {
      if (!reading.value(quantity.quantity)) continue;
      if (auto series = series_of(progress.row_id, quantity.quantity); !series) return std::move(series).error();
    }
    progress.pending.insert(reading.seq);
    device.stored_now.push_back(reading.seq);
    ++device.stored;
    ++summary.stored;
  }

  for (const auto& consumed : batch.rejected) {
    auto index = touch(consumed.device_id);
    if (!index) return std::move(index).error();
    if (!*index || !is_representable(consumed)) {
      ++summary.invalid;
      continue;
    }
    TouchedDevice& device = touched[**index];
    DeviceProgress& progress = *device.progress;
    if (consumed.seq <= progress.watermark || progress.pending.contains(consumed.seq)) continue;
    auto& insert = statements_.rejected_insert;
    StatementReset reset_insert(insert);
    insert.bind(1, progress.row_id);
    insert.bind(2, sqlite::to_sql(consumed.seq));
    insert.bind(3, proto::to_string(consumed.reason));
    insert.bind(4, consumed.at_ms);
    if (auto done = insert.run(); !done) return std::move(done).error();
    progress.pending.insert(consumed.seq);
    ++device.rejected;
    ++summary.rejected_recorded;
  }

  // A floor only raises the device's claim here; the claim acts below, after this batch's seqs are
  // in, so a reading that arrived is never counted as given up. 0 is no claim (oldest_seq >= 1).
  // A claim above 2^63-1 is held as 2^63-1: no seq above that is representable, so it can change
  // nothing, since a claim never gives up more than the highest seq consumed.
  for (const auto& floor : batch.floors) {
    auto index = touch(floor.device_id);
    if (!index) return std::move(index).error();
    if (!*index || floor.first_held_seq == 0) continue;
    DeviceProgress& progress = *touched[**index].progress;
    const std::uint64_t claim = std::min(floor.first_held_seq, sqlite::kMaxSqlInteger);
    progress.claimed_floor = std::max(progress.claimed_floor, claim);
  }

  if (*last_position >= first_position) {
    auto& update = statements_.export_position_update;
    StatementReset reset_update(update);
    update.bind(1, *last_position);
    if (auto done = update.run(); !done) return std::move(done).error();
    summary.last_position = sqlite::from_sql_unsigned(*last_position);
  }
  auto fold = fold_due(now_ms, *last_position);
  if (!fold) return std::move(fold).error();
  if (*fold) {
    if (auto folded = fold_rollups(); !folded) return std::move(folded).error();
  }

  summary.acks.reserve(touched.size());
  for (TouchedDevice& device : touched) {
    DeviceProgress& progress = *device.progress;
    progress.watermark = progress.pending.advance(progress.watermark);
    // Every commit that touches the device, not only one with a floor: a claim held since an
    // earlier status takes effect as the readings it concerns arrive.
    summary.given_up = saturating_add(summary.given_up, apply_claimed_floor(progress));
    if (progress.elsewhere_rows) {
      // Ranges at or below the watermark say nothing any more.
      auto& prune = statements_.elsewhere_prune;
      StatementReset reset_prune(prune);
      prune.bind(1, progress.row_id);
      prune.bind(2, sqlite::to_sql(progress.watermark));
      if (auto done = prune.run(); !done) return std::move(done).error();
      progress.elsewhere_rows = !progress.pending.empty();
    }
    auto& update = statements_.device_after_commit;
    StatementReset reset_update(update);
    update.bind(1, progress.row_id);
    update.bind(2, sqlite::to_sql(progress.watermark));
    update.bind(3, now_ms);
    update.bind(4, sqlite::to_sql(device.stored));
    update.bind(5, sqlite::to_sql(device.rejected));
    update.bind(6, sqlite::to_sql(progress.claimed_floor));
    if (auto done = update.run(); !done) return std::move(done).error();
    DeviceAck ack{std::string(device.device_id), progress.watermark, {}};
    // Stored seqs are distinct (a repeat is a duplicate): sort, then join neighbours into runs.
    std::sort(device.stored_now.begin(), device.stored_now.end());
    for (std::uint64_t seq : device.stored_now) {
      if (!ack.stored.empty() && ack.stored.back().last + 1 == seq) {
        ack.stored.back().last = seq;
      } else {
        ack.stored.push_back(SeqRun{seq, seq});
      }
    }
    summary.acks.push_back(std::move(ack));
  }

  if (auto committed = transaction->commit(); !committed) return std::move(committed).error();
  if (*fold) last_fold_ms_ = now_ms;
  return summary;
}

Result<std::int64_t> Store::Impl::last_export_position() {
  auto& select = statements_.export_position_select;
  StatementReset reset(select);
  auto row = select.step();
  if (!row) return std::move(row).error();
  if (!*row) return make_error(Errc::corrupt, path_.string() + ": the export_position counter is missing");
  return select.column_int64(0);
}

Result<std::uint64_t> Store::Impl::acked_seq(std::string_view device_id) {
  if (auto id = validate_device_id(device_id); !id) return std::move(id).error();
  auto& select = statements_.watermark_by_name;
  StatementReset reset(select);
  select.bind(1, device_id);
  auto row = select.step();
  if (!row) return std::move(row).error();
  return *row ? sqlite::from_sql_unsigned(select.column_int64(0)) : 0;
}

Result<DeviceProgress*> Store::Impl::progress_of(std::string_view device_id) {
  if (auto found = progress_.find(device_id); found != progress_.end()) return &found->second;

  {
    auto& ensure = statements_.device_ensure;
    StatementReset reset(ensure);
    ensure.bind(1, device_id);
    if (auto done = ensure.run(); !done) return std::move(done).error();
  }
  DeviceProgress progress;
  {
    auto& select = statements_.device_progress;
    StatementReset reset(select);
    select.bind(1, device_id);
    auto row = select.step();
    if (!row) return std::move(row).error();
    if (!*row) return make_error(Errc::io, "device '" + std::string(device_id) + "' vanished during a commit");
    progress.row_id = select.column_int64(0);
    progress.watermark = sqlite::from_sql_unsigned(select.column_int64(1));
    progress.claimed_floor = sqlite::from_sql_unsigned(select.column_int64(2));
  }
  {
    auto& select = statements_.pending_seqs;
    StatementReset reset(select);
    select.bind(1, progress.row_id);
    select.bind(2, sqlite::to_sql(progress.watermark));
    for (;;) {
      auto row = select.step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      progress.pending.insert(sqlite::from_sql_unsigned(select.column_int64(0)));
    }
  }
  {
    auto& select = statements_.elsewhere_pending;
    StatementReset reset(select);
    select.bind(1, progress.row_id);
    select.bind(2, sqlite::to_sql(progress.watermark));
    for (;;) {
      auto row = select.step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      const std::uint64_t first = sqlite::from_sql_unsigned(select.column_int64(0));
      const std::uint64_t last = sqlite::from_sql_unsigned(select.column_int64(1));
      progress.pending.insert_range(first > progress.watermark ? first : progress.watermark + 1, last);
      progress.elsewhere_rows = true;
    }
  }
  auto [inserted, ignored] = progress_.emplace(std::string(device_id), std::move(progress));
  return &inserted->second;
}

Result<std::uint64_t> Store::Impl::record_elsewhere(DeviceProgress& progress, std::uint64_t first, std::uint64_t last) {
  if (last <= progress.watermark) return std::uint64_t{0};
  if (first <= progress.watermark) first = progress.watermark + 1;
  const std::uint64_t added = progress.pending.insert_range(first, last);
  if (added == 0) return added;  // nothing new: no row needed
  auto& upsert = statements_.elsewhere_upsert;
  StatementReset reset(upsert);
  upsert.bind(1, progress.row_id);
  upsert.bind(2, sqlite::to_sql(first));
  upsert.bind(3, sqlite::to_sql(last));
  if (auto done = upsert.run(); !done) return std::move(done).error();
  progress.elsewhere_rows = true;
  return added;
}

Result<std::vector<DeviceConsumption>> Store::Impl::consumption() {
  std::vector<DeviceConsumption> devices;
  std::map<std::string, std::size_t, std::less<>> index;
  {
    auto& select = statements_.devices_watermarks_by_name;
    StatementReset reset(select);
    for (;;) {
      auto row = select.step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      DeviceConsumption device;
      device.device_id = select.column_text(0);
      device.watermark = sqlite::from_sql_unsigned(select.column_int64(1));
      index.emplace(device.device_id, devices.size());
      devices.push_back(std::move(device));
    }
  }
  std::vector<SeqIntervals> above(devices.size());
  {
    auto& select = statements_.consumed_above_watermarks;
    StatementReset reset(select);
    for (;;) {
      auto row = select.step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      auto found = index.find(select.column_text(0));
      // A device created by a commit between the two reads: it has nothing to report yet.
      if (found == index.end()) continue;
      above[found->second].insert_range(sqlite::from_sql_unsigned(select.column_int64(1)),
                                        sqlite::from_sql_unsigned(select.column_int64(2)));
    }
  }
  for (std::size_t i = 0; i < devices.size(); ++i) {
    for (const auto& [first, last] : above[i].runs()) devices[i].above.push_back(SeqRun{first, last});
  }
  return devices;
}

Result<std::int64_t> Store::Impl::series_of(std::int64_t device_row, proto::Quantity quantity) {
  const auto key = std::make_pair(device_row, quantity);
  if (auto found = series_ids_.find(key); found != series_ids_.end()) return found->second;
  const std::string_view name = proto::info(quantity).name;
  {
    auto& ensure = statements_.series_ensure;
    StatementReset reset(ensure);
    ensure.bind(1, device_row);
    ensure.bind(2, name);
    if (auto done = ensure.run(); !done) return std::move(done).error();
  }
  auto& select = statements_.series_id;
  StatementReset reset(select);
  select.bind(1, device_row);
  select.bind(2, name);
  auto row = select.step();
  if (!row) return std::move(row).error();
  if (!*row) return make_error(Errc::io, "series '" + std::string(name) + "' vanished during a commit");
  const std::int64_t id = select.column_int64(0);
  series_ids_.emplace(key, id);
  return id;
}

Result<void> Store::Impl::note_data_version() {
  auto& select = statements_.data_version;
  StatementReset reset(select);
  auto row = select.step();
  if (!row) return std::move(row).error();
  data_version_ = *row ? select.column_int64(0) : 0;
  return {};
}

Result<void> Store::Impl::forget_if_changed() {
  const std::int64_t before = data_version_;
  if (auto noted = note_data_version(); !noted) return noted;
  if (data_version_ != before) forget_caches();
  return {};
}

void Store::Impl::forget_caches() noexcept {
  progress_.clear();
  series_ids_.clear();
}

}  // namespace kelvin::store
