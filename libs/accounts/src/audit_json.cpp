#include "kelvin/accounts/audit_json.hpp"

#include <nlohmann/json.hpp>

#include "kelvin/core/time_arguments.hpp"

namespace kelvin::accounts {

std::string audit_entry_json(const store::AuditEntry& entry) {
  // ordered_json keeps the documented order of the keys.
  const nlohmann::ordered_json object{
      {"id", entry.id},         {"at", format_utc_ms(entry.at_ms)}, {"at_ms", entry.at_ms},
      {"actor", entry.actor},   {"address", entry.address},         {"action", entry.action},
      {"target", entry.target}, {"result", entry.result},           {"detail", entry.detail}};
  // Invalid UTF-8 (an entry's text comes from outside) is replaced, never a throw.
  return object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace kelvin::accounts
