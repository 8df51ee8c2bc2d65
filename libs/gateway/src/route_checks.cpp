#include "route_checks.hpp"

#include <utility>

#include "kelvin/core/identity.hpp"
#include "kelvin/gateway/query_parameters.hpp"
#include "kelvin/http/response_headers.hpp"

namespace kelvin::gateway {

std::variant<std::string, http::Response> device_id_of(const http::Request& request) {
  std::string id(request.param("id"));
  if (auto valid = validate_device_id(id); !valid) {
    return http::error_response(400, "invalid_device_id", valid.error().message);
  }
  return id;
}

std::optional<http::Response> refuse_unless_device(const http::Request& request, const DeviceRouteWords& words) {
  if (!request.client_common_name) {
    return http::error_response(401, "client_certificate_required",
                                std::string(words.act) + " over a connection with the device's client certificate");
  }
  const std::string& common_name = *request.client_common_name;
  if (!validate_device_id(common_name)) {
    return http::error_response(
        403, "not_a_device",
        "the client certificate ('" + common_name + "') is not a device's: " + std::string(words.only));
  }
  if (common_name != request.param("id")) {
    return http::error_response(403, "device_mismatch",
                                "the client certificate is device '" + common_name + "'s: " + std::string(words.own));
  }
  return std::nullopt;
}

std::optional<http::Response> refuse_unless_json(const http::Request& request, std::string_view rule) {
  auto content_type = request.header("Content-Type");
  if (!content_type || !http::is_json_media_type(*content_type)) {
    return http::error_response(415, "unsupported_media_type", rule);
  }
  return std::nullopt;
}

std::optional<http::Response> refuse_parameters(const http::Request& request) {
  auto parameters = read_query_parameters(request.query, {});
  if (auto* refused = std::get_if<http::Response>(&parameters)) return std::move(*refused);
  return std::nullopt;
}

}  // namespace kelvin::gateway
