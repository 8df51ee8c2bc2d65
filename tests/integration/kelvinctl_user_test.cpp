// `kelvinctl user ...` as an administrator uses it on the gateway host: the real kelvinctl binary
// on a temporary state dir, its effects checked by opening the same accounts.db with libs/accounts
// (the code kelvin-gateway signs people in with): passwords that sign in or are refused, roles,
// second factors enrolled the way the dashboard will, sessions ended, and the audit log.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "kelvin/accounts/accounts.hpp"
#include "kelvin/accounts/totp.hpp"
#include "kelvin/testing/process.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using kelvin::accounts::Accounts;
using kelvin::accounts::Role;
using kelvin::accounts::SignedIn;
using kelvin::accounts::SignInRefusal;
using kelvin::accounts::SignInRefused;
using kelvin::testing::CommandOptions;
using kelvin::testing::CommandResult;
using kelvin::testing::project_binary;
using kelvin::testing::run_command;
using kelvin::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr const char* kAddress = "192.0.2.10";

// The one line of `text` that starts with `prefix`, "" if none.
std::string line_starting(const std::string& text, const std::string& prefix) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(prefix)) return line;
  }
  return {};
}

// A failure as the house style wants it: the exit status, and exactly one line on stderr.
void expect_one_line_failure(const CommandResult& r, int exit_code, const std::string& what) {
  EXPECT_EQ(r.exit_code, exit_code) << what << "\n" << describe(r);
  EXPECT_THAT(r.err, StartsWith("kelvinctl: ")) << what;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << "\n" << r.err;
}

class KelvinctlUser : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(state_dir()); }

  fs::path state_dir() const { return dir_ / "state"; }
  fs::path accounts_file() const { return state_dir() / "accounts.db"; }

  // kelvinctl with the state dir from the environment, as an administrator would set it.
  CommandResult ctl(std::vector<std::string> args, CommandOptions options = {}) {
    args.insert(args.begin(), project_binary("kelvinctl"));
    options.env.emplace("KELVIN_STATE_DIR", state_dir().string());
    return run_command(args, options);
  }

  // `user passwd NAME` with `input` piped to its stdin.
  CommandResult passwd(const std::string& name, const std::string& input) {
    CommandOptions options;
    options.stdin_data = input;
    return ctl({"user", "passwd", name}, options);
  }

  // `user add NAME --role ROLE --json`; returns the password it printed.
  std::string add_user(const std::string& name, const std::string& role) {
    auto r = ctl({"user", "add", name, "--role", role, "--json"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    auto json = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(json.is_object()) << r.out;
    return json.is_object() ? json.value("password", "") : "";
  }

  // The accounts database as kelvin-gateway opens it (opened on first use, after kelvinctl made it).
  Accounts& accounts() {
    if (!accounts_) {
      auto opened = Accounts::open(accounts_file());
      EXPECT_TRUE(opened.ok()) << opened.error().message;
      if (opened) accounts_ = std::move(*opened);
    }
    return *accounts_;
  }

  std::variant<SignedIn, SignInRefused> sign_in(const std::string& user, const std::string& password,
                                                const std::string& code = {}) {
    auto outcome = accounts().sign_in(user, password, code, kAddress);
    EXPECT_TRUE(outcome.ok()) << outcome.error().message;
    if (!outcome) return SignInRefused{SignInRefusal::bad_credentials, 0};
    return std::move(*outcome);
  }
  bool signs_in(const std::string& user, const std::string& password) {
    return std::holds_alternative<SignedIn>(sign_in(user, password));
  }
  SignedIn signed_in(const std::string& user, const std::string& password) {
    auto outcome = sign_in(user, password);
    EXPECT_TRUE(std::holds_alternative<SignedIn>(outcome)) << user;
    return std::holds_alternative<SignedIn>(outcome) ? std::get<SignedIn>(std::move(outcome)) : SignedIn{};
  }
  bool session_alive(const SignedIn& signed_in) {
    auto session = accounts().session(signed_in.token);
    EXPECT_TRUE(session.ok());
    return session.ok() && session->has_value();
  }

  std::optional<kelvin::accounts::UserView> user(const std::string& name) {
    auto found = accounts().user(name);
    EXPECT_TRUE(found.ok());
    return found.ok() ? *found : std::nullopt;
  }

  // Enrols a TOTP second factor as the dashboard will: the user begins, then confirms with a code
  // from the app (computed here). Returns the secret.
  std::string enrol_second_factor(const SignedIn& signed_in) {
    auto enrolment = accounts().begin_totp_enrolment(signed_in.session, kAddress);
    EXPECT_TRUE(enrolment.ok());
    if (!enrolment) return {};
    auto secret = kelvin::accounts::base32_decode(enrolment->secret);
    EXPECT_TRUE(secret.has_value());
    const std::string code = kelvin::accounts::totp_code(*secret, kelvin::accounts::totp_step(now_ms()));
    auto codes = accounts().confirm_totp_enrolment(signed_in.session, code, kAddress);
    EXPECT_TRUE(codes.ok()) << codes.error().message;
    EXPECT_EQ(codes.ok() ? codes->size() : 0u, 10u);
    return enrolment->secret;
  }

  nlohmann::json list_json() {
    auto r = ctl({"user", "list", "--json"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    auto json = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(json.is_object()) << r.out;
    return json;
  }

  static nlohmann::json entry(const nlohmann::json& list, const std::string& name) {
    for (const auto& user : list.value("users", nlohmann::json::array())) {
      if (user.value("name", "") == name) return user;
    }
    return nullptr;
  }

  // "action:target:result" of every audit entry kelvinctl wrote; every one of them must say "local".
  std::vector<std::string> kelvinctl_audit() {
    auto entries = accounts().audit_entries(0, 1000);
    EXPECT_TRUE(entries.ok());
    std::vector<std::string> out;
    for (const auto& entry : entries.ok() ? *entries : std::vector<kelvin::store::AuditEntry>{}) {
      if (entry.actor != "kelvinctl") continue;
      EXPECT_EQ(entry.address, "local") << entry.action;
      out.push_back(entry.action + ":" + entry.target + ":" + entry.result);
    }
    return out;
  }

  static std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  TempDir dir_;
  std::unique_ptr<Accounts> accounts_;
};

TEST_F(KelvinctlUser, AddPrintsAGeneratedPasswordOnceThatSignsIn) {
  auto r = ctl({"user", "add", "bob"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("Added user bob with role viewer"));
  EXPECT_THAT(r.out, HasSubstr("shown only now"));
  EXPECT_THAT(r.out, HasSubstr("change it after signing in"));
  const std::string line = line_starting(r.out, "Password: ");
  ASSERT_FALSE(line.empty()) << r.out;
  const std::string password = line.substr(std::string("Password: ").size());
  EXPECT_EQ(password.size(), 23u) << password;  // four groups of five letters

  EXPECT_TRUE(signs_in("bob", password));
  EXPECT_FALSE(signs_in("bob", password + "x"));
  ASSERT_TRUE(user("bob").has_value());
  EXPECT_EQ(user("bob")->role, Role::viewer);
  // The database kelvinctl created is private to its owner.
  struct stat st {};
  ASSERT_EQ(::stat(accounts_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // With nobody able to manage the installation (the gateway makes its first admin only when there
  // is no user at all), kelvinctl warns.
  EXPECT_THAT(r.err, HasSubstr("no admin"));

  // --json, with another role.
  auto json_run = ctl({"user", "add", "alice", "--role", "admin", "--json"});
  ASSERT_EQ(json_run.exit_code, 0) << describe(json_run);
  EXPECT_EQ(json_run.err, "");
  auto json = nlohmann::json::parse(json_run.out, nullptr, false);
  ASSERT_TRUE(json.is_object()) << json_run.out;
  EXPECT_EQ(json.value("user", ""), "alice");
  EXPECT_EQ(json.value("role", ""), "admin");
  EXPECT_TRUE(signs_in("alice", json.value("password", "")));
  EXPECT_EQ(user("alice")->role, Role::admin);

  expect_one_line_failure(ctl({"user", "add", "bob"}), 1, "a taken name");
  expect_one_line_failure(ctl({"user", "add", "Bob"}), 2, "a malformed name");
  expect_one_line_failure(ctl({"user", "add", "carol", "--role", "root"}), 2, "an unknown role");
  EXPECT_FALSE(user("carol").has_value());
}

TEST_F(KelvinctlUser, ListShowsUsersRolesAndSecondFactorsAsTableAndJson) {
  // Before any user exists: said so, and nothing is created by looking.
  auto empty = ctl({"user", "list"});
  ASSERT_EQ(empty.exit_code, 0) << describe(empty);
  EXPECT_THAT(empty.out, HasSubstr("No users yet"));
  auto empty_json = list_json();
  EXPECT_EQ(empty_json["users"], nlohmann::json::array());
  EXPECT_EQ(empty_json["second_factor_required"], false);
  EXPECT_FALSE(fs::exists(accounts_file()));

  const std::string alice_password = add_user("alice", "admin");
  add_user("bob", "operator");
  add_user("carol", "viewer");
  const std::string secret = enrol_second_factor(signed_in("alice", alice_password));

  auto r = ctl({"user", "list"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(line_starting(r.out, "Second factor required:"), "Second factor required: no") << r.out;
  const std::string header = line_starting(r.out, "NAME");
  EXPECT_THAT(header, HasSubstr("ROLE"));
  EXPECT_THAT(header, HasSubstr("SECOND FACTOR"));
  EXPECT_THAT(header, HasSubstr("RECOVERY CODES"));
  EXPECT_THAT(header, HasSubstr("CREATED"));
  EXPECT_THAT(header, HasSubstr("PASSWORD CHANGED"));
  EXPECT_THAT(line_starting(r.out, "alice "), ::testing::ContainsRegex("^alice +admin +yes +10 +20[0-9-]+T"));
  EXPECT_THAT(line_starting(r.out, "bob "), ::testing::ContainsRegex("^bob +operator +no +- +20[0-9-]+T"));
  EXPECT_THAT(line_starting(r.out, "carol "), ::testing::ContainsRegex("^carol +viewer +no +- +20[0-9-]+T"));

  auto json = list_json();
  EXPECT_EQ(json["second_factor_required"], false);
  ASSERT_EQ(json["users"].size(), 3u) << json.dump();
  const auto alice = entry(json, "alice");
  EXPECT_EQ(alice["role"], "admin");
  EXPECT_EQ(alice["second_factor"], true);
  EXPECT_EQ(alice["recovery_codes_left"], 10);
  EXPECT_EQ(alice["created_ms"], user("alice")->created_ms);
  EXPECT_EQ(alice["password_changed_ms"], user("alice")->password_changed_ms);
  EXPECT_THAT(alice.value("created", ""), ::testing::MatchesRegex("20[0-9-]+T[0-9:]+Z"));
  EXPECT_EQ(entry(json, "bob")["role"], "operator");
  EXPECT_EQ(entry(json, "bob")["second_factor"], false);
  EXPECT_EQ(entry(json, "carol")["role"], "viewer");

  // Nothing secret is ever shown: no password hash, no TOTP secret.
  for (const std::string& out : {r.out, json.dump()}) {
    EXPECT_THAT(out, Not(HasSubstr("argon2"))) << out;
    EXPECT_THAT(out, Not(HasSubstr(secret))) << out;
  }
}

TEST_F(KelvinctlUser, PasswdFromStdinReplacesThePasswordAndEndsTheSessions) {
  const std::string old_password = add_user("bob", "viewer");
  const SignedIn session = signed_in("bob", old_password);
  ASSERT_TRUE(session_alive(session));

  auto r = passwd("bob", "correct horse battery\n");
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("sessions were ended"));
  EXPECT_THAT(r.out, Not(HasSubstr("correct horse battery")));
  EXPECT_FALSE(signs_in("bob", old_password));
  EXPECT_TRUE(signs_in("bob", "correct horse battery"));
  EXPECT_FALSE(session_alive(session));

  // A line ending written by Windows tools is not part of the password.
  ASSERT_EQ(passwd("bob", "another good password\r\n").exit_code, 0);
  EXPECT_TRUE(signs_in("bob", "another good password"));
}

TEST_F(KelvinctlUser, PasswdRefusesAPasswordThatBreaksTheRulesAndChangesNothing) {
  const std::string password = add_user("bob", "viewer");

  auto short_one = passwd("bob", "too-short\n");
  expect_one_line_failure(short_one, 1, "a short password");
  EXPECT_THAT(short_one.err, HasSubstr("at least 12 characters"));
  expect_one_line_failure(passwd("bob", ""), 1, "no input at all");
  EXPECT_THAT(passwd("bob", "").err, HasSubstr("no password on standard input"));

  const std::string long_name = "administrator";  // 13 characters: long enough to be a password
  add_user(long_name, "viewer");
  auto name_as_password = passwd(long_name, long_name + "\n");
  expect_one_line_failure(name_as_password, 1, "the user name as password");
  EXPECT_THAT(name_as_password.err, HasSubstr("not be the user name"));

  EXPECT_TRUE(signs_in("bob", password));
  EXPECT_FALSE(signs_in("bob", "too-short"));
}

TEST_F(KelvinctlUser, PasswdGenerateSetsAndPrintsAWorkingPasswordOnce) {
  const std::string old_password = add_user("bob", "viewer");
  const SignedIn session = signed_in("bob", old_password);

  auto r = ctl({"user", "passwd", "bob", "--generate"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const std::string line = line_starting(r.out, "Password: ");
  ASSERT_FALSE(line.empty()) << r.out;
  const std::string password = line.substr(std::string("Password: ").size());
  EXPECT_THAT(r.out, HasSubstr("shown only now"));
  EXPECT_THAT(r.out, HasSubstr("sessions were ended"));
  EXPECT_NE(password, old_password);
  EXPECT_TRUE(signs_in("bob", password));
  EXPECT_FALSE(signs_in("bob", old_password));
  EXPECT_FALSE(session_alive(session));
}

TEST_F(KelvinctlUser, RemoveDeletesAUserButNeverTheLastAdmin) {
  const std::string alice_password = add_user("alice", "admin");
  const std::string bob_password = add_user("bob", "viewer");
  const SignedIn session = signed_in("bob", bob_password);

  auto r = ctl({"user", "remove", "bob"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("Removed user bob"));
  EXPECT_FALSE(user("bob").has_value());
  EXPECT_FALSE(signs_in("bob", bob_password));
  EXPECT_FALSE(session_alive(session));

  auto last = ctl({"user", "remove", "alice"});
  expect_one_line_failure(last, 1, "the last admin");
  EXPECT_THAT(last.err, HasSubstr("'alice' is the last admin"));
  EXPECT_TRUE(signs_in("alice", alice_password));

  // With another admin, the first may go.
  add_user("carol", "admin");
  ASSERT_EQ(ctl({"user", "remove", "alice"}).exit_code, 0);
  EXPECT_FALSE(user("alice").has_value());
}

TEST_F(KelvinctlUser, RoleChangesAUsersRoleButNeverTakesTheLastAdminAway) {
  add_user("alice", "admin");
  add_user("bob", "viewer");

  auto r = ctl({"user", "role", "bob", "operator"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("operator (was viewer)"));
  EXPECT_EQ(user("bob")->role, Role::operator_);

  auto unchanged = ctl({"user", "role", "bob", "operator"});
  ASSERT_EQ(unchanged.exit_code, 0) << describe(unchanged);
  EXPECT_THAT(unchanged.out, HasSubstr("nothing changed"));

  auto last = ctl({"user", "role", "alice", "viewer"});
  expect_one_line_failure(last, 1, "demoting the last admin");
  EXPECT_THAT(last.err, HasSubstr("last admin"));
  EXPECT_EQ(user("alice")->role, Role::admin);

  expect_one_line_failure(ctl({"user", "role", "bob", "superuser"}), 2, "an unknown role");
  expect_one_line_failure(ctl({"user", "role", "bob"}), 2, "no role");
  EXPECT_EQ(user("bob")->role, Role::operator_);
}

TEST_F(KelvinctlUser, ResetTotpClearsAnEnrolledSecondFactorAndEndsTheSessions) {
  const std::string password = add_user("bob", "operator");
  const SignedIn first = signed_in("bob", password);
  enrol_second_factor(first);
  ASSERT_TRUE(user("bob")->second_factor_enrolled);
  ASSERT_EQ(user("bob")->recovery_codes_left, 10u);
  auto needs_code = sign_in("bob", password);
  ASSERT_TRUE(std::holds_alternative<SignInRefused>(needs_code));
  EXPECT_EQ(std::get<SignInRefused>(needs_code).reason, SignInRefusal::second_factor_required);
  ASSERT_TRUE(session_alive(first));

  auto r = ctl({"user", "reset-totp", "bob"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("10 unused recovery code(s)"));
  EXPECT_THAT(r.out, HasSubstr("sessions were ended"));
  EXPECT_FALSE(user("bob")->second_factor_enrolled);
  EXPECT_EQ(user("bob")->recovery_codes_left, 0u);
  EXPECT_FALSE(session_alive(first));
  EXPECT_TRUE(signs_in("bob", password));  // the password alone again
  EXPECT_EQ(entry(list_json(), "bob")["second_factor"], false);

  auto again = ctl({"user", "reset-totp", "bob"});
  expect_one_line_failure(again, 1, "nothing to reset");
  EXPECT_THAT(again.err, HasSubstr("no second factor"));
}

TEST_F(KelvinctlUser, RequireSecondFactorOnAndOffShowsInList) {
  add_user("alice", "admin");
  EXPECT_EQ(list_json()["second_factor_required"], false);

  auto on = ctl({"user", "require-second-factor", "on"});
  ASSERT_EQ(on.exit_code, 0) << describe(on);
  EXPECT_THAT(on.out, HasSubstr("now required"));
  EXPECT_THAT(on.out, HasSubstr("Without one so far: alice"));
  EXPECT_EQ(list_json()["second_factor_required"], true);
  EXPECT_THAT(line_starting(ctl({"user", "list"}).out, "Second factor required:"),
              StartsWith("Second factor required: yes"));
  EXPECT_TRUE(*accounts().second_factor_required());

  auto off = ctl({"user", "require-second-factor", "off"});
  ASSERT_EQ(off.exit_code, 0) << describe(off);
  EXPECT_EQ(list_json()["second_factor_required"], false);
  EXPECT_FALSE(*accounts().second_factor_required());

  expect_one_line_failure(ctl({"user", "require-second-factor", "maybe"}), 2, "neither on nor off");
  EXPECT_EQ(list_json()["second_factor_required"], false);
}

TEST_F(KelvinctlUser, EveryChangeIsInTheAuditLogAsKelvinctl) {
  add_user("alice", "admin");
  const std::string password = add_user("bob", "viewer");
  ASSERT_EQ(passwd("bob", "a brand new password\n").exit_code, 0);
  ASSERT_EQ(ctl({"user", "role", "bob", "operator"}).exit_code, 0);
  const std::string generated = [&] {
    auto r = ctl({"user", "passwd", "bob", "--generate"});
    return line_starting(r.out, "Password: ").substr(std::string("Password: ").size());
  }();
  enrol_second_factor(signed_in("bob", generated));
  ASSERT_EQ(ctl({"user", "reset-totp", "bob"}).exit_code, 0);
  ASSERT_EQ(ctl({"user", "require-second-factor", "on"}).exit_code, 0);
  ASSERT_EQ(ctl({"user", "remove", "bob"}).exit_code, 0);
  // A refused change is logged as denied; reads are not logged.
  ASSERT_EQ(ctl({"user", "remove", "alice"}).exit_code, 1);
  ASSERT_EQ(ctl({"user", "list"}).exit_code, 0);

  EXPECT_THAT(kelvinctl_audit(),
              ::testing::ElementsAre("user_add:alice:ok", "user_add:bob:ok", "password_set:bob:ok", "user_role:bob:ok",
                                     "password_set:bob:ok", "totp_reset:bob:ok", "setting:require_second_factor:ok",
                                     "user_remove:bob:ok", "user_remove:alice:denied"));
  // No password in the log.
  auto entries = accounts().audit_entries(0, 1000);
  ASSERT_TRUE(entries.ok());
  for (const auto& entry : *entries) {
    EXPECT_THAT(entry.detail, Not(HasSubstr(password)));
    EXPECT_THAT(entry.detail, Not(HasSubstr(generated)));
    EXPECT_THAT(entry.detail, Not(HasSubstr("a brand new password")));
  }
}

// `kelvinctl audit export` (docs/api.md): more than one page of entries, one of them with a
// newline, a quote and a byte that is not UTF-8 in its detail, as the gateway's own log has them.
TEST_F(KelvinctlUser, AuditExportWritesEveryEntryAsOneJsonLineOldestFirst) {
  add_user("alice", "admin");
  const kelvin::accounts::Actor gateway{"gateway", "local"};
  for (int i = 0; i < 1005; ++i) {
    const std::string detail = i == 500 ? "line one\nline \"two\" \xff" : "detail " + std::to_string(i);
    ASSERT_TRUE(accounts().audit(gateway, "setting", "target-" + std::to_string(i), "ok", detail).ok());
  }
  auto everything = ctl({"audit", "export"});
  ASSERT_EQ(everything.exit_code, 0) << describe(everything);
  EXPECT_EQ(everything.err, "") << "stdout holds the lines, nothing else is said";
  std::vector<std::string> lines;
  std::istringstream stream(everything.out);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 1006u);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto entry = nlohmann::ordered_json::parse(lines[i], nullptr, false);
    ASSERT_TRUE(entry.is_object()) << lines[i];
    EXPECT_EQ(entry.value("id", 0), static_cast<int>(i) + 1) << "oldest first, every entry once";
    std::vector<std::string> keys;
    for (const auto& item : entry.items()) keys.push_back(item.key());
    EXPECT_THAT(
        keys, ::testing::ElementsAre("id", "at", "at_ms", "actor", "address", "action", "target", "result", "detail"));
  }
  EXPECT_THAT(lines[0], HasSubstr(R"("actor":"kelvinctl","address":"local","action":"user_add","target":"alice")"));
  auto odd = nlohmann::json::parse(lines[501]);
  EXPECT_EQ(odd["detail"], "line one\nline \"two\" \xEF\xBF\xBD") << "escaped; the stray byte replaced";
  EXPECT_EQ(odd["actor"], "gateway");

  auto after = ctl({"audit", "export", "--after", "1000"});
  ASSERT_EQ(after.exit_code, 0) << describe(after);
  EXPECT_EQ(after.out, lines[1000] + "\n" + lines[1001] + "\n" + lines[1002] + "\n" + lines[1003] + "\n" + lines[1004] +
                           "\n" + lines[1005] + "\n");

  // To a file: only its owner reads it, and an earlier export is never overwritten.
  const fs::path file = dir_ / "audit.jsonl";
  auto saved = ctl({"audit", "export", "--output", file.string()});
  ASSERT_EQ(saved.exit_code, 0) << describe(saved);
  EXPECT_EQ(saved.err, "exported 1006 audit log entries (ids 1 to 1006) to " + file.string() + "\n");
  EXPECT_EQ(kelvin::testing::read_text(file), everything.out);
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  auto again = ctl({"audit", "export", "--output", file.string()});
  expect_one_line_failure(again, 1, "an existing file");
  EXPECT_THAT(again.err, HasSubstr("never overwrites"));
  EXPECT_EQ(kelvin::testing::read_text(file), everything.out);

  expect_one_line_failure(ctl({"audit", "export", "--after", "-1"}), 2, "a negative id");
  CommandOptions elsewhere;
  elsewhere.env.emplace("KELVIN_STATE_DIR", (dir_ / "no-gateway-here").string());
  fs::create_directories(dir_ / "no-gateway-here");
  auto none = run_command({project_binary("kelvinctl"), "audit", "export"}, elsewhere);
  expect_one_line_failure(none, 1, "no accounts database");
  EXPECT_THAT(none.err, HasSubstr("no audit log"));
}

TEST_F(KelvinctlUser, AnUnknownUserIsAOneLineFailure) {
  // No accounts database yet: said so, and not created by asking.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"user", "passwd", "nobody", "--generate"},
                                             {"user", "remove", "nobody"},
                                             {"user", "role", "nobody", "admin"},
                                             {"user", "reset-totp", "nobody"}}) {
    auto r = ctl(args);
    expect_one_line_failure(r, 1, args[1] + " without accounts.db");
    EXPECT_THAT(r.err, HasSubstr("no user 'nobody': there are no users yet")) << args[1];
  }
  expect_one_line_failure(passwd("nobody", "long enough password\n"), 1, "passwd without accounts.db");
  EXPECT_FALSE(fs::exists(accounts_file()));

  add_user("alice", "admin");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"user", "passwd", "nobody", "--generate"},
                                             {"user", "remove", "nobody"},
                                             {"user", "role", "nobody", "admin"},
                                             {"user", "reset-totp", "nobody"}}) {
    auto r = ctl(args);
    expect_one_line_failure(r, 1, args[1] + " of an unknown user");
    EXPECT_THAT(r.err, HasSubstr("no user 'nobody'")) << args[1];
  }
  // passwd says so before asking for a password.
  auto r = passwd("nobody", "long enough password\n");
  expect_one_line_failure(r, 1, "passwd of an unknown user");
  EXPECT_THAT(r.err, HasSubstr("no user 'nobody'"));
  EXPECT_EQ(accounts().users()->size(), 1u);
}

TEST_F(KelvinctlUser, AddNeedsTheStateDirAndNeverCreatesIt) {
  CommandOptions elsewhere;
  elsewhere.env.emplace("KELVIN_STATE_DIR", (dir_ / "missing").string());
  auto r = run_command({project_binary("kelvinctl"), "user", "add", "bob"}, elsewhere);
  expect_one_line_failure(r, 1, "a missing state dir");
  EXPECT_THAT(r.err, HasSubstr("does not exist"));
  EXPECT_FALSE(fs::exists(dir_ / "missing"));

  // --state-dir after the subcommand works as it does for the other commands.
  auto given =
      run_command({project_binary("kelvinctl"), "user", "add", "bob", "--state-dir", state_dir().string()}, elsewhere);
  ASSERT_EQ(given.exit_code, 0) << describe(given);
  EXPECT_TRUE(user("bob").has_value());
}

TEST_F(KelvinctlUser, AddRunByRootCreatesTheDatabaseForTheOwnerOfTheStateDir) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to hand the file to another account";
  // The gateway runs as a service account: an accounts.db root creates there must be its.
  const uid_t service_uid = 65534;  // nobody
  ASSERT_EQ(::chown(state_dir().c_str(), service_uid, service_uid), 0);
  auto r = ctl({"user", "add", "alice", "--role", "admin"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  struct stat st {};
  ASSERT_EQ(::stat(accounts_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, service_uid);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
