#include "user_command.hpp"

#include <memory>
#include <string>

#include "kelvin/accounts/accounts.hpp"
#include "kelvin/accounts/role.hpp"
#include "user_actions.hpp"

namespace kelvin::ctl {
namespace {

// A user name the gateway accepts (accounts::user_name_problem), checked before anything runs.
// Only for `add`: the other commands look a name up, and an unknown one is reported as such.
CLI::Validator user_name_check() {
  return CLI::Validator([](std::string& name) -> std::string { return accounts::user_name_problem(name).value_or(""); },
                        "NAME", "user name");
}

CLI::Validator role_check() {
  return CLI::Validator(
      [](std::string& role) -> std::string {
        return accounts::parse_role(role) ? "" : "'" + role + "' is not a role: viewer, operator or admin";
      },
      "ROLE", "role");
}

}  // namespace

void add_user_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<UserOptions>();
  CLI::App* user = app.add_subcommand(
      "user", "The gateway's dashboard accounts: add, passwd, remove, list, role, reset-totp, require-second-factor");
  user->require_subcommand(1);
  user->fallthrough();  // --state-dir may follow the subcommand
  add_state_options(user, options->state, /*with_pki=*/false);

  auto run = [&exit_code, options](int (*command)(const UserOptions&)) {
    return [&exit_code, options, command]() { exit_code = command(*options); };
  };
  auto add_name = [options](CLI::App* command) {
    return command->add_option("name", options->name, "User name")->required();
  };

  CLI::App* add = user->add_subcommand("add", "Add a user with a generated password, printed once");
  add_name(add)->check(user_name_check());
  add->add_option("--role", options->role, "viewer, operator or admin")->check(role_check())->capture_default_str();
  add->add_flag("--json", options->json, "Print {\"user\", \"role\", \"password\"} as JSON instead of text");
  add->callback(run(run_user_add));

  CLI::App* passwd = user->add_subcommand(
      "passwd", "Set a user's password (typed twice at a terminal, or one line on stdin); ends their sessions");
  add_name(passwd);
  passwd->add_flag("--generate", options->generate, "Set a generated password instead, printed once");
  passwd->callback(run(run_user_passwd));

  CLI::App* remove = user->add_subcommand("remove", "Remove a user and end their sessions (never the last admin)");
  add_name(remove);
  remove->callback(run(run_user_remove));

  CLI::App* list = user->add_subcommand("list", "List the users, and whether a second factor is required");
  list->add_flag("--json", options->json, "Print JSON instead of a table (keys: see docs/users.md)");
  list->callback(run(run_user_list));

  CLI::App* role = user->add_subcommand("role", "Change a user's role (never the last admin's)");
  add_name(role);
  role->add_option("role", options->role, "viewer, operator or admin")->required()->check(role_check());
  role->callback(run(run_user_role));

  CLI::App* reset_totp = user->add_subcommand(
      "reset-totp", "Remove a user's second factor and recovery codes (a lost phone); ends their sessions");
  add_name(reset_totp);
  reset_totp->callback(run(run_user_reset_totp));

  CLI::App* require = user->add_subcommand(
      "require-second-factor", "Require every user to have a second factor (on), or leave it to each user (off)");
  require->add_option("state", options->requirement, "on or off")->required()->check(CLI::IsMember({"on", "off"}));
  require->callback(run(run_user_require_second_factor));
}

}  // namespace kelvin::ctl
