#pragma once
// The gateway's people: user accounts, their sessions, their second factor, the installation's
// security settings and the append-only audit log, in their own SQLite file (accounts.db, mode
// 0600, next to the telemetry store). Persistence only: the policy (password rules, timeouts, rate
// limits, TOTP) is libs/accounts'. docs/api.md, "Accounts and sessions", describes the behaviour.
//
// Several processes may open the file at once (the gateway serving logins, kelvinctl adding a user
// or resetting a second factor): every operation is one statement or one short transaction, and
// the gateway looks sessions up here on every request, so a change made by kelvinctl (a removed
// user, a new password) takes effect at once. Expected failures return Result; nothing throws.
// One connection: use from one thread at a time.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/core/result.hpp"

namespace kelvin::store {

struct UserRecord {
  std::string name;
  std::string role;           // "viewer", "operator" or "admin" (checked by the schema)
  std::string password_hash;  // Argon2id string (kelvin/crypto/password_hash.hpp)
  std::int64_t created_ms = 0;
  std::int64_t password_changed_ms = 0;
  std::optional<std::string> totp_secret;          // base32; set once enrolment was confirmed
  std::optional<std::string> totp_pending_secret;  // offered at enrolment, not yet confirmed
  std::int64_t totp_last_step = 0;                 // the last time step whose code was accepted
  std::size_t recovery_codes_left = 0;
};

struct SessionRecord {
  std::string token_hash;  // SHA-256 of the cookie's secret: the file never holds a usable token
  std::string id;          // a public id for the audit log and session lists
  std::string user;
  std::string csrf_token;
  std::int64_t created_ms = 0;
  std::int64_t last_seen_ms = 0;
  std::string address;  // where it signed in from
};

// The schema keeps every audit entry at least this long, whatever retention is configured.
inline constexpr std::int64_t kMinAuditRetentionDays = 30;

struct AuditEntry {
  std::int64_t id = 0;  // assigned on append, increasing
  std::int64_t at_ms = 0;
  std::string actor;    // a user name, "kelvinctl" (the host's administrator) or "gateway"
  std::string address;  // the client's IP address, "local" for kelvinctl and the gateway itself
  std::string action;   // e.g. "login", "user_add", "permission_denied" (docs/api.md lists them)
  std::string target;   // what it was done to (a user name, a route), "" when nothing
  std::string result;   // "ok" or "denied"/"failed"
  std::string detail;   // a reason or parameters; never a secret
};

class AccountDb {
 public:
  // Opens or creates `db_file` (0600). Errc::corrupt for a file that is not kelvin's accounts
  // database, Errc::conflict for a newer schema, io/permission_denied when it cannot be opened.
  static Result<AccountDb> open(const std::filesystem::path& db_file, int busy_timeout_ms = 5000);
  AccountDb(AccountDb&&) noexcept;
  AccountDb& operator=(AccountDb&&) noexcept;
  ~AccountDb();

  // ---- users ----
  // Errc::already_exists for a taken name.
  Result<void> add_user(const UserRecord& user);
  Result<std::optional<UserRecord>> user(std::string_view name);
  Result<std::vector<UserRecord>> users();  // by name
  Result<std::size_t> count_users();
  // Deletes the user with its sessions and recovery codes. Errc::not_found for an unknown name,
  // Errc::conflict when it would leave no admin: checked in the same transaction as the change, so
  // two processes removing the last two admins at once cannot both succeed.
  Result<void> remove_user(std::string_view name);
  // Errc::not_found; Errc::conflict when it would leave no admin (as remove_user).
  Result<void> set_role(std::string_view name, std::string_view role);
  // Replaces the hash and ends every session of the user but `keep_session_id` (the one that
  // changed it, if any), in one transaction.
  Result<void> set_password_hash(std::string_view name, std::string_view hash, std::int64_t now_ms,
                                 std::string_view keep_session_id = {});

  // ---- second factor ----
  Result<void> set_totp_pending(std::string_view name, std::string_view secret);
  // Makes the pending secret the user's, accepted up to `step`, with these recovery code hashes
  // (replacing any old ones). Errc::conflict when no secret is pending.
  Result<void> activate_totp(std::string_view name, std::int64_t step, const std::vector<std::string>& code_hashes);
  // Records `step` as used if it is later than the last one: false when it is not (a code is never
  // accepted twice, also across processes).
  Result<bool> claim_totp_step(std::string_view name, std::int64_t step);
  // Consumes one recovery code: false when the user has no such unused code.
  Result<bool> claim_recovery_code(std::string_view name, std::string_view code_hash);
  // Removes the secret (active and pending) and the recovery codes. Errc::not_found; Errc::conflict
  // when the user has neither.
  Result<void> clear_totp(std::string_view name);

  // ---- sessions ----
  Result<void> add_session(const SessionRecord& session);
  Result<std::optional<SessionRecord>> session(std::string_view token_hash);
  Result<void> touch_session(std::string_view token_hash, std::int64_t now_ms);
  Result<void> remove_session(std::string_view token_hash);
  // Ends every session of `user`; returns how many there were.
  Result<std::size_t> remove_sessions_of(std::string_view user);
  // Ends sessions idle since before `idle_before_ms` or created before `created_before_ms`.
  Result<std::size_t> remove_expired_sessions(std::int64_t idle_before_ms, std::int64_t created_before_ms);

  // ---- security settings (name → value) ----
  Result<std::optional<std::string>> setting(std::string_view name);
  Result<void> set_setting(std::string_view name, std::string_view value);

  // ---- audit log: append-only (the schema refuses UPDATE, and DELETE of any entry younger than
  // kMinAuditRetentionDays by the host's clock) ----
  Result<std::int64_t> append_audit(const AuditEntry& entry);  // the entry's id
  // Deletes up to `limit` of the oldest entries written before `before_ms`; returns how many.
  // Ids are never reused. Fails (and deletes nothing) when one of them is younger than the minimum.
  Result<std::size_t> remove_audit_before(std::int64_t before_ms, std::size_t limit);
  // Up to `limit` entries with id > after_id, oldest first.
  Result<std::vector<AuditEntry>> audit_entries(std::int64_t after_id, std::size_t limit);
  // Up to `limit` entries with id < before_id, newest first (INT64_MAX: the newest of all).
  Result<std::vector<AuditEntry>> audit_entries_before(std::int64_t before_id, std::size_t limit);

  class Impl;

 private:
  explicit AccountDb(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kelvin::store
