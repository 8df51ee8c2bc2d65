// `kelvinctl user add NAME [--role ROLE] [--json]` and `kelvinctl user passwd NAME [--generate]`:
// the commands that give a user a password. A generated one is printed once and exists nowhere
// else (accounts.db holds only its Argon2id hash), so it is shown on stdout and never logged.

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "failure.hpp"
#include "password_input.hpp"
#include "user_accounts.hpp"
#include "user_actions.hpp"

namespace kelvin::ctl {
namespace {

void print_one_time_password(const std::string& user, const std::string& password) {
  std::cout << "Password: " << password << "\n"
            << "It is shown only now: give it to " << user << ", who should change it after signing in.\n";
}

void print_sessions_ended(const std::string& user) {
  std::cout << user << "'s sessions were ended: " << user << " is signed out of the dashboard everywhere.\n";
}

// kelvin-gateway makes its first admin only while accounts.db has no user at all, so a first user
// added here as viewer or operator would leave the installation without anyone who can manage it.
void warn_if_no_admin(accounts::Accounts& accounts) {
  auto users = accounts.users();
  if (!users) return;  // only a warning: the user was added, and that is what the command reports
  const bool has_admin = std::any_of(users->begin(), users->end(),
                                     [](const accounts::UserView& user) { return user.role == accounts::Role::admin; });
  if (has_admin) return;
  std::cerr << "kelvinctl: warning: there is no admin, and kelvin-gateway creates its first admin only when there is "
               "no user at all; add one with kelvinctl user add NAME --role admin\n";
}

}  // namespace

int run_user_add(const UserOptions& options) {
  const accounts::Role role = accounts::parse_role(options.role).value_or(accounts::Role::viewer);  // checked by CLI
  auto accounts = open_or_create_accounts(options.state);
  if (!accounts) return report_failure(accounts.error(), options.state.state_dir);
  auto password = (*accounts)->add_user(options.name, role, kelvinctl_actor());
  if (!password) {
    Error error = std::move(password).error();
    if (error.code == Errc::already_exists) {
      error.message += " (kelvinctl user passwd " + options.name + " sets a new password)";
    }
    return report_failure(error, options.state.state_dir);
  }

  if (options.json) {
    std::cout << nlohmann::json{{"user", options.name},
                                {"role", std::string(accounts::to_string(role))},
                                {"password", *password}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "Added user " << options.name << " with role " << accounts::to_string(role) << ".\n";
    print_one_time_password(options.name, *password);
  }
  warn_if_no_admin(**accounts);
  return 0;
}

int run_user_passwd(const UserOptions& options) {
  auto access = open_user(options.state, options.name);
  if (!access) return report_failure(access.error(), options.state.state_dir);

  if (options.generate) {
    auto password = access->accounts->reset_password(options.name, kelvinctl_actor());
    if (!password) return report_failure(password.error(), options.state.state_dir);
    std::cout << "Set a new generated password for " << options.name << ".\n";
    print_one_time_password(options.name, *password);
  } else {
    auto password = read_new_password(options.name);
    if (!password) return report_failure(password.error());
    if (auto set = access->accounts->set_password(options.name, *password, kelvinctl_actor()); !set) {
      return report_failure(set.error(), options.state.state_dir);
    }
    std::cout << "Set the new password for " << options.name << ".\n";
  }
  print_sessions_ended(options.name);
  return 0;
}

}  // namespace kelvin::ctl
