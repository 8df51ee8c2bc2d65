#include "gateway_stats.hpp"

#include <system_error>

#include "kelvin/core/files.hpp"

namespace kelvin::ctl {

std::uint64_t GatewayStats::count(const char* name) const {
  auto found = counters.find(name);
  return found != counters.end() && found->is_number_unsigned() ? found->get<std::uint64_t>() : 0;
}

std::int64_t GatewayStats::integer(const char* name) const {
  auto found = counters.find(name);
  return found != counters.end() && found->is_number_integer() ? found->get<std::int64_t>() : 0;
}

Result<GatewayStats> read_gateway_stats(const std::filesystem::path& file) {
  std::error_code error;
  if (!std::filesystem::exists(file, error) && !error) {
    return make_error(Errc::not_found, "no gateway statistics at " + file.string() +
                                           "; is kelvin-gateway running with this state dir (--state-dir)?");
  }
  auto text = files::read_file(file, 1u << 20);
  if (!text) return std::move(text).error();
  GatewayStats stats;
  stats.counters = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (stats.counters.is_discarded() || !stats.counters.is_object() || !stats.counters.contains("time_ms") ||
      !stats.counters["time_ms"].is_number_integer()) {
    return make_error(Errc::corrupt, file.string() + " is not kelvin-gateway's statistics file");
  }
  stats.written_ms = stats.counters["time_ms"].get<std::int64_t>();
  return stats;
}

}  // namespace kelvin::ctl
