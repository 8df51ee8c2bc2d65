#include "alert_json.hpp"

#include <ctime>
#include <optional>
#include <string>

#include "kelvin/core/time_format.hpp"

namespace kelvin::gateway {
namespace {

// A time as both an RFC 3339 string and milliseconds (null when absent).
void add_time(nlohmann::json& out, const char* name, std::optional<std::int64_t> ms) {
  using nlohmann::json;
  out[name] = ms ? json(format_utc_timestamp(static_cast<std::time_t>(*ms / 1000))) : json(nullptr);
  out[std::string(name) + "_ms"] = ms ? json(*ms) : json(nullptr);
}

}  // namespace

nlohmann::json alert_json(const store::AlertRecord& a) {
  using nlohmann::json;
  json out{{"id", a.id},
           {"rule", a.rule},
           {"kind", a.kind},
           {"subject", a.subject},
           {"state", store::to_string(a.state)},
           {"value", a.value ? json(*a.value) : json(nullptr)},
           {"summary", a.summary},
           {"resolution", a.resolution},
           {"acknowledged_by", a.acknowledged_by.empty() ? json(nullptr) : json(a.acknowledged_by)}};
  add_time(out, "started", a.started_ms);
  add_time(out, "ended", a.ended_ms);
  add_time(out, "acknowledged", a.acknowledged_ms);
  return out;
}

}  // namespace kelvin::gateway
