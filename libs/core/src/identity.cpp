#include "kelvin/core/identity.hpp"

#include <string>

namespace kelvin {
namespace {

bool is_identity_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Identities are echoed in error messages; keep what we echo short and printable.
std::string quoted_for_message(std::string_view id) {
  std::string out = "'";
  for (char c : id.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (id.size() > 80) out += "...";
  return out + "'";
}

constexpr const char* kGrammar = "1 to 63 characters of a-z, 0-9, '_' and '-', starting with a letter or digit";
constexpr const char* kLabelGrammar =
    "a label is 1 to 64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit";

bool is_label_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

}  // namespace

bool is_well_formed_identity(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxIdentityLength) return false;
  if (id.front() == '_' || id.front() == '-') return false;
  for (char c : id) {
    if (!is_identity_char(c)) return false;
  }
  return true;
}

Result<void> validate_device_id(std::string_view id) {
  if (!is_well_formed_identity(id)) {
    return make_error(Errc::invalid_argument, "invalid device id " + quoted_for_message(id) + ": use " + kGrammar);
  }
  if (id.starts_with(kServicePrefix)) {
    return make_error(Errc::invalid_argument, "invalid device id " + quoted_for_message(id) +
                                                  ": the prefix 'svc-' is reserved for services; choose another id");
  }
  return {};
}

Result<void> validate_service_name(std::string_view name) {
  if (!is_well_formed_identity(name)) {
    return make_error(Errc::invalid_argument, "invalid service name " + quoted_for_message(name) + ": use " + kGrammar);
  }
  if (!name.starts_with(kServicePrefix) || name.size() == kServicePrefix.size()) {
    return make_error(Errc::invalid_argument, "invalid service name " + quoted_for_message(name) +
                                                  ": service names start with 'svc-' (e.g. svc-gateway)");
  }
  return {};
}

bool is_well_formed_label(std::string_view label) noexcept {
  if (label.empty() || label.size() > kMaxLabelLength) return false;
  if (label.front() == '.' || label.front() == '_' || label.front() == '-') return false;
  for (char c : label) {
    if (!is_label_char(c)) return false;
  }
  return true;
}

Result<void> validate_label(std::string_view label) {
  if (!is_well_formed_label(label)) {
    return make_error(Errc::invalid_argument, "invalid label " + quoted_for_message(label) + ": " + kLabelGrammar);
  }
  return {};
}

}  // namespace kelvin
