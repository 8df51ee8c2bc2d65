#pragma once
// How the `kelvinctl user` commands reach the gateway's accounts database (<state dir>/accounts.db)
// and say who they are in its audit log. Commands that read or change existing users never create
// the file (a typo in --state-dir must not leave an empty database behind); `user add` and
// `user require-second-factor` create it, as kelvin-gateway's first start would.

#include <memory>
#include <string>
#include <string_view>

#include "kelvin/accounts/accounts.hpp"
#include "kelvin/core/result.hpp"
#include "state_options.hpp"

namespace kelvin::ctl {

// kelvinctl in the audit log: the host's administrator, not a dashboard user.
accounts::Actor kelvinctl_actor();

// Writes an action taken on the host (`kelvinctl device revoke`, `release publish`, ...) to the
// audit log, where the dashboard's actions are too, with kelvinctl_actor() and the result "ok".
// An installation whose gateway never started has no accounts database yet: nothing to write to.
// A failure to write is reported on stderr as a warning; the action stands.
void audit_host_action(const StateOptions& options, std::string_view action, std::string_view target,
                       const std::string& detail);

// The accounts database, or nullptr when the file does not exist (no user was ever made).
Result<std::unique_ptr<accounts::Accounts>> open_existing_accounts(const StateOptions& options);

// The accounts database, created (0600) if missing and then handed to the state dir's owner, so
// that kelvin-gateway, running as that account, can open it. Errc::not_found when the state dir
// itself does not exist.
Result<std::unique_ptr<accounts::Accounts>> open_or_create_accounts(const StateOptions& options);

// A command on one existing user: the database and the user as it is now.
struct UserAccess {
  std::unique_ptr<accounts::Accounts> accounts;
  accounts::UserView user;
};

// Errc::not_found with a one-line hint when the database or the user does not exist.
Result<UserAccess> open_user(const StateOptions& options, const std::string& name);

}  // namespace kelvin::ctl
