#pragma once
// A firmware release's manifest (docs/ota.md, "Releases"): what a release is, written by
// `kelvinctl release sign` and checked by the gateway before it stores a release and by every device
// before it installs one. Portable (proto_portable): the device core decodes it.
//
//   {"product":"kelvin-agent-linux-x86_64","version":"1.2.0","security_version":3,"size":2097152,
//    "sha256":"<64 lowercase hex digits>","created":"2026-12-04T21:00:00Z","notes":"..."}
//
// Exactly these members, each once, in any order. The manifest travels inside a signed envelope
// (signed_envelope.hpp); its bytes are what the signature covers, so they are never re-encoded.

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"

namespace kelvin::proto {

// The envelope's payloadType for a manifest: a signature made for anything else never passes as one.
inline constexpr std::string_view kReleaseManifestType = "application/vnd.kelvin.release-manifest+json";

inline constexpr std::size_t kMaxManifestBytes = 16 * 1024;
inline constexpr std::size_t kMaxProductBytes = 64;
inline constexpr std::size_t kMaxReleaseNotesBytes = 4096;
// An image larger than this is refused everywhere; a device refuses more than its slot holds.
inline constexpr std::uint64_t kMaxImageBytes = std::uint64_t{1} << 32;

// MAJOR.MINOR.PATCH, each a decimal number without leading zeros and at most 999,999,999;
// compared numerically (1.10.0 is newer than 1.9.0). Pre-release and build suffixes are not
// versions a device can install: an update moves to a strictly newer release.
struct FirmwareVersion {
  std::uint32_t major = 0;
  std::uint32_t minor = 0;
  std::uint32_t patch = 0;

  auto operator<=>(const FirmwareVersion&) const = default;
  std::string to_string() const;
};

// Errc::invalid_argument for anything but MAJOR.MINOR.PATCH as above.
Result<FirmwareVersion> parse_firmware_version(std::string_view text);

struct ReleaseManifest {
  std::string product;  // 1-64 of [a-z0-9._-], starting with a letter or digit
  FirmwareVersion version;
  std::uint32_t security_version = 0;  // a device never installs one below the highest it accepted
  std::uint64_t size = 0;              // the image's exact length in bytes, 1..kMaxImageBytes
  std::string sha256;                  // the image's SHA-256, 64 lowercase hex digits
  std::string created;                 // UTC, "YYYY-MM-DDTHH:MM:SSZ"
  std::string notes;                   // UTF-8, at most kMaxReleaseNotesBytes; may be empty
};

// A product name by the rule above (also what makes it safe as a directory name).
bool is_valid_product_name(std::string_view product) noexcept;

// Errc::invalid_argument when a field breaks the rules above; the message names the field.
Result<void> validate_release_manifest(const ReleaseManifest& manifest);

// Precondition: validate_release_manifest(manifest) succeeds.
std::string encode_release_manifest(const ReleaseManifest& manifest);

// Errc::invalid_argument, naming the problem, for anything but a manifest as above: malformed
// JSON, a member missing, unknown or given twice, a field out of its rules, more than
// kMaxManifestBytes.
Result<ReleaseManifest> decode_release_manifest(std::string_view payload);

}  // namespace kelvin::proto
