#include "kelvin/gateway/series_request.hpp"

#include <charconv>
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

// Only decimal digits, as a number that fits: anything else is not a number of milliseconds.
std::optional<std::int64_t> milliseconds(std::string_view text) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || text.front() == '-' || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::int64_t> read_time(std::string_view text, std::int64_t now_ms) {
  std::optional<std::int64_t> ms = milliseconds(text);
  if (!ms) {
    auto parsed = parse_time_argument(text, now_ms);
    if (parsed) ms = *parsed;
  }
  if (!ms || *ms < 0 || *ms > kLatestMs) return std::nullopt;
  return ms;
}

std::optional<std::int64_t> read_step(std::string_view text) {
  if (auto ms = milliseconds(text)) return *ms > 0 ? ms : std::nullopt;
  auto parsed = parse_step(text);
  return parsed ? std::optional<std::int64_t>(*parsed) : std::nullopt;
}

}  // namespace

std::variant<store::Query, http::Response> read_series_request(std::string_view device_id,
                                                               const QueryParameters& parameters, std::int64_t now_ms) {
  store::Query query;
  query.device_id = std::string(device_id);

  auto quantity_name = parameter(parameters, "quantity");
  if (!quantity_name) return refuse("missing_parameter", "quantity is required: temperature or humidity");
  auto quantity = proto::parse_quantity(*quantity_name);
  if (!quantity) {
    return refuse("invalid_quantity",
                  "quantity '" + std::string(*quantity_name) + "' is not known: use temperature or humidity");
  }
  query.quantity = *quantity;

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

}  // namespace kelvin::gateway
