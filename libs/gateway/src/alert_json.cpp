#include "alert_json.hpp"

#include <optional>
#include <string>

#include "json_time.hpp"

namespace kelvin::gateway {

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

nlohmann::json silence_json(const store::SilenceRecord& s) {
  nlohmann::json out{
      {"id", s.id}, {"rule", s.rule}, {"subject", s.subject}, {"created_by", s.created_by}, {"comment", s.comment}};
  add_time(out, "until", s.until_ms);
  add_time(out, "created", s.created_ms);
  return out;
}

}  // namespace kelvin::gateway
