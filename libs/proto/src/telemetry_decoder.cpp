// Decoding runs on the gateway, where every payload comes from the network: each check here is a
// counted rejection reason, never an exception or a crash. The JSON is read into the facts the
// checks need (telemetry_facts.hpp) and the checks run on those, in a fixed order, so a payload
// with several faults is always refused for the same one.

#include <algorithm>
#include <cmath>
#include <variant>

#include "kelvin/core/utf8.hpp"
#include "kelvin/proto/telemetry_codec.hpp"
#include "telemetry_facts.hpp"

namespace kelvin::proto {
namespace {

using detail::JsonKind;
using detail::ReadingFacts;

Rejection reject(RejectReason reason, std::string detail, std::optional<std::uint64_t> seq = std::nullopt) {
  return Rejection{reason, seq, std::move(detail)};
}

// Checks one reading of a payload.
std::variant<Reading, Rejection> decode_reading(ReadingFacts& item, std::int64_t now_ms,
                                                const TelemetryLimits& limits) {
  if (item.kind != JsonKind::object) return reject(RejectReason::wrong_shape, "a reading must be a JSON object");
  if (item.first_unexpected) {
    return reject(RejectReason::wrong_shape, "unexpected member '" + *item.first_unexpected + "'");
  }
  if (!item.seq) return reject(RejectReason::wrong_shape, "missing member 'seq'");
  // The upper bound keeps every seq representable in the store (SQLite integers are signed).
  if (item.seq->kind != JsonKind::unsigned_integer || item.seq->unsigned_value == 0 ||
      item.seq->unsigned_value > static_cast<std::uint64_t>(INT64_MAX)) {
    return reject(RejectReason::invalid_seq, "'seq' must be an integer from 1 to 2^63-1");
  }
  Reading reading;
  reading.seq = item.seq->unsigned_value;

  if (!item.ts) return reject(RejectReason::wrong_shape, "missing member 'ts'", reading.seq);
  if (item.ts->kind != JsonKind::unsigned_integer && item.ts->kind != JsonKind::negative_integer) {
    return reject(RejectReason::wrong_shape, "'ts' must be an integer (Unix milliseconds)", reading.seq);
  }
  if (item.ts->kind == JsonKind::unsigned_integer && item.ts->unsigned_value > static_cast<std::uint64_t>(INT64_MAX)) {
    return reject(RejectReason::timestamp_in_future, "'ts' is beyond any plausible time", reading.seq);
  }
  reading.ts_ms = item.ts->kind == JsonKind::unsigned_integer ? static_cast<std::int64_t>(item.ts->unsigned_value)
                                                              : item.ts->negative_value;
  if (reading.ts_ms < limits.earliest_ts_ms) {
    return reject(RejectReason::timestamp_too_old,
                  "'ts' " + std::to_string(reading.ts_ms) + " is before 2020 (clock not set?)", reading.seq);
  }
  if (reading.ts_ms > now_ms + limits.max_future_skew_ms) {
    return reject(RejectReason::timestamp_in_future,
                  "'ts' is " + std::to_string((reading.ts_ms - now_ms) / 1000) + " s in the future", reading.seq);
  }

  if (!item.values) return reject(RejectReason::wrong_shape, "missing member 'values'", reading.seq);
  if (item.values->kind != JsonKind::object) {
    return reject(RejectReason::wrong_shape, "'values' must be an object", reading.seq);
  }
  if (item.value_members.empty()) return reject(RejectReason::no_values, "'values' is empty", reading.seq);
  // In name order, so the quantity a refusal names does not depend on the order the device chose.
  std::sort(item.value_members.begin(), item.value_members.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (const auto& [name, value] : item.value_members) {
    auto quantity = parse_quantity(name);
    if (!quantity) return reject(RejectReason::unknown_quantity, "unknown quantity '" + name + "'", reading.seq);
    if (!value.is_number()) return reject(RejectReason::wrong_shape, "'" + name + "' must be a number", reading.seq);
    const double v = value.number;
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

// The payload's facts, or why it is refused as a whole. Plain readings (nearly every payload) are
// read on the fast path, and being ASCII they are valid UTF-8; any other payload is checked for
// UTF-8 and read by the SAX reader.
std::variant<detail::PayloadFacts, Rejection> read_payload_facts(std::string_view payload,
                                                                 std::size_t max_batch_readings) {
  if (auto plain = detail::read_plain_reading_facts(payload, max_batch_readings)) return *std::move(plain);
  if (!is_valid_utf8(payload)) return reject(RejectReason::invalid_utf8, "payload is not valid UTF-8");
  auto read = detail::read_telemetry_facts(payload, max_batch_readings);
  if (auto* refusal = std::get_if<detail::JsonRefusal>(&read)) {
    return reject(refusal->reason, "payload: " + refusal->detail);
  }
  return std::get<detail::PayloadFacts>(std::move(read));
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
  auto read = read_payload_facts(payload, limits.max_batch_readings);
  if (auto* rejection = std::get_if<Rejection>(&read)) {
    out.payload_rejection = std::move(*rejection);
    return out;
  }
  detail::PayloadFacts& facts = std::get<detail::PayloadFacts>(read);
  if (facts.root_kind != JsonKind::object) return refuse(RejectReason::wrong_shape, "payload must be a JSON object");

  if (!facts.batch) {
    file_reading(decode_reading(facts.root, now_ms, limits), out);
    return out;
  }
  if (facts.root_members != 1) return refuse(RejectReason::wrong_shape, "a batch payload has only the member 'batch'");
  if (facts.batch->kind != JsonKind::array) return refuse(RejectReason::wrong_shape, "'batch' must be an array");
  if (facts.batch_size == 0) return refuse(RejectReason::batch_empty, "'batch' is empty");
  if (facts.batch_size > limits.max_batch_readings) {
    return refuse(RejectReason::batch_too_large, "batch of " + std::to_string(facts.batch_size) + " readings exceeds " +
                                                     std::to_string(limits.max_batch_readings));
  }
  out.accepted.reserve(facts.batch_elements.size());
  for (auto& item : facts.batch_elements) {
    file_reading(decode_reading(item, now_ms, limits), out);
  }
  return out;
}

}  // namespace kelvin::proto
