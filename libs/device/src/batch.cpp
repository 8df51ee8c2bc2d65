#include "kelvin/device/batch.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

#include "kelvin/proto/telemetry_codec.hpp"

namespace kelvin::device {

BatchLimits BatchLimits::effective() const {
  const proto::TelemetryLimits protocol;
  BatchLimits out;
  out.max_readings = std::clamp<std::size_t>(max_readings, 1, protocol.max_batch_readings);
  out.max_payload_bytes = std::clamp<std::size_t>(max_payload_bytes, kMinBatchPayloadBytes, protocol.max_payload_bytes);
  return out;
}

BatchBuilder::BatchBuilder(const BatchLimits& limits) : limits_(limits.effective()) {
  batch_.payload.reserve(std::min<std::size_t>(limits_.max_payload_bytes, 4096));
  batch_.payload += proto::kBatchOpen;
}

bool BatchBuilder::try_add(const proto::Reading& reading) {
  if (batch_.readings >= limits_.max_readings) return false;
  scratch_.clear();
  proto::append_reading_json(reading, scratch_);
  const std::size_t separator = batch_.readings == 0 ? 0 : 1;
  const std::size_t size = batch_.payload.size() + separator + scratch_.size() + proto::kBatchClose.size();
  if (size > limits_.max_payload_bytes) return false;
  if (separator != 0) batch_.payload += ',';
  batch_.payload += scratch_;
  if (batch_.readings == 0) batch_.first_seq = reading.seq;
  batch_.last_seq = reading.seq;
  ++batch_.readings;
  return true;
}

std::optional<Batch> BatchBuilder::finish() && {
  if (batch_.readings == 0) return std::nullopt;
  batch_.payload += proto::kBatchClose;
  return std::move(batch_);
}

}  // namespace kelvin::device
