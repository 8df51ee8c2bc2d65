#include "release_route_parts.hpp"

#include "kelvin/gateway/state_layout.hpp"
#include "kelvin/log/log.hpp"

namespace kelvin::gateway {

Result<std::optional<release::ReleaseCatalog>> open_release_catalog(const std::filesystem::path& state_dir) {
  return release::ReleaseCatalog::open(releases_path(state_dir), release_public_key_path(state_dir));
}

http::Response release_catalog_error(const Error& error) {
  log::component("https").error("reading the releases failed: {}", error.message);
  return http::error_response(500, "release_catalog_error",
                              "the gateway could not read its releases; its log says why");
}

http::Response release_key_missing() {
  return http::error_response(503, "release_key_missing",
                              "the gateway trusts no release key yet (kelvinctl release trust)");
}

std::variant<ReleaseName, http::Response> release_name_of(const http::Request& request) {
  const std::string product(request.param("product"));
  auto version = proto::parse_firmware_version(request.param("version"));
  if (!proto::is_valid_product_name(product) || !version) {
    return http::error_response(404, "release_not_found", "no release has that product name and version");
  }
  return ReleaseName{product, *version};
}

}  // namespace kelvin::gateway
