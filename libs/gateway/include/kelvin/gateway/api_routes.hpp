#pragma once
// What kelvin-gateway serves over HTTPS (docs/gateway.md, "HTTPS server"). For now:
//
//   GET /api/v1/health   200 {"status":"ok"}: the process is up and its HTTPS server answers.
//                        Liveness only: no state, no versions, nothing about devices or keys, so
//                        it is safe to answer anyone who completes the TLS handshake.

#include "kelvin/http/router.hpp"

namespace kelvin::gateway {

void add_api_routes(http::Router& router);

}  // namespace kelvin::gateway
