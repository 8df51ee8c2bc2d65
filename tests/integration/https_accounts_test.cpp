// Accounts and sessions over HTTPS (docs/api.md, "Accounts and sessions"), tried as a browser or a
// script would: Debian's curl with a cookie jar against the real kelvin-gateway, and Debian's
// oathtool as the authenticator app (an implementation of TOTP that is not kelvin's).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "https_client.hpp"
#include "installation.hpp"
#include "kelvin/accounts/accounts.hpp"
#include "log_records.hpp"

namespace {

using kelvin::testing::Browser;
using kelvin::testing::HttpsAnswer;
using kelvin::testing::Installation;
using kelvin::testing::wait_until;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::string oathtool_code(const std::string& secret, std::chrono::seconds offset = 0s) {
  std::vector<std::string> argv{"oathtool", "--totp", "-b", secret};
  if (offset != 0s) {
    const auto at = std::chrono::system_clock::now() + offset;
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
    argv.push_back("--now=@" + std::to_string(seconds));  // oathtool reads GNU date formats
  }
  auto result = kelvin::testing::run_command(argv);
  EXPECT_EQ(result.exit_code, 0) << kelvin::testing::describe(result);
  std::string code = result.out;
  while (!code.empty() && (code.back() == '\n' || code.back() == '\r')) code.pop_back();
  return code;
}

class HttpsAccounts : public ::testing::Test {
 protected:
  void SetUp() override {
    install_.start_gateway();
    ASSERT_TRUE((port_ = install_.await_http_port()).has_value());
    admin_password_ = kelvin::testing::first_admin_password(install_.gateway_log());
    ASSERT_FALSE(admin_password_.empty()) << install_.gateway_log();
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- gateway log ----\n" << install_.gateway_log();
  }

  Browser browser(const std::string& name) { return Browser(install_, *port_, install_.root() / (name + ".jar")); }

  Installation install_;
  std::optional<int> port_;
  std::string admin_password_;
};

TEST_F(HttpsAccounts, FirstStartPrintsAnAdminPasswordThatSignsInWithAHardenedSessionCookie) {
  auto admin = browser("admin");
  auto signed_in = admin.sign_in("admin", admin_password_);
  ASSERT_EQ(signed_in.status, 200) << signed_in.raw;
  EXPECT_EQ(signed_in.body["user"], "admin");
  EXPECT_EQ(signed_in.body["role"], "admin");
  std::smatch cookie;
  ASSERT_TRUE(std::regex_search(signed_in.headers, cookie,
                                std::regex("set-cookie: (__Host-kelvin-session=[^\r\n]*)", std::regex::icase)))
      << signed_in.headers;
  const std::string attributes = cookie[1];
  for (const char* attribute : {"Path=/", "Secure", "HttpOnly", "SameSite=Strict"}) {
    EXPECT_THAT(attributes, HasSubstr(attribute));
  }
  EXPECT_THAT(attributes, ::testing::Not(HasSubstr("Domain")));
  // The password is printed once, never logged by spdlog with it, and only its hash is stored.
  const std::string accounts_db = kelvin::testing::read_text(install_.state_dir() / "accounts.db");
  EXPECT_EQ(accounts_db.find(admin_password_), std::string::npos);

  auto who = admin.request("GET", "/api/v1/session");
  ASSERT_EQ(who.status, 200) << who.raw;
  EXPECT_EQ(who.body["csrf_token"], admin.csrf);

  // A restart does not print a new password: the admin exists.
  install_.stop_gateway(SIGTERM);
  install_.start_gateway();
  ASSERT_TRUE(wait_until([&] { return install_.http_port().has_value(); }, 10s));
  std::string log = install_.gateway_log();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n') > 0, true);
  std::size_t printed = 0;
  for (auto at = log.find("first start: created user"); at != std::string::npos;
       at = log.find("first start: created user", at + 1)) {
    ++printed;
  }
  EXPECT_EQ(printed, 1u);
}

TEST_F(HttpsAccounts, WithoutASessionOrWithAWrongPasswordNothingIsServed) {
  auto stranger = browser("stranger");
  auto users = stranger.request("GET", "/api/v1/users");
  EXPECT_EQ(users.status, 401) << users.raw;
  EXPECT_EQ(users.body["error"]["code"], "not_signed_in");
  auto forged = stranger.request("GET", "/api/v1/users", {}, true, {"-H", "Cookie: __Host-kelvin-session=forged"});
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(forged.body["error"]["code"], "session_expired");
  auto wrong = stranger.sign_in("admin", "not the password");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body["error"]["code"], "bad_credentials");
  auto unknown = stranger.sign_in("nobody", admin_password_);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.body["error"]["code"], "bad_credentials");  // the same answer: no user enumeration
  // A form post (what a cross-site page could send) is refused before anything is checked.
  auto form = stranger.request("POST", "/api/v1/session", std::nullopt, false,
                               {"--data", "user=admin&password=" + admin_password_});
  EXPECT_EQ(form.status, 415) << form.raw;
}

TEST_F(HttpsAccounts, RepeatedFailuresLockTheAccountWithAClearMessageAndAreAudited) {
  auto attacker = browser("attacker");
  for (int i = 0; i < 5; ++i) {
    auto wrong = attacker.sign_in("admin", "guess number " + std::to_string(i));
    ASSERT_EQ(wrong.status, 401) << i << wrong.raw;
  }
  auto locked = attacker.sign_in("admin", admin_password_);
  EXPECT_EQ(locked.status, 429) << locked.raw;
  EXPECT_EQ(locked.body["error"]["code"], "too_many_attempts");
  EXPECT_THAT(locked.body["error"]["message"].get<std::string>(), HasSubstr("try again in"));
  EXPECT_THAT(locked.headers, ::testing::ContainsRegex("[Rr]etry-[Aa]fter: [0-9]+"));
  // The audit log, read from the file as kelvinctl would, holds each failure with its address.
  auto accounts = kelvin::accounts::Accounts::open(install_.state_dir() / "accounts.db");
  ASSERT_TRUE(accounts.ok());
  auto entries = (*accounts)->audit_entries(0, 100);
  ASSERT_TRUE(entries.ok());
  const auto failures = std::count_if(entries->begin(), entries->end(), [](const kelvin::store::AuditEntry& entry) {
    return entry.action == "login" && entry.result == "failed" && entry.address == "127.0.0.1";
  });
  EXPECT_EQ(failures, 5);

  // A restart (as an attacker who crashed it would hope for) keeps the account locked.
  install_.stop_gateway(SIGKILL);
  install_.start_gateway();
  ASSERT_TRUE((port_ = install_.await_http_port()).has_value());
  auto after_restart = browser("attacker-again").sign_in("admin", admin_password_);
  EXPECT_EQ(after_restart.status, 429) << after_restart.raw;
  EXPECT_EQ(after_restart.body["error"]["code"], "too_many_attempts");
  EXPECT_THAT(install_.gateway_log(), HasSubstr("sign-in limits restored from the audit log: 5 failed attempts"));
}

TEST_F(HttpsAccounts, StateChangesNeedTheCsrfTokenAndRolesAreEnforced) {
  auto admin = browser("admin");
  ASSERT_EQ(admin.sign_in("admin", admin_password_).status, 200);
  auto without_token =
      admin.request("POST", "/api/v1/users", nlohmann::json{{"name", "vera"}, {"role", "viewer"}}, false);
  EXPECT_EQ(without_token.status, 403) << without_token.raw;
  EXPECT_EQ(without_token.body["error"]["code"], "csrf_token_invalid");
  auto wrong_token = admin.request("POST", "/api/v1/users", nlohmann::json{{"name", "vera"}, {"role", "viewer"}}, false,
                                   {"-H", "X-CSRF-Token: " + std::string(43, 'A')});
  EXPECT_EQ(wrong_token.status, 403);
  auto created = admin.request("POST", "/api/v1/users", nlohmann::json{{"name", "vera"}, {"role", "viewer"}});
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string vera_password = created.body["password"];

  auto vera = browser("vera");
  ASSERT_EQ(vera.sign_in("vera", vera_password).status, 200);
  auto denied = vera.request("GET", "/api/v1/users");
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.body["error"]["code"], "forbidden");
  auto health = vera.request("GET", "/api/v1/health");
  EXPECT_EQ(health.status, 200);

  // The admin sees the refusal in the audit log, the newest entry first when asked so, and pages
  // back from there without gaps or repeats.
  auto newest = admin.request("GET", "/api/v1/audit?before=end&limit=2");
  ASSERT_EQ(newest.status, 200) << newest.raw;
  ASSERT_EQ(newest.body["entries"].size(), 2u) << newest.body.dump(2);
  const std::int64_t top = newest.body["entries"][0]["id"];
  EXPECT_EQ(newest.body["entries"][1]["id"], top - 1);
  auto back = admin.request("GET", "/api/v1/audit?before=" + std::to_string(top - 1) + "&limit=1000");
  ASSERT_EQ(back.status, 200) << back.raw;
  ASSERT_EQ(back.body["entries"].size(), static_cast<std::size_t>(top - 2));
  EXPECT_EQ(back.body["entries"][0]["id"], top - 2);
  EXPECT_EQ(back.body["entries"].back()["id"], 1);
  for (const char* bad : {"before=end&after=0", "before=0", "before=x", "before=end&limit=0"}) {
    auto refused = admin.request("GET", std::string("/api/v1/audit?") + bad);
    EXPECT_EQ(refused.status, 400) << bad << ": " << refused.raw;
    EXPECT_EQ(refused.body["error"]["code"], "invalid_request") << bad;
  }
  auto audit = admin.request("GET", "/api/v1/audit?limit=1000");
  ASSERT_EQ(audit.status, 200) << audit.raw;
  bool denial = false;
  for (const auto& entry : audit.body["entries"]) {
    denial = denial || (entry["action"] == "permission_denied" && entry["actor"] == "vera" &&
                        entry["target"] == "GET /api/v1/users");
  }
  EXPECT_TRUE(denial) << audit.body.dump(2);

  // Removing vera ends her session at once.
  ASSERT_EQ(admin.request("DELETE", "/api/v1/users/vera").status, 204);
  EXPECT_EQ(vera.request("GET", "/api/v1/session").status, 401);
}

TEST_F(HttpsAccounts, SignOutEndsTheSessionOnTheServer) {
  auto admin = browser("admin");
  ASSERT_EQ(admin.sign_in("admin", admin_password_).status, 200);
  // Keep a copy of the cookie, as a thief would.
  std::filesystem::copy_file(install_.root() / "admin.jar", install_.root() / "thief.jar");
  auto thief = browser("thief");
  thief.csrf = admin.csrf;
  ASSERT_EQ(thief.request("GET", "/api/v1/session").status, 200);
  auto out = admin.request("DELETE", "/api/v1/session");
  ASSERT_EQ(out.status, 204) << out.raw;
  EXPECT_THAT(out.headers, ::testing::ContainsRegex("[Ss]et-[Cc]ookie: __Host-kelvin-session=;.*Max-Age=0"));
  EXPECT_EQ(thief.request("GET", "/api/v1/session").status, 401);
}

TEST_F(HttpsAccounts, ASecondFactorFromAnAuthenticatorAppIsEnrolledThenRequiredAndNeverAcceptedTwice) {
  auto admin = browser("admin");
  ASSERT_EQ(admin.sign_in("admin", admin_password_).status, 200);
  auto begun = admin.request("POST", "/api/v1/session/totp");
  ASSERT_EQ(begun.status, 200) << begun.raw;
  const std::string secret = begun.body["secret"];
  EXPECT_THAT(begun.body["uri"].get<std::string>(), HasSubstr("otpauth://totp/kelvin:admin?secret=" + secret));
  auto wrong = admin.request("POST", "/api/v1/session/totp/confirm", nlohmann::json{{"code", "000000"}});
  EXPECT_EQ(wrong.status, 403) << wrong.raw;
  auto confirmed =
      admin.request("POST", "/api/v1/session/totp/confirm", nlohmann::json{{"code", oathtool_code(secret)}});
  ASSERT_EQ(confirmed.status, 200) << confirmed.raw;
  ASSERT_EQ(confirmed.body["recovery_codes"].size(), 10u);
  const std::string recovery = confirmed.body["recovery_codes"][0];

  auto again = browser("again");
  auto no_code = again.sign_in("admin", admin_password_);
  EXPECT_EQ(no_code.status, 401);
  EXPECT_EQ(no_code.body["error"]["code"], "second_factor_required");
  // The confirming code was used; the next step's code (one step of drift allowed) works once.
  const std::string next = oathtool_code(secret, 30s);
  ASSERT_EQ(again.sign_in("admin", admin_password_, next).status, 200);
  auto replay = browser("replay").sign_in("admin", admin_password_, next);
  EXPECT_EQ(replay.status, 401);
  EXPECT_EQ(replay.body["error"]["code"], "bad_second_factor");
  EXPECT_EQ(browser("recovery").sign_in("admin", admin_password_, recovery).status, 200);
  EXPECT_EQ(browser("recovery2").sign_in("admin", admin_password_, recovery).status, 401);
}

TEST_F(HttpsAccounts, ARequiredSecondFactorConfinesASessionWithoutOneToEnrolment) {
  auto admin = browser("admin");
  ASSERT_EQ(admin.sign_in("admin", admin_password_).status, 200);
  auto created = admin.request("POST", "/api/v1/users", nlohmann::json{{"name", "olga"}, {"role", "operator"}});
  ASSERT_EQ(created.status, 201);
  ASSERT_EQ(admin.request("PUT", "/api/v1/settings/security", nlohmann::json{{"require_second_factor", true}}).status,
            204);
  auto olga = browser("olga");
  auto signed_in = olga.sign_in("olga", created.body["password"]);
  ASSERT_EQ(signed_in.status, 200);
  EXPECT_EQ(signed_in.body["must_enrol_second_factor"], true);
  auto blocked = olga.request("GET", "/api/v1/audit");
  EXPECT_EQ(blocked.body["error"]["code"], "second_factor_enrolment_required");
  auto begun = olga.request("POST", "/api/v1/session/totp");
  ASSERT_EQ(begun.status, 200);
  ASSERT_EQ(olga.request("POST", "/api/v1/session/totp/confirm",
                         nlohmann::json{{"code", oathtool_code(begun.body["secret"])}})
                .status,
            200);
  EXPECT_EQ(olga.request("GET", "/api/v1/session").body["must_enrol_second_factor"], false);
  EXPECT_EQ(olga.request("GET", "/api/v1/audit").body["error"]["code"], "forbidden");  // operator, not admin
}

// The session token a browser holds, from its cookie jar ("" if none).
std::string session_token(const std::filesystem::path& jar) {
  std::istringstream lines(kelvin::testing::read_text(jar));
  for (std::string line; std::getline(lines, line);) {
    const auto at = line.find("\t__Host-kelvin-session\t");
    if (at != std::string::npos) return line.substr(at + std::string("\t__Host-kelvin-session\t").size());
  }
  return {};
}

// Every secret a scenario of people's access handles — passwords (the first admin's, a generated
// one, one a user chose, a wrong guess), session tokens, CSRF tokens, the TOTP secret, codes and
// recovery codes — is looked for in everything the gateway logged (its own lines and its managed
// broker's) and in the audit log. Only the first admin's password appears, once: the first start
// prints it, as it must.
TEST_F(HttpsAccounts, NoLogHoldsAPasswordATokenOrASecondFactorSecret) {
  auto admin = browser("admin");
  ASSERT_EQ(admin.sign_in("admin", "a wrong guess 7Qx!").status, 401);
  ASSERT_EQ(admin.sign_in("admin", admin_password_).status, 200);
  const std::string first_token = session_token(admin.cookie_jar());
  const std::string first_csrf = admin.csrf;
  auto begun = admin.request("POST", "/api/v1/session/totp");
  ASSERT_EQ(begun.status, 200) << begun.raw;
  const std::string totp_secret = begun.body["secret"];
  const std::string confirm_code = oathtool_code(totp_secret);
  auto confirmed = admin.request("POST", "/api/v1/session/totp/confirm", nlohmann::json{{"code", confirm_code}});
  ASSERT_EQ(confirmed.status, 200) << confirmed.raw;
  const std::vector<std::string> recovery = confirmed.body["recovery_codes"];
  ASSERT_EQ(admin.request("POST", "/api/v1/session/totp/confirm", nlohmann::json{{"code", "123456"}}).status / 100, 4);

  auto created = admin.request("POST", "/api/v1/users", nlohmann::json{{"name", "olga"}, {"role", "operator"}});
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string generated = created.body["password"];
  auto olga = browser("olga");
  ASSERT_EQ(olga.sign_in("olga", generated).status, 200);
  const std::string chosen = "olga's own passphrase 2026";
  ASSERT_EQ(
      olga.request("POST", "/api/v1/session/password", nlohmann::json{{"current", generated}, {"new", chosen}}).status,
      204);
  auto again = browser("again");
  ASSERT_EQ(again.sign_in("admin", admin_password_, recovery[3]).status, 200);
  ASSERT_EQ(again.request("DELETE", "/api/v1/session").status, 204);

  auto audit = admin.request("GET", "/api/v1/audit?after=0&limit=1000");
  ASSERT_EQ(audit.status, 200) << audit.raw;
  ASSERT_GE(audit.body["entries"].size(), 8u) << audit.raw;
  const std::string audit_text = audit.body.dump();
  const std::string log = install_.gateway_log();
  ASSERT_THAT(log, HasSubstr("running"));

  std::vector<std::pair<std::string, std::string>> secrets{{"a wrong password", "a wrong guess 7Qx!"},
                                                           {"a generated password", generated},
                                                           {"a chosen password", chosen},
                                                           {"a session token", first_token},
                                                           {"a session token", session_token(olga.cookie_jar())},
                                                           {"a CSRF token", first_csrf},
                                                           {"a CSRF token", olga.csrf},
                                                           {"the TOTP secret", totp_secret},
                                                           {"a TOTP code", confirm_code}};
  for (const auto& code : recovery) secrets.emplace_back("a recovery code", code);
  for (const auto& [what, secret] : secrets) {
    ASSERT_GE(secret.size(), 6u) << what << " was not captured";
    EXPECT_EQ(log.find(secret), std::string::npos) << what << " is in the gateway's log";
    EXPECT_EQ(audit_text.find(secret), std::string::npos) << what << " is in the audit log";
  }
  EXPECT_EQ(audit_text.find(admin_password_), std::string::npos) << "the admin's password is in the audit log";
  const auto printed = log.find(admin_password_);
  ASSERT_NE(printed, std::string::npos);
  EXPECT_EQ(log.find(admin_password_, printed + 1), std::string::npos) << "the admin's password is logged again";
  EXPECT_EQ(log.find("PRIVATE KEY"), std::string::npos);

  // Every line of the log is a JSON record a collector can parse, the broker's lines included; the
  // only other lines are the first start's password notice, which kelvin-gateway prints on stdout.
  EXPECT_THAT(kelvin::testing::lines_not_records(log), ::testing::IsEmpty()) << log;
  EXPECT_TRUE(kelvin::testing::has_log_record(log, "info", "mosquitto", "New client connected")) << log;
}

TEST_F(HttpsAccounts, ADeviceCertificateCannotUseTheUserApi) {
  auto device = install_.issue_device("sensor-01");
  auto admin = browser("admin");
  auto answer =
      admin.request("POST", "/api/v1/session", nlohmann::json{{"user", "admin"}, {"password", admin_password_}}, false,
                    {"--cert", device.cert.string(), "--key", device.key.string()});
  EXPECT_EQ(answer.status, 403) << answer.raw;
  EXPECT_EQ(answer.body["error"]["code"], "device_not_allowed");
}

}  // namespace
