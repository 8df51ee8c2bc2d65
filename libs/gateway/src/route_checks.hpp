#pragma once
// Checks of a request that several route files make before any work is handed over, answered on
// the I/O thread.

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "kelvin/http/message.hpp"

namespace kelvin::gateway {

// The {id} of the path if it is a device id, else the 400 invalid_device_id answer.
std::variant<std::string, http::Response> device_id_of(const http::Request& request);

// How the refusals of one device route word what the route is for.
struct DeviceRouteWords {
  std::string_view act;   // "post telemetry"
  std::string_view only;  // "only devices post telemetry"
  std::string_view own;   // "a device posts only its own telemetry"
};

// For device routes (docs/api.md, "Access"): nullopt when the connection's client certificate is
// the device {id}'s, else the refusal: 401 client_certificate_required (none), 403 not_a_device
// (a service's or the gateway's own), 403 device_mismatch (another device's).
std::optional<http::Response> refuse_unless_device(const http::Request& request, const DeviceRouteWords& words);

// 415 unsupported_media_type (saying `rule`, "a status is sent as application/json") unless the
// request's Content-Type is application/json; else nullopt.
std::optional<http::Response> refuse_unless_json(const http::Request& request, std::string_view rule);

// For routes without parameters: the 400 answer when the request has any (a client that sends one
// expects it to mean something), else nullopt.
std::optional<http::Response> refuse_parameters(const http::Request& request);

}  // namespace kelvin::gateway
