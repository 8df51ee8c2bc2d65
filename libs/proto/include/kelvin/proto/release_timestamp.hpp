#pragma once
// A release timestamp (docs/ota.md, "Freeze: release timestamps"): a statement, signed with the
// offline release key like a manifest, that as of `issued` the newest release of `product` is
// `version`, and that nobody should trust the statement past `expires`. It is TUF's timestamp role
// for kelvin: a gateway cannot make one, so a device that is only ever shown an expired statement,
// or an older one than it saw before, knows its gateway is not telling it about current releases
// (a freeze), and says so in its status. Portable (proto_portable): the device core decodes it.
//
//   {"product":"thermo-linux","version":"1.2.0","security_version":3,
//    "issued":"2026-12-05T08:00:00Z","expires":"2027-01-04T08:00:00Z"}
//
// Exactly these members, each once, in any order; it travels in a signed envelope of its own
// payload type, so a signature over a manifest never passes as a timestamp's, nor the reverse.

#include <cstdint>
#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"
#include "kelvin/proto/release_manifest.hpp"

namespace kelvin::proto {

inline constexpr std::string_view kReleaseTimestampType = "application/vnd.kelvin.release-timestamp+json";

inline constexpr std::size_t kMaxTimestampBytes = 1024;
// A statement valid for longer than a year is refused: the longer it lasts, the longer a gateway
// can replay it while it withholds what was released after it.
inline constexpr std::int64_t kMaxTimestampValiditySeconds = 366 * 86'400;

struct ReleaseTimestamp {
  std::string product;  // proto::is_valid_product_name
  FirmwareVersion version;
  std::uint32_t security_version = 0;
  std::int64_t issued = 0;   // seconds since 1970, UTC
  std::int64_t expires = 0;  // after issued, at most kMaxTimestampValiditySeconds after it
};

// Errc::invalid_argument naming the field that breaks the rules above.
Result<void> validate_release_timestamp(const ReleaseTimestamp& timestamp);

// Precondition: validate_release_timestamp(timestamp) succeeds.
std::string encode_release_timestamp(const ReleaseTimestamp& timestamp);

// Errc::invalid_argument, naming the problem, for anything but a timestamp as above (times as
// "YYYY-MM-DDTHH:MM:SSZ", core/utc_time.hpp).
Result<ReleaseTimestamp> decode_release_timestamp(std::string_view payload);

}  // namespace kelvin::proto
