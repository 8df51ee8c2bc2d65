#pragma once
// Building telemetry payloads from pending readings (docs/protocol.md, "Telemetry").
//
// Every payload is the batch form {"batch":[...]}, also for a single reading. The protocol
// accepts both forms; one form means one code path on each end and one size computation, at the
// cost of 12 bytes on a lone reading.
//
// A payload never exceeds the byte limit, and its first reading always fits: one reading's JSON is
// at most ~140 bytes (a 20-digit seq, a 20-character ts, two 24-character doubles and the keys),
// so with the wrapper it stays under kMinBatchPayloadBytes, the smallest limit accepted.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "kelvin/proto/telemetry.hpp"

namespace kelvin::device {

inline constexpr std::size_t kMinBatchPayloadBytes = 256;

struct BatchLimits {
  // ~200 readings of temperature and humidity fill 16 KiB (docs/protocol.md).
  std::size_t max_readings = 200;
  std::size_t max_payload_bytes = std::size_t{16} * 1024;

  // The limits actually applied: max_readings within [1, the protocol's 500], max_payload_bytes
  // within [kMinBatchPayloadBytes, the protocol's 16 KiB]. A gateway refuses anything larger, so
  // a configuration cannot make the device send payloads the gateway drops.
  BatchLimits effective() const;
};

struct Batch {
  std::string payload;
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::size_t readings = 0;
};

// Appends readings to one payload while they fit.
class BatchBuilder {
 public:
  explicit BatchBuilder(const BatchLimits& limits);

  // Adds `reading` if the payload stays within the limits; false (and no change) otherwise.
  // Readings are expected in ascending seq. Precondition: values are finite.
  bool try_add(const proto::Reading& reading);
  bool empty() const { return batch_.readings == 0; }
  // The finished payload; nullopt when nothing was added.
  std::optional<Batch> finish() &&;

 private:
  BatchLimits limits_;
  Batch batch_;
  std::string scratch_;  // one reading's JSON, reused
};

// The longest prefix of `readings` (proto::Reading, ascending seq) that fits one payload;
// nullopt when `readings` is empty.
template <class Readings>  // unconstrained: clang before 16 rejects libstdc++'s range concepts
std::optional<Batch> build_batch(Readings&& readings, const BatchLimits& limits) {
  BatchBuilder builder(limits);
  for (const proto::Reading& reading : readings) {
    if (!builder.try_add(reading)) break;
  }
  return std::move(builder).finish();
}

}  // namespace kelvin::device
