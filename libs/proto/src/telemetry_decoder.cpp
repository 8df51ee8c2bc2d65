// Decoding runs on the gateway, where every payload comes from the network: each check here is a
// counted rejection reason, never an exception or a crash.

#include <cmath>
#include <nlohmann/json.hpp>
#include <variant>

#include "kelvin/core/utf8.hpp"
#include "kelvin/proto/telemetry_codec.hpp"
#include "strict_json.hpp"

namespace kelvin::proto {
namespace {

using Json = nlohmann::json;

Rejection reject(RejectReason reason, std::string detail, std::optional<std::uint64_t> seq = std::nullopt) {
  return Rejection{reason, seq, std::move(detail)};
}

// Decodes one reading object of a payload.
std::variant<Reading, Rejection> decode_reading(const Json& item, std::int64_t now_ms, const TelemetryLimits& limits) {
  if (!item.is_object()) return reject(RejectReason::wrong_shape, "a reading must be a JSON object");
  for (const auto& [key, _] : item.items()) {
    if (key != "seq" && key != "ts" && key != "values") {
      return reject(RejectReason::wrong_shape, "unexpected member '" + key + "'");
    }
  }
  auto seq_it = item.find("seq");
  if (seq_it == item.end()) return reject(RejectReason::wrong_shape, "missing member 'seq'");
  // The upper bound keeps every seq representable in the store (SQLite integers are signed).
  if (!seq_it->is_number_unsigned() || seq_it->get<std::uint64_t>() == 0 ||
      seq_it->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    return reject(RejectReason::invalid_seq, "'seq' must be an integer from 1 to 2^63-1");
  }
  Reading reading;
  reading.seq = seq_it->get<std::uint64_t>();

  auto ts_it = item.find("ts");
  if (ts_it == item.end()) return reject(RejectReason::wrong_shape, "missing member 'ts'", reading.seq);
  if (!ts_it->is_number_integer()) {
    return reject(RejectReason::wrong_shape, "'ts' must be an integer (Unix milliseconds)", reading.seq);
  }
  if (ts_it->is_number_unsigned() && ts_it->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    return reject(RejectReason::timestamp_in_future, "'ts' is beyond any plausible time", reading.seq);
  }
  reading.ts_ms = ts_it->get<std::int64_t>();
  if (reading.ts_ms < limits.earliest_ts_ms) {
    return reject(RejectReason::timestamp_too_old,
                  "'ts' " + std::to_string(reading.ts_ms) + " is before 2020 (clock not set?)", reading.seq);
  }
  if (reading.ts_ms > now_ms + limits.max_future_skew_ms) {
    return reject(RejectReason::timestamp_in_future,
                  "'ts' is " + std::to_string((reading.ts_ms - now_ms) / 1000) + " s in the future", reading.seq);
  }

  auto values_it = item.find("values");
  if (values_it == item.end()) return reject(RejectReason::wrong_shape, "missing member 'values'", reading.seq);
  if (!values_it->is_object()) return reject(RejectReason::wrong_shape, "'values' must be an object", reading.seq);
  if (values_it->empty()) return reject(RejectReason::no_values, "'values' is empty", reading.seq);
  for (const auto& [name, value] : values_it->items()) {
    auto quantity = parse_quantity(name);
    if (!quantity) return reject(RejectReason::unknown_quantity, "unknown quantity '" + name + "'", reading.seq);
    if (!value.is_number()) return reject(RejectReason::wrong_shape, "'" + name + "' must be a number", reading.seq);
    const double v = value.get<double>();
    const auto& range = info(*quantity);
    // JSON has no NaN or Infinity and the parser refuses overflowing literals such as 1e999;
    // the isfinite check keeps that true whatever parser sits underneath.
    if (!std::isfinite(v) || v < range.min || v > range.max) {
      return reject(RejectReason::out_of_range,
                    "'" + name + "' " + std::to_string(v) + " is outside [" + std::to_string(range.min) + ", " +
                        std::to_string(range.max) + "]",
                    reading.seq);
    }
    reading.set(*quantity, v);
  }
  return reading;
}

// Puts one decoded reading on the accepted or the rejected list.
void file_reading(std::variant<Reading, Rejection> decoded, DecodedTelemetry& out) {
  if (auto* reading = std::get_if<Reading>(&decoded)) {
    out.accepted.push_back(*reading);
  } else {
    out.rejected.push_back(std::get<Rejection>(std::move(decoded)));
  }
}

}  // namespace

std::string_view to_string(RejectReason reason) noexcept {
  switch (reason) {
    case RejectReason::payload_too_large:
      return "payload_too_large";
    case RejectReason::invalid_utf8:
      return "invalid_utf8";
    case RejectReason::malformed_json:
      return "malformed_json";
    case RejectReason::wrong_shape:
      return "wrong_shape";
    case RejectReason::batch_empty:
      return "batch_empty";
    case RejectReason::batch_too_large:
      return "batch_too_large";
    case RejectReason::invalid_seq:
      return "invalid_seq";
    case RejectReason::unknown_quantity:
      return "unknown_quantity";
    case RejectReason::no_values:
      return "no_values";
    case RejectReason::out_of_range:
      return "out_of_range";
    case RejectReason::timestamp_in_future:
      return "timestamp_in_future";
    case RejectReason::timestamp_too_old:
      return "timestamp_too_old";
    case RejectReason::duplicate_member:
      return "duplicate_member";
  }
  return "unknown";
}

DecodedTelemetry decode_telemetry(std::string_view payload, std::int64_t now_ms, const TelemetryLimits& limits) {
  DecodedTelemetry out;
  auto refuse = [&out](RejectReason reason, std::string detail) {
    out.payload_rejection = reject(reason, std::move(detail));
    return std::move(out);
  };
  if (payload.size() > limits.max_payload_bytes) {
    return refuse(RejectReason::payload_too_large, "payload of " + std::to_string(payload.size()) + " bytes exceeds " +
                                                       std::to_string(limits.max_payload_bytes));
  }
  if (!is_valid_utf8(payload)) return refuse(RejectReason::invalid_utf8, "payload is not valid UTF-8");
  auto parsed = detail::parse_strict_json(payload);
  if (auto* refusal = std::get_if<detail::JsonRefusal>(&parsed)) {
    return refuse(refusal->reason, "payload: " + refusal->detail);
  }
  const Json& document = std::get<Json>(parsed);
  if (!document.is_object()) return refuse(RejectReason::wrong_shape, "payload must be a JSON object");

  auto batch = document.find("batch");
  if (batch == document.end()) {
    file_reading(decode_reading(document, now_ms, limits), out);
    return out;
  }
  if (document.size() != 1) return refuse(RejectReason::wrong_shape, "a batch payload has only the member 'batch'");
  if (!batch->is_array()) return refuse(RejectReason::wrong_shape, "'batch' must be an array");
  if (batch->empty()) return refuse(RejectReason::batch_empty, "'batch' is empty");
  if (batch->size() > limits.max_batch_readings) {
    return refuse(RejectReason::batch_too_large, "batch of " + std::to_string(batch->size()) + " readings exceeds " +
                                                     std::to_string(limits.max_batch_readings));
  }
  out.accepted.reserve(batch->size());
  for (const auto& item : *batch) {
    file_reading(decode_reading(item, now_ms, limits), out);
  }
  return out;
}

}  // namespace kelvin::proto
