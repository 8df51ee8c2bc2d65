#pragma once
// The read side of the REST API (docs/api.md): the fleet and the gateway, as JSON, for the web
// dashboard and for scripts. Every route is a user route for the viewer role and up (access.hpp):
//
//   GET /api/v1/devices               {"devices":[...]}: every device the store or the PKI knows
//                                     (removed ones left out), sorted by id; ?label=L: those
//                                     carrying L (400 invalid_label)
//   GET /api/v1/devices/{id}          one device, with its rejections by reason; 404
//                                     device_not_found, 400 invalid_device_id
//   GET /api/v1/devices/{id}/series   one quantity in time buckets (series_request.hpp for the
//                                     parameters and their 400 codes); 404 device_not_found
//   GET /api/v1/fleet/series          every device's hourly means of one quantity (sparklines;
//                                     series_request.hpp for the parameters)
//   GET /api/v1/gateway/status        the gateway's statistics (the facts of gateway-stats.json);
//                                     503 unavailable before it has any
//
// A device is shown in the shape of `kelvinctl device list --json` (kelvin/fleet/fleet_json.hpp),
// a series in that of `kelvinctl query --json`. Nothing secret is ever in an answer: certificate
// facts come from the CA's index (serial, state, expiry), never from a key, and store or PKI errors
// are logged with their details but answered only with a code (500 store_error, pki_error).
//
// The handlers only check the request on the I/O thread; the store, the PKI and the statistics are
// read through the BlockingExecutor, which answers later (503 busy at once when it is full).
// A route that takes no parameters refuses any (400 unknown_parameter).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "kelvin/gateway/access.hpp"
#include "kelvin/gateway/blocking_answer.hpp"
#include "kelvin/gateway/shared_store.hpp"
#include "kelvin/http/router.hpp"

namespace kelvin::gateway {

// What the routes read. `store` must outlive the router's use of the routes, and everything here
// must stay usable until the executor's threads are done: the gateway stops the HTTPS server, then
// its BlockingWork, then what they use.
struct FleetSources {
  BlockingExecutor run_blocking;  // where every answer is computed (a BlockingWork's post)
  SharedStore& store;             // the API's read connection to the gateway's store
  // The installation's PKI directory: device certificates are read from its index on each request,
  // so a `kelvinctl device add` or `revoke` shows at once. No key is read.
  std::filesystem::path pki_dir;
  // The gateway's statistics as one JSON object, the facts it writes to gateway-stats.json
  // (docs/gateway.md, "Statistics"); "" while it has none yet (starting: answered 503
  // unavailable). Called through run_blocking, so it may wait briefly for the gateway's locks.
  std::function<std::string()> gateway_status;
  // The wall clock in Unix milliseconds (system_now_ms): "now" in series parameters, certificates'
  // validity. Called from the I/O thread and through run_blocking.
  std::function<std::int64_t()> now_ms;
};

void add_fleet_routes(http::Router& router, const RouteGuard& guard, FleetSources sources);

}  // namespace kelvin::gateway
