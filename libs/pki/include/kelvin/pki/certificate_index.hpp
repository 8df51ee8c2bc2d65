#pragma once
// The CA's index: every certificate it ever issued, every revocation and every CRL number, as an
// append-only journal (index.log). It is the CA's memory; certificate files are derived from it.
//
// Crash safety: each record is one line ending in a checksum, appended and fsynced before the
// certificate it describes is written anywhere. A crash can therefore leave at most a torn final
// line (ignored on load and cut off before the next append) or a record whose certificate file
// was never written (harmless: never handed out). It never leaves a certificate the index does
// not know. A bad checksum anywhere but the final line means corruption and is refused.
//
// Writers must hold the CA's exclusive lock; readers need none.

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/pki/certificate_kind.hpp"

namespace kelvin::pki {

struct IssuedCertificate {
  std::string serial;  // uppercase hex, as serial_to_hex prints it
  CertificateKind kind;
  std::string common_name;
  std::time_t not_before = 0;
  std::time_t not_after = 0;
  std::optional<std::time_t> revoked_at;
};

class CertificateIndex {
 public:
  // Starts a new, empty journal at `path`; fails if one exists.
  static Result<CertificateIndex> create(const std::filesystem::path& path);
  // Reads the journal at `path`.
  static Result<CertificateIndex> load(const std::filesystem::path& path);

  const std::vector<IssuedCertificate>& certificates() const noexcept { return certificates_; }
  const IssuedCertificate* find_serial(std::string_view serial) const noexcept;
  // Every certificate with this CN, oldest first.
  std::vector<const IssuedCertificate*> find_common_name(std::string_view common_name) const;
  // 0 when no CRL was ever issued.
  std::uint64_t last_crl_number() const noexcept { return last_crl_number_; }

  // Each record is durable (fsynced) when the call returns.
  Result<void> record_issue(const IssuedCertificate& certificate);
  Result<void> record_revocation(std::string_view serial, std::time_t revoked_at);
  Result<void> record_crl(std::uint64_t number, std::time_t issued_at);

 private:
  explicit CertificateIndex(std::filesystem::path path) : path_(std::move(path)) {}
  Result<void> apply_line(std::string_view fields, std::size_t line_number);
  Result<void> append(const std::string& fields);

  std::filesystem::path path_;
  std::vector<IssuedCertificate> certificates_;
  std::uint64_t last_crl_number_ = 0;
  // Bytes of the file that hold complete, valid records; anything beyond is a torn tail.
  std::size_t valid_size_ = 0;
  std::size_t file_size_ = 0;
};

}  // namespace kelvin::pki
