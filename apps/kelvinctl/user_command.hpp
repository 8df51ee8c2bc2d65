#pragma once
// `kelvinctl user ...`: the gateway's dashboard accounts (add, passwd, remove, list, role,
// reset-totp, require-second-factor) in its state dir's accounts.db, on the gateway host.

#include <CLI/CLI.hpp>

namespace kelvin::ctl {

// Adds the `user` subcommand tree to `app`. The selected command runs from the callback and sets
// `exit_code` (0; 1 after one line on stderr; 2 for a usage error).
void add_user_command(CLI::App& app, int& exit_code);

}  // namespace kelvin::ctl
