#include "kelvin/gateway/series_request.hpp"

#include <optional>
#include <string>

#include "kelvin/core/time_arguments.hpp"

namespace kelvin::gateway {
namespace {

// 9999-12-31T23:59:59.999Z, the latest time the store represents.
constexpr std::int64_t kLatestMs = 253'402'300'799'999;

constexpr const char* kTimeForms =
    "use Unix milliseconds, ISO 8601 UTC such as 2026-11-22T10:00:00Z, \"now\", or a time relative to now such as "
    "-15m, -1h, -7d";
constexpr const char* kStepForms =
    "use a whole number of milliseconds, or of seconds, minutes, hours or days such as "
    "30s, 5m, 1h, 1d";

http::Response refuse(std::string_view code, const std::string& message) {
  return http::error_response(400, code, message);
}

std::optional<std::int64_t> read_time(std::string_view text, std::int64_t now_ms) {
  std::optional<std::int64_t> ms = whole_number(text);
  if (!ms) {
    auto parsed = parse_time_argument(text, now_ms);
    if (parsed) ms = *parsed;
  }
  if (!ms || *ms < 0 || *ms > kLatestMs) return std::nullopt;
  return ms;
}

std::optional<std::int64_t> read_step(std::string_view text) {
  if (auto ms = whole_number(text)) return *ms > 0 ? ms : std::nullopt;
  auto parsed = parse_step(text);
  return parsed ? std::optional<std::int64_t>(*parsed) : std::nullopt;
}

// The required quantity parameter, or the 400 answer.
std::variant<proto::Quantity, http::Response> read_quantity(const QueryParameters& parameters) {
  auto name = parameter(parameters, "quantity");
  if (!name) return refuse("missing_parameter", "quantity is required: temperature or humidity");
  auto quantity = proto::parse_quantity(*name);
  if (!quantity) {
    return refuse("invalid_quantity",
                  "quantity '" + std::string(*name) + "' is not known: use temperature or humidity");
  }
  return *quantity;
}

}  // namespace

std::variant<store::Query, http::Response> read_series_request(std::string_view device_id,
                                                               const QueryParameters& parameters, std::int64_t now_ms) {
  store::Query query;
  query.device_id = std::string(device_id);

  auto quantity = read_quantity(parameters);
  if (auto* refused = std::get_if<http::Response>(&quantity)) return std::move(*refused);
  query.quantity = std::get<proto::Quantity>(quantity);

  auto from_text = parameter(parameters, "from");
  if (!from_text) return refuse("missing_parameter", std::string("from is required: ") + kTimeForms);
  auto from = read_time(*from_text, now_ms);
  if (!from) return refuse("invalid_time", "from '" + std::string(*from_text) + "' is not a time: " + kTimeForms);
  auto to_text = parameter(parameters, "to");
  auto to = to_text ? read_time(*to_text, now_ms) : std::optional<std::int64_t>(now_ms);
  if (!to) return refuse("invalid_time", "to '" + std::string(*to_text) + "' is not a time: " + kTimeForms);
  if (*from >= *to) {
    return refuse("invalid_range",
                  "from (" + format_utc_ms(*from) + ") must be before to (" + format_utc_ms(*to) + ")");
  }
  query.from_ms = *from;
  query.to_ms = *to;

  if (auto step_text = parameter(parameters, "step")) {
    auto step = read_step(*step_text);
    if (!step) return refuse("invalid_step", "step '" + std::string(*step_text) + "' is not a step: " + kStepForms);
    query.step_ms = *step;
  } else {
    query.step_ms = default_step(query.to_ms - query.from_ms);
  }

  // Both times are >= 0, so division rounds down, and the buckets overlapping [from, to) are those
  // from from/step to (to-1)/step.
  const std::int64_t points = (query.to_ms - 1) / query.step_ms - query.from_ms / query.step_ms + 1;
  if (points > kMaxSeriesPoints) {
    return refuse("too_many_points", "this range at step " + format_step(query.step_ms) + " gives " +
                                         std::to_string(points) + " buckets, more than the " +
                                         std::to_string(kMaxSeriesPoints) + " an answer may hold; use a larger step");
  }
  return query;
}

std::variant<store::FleetHoursQuery, http::Response> read_fleet_series_request(const QueryParameters& parameters,
                                                                               std::int64_t now_ms) {
  constexpr std::int64_t kHourMs = 3'600'000;
  constexpr std::int64_t kMaxHours = store::kMaxFleetHoursSpanMs / kHourMs;
  store::FleetHoursQuery query;
  auto quantity = read_quantity(parameters);
  if (auto* refused = std::get_if<http::Response>(&quantity)) return std::move(*refused);
  query.quantity = std::get<proto::Quantity>(quantity);

  std::int64_t hours = kDefaultFleetSeriesHours;
  if (auto hours_text = parameter(parameters, "hours")) {
    auto given = whole_number(*hours_text);
    if (!given || *given < 1 || *given > kMaxHours) {
      return refuse("invalid_hours", "hours '" + std::string(*hours_text) + "' is not a whole number from 1 to " +
                                         std::to_string(kMaxHours));
    }
    hours = *given;
  }
  query.to_ms = (now_ms / kHourMs + 1) * kHourMs;
  query.from_ms = query.to_ms - hours * kHourMs;
  return query;
}

}  // namespace kelvin::gateway
