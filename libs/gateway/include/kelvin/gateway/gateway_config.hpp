#pragma once
// kelvin-gateway's configuration file (TOML; annotated example: deploy/gateway/gateway.example.toml).
// Every key is optional: a missing file section keeps GatewaySettings' defaults. Unknown keys and
// every invalid value are reported together.

#include <filesystem>

#include "kelvin/core/result.hpp"
#include "kelvin/gateway/gateway.hpp"

namespace kelvin::gateway {

Result<GatewaySettings> load_gateway_config(const std::filesystem::path& path);

}  // namespace kelvin::gateway
