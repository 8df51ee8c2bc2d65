#include "json_time.hpp"

#include <ctime>
#include <string>

#include "kelvin/core/time_format.hpp"

namespace kelvin::gateway {

void add_time(nlohmann::json& out, const char* name, std::optional<std::int64_t> ms) {
  using nlohmann::json;
  out[name] = ms ? json(format_utc_timestamp(static_cast<std::time_t>(*ms / 1000))) : json(nullptr);
  out[std::string(name) + "_ms"] = ms ? json(*ms) : json(nullptr);
}

}  // namespace kelvin::gateway
