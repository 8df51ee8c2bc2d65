#include "kelvin/proto/release_timestamp.hpp"

#include <optional>

#include "json_reader.hpp"
#include "kelvin/core/utc_time.hpp"
#include "kelvin/proto/json_text.hpp"

namespace kelvin::proto {
namespace {

Error invalid(std::string message) {
  return make_error(Errc::invalid_argument, "release timestamp: " + std::move(message));
}

// The members in the order of `Member`: read_exact_members hands read_member their index.
enum Member : std::size_t { kProduct, kVersion, kSecurityVersion, kIssued, kExpires };
constexpr std::string_view kMemberNames[] = {"product", "version", "security_version", "issued", "expires"};

bool read_time(JsonReader& in, std::int64_t& seconds) {
  std::string text;
  if (!in.read_string(text)) return false;
  auto parsed = parse_utc_seconds(text);
  if (!parsed) return false;
  seconds = *parsed;
  return true;
}

// Reads one member's value into `timestamp`; false when it is not of the member's type or shape.
bool read_member(JsonReader& in, std::size_t member, ReleaseTimestamp& timestamp, std::string& version_text) {
  std::uint64_t number = 0;
  switch (member) {
    case kProduct:
      return in.read_string(timestamp.product);
    case kVersion:
      return in.read_string(version_text);
    case kSecurityVersion:
      if (!in.read_unsigned(number) || number > UINT32_MAX) return false;
      timestamp.security_version = static_cast<std::uint32_t>(number);
      return true;
    case kIssued:
      return read_time(in, timestamp.issued);
    case kExpires:
      return read_time(in, timestamp.expires);
  }
  return false;
}

}  // namespace

Result<void> validate_release_timestamp(const ReleaseTimestamp& timestamp) {
  if (!is_valid_product_name(timestamp.product)) {
    return invalid("product must be 1-64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit");
  }
  if (timestamp.issued < kMinUtcSeconds || timestamp.issued > kMaxUtcSeconds || timestamp.expires < kMinUtcSeconds ||
      timestamp.expires > kMaxUtcSeconds) {
    return invalid("issued and expires must be times from 1970 to 9999");
  }
  if (timestamp.expires <= timestamp.issued) return invalid("expires must come after issued");
  if (timestamp.expires - timestamp.issued > kMaxTimestampValiditySeconds) {
    return invalid("expires is more than 366 days after issued");
  }
  return {};
}

std::string encode_release_timestamp(const ReleaseTimestamp& timestamp) {
  std::string out = R"({"product":)";
  append_json_string(timestamp.product, out);
  out += R"(,"version":)";
  append_json_string(timestamp.version.to_string(), out);
  out += R"(,"security_version":)";
  append_json_number(timestamp.security_version, out);
  out += R"(,"issued":)";
  append_json_string(format_utc_seconds(timestamp.issued), out);
  out += R"(,"expires":)";
  append_json_string(format_utc_seconds(timestamp.expires), out);
  out += '}';
  return out;
}

Result<ReleaseTimestamp> decode_release_timestamp(std::string_view payload) {
  if (payload.size() > kMaxTimestampBytes) {
    return invalid("longer than " + std::to_string(kMaxTimestampBytes) + " bytes");
  }
  ReleaseTimestamp timestamp;
  std::string version_text;
  const std::string problem = read_exact_members(payload, kMemberNames, [&](JsonReader& in, std::size_t member) {
    return read_member(in, member, timestamp, version_text);
  });
  if (!problem.empty()) return invalid(problem);
  auto version = parse_firmware_version(version_text);
  if (!version) return invalid(version.error().message);
  timestamp.version = *version;
  if (auto valid = validate_release_timestamp(timestamp); !valid) return std::move(valid).error();
  return timestamp;
}

}  // namespace kelvin::proto
