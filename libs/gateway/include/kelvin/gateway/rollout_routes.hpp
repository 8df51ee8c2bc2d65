#pragma once
// Firmware rollouts over HTTPS (docs/api.md, "Rollouts"; docs/ota.md, "Rollouts"):
//
//   GET  /api/v1/rollouts                          viewer: every rollout, newest first, with counts
//   POST /api/v1/rollouts                          operator: start one (201 with it) for all
//                                                  devices, a list, or a label's devices
//   GET  /api/v1/rollouts/{id}                     viewer: one rollout and every device's state
//   POST /api/v1/rollouts/{id}/pause|resume|abort  operator
//   GET  /api/v1/devices/{id}/update               device {id}: 200 the notice of the release it
//                                                  should fetch, or 204
//   POST /api/v1/devices/{id}/ota/status           device {id}: its progress or result, 204
//
// Starting and commanding go through kelvin/rollout/rollout_actions.hpp, as kelvinctl's do, into
// rollouts.db; the engine (rollout_engine.hpp) is woken to act on them at once. Every start and
// command, done or refused, is written to the audit log (rollout_start, rollout_pause,
// rollout_resume, rollout_abort). The database work runs through the BlockingExecutor on one
// connection of the routes' own; a device's status is handed to the engine without waiting.

#include <cstdint>
#include <filesystem>
#include <functional>

#include "kelvin/accounts/accounts.hpp"
#include "kelvin/gateway/access.hpp"
#include "kelvin/gateway/blocking_answer.hpp"
#include "kelvin/gateway/rollout_engine.hpp"
#include "kelvin/gateway/shared_store.hpp"
#include "kelvin/http/router.hpp"

namespace kelvin::gateway {

// Everything must stay usable until the executor's threads are done (fleet_routes.hpp).
struct RolloutSources {
  BlockingExecutor run_blocking;
  std::filesystem::path state_dir;  // rollouts.db, release.pub and releases/ (state_layout.hpp)
  SharedStore& store;               // the devices the gateway knows
  accounts::Accounts& accounts;     // the audit log
  RolloutEngine& engine;            // devices' reports; woken after a change
  std::function<std::int64_t()> now_ms;
};

void add_rollout_routes(http::Router& router, const RouteGuard& guard, RolloutSources sources);

}  // namespace kelvin::gateway
