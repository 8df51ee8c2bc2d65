#include "kelvin/accounts/role.hpp"

namespace kelvin::accounts {

std::string_view to_string(Role role) {
  switch (role) {
    case Role::viewer:
      return "viewer";
    case Role::operator_:
      return "operator";
    case Role::admin:
      return "admin";
  }
  return "viewer";
}

std::optional<Role> parse_role(std::string_view text) {
  for (Role role : {Role::viewer, Role::operator_, Role::admin}) {
    if (to_string(role) == text) return role;
  }
  return std::nullopt;
}

}  // namespace kelvin::accounts
