#pragma once
// `kelvinctl device ...`: the device registry (add, list, revoke, remove) over the gateway's store
// and the installation's PKI.

#include <CLI/CLI.hpp>

namespace kelvin::ctl {

// Adds the `device` subcommand tree to `app`. The selected command runs from the callback and sets
// `exit_code` (0; 1 after one line on stderr; 2 for a usage error).
void add_device_command(CLI::App& app, int& exit_code);

}  // namespace kelvin::ctl
