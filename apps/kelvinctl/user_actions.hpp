#pragma once
// The `kelvinctl user` commands (wired to the command line in user_command.cpp): the gateway's
// dashboard accounts in <state dir>/accounts.db, changed through libs/accounts so the rules
// (names, passwords, the last admin) are the gateway's own. Each returns the exit status: 0, 1
// after one line on stderr saying what failed, 2 for a usage error.

#include <string>

#include "state_options.hpp"

namespace kelvin::ctl {

struct UserOptions {
  StateOptions state;
  std::string name;
  std::string role = "viewer";  // add: --role; role: ROLE (checked by user_command.cpp's validator)
  bool json = false;            // add, list
  bool generate = false;        // passwd --generate
  std::string requirement;      // require-second-factor: "on" or "off" (checked likewise)
};

int run_user_add(const UserOptions& options);
int run_user_passwd(const UserOptions& options);
int run_user_remove(const UserOptions& options);
int run_user_list(const UserOptions& options);
int run_user_role(const UserOptions& options);
int run_user_reset_totp(const UserOptions& options);
int run_user_require_second_factor(const UserOptions& options);

}  // namespace kelvin::ctl
