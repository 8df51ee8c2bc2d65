#pragma once
// The [log] table the gateway's and the agent's configs share (docs/gateway.md and docs/agent.md,
// "Logs"): `level`, the least severe log lines written.

#include <string>

#include "kelvin/config/table_reader.hpp"

namespace kelvin::config {

// [log] level of `root`: trace, debug, info, warn or error (the names log::set_level takes);
// `fallback` when absent. Another name is reported as a problem of the document.
std::string read_log_level(TableReader& root, std::string fallback);

}  // namespace kelvin::config
