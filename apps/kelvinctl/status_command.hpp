#pragma once
// `kelvinctl status`: a human summary of the running gateway's statistics file.

#include <CLI/CLI.hpp>

namespace kelvin::ctl {

// Adds `status` to `app`; the callback sets `exit_code` (0, or 1 with one line on stderr).
void add_status_command(CLI::App& app, int& exit_code);

}  // namespace kelvin::ctl
