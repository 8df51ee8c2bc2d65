#pragma once
// kelvin's embedded time-series store on SQLite: the durable landing of every reading (see
// docs/architecture.md, "Delivery guarantee", and docs/store.md).
//
// Contract in short:
//  - Idempotent by (device, seq): a reading is stored at most once; a resend, a repeat within a
//    batch, or any seq at or below the device's ack is a duplicate.
//  - Ack = highest contiguous consumed seq (stored or recorded as rejected), persisted in the same
//    transaction as the data. A commit that returned is durable (WAL, synchronous=FULL).
//  - Minute and hour rollups are maintained in the commit's transaction, so queries over long
//    ranges read rollups and give the same answer as the raw samples would.
//  - Retention deletes old readings, rollups and rejection records but never lowers an ack.
//  - Expected failures return Result with a one-line message; nothing throws.

#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/store/types.hpp"

namespace kelvin::store {

// One SQLite connection. Movable, not copyable; use from one thread at a time. Several processes
// (the gateway, kelvinctl) may open the same file: writes serialise on SQLite's lock, waiting up
// to StoreOptions::busy_timeout_ms, and each Store notices the others' commits.
class Store {
 public:
  // Opens `db_file`, creating it (mode 0600, in an existing directory) with the current schema if
  // it does not exist. Errors: Errc::corrupt for a file that is not a kelvin store, Errc::conflict
  // for a schema newer than this build, Errc::io / permission_denied / not_found when the file
  // cannot be created or opened, Errc::invalid_argument for negative retention days or timeout.
  static Result<Store> open(const std::filesystem::path& db_file, const StoreOptions& options = {});

  Store(Store&& other) noexcept;
  Store& operator=(Store&& other) noexcept;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();

  // Stores a batch in one transaction; devices not seen before are created (the broker has
  // authenticated them). Publish the returned acks only after this returns ok; on failure nothing
  // of the batch is stored and the same batch can be retried. Items the store cannot represent are
  // skipped and counted (CommitSummary::invalid), never a reason to fail the whole batch.
  Result<CommitSummary> commit(const IngestBatch& batch, std::int64_t now_ms);

  // The device's current ack (0 for a device never seen).
  Result<std::uint64_t> acked_seq(std::string_view device_id);

  // Every device's consumption (watermark and the runs above it), sorted by device id: what a
  // gateway tells the other gateways sharing its broker when one of them joins (docs/scaling.md).
  Result<std::vector<DeviceConsumption>> consumption();

  // Buckets of one series; see Query for the range semantics. An unknown device or a quantity it
  // never reported gives no buckets. Errc::invalid_argument for a malformed query.
  Result<QueryResult> query(const Query& query);

  // Every device's hour buckets of one quantity (FleetHoursQuery), sorted by device id; devices
  // with no reading of it in the range are left out. Hour rollups are kept longest (hour_days), so
  // retention rarely thins this. Errc::invalid_argument for a range that is not whole hours, is
  // empty or spans more than kMaxFleetHoursSpanMs.
  Result<std::vector<DeviceBuckets>> fleet_hours(const FleetHoursQuery& query);

  // Deletes readings (raw values) and rejection records older than raw_days, minute rollups older than
  // minute_days and hour rollups older than hour_days (whole buckets ending at or before the
  // cutoff), in chunks of at most 10,000 rows per statement so other writers are not blocked for
  // long. Acks are untouched: a resend of a deleted reading is still a duplicate.
  Result<RetentionReport> apply_retention(std::int64_t now_ms);

  // Registers a device explicitly, with `labels` (kelvin/core/identity.hpp's grammar, at most
  // kMaxLabelsPerDevice; a label given twice counts once), in one transaction: registered with all
  // of them or not at all. Errc::already_exists if it is registered; a device known only from
  // telemetry or status becomes registered (keeping the labels it has). Errc::invalid_argument for
  // a malformed label or too many.
  Result<void> register_device(std::string_view device_id, std::int64_t now_ms,
                               const std::vector<std::string>& labels = {});

  // ---- Labels (docs/registry.md, "Labels") ----
  // A device the store knows (registered, or seen) carries zero or more labels. Each change is one
  // transaction and returns the device's labels after it, sorted; a refused change changes
  // nothing. Errc::invalid_argument for a malformed label (the message names it) and when the
  // device would carry more than kMaxLabelsPerDevice, Errc::not_found for a device the store does
  // not know.

  // Adds `add` and takes `remove` away. Adding a label the device carries, or removing one it does
  // not, changes nothing; a label in both lists is Errc::invalid_argument.
  Result<std::vector<std::string>> change_device_labels(std::string_view device_id, const std::vector<std::string>& add,
                                                        const std::vector<std::string>& remove);
  // Replaces the device's labels with `labels` (empty: none).
  Result<std::vector<std::string>> set_device_labels(std::string_view device_id,
                                                     const std::vector<std::string>& labels);
  // The ids of the devices carrying `label`, sorted; empty when none does. Errc::invalid_argument
  // for a malformed label.
  Result<std::vector<std::string>> devices_with_label(std::string_view label);

  // Replaces the device's status (creating an unregistered device if unknown) and updates its
  // last_seen_ms to status.at_ms if that is later.
  // An offline status (the last will) keeps the firmware and drop count last reported; a status
  // without firmware or release check (empty) keeps the one last reported. Errc::invalid_argument
  // for a release check that is not a code (proto::is_valid_release_check).
  Result<void> record_status(std::string_view device_id, const DeviceStatus& status);

  // Every known device, sorted by id.
  Result<std::vector<DeviceInfo>> list_devices();
  // The known devices counted by their last status's state, sorted by state ("" first: never
  // reported). One pass over the devices table, without what list_devices gathers per device.
  Result<std::vector<StatusStateCount>> count_devices_by_status();
  Result<std::optional<DeviceInfo>> device(std::string_view device_id);
  // The device's rejection records by reason, sorted by reason name; empty for an unknown device.
  // Only the records retention keeps (RetentionPolicy::raw_days): DeviceInfo::rejected_total counts
  // every rejection ever. Costs a scan of the device's records, so ask for one device at a time.
  Result<std::vector<RejectionCount>> rejections_by_reason(std::string_view device_id);

  // Without purge: forgets registration, labels and status but keeps readings, rollups, rejections and the
  // ack (the device stays listed, unregistered, if it has any data; otherwise it disappears).
  // With purge: deletes the device and everything stored for it, including its ack — a device that
  // sends again afterwards starts from ack 0. Errc::not_found if the device is unknown.
  Result<void> remove_device(std::string_view device_id, bool purge_data);

  // ---- Export log (docs/store.md, "Export log") ----
  // Every stored reading gets the next export position at commit. An exporter reads the log after
  // its cursor, delivers, then moves the cursor: at-least-once delivery that survives restarts.

  // Up to max_readings readings after `after_position`, in position order.
  Result<ExportBatch> read_export_batch(std::uint64_t after_position, std::size_t max_readings);
  // The position of the last reading ever stored (0 in a new store): never goes back, also when
  // the newest readings were purged.
  Result<std::uint64_t> last_export_position();
  // The exporter's cursor (0 when it never exported). Names are short identifiers, e.g. "influxdb".
  Result<std::uint64_t> export_cursor(std::string_view exporter);
  // Moves the cursor forward (never back: a lower position is ignored).
  Result<void> advance_export_cursor(std::string_view exporter, std::uint64_t position, std::int64_t now_ms);
  Result<ExportBacklog> export_backlog(std::uint64_t after_position);

  class Impl;  // defined in src/store_impl.hpp

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kelvin::store
