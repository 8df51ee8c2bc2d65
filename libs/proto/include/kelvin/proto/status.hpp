#pragma once
// The device status message (devices/{id}/status, retained):
//   {"state":"online","fw":"1.2.0","dropped":0,"oldest_seq":1,"release_check":"current"}
//                                  published by the device on connect and when something changed
//   {"state":"offline"}            its last will, published by the broker
// `dropped` counts readings the device's outbox discarded because it was full: loss is reported,
// never silent. `oldest_seq` is the lowest seq the device still holds (its next seq when it holds
// none): the gateway gives up the seqs below it that never arrived, so the ack can pass a gap the
// drops left. `release_check` is the verdict of the device's last check of the signed release
// timestamp its gateway serves (docs/protocol.md, "Status"): a code such as "current" or
// "timestamp_expired". Unknown members are ignored so devices can add fields without breaking
// gateways.
// The encoder is portable (proto_portable: the device publishes statuses); the decoder is the
// gateway's (proto).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"

namespace kelvin::proto {

inline constexpr std::size_t kMaxStatusBytes = 1024;
inline constexpr std::size_t kMaxFirmwareVersionBytes = 64;
inline constexpr std::size_t kMaxReleaseCheckBytes = 40;

// The last will a device registers with the broker at connect.
inline constexpr std::string_view kOfflineStatusJson = R"({"state":"offline"})";

struct StatusReport {
  bool online = false;
  std::string firmware;  // empty when not reported (e.g. the last will)
  std::uint64_t dropped = 0;
  std::optional<std::uint64_t> oldest_seq;  // absent in the last will and from older devices
  // The verdict of the device's release timestamp check; empty when not reported (the last will,
  // a device that has not checked yet, older devices). See is_valid_release_check.
  std::string release_check{};
  bool operator==(const StatusReport&) const = default;
};

// Whether `code` is a release check code: 1 to kMaxReleaseCheckBytes characters of a-z and '_'.
// The gateway stores any such code, so devices may report codes it does not know yet.
bool is_valid_release_check(std::string_view code);

// An online report as {"state":"online","fw":...,"dropped":...,"oldest_seq":...,"release_check":...}
// ("oldest_seq" only when set; precondition: at least 1; "release_check" only when it is a valid
// code: an empty or invalid one is left out, so the status still goes through and reports the
// rest), anything else as kOfflineStatusJson (the last will carries no release check). The
// gateway refuses a whole status whose "fw" is not valid UTF-8, longer than
// kMaxFirmwareVersionBytes or holds control characters, and a refused status would hide the drop
// count: so the firmware is made acceptable first (control characters and, if the text is not
// valid UTF-8, every byte above 0x7F become '?'; then it is cut to the limit at a character
// boundary). Whatever this returns, decode_status accepts.
std::string encode_status(const StatusReport& report);

// Errc::invalid_argument with a one-line reason for anything malformed: more than
// kMaxStatusBytes, not UTF-8, not JSON (a raw NUL included), a member name given twice in one
// object, a known member of the wrong type or value ("release_check" not a string, or not a valid
// code: is_valid_release_check).
Result<StatusReport> decode_status(std::string_view payload);

}  // namespace kelvin::proto
