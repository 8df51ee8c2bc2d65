#pragma once
// `kelvinctl rollout start|list|status|pause|resume|abort`: firmware rollouts on the gateway's
// host (docs/ota.md, "Rollouts"). They write rollouts.db in the state dir directly, through the
// same checks as the HTTPS API (kelvin/rollout/rollout_actions.hpp); the running gateway acts on
// a change within a second. Starts and commands are written to the audit log (actor kelvinctl).

#include <CLI/CLI.hpp>

namespace kelvin::ctl {

void add_rollout_command(CLI::App& app, int& exit_code);

}  // namespace kelvin::ctl
