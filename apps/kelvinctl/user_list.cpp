// `kelvinctl user list [--json]`: the dashboard's users with their role and second factor, and
// whether the installation requires a second factor. Never shows a hash, a secret or a code.

#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "failure.hpp"
#include "kelvin/core/time_arguments.hpp"
#include "text_table.hpp"
#include "user_accounts.hpp"
#include "user_actions.hpp"

namespace kelvin::ctl {
namespace {

nlohmann::json user_json(const accounts::UserView& user) {
  return {{"name", user.name},
          {"role", std::string(accounts::to_string(user.role))},
          {"second_factor", user.second_factor_enrolled},
          {"recovery_codes_left", user.recovery_codes_left},
          {"created", format_utc_ms(user.created_ms)},
          {"created_ms", user.created_ms},
          {"password_changed", format_utc_ms(user.password_changed_ms)},
          {"password_changed_ms", user.password_changed_ms}};
}

void print_json(bool second_factor_required, const std::vector<accounts::UserView>& users) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& user : users) list.push_back(user_json(user));
  std::cout << nlohmann::json{{"second_factor_required", second_factor_required}, {"users", list}}.dump(2) << "\n";
}

void print_table(bool second_factor_required, const std::vector<accounts::UserView>& users) {
  std::cout << "Second factor required: "
            << (second_factor_required ? "yes (users without one must enrol it when they sign in)" : "no") << "\n";
  if (users.empty()) {
    std::cout << "No users: kelvin-gateway creates the first admin when it starts, or add one with kelvinctl user "
                 "add NAME --role admin\n";
    return;
  }
  TextTable table(
      {{"NAME"}, {"ROLE"}, {"SECOND FACTOR"}, {"RECOVERY CODES", Align::right}, {"CREATED"}, {"PASSWORD CHANGED"}});
  for (const auto& user : users) {
    table.add_row({user.name, std::string(accounts::to_string(user.role)), user.second_factor_enrolled ? "yes" : "no",
                   user.second_factor_enrolled ? std::to_string(user.recovery_codes_left) : "-",
                   format_utc_ms(user.created_ms), format_utc_ms(user.password_changed_ms)});
  }
  table.print(std::cout);
}

}  // namespace

int run_user_list(const UserOptions& options) {
  auto accounts = open_existing_accounts(options.state);
  if (!accounts) return report_failure(accounts.error(), options.state.state_dir);
  if (!*accounts) {
    if (options.json) {
      print_json(false, {});
    } else {
      std::cout << "No users yet: " << options.state.accounts_file().string()
                << " does not exist (kelvin-gateway creates it, with the first admin, when it first starts)\n";
    }
    return 0;
  }
  auto required = (*accounts)->second_factor_required();
  if (!required) return report_failure(required.error(), options.state.state_dir);
  auto users = (*accounts)->users();
  if (!users) return report_failure(users.error(), options.state.state_dir);
  if (options.json) {
    print_json(*required, *users);
  } else {
    print_table(*required, *users);
  }
  return 0;
}

}  // namespace kelvin::ctl
