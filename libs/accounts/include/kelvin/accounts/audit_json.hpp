#pragma once
// One audit log entry as JSON (docs/api.md, "GET /api/v1/audit"): the object the API's pages list
// and the line `kelvinctl audit export` writes, so both say the same in the same words.

#include <string>

#include "kelvin/store/account_db.hpp"

namespace kelvin::accounts {

// {"id":…,"at":"2026-12-04T12:57:45Z","at_ms":…,"actor":…,"address":…,"action":…,"target":…,
// "result":…,"detail":…} on one line (no newline); strings escaped as JSON requires, so an entry
// with a newline or a quote in its detail is still one line.
std::string audit_entry_json(const store::AuditEntry& entry);

}  // namespace kelvin::accounts
