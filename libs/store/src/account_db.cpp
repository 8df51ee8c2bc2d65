// AccountDb: kelvin's accounts database (account_db.hpp) on the shared SQLite layer.

#include "kelvin/store/account_db.hpp"

#include <utility>

#include "small_db.hpp"

namespace kelvin::store {
namespace {

// "KLVA": tells kelvin's accounts database from any other SQLite file (the telemetry store has its
// own id), so a misconfigured path is refused instead of getting tables added.
constexpr std::int64_t kApplicationId = 0x4B4C5641;
constexpr std::int64_t kSchemaVersion = 2;

constexpr const char* kSchemaSql = R"sql(
CREATE TABLE users (
  name                TEXT PRIMARY KEY,
  role                TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  password_hash       TEXT NOT NULL,
  created_ms          INTEGER NOT NULL,
  password_changed_ms INTEGER NOT NULL,
  totp_secret         TEXT,
  totp_pending_secret TEXT,
  totp_last_step      INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;

CREATE TABLE recovery_codes (
  user      TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  code_hash TEXT NOT NULL,
  PRIMARY KEY (user, code_hash)
) STRICT, WITHOUT ROWID;

CREATE TABLE sessions (
  token_hash   TEXT PRIMARY KEY,
  id           TEXT NOT NULL UNIQUE,
  user         TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  csrf_token   TEXT NOT NULL,
  created_ms   INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  address      TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions (user);

CREATE TABLE settings (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE audit (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms   INTEGER NOT NULL,
  actor   TEXT NOT NULL,
  address TEXT NOT NULL,
  action  TEXT NOT NULL,
  target  TEXT NOT NULL,
  result  TEXT NOT NULL,
  detail  TEXT NOT NULL
) STRICT;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql";

// Version 2: audit retention (docs/api.md, "Audit log"). The log stays append-only: no entry is
// ever changed, and the schema refuses to delete one younger than kMinAuditRetentionDays by the
// host's clock, whatever the caller asks; older entries may be deleted, oldest first, through an
// index on their time.
static_assert(kMinAuditRetentionDays == 30, "the trigger below spells the minimum out");
constexpr sqlite::SmallDbMigration kMigrations[] = {
    {.from_version = 1,
     .sql = "DROP TRIGGER audit_no_delete;"
            " CREATE TRIGGER audit_no_recent_delete BEFORE DELETE ON audit"
            " WHEN old.at_ms >= (CAST(strftime('%s', 'now') AS INTEGER) - 30 * 86400) * 1000"
            " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries younger than 30 days are kept'); END;"
            " CREATE INDEX audit_by_time ON audit (at_ms)",
     .doing = "letting audit entries older than the retention be removed"},
};

using sqlite::optional_text;
using sqlite::Statement;

constexpr sqlite::SmallDbSchema kSchema{.application_id = kApplicationId,
                                        .version = kSchemaVersion,
                                        .sql = kSchemaSql,
                                        .what = "accounts database",
                                        .migrations = kMigrations};

}  // namespace

class AccountDb::Impl : public sqlite::SmallDb {
 public:
  using SmallDb::SmallDb;
};

namespace {

Error closed() {
  return make_error(Errc::invalid_argument, "accounts database used after it was moved from");
}

UserRecord read_user(const Statement& row) {
  UserRecord user;
  user.name = row.column_text(0);
  user.role = row.column_text(1);
  user.password_hash = row.column_text(2);
  user.created_ms = row.column_int64(3);
  user.password_changed_ms = row.column_int64(4);
  user.totp_secret = optional_text(row, 5);
  user.totp_pending_secret = optional_text(row, 6);
  user.totp_last_step = row.column_int64(7);
  user.recovery_codes_left = static_cast<std::size_t>(row.column_int64(8));
  return user;
}

constexpr const char* kUserColumns =
    "SELECT name, role, password_hash, created_ms, password_changed_ms, totp_secret, totp_pending_secret,"
    " totp_last_step, (SELECT count(*) FROM recovery_codes WHERE user = users.name) FROM users";

Error unknown_user(std::string_view name) {
  return make_error(Errc::not_found, "no user '" + std::string(name) + "'");
}

}  // namespace

Result<AccountDb> AccountDb::open(const std::filesystem::path& db_file, int busy_timeout_ms) {
  auto db = sqlite::open_small_db(db_file, busy_timeout_ms, kSchema);
  if (!db) return std::move(db).error();
  return AccountDb(std::make_unique<Impl>(std::move(*db)));
}

AccountDb::AccountDb(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AccountDb::AccountDb(AccountDb&&) noexcept = default;
AccountDb& AccountDb::operator=(AccountDb&&) noexcept = default;
AccountDb::~AccountDb() = default;

Result<void> AccountDb::add_user(const UserRecord& user) {
  if (!impl_) return closed();
  auto added = impl_->change(
      "INSERT INTO users (name, role, password_hash, created_ms, password_changed_ms, totp_secret,"
      " totp_pending_secret, totp_last_step) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
      user.name, user.role, user.password_hash, user.created_ms, user.password_changed_ms, user.totp_secret,
      user.totp_pending_secret, user.totp_last_step);
  if (!added) return std::move(added).error();
  if (*added == 0) return make_error(Errc::already_exists, "user '" + user.name + "' exists");
  return {};
}

Result<std::optional<UserRecord>> AccountDb::user(std::string_view name) {
  if (!impl_) return closed();
  auto query = impl_->statement(std::string(kUserColumns) + " WHERE name = ?", name);
  if (!query) return std::move(query).error();
  auto row = query->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<UserRecord>();
  return std::optional<UserRecord>(read_user(*query));
}

Result<std::vector<UserRecord>> AccountDb::users() {
  if (!impl_) return closed();
  auto query = impl_->statement(std::string(kUserColumns) + " ORDER BY name");
  if (!query) return std::move(query).error();
  std::vector<UserRecord> out;
  for (;;) {
    auto row = query->step();
    if (!row) return std::move(row).error();
    if (!*row) return out;
    out.push_back(read_user(*query));
  }
}

Result<std::size_t> AccountDb::count_users() {
  if (!impl_) return closed();
  auto count = sqlite::query_integer(impl_->db(), "SELECT count(*) FROM users");
  if (!count) return std::move(count).error();
  return static_cast<std::size_t>(*count);
}

namespace {

// Precondition: inside a write transaction. Errc::conflict when no admin but `name` would remain.
Result<void> ensure_another_admin(AccountDb::Impl& impl, std::string_view name) {
  auto others = impl.statement("SELECT count(*) FROM users WHERE role = 'admin' AND name != ?", name);
  if (!others) return std::move(others).error();
  auto row = others->step();
  if (!row) return std::move(row).error();
  if (*row && others->column_int64(0) > 0) return {};
  return make_error(Errc::conflict, "'" + std::string(name) + "' is the last admin: make another user admin first");
}

// Precondition: inside a write transaction. The user's role, nullopt for an unknown user.
Result<std::optional<std::string>> role_in_transaction(AccountDb::Impl& impl, std::string_view name) {
  auto query = impl.statement("SELECT role FROM users WHERE name = ?", name);
  if (!query) return std::move(query).error();
  auto row = query->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(query->column_text(0));
}

}  // namespace

Result<void> AccountDb::remove_user(std::string_view name) {
  if (!impl_) return closed();
  auto transaction = sqlite::Transaction::begin(impl_->db());
  if (!transaction) return std::move(transaction).error();
  auto role = role_in_transaction(*impl_, name);
  if (!role) return std::move(role).error();
  if (!*role) return unknown_user(name);
  if (**role == "admin") {
    if (auto kept = ensure_another_admin(*impl_, name); !kept) return kept;
  }
  auto removed = impl_->change("DELETE FROM users WHERE name = ?", name);
  if (!removed) return std::move(removed).error();
  return transaction->commit();
}

Result<void> AccountDb::set_role(std::string_view name, std::string_view role) {
  if (!impl_) return closed();
  auto transaction = sqlite::Transaction::begin(impl_->db());
  if (!transaction) return std::move(transaction).error();
  auto current = role_in_transaction(*impl_, name);
  if (!current) return std::move(current).error();
  if (!*current) return unknown_user(name);
  if (**current == "admin" && role != "admin") {
    if (auto kept = ensure_another_admin(*impl_, name); !kept) return kept;
  }
  auto changed = impl_->change("UPDATE users SET role = ? WHERE name = ?", role, name);
  if (!changed) return std::move(changed).error();
  return transaction->commit();
}

Result<void> AccountDb::set_password_hash(std::string_view name, std::string_view hash, std::int64_t now_ms,
                                          std::string_view keep_session_id) {
  if (!impl_) return closed();
  auto transaction = sqlite::Transaction::begin(impl_->db());
  if (!transaction) return std::move(transaction).error();
  auto changed =
      impl_->change("UPDATE users SET password_hash = ?, password_changed_ms = ? WHERE name = ?", hash, now_ms, name);
  if (!changed) return std::move(changed).error();
  if (*changed == 0) return unknown_user(name);
  auto ended = impl_->change("DELETE FROM sessions WHERE user = ? AND id != ?", name, keep_session_id);
  if (!ended) return std::move(ended).error();
  return transaction->commit();
}

Result<void> AccountDb::set_totp_pending(std::string_view name, std::string_view secret) {
  if (!impl_) return closed();
  auto changed = impl_->change("UPDATE users SET totp_pending_secret = ? WHERE name = ?", secret, name);
  if (!changed) return std::move(changed).error();
  if (*changed == 0) return unknown_user(name);
  return {};
}

Result<void> AccountDb::activate_totp(std::string_view name, std::int64_t step,
                                      const std::vector<std::string>& code_hashes) {
  if (!impl_) return closed();
  auto transaction = sqlite::Transaction::begin(impl_->db());
  if (!transaction) return std::move(transaction).error();
  auto changed = impl_->change(
      "UPDATE users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, totp_last_step = ?"
      " WHERE name = ? AND totp_pending_secret IS NOT NULL",
      step, name);
  if (!changed) return std::move(changed).error();
  if (*changed == 0) {
    return make_error(Errc::conflict, "user '" + std::string(name) + "' has no second factor waiting for confirmation");
  }
  if (auto cleared = impl_->change("DELETE FROM recovery_codes WHERE user = ?", name); !cleared) {
    return std::move(cleared).error();
  }
  for (const auto& hash : code_hashes) {
    if (auto added = impl_->change("INSERT INTO recovery_codes (user, code_hash) VALUES (?, ?)", name, hash); !added) {
      return std::move(added).error();
    }
  }
  return transaction->commit();
}

Result<bool> AccountDb::claim_totp_step(std::string_view name, std::int64_t step) {
  if (!impl_) return closed();
  auto changed =
      impl_->change("UPDATE users SET totp_last_step = ? WHERE name = ? AND totp_last_step < ?", step, name, step);
  if (!changed) return std::move(changed).error();
  return *changed == 1;
}

Result<bool> AccountDb::claim_recovery_code(std::string_view name, std::string_view code_hash) {
  if (!impl_) return closed();
  auto changed = impl_->change("DELETE FROM recovery_codes WHERE user = ? AND code_hash = ?", name, code_hash);
  if (!changed) return std::move(changed).error();
  return *changed == 1;
}

Result<void> AccountDb::clear_totp(std::string_view name) {
  if (!impl_) return closed();
  auto transaction = sqlite::Transaction::begin(impl_->db());
  if (!transaction) return std::move(transaction).error();
  auto changed = impl_->change(
      "UPDATE users SET totp_secret = NULL, totp_pending_secret = NULL WHERE name = ?"
      " AND (totp_secret IS NOT NULL OR totp_pending_secret IS NOT NULL)",
      name);
  if (!changed) return std::move(changed).error();
  if (*changed == 0) {
    auto role = role_in_transaction(*impl_, name);
    if (!role) return std::move(role).error();
    if (!*role) return unknown_user(name);
    return make_error(Errc::conflict, "user '" + std::string(name) + "' has no second factor: nothing to reset");
  }
  if (auto cleared = impl_->change("DELETE FROM recovery_codes WHERE user = ?", name); !cleared) {
    return std::move(cleared).error();
  }
  return transaction->commit();
}

Result<void> AccountDb::add_session(const SessionRecord& session) {
  if (!impl_) return closed();
  auto added = impl_->change(
      "INSERT INTO sessions (token_hash, id, user, csrf_token, created_ms, last_seen_ms, address)"
      " VALUES (?, ?, ?, ?, ?, ?, ?)",
      session.token_hash, session.id, session.user, session.csrf_token, session.created_ms, session.last_seen_ms,
      session.address);
  if (!added) return std::move(added).error();
  return {};
}

Result<std::optional<SessionRecord>> AccountDb::session(std::string_view token_hash) {
  if (!impl_) return closed();
  auto query = impl_->statement(
      "SELECT token_hash, id, user, csrf_token, created_ms, last_seen_ms, address FROM sessions WHERE token_hash = ?",
      token_hash);
  if (!query) return std::move(query).error();
  auto row = query->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<SessionRecord>();
  SessionRecord session{query->column_text(0),  query->column_text(1),  query->column_text(2), query->column_text(3),
                        query->column_int64(4), query->column_int64(5), query->column_text(6)};
  return std::optional<SessionRecord>(std::move(session));
}

Result<void> AccountDb::touch_session(std::string_view token_hash, std::int64_t now_ms) {
  if (!impl_) return closed();
  auto changed =
      impl_->change("UPDATE sessions SET last_seen_ms = max(last_seen_ms, ?) WHERE token_hash = ?", now_ms, token_hash);
  if (!changed) return std::move(changed).error();
  return {};
}

Result<void> AccountDb::remove_session(std::string_view token_hash) {
  if (!impl_) return closed();
  auto changed = impl_->change("DELETE FROM sessions WHERE token_hash = ?", token_hash);
  if (!changed) return std::move(changed).error();
  return {};
}

Result<std::size_t> AccountDb::remove_sessions_of(std::string_view user) {
  if (!impl_) return closed();
  auto changed = impl_->change("DELETE FROM sessions WHERE user = ?", user);
  if (!changed) return std::move(changed).error();
  return static_cast<std::size_t>(*changed);
}

Result<std::size_t> AccountDb::remove_expired_sessions(std::int64_t idle_before_ms, std::int64_t created_before_ms) {
  if (!impl_) return closed();
  auto changed =
      impl_->change("DELETE FROM sessions WHERE last_seen_ms < ? OR created_ms < ?", idle_before_ms, created_before_ms);
  if (!changed) return std::move(changed).error();
  return static_cast<std::size_t>(*changed);
}

Result<std::optional<std::string>> AccountDb::setting(std::string_view name) {
  if (!impl_) return closed();
  auto query = impl_->statement("SELECT value FROM settings WHERE name = ?", name);
  if (!query) return std::move(query).error();
  auto row = query->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(query->column_text(0));
}

Result<void> AccountDb::set_setting(std::string_view name, std::string_view value) {
  if (!impl_) return closed();
  auto changed = impl_->change(
      "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", name,
      value);
  if (!changed) return std::move(changed).error();
  return {};
}

Result<std::int64_t> AccountDb::append_audit(const AuditEntry& entry) {
  if (!impl_) return closed();
  auto added = impl_->change(
      "INSERT INTO audit (at_ms, actor, address, action, target, result, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
      entry.at_ms, entry.actor, entry.address, entry.action, entry.target, entry.result, entry.detail);
  if (!added) return std::move(added).error();
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(impl_->db()));
}

Result<std::size_t> AccountDb::remove_audit_before(std::int64_t before_ms, std::size_t limit) {
  if (!impl_) return closed();
  auto changed =
      impl_->change("DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at_ms < ? ORDER BY at_ms LIMIT ?)",
                    before_ms, static_cast<std::int64_t>(limit));
  if (!changed) return std::move(changed).error();
  return static_cast<std::size_t>(*changed);
}

namespace {

constexpr const char* kAuditColumns = "SELECT id, at_ms, actor, address, action, target, result, detail FROM audit ";

// The audit entries `sql` (kAuditColumns, then a condition on one id and a LIMIT) selects.
Result<std::vector<AuditEntry>> audit_rows(AccountDb::Impl& impl, const std::string& sql, std::int64_t id,
                                           std::size_t limit) {
  auto query = impl.statement(sql, id, static_cast<std::int64_t>(limit));
  if (!query) return std::move(query).error();
  std::vector<AuditEntry> out;
  for (;;) {
    auto row = query->step();
    if (!row) return std::move(row).error();
    if (!*row) return out;
    out.push_back(AuditEntry{query->column_int64(0), query->column_int64(1), query->column_text(2),
                             query->column_text(3), query->column_text(4), query->column_text(5), query->column_text(6),
                             query->column_text(7)});
  }
}

}  // namespace

Result<std::vector<AuditEntry>> AccountDb::audit_entries(std::int64_t after_id, std::size_t limit) {
  if (!impl_) return closed();
  return audit_rows(*impl_, std::string(kAuditColumns) + "WHERE id > ? ORDER BY id LIMIT ?", after_id, limit);
}

Result<std::vector<AuditEntry>> AccountDb::audit_entries_before(std::int64_t before_id, std::size_t limit) {
  if (!impl_) return closed();
  return audit_rows(*impl_, std::string(kAuditColumns) + "WHERE id < ? ORDER BY id DESC LIMIT ?", before_id, limit);
}

}  // namespace kelvin::store
