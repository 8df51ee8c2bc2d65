#include "kelvin/pki/certificate_index.hpp"

#include <openssl/evp.h>

#include <charconv>
#include <cstdio>

#include "kelvin/core/files.hpp"

namespace kelvin::pki {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kHeader = "kelvin-pki-index\t1";
constexpr char kSeparator = '\t';

// First 32 bits of SHA-256 over the record's fields, as 8 hex digits. Detects torn or damaged
// lines; it is not a security measure (whoever can write the index can recompute it).
std::string checksum(std::string_view fields) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(fields.data(), fields.size(), digest, &length, EVP_sha256(), nullptr);
  char hex[9];
  std::snprintf(hex, sizeof hex, "%02x%02x%02x%02x", digest[0], digest[1], digest[2], digest[3]);
  return hex;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

template <class Int>
bool parse_integer(std::string_view text, Int& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Splits "fields\tchecksum" and verifies the checksum; nullopt when the line is damaged.
std::optional<std::string_view> verified_fields(std::string_view line) {
  auto at = line.rfind(kSeparator);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view fields = line.substr(0, at);
  if (checksum(fields) != line.substr(at + 1)) return std::nullopt;
  return fields;
}

bool is_storable_field(std::string_view text) {
  for (char c : text) {
    if (c == kSeparator || c == '\n' || c == '\r') return false;
  }
  return !text.empty();
}

}  // namespace

Result<CertificateIndex> CertificateIndex::create(const fs::path& path) {
  if (fs::exists(path)) return make_error(Errc::already_exists, path.string() + " already exists");
  CertificateIndex index(path);
  if (auto written = index.append(std::string(kHeader)); !written) return std::move(written).error();
  return index;
}

Result<CertificateIndex> CertificateIndex::load(const fs::path& path) {
  auto content = files::read_file(path, 1u << 30);
  if (!content) {
    if (content.error().code == Errc::not_found) {
      return make_error(Errc::not_found, "no CA index at " + path.string());
    }
    return std::move(content).error();
  }
  CertificateIndex index(path);
  const std::string& text = *content;
  index.file_size_ = text.size();

  std::size_t offset = 0;
  std::size_t line_number = 0;
  while (offset < text.size()) {
    auto newline = text.find('\n', offset);
    // A line without its newline is a torn append: the record never became durable.
    if (newline == std::string::npos) break;
    ++line_number;
    std::string_view line(text.data() + offset, newline - offset);
    const bool is_last_line = newline + 1 == text.size();
    auto fields = verified_fields(line);
    if (!fields) {
      if (is_last_line) break;  // torn final record: ignored, cut off before the next append
      return make_error(Errc::corrupt, path.string() + " line " + std::to_string(line_number) +
                                           " is damaged (checksum mismatch); restore the index from a backup");
    }
    if (line_number == 1) {
      if (*fields != kHeader) {
        return make_error(Errc::corrupt, path.string() + " is not a kelvin CA index (unknown header)");
      }
    } else if (auto applied = index.apply_line(*fields, line_number); !applied) {
      return std::move(applied).error();
    }
    offset = newline + 1;
    index.valid_size_ = offset;
  }
  if (line_number == 0 || index.valid_size_ == 0) {
    return make_error(Errc::corrupt, path.string() + " has no valid header; it is not a kelvin CA index");
  }
  return index;
}

Result<void> CertificateIndex::apply_line(std::string_view fields, std::size_t line_number) {
  auto bad = [&](std::string_view why) -> Result<void> {
    return make_error(Errc::corrupt, path_.string() + " line " + std::to_string(line_number) + ": " + std::string(why));
  };
  auto parts = split(fields, kSeparator);
  const std::string_view op = parts[0];
  if (op == "issue" && parts.size() == 6) {
    IssuedCertificate certificate;
    certificate.serial = std::string(parts[1]);
    auto kind = parse_certificate_kind(parts[2]);
    if (!kind) return bad("unknown certificate kind");
    certificate.kind = *kind;
    certificate.common_name = std::string(parts[3]);
    if (!parse_integer(parts[4], certificate.not_before) || !parse_integer(parts[5], certificate.not_after)) {
      return bad("invalid validity period");
    }
    if (find_serial(certificate.serial) != nullptr) return bad("serial issued twice");
    certificates_.push_back(std::move(certificate));
    return {};
  }
  if (op == "revoke" && parts.size() == 3) {
    std::time_t at = 0;
    if (!parse_integer(parts[2], at)) return bad("invalid revocation time");
    for (auto& certificate : certificates_) {
      if (certificate.serial == parts[1]) {
        certificate.revoked_at = at;
        return {};
      }
    }
    return bad("revocation of an unknown serial");
  }
  if (op == "crl" && parts.size() == 3) {
    std::uint64_t number = 0;
    if (!parse_integer(parts[1], number)) return bad("invalid CRL number");
    last_crl_number_ = number;
    return {};
  }
  return bad("unknown record");
}

const IssuedCertificate* CertificateIndex::find_serial(std::string_view serial) const noexcept {
  for (const auto& certificate : certificates_) {
    if (certificate.serial == serial) return &certificate;
  }
  return nullptr;
}

std::vector<const IssuedCertificate*> CertificateIndex::find_common_name(std::string_view common_name) const {
  std::vector<const IssuedCertificate*> found;
  for (const auto& certificate : certificates_) {
    if (certificate.common_name == common_name) found.push_back(&certificate);
  }
  return found;
}

Result<void> CertificateIndex::record_issue(const IssuedCertificate& certificate) {
  if (!is_storable_field(certificate.serial) || !is_storable_field(certificate.common_name)) {
    return make_error(Errc::invalid_argument, "serial and common name must be non-empty and contain no tab or newline");
  }
  if (find_serial(certificate.serial) != nullptr) {
    return make_error(Errc::conflict, "serial " + certificate.serial + " is already in the index");
  }
  std::string fields = "issue\t" + certificate.serial + '\t' + std::string(to_string(certificate.kind)) + '\t' +
                       certificate.common_name + '\t' + std::to_string(certificate.not_before) + '\t' +
                       std::to_string(certificate.not_after);
  if (auto written = append(fields); !written) return written;
  IssuedCertificate stored = certificate;
  stored.revoked_at.reset();
  certificates_.push_back(std::move(stored));
  return {};
}

Result<void> CertificateIndex::record_revocation(std::string_view serial, std::time_t revoked_at) {
  IssuedCertificate* target = nullptr;
  for (auto& certificate : certificates_) {
    if (certificate.serial == serial) target = &certificate;
  }
  if (target == nullptr) return make_error(Errc::not_found, "serial " + std::string(serial) + " is not in the index");
  if (target->revoked_at) return make_error(Errc::conflict, "serial " + std::string(serial) + " is already revoked");
  if (auto written = append("revoke\t" + target->serial + '\t' + std::to_string(revoked_at)); !written) return written;
  target->revoked_at = revoked_at;
  return {};
}

Result<void> CertificateIndex::record_crl(std::uint64_t number, std::time_t issued_at) {
  if (number <= last_crl_number_) {
    return make_error(Errc::conflict, "CRL numbers must increase (last was " + std::to_string(last_crl_number_) + ")");
  }
  if (auto written = append("crl\t" + std::to_string(number) + '\t' + std::to_string(issued_at)); !written) {
    return written;
  }
  last_crl_number_ = number;
  return {};
}

Result<void> CertificateIndex::append(const std::string& fields) {
  if (file_size_ > valid_size_) {
    if (auto cut = files::truncate_durably(path_, valid_size_); !cut) return cut;
    file_size_ = valid_size_;
  }
  std::string line = fields + kSeparator + checksum(fields) + '\n';
  if (auto written = files::append_durably(path_, line, files::kPrivateFileMode); !written) return written;
  valid_size_ += line.size();
  file_size_ = valid_size_;
  return {};
}

}  // namespace kelvin::pki
