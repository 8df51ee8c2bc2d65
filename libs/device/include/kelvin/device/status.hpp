#pragma once
// The device's status payloads on `devices/{id}/status` (retained; docs/protocol.md):
//   online    {"state":"online","fw":"1.2.0","dropped":0}   published on every connection and
//             when the drop count changes, so loss is visible on the gateway
//   last will {"state":"offline"}                           registered with the broker at
//             connect; the broker publishes it when the device vanishes

#include <cstdint>
#include <string>
#include <string_view>

namespace kelvin::device {

inline constexpr std::string_view kOfflineStatusJson = R"({"state":"offline"})";

// The gateway refuses a whole status whose "fw" is not valid UTF-8, longer than
// proto::kMaxFirmwareVersionBytes or contains control characters (kelvin/proto/status.hpp), and
// a refused status would hide the drop count. So `fw_version` is made acceptable first: control
// characters and, if the text is not valid UTF-8, every byte above 0x7F become '?', and it is cut
// to the limit at a character boundary. Then it is escaped as a JSON string.
// `oldest_seq` is the lowest seq the device still holds, or its next seq when it holds none
// (Outbox::oldest_held_seq): the gateway gives up the seqs below it that never arrived, so a gap
// left by dropped readings does not stall the ack forever.
std::string online_status_json(std::string_view fw_version, std::uint64_t dropped_total, std::uint64_t oldest_seq);

// Appends `text` as a JSON string literal (quotes included): '"' and '\' escaped, control
// characters as \n, \r, \t, \b, \f or \u00XX. Precondition: `text` is valid UTF-8.
void append_json_string(std::string_view text, std::string& out);

}  // namespace kelvin::device
