#include "kelvin/gateway/fleet_routes.hpp"

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "fleet_answers.hpp"
#include "kelvin/core/identity.hpp"
#include "kelvin/gateway/query_parameters.hpp"
#include "kelvin/gateway/series_request.hpp"
#include "route_checks.hpp"

namespace kelvin::gateway {
namespace {

using Sources = std::shared_ptr<const FleetSources>;

constexpr std::array<std::string_view, 1> kDevicesParameters = {"label"};

// GET /api/v1/devices[?label=L]: every device, or those carrying the label.
void list_devices(const Sources& sources, http::Request request, http::Responder respond) {
  auto parameters = read_query_parameters(request.query, kDevicesParameters);
  if (auto* refused = std::get_if<http::Response>(&parameters)) return respond(std::move(*refused));
  std::optional<std::string> label;
  if (const auto found = std::get<QueryParameters>(parameters).find("label");
      found != std::get<QueryParameters>(parameters).end()) {
    if (auto valid = validate_label(found->second); !valid) {
      return respond(http::error_response(400, "invalid_label", valid.error().message));
    }
    label = found->second;
  }
  answer_blocking(sources->run_blocking, std::move(respond),
                  [sources, label = std::move(label)] { return devices_answer(*sources, label); });
}

void show_device(const Sources& sources, http::Request request, http::Responder respond) {
  auto id = device_id_of(request);
  if (auto* refused = std::get_if<http::Response>(&id)) return respond(std::move(*refused));
  if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
  answer_blocking(sources->run_blocking, std::move(respond),
                  [sources, id = std::get<std::string>(std::move(id))] { return device_answer(*sources, id); });
}

void show_series(const Sources& sources, http::Request request, http::Responder respond) {
  auto id = device_id_of(request);
  if (auto* refused = std::get_if<http::Response>(&id)) return respond(std::move(*refused));
  auto parameters = read_query_parameters(request.query, kSeriesParameters);
  if (auto* refused = std::get_if<http::Response>(&parameters)) return respond(std::move(*refused));
  auto query = read_series_request(std::get<std::string>(id), std::get<QueryParameters>(parameters), sources->now_ms());
  if (auto* refused = std::get_if<http::Response>(&query)) return respond(std::move(*refused));
  answer_blocking(
      sources->run_blocking, std::move(respond),
      [sources, query = std::get<store::Query>(std::move(query))] { return series_answer(*sources, query); });
}

void show_fleet_series(const Sources& sources, http::Request request, http::Responder respond) {
  auto parameters = read_query_parameters(request.query, kFleetSeriesParameters);
  if (auto* refused = std::get_if<http::Response>(&parameters)) return respond(std::move(*refused));
  auto query = read_fleet_series_request(std::get<QueryParameters>(parameters), sources->now_ms());
  if (auto* refused = std::get_if<http::Response>(&query)) return respond(std::move(*refused));
  answer_blocking(
      sources->run_blocking, std::move(respond),
      [sources, query = std::get<store::FleetHoursQuery>(query)] { return fleet_series_answer(*sources, query); });
}

void show_gateway_status(const Sources& sources, http::Request request, http::Responder respond) {
  if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
  answer_blocking(sources->run_blocking, std::move(respond), [sources] { return gateway_status_answer(*sources); });
}

// A viewer route whose handler gets the sources; the principal is not needed to read.
http::Handler viewer_route(const RouteGuard& guard, const Sources& sources,
                           void (*handle)(const Sources&, http::Request, http::Responder)) {
  return guard.user(Role::viewer, [sources, handle](Principal, http::Request request, http::Responder respond) {
    handle(sources, std::move(request), std::move(respond));
  });
}

}  // namespace

void add_fleet_routes(http::Router& router, const RouteGuard& guard, FleetSources sources) {
  const auto shared = std::make_shared<const FleetSources>(std::move(sources));
  router.get("/api/v1/devices", viewer_route(guard, shared, list_devices));
  router.get("/api/v1/devices/{id}", viewer_route(guard, shared, show_device));
  router.get("/api/v1/devices/{id}/series", viewer_route(guard, shared, show_series));
  router.get("/api/v1/fleet/series", viewer_route(guard, shared, show_fleet_series));
  router.get("/api/v1/gateway/status", viewer_route(guard, shared, show_gateway_status));
}

}  // namespace kelvin::gateway
