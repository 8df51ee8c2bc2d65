#pragma once
// Helpers shared by the device tests.

#include <cstdint>
#include <limits>
#include <vector>

#include "kelvin/device/sensor_source.hpp"
#include "kelvin/proto/telemetry.hpp"
#include "kelvin/proto/telemetry_codec.hpp"

namespace kelvin::device::testing {

inline constexpr std::int64_t kTs = 1'800'000'000'000;  // 2027-01-15T08:00:00Z

inline SensorValues values(double temperature, double humidity) {
  SensorValues v{};
  v[static_cast<std::size_t>(proto::Quantity::temperature)] = temperature;
  v[static_cast<std::size_t>(proto::Quantity::humidity)] = humidity;
  return v;
}

inline proto::Reading reading(std::uint64_t seq, double temperature = 21.5, double humidity = 40.25) {
  proto::Reading r;
  r.seq = seq;
  r.ts_ms = kTs + static_cast<std::int64_t>(seq) * 1000;
  r.values = values(temperature, humidity);
  return r;
}

// The seqs of a telemetry payload as the gateway's decoder reads it; every reading must be
// accepted (a refusal would be a bug in what the device sends).
inline std::vector<std::uint64_t> decoded_seqs(std::string_view payload) {
  auto decoded = proto::decode_telemetry(payload, kTs + 10'000'000'000);
  std::vector<std::uint64_t> seqs;
  if (decoded.payload_rejection || !decoded.rejected.empty()) return {std::numeric_limits<std::uint64_t>::max()};
  for (const auto& r : decoded.accepted) seqs.push_back(r.seq);
  return seqs;
}

}  // namespace kelvin::device::testing
