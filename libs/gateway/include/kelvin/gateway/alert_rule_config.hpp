#pragma once
// An alert rule as its users write it (docs/alerts.md, "Rules"): an [[alerts.rule]] table of the
// gateway's config file, or the same keys as a JSON object given to the HTTPS API
// (POST /api/v1/alert-rules). One reader checks both, so a rule the API takes is one the config
// file would take, and the other way round.

#include <string_view>

#include "kelvin/alerts/alert_rule.hpp"
#include "kelvin/config/table_reader.hpp"
#include "kelvin/core/result.hpp"

namespace kelvin::gateway {

// Reads one rule's table: the keys its kind takes, each checked; problems are issues of the
// table's document (the keys it did not read are reported by the document's finish()).
alerts::AlertRule read_alert_rule(config::TableReader& table);

// A rule given as one JSON object with the keys of its table. An invalid_argument Error holds
// every problem, one per line without file or position ("above: expected a number, found a
// string"); a body that is not one JSON object is "the body must be one JSON object".
Result<alerts::AlertRule> parse_alert_rule_json(std::string_view json_text);

}  // namespace kelvin::gateway
