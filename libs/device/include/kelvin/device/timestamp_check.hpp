#pragma once
// What a device makes of the release timestamp its gateway serves (docs/ota.md, "Freeze: release
// timestamps"). The timestamp is signed with the offline release key and expires, so a gateway
// cannot make a new one: a device that is shown only an expired statement, or one issued before a
// statement it saw earlier, knows the gateway is not telling it about current releases, and says
// so (the code goes into its status, proto/status.hpp "release_check"). Portable, like
// release_check.hpp.
//
// The verdicts, checked in this order; their names (to_string) are the stable status codes:
//   timestamp_missing      the gateway serves none for the device's product
//   timestamp_invalid      not a timestamp signed by the pinned key, or one for another product
//   timestamp_rolled_back  issued before the newest statement this device saw (a gateway restored
//                          from an old backup, or one replaying an old statement)
//   clock_unknown          the device has no trustworthy time yet: it cannot judge the expiry
//   timestamp_expired      past its expiry: nobody signed a new one, or the gateway withholds it
//   current                none of the above
// The device keeps running and installing signed releases whatever the verdict: a freeze is
// reported, not answered by refusing updates, for a signed newer release is never the danger.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kelvin/proto/release_timestamp.hpp"
#include "kelvin/proto/signed_envelope.hpp"

namespace kelvin::device {

enum class TimestampVerdict : std::uint8_t {
  current,
  timestamp_missing,
  timestamp_invalid,
  timestamp_rolled_back,
  clock_unknown,
  timestamp_expired,
};

const char* to_string(TimestampVerdict verdict) noexcept;

struct TimestampCheck {
  TimestampVerdict verdict = TimestampVerdict::timestamp_missing;
  // The statement when it opened with the pinned key and is for this product (whatever the
  // verdict): what the device remembers when it is the newest it saw.
  std::optional<proto::ReleaseTimestamp> timestamp;
  std::string detail;  // for people: what exactly was seen
};

// `envelope_text` is what the gateway served ("" for none); `now_utc` the device's time in seconds
// since 1970 (nullopt when it has none it trusts); `newest_issued_seen` the `issued` of the newest
// statement the device saw before (0 for none).
TimestampCheck check_release_timestamp(std::string_view envelope_text, const proto::ReleaseKey& pinned,
                                       std::string_view product, std::optional<std::int64_t> now_utc,
                                       std::int64_t newest_issued_seen);

}  // namespace kelvin::device
