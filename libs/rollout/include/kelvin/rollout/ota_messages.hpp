#pragma once
// The rollout's messages with devices (docs/protocol.md, "Firmware updates"), a contract the
// device side is written against:
//
//   devices/{id}/ota         gateway → device, QoS 1, retained: the notice
//                            {"rollout":17,"product":"thermo-linux","version":"1.1.0"}; cleared (an
//                            empty retained message) when the device's part ends or the rollout is
//                            aborted. GET /api/v1/devices/{id}/update answers the same object.
//   devices/{id}/ota/status  device → gateway, QoS 1, and POST /api/v1/devices/{id}/ota/status:
//                            {"rollout":17,"product":"…","version":"…","state":"downloading",
//                             "percent":42,"reason":"","detail":"free text","running_version":"1.0.0"}

#include <cstdint>
#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"
#include "kelvin/rollout/rollout_plan.hpp"

namespace kelvin::rollout {

inline constexpr std::size_t kMaxReportBytes = 4096;
inline constexpr std::size_t kMaxReportDetailBytes = 1024;

// The notice's JSON (and the update route's answer).
std::string encode_notice(std::int64_t rollout, std::string_view product, std::string_view version);

// A status report, decoded strictly: one JSON object of at most kMaxReportBytes with only the
// members above, each of its type; product, version and state required; state one of downloading,
// installed, confirmed, failed, rolled_back; percent 0..100; rollout >= 0; reason a short code of
// a-z, 0-9, _ and - (at most 64); detail valid UTF-8 text of at most kMaxReportDetailBytes; running_version
// at most 32 characters. Errc::invalid_argument with the first problem otherwise.
Result<DeviceReport> decode_report(std::string_view payload);

}  // namespace kelvin::rollout
