#include "kelvin/config/log_table.hpp"

namespace kelvin::config {

std::string read_log_level(TableReader& root, std::string fallback) {
  TableReader log = root.table("log");
  return log.one_of("level", std::move(fallback), {"trace", "debug", "info", "warn", "error"});
}

}  // namespace kelvin::config
