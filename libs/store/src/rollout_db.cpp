// RolloutDb: kelvin's rollouts database (rollout_db.hpp) on the shared small-database layer.

#include "kelvin/store/rollout_db.hpp"

#include <array>
#include <charconv>
#include <optional>
#include <utility>

#include "small_db.hpp"

namespace kelvin::store {
namespace {

// "KLVR": tells kelvin's rollouts database from any other SQLite file.
constexpr std::int64_t kApplicationId = 0x4B4C5652;
constexpr std::int64_t kSchemaVersion = 3;

// The partial unique index is the last word on "one active rollout per product": two processes
// starting one at once cannot both succeed.
constexpr const char* kSchemaSql = R"sql(
CREATE TABLE rollouts (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  product             TEXT NOT NULL,
  version             TEXT NOT NULL,
  state               TEXT NOT NULL CHECK (state IN ('running', 'paused', 'halted', 'aborted', 'completed')),
  waves               TEXT NOT NULL,
  max_failure_percent INTEGER NOT NULL,
  current_wave        INTEGER NOT NULL,
  failures_accepted   INTEGER NOT NULL,
  notices_cleared     INTEGER NOT NULL,
  created_by          TEXT NOT NULL,
  created_ms          INTEGER NOT NULL,
  updated_ms          INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX one_active_rollout_per_product ON rollouts (product)
  WHERE state IN ('running', 'paused', 'halted');

CREATE TABLE rollout_devices (
  rollout    INTEGER NOT NULL REFERENCES rollouts (id),
  device     TEXT NOT NULL,
  wave       INTEGER NOT NULL,
  state      TEXT NOT NULL CHECK (state IN ('pending', 'notified', 'downloading', 'installed', 'confirmed',
                                            'failed', 'rolled_back')),
  percent    INTEGER NOT NULL,
  reason     TEXT NOT NULL,
  detail     TEXT NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (rollout, device)
) STRICT, WITHOUT ROWID;
CREATE INDEX rollout_devices_by_device ON rollout_devices (device);
)sql";

// Version 2: what the rollout was started for (docs/ota.md, "Rollouts"): 'all' devices, a list of
// 'devices', or the devices carrying a 'label' (target_label) when it started. A rollout of a
// version 1 file keeps NULL: how its devices were chosen was not recorded.
constexpr sqlite::SmallDbMigration kMigrations[] = {
    {.from_version = 1,
     .sql = "ALTER TABLE rollouts ADD COLUMN target TEXT CHECK (target IN ('all', 'devices', 'label'));"
            " ALTER TABLE rollouts ADD COLUMN target_label TEXT"
            " CHECK ((target = 'label') = (target_label IS NOT NULL));",
     .doing = "adding rollouts.target and target_label"},
    // Version 3: how long a device may stay silent before it fails (0: no limit).
    {.from_version = 2,
     .sql = "ALTER TABLE rollouts ADD COLUMN device_timeout_ms INTEGER NOT NULL DEFAULT 0"
            " CHECK (device_timeout_ms >= 0);",
     .doing = "adding rollouts.device_timeout_ms"},
};

constexpr sqlite::SmallDbSchema kSchema{.application_id = kApplicationId,
                                        .version = kSchemaVersion,
                                        .sql = kSchemaSql,
                                        .what = "rollouts database",
                                        .migrations = kMigrations};

constexpr std::array<std::string_view, kRolloutStateCount> kRolloutStateNames{"running", "paused", "halted", "aborted",
                                                                              "completed"};
constexpr std::array<std::string_view, kDeviceRolloutStateCount> kDeviceStateNames{
    "pending", "notified", "downloading", "installed", "confirmed", "failed", "rolled_back"};

using sqlite::Statement;

std::string waves_text(const std::vector<int>& waves) {
  std::string out;
  for (int wave : waves) {
    if (!out.empty()) out += ',';
    out += std::to_string(wave);
  }
  return out;
}

std::vector<int> parse_waves_text(std::string_view text) {
  std::vector<int> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    int value = 0;
    std::from_chars(part.data(), part.data() + part.size(), value);
    out.push_back(value);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

constexpr std::array<std::string_view, 4> kTargetNames{"", "all", "devices", "label"};

std::optional<std::string> target_text(RolloutTarget target) {
  if (target == RolloutTarget::unrecorded) return std::nullopt;
  return std::string(to_string(target));
}

RolloutTarget parse_target(std::string_view name) {
  for (std::size_t i = 1; i < kTargetNames.size(); ++i) {
    if (kTargetNames[i] == name) return static_cast<RolloutTarget>(i);
  }
  return RolloutTarget::unrecorded;
}

constexpr const char* kRolloutColumns =
    "SELECT id, product, version, state, waves, max_failure_percent, current_wave, failures_accepted,"
    " notices_cleared, created_by, created_ms, updated_ms, target, target_label, device_timeout_ms FROM rollouts ";

// A device's row of rollout_devices (aliased d) as read_device reads it, from column `first` on.
constexpr const char* kDeviceColumns = "d.device, d.wave, d.state, d.percent, d.reason, d.detail, d.updated_ms";

RolloutDeviceRecord read_device(const Statement& row, int first) {
  return RolloutDeviceRecord{
      .device = row.column_text(first),
      .wave = static_cast<int>(row.column_int64(first + 1)),
      .state = parse_device_rollout_state(row.column_text(first + 2)).value_or(DeviceRolloutState::pending),
      .percent = static_cast<int>(row.column_int64(first + 3)),
      .reason = row.column_text(first + 4),
      .detail = row.column_text(first + 5),
      .updated_ms = row.column_int64(first + 6),
  };
}

RolloutRecord read_rollout(const Statement& row) {
  RolloutRecord r;
  r.id = row.column_int64(0);
  r.product = row.column_text(1);
  r.version = row.column_text(2);
  r.state = parse_rollout_state(row.column_text(3)).value_or(RolloutState::aborted);  // the schema checks it
  r.waves = parse_waves_text(row.column_text(4));
  r.max_failure_percent = static_cast<int>(row.column_int64(5));
  r.current_wave = static_cast<int>(row.column_int64(6));
  r.failures_accepted = row.column_int64(7);
  r.notices_cleared = row.column_int64(8) != 0;
  r.created_by = row.column_text(9);
  r.created_ms = row.column_int64(10);
  r.updated_ms = row.column_int64(11);
  r.target = row.column_is_null(12) ? RolloutTarget::unrecorded : parse_target(row.column_text(12));
  r.target_label = row.column_is_null(13) ? std::string() : row.column_text(13);
  r.device_timeout_ms = row.column_int64(14);
  return r;
}

Error closed() {
  return make_error(Errc::invalid_argument, "rollouts database used after it was moved from");
}

}  // namespace

std::string_view to_string(RolloutState state) noexcept {
  return kRolloutStateNames[static_cast<std::size_t>(state)];
}

std::string_view to_string(RolloutTarget target) noexcept {
  return kTargetNames[static_cast<std::size_t>(target)];
}

std::string_view to_string(DeviceRolloutState state) noexcept {
  return kDeviceStateNames[static_cast<std::size_t>(state)];
}

std::optional<RolloutState> parse_rollout_state(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kRolloutStateNames.size(); ++i) {
    if (kRolloutStateNames[i] == name) return static_cast<RolloutState>(i);
  }
  return std::nullopt;
}

std::optional<DeviceRolloutState> parse_device_rollout_state(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kDeviceStateNames.size(); ++i) {
    if (kDeviceStateNames[i] == name) return static_cast<DeviceRolloutState>(i);
  }
  return std::nullopt;
}

bool is_active(RolloutState state) noexcept {
  return state == RolloutState::running || state == RolloutState::paused || state == RolloutState::halted;
}

class RolloutDb::Impl : public sqlite::SmallDb {
 public:
  using SmallDb::SmallDb;

  Result<std::vector<RolloutRecord>> rollout_rows(const std::string& condition) {
    auto query = statement(std::string(kRolloutColumns) + condition);
    if (!query) return std::move(query).error();
    std::vector<RolloutRecord> out;
    for (;;) {
      auto row = query->step();
      if (!row) return std::move(row).error();
      if (!*row) return out;
      out.push_back(read_rollout(*query));
    }
  }

  Result<void> fill_counts(RolloutSummary& summary) {
    auto query =
        statement("SELECT state, count(*) FROM rollout_devices WHERE rollout = ? GROUP BY state", summary.rollout.id);
    if (!query) return std::move(query).error();
    for (;;) {
      auto row = query->step();
      if (!row) return std::move(row).error();
      if (!*row) return {};
      if (auto state = parse_device_rollout_state(query->column_text(0))) {
        summary.counts[static_cast<std::size_t>(*state)] = static_cast<std::size_t>(query->column_int64(1));
      }
    }
  }
};

Result<RolloutDb> RolloutDb::open(const std::filesystem::path& db_file, int busy_timeout_ms) {
  auto db = sqlite::open_small_db(db_file, busy_timeout_ms, kSchema);
  if (!db) return std::move(db).error();
  return RolloutDb(std::make_unique<Impl>(std::move(*db)));
}

RolloutDb::RolloutDb(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RolloutDb::RolloutDb(RolloutDb&&) noexcept = default;
RolloutDb& RolloutDb::operator=(RolloutDb&&) noexcept = default;
RolloutDb::~RolloutDb() = default;

Result<std::int64_t> RolloutDb::create(const RolloutRecord& rollout, const std::vector<RolloutDeviceRecord>& devices) {
  if (!impl_) return closed();
  auto transaction = sqlite::Transaction::begin(impl_->db());
  if (!transaction) return std::move(transaction).error();
  auto existing = impl_->statement(
      "SELECT id FROM rollouts WHERE product = ? AND state IN ('running', 'paused', 'halted')", rollout.product);
  if (!existing) return std::move(existing).error();
  auto row = existing->step();
  if (!row) return std::move(row).error();
  if (*row) {
    return make_error(Errc::conflict, "rollout " + std::to_string(existing->column_int64(0)) + " of " +
                                          rollout.product +
                                          " is still active: abort it, or let it complete, before starting another");
  }
  existing->reset();
  if ((rollout.target == RolloutTarget::label) == rollout.target_label.empty()) {
    return make_error(Errc::invalid_argument, "a rollout to a label names the label, and only such a rollout does");
  }
  auto added = impl_->change(
      "INSERT INTO rollouts (product, version, state, waves, max_failure_percent, current_wave, failures_accepted,"
      " notices_cleared, created_by, created_ms, updated_ms, target, target_label, device_timeout_ms)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      rollout.product, rollout.version, to_string(rollout.state), waves_text(rollout.waves),
      rollout.max_failure_percent, rollout.current_wave, rollout.failures_accepted, rollout.notices_cleared ? 1 : 0,
      rollout.created_by, rollout.created_ms, rollout.updated_ms, target_text(rollout.target),
      rollout.target == RolloutTarget::label ? std::optional<std::string>(rollout.target_label) : std::nullopt,
      rollout.device_timeout_ms);
  if (!added) return std::move(added).error();
  const std::int64_t id = sqlite3_last_insert_rowid(impl_->db());
  for (const auto& device : devices) {
    auto inserted = impl_->change(
        "INSERT INTO rollout_devices (rollout, device, wave, state, percent, reason, detail, updated_ms)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        id, device.device, device.wave, to_string(device.state), device.percent, device.reason, device.detail,
        device.updated_ms);
    if (!inserted) return std::move(inserted).error();
  }
  if (auto committed = transaction->commit(); !committed) return std::move(committed).error();
  return id;
}

Result<std::vector<RolloutSummary>> RolloutDb::rollouts(bool unfinished_only) {
  if (!impl_) return closed();
  auto rows = impl_->rollout_rows(
      unfinished_only ? "WHERE state IN ('running', 'paused', 'halted') OR (state = 'aborted' AND notices_cleared = 0)"
                        " ORDER BY id DESC"
                      : "ORDER BY id DESC");
  if (!rows) return std::move(rows).error();
  std::vector<RolloutSummary> out;
  out.reserve(rows->size());
  for (auto& rollout : *rows) {
    RolloutSummary summary{.rollout = std::move(rollout), .counts = {}};
    if (auto counted = impl_->fill_counts(summary); !counted) return std::move(counted).error();
    out.push_back(std::move(summary));
  }
  return out;
}

Result<std::optional<RolloutRecord>> RolloutDb::rollout(std::int64_t id) {
  if (!impl_) return closed();
  auto rows = impl_->rollout_rows("WHERE id = " + std::to_string(id));
  if (!rows) return std::move(rows).error();
  if (rows->empty()) return std::optional<RolloutRecord>();
  return std::optional<RolloutRecord>(std::move(rows->front()));
}

Result<std::vector<RolloutDeviceRecord>> RolloutDb::devices(std::int64_t id) {
  if (!impl_) return closed();
  auto query = impl_->statement(
      std::string("SELECT ") + kDeviceColumns + " FROM rollout_devices d WHERE d.rollout = ? ORDER BY d.wave, d.device",
      id);
  if (!query) return std::move(query).error();
  std::vector<RolloutDeviceRecord> out;
  for (;;) {
    auto row = query->step();
    if (!row) return std::move(row).error();
    if (!*row) return out;
    out.push_back(read_device(*query, 0));
  }
}

Result<bool> RolloutDb::save(const RolloutRecord& rollout, RolloutState expected,
                             const std::vector<RolloutDeviceRecord>& changed) {
  if (!impl_) return closed();
  auto transaction = sqlite::Transaction::begin(impl_->db());
  if (!transaction) return std::move(transaction).error();
  auto updated = impl_->change(
      "UPDATE rollouts SET state = ?, current_wave = ?, failures_accepted = ?, notices_cleared = ?, updated_ms = ?"
      " WHERE id = ? AND state = ?",
      to_string(rollout.state), rollout.current_wave, rollout.failures_accepted, rollout.notices_cleared ? 1 : 0,
      rollout.updated_ms, rollout.id, to_string(expected));
  if (!updated) return std::move(updated).error();
  if (*updated == 0) {
    auto current = impl_->rollout_rows("WHERE id = " + std::to_string(rollout.id));
    if (!current) return std::move(current).error();
    if (current->empty()) return make_error(Errc::not_found, "no rollout " + std::to_string(rollout.id));
    return false;
  }
  for (const auto& device : changed) {
    auto written = impl_->change(
        "UPDATE rollout_devices SET state = ?, percent = ?, reason = ?, detail = ?, updated_ms = ?"
        " WHERE rollout = ? AND device = ?",
        to_string(device.state), device.percent, device.reason, device.detail, device.updated_ms, rollout.id,
        device.device);
    if (!written) return std::move(written).error();
  }
  if (auto committed = transaction->commit(); !committed) return std::move(committed).error();
  return true;
}

Result<std::vector<FailedUpdate>> RolloutDb::failed_updates() {
  if (!impl_) return closed();
  // The subquery walks rollout_devices_by_device for each failed row only.
  auto query = impl_->statement(
      std::string("SELECT d.rollout, r.product, r.version, ") + kDeviceColumns +
      " FROM rollout_devices d JOIN rollouts r ON r.id = d.rollout"
      " WHERE d.state IN ('failed', 'rolled_back') AND r.state != 'aborted'"
      " AND d.rollout = (SELECT max(n.rollout) FROM rollout_devices n JOIN rollouts nr ON nr.id = n.rollout"
      "                  WHERE n.device = d.device AND nr.state != 'aborted')"
      " ORDER BY d.device");
  if (!query) return std::move(query).error();
  std::vector<FailedUpdate> out;
  for (;;) {
    auto row = query->step();
    if (!row) return std::move(row).error();
    if (!*row) return out;
    out.push_back(FailedUpdate{.rollout = query->column_int64(0),
                               .product = query->column_text(1),
                               .version = query->column_text(2),
                               .device = read_device(*query, 3)});
  }
}

Result<std::optional<RolloutRecord>> RolloutDb::offer_for(std::string_view device) {
  if (!impl_) return closed();
  auto query = impl_->statement(
      "SELECT rollout FROM rollout_devices d JOIN rollouts r ON r.id = d.rollout WHERE d.device = ?"
      " AND d.state IN ('notified', 'downloading', 'installed') AND r.state IN ('running', 'paused')"
      " ORDER BY r.id DESC LIMIT 1",
      device);
  if (!query) return std::move(query).error();
  auto row = query->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<RolloutRecord>();
  const std::int64_t id = query->column_int64(0);
  query->reset();
  return rollout(id);
}

}  // namespace kelvin::store
