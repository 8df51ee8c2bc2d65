// `kelvinctl user remove | role | reset-totp | require-second-factor`: the changes that take
// something away or grant something. A running kelvin-gateway reads users and sessions from
// accounts.db on every request, so each change applies to it at once, without a restart.

#include <iostream>
#include <string>

#include "failure.hpp"
#include "user_accounts.hpp"
#include "user_actions.hpp"

namespace kelvin::ctl {

int run_user_remove(const UserOptions& options) {
  auto access = open_user(options.state, options.name);
  if (!access) return report_failure(access.error(), options.state.state_dir);
  // Errc::conflict for the last admin, whose message says what to do instead.
  if (auto removed = access->accounts->remove_user(options.name, kelvinctl_actor()); !removed) {
    return report_failure(removed.error(), options.state.state_dir);
  }
  std::cout << "Removed user " << options.name << " (role " << accounts::to_string(access->user.role)
            << "); their sessions ended with it.\n";
  return 0;
}

int run_user_role(const UserOptions& options) {
  const accounts::Role role = accounts::parse_role(options.role).value_or(accounts::Role::viewer);  // checked by CLI
  auto access = open_user(options.state, options.name);
  if (!access) return report_failure(access.error(), options.state.state_dir);
  const accounts::Role previous = access->user.role;
  if (previous == role) {
    std::cout << options.name << " already has role " << accounts::to_string(role) << "; nothing changed.\n";
    return 0;
  }
  if (auto set = access->accounts->set_role(options.name, role, kelvinctl_actor()); !set) {
    return report_failure(set.error(), options.state.state_dir);
  }
  std::cout << options.name << " now has role " << accounts::to_string(role) << " (was "
            << accounts::to_string(previous) << "), from their next request on.\n";
  return 0;
}

int run_user_reset_totp(const UserOptions& options) {
  auto access = open_user(options.state, options.name);
  if (!access) return report_failure(access.error(), options.state.state_dir);
  if (!access->user.second_factor_enrolled) {
    return report_failure(
        make_error(Errc::conflict, "user '" + options.name + "' has no second factor: nothing to reset"));
  }
  auto& accounts = *access->accounts;
  if (auto reset = accounts.reset_second_factor(options.name, kelvinctl_actor()); !reset) {
    return report_failure(reset.error(), options.state.state_dir);
  }
  std::cout << "Removed " << options.name << "'s second factor and its " << access->user.recovery_codes_left
            << " unused recovery code(s); " << options.name << "'s sessions were ended.\n";
  auto required = accounts.second_factor_required();
  if (!required) return report_failure(required.error(), options.state.state_dir);
  if (*required) {
    std::cout << "A second factor is required here: after signing in with the password, " << options.name
              << " can only enrol a new one.\n";
  } else {
    std::cout << options.name << " signs in with the password alone until enrolling a new one.\n";
  }
  return 0;
}

int run_user_require_second_factor(const UserOptions& options) {
  const bool required = options.requirement == "on";  // "on" or "off", checked by CLI
  auto accounts = open_or_create_accounts(options.state);
  if (!accounts) return report_failure(accounts.error(), options.state.state_dir);
  auto current = (*accounts)->second_factor_required();
  if (!current) return report_failure(current.error(), options.state.state_dir);
  if (*current == required) {
    std::cout << "A second factor is already " << (required ? "required" : "optional") << "; nothing changed.\n";
    return 0;
  }
  if (auto set = (*accounts)->require_second_factor(required, kelvinctl_actor()); !set) {
    return report_failure(set.error(), options.state.state_dir);
  }
  if (!required) {
    std::cout << "A second factor is now optional; users who have one keep signing in with it.\n";
    return 0;
  }
  std::cout << "A second factor is now required: a user without one can only enrol it after signing in.\n";
  auto users = (*accounts)->users();
  if (!users) return report_failure(users.error(), options.state.state_dir);
  std::string without;
  for (const auto& user : *users) {
    if (!user.second_factor_enrolled) without += (without.empty() ? "" : ", ") + user.name;
  }
  if (!without.empty()) std::cout << "Without one so far: " << without << "\n";
  return 0;
}

}  // namespace kelvin::ctl
