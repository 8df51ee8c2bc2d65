#pragma once
// What the release routes (release_routes.cpp: devices' downloads, release_upload_routes.cpp:
// operators' uploads) share: the catalog as the state dir holds it, and the release a path names.

#include <filesystem>
#include <optional>
#include <string>
#include <variant>

#include "kelvin/core/result.hpp"
#include "kelvin/http/message.hpp"
#include "kelvin/proto/release_manifest.hpp"
#include "kelvin/release/release_catalog.hpp"

namespace kelvin::gateway {

// The catalog with the key the gateway trusts; nullopt when no key is trusted yet.
Result<std::optional<release::ReleaseCatalog>> open_release_catalog(const std::filesystem::path& state_dir);
// 500 release_catalog_error, with `error` in the log.
http::Response release_catalog_error(const Error& error);
// 503 release_key_missing.
http::Response release_key_missing();

struct ReleaseName {
  std::string product;
  proto::FirmwareVersion version;
  std::string text() const { return product + " " + version.to_string(); }
};

// The {product} and {version} of the path; a name no release can have is answered like an
// unknown release (404 release_not_found).
std::variant<ReleaseName, http::Response> release_name_of(const http::Request& request);

}  // namespace kelvin::gateway
