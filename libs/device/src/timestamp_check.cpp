#include "kelvin/device/timestamp_check.hpp"

#include <utility>

#include "kelvin/core/utc_time.hpp"

namespace kelvin::device {
namespace {

TimestampCheck verdict(TimestampVerdict verdict, std::string detail,
                       std::optional<proto::ReleaseTimestamp> timestamp = std::nullopt) {
  TimestampCheck check;
  check.verdict = verdict;
  check.timestamp = std::move(timestamp);
  check.detail = std::move(detail);
  return check;
}

}  // namespace

const char* to_string(TimestampVerdict verdict) noexcept {
  switch (verdict) {
    case TimestampVerdict::current:
      return "current";
    case TimestampVerdict::timestamp_missing:
      return "timestamp_missing";
    case TimestampVerdict::timestamp_invalid:
      return "timestamp_invalid";
    case TimestampVerdict::timestamp_rolled_back:
      return "timestamp_rolled_back";
    case TimestampVerdict::clock_unknown:
      return "clock_unknown";
    case TimestampVerdict::timestamp_expired:
      return "timestamp_expired";
  }
  return "timestamp_invalid";
}

TimestampCheck check_release_timestamp(std::string_view envelope_text, const proto::ReleaseKey& pinned,
                                       std::string_view product, std::optional<std::int64_t> now_utc,
                                       std::int64_t newest_issued_seen) {
  if (envelope_text.empty()) {
    return verdict(TimestampVerdict::timestamp_missing,
                   "the gateway serves no release timestamp for " + std::string(product));
  }
  auto opened = proto::open_release_timestamp(envelope_text, pinned);
  if (!opened) return verdict(TimestampVerdict::timestamp_invalid, std::move(opened).error().message);
  if (opened->product != product) {
    return verdict(TimestampVerdict::timestamp_invalid, "the gateway served the release timestamp of " +
                                                            opened->product + ", not of " + std::string(product));
  }
  const std::string names = "the release timestamp issued " + format_utc_seconds(opened->issued) + " (naming " +
                            opened->version.to_string() + ", expiring " + format_utc_seconds(opened->expires) + ")";
  if (opened->issued < newest_issued_seen) {
    return verdict(
        TimestampVerdict::timestamp_rolled_back,
        names + " is older than the one issued " + format_utc_seconds(newest_issued_seen) + " this device saw before",
        std::move(*opened));
  }
  if (!now_utc) {
    return verdict(TimestampVerdict::clock_unknown, names + " cannot be checked: this device does not know the time",
                   std::move(*opened));
  }
  if (*now_utc >= opened->expires) {
    return verdict(TimestampVerdict::timestamp_expired, names + " has expired", std::move(*opened));
  }
  return verdict(TimestampVerdict::current, names + " is current", std::move(*opened));
}

}  // namespace kelvin::device
