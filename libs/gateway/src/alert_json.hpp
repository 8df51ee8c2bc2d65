#pragma once
// One alert, or one silence, as JSON (docs/api.md, "Alerts"): what GET /api/v1/alerts lists and what the gateway
// publishes retained on alerts/{rule}/{subject} (docs/alerts.md, "MQTT"). One encoder for both, so
// an integration reads the same object the API gives.

#include <nlohmann/json.hpp>

#include "kelvin/alerts/alert_rule.hpp"
#include "kelvin/store/alert_db.hpp"

namespace kelvin::gateway {

nlohmann::json alert_json(const store::AlertRecord& alert);

// A silence (docs/api.md, "Silences"), as the silence routes answer and as GET /api/v1/alerts
// shows the one covering an alert.
nlohmann::json silence_json(const store::SilenceRecord& silence);

// A rule in effect (GET /api/v1/alert-rules), with the keys and units of its [[alerts.rule]] table
// (docs/alerts.md, "Rules"; gateway_config.cpp reads them), so a rule the API shows can be copied
// into the config file as it is.
nlohmann::json rule_json(const alerts::AlertRule& rule);

}  // namespace kelvin::gateway
