#include "kelvin/accounts/accounts.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "kelvin/accounts/totp.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::accounts {
namespace {

class AccountsTest : public ::testing::Test {
 protected:
  void SetUp() override { accounts_ = open_accounts(); }

  std::unique_ptr<Accounts> open_accounts() {
    auto opened = Accounts::open(dir_ / "accounts.db", options_, [this] { return now_.load(); });
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    return std::move(*opened);
  }

  SignedIn sign_in(std::string_view user, std::string_view password, std::string_view code = {}) {
    auto outcome = accounts_->sign_in(user, password, code, "192.0.2.1");
    EXPECT_TRUE(outcome.ok()) << outcome.error().message;
    EXPECT_TRUE(std::holds_alternative<SignedIn>(*outcome)) << to_string(std::get<SignInRefused>(*outcome).reason);
    return std::get<SignedIn>(std::move(*outcome));
  }

  SignInRefusal refusal(std::string_view user, std::string_view password, std::string_view code = {}) {
    auto outcome = accounts_->sign_in(user, password, code, "192.0.2.1");
    EXPECT_TRUE(outcome.ok()) << outcome.error().message;
    EXPECT_TRUE(std::holds_alternative<SignInRefused>(*outcome));
    return std::get<SignInRefused>(*outcome).reason;
  }

  std::vector<std::string> audit_actions() {
    std::vector<std::string> out;
    auto entries = accounts_->audit_entries(0, 1000);
    EXPECT_TRUE(entries.ok());
    for (const auto& entry : *entries) {
      out.push_back(entry.action + ":" + entry.target + ":" + entry.result);
    }
    return out;
  }

  // Enrols a second factor for a signed-in user; returns its secret and recovery codes.
  std::pair<std::string, std::vector<std::string>> enrol(const SessionView& session) {
    auto enrolment = accounts_->begin_totp_enrolment(session, "192.0.2.1");
    EXPECT_TRUE(enrolment.ok());
    auto codes = accounts_->confirm_totp_enrolment(
        session, totp_code(*base32_decode(enrolment->secret), totp_step(now_)), "192.0.2.1");
    EXPECT_TRUE(codes.ok()) << codes.error().message;
    return {enrolment->secret, *codes};
  }

  std::string code_at(const std::string& secret, std::int64_t ms) {
    return totp_code(*base32_decode(secret), totp_step(ms));
  }

  testing::TempDir dir_;
  AccountsOptions options_;
  std::atomic<std::int64_t> now_{1'700'000'000'000};
  std::unique_ptr<Accounts> accounts_;
};

TEST_F(AccountsTest, FirstStartCreatesOneAdminWithAGeneratedPasswordOnce) {
  auto password = accounts_->create_first_admin();
  ASSERT_TRUE(password.ok()) << password.error().message;
  ASSERT_TRUE(password->has_value());
  EXPECT_EQ((*password)->size(), 23u);  // four groups of five, 100 bits
  auto again = accounts_->create_first_admin();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
  auto signed_in = sign_in("admin", **password);
  EXPECT_EQ(signed_in.session.role, Role::admin);
  // Only the hash is stored.
  auto users = accounts_->users();
  ASSERT_EQ(users->size(), 1u);
}

TEST_F(AccountsTest, SignInChecksThePasswordAndTellsNothingAboutUnknownUsers) {
  auto password = accounts_->add_user("ann", Role::operator_, {"kelvinctl", "local"});
  ASSERT_TRUE(password.ok()) << password.error().message;
  EXPECT_EQ(refusal("ann", "wrong password!"), SignInRefusal::bad_credentials);
  EXPECT_EQ(refusal("nobody", *password), SignInRefusal::bad_credentials);
  auto signed_in = sign_in("ann", *password);
  EXPECT_EQ(signed_in.session.user, "ann");
  EXPECT_EQ(signed_in.session.role, Role::operator_);
  EXPECT_EQ(signed_in.token.size(), 43u);
  EXPECT_EQ(signed_in.session.csrf_token.size(), 43u);
  auto found = accounts_->session(signed_in.token);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->session_id, signed_in.session.session_id);
  EXPECT_FALSE(accounts_->session("not-a-token")->has_value());
  EXPECT_FALSE(accounts_->session("")->has_value());
  const auto actions = audit_actions();
  EXPECT_EQ(actions,
            (std::vector<std::string>{"user_add:ann:ok", "login:ann:failed", "login:nobody:failed", "login:ann:ok"}));
}

TEST_F(AccountsTest, TooManyFailuresRefuseEvenTheRightPasswordForAWhile) {
  auto password = accounts_->add_user("ann", Role::viewer, {"kelvinctl", "local"});
  for (int i = 0; i < LoginLimiter::kAccountFreeFailures; ++i) refusal("ann", "wrong password!");
  auto outcome = accounts_->sign_in("ann", *password, {}, "192.0.2.1");
  ASSERT_TRUE(std::holds_alternative<SignInRefused>(*outcome));
  EXPECT_EQ(std::get<SignInRefused>(*outcome).reason, SignInRefusal::too_many_attempts);
  EXPECT_EQ(std::get<SignInRefused>(*outcome).retry_after_ms, LoginLimiter::kAccountFirstLockMs);
  now_ += LoginLimiter::kAccountFirstLockMs;
  sign_in("ann", *password);
}

TEST_F(AccountsTest, SignInLimitsOutlastARestart) {
  auto password = accounts_->add_user("ann", Role::viewer, {"kelvinctl", "local"});
  for (int i = 0; i < LoginLimiter::kAccountFreeFailures; ++i) refusal("ann", "wrong password!");
  // bob's run of failures was ended by a success: four more do not lock him.
  auto bob = accounts_->add_user("bob", Role::viewer, {"kelvinctl", "local"});
  for (int i = 0; i < LoginLimiter::kAccountFreeFailures - 1; ++i) refusal("bob", "wrong password!");
  sign_in("bob", *bob);
  for (int i = 0; i < LoginLimiter::kAccountFreeFailures - 1; ++i) refusal("bob", "wrong password!");
  // One address sprayed guesses over many accounts (written as the sign-ins write them, without
  // an Argon2id check each).
  for (std::size_t i = 0; i < LoginLimiter::kAddressFailures; ++i) {
    ASSERT_TRUE(accounts_
                    ->audit({"guess" + std::to_string(i), "198.51.100.7"}, "login", "guess" + std::to_string(i),
                            "failed", "unknown user")
                    .ok());
  }
  now_ += 10'000;

  accounts_ = open_accounts();  // a restart
  auto restored = accounts_->restore_sign_in_limits();
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  EXPECT_EQ(*restored, 5 + 8 + LoginLimiter::kAddressFailures);
  auto outcome = accounts_->sign_in("ann", *password, {}, "192.0.2.1");
  ASSERT_TRUE(std::holds_alternative<SignInRefused>(*outcome));
  EXPECT_EQ(std::get<SignInRefused>(*outcome).reason, SignInRefusal::too_many_attempts);
  EXPECT_EQ(std::get<SignInRefused>(*outcome).retry_after_ms, LoginLimiter::kAccountFirstLockMs - 10'000);
  outcome = accounts_->sign_in("bob", *bob, {}, "198.51.100.7");
  ASSERT_TRUE(std::holds_alternative<SignInRefused>(*outcome));
  EXPECT_EQ(std::get<SignInRefused>(*outcome).reason, SignInRefusal::too_many_attempts);
  sign_in("bob", *bob);  // from another address
  now_ += LoginLimiter::kAccountFirstLockMs;
  sign_in("ann", *password);
}

TEST_F(AccountsTest, SignInFailuresOlderThanADayAreNotRestored) {
  auto password = accounts_->add_user("ann", Role::viewer, {"kelvinctl", "local"});
  for (int i = 0; i < LoginLimiter::kAccountFreeFailures; ++i) refusal("ann", "wrong password!");
  now_ += Accounts::kSignInMemoryMs + 1;
  accounts_ = open_accounts();
  EXPECT_EQ(*accounts_->restore_sign_in_limits(), 0u);
  // Without the horizon this would be the sixth failure in a row, and lock the account.
  EXPECT_EQ(refusal("ann", "wrong password!"), SignInRefusal::bad_credentials);
  sign_in("ann", *password);
}

TEST_F(AccountsTest, AuditRetentionRemovesOlderEntriesAndSaysSo) {
  options_.audit_retention_days = 40;
  accounts_ = open_accounts();
  constexpr std::int64_t kDayMs = 86'400'000;
  const std::int64_t start = now_;
  ASSERT_TRUE(accounts_->audit({"ann", "192.0.2.1"}, "logout", "ann", "ok").ok());
  now_ += 20 * kDayMs;
  ASSERT_TRUE(accounts_->audit({"bob", "192.0.2.1"}, "logout", "bob", "ok").ok());
  now_ = start + 50 * kDayMs;
  auto removed = accounts_->apply_audit_retention({"gateway", "local"});
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(*removed, 1u);
  auto entries = accounts_->audit_entries(0, 10);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].actor, "bob");
  const store::AuditEntry& said = (*entries)[1];
  EXPECT_EQ(said.action, "audit_retention");
  EXPECT_EQ(said.actor, "gateway");
  EXPECT_EQ(said.detail, "removed 1 written before 2023-11-24T22:13:20Z (retention 40 days)");
  // Nothing more to remove: nothing said.
  EXPECT_EQ(*accounts_->apply_audit_retention({"gateway", "local"}), 0u);
  EXPECT_EQ(accounts_->audit_entries(0, 10)->size(), 2u);
}

TEST_F(AccountsTest, SessionsEndWhenIdleWhenOldWhenSignedOutAndWhenTheUserGoes) {
  auto password = accounts_->add_user("ann", Role::viewer, {"kelvinctl", "local"});
  auto idle = sign_in("ann", *password);
  now_ += options_.session_idle_ms + 1;
  EXPECT_FALSE(accounts_->session(idle.token)->has_value());

  // A session in use stays until its absolute end.
  auto used = sign_in("ann", *password);
  const std::int64_t started = now_;
  while (now_ + options_.session_idle_ms / 2 < started + options_.session_absolute_ms) {
    now_ += options_.session_idle_ms / 2;
    ASSERT_TRUE(accounts_->session(used.token)->has_value()) << (now_ - started);
  }
  now_ = started + options_.session_absolute_ms + 1;
  EXPECT_FALSE(accounts_->session(used.token)->has_value());

  auto signed_out = sign_in("ann", *password);
  ASSERT_TRUE(accounts_->sign_out(signed_out.token, {"ann", "192.0.2.1"}).ok());
  EXPECT_FALSE(accounts_->session(signed_out.token)->has_value());

  auto removed = sign_in("ann", *password);
  ASSERT_TRUE(accounts_->add_user("boss", Role::admin, {"kelvinctl", "local"}).ok());
  ASSERT_TRUE(accounts_->remove_user("ann", {"boss", "192.0.2.2"}).ok());
  EXPECT_FALSE(accounts_->session(removed.token)->has_value());
}

TEST_F(AccountsTest, AChangeMadeByAnotherProcessTakesEffectAtOnce) {
  auto password = accounts_->add_user("ann", Role::viewer, {"kelvinctl", "local"});
  auto signed_in = sign_in("ann", *password);
  auto kelvinctl = open_accounts();  // a second connection to the same file
  ASSERT_TRUE(kelvinctl->set_role("ann", Role::operator_, {"kelvinctl", "local"}).ok());
  EXPECT_EQ((*accounts_->session(signed_in.token))->role, Role::operator_);
  ASSERT_TRUE(kelvinctl->set_password("ann", "a new long password", {"kelvinctl", "local"}).ok());
  EXPECT_FALSE(accounts_->session(signed_in.token)->has_value());
  EXPECT_EQ(refusal("ann", *password), SignInRefusal::bad_credentials);
  sign_in("ann", "a new long password");
}

TEST_F(AccountsTest, ChangingOnesPasswordEndsTheOtherSessionsOnly) {
  auto password = accounts_->add_user("ann", Role::viewer, {"kelvinctl", "local"});
  auto here = sign_in("ann", *password);
  auto elsewhere = sign_in("ann", *password);
  auto wrong = accounts_->change_password(here.session, "not it at all", "another long password", "192.0.2.1");
  EXPECT_EQ(wrong.error().code, Errc::bad_credentials);
  auto short_one = accounts_->change_password(here.session, *password, "short", "192.0.2.1");
  EXPECT_EQ(short_one.error().code, Errc::invalid_argument);
  ASSERT_TRUE(accounts_->change_password(here.session, *password, "another long password", "192.0.2.1").ok());
  EXPECT_TRUE(accounts_->session(here.token)->has_value());
  EXPECT_FALSE(accounts_->session(elsewhere.token)->has_value());
}

TEST_F(AccountsTest, SecondFactorIsNeededOnceEnrolledAndACodeWorksOnce) {
  auto password = accounts_->add_user("ann", Role::viewer, {"kelvinctl", "local"});
  auto first = sign_in("ann", *password);
  EXPECT_FALSE(first.session.second_factor_enrolled);
  auto [secret, recovery] = enrol(first.session);
  ASSERT_EQ(recovery.size(), 10u);

  EXPECT_EQ(refusal("ann", *password), SignInRefusal::second_factor_required);
  // The code that confirmed the enrolment was used: it is refused, also one step on.
  EXPECT_EQ(refusal("ann", *password, code_at(secret, now_)), SignInRefusal::bad_second_factor);
  now_ += kTotpStepMs;
  const std::string code = code_at(secret, now_);
  EXPECT_EQ(refusal("wrong", *password, code), SignInRefusal::bad_credentials);
  auto with_code = sign_in("ann", *password, code);
  EXPECT_TRUE(with_code.session.second_factor_enrolled);
  EXPECT_EQ(refusal("ann", *password, code), SignInRefusal::bad_second_factor);  // replayed
  EXPECT_EQ(refusal("ann", *password, "000000"), SignInRefusal::bad_second_factor);

  // A recovery code works once, typed in any case.
  std::string upper = recovery[3];
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  sign_in("ann", *password, upper);
  EXPECT_EQ(refusal("ann", *password, recovery[3]), SignInRefusal::bad_second_factor);
  EXPECT_EQ((*accounts_->user("ann"))->recovery_codes_left, 9u);
}

TEST_F(AccountsTest, AWrongConfirmationCodeEnrolsNothing) {
  auto password = accounts_->add_user("ann", Role::viewer, {"kelvinctl", "local"});
  auto session = sign_in("ann", *password).session;
  auto enrolment = accounts_->begin_totp_enrolment(session, "192.0.2.1");
  ASSERT_TRUE(enrolment.ok());
  EXPECT_NE(enrolment->uri.find("secret=" + enrolment->secret), std::string::npos);
  auto confirmed = accounts_->confirm_totp_enrolment(session, "123456", "192.0.2.1");
  EXPECT_EQ(confirmed.error().code, Errc::bad_credentials);
  sign_in("ann", *password);  // no second factor asked
  auto other = accounts_->add_user("bob", Role::viewer, {"kelvinctl", "local"});
  auto bob = sign_in("bob", *other).session;
  EXPECT_EQ(accounts_->confirm_totp_enrolment(bob, "123456", "x").error().code, Errc::conflict);
}

TEST_F(AccountsTest, ResetOfTheSecondFactorEndsSessionsAndSignsInWithThePasswordAgain) {
  auto password = accounts_->add_user("ann", Role::viewer, {"kelvinctl", "local"});
  auto signed_in = sign_in("ann", *password);
  enrol(signed_in.session);
  ASSERT_TRUE(accounts_->reset_second_factor("ann", {"kelvinctl", "local"}).ok());
  EXPECT_FALSE(accounts_->session(signed_in.token)->has_value());
  EXPECT_FALSE(sign_in("ann", *password).session.second_factor_enrolled);
}

TEST_F(AccountsTest, RequiredSecondFactorMarksSessionsWithoutOne) {
  auto password = accounts_->add_user("ann", Role::viewer, {"kelvinctl", "local"});
  ASSERT_TRUE(accounts_->require_second_factor(true, {"boss", "192.0.2.2"}).ok());
  auto signed_in = sign_in("ann", *password);
  EXPECT_TRUE(signed_in.session.must_enrol_second_factor);
  enrol(signed_in.session);
  EXPECT_FALSE((*accounts_->session(signed_in.token))->must_enrol_second_factor);
}

TEST_F(AccountsTest, KeepsAnAdminAndRefusesBadNamesAndPasswords) {
  ASSERT_TRUE(accounts_->create_first_admin().ok());
  EXPECT_EQ(accounts_->remove_user("admin", {"kelvinctl", "local"}).error().code, Errc::conflict);
  EXPECT_EQ(accounts_->set_role("admin", Role::viewer, {"kelvinctl", "local"}).error().code, Errc::conflict);
  ASSERT_TRUE(accounts_->add_user("second", Role::admin, {"kelvinctl", "local"}).ok());
  EXPECT_TRUE(accounts_->set_role("admin", Role::viewer, {"kelvinctl", "local"}).ok());
  EXPECT_EQ(accounts_->add_user("second", Role::admin, {"kelvinctl", "local"}).error().code, Errc::already_exists);
  for (const char* bad : {"", "Ann", "1ann", "ann smith", "ann/..", "a\n"}) {
    EXPECT_EQ(accounts_->add_user(bad, Role::viewer, {"kelvinctl", "local"}).error().code, Errc::invalid_argument)
        << bad;
  }
  EXPECT_EQ(accounts_->set_password("second", "second", {"kelvinctl", "local"}).error().code, Errc::invalid_argument);
  EXPECT_EQ(accounts_->set_password("nobody", "a long enough password", {"kelvinctl", "local"}).error().code,
            Errc::not_found);
  EXPECT_EQ(accounts_->remove_user("nobody", {"kelvinctl", "local"}).error().code, Errc::not_found);
}

TEST_F(AccountsTest, TwoConnectionsCannotRemoveTheLastTwoAdminsBetweenThem) {
  ASSERT_TRUE(accounts_->add_user("ann", Role::admin, {"kelvinctl", "local"}).ok());
  ASSERT_TRUE(accounts_->add_user("bob", Role::admin, {"kelvinctl", "local"}).ok());
  auto other = open_accounts();  // e.g. kelvinctl while the gateway serves an admin
  ASSERT_TRUE(accounts_->remove_user("ann", {"bob", "192.0.2.1"}).ok());
  auto refused = other->set_role("bob", Role::viewer, {"kelvinctl", "local"});
  EXPECT_EQ(refused.error().code, Errc::conflict);
  const auto actions = audit_actions();
  EXPECT_EQ(actions.back(), "user_role:bob:denied");
}

TEST_F(AccountsTest, RefusesChangesThatChangeNothing) {
  ASSERT_TRUE(accounts_->add_user("ann", Role::viewer, {"kelvinctl", "local"}).ok());
  EXPECT_EQ(accounts_->set_role("ann", Role::viewer, {"kelvinctl", "local"}).error().code, Errc::conflict);
  EXPECT_EQ(accounts_->reset_second_factor("ann", {"kelvinctl", "local"}).error().code, Errc::conflict);
  EXPECT_EQ(accounts_->reset_second_factor("nobody", {"kelvinctl", "local"}).error().code, Errc::not_found);
  const auto before = audit_actions().size();
  ASSERT_TRUE(accounts_->require_second_factor(false, {"kelvinctl", "local"}).ok());  // already off
  EXPECT_EQ(audit_actions().size(), before);
}

TEST(PasswordRules, CountCharactersNotBytes) {
  EXPECT_TRUE(password_problem("ann", "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9").has_value());  // 6 characters, 12 bytes
  EXPECT_FALSE(
      password_problem("ann", "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9").has_value());
  EXPECT_TRUE(password_problem("longusername", "longusername").has_value());
  EXPECT_TRUE(password_problem("ann", std::string(257, 'x')).has_value());
}

}  // namespace
}  // namespace kelvin::accounts
