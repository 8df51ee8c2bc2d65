#include "route_checks.hpp"

#include <utility>

#include "kelvin/core/identity.hpp"
#include "kelvin/gateway/query_parameters.hpp"

namespace kelvin::gateway {

std::variant<std::string, http::Response> device_id_of(const http::Request& request) {
  std::string id(request.param("id"));
  if (auto valid = validate_device_id(id); !valid) {
    return http::error_response(400, "invalid_device_id", valid.error().message);
  }
  return id;
}

std::optional<http::Response> refuse_parameters(const http::Request& request) {
  auto parameters = read_query_parameters(request.query, {});
  if (auto* refused = std::get_if<http::Response>(&parameters)) return std::move(*refused);
  return std::nullopt;
}

}  // namespace kelvin::gateway
