#include "user_accounts.hpp"

#include <iostream>
#include <utility>

namespace kelvin::ctl {

accounts::Actor kelvinctl_actor() {
  return accounts::Actor{"kelvinctl", "local"};
}

void audit_host_action(const StateOptions& options, std::string_view action, std::string_view target,
                       const std::string& detail) {
  auto warn = [](const Error& error) {
    std::cerr << "kelvinctl: warning: could not write the audit log entry (" << error.message << ")\n";
  };
  auto accounts = open_existing_accounts(options);
  if (!accounts) return warn(accounts.error());
  if (!*accounts) return;
  if (auto written = (*accounts)->audit(kelvinctl_actor(), action, target, "ok", detail); !written) {
    warn(written.error());
  }
}

Result<std::unique_ptr<accounts::Accounts>> open_existing_accounts(const StateOptions& options) {
  const auto file = options.accounts_file();
  auto exists = file_exists(file);
  if (!exists) return std::move(exists).error();
  if (!*exists) return std::unique_ptr<accounts::Accounts>();
  return accounts::Accounts::open(file);
}

Result<std::unique_ptr<accounts::Accounts>> open_or_create_accounts(const StateOptions& options) {
  return open_or_create_owned(options, options.accounts_file(),
                              [](const std::filesystem::path& file) { return accounts::Accounts::open(file); });
}

Result<UserAccess> open_user(const StateOptions& options, const std::string& name) {
  auto opened = open_existing_accounts(options);
  if (!opened) return std::move(opened).error();
  if (!*opened) {
    return make_error(Errc::not_found, "no user '" + name + "': there are no users yet (" +
                                           options.accounts_file().string() +
                                           " does not exist; kelvin-gateway creates it on its first start)");
  }
  auto user = (*opened)->user(name);
  if (!user) return std::move(user).error();
  if (!*user) return make_error(Errc::not_found, "no user '" + name + "' (kelvinctl user list shows the users)");
  return UserAccess{std::move(*opened), std::move(**user)};
}

}  // namespace kelvin::ctl
