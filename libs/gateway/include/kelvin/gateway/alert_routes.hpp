#pragma once
// Alerts over HTTPS (docs/api.md, "Alerts"; docs/alerts.md):
//
//   GET  /api/v1/alerts                    viewer: alerts newest first; ?state=firing|resolved,
//                                          ?subject=ID, ?before=ID (the next page), ?limit=1..1000
//   POST /api/v1/alerts/{id}/acknowledge   operator: marks it seen (200 with the alert), once:
//                                          409 when it was acknowledged already
//   POST /api/v1/alerts/{id}/silence       operator: holds back the notifications of the alert's
//                                          rule and subject until {"until_ms"} (within 90 days)
//   POST /api/v1/silences                  operator: the same, set ahead by {"rule", "subject"}
//   GET  /api/v1/silences                  viewer: the silences lasting now
//   DELETE /api/v1/silences/{id}           operator: ends a silence now (204)
//   GET  /api/v1/alert-rules               viewer: the rules in effect, as their config tables say them,
//                                          and which of them operators added
//   POST /api/v1/alert-rules               operator: adds a rule (201), given as its config table's keys
//   PUT  /api/v1/alert-rules/{name}        operator: replaces an added rule (200)
//   DELETE /api/v1/alert-rules/{name}      operator: removes an added rule (204)
//
// The alert engine (alert_engine.hpp) is the only writer of firing and resolving; these routes read
// alerts.db, acknowledge and silence on a connection of their own, through the BlockingExecutor.
// Every acknowledgement, silence, lifted silence and change of a rule, done or refused, is written to
// the audit log (alert_acknowledge, alert_silence, alert_silence_lift, alert_rule_add,
// alert_rule_change, alert_rule_remove).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "kelvin/accounts/accounts.hpp"
#include "kelvin/gateway/access.hpp"
#include "kelvin/gateway/alert_rule_book.hpp"
#include "kelvin/gateway/blocking_answer.hpp"
#include "kelvin/gateway/silence_book.hpp"
#include "kelvin/http/router.hpp"

namespace kelvin::gateway {

// Everything must stay usable until the executor's threads are done (fleet_routes.hpp).
struct AlertSources {
  BlockingExecutor run_blocking;
  std::filesystem::path db_file;  // alerts.db (state_layout.hpp)
  accounts::Accounts& accounts;   // the audit log
  std::function<std::int64_t()> now_ms;
  AlertRuleBook& rules;   // the rules in effect: listed and changed; a silence set ahead names one
  SilenceBook& silences;  // silences are set and lifted through it
};

void add_alert_routes(http::Router& router, const RouteGuard& guard, AlertSources sources);

}  // namespace kelvin::gateway
