#pragma once
// `kelvinctl query ID`: one series of a device from the gateway's store, in time buckets.

#include <CLI/CLI.hpp>

namespace kelvin::ctl {

// Adds `query` to `app`; the callback sets `exit_code` (0; 1 when the store cannot answer;
// 2 for arguments that parse but make no sense, such as --from after --to).
void add_query_command(CLI::App& app, int& exit_code);

}  // namespace kelvin::ctl
