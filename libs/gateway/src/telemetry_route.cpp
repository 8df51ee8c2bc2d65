#include "kelvin/gateway/telemetry_route.hpp"

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "kelvin/core/identity.hpp"
#include "kelvin/http/response_headers.hpp"
#include "route_checks.hpp"

namespace kelvin::gateway {

namespace {

bool is_json_media_type(std::string_view content_type) {
  // "application/json", optionally with parameters ("; charset=utf-8"); media types are
  // case-insensitive.
  const std::string_view type = content_type.substr(0, content_type.find(';'));
  std::string_view trimmed = type;
  while (!trimmed.empty() && trimmed.back() == ' ') trimmed.remove_suffix(1);
  return http::field_name_equals(trimmed, "application/json");
}

std::string dump(const nlohmann::json& json) {
  // Rejection details quote the device's bytes, which need not be UTF-8.
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

constexpr DeviceRouteWords kTelemetryWords{"post telemetry", "only devices post telemetry",
                                           "a device posts only its own telemetry"};
constexpr DeviceRouteWords kStatusWords{"put the status", "only devices report a status",
                                        "a device reports only its own status"};

// A device that passed refuse_device_client: the certificate it connected with.
void note_certificate(ClientRecords& certificates, const http::Request& request) {
  if (request.client_certificate_serial)
    certificates.record_certificate(request.param("id"), *request.client_certificate_serial, system_now_ms());
}

// The checks both device routes make before anything is decoded: the connection's client
// certificate is the device {id}'s, and the body is JSON.
std::optional<http::Response> refuse_device_client(const http::Request& request, const DeviceRouteWords& words,
                                                   std::string_view media_type_rule) {
  if (auto refused = refuse_unless_device(request, words)) return refused;
  auto content_type = request.header("Content-Type");
  if (!content_type || !is_json_media_type(*content_type)) {
    return http::error_response(415, "unsupported_media_type", media_type_rule);
  }
  return std::nullopt;
}

http::Response unavailable_response(std::string_view what) {
  http::Response response = http::error_response(
      503, "unavailable", "the gateway cannot take " + std::string(what) + " now; send it again later");
  response.headers.emplace_back("Retry-After", "1");
  return response;
}

}  // namespace

std::optional<http::Response> refuse_telemetry_poster(const http::Request& request) {
  return refuse_device_client(request, kTelemetryWords, "telemetry is sent as application/json");
}

std::optional<http::Response> refuse_status_writer(const http::Request& request) {
  return refuse_device_client(request, kStatusWords, "a status is sent as application/json");
}

http::Response telemetry_response(const TelemetryOutcome& outcome) {
  using Status = TelemetryOutcome::Status;
  switch (outcome.status) {
    case Status::unavailable:
      return unavailable_response("telemetry");
    case Status::refused: {
      const proto::Rejection& rejection = *outcome.payload_rejection;
      const std::string_view reason = proto::to_string(rejection.reason);
      nlohmann::json json = {{"error", {{"code", reason}, {"message", rejection.detail}}}, {"seq", outcome.acked_seq}};
      return http::json_response(rejection.reason == proto::RejectReason::payload_too_large ? 413 : 400, dump(json));
    }
    case Status::stored:
      break;
  }
  nlohmann::json rejected = nlohmann::json::array();
  for (const auto& rejection : outcome.rejected) {
    nlohmann::json item = {{"reason", proto::to_string(rejection.reason)}};
    if (rejection.seq) item["seq"] = *rejection.seq;
    rejected.push_back(std::move(item));
  }
  nlohmann::json json = {{"seq", outcome.acked_seq}, {"accepted", outcome.accepted}, {"rejected", std::move(rejected)}};
  return http::json_response(200, dump(json));
}

http::Response status_response(const StatusOutcome& outcome) {
  using Status = StatusOutcome::Status;
  switch (outcome.status) {
    case Status::unavailable:
      return unavailable_response("the status");
    case Status::refused: {
      const std::string_view code = outcome.too_large ? "payload_too_large" : "invalid_status";
      nlohmann::json json = {{"error", {{"code", code}, {"message", outcome.refusal}}}, {"seq", outcome.acked_seq}};
      return http::json_response(outcome.too_large ? 413 : 400, dump(json));
    }
    case Status::recorded:
      break;
  }
  return http::json_response(200, dump(nlohmann::json{{"seq", outcome.acked_seq}}));
}

void add_telemetry_route(http::Router& router, Ingest& ingest, ClientRecords& certificates) {
  router.add("POST", "/api/v1/devices/{id}/telemetry",
             [&ingest, &certificates](http::Request request, http::Responder respond) {
               if (auto refusal = refuse_telemetry_poster(request)) {
                 respond(std::move(*refusal));
                 return;
               }
               note_certificate(certificates, request);
               // The Responder is move-only and the completion a std::function (copyable): share it.
               auto responder = std::make_shared<http::Responder>(std::move(respond));
               ingest.submit_telemetry(request.param("id"), request.body, [responder](TelemetryOutcome outcome) {
                 (*responder)(telemetry_response(outcome));
               });
             });
  router.add("PUT", "/api/v1/devices/{id}/status",
             [&ingest, &certificates](http::Request request, http::Responder respond) {
               if (auto refusal = refuse_status_writer(request)) {
                 respond(std::move(*refusal));
                 return;
               }
               note_certificate(certificates, request);
               auto responder = std::make_shared<http::Responder>(std::move(respond));
               ingest.submit_status(request.param("id"), request.body,
                                    [responder](StatusOutcome outcome) { (*responder)(status_response(outcome)); });
             });
}

}  // namespace kelvin::gateway
