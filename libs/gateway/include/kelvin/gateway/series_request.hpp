#pragma once
// The parameters of the series routes read into store queries (docs/api.md).
//
// GET /api/v1/devices/{id}/series:
//
//   quantity  required: temperature or humidity
//   from      required: Unix milliseconds, ISO 8601 UTC ("2026-11-22T10:00:00Z", "2026-11-22T10:00Z",
//             "2026-11-22"), "now", or relative to now ("-30s", "-15m", "-1h", "-7d")
//   to        the same forms; default now. The range is [from, to), within 1970..9999.
//   step      the bucket length: milliseconds, or "30s", "5m", "1h", "1d"; default about 60 buckets
//             over the range (kelvinctl query's default)
//
// Buckets are aligned to multiples of the step since the epoch, and every bucket overlapping the
// range is answered whole (docs/store.md, "Queries"), so the answer holds at most
// (align_up(to) - align_down(from)) / step buckets: that number may not exceed kMaxSeriesPoints.

#include <array>
#include <cstdint>
#include <string_view>
#include <variant>

#include "kelvin/gateway/query_parameters.hpp"
#include "kelvin/http/message.hpp"
#include "kelvin/store/types.hpp"

namespace kelvin::gateway {

// A year at one-hour steps (8,760) fits; a chart has no use for more points than it has pixels.
inline constexpr std::int64_t kMaxSeriesPoints = 10'000;

inline constexpr std::array<std::string_view, 4> kSeriesParameters = {"quantity", "from", "to", "step"};

// The query for `device_id` (a well-formed id), or the 400 answer refusing the parameters, with
// the code missing_parameter, invalid_quantity, invalid_time, invalid_step, invalid_range (from
// not before to) or too_many_points. `now_ms` resolves "now" and relative times.
std::variant<store::Query, http::Response> read_series_request(std::string_view device_id,
                                                               const QueryParameters& parameters, std::int64_t now_ms);

// GET /api/v1/fleet/series: every device's hourly means of one quantity, for sparklines.
//
//   quantity  required: temperature or humidity
//   hours     how many hours back, 1 to 744 (31 days); default 24
//
// The range ends at the end of the current hour (so the hour in progress is its last bucket) and
// starts `hours` hours before.
inline constexpr std::array<std::string_view, 2> kFleetSeriesParameters = {"quantity", "hours"};
inline constexpr std::int64_t kDefaultFleetSeriesHours = 24;

// The query, or the 400 answer: missing_parameter, invalid_quantity, invalid_hours.
std::variant<store::FleetHoursQuery, http::Response> read_fleet_series_request(const QueryParameters& parameters,
                                                                               std::int64_t now_ms);

}  // namespace kelvin::gateway
