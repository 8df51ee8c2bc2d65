#include "kelvin/gateway/gateway_routes.hpp"

#include "kelvin/gateway/account_routes.hpp"
#include "kelvin/gateway/api_routes.hpp"
#include "kelvin/gateway/device_routes.hpp"
#include "kelvin/gateway/events_route.hpp"
#include "kelvin/gateway/release_routes.hpp"
#include "kelvin/gateway/static_files.hpp"
#include "kelvin/gateway/telemetry_route.hpp"

namespace kelvin::gateway {

void add_gateway_routes(http::Router& router, GatewayRouteServices services) {
  add_api_routes(router);
  add_telemetry_route(router, services.ingest, services.client_records);
  add_account_routes(router, services.guard, services.accounts, std::move(services.password_checks), services.sign_ins);
  add_fleet_routes(router, services.guard, std::move(services.fleet));
  add_device_routes(router, services.guard, std::move(services.device_actions));
  add_events_route(router, services.guard, services.live, services.accounts);
  add_release_routes(router, services.guard, std::move(services.releases));
  add_release_upload_routes(router, services.guard, std::move(services.release_uploads));
  add_rollout_routes(router, services.guard, std::move(services.rollouts));
  add_alert_routes(router, services.guard, std::move(services.alerts));
  add_metrics_route(router, std::move(services.metrics));
  if (!services.web_root.empty()) add_static_routes(router, StaticFilesOptions{.root = services.web_root});
}

}  // namespace kelvin::gateway
