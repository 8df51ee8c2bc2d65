#pragma once
// People's access to the gateway (docs/api.md, "Accounts and sessions"): users with a role, an
// Argon2id password and an optional TOTP second factor with recovery codes; server-side sessions
// with idle and absolute timeouts and a CSRF token each; sign-in limits; and the audit log, where
// every sign-in, failure, refusal and administrative change is written.
//
// Policy over store::AccountDb (the accounts.db file): kelvin-gateway serves it over HTTPS and
// kelvinctl changes it on the host, both through this class, so the rules are the same.
// Thread-safe. Calls that check or set a password (sign_in, change_password, add_user,
// set_password) run Argon2id for about 0.1–0.5 s and 64 MiB: run them off threads that serve
// others, a bounded number at a time. Everything else is one short SQLite statement or two.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kelvin/accounts/login_limiter.hpp"
#include "kelvin/accounts/role.hpp"
#include "kelvin/core/result.hpp"
#include "kelvin/store/account_db.hpp"

namespace kelvin::accounts {

struct AccountsOptions {
  std::int64_t session_idle_ms = 30 * 60'000;         // ended after this long without a request
  std::int64_t session_absolute_ms = 12 * 3'600'000;  // ended this long after sign-in, whatever
  std::string totp_issuer = "kelvin";                 // the name authenticator apps show
  // Audit entries older than this are deleted by apply_audit_retention(); at least
  // store::kMinAuditRetentionDays (the schema refuses younger).
  std::int64_t audit_retention_days = 365;
};

// Who did something, for the audit log.
struct Actor {
  std::string name;     // a user, "kelvinctl" or "gateway"
  std::string address;  // the client's IP address, or "local"
};

struct SessionView {
  std::string user;
  Role role = Role::viewer;
  std::string session_id;
  std::string csrf_token;
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;  // the absolute end
  bool second_factor_enrolled = false;
  // The installation requires a second factor and this user has none yet: the session may only
  // enrol one (and sign out) until it has.
  bool must_enrol_second_factor = false;
};

struct SignedIn {
  std::string token;  // the session cookie's secret: give it to the client only, never log it
  SessionView session;
};

enum class SignInRefusal {
  bad_credentials,         // unknown user or wrong password (not told apart)
  second_factor_required,  // the password was right; send the TOTP or a recovery code too
  bad_second_factor,       // the code is wrong, used already, or not a code
  too_many_attempts,       // see retry_after_ms
};
struct SignInRefused {
  SignInRefusal reason;
  std::int64_t retry_after_ms = 0;  // too_many_attempts only
};
std::string_view to_string(SignInRefusal reason);

struct UserView {
  std::string name;
  Role role = Role::viewer;
  std::int64_t created_ms = 0;
  std::int64_t password_changed_ms = 0;
  bool second_factor_enrolled = false;
  std::size_t recovery_codes_left = 0;
};

struct TotpEnrolment {
  std::string secret;  // base32, for typing in
  std::string uri;     // otpauth:// for a QR code
};

class Accounts {
 public:
  using Clock = std::function<std::int64_t()>;  // Unix milliseconds

  static Result<std::unique_ptr<Accounts>> open(const std::filesystem::path& db_file, AccountsOptions options = {},
                                                Clock clock = nullptr);

  // ---- first start ----
  // When there is no user at all: creates "admin" (role admin) with a generated password and
  // returns that password, which is nowhere else (only its hash is stored). nullopt when users exist.
  Result<std::optional<std::string>> create_first_admin();

  // ---- sessions ----
  // `code` is a TOTP code or a recovery code; required when the user has a second factor.
  // Audited either way. Errors are failures of the database, not refusals.
  Result<std::variant<SignedIn, SignInRefused>> sign_in(std::string_view user, std::string_view password,
                                                        std::string_view code, std::string_view address);
  // The session a cookie's token belongs to, if it is still valid (it is ended when it timed out
  // or its user was removed). Extends the idle timeout.
  Result<std::optional<SessionView>> session(std::string_view token);
  Result<void> sign_out(std::string_view token, const Actor& actor);

  // ---- one's own account ----
  // Ends every other session of the user. Errc::bad_credentials for a wrong current password,
  // Errc::invalid_argument for a new password that breaks the rules (password_problem).
  Result<void> change_password(const SessionView& session, std::string_view current, std::string_view replacement,
                               std::string_view address);
  Result<TotpEnrolment> begin_totp_enrolment(const SessionView& session, std::string_view address);
  // Confirms with a code from the app; returns the recovery codes (shown once, stored hashed).
  // Errc::bad_credentials for a wrong code, Errc::conflict when no enrolment was begun.
  Result<std::vector<std::string>> confirm_totp_enrolment(const SessionView& session, std::string_view code,
                                                          std::string_view address);

  // ---- administration (admins over HTTPS, root on the host through kelvinctl) ----
  Result<std::vector<UserView>> users();
  Result<std::optional<UserView>> user(std::string_view name);
  // Creates a user with a generated password, returned once. Errc::already_exists,
  // Errc::invalid_argument for a malformed name (user_name_problem).
  Result<std::string> add_user(std::string_view name, Role role, const Actor& actor);
  // Sets a chosen password (kelvinctl user passwd) and ends the user's sessions.
  Result<void> set_password(std::string_view name, std::string_view password, const Actor& actor);
  // A new generated password, returned once; ends the user's sessions.
  Result<std::string> reset_password(std::string_view name, const Actor& actor);
  // Errc::conflict when it would leave no admin (checked with the change, also against kelvinctl
  // and the gateway acting at once). Refusals are audited too.
  Result<void> remove_user(std::string_view name, const Actor& actor);
  // Errc::conflict when it would leave no admin, or the user has the role already.
  Result<void> set_role(std::string_view name, Role role, const Actor& actor);
  // Removes the second factor and recovery codes, and ends the user's sessions. Errc::conflict
  // when the user has no second factor.
  Result<void> reset_second_factor(std::string_view name, const Actor& actor);

  Result<bool> second_factor_required();
  // Audited when it changes; setting the current value does nothing.
  Result<void> require_second_factor(bool required, const Actor& actor);

  // ---- audit log ----
  // Appends; a failure to write is logged by the caller and must not stop the action's answer
  // from being an error (callers treat it like any database failure).
  Result<void> audit(const Actor& actor, std::string_view action, std::string_view target, std::string_view result,
                     std::string_view detail = {});
  // Oldest first after an entry id, or newest first before one (INT64_MAX: from the newest).
  Result<std::vector<store::AuditEntry>> audit_entries(std::int64_t after_id, std::size_t limit);
  Result<std::vector<store::AuditEntry>> audit_entries_before(std::int64_t before_id, std::size_t limit);

  // Deletes the audit entries older than AccountsOptions::audit_retention_days, oldest first, in
  // short transactions, and audits that it did (with how many and up to when); returns how many.
  Result<std::size_t> apply_audit_retention(const Actor& actor);

  // Ends sessions past their timeouts (they are refused anyway; this keeps the file small).
  Result<std::size_t> remove_expired_sessions();

  // ---- sign-in limits ----
  // The limits count failures in memory; the audit log has every one of them. Called once at a
  // start, this replays the failed and successful sign-ins (and failed password changes) of the
  // last kSignInMemoryMs, found among the newest kMaxRestoreScan entries (so a log flooded with
  // other entries cannot slow a start down much), so a restart does not hand a guesser fresh
  // attempts. Returns how many failures it counted.
  static constexpr std::int64_t kSignInMemoryMs = 24 * 3'600'000;
  static constexpr std::size_t kMaxRestoreScan = 100'000;
  Result<std::size_t> restore_sign_in_limits();

 private:
  Accounts(store::AccountDb db, AccountsOptions options, Clock clock);
  std::int64_t now() const { return clock_(); }
  Result<std::string> hash_new_password(std::string_view name, std::string_view password);
  Result<std::optional<SessionView>> view_of(const store::SessionRecord& record, std::string_view token_hash);
  Error refused(const Actor& actor, std::string_view action, std::string_view target, Error error);
  const std::string& dummy_hash();

  mutable std::mutex mutex_;  // guards db_ (one SQLite connection)
  store::AccountDb db_;
  AccountsOptions options_;
  Clock clock_;
  LoginLimiter limiter_;
  // Verified against for unknown users, so timing does not tell them apart.
  std::once_flag dummy_hash_once_;
  std::string dummy_hash_;
};

// Why `name` cannot be a user name, or nullopt: 1–64 characters of a–z, 0–9, '.', '_', '-',
// starting with a letter.
std::optional<std::string> user_name_problem(std::string_view name);
// Why `password` cannot be chosen for `user`, or nullopt: at least 12 characters (UTF-8 code
// points), at most 256 bytes, not the user name.
std::optional<std::string> password_problem(std::string_view user, std::string_view password);

}  // namespace kelvin::accounts
