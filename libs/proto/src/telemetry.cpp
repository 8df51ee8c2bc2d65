#include "kelvin/proto/telemetry.hpp"

namespace kelvin::proto {

std::optional<Quantity> parse_quantity(std::string_view name) noexcept {
  for (const auto& q : kQuantities) {
    if (q.name == name) return q.quantity;
  }
  return std::nullopt;
}

}  // namespace kelvin::proto
