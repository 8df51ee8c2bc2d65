// The device registry: status, listing and removal (registration and labels: labels.cpp).

#include <limits>
#include <string>
#include <vector>

#include "buckets.hpp"
#include "kelvin/core/identity.hpp"
#include "kelvin/proto/status.hpp"
#include "reading_values.hpp"
#include "store_impl.hpp"

namespace kelvin::store {
namespace {

using sqlite::StatementReset;

constexpr std::int64_t kEverything = std::numeric_limits<std::int64_t>::max();

// Columns of Statements::devices_list and Statements::device_by_name.
enum DeviceColumn : int {
  kRowId,
  kName,
  kRegisteredMs,
  kWatermark,
  kLastSeenMs,
  kReadingsStored,
  kRejectedTotal,
  kStatusState,
  kStatusFirmware,
  kStatusDroppedTotal,
  kStatusAtMs,
  kStatusReleaseCheck,
};

struct SeriesRow {
  std::int64_t id = 0;
  std::optional<proto::Quantity> quantity;
};

Result<std::vector<SeriesRow>> series_rows_of(sqlite::Statement& select, std::int64_t device_row) {
  std::vector<SeriesRow> rows;
  StatementReset reset(select);
  select.bind(1, device_row);
  for (;;) {
    auto row = select.step();
    if (!row) return std::move(row).error();
    if (!*row) return rows;
    rows.push_back(SeriesRow{select.column_int64(0), proto::parse_quantity(select.column_text(1))});
  }
}

}  // namespace

Result<void> Store::Impl::record_status(std::string_view device_id, const DeviceStatus& status) {
  if (auto id = validate_device_id(device_id); !id) return id;
  if (status.dropped_total > sqlite::kMaxSqlInteger) {
    return make_error(Errc::invalid_argument,
                      "status of device '" + std::string(device_id) + "': dropped_total is out of range");
  }
  if (!status.release_check.empty() && !proto::is_valid_release_check(status.release_check)) {
    return make_error(Errc::invalid_argument,
                      "status of device '" + std::string(device_id) + "': release_check is not a code");
  }
  auto& upsert = statements_.status_upsert;
  StatementReset reset(upsert);
  upsert.bind(1, device_id);
  upsert.bind(2, std::string_view(status.state));
  upsert.bind(3, std::string_view(status.firmware));
  upsert.bind(4, sqlite::to_sql(status.dropped_total));
  upsert.bind(5, status.at_ms);
  if (status.release_check.empty()) {
    upsert.bind_null(6);
  } else {
    upsert.bind(6, std::string_view(status.release_check));
  }
  return upsert.run();
}

Result<std::vector<DeviceInfo>> Store::Impl::list_devices() {
  auto labels = labels_by_device();
  if (!labels) return std::move(labels).error();
  std::vector<DeviceInfo> devices;
  auto& select = statements_.devices_list;
  StatementReset reset(select);
  for (;;) {
    auto row = select.step();
    if (!row) return std::move(row).error();
    if (!*row) return devices;
    auto info = device_from_row(select);
    if (!info) return std::move(info).error();
    if (auto found = labels->find(select.column_int64(kRowId)); found != labels->end()) {
      info->labels = std::move(found->second);
    }
    devices.push_back(std::move(*info));
  }
}

Result<std::vector<StatusStateCount>> Store::Impl::count_devices_by_status() {
  std::vector<StatusStateCount> counts;
  auto& select = statements_.devices_by_status_state;
  StatementReset reset(select);
  for (;;) {
    auto row = select.step();
    if (!row) return std::move(row).error();
    if (!*row) return counts;
    counts.push_back(StatusStateCount{select.column_text(0), sqlite::from_sql_unsigned(select.column_int64(1))});
  }
}

Result<std::optional<DeviceInfo>> Store::Impl::device(std::string_view device_id) {
  if (auto id = validate_device_id(device_id); !id) return std::move(id).error();
  auto& select = statements_.device_by_name;
  StatementReset reset(select);
  select.bind(1, device_id);
  auto row = select.step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<DeviceInfo>();
  auto info = device_from_row(select);
  if (!info) return std::move(info).error();
  auto labels = labels_of(select.column_int64(kRowId));
  if (!labels) return std::move(labels).error();
  info->labels = std::move(*labels);
  return std::optional<DeviceInfo>(std::move(*info));
}

Result<std::vector<RejectionCount>> Store::Impl::rejections_by_reason(std::string_view device_id) {
  if (auto id = validate_device_id(device_id); !id) return std::move(id).error();
  std::vector<RejectionCount> counts;
  auto& select = statements_.device_rejections_by_reason;
  StatementReset reset(select);
  select.bind(1, device_id);
  for (;;) {
    auto row = select.step();
    if (!row) return std::move(row).error();
    if (!*row) return counts;
    counts.push_back(RejectionCount{select.column_text(0), sqlite::from_sql_unsigned(select.column_int64(1))});
  }
}

Result<DeviceInfo> Store::Impl::device_from_row(sqlite::Statement& row) {
  DeviceInfo info;
  info.device_id = row.column_text(kName);
  info.registered_ms = row.column_optional_int64(kRegisteredMs).value_or(0);
  info.acked_seq = sqlite::from_sql_unsigned(row.column_int64(kWatermark));
  info.last_seen_ms = row.column_optional_int64(kLastSeenMs);
  info.readings_stored = sqlite::from_sql_unsigned(row.column_int64(kReadingsStored));
  info.rejected_total = sqlite::from_sql_unsigned(row.column_int64(kRejectedTotal));
  if (!row.column_is_null(kStatusState)) {
    DeviceStatus status;
    status.state = row.column_text(kStatusState);
    status.firmware = row.column_text(kStatusFirmware);
    status.dropped_total = sqlite::from_sql_unsigned(row.column_int64(kStatusDroppedTotal));
    status.at_ms = row.column_int64(kStatusAtMs);
    if (!row.column_is_null(kStatusReleaseCheck)) status.release_check = row.column_text(kStatusReleaseCheck);
    info.status = std::move(status);
  }
  auto last = last_reading_of(row.column_int64(kRowId));
  if (!last) return std::move(last).error();
  info.last_reading = *last;
  return info;
}

// The reading with the highest (ts, seq) among the device's readings that still have values.
Result<std::optional<proto::Reading>> Store::Impl::last_reading_of(std::int64_t device_row) {
  auto& select = statements_.device_latest_reading;
  StatementReset reset(select);
  select.bind(1, device_row);
  auto row = select.step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<proto::Reading>();
  proto::Reading reading;
  reading.ts_ms = select.column_int64(0);
  reading.seq = sqlite::from_sql_unsigned(select.column_int64(1));
  read_values(select, 2, reading);
  return std::optional<proto::Reading>(reading);
}

Result<void> Store::Impl::remove_device(std::string_view device_id, bool purge_data) {
  if (auto id = validate_device_id(device_id); !id) return id;
  // Watermarks and series of this device are about to change under the caches.
  forget_caches();

  std::int64_t device_row = 0;
  {
    auto& select = statements_.device_progress;
    StatementReset reset(select);
    select.bind(1, device_id);
    auto row = select.step();
    if (!row) return std::move(row).error();
    if (!*row) return make_error(Errc::not_found, "device '" + std::string(device_id) + "' is not known");
    device_row = select.column_int64(0);
  }

  if (!purge_data) {
    auto transaction = sqlite::Transaction::begin(db_.get());
    if (!transaction) return std::move(transaction).error();
    bool has_data = true;
    {
      auto& select = statements_.device_has_data;
      StatementReset reset(select);
      select.bind(1, device_row);
      auto row = select.step();
      if (!row) return std::move(row).error();
      if (!*row) return make_error(Errc::not_found, "device '" + std::string(device_id) + "' is not known");
      has_data = select.column_int64(0) != 0;
    }
    // Without data the row would only be an empty name in the list; with data it must stay,
    // because it holds the ack that keeps resends duplicates. Its labels go with the registration
    // (deleting the row takes them along).
    auto& change = has_data ? statements_.device_forget : statements_.device_delete;
    StatementReset reset(change);
    change.bind(1, device_row);
    if (auto done = change.run(); !done) return done;
    if (has_data) {
      if (auto cleared = write_labels(device_row, {}); !cleared) return cleared;
    }
    return transaction->commit();
  }

  // Purge: bulk data goes in chunks first, then the row, whose deletion cascades to whatever a
  // concurrent commit added meanwhile and to the readings the rollups do not hold yet (the chunks
  // leave those, as retention does: rollups.cpp).
  auto series = series_rows_of(statements_.series_of_device, device_row);
  if (!series) return std::move(series).error();
  for (const SeriesRow& one : *series) {
    for (std::int64_t width : kRollupWidthsMs) {
      if (auto done = delete_rollups_ending_by(one.id, width, kEverything); !done) return std::move(done).error();
    }
  }
  if (auto done = delete_readings_before(device_row, kEverything, sqlite::kMaxSqlInteger); !done) {
    return std::move(done).error();
  }
  if (auto done = delete_rejected_before(device_row, kEverything, sqlite::kMaxSqlInteger); !done) return done;

  auto transaction = sqlite::Transaction::begin(db_.get());
  if (!transaction) return std::move(transaction).error();
  auto& remove = statements_.device_delete;
  StatementReset reset(remove);
  remove.bind(1, device_row);
  if (auto done = remove.run(); !done) return done;
  return transaction->commit();
}

}  // namespace kelvin::store
