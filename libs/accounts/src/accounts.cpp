#include "kelvin/accounts/accounts.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <utility>

#include "kelvin/accounts/totp.hpp"
#include "kelvin/core/time_format.hpp"
#include "kelvin/crypto/digest.hpp"
#include "kelvin/crypto/password_hash.hpp"
#include "kelvin/crypto/random.hpp"

namespace kelvin::accounts {

namespace {

constexpr std::size_t kRecoveryCodes = 10;
// A session's last_seen is written at most this often: a request does not cost a write.
constexpr std::int64_t kTouchIntervalMs = 60'000;
constexpr const char* kRequireSecondFactorSetting = "require_second_factor";

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `groups` groups of five lowercase base32 characters joined by '-': 5 bits each, easy to read out.
Result<std::string> random_words(std::size_t groups) {
  std::vector<unsigned char> bytes(groups * 5 * 5 / 8 + 1);
  if (auto drawn = crypto::random_bytes(bytes); !drawn) return std::move(drawn).error();
  std::string letters = base32_encode(bytes);
  std::transform(letters.begin(), letters.end(), letters.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  std::string out;
  for (std::size_t group = 0; group < groups; ++group) {
    if (group > 0) out += '-';
    out += letters.substr(group * 5, 5);
  }
  return out;
}

Result<std::string> generated_password() {
  return random_words(4);  // 100 bits
}

// Recovery codes are compared by a hash of their letters only, salted with the user's name.
std::string recovery_code_hash(std::string_view user, std::string_view code) {
  std::string letters;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    letters += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return crypto::sha256_hex(std::string(user) + ":" + letters);
}

std::optional<Role> role_of(const store::UserRecord& user) {
  return parse_role(user.role);
}

UserView view_of_user(const store::UserRecord& user) {
  return UserView{user.name,
                  role_of(user).value_or(Role::viewer),
                  user.created_ms,
                  user.password_changed_ms,
                  user.totp_secret.has_value(),
                  user.recovery_codes_left};
}

// A user-supplied name as it may appear in the audit log: bounded, printable.
std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

}  // namespace

std::string_view to_string(SignInRefusal reason) {
  switch (reason) {
    case SignInRefusal::bad_credentials:
      return "bad_credentials";
    case SignInRefusal::second_factor_required:
      return "second_factor_required";
    case SignInRefusal::bad_second_factor:
      return "bad_second_factor";
    case SignInRefusal::too_many_attempts:
      return "too_many_attempts";
  }
  return "bad_credentials";
}

std::optional<std::string> user_name_problem(std::string_view name) {
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  };
  if (name.empty() || name.size() > 64 || !(name[0] >= 'a' && name[0] <= 'z') ||
      !std::all_of(name.begin(), name.end(), allowed)) {
    return "a user name is 1 to 64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter";
  }
  return std::nullopt;
}

std::optional<std::string> password_problem(std::string_view user, std::string_view password) {
  // Characters, not bytes: UTF-8 continuation bytes (10xxxxxx) do not start one.
  const auto characters = std::count_if(password.begin(), password.end(),
                                        [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; });
  if (characters < 12) return "a password must be at least 12 characters long";
  if (password.size() > crypto::kMaxPasswordBytes) {
    return "a password must be at most " + std::to_string(crypto::kMaxPasswordBytes) + " bytes long";
  }
  if (password == user) return "a password must not be the user name";
  return std::nullopt;
}

Result<std::unique_ptr<Accounts>> Accounts::open(const std::filesystem::path& db_file, AccountsOptions options,
                                                 Clock clock) {
  auto db = store::AccountDb::open(db_file);
  if (!db) return std::move(db).error();
  return std::unique_ptr<Accounts>(new Accounts(std::move(*db), std::move(options), clock ? clock : system_now_ms));
}

Accounts::Accounts(store::AccountDb db, AccountsOptions options, Clock clock)
    : db_(std::move(db)), options_(std::move(options)), clock_(std::move(clock)) {}

const std::string& Accounts::dummy_hash() {
  // Made at the first sign-in of an unknown user, not at open: kelvinctl opens often and signs in never.
  std::call_once(dummy_hash_once_, [this] {
    auto hash = crypto::hash_password("a password no account has");
    dummy_hash_ = hash ? std::move(*hash) : std::string();  // empty: verify_password says no, just faster
  });
  return dummy_hash_;
}

Result<void> Accounts::audit(const Actor& actor, std::string_view action, std::string_view target,
                             std::string_view result, std::string_view detail) {
  std::lock_guard lock(mutex_);
  auto appended = db_.append_audit(store::AuditEntry{0, now(), actor.name, actor.address, std::string(action),
                                                     std::string(target), std::string(result), std::string(detail)});
  if (!appended) return std::move(appended).error();
  return {};
}

Result<std::vector<store::AuditEntry>> Accounts::audit_entries(std::int64_t after_id, std::size_t limit) {
  std::lock_guard lock(mutex_);
  return db_.audit_entries(after_id, limit);
}

Result<std::vector<store::AuditEntry>> Accounts::audit_entries_before(std::int64_t before_id, std::size_t limit) {
  std::lock_guard lock(mutex_);
  return db_.audit_entries_before(before_id, limit);
}

Result<std::optional<std::string>> Accounts::create_first_admin() {
  {
    std::lock_guard lock(mutex_);
    auto count = db_.count_users();
    if (!count) return std::move(count).error();
    if (*count > 0) return std::optional<std::string>();
  }
  auto password = generated_password();
  if (!password) return std::move(password).error();
  auto hash = crypto::hash_password(*password);
  if (!hash) return std::move(hash).error();
  std::lock_guard lock(mutex_);
  const std::int64_t at = now();
  if (auto added = db_.add_user(store::UserRecord{"admin", "admin", *hash, at, at, std::nullopt, std::nullopt, 0, 0});
      !added) {
    // Another process created it meanwhile: its password is the one that counts.
    if (added.error().code == Errc::already_exists) return std::optional<std::string>();
    return std::move(added).error();
  }
  if (auto logged = db_.append_audit({0, at, "gateway", "local", "user_add", "admin", "ok", "first start: role admin"});
      !logged) {
    return std::move(logged).error();
  }
  return std::optional<std::string>(std::move(*password));
}

Result<std::variant<SignedIn, SignInRefused>> Accounts::sign_in(std::string_view user_name, std::string_view password,
                                                                std::string_view code, std::string_view address) {
  using Outcome = std::variant<SignedIn, SignInRefused>;
  const Actor actor{printable(user_name), std::string(address)};
  // Limited by the name as the audit log records it (printable), so restore_sign_in_limits() finds
  // the same account; a real user's name is printable already.
  if (auto wait = limiter_.refused_for_ms(actor.name, address, now())) {
    return Outcome(SignInRefused{SignInRefusal::too_many_attempts, *wait});
  }
  std::optional<store::UserRecord> user;
  {
    std::lock_guard lock(mutex_);
    auto found = db_.user(user_name);
    if (!found) return std::move(found).error();
    user = std::move(*found);
  }
  // Argon2id outside the lock; an unknown user costs the same as a wrong password.
  const bool password_ok = crypto::verify_password(user ? user->password_hash : dummy_hash(), password) && user;
  auto refuse = [&](SignInRefusal reason, std::string_view detail) -> Result<Outcome> {
    limiter_.record_failure(actor.name, address, now());
    if (auto logged = audit(actor, "login", actor.name, "failed", detail); !logged) return std::move(logged).error();
    return Outcome(SignInRefused{reason, 0});
  };
  if (!password_ok) return refuse(SignInRefusal::bad_credentials, user ? "wrong password" : "unknown user");

  if (user->totp_secret) {
    if (code.empty()) return Outcome(SignInRefused{SignInRefusal::second_factor_required, 0});
    std::lock_guard lock(mutex_);
    bool accepted = false;
    if (auto step = match_totp(*user->totp_secret, code, now())) {
      auto claimed = db_.claim_totp_step(user->name, *step);
      if (!claimed) return std::move(claimed).error();
      accepted = *claimed;
    } else {
      auto claimed = db_.claim_recovery_code(user->name, recovery_code_hash(user->name, code));
      if (!claimed) return std::move(claimed).error();
      accepted = *claimed;
    }
    if (!accepted) {
      limiter_.record_failure(actor.name, address, now());
      auto logged = db_.append_audit({0, now(), actor.name, actor.address, "login", actor.name, "failed",
                                      "wrong, reused or malformed second-factor code"});
      if (!logged) return std::move(logged).error();
      return Outcome(SignInRefused{SignInRefusal::bad_second_factor, 0});
    }
  }
  limiter_.record_success(actor.name);

  auto token = crypto::random_token(32);
  auto id = crypto::random_token(12);
  auto csrf = crypto::random_token(32);
  if (!token || !id || !csrf) return make_error(Errc::crypto, "cannot draw a session token");
  store::SessionRecord record{crypto::sha256_hex(*token), *id, user->name, *csrf, now(), now(), std::string(address)};
  std::lock_guard lock(mutex_);
  if (auto added = db_.add_session(record); !added) return std::move(added).error();
  if (auto logged = db_.append_audit({0, now(), user->name, actor.address, "login", user->name, "ok",
                                      user->totp_secret ? "with second factor" : "password only"});
      !logged) {
    return std::move(logged).error();
  }
  auto view = view_of(record, record.token_hash);
  if (!view) return std::move(view).error();
  if (!*view) return make_error(Errc::conflict, "the user was removed while signing in");
  return Outcome(SignedIn{std::move(*token), std::move(**view)});
}

// Precondition: mutex_ held.
Result<std::optional<SessionView>> Accounts::view_of(const store::SessionRecord& record, std::string_view token_hash) {
  auto user = db_.user(record.user);
  if (!user) return std::move(user).error();
  const std::int64_t at = now();
  const bool expired =
      at - record.last_seen_ms > options_.session_idle_ms || at - record.created_ms > options_.session_absolute_ms;
  const auto role = *user ? role_of(**user) : std::nullopt;
  if (expired || !role) {
    if (auto removed = db_.remove_session(token_hash); !removed) return std::move(removed).error();
    return std::optional<SessionView>();
  }
  auto required = db_.setting(kRequireSecondFactorSetting);
  if (!required) return std::move(required).error();
  const bool enrolled = (*user)->totp_secret.has_value();
  return std::optional<SessionView>(SessionView{record.user, *role, record.id, record.csrf_token, record.created_ms,
                                                record.created_ms + options_.session_absolute_ms, enrolled,
                                                !enrolled && *required == std::optional<std::string>("true")});
}

Result<std::optional<SessionView>> Accounts::session(std::string_view token) {
  if (token.empty() || token.size() > 128) return std::optional<SessionView>();
  const std::string token_hash = crypto::sha256_hex(token);
  std::lock_guard lock(mutex_);
  auto record = db_.session(token_hash);
  if (!record) return std::move(record).error();
  if (!*record) return std::optional<SessionView>();
  auto view = view_of(**record, token_hash);
  if (!view || !*view) return view;
  if (now() - (*record)->last_seen_ms >= kTouchIntervalMs) {
    if (auto touched = db_.touch_session(token_hash, now()); !touched) return std::move(touched).error();
  }
  return view;
}

Result<void> Accounts::sign_out(std::string_view token, const Actor& actor) {
  {
    std::lock_guard lock(mutex_);
    if (auto removed = db_.remove_session(crypto::sha256_hex(token)); !removed) return removed;
  }
  return audit(actor, "logout", actor.name, "ok");
}

Result<std::string> Accounts::hash_new_password(std::string_view name, std::string_view password) {
  if (auto problem = password_problem(name, password)) return make_error(Errc::invalid_argument, *problem);
  return crypto::hash_password(password);
}

Result<void> Accounts::change_password(const SessionView& session, std::string_view current,
                                       std::string_view replacement, std::string_view address) {
  const Actor actor{session.user, std::string(address)};
  std::string stored_hash;
  {
    std::lock_guard lock(mutex_);
    auto user = db_.user(session.user);
    if (!user) return std::move(user).error();
    if (!*user) return make_error(Errc::not_found, "no user '" + session.user + "'");
    stored_hash = (*user)->password_hash;
  }
  if (!crypto::verify_password(stored_hash, current)) {
    limiter_.record_failure(session.user, address, now());
    if (auto logged = audit(actor, "password_change", session.user, "failed", "wrong current password"); !logged) {
      return logged;
    }
    return make_error(Errc::bad_credentials, "the current password is wrong");
  }
  auto hash = hash_new_password(session.user, replacement);
  if (!hash) return std::move(hash).error();
  {
    std::lock_guard lock(mutex_);
    if (auto set = db_.set_password_hash(session.user, *hash, now(), session.session_id); !set) return set;
  }
  return audit(actor, "password_change", session.user, "ok", "other sessions ended");
}

Result<TotpEnrolment> Accounts::begin_totp_enrolment(const SessionView& session, std::string_view address) {
  auto secret = new_totp_secret();
  if (!secret) return std::move(secret).error();
  {
    std::lock_guard lock(mutex_);
    if (auto set = db_.set_totp_pending(session.user, *secret); !set) return std::move(set).error();
  }
  if (auto logged = audit({session.user, std::string(address)}, "totp_enrol_begin", session.user, "ok"); !logged) {
    return std::move(logged).error();
  }
  return TotpEnrolment{*secret, totp_uri(options_.totp_issuer, session.user, *secret)};
}

Result<std::vector<std::string>> Accounts::confirm_totp_enrolment(const SessionView& session, std::string_view code,
                                                                  std::string_view address) {
  const Actor actor{session.user, std::string(address)};
  std::vector<std::string> codes;
  std::vector<std::string> hashes;
  for (std::size_t i = 0; i < kRecoveryCodes; ++i) {
    auto recovery = random_words(2);
    if (!recovery) return std::move(recovery).error();
    hashes.push_back(recovery_code_hash(session.user, *recovery));
    codes.push_back(std::move(*recovery));
  }
  std::lock_guard lock(mutex_);
  auto user = db_.user(session.user);
  if (!user) return std::move(user).error();
  if (!*user || !(*user)->totp_pending_secret) {
    return make_error(Errc::conflict, "no second factor is being enrolled: begin the enrolment first");
  }
  auto step = match_totp(*(*user)->totp_pending_secret, code, now());
  if (!step) {
    auto logged = db_.append_audit(
        {0, now(), actor.name, actor.address, "totp_enrol", session.user, "failed", "wrong confirmation code"});
    if (!logged) return std::move(logged).error();
    return make_error(Errc::bad_credentials, "the code does not match: check the authenticator app's clock");
  }
  if (auto activated = db_.activate_totp(session.user, *step, hashes); !activated) {
    return std::move(activated).error();
  }
  auto logged = db_.append_audit({0, now(), actor.name, actor.address, "totp_enrol", session.user, "ok",
                                  std::to_string(kRecoveryCodes) + " recovery codes issued"});
  if (!logged) return std::move(logged).error();
  return codes;
}

Result<std::vector<UserView>> Accounts::users() {
  std::lock_guard lock(mutex_);
  auto records = db_.users();
  if (!records) return std::move(records).error();
  std::vector<UserView> out;
  for (const auto& record : *records) out.push_back(view_of_user(record));
  return out;
}

Result<std::optional<UserView>> Accounts::user(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto record = db_.user(name);
  if (!record) return std::move(record).error();
  if (!*record) return std::optional<UserView>();
  return std::optional<UserView>(view_of_user(**record));
}

Result<std::string> Accounts::add_user(std::string_view name, Role role, const Actor& actor) {
  if (auto problem = user_name_problem(name)) return make_error(Errc::invalid_argument, *problem);
  auto password = generated_password();
  if (!password) return std::move(password).error();
  auto hash = crypto::hash_password(*password);
  if (!hash) return std::move(hash).error();
  std::lock_guard lock(mutex_);
  const std::int64_t at = now();
  if (auto added = db_.add_user(
          {std::string(name), std::string(to_string(role)), *hash, at, at, std::nullopt, std::nullopt, 0, 0});
      !added) {
    return std::move(added).error();
  }
  auto logged = db_.append_audit(
      {0, at, actor.name, actor.address, "user_add", std::string(name), "ok", "role " + std::string(to_string(role))});
  if (!logged) return std::move(logged).error();
  return std::move(*password);
}

Result<void> Accounts::set_password(std::string_view name, std::string_view password, const Actor& actor) {
  auto hash = hash_new_password(name, password);
  if (!hash) return std::move(hash).error();
  std::lock_guard lock(mutex_);
  if (auto set = db_.set_password_hash(name, *hash, now()); !set) return set;
  auto logged = db_.append_audit(
      {0, now(), actor.name, actor.address, "password_set", std::string(name), "ok", "the user's sessions ended"});
  if (!logged) return std::move(logged).error();
  return {};
}

Result<std::string> Accounts::reset_password(std::string_view name, const Actor& actor) {
  auto password = generated_password();
  if (!password) return std::move(password).error();
  if (auto set = set_password(name, *password, actor); !set) return std::move(set).error();
  return std::move(*password);
}

// Precondition: mutex_ held. Writes the refusal of an administrative change to the audit log, so
// refused attempts show there as well as done ones, and returns the refusal.
Error Accounts::refused(const Actor& actor, std::string_view action, std::string_view target, Error error) {
  if (error.code == Errc::conflict || error.code == Errc::not_found || error.code == Errc::invalid_argument) {
    if (auto logged = db_.append_audit(
            {0, now(), actor.name, actor.address, std::string(action), std::string(target), "denied", error.message});
        !logged) {
      return std::move(logged).error();
    }
  }
  return error;
}

Result<void> Accounts::remove_user(std::string_view name, const Actor& actor) {
  std::lock_guard lock(mutex_);
  if (auto removed = db_.remove_user(name); !removed) {
    return refused(actor, "user_remove", name, std::move(removed).error());
  }
  auto logged = db_.append_audit({0, now(), actor.name, actor.address, "user_remove", std::string(name), "ok", ""});
  if (!logged) return std::move(logged).error();
  return {};
}

Result<void> Accounts::set_role(std::string_view name, Role role, const Actor& actor) {
  std::lock_guard lock(mutex_);
  auto record = db_.user(name);
  if (!record) return std::move(record).error();
  if (!*record)
    return refused(actor, "user_role", name, make_error(Errc::not_found, "no user '" + std::string(name) + "'"));
  if (role_of(**record) == role) {
    return make_error(Errc::conflict, "'" + std::string(name) + "' has the role " + std::string(to_string(role)) +
                                          " already: nothing changed");
  }
  if (auto set = db_.set_role(name, to_string(role)); !set)
    return refused(actor, "user_role", name, std::move(set).error());
  auto logged = db_.append_audit({0, now(), actor.name, actor.address, "user_role", std::string(name), "ok",
                                  (*record)->role + " -> " + std::string(to_string(role))});
  if (!logged) return std::move(logged).error();
  return {};
}

Result<void> Accounts::reset_second_factor(std::string_view name, const Actor& actor) {
  std::lock_guard lock(mutex_);
  if (auto cleared = db_.clear_totp(name); !cleared)
    return refused(actor, "totp_reset", name, std::move(cleared).error());
  auto ended = db_.remove_sessions_of(name);
  if (!ended) return std::move(ended).error();
  auto logged = db_.append_audit({0, now(), actor.name, actor.address, "totp_reset", std::string(name), "ok",
                                  std::to_string(*ended) + " sessions ended"});
  if (!logged) return std::move(logged).error();
  return {};
}

Result<bool> Accounts::second_factor_required() {
  std::lock_guard lock(mutex_);
  auto value = db_.setting(kRequireSecondFactorSetting);
  if (!value) return std::move(value).error();
  return *value == std::optional<std::string>("true");
}

Result<void> Accounts::require_second_factor(bool required, const Actor& actor) {
  std::lock_guard lock(mutex_);
  auto current = db_.setting(kRequireSecondFactorSetting);
  if (!current) return std::move(current).error();
  if ((*current == std::optional<std::string>("true")) == required) return {};  // unchanged: nothing to audit
  if (auto set = db_.set_setting(kRequireSecondFactorSetting, required ? "true" : "false"); !set) return set;
  auto logged = db_.append_audit(
      {0, now(), actor.name, actor.address, "setting", kRequireSecondFactorSetting, "ok", required ? "true" : "false"});
  if (!logged) return std::move(logged).error();
  return {};
}

Result<std::size_t> Accounts::apply_audit_retention(const Actor& actor) {
  // Short transactions: a sign-in waiting for the file waits for one batch at most.
  constexpr std::size_t kBatch = 1'000;
  constexpr std::int64_t kDayMs = 86'400'000;
  const std::int64_t days = std::max(options_.audit_retention_days, store::kMinAuditRetentionDays);
  const std::int64_t before_ms = now() - days * kDayMs;
  std::size_t removed = 0;
  Result<std::size_t> batch = std::size_t{0};
  do {
    std::lock_guard lock(mutex_);
    batch = db_.remove_audit_before(before_ms, kBatch);
    if (batch) removed += *batch;
  } while (batch && *batch == kBatch);
  // What was removed before a failure is audited all the same.
  if (removed > 0) {
    const std::string detail = "removed " + std::to_string(removed) + " written before " +
                               format_utc_timestamp(static_cast<std::time_t>(before_ms / 1000)) + " (retention " +
                               std::to_string(days) + " days)";
    if (auto logged = audit(actor, "audit_retention", "audit", "ok", detail); !logged) return std::move(logged).error();
  }
  if (!batch) return std::move(batch).error();
  return removed;
}

Result<std::size_t> Accounts::restore_sign_in_limits() {
  // Newest first, page by page, back to the horizon; then replayed oldest first, as they happened.
  constexpr std::size_t kPage = 1'000;
  const std::int64_t horizon = now() - kSignInMemoryMs;
  std::vector<store::AuditEntry> counted;
  std::int64_t before_id = INT64_MAX;
  for (std::size_t scanned = 0; scanned < kMaxRestoreScan; scanned += kPage) {
    Result<std::vector<store::AuditEntry>> page = [&] {
      std::lock_guard lock(mutex_);
      return db_.audit_entries_before(before_id, kPage);
    }();
    if (!page) return std::move(page).error();
    if (page->empty()) break;
    before_id = page->back().id;
    bool past_horizon = false;
    for (auto& entry : *page) {
      if (entry.at_ms < horizon) {
        past_horizon = true;
        break;
      }
      if (entry.action == "login" || entry.action == "password_change") counted.push_back(std::move(entry));
    }
    if (past_horizon) break;
  }
  std::size_t failures = 0;
  for (auto entry = counted.rbegin(); entry != counted.rend(); ++entry) {
    if (entry->result == "failed") {
      limiter_.record_failure(entry->actor, entry->address, entry->at_ms);
      ++failures;
    } else if (entry->action == "login" && entry->result == "ok") {
      limiter_.record_success(entry->actor);
    }
  }
  return failures;
}

Result<std::size_t> Accounts::remove_expired_sessions() {
  std::lock_guard lock(mutex_);
  const std::int64_t at = now();
  return db_.remove_expired_sessions(at - options_.session_idle_ms, at - options_.session_absolute_ms);
}

}  // namespace kelvin::accounts
