#pragma once
// How the HTTPS API's JSON gives a time (docs/api.md, "Conventions"): "<name>" as an RFC 3339 UTC
// string and "<name>_ms" as Unix milliseconds, both null when there is none.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

namespace kelvin::gateway {

void add_time(nlohmann::json& out, const char* name, std::optional<std::int64_t> ms);

}  // namespace kelvin::gateway
