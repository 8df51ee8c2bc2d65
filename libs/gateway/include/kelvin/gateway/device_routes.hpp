#pragma once
// Operators taking a device out of the installation over HTTPS (docs/api.md, "Revoking and
// removing devices"), as `kelvinctl device revoke` and `device remove` do on the host, through the
// same code (kelvin/fleet/device_removal.hpp):
//
//   POST   /api/v1/devices/{id}/revoke   operator: revoke the device's usable certificates
//   DELETE /api/v1/devices/{id}          operator: revoke them and remove the device's registration
//                                        and status; its readings stay
//   PUT    /api/v1/devices/{id}/labels   operator: replace the device's labels ({"labels":[...]}),
//                                        as `kelvinctl device label` changes them
//
// Deleting a device's readings (`kelvinctl device remove --purge`) is not offered here: it cannot
// be undone, so it stays with whoever administers the gateway's host.
//
// Revoking signs a new CRL, which needs the CA key: unencrypted, or its passphrase given to
// kelvin-gateway (KELVIN_CA_PASSPHRASE). Without it both routes answer 503 ca_key_unavailable
// and change nothing. The gateway notices the new CRL within about a second: its broker drops the
// device's session and refuses it, and its HTTPS server refuses the certificate.
//
// Every attempt that reaches the CA or the store, done or refused, is written to the audit log
// (device_revoke, device_remove, device_label). The work runs through the BlockingExecutor
// (signing and the store's write).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "kelvin/accounts/accounts.hpp"
#include "kelvin/core/result.hpp"
#include "kelvin/gateway/access.hpp"
#include "kelvin/gateway/blocking_answer.hpp"
#include "kelvin/http/router.hpp"
#include "kelvin/store/store.hpp"

namespace kelvin::gateway {

// Everything must stay usable until the executor's threads are done (fleet_routes.hpp).
struct DeviceActionSources {
  BlockingExecutor run_blocking;
  std::filesystem::path pki_dir;
  std::optional<std::string> ca_passphrase;  // as kelvin-gateway was given it; nullopt: none
  // A connection of its own to the gateway's store for a removal's or a labelling's write
  // (Store::open), opened for each: they are rare, and the API's shared connection is for reads.
  std::function<Result<store::Store>()> open_store;
  accounts::Accounts& accounts;          // the audit log
  std::function<std::int64_t()> now_ms;  // the wall clock in Unix milliseconds
};

void add_device_routes(http::Router& router, const RouteGuard& guard, DeviceActionSources sources);

}  // namespace kelvin::gateway
