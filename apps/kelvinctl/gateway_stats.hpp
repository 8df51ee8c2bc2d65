#pragma once
// kelvin-gateway's statistics file (<state dir>/gateway-stats.json), which the gateway rewrites
// atomically every second while it runs: the ingest counters and when they were written.

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "kelvin/core/result.hpp"

namespace kelvin::ctl {

// Statistics older than this mean the gateway is not running (it rewrites them every second).
inline constexpr std::int64_t kStaleStatsMs = 10'000;

struct GatewayStats {
  nlohmann::json counters;  // the file's object: numbers by name, "rejected" by reason
  std::int64_t written_ms = 0;

  std::uint64_t count(const char* name) const;   // 0 when absent or negative
  std::int64_t integer(const char* name) const;  // 0 when absent
};

// Errc::not_found when the file does not exist; Errc::corrupt when it is not the gateway's JSON.
Result<GatewayStats> read_gateway_stats(const std::filesystem::path& file);

}  // namespace kelvin::ctl
