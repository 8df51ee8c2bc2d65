#pragma once
// Store::Impl: the connection, its prepared statements and the caches that keep ingest cheap.
// Its operations are implemented one concern per file: ingest.cpp, query.cpp, retention.cpp,
// devices.cpp; opening is in store.cpp.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "buckets.hpp"
#include "kelvin/store/store.hpp"
#include "query_plan.hpp"
#include "seq_intervals.hpp"
#include "sqlite.hpp"
#include "statements.hpp"

namespace kelvin::store {

// A device's ingest state, loaded from the database the first time a commit touches the device.
struct DeviceProgress {
  std::int64_t row_id = 0;          // devices.id
  std::uint64_t watermark = 0;      // devices.watermark
  std::uint64_t claimed_floor = 0;  // devices.claimed_floor: the highest oldest_seq reported, 0 if none
  SeqIntervals pending;             // consumed seqs above the watermark (readings, rejected, elsewhere)
  bool elsewhere_rows = false;      // consumed_elsewhere may hold rows for this device: prune them
};

// Binds a rollup row to ?1..?10 in the order of rollup_upsert and rollup_replace (statements.cpp):
// series, width, bucket start, then the statistics.
void bind_rollup_row(sqlite::Statement& statement, std::int64_t series, std::int64_t width_ms,
                     std::int64_t bucket_start_ms, const BucketStats& stats);

// What the readings after the rollup position add to the rollups of one width, per (device row,
// bucket start), in that order (rollups.cpp).
using UnrolledBuckets = std::map<std::pair<std::int64_t, std::int64_t>, BucketStats>;

class Store::Impl {
 public:
  Impl(sqlite::DatabasePtr db, Statements statements, std::filesystem::path path, StoreOptions options)
      : db_(std::move(db)), statements_(std::move(statements)), path_(std::move(path)), options_(options) {}

  Result<CommitSummary> commit(const IngestBatch& batch, std::int64_t now_ms);
  // The export position last handed out (counters.export_position): the commit reads it inside
  // its transaction; Store::last_export_position on its own.
  Result<std::int64_t> last_export_position();
  Result<std::uint64_t> acked_seq(std::string_view device_id);
  Result<std::vector<DeviceConsumption>> consumption();
  Result<QueryResult> query(const Query& query);
  Result<std::vector<DeviceBuckets>> fleet_hours(const FleetHoursQuery& query);
  Result<RetentionReport> apply_retention(std::int64_t now_ms);
  Result<void> register_device(std::string_view device_id, std::int64_t now_ms, const std::vector<std::string>& labels);
  Result<std::vector<std::string>> change_device_labels(std::string_view device_id, const std::vector<std::string>& add,
                                                        const std::vector<std::string>& remove);
  Result<std::vector<std::string>> set_device_labels(std::string_view device_id,
                                                     const std::vector<std::string>& labels);
  Result<std::vector<std::string>> devices_with_label(std::string_view label);
  Result<void> record_status(std::string_view device_id, const DeviceStatus& status);
  Result<std::vector<DeviceInfo>> list_devices();
  Result<std::vector<StatusStateCount>> count_devices_by_status();
  Result<std::optional<DeviceInfo>> device(std::string_view device_id);
  Result<std::vector<RejectionCount>> rejections_by_reason(std::string_view device_id);
  Result<void> remove_device(std::string_view device_id, bool purge_data);
  Result<ExportBatch> read_export_batch(std::uint64_t after_position, std::size_t max_readings);
  Result<std::uint64_t> export_cursor(std::string_view exporter);
  Result<void> advance_export_cursor(std::string_view exporter, std::uint64_t position, std::int64_t now_ms);
  Result<ExportBacklog> export_backlog(std::uint64_t after_position);

  // Remembers the connection's data_version; later calls to forget_if_changed compare against it.
  Result<void> note_data_version();

 private:
  // ---- ingest.cpp ----
  // The body of commit(), inside its transaction; commit() drops the caches if this fails.
  Result<CommitSummary> commit_in_transaction(const IngestBatch& batch, std::int64_t now_ms);
  Result<DeviceProgress*> progress_of(std::string_view device_id);
  // Records [first, last] as consumed elsewhere (the part above the watermark); returns how many
  // seqs were not consumed before.
  Result<std::uint64_t> record_elsewhere(DeviceProgress& progress, std::uint64_t first, std::uint64_t last);

  // ---- rollups.cpp ----
  // counters.rollup_position: the rollups hold every reading up to it.
  Result<std::int64_t> rollup_position();
  // Whether a commit at now_ms whose last export position is `last_position` folds.
  Result<bool> fold_due(std::int64_t now_ms, std::int64_t last_position);
  // Folds the readings after the rollup position into the rollups and moves the position to the
  // last export position, inside the caller's write transaction.
  Result<void> fold_rollups();
  // What the readings after the rollup position add to the rollups of `quantity` at `width_ms`,
  // of buckets starting in [start_ms, end_ms), of one device row or of every device (nullopt).
  // Inside the caller's read transaction, so the rollups it is added to are of the same moment.
  Result<UnrolledBuckets> unrolled_buckets(std::optional<std::int64_t> device_row, proto::Quantity quantity,
                                           std::int64_t width_ms, std::int64_t start_ms, std::int64_t end_ms);

  // ---- withdraw.cpp ----
  // Deletes this store's copies of the device's readings with seq in [first, last] (the rollups of
  // the buckets they were in are recomputed from the remaining readings), except those whose hour
  // bucket starts before `raw_horizon_ms` (retention thinned the readings it would be recomputed
  // from): those are kept. Adds to summary.withdrawn / duplicates_kept.
  Result<void> withdraw_readings(const DeviceProgress& progress, std::uint64_t first, std::uint64_t last,
                                 std::int64_t raw_horizon_ms, CommitSummary& summary);
  Result<std::int64_t> series_of(std::int64_t device_row, proto::Quantity quantity);
  // Drops the caches when another connection committed since they were filled. Call inside a
  // write transaction, so nobody can commit between the check and the use.
  Result<void> forget_if_changed();
  void forget_caches() noexcept;

  // ---- retention.cpp (also used by purge) ----
  Result<std::uint64_t> delete_rollups_ending_by(std::int64_t series, std::int64_t width_ms, std::int64_t end_ms);
  // Readings rows older than before_ms with seq <= max_seq; returns how many went.
  Result<std::uint64_t> delete_readings_before(std::int64_t device_row, std::int64_t before_ms, std::uint64_t max_seq);
  Result<void> delete_rejected_before(std::int64_t device_row, std::int64_t before_ms, std::uint64_t max_seq);
  Result<RetentionHorizons> load_horizons();

  // ---- devices.cpp ----
  Result<DeviceInfo> device_from_row(sqlite::Statement& row);
  // ---- labels.cpp ----
  // The labels of the device with row id `device_row`, sorted.
  Result<std::vector<std::string>> labels_of(std::int64_t device_row);
  // Every device's labels by row id, sorted: one scan of device_labels for a whole listing.
  Result<std::map<std::int64_t, std::vector<std::string>>> labels_by_device();
  // Inside the caller's transaction: the device's labels become `labels` (checked, each once).
  Result<void> write_labels(std::int64_t device_row, const std::vector<std::string>& labels);
  Result<std::optional<proto::Reading>> last_reading_of(std::int64_t device_row);

  // Members are destroyed in reverse order: statements are finalized before the connection closes.
  sqlite::DatabasePtr db_;
  Statements statements_;
  std::filesystem::path path_;
  StoreOptions options_;

  std::map<std::string, DeviceProgress, std::less<>> progress_;
  std::map<std::pair<std::int64_t, proto::Quantity>, std::int64_t> series_ids_;
  std::int64_t data_version_ = 0;
  std::optional<std::int64_t> last_fold_ms_;  // the commit time of this connection's last fold
};

// Rows per DELETE statement in retention and purge: small enough that a concurrent commit waits
// milliseconds, not seconds, for the write lock.
inline constexpr std::int64_t kDeleteChunkRows = 10'000;

// Latest timestamp the store accepts (9999-12-31T23:59:59.999Z); keeps bucket arithmetic and the
// "delete everything" sentinel (INT64_MAX) out of overflow territory.
inline constexpr std::int64_t kMaxTimestampMs = 253'402'300'799'999;

}  // namespace kelvin::store
