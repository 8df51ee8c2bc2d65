#include "kelvin/gateway/api_routes.hpp"

namespace kelvin::gateway {

void add_api_routes(http::Router& router) {
  router.get("/api/v1/health", [](const http::Request&, http::Responder respond) {
    respond(http::json_response(200, R"({"status":"ok"})"));
  });
}

}  // namespace kelvin::gateway
