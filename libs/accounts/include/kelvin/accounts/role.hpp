#pragma once
// What a signed-in person may do (docs/api.md, "Roles").

#include <optional>
#include <string_view>

namespace kelvin::accounts {

// Ordered: a role may do everything the roles below it may.
enum class Role {
  viewer = 1,     // reads the fleet, its data and the gateway's status
  operator_ = 2,  // also manages devices (and, later, releases and rollouts)
  admin = 3,      // also manages users, security settings, and reads the audit log
};

std::string_view to_string(Role role);  // "viewer", "operator", "admin"
std::optional<Role> parse_role(std::string_view text);

}  // namespace kelvin::accounts
