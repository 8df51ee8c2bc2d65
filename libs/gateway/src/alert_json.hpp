#pragma once
// One alert as JSON (docs/api.md, "Alerts"): what GET /api/v1/alerts lists and what the gateway
// publishes retained on alerts/{rule}/{subject} (docs/alerts.md, "MQTT"). One encoder for both, so
// an integration reads the same object the API gives.

#include <nlohmann/json.hpp>

#include "kelvin/store/alert_db.hpp"

namespace kelvin::gateway {

nlohmann::json alert_json(const store::AlertRecord& alert);

}  // namespace kelvin::gateway
