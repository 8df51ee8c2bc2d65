#pragma once
// `kelvinctl audit export`: the gateway's audit log (<state dir>/accounts.db) as JSON lines, on the
// gateway host: every entry, or those after an id, oldest first, one JSON object per line as
// GET /api/v1/audit lists them (docs/api.md). For an archive or a SIEM; reading is not audited.

#include <CLI/CLI.hpp>

namespace kelvin::ctl {

// Adds the `audit` subcommand tree to `app`. The command runs from its callback and sets
// `exit_code` (0; 1 after one line on stderr; 2 for a usage error).
void add_audit_command(CLI::App& app, int& exit_code);

}  // namespace kelvin::ctl
