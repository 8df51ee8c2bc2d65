#pragma once
// What the fleet routes answer, from their sources (fleet_routes.hpp), once a request has passed
// its checks. Each of these reads the store, the PKI's index or the gateway's statistics and may
// take milliseconds or more: they run through the BlockingExecutor, never on an I/O thread.

#include <optional>
#include <string>

#include "kelvin/gateway/fleet_routes.hpp"
#include "kelvin/http/message.hpp"
#include "kelvin/store/types.hpp"

namespace kelvin::gateway {

// 200 {"devices":[...]}: every device, or (`label`, well-formed) those carrying it.
http::Response devices_answer(const FleetSources& sources, const std::optional<std::string>& label = std::nullopt);
// 200 with the device and its rejections by reason; 404 device_not_found. `device_id` is well-formed.
http::Response device_answer(const FleetSources& sources, const std::string& device_id);
// 200 with the buckets; 404 device_not_found. `query` passed read_series_request.
http::Response series_answer(const FleetSources& sources, const store::Query& query);
// 200 with every device's hourly means; 400 invalid_range if the store refuses the range.
http::Response fleet_series_answer(const FleetSources& sources, const store::FleetHoursQuery& query);
// 200 with the gateway's statistics; 503 unavailable when it has none yet.
http::Response gateway_status_answer(const FleetSources& sources);

}  // namespace kelvin::gateway
