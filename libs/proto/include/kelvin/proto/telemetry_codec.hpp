#pragma once
// JSON encoding and validated decoding of telemetry payloads:
//   one reading  {"seq":42,"ts":1732200000123,"values":{"temperature":21.5,"humidity":40.2}}
//   a batch      {"batch":[<reading>, ...]}   (1 to max_batch_readings readings)

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/proto/telemetry.hpp"

namespace kelvin::proto {

// Appends the JSON of one reading / a batch to `out`. Doubles are written in their shortest form
// that reads back to the same value. Precondition: values are finite.
void append_reading_json(const Reading& reading, std::string& out);
void append_batch_json(std::span<const Reading> readings, std::string& out);
// The batch form's envelope, for building a batch a reading at a time under a byte limit:
// kBatchOpen, the readings separated by ',', kBatchClose.
inline constexpr std::string_view kBatchOpen = R"({"batch":[)";
inline constexpr std::string_view kBatchClose = "]}";

// Why a payload or one reading of it was refused. Stable names: they label metrics and logs.
enum class RejectReason {
  payload_too_large,
  invalid_utf8,
  malformed_json,  // includes NaN, Infinity, overflowing numbers such as 1e999, and a raw NUL byte anywhere
  wrong_shape,     // not an object, unexpected or missing member, wrong JSON type
  batch_empty,
  batch_too_large,
  invalid_seq,  // not an integer from 1 to 2^63-1
  unknown_quantity,
  no_values,
  out_of_range,
  timestamp_in_future,
  timestamp_too_old,
  duplicate_member,  // a member name given twice in one object, at any depth
};
inline constexpr std::size_t kRejectReasonCount = 13;
std::string_view to_string(RejectReason reason) noexcept;

struct Rejection {
  RejectReason reason;
  std::optional<std::uint64_t> seq;  // known when the reading's seq itself was valid
  std::string detail;                // one line for the log
};

// A payload decodes into accepted readings and rejected ones: one bad reading in a batch does not
// sink the others. When the payload as a whole is unusable (too large, not JSON, wrong shape),
// `payload_rejection` is set and both lists are empty.
struct DecodedTelemetry {
  std::vector<Reading> accepted;
  std::vector<Rejection> rejected;
  std::optional<Rejection> payload_rejection;
};

DecodedTelemetry decode_telemetry(std::string_view payload, std::int64_t now_ms, const TelemetryLimits& limits = {});

}  // namespace kelvin::proto
