#include "kelvin/proto/release_manifest.hpp"

#include <cstdint>
#include <optional>

#include "json_reader.hpp"
#include "kelvin/proto/json_text.hpp"

namespace kelvin::proto {
namespace {

constexpr std::uint32_t kMaxVersionPart = 999'999'999;

Error invalid(std::string message) {
  return make_error(Errc::invalid_argument, "release manifest: " + std::move(message));
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_lower_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f');
}

// One version part at the front of `text` (consumed): digits, no leading zero, at most kMaxVersionPart.
std::optional<std::uint32_t> take_version_part(std::string_view& text) {
  std::size_t length = 0;
  std::uint64_t value = 0;
  while (length < text.size() && is_digit(text[length])) {
    value = value * 10 + static_cast<std::uint64_t>(text[length] - '0');
    if (value > kMaxVersionPart) return std::nullopt;
    ++length;
  }
  if (length == 0 || (length > 1 && text[0] == '0')) return std::nullopt;
  text.remove_prefix(length);
  return static_cast<std::uint32_t>(value);
}

bool is_valid_sha256(std::string_view hex) {
  if (hex.size() != 64) return false;
  for (char c : hex) {
    if (!is_lower_hex(c)) return false;
  }
  return true;
}

// "YYYY-MM-DDTHH:MM:SSZ" with each field in its calendar range (days up to 31 in any month: the
// time is information for people, not something a decision rests on).
bool is_valid_created(std::string_view text) {
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (text.size() != kShape.size()) return false;
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    if (kShape[i] == 'd' ? !is_digit(text[i]) : text[i] != kShape[i]) return false;
  }
  auto number = [&](std::size_t at) { return (text[at] - '0') * 10 + (text[at + 1] - '0'); };
  const int month = number(5), day = number(8), hour = number(11), minute = number(14), second = number(17);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 60;
}

// The members in the order of `Member`: read_exact_members hands read_member their index.
enum Member : std::size_t { kProduct, kVersion, kSecurityVersion, kSize, kSha256, kCreated, kNotes };
constexpr std::string_view kMemberNames[] = {"product", "version", "security_version", "size", "sha256",
                                             "created", "notes"};

// Reads one member's value into `manifest`; false when the value is not of the member's JSON type.
bool read_member(JsonReader& in, std::size_t member, ReleaseManifest& manifest, std::string& version_text) {
  std::uint64_t number = 0;
  switch (member) {
    case kProduct:
      return in.read_string(manifest.product);
    case kVersion:
      return in.read_string(version_text);
    case kSecurityVersion:
      if (!in.read_unsigned(number) || number > UINT32_MAX) return false;
      manifest.security_version = static_cast<std::uint32_t>(number);
      return true;
    case kSize:
      return in.read_unsigned(manifest.size);
    case kSha256:
      return in.read_string(manifest.sha256);
    case kCreated:
      return in.read_string(manifest.created);
    case kNotes:
      return in.read_string(manifest.notes);
  }
  return false;
}

}  // namespace

bool is_valid_product_name(std::string_view product) noexcept {
  if (product.empty() || product.size() > kMaxProductBytes) return false;
  auto allowed = [](char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || c == '.' || c == '_' || c == '-'; };
  for (char c : product) {
    if (!allowed(c)) return false;
  }
  return is_digit(product[0]) || (product[0] >= 'a' && product[0] <= 'z');
}

std::string FirmwareVersion::to_string() const {
  std::string out;
  append_json_number(major, out);
  out += '.';
  append_json_number(minor, out);
  out += '.';
  append_json_number(patch, out);
  return out;
}

Result<FirmwareVersion> parse_firmware_version(std::string_view text) {
  std::string_view rest = text;
  FirmwareVersion version;
  std::optional<std::uint32_t> parts[3];
  for (int i = 0; i < 3; ++i) {
    if (i > 0) {
      if (rest.empty() || rest[0] != '.') break;
      rest.remove_prefix(1);
    }
    parts[i] = take_version_part(rest);
    if (!parts[i]) break;
  }
  if (!parts[0] || !parts[1] || !parts[2] || !rest.empty()) {
    return make_error(Errc::invalid_argument,
                      "version \"" + printable_excerpt(text, 40) +
                          "\" is not MAJOR.MINOR.PATCH (numbers without leading zeros, at most 999999999 each)");
  }
  version.major = *parts[0];
  version.minor = *parts[1];
  version.patch = *parts[2];
  return version;
}

Result<void> validate_release_manifest(const ReleaseManifest& manifest) {
  if (!is_valid_product_name(manifest.product)) {
    return invalid("product must be 1-64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit");
  }
  if (manifest.size == 0 || manifest.size > kMaxImageBytes) {
    return invalid("size must be from 1 to " + std::to_string(kMaxImageBytes) + " bytes");
  }
  if (!is_valid_sha256(manifest.sha256)) return invalid("sha256 must be 64 lowercase hex digits");
  if (!is_valid_created(manifest.created)) return invalid("created must be a UTC time as YYYY-MM-DDTHH:MM:SSZ");
  if (manifest.notes.size() > kMaxReleaseNotesBytes) {
    return invalid("notes are longer than " + std::to_string(kMaxReleaseNotesBytes) + " bytes");
  }
  return {};
}

std::string encode_release_manifest(const ReleaseManifest& manifest) {
  std::string out = R"({"product":)";
  append_json_string(manifest.product, out);
  out += R"(,"version":)";
  append_json_string(manifest.version.to_string(), out);
  out += R"(,"security_version":)";
  append_json_number(manifest.security_version, out);
  out += R"(,"size":)";
  append_json_number(manifest.size, out);
  out += R"(,"sha256":)";
  append_json_string(manifest.sha256, out);
  out += R"(,"created":)";
  append_json_string(manifest.created, out);
  out += R"(,"notes":)";
  append_json_string(manifest.notes, out);
  out += '}';
  return out;
}

Result<ReleaseManifest> decode_release_manifest(std::string_view payload) {
  if (payload.size() > kMaxManifestBytes) {
    return invalid("longer than " + std::to_string(kMaxManifestBytes) + " bytes");
  }
  ReleaseManifest manifest;
  std::string version_text;
  const std::string problem = read_exact_members(payload, kMemberNames, [&](JsonReader& in, std::size_t member) {
    return read_member(in, member, manifest, version_text);
  });
  if (!problem.empty()) return invalid(problem);
  auto version = parse_firmware_version(version_text);
  if (!version) return invalid(version.error().message);
  manifest.version = *version;
  if (auto valid = validate_release_manifest(manifest); !valid) return std::move(valid).error();
  return manifest;
}

}  // namespace kelvin::proto
