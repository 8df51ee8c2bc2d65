// Store: opening (file creation, connection settings, schema) and forwarding to Store::Impl.

#include "kelvin/store/store.hpp"

#include <string>

#include "schema.hpp"
#include "store_impl.hpp"

namespace kelvin::store {
namespace {

Result<void> validate_options(const StoreOptions& options) {
  const RetentionPolicy& retention = options.retention;
  if (retention.raw_days < 0 || retention.minute_days < 0 || retention.hour_days < 0) {
    return make_error(Errc::invalid_argument, "store retention days must be >= 0 (0 keeps forever)");
  }
  if (options.busy_timeout_ms < 0) return make_error(Errc::invalid_argument, "store busy_timeout_ms must be >= 0");
  if (options.rollup_fold_interval_ms < 0) {
    return make_error(Errc::invalid_argument, "store rollup_fold_interval_ms must be >= 0 (0 folds in every commit)");
  }
  return {};
}

// Durability and integrity settings of the connection. synchronous=FULL because the gateway acks
// to devices right after commit: a committed batch must survive a power cut, not only a crash.
// Tuning (bench/store, batches of 1000 readings from 100 devices): a commit dirties roughly a
// thousand pages (the tail of every series, its rollups and index entries). A 16 MiB page cache
// keeps them from being read back, and checkpointing every 10,000 WAL pages instead of 1,000
// copies a page rewritten by consecutive commits to the database once instead of after every
// commit. Measured per 100 commits: fdatasync 322 -> 136, page reads 153k -> 14k, page writes
// 253k -> 192k. journal_size_limit truncates the WAL back to 64 MiB after a checkpoint.
Result<void> configure_connection(sqlite3* db, const std::filesystem::path& db_file) {
  auto wal = sqlite::Statement::prepare(db, "PRAGMA journal_mode = WAL");
  if (!wal) return std::move(wal).error();
  auto row = wal->step();
  if (!row) return std::move(row).error();
  const std::string mode = *row ? wal->column_text(0) : std::string();
  if (mode != "wal") {
    return make_error(Errc::io, "cannot put " + db_file.string() + " in WAL mode (journal mode is '" + mode + "')");
  }
  return sqlite::exec(db,
                      "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF;"
                      " PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = 10000;"
                      " PRAGMA journal_size_limit = 67108864;",
                      "cannot configure the connection to " + db_file.string());
}

Error closed_store() {
  return make_error(Errc::invalid_argument, "store used after it was moved from");
}

}  // namespace

Result<Store> Store::open(const std::filesystem::path& db_file, const StoreOptions& options) {
  if (auto valid = validate_options(options); !valid) return std::move(valid).error();
  auto opened = sqlite::open_private_database(db_file, options.busy_timeout_ms, "store database");
  if (!opened) return std::move(opened).error();
  sqlite::DatabasePtr db = std::move(*opened);

  if (auto schema = ensure_schema(db.get(), db_file); !schema) return std::move(schema).error();
  if (auto configured = configure_connection(db.get(), db_file); !configured) return std::move(configured).error();

  auto statements = Statements::prepare(db.get());
  if (!statements) {
    auto error = std::move(statements).error();
    error.message = db_file.string() + ": " + error.message;
    return error;
  }
  auto impl = std::make_unique<Impl>(std::move(db), std::move(*statements), db_file, options);
  if (auto noted = impl->note_data_version(); !noted) return std::move(noted).error();
  return Store(std::move(impl));
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&& other) noexcept = default;
Store& Store::operator=(Store&& other) noexcept = default;
Store::~Store() = default;

Result<CommitSummary> Store::commit(const IngestBatch& batch, std::int64_t now_ms) {
  if (!impl_) return closed_store();
  return impl_->commit(batch, now_ms);
}

Result<std::uint64_t> Store::acked_seq(std::string_view device_id) {
  if (!impl_) return closed_store();
  return impl_->acked_seq(device_id);
}

Result<std::vector<DeviceConsumption>> Store::consumption() {
  if (!impl_) return closed_store();
  return impl_->consumption();
}

Result<QueryResult> Store::query(const Query& query) {
  if (!impl_) return closed_store();
  return impl_->query(query);
}

Result<std::vector<DeviceBuckets>> Store::fleet_hours(const FleetHoursQuery& query) {
  if (!impl_) return closed_store();
  return impl_->fleet_hours(query);
}

Result<RetentionReport> Store::apply_retention(std::int64_t now_ms) {
  if (!impl_) return closed_store();
  return impl_->apply_retention(now_ms);
}

Result<void> Store::register_device(std::string_view device_id, std::int64_t now_ms,
                                    const std::vector<std::string>& labels) {
  if (!impl_) return closed_store();
  return impl_->register_device(device_id, now_ms, labels);
}

Result<std::vector<std::string>> Store::change_device_labels(std::string_view device_id,
                                                             const std::vector<std::string>& add,
                                                             const std::vector<std::string>& remove) {
  if (!impl_) return closed_store();
  return impl_->change_device_labels(device_id, add, remove);
}

Result<std::vector<std::string>> Store::set_device_labels(std::string_view device_id,
                                                          const std::vector<std::string>& labels) {
  if (!impl_) return closed_store();
  return impl_->set_device_labels(device_id, labels);
}

Result<std::vector<std::string>> Store::devices_with_label(std::string_view label) {
  if (!impl_) return closed_store();
  return impl_->devices_with_label(label);
}

Result<void> Store::record_status(std::string_view device_id, const DeviceStatus& status) {
  if (!impl_) return closed_store();
  return impl_->record_status(device_id, status);
}

Result<std::vector<DeviceInfo>> Store::list_devices() {
  if (!impl_) return closed_store();
  return impl_->list_devices();
}

Result<std::vector<StatusStateCount>> Store::count_devices_by_status() {
  if (!impl_) return closed_store();
  return impl_->count_devices_by_status();
}

Result<std::optional<DeviceInfo>> Store::device(std::string_view device_id) {
  if (!impl_) return closed_store();
  return impl_->device(device_id);
}

Result<std::vector<RejectionCount>> Store::rejections_by_reason(std::string_view device_id) {
  if (!impl_) return closed_store();
  return impl_->rejections_by_reason(device_id);
}

Result<void> Store::remove_device(std::string_view device_id, bool purge_data) {
  if (!impl_) return closed_store();
  return impl_->remove_device(device_id, purge_data);
}

Result<ExportBatch> Store::read_export_batch(std::uint64_t after_position, std::size_t max_readings) {
  if (!impl_) return closed_store();
  return impl_->read_export_batch(after_position, max_readings);
}

Result<std::uint64_t> Store::last_export_position() {
  if (!impl_) return closed_store();
  auto position = impl_->last_export_position();
  if (!position) return std::move(position).error();
  return sqlite::from_sql_unsigned(*position);
}

Result<std::uint64_t> Store::export_cursor(std::string_view exporter) {
  if (!impl_) return closed_store();
  return impl_->export_cursor(exporter);
}

Result<void> Store::advance_export_cursor(std::string_view exporter, std::uint64_t position, std::int64_t now_ms) {
  if (!impl_) return closed_store();
  return impl_->advance_export_cursor(exporter, position, now_ms);
}

Result<ExportBacklog> Store::export_backlog(std::uint64_t after_position) {
  if (!impl_) return closed_store();
  return impl_->export_backlog(after_position);
}

}  // namespace kelvin::store
