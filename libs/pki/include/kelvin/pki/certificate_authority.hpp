#pragma once
// The installation's certificate authority, kept in one directory (mode 0700):
//
//   ca.crt                   the CA certificate: what devices, broker and browsers trust
//   crl.pem                  the current certificate revocation list
//   index.log                journal of every issuance, revocation and CRL (certificate_index.hpp)
//   private/ca.key           the CA key (0600), optionally passphrase-encrypted
//   issued/<SERIAL>.crt      the CA's copy of every certificate it issued
//   server/server.{crt,key}  the gateway's TLS server identity (broker and HTTPS)
//   services/<name>/<name>.{crt,key}  the platform's own MQTT clients (svc-gateway, ...)
//   devices/<id>/<id>.{crt,key}       device identities
//
// Every directory holding a key is 0700 and every key 0600 from the moment it is created.
// Mutations take an exclusive lock (.lock), so concurrent kelvinctl runs are safe.

#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/crypto/openssl.hpp"
#include "kelvin/pki/certificate_index.hpp"

namespace kelvin::pki {

inline constexpr int kCaValidityDays = 3650;
inline constexpr int kLeafValidityDays = 730;
inline constexpr int kCrlValidityDays = 7;
// Certificates start an hour in the past, so a device whose clock lags a little accepts them.
inline constexpr std::time_t kBackdateSeconds = 3600;

class PkiPaths {
 public:
  explicit PkiPaths(std::filesystem::path root) : root_(std::move(root)) {}
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path ca_certificate() const { return root_ / "ca.crt"; }
  std::filesystem::path ca_key() const { return root_ / "private" / "ca.key"; }
  std::filesystem::path crl() const { return root_ / "crl.pem"; }
  std::filesystem::path index() const { return root_ / "index.log"; }
  std::filesystem::path lock() const { return root_ / ".lock"; }
  std::filesystem::path issued_copy(std::string_view serial) const;
  // Where the certificate and key of an identity live (see the layout above).
  std::filesystem::path identity_dir(CertificateKind kind, std::string_view common_name) const;
  std::filesystem::path identity_certificate(CertificateKind kind, std::string_view common_name) const;
  std::filesystem::path identity_key(CertificateKind kind, std::string_view common_name) const;

 private:
  std::filesystem::path root_;
};

struct InitOptions {
  std::string ca_name = "kelvin CA";
  std::string server_name;                      // CN of the server certificate; "" = this host's name
  std::vector<std::string> server_alt_names;    // empty = DNS:localhost, IP:127.0.0.1, DNS:<host name>
  std::string gateway_service = "svc-gateway";  // the gateway's own MQTT client identity
  std::optional<std::string> passphrase;        // encrypts the CA key when set
  bool force = false;                           // replace an existing CA (the old one is moved aside)
};

struct IssueOptions {
  int validity_days = kLeafValidityDays;
  std::time_t not_before = 0;                 // 0 = now minus kBackdateSeconds
  std::vector<std::string> server_alt_names;  // server kind only; empty = defaults as in InitOptions
  bool renew = false;                         // allow a new certificate while an older one is valid
};

struct IssuedIdentity {
  IssuedCertificate record;
  std::filesystem::path certificate_path;
  std::filesystem::path key_path;
  std::vector<IssuedCertificate> still_valid;  // earlier certificates of the same CN (renewals)
};

enum class CertificateState { valid, not_yet_valid, expired, revoked };
std::string_view to_string(CertificateState state) noexcept;

struct CertificateStatus {
  IssuedCertificate record;
  CertificateState state;
  long days_left;  // whole days until not_after; negative once expired
};

struct CrlInfo {
  std::uint64_t number;
  std::size_t revoked_count;
  std::time_t next_update;
};

struct VerificationReport {
  std::string common_name;
  std::string serial;
  std::optional<CertificateKind> kind;  // from the index; nullopt when the index does not know it
  std::time_t not_after = 0;
  std::string purpose;                // "server" or "client": what the certificate was checked for
  std::vector<std::string> problems;  // empty = valid
  bool valid() const { return problems.empty(); }
};

enum class Purpose { from_index, server, client };

// The default server SANs: localhost, 127.0.0.1 and this host's name.
std::vector<std::string> default_server_alt_names();
std::string local_host_name();

class CertificateAuthority {
 public:
  // Creates a CA in `dir` with a server certificate and the gateway's service certificate.
  static Result<CertificateAuthority> init(const std::filesystem::path& dir, const InitOptions& options,
                                           std::time_t now);
  // Opens an existing CA. The passphrase is needed only by operations that sign.
  static Result<CertificateAuthority> open(const std::filesystem::path& dir,
                                           std::optional<std::string> passphrase = std::nullopt);

  const PkiPaths& paths() const noexcept { return paths_; }
  const CertificateIndex& index() const noexcept { return index_; }
  X509* certificate() const noexcept { return ca_certificate_.get(); }

  // Issues a certificate for a device (id), a service (svc-name) or the server (host name).
  // Refuses a CN that already holds a valid certificate unless options.renew.
  Result<IssuedIdentity> issue(CertificateKind kind, std::string_view name, const IssueOptions& options,
                               std::time_t now);

  // Revokes the certificate with this serial, or every unrevoked certificate with this CN, and
  // regenerates the CRL. Returns what was revoked.
  Result<std::vector<IssuedCertificate>> revoke(std::string_view id_or_serial, std::time_t now);

  // Writes a fresh CRL (next update in kCrlValidityDays) listing every revoked certificate.
  Result<CrlInfo> regenerate_crl(std::time_t now);

  std::vector<CertificateStatus> list(std::time_t now) const;

  // Checks chain, validity at `now`, revocation (against crl.pem and the index) and purpose.
  VerificationReport verify(X509* certificate, Purpose purpose, std::time_t now) const;
  // verify() of a PEM certificate, for callers that hold no OpenSSL objects. `source` names it in
  // errors. Errors: Errc::corrupt when `pem` holds no certificate.
  Result<VerificationReport> verify_pem(std::string_view pem, std::string_view source, Purpose purpose,
                                        std::time_t now) const;

 private:
  CertificateAuthority(PkiPaths paths, crypto::Certificate ca_certificate, CertificateIndex index,
                       std::optional<std::string> passphrase);
  Result<void> reload_index();
  Result<crypto::PKey> load_ca_key() const;
  Result<IssuedIdentity> issue_locked(CertificateKind kind, std::string common_name, const IssueOptions& options,
                                      std::time_t now, EVP_PKEY* ca_key);
  Result<CrlInfo> write_crl_locked(std::time_t now, EVP_PKEY* ca_key);

  PkiPaths paths_;
  crypto::Certificate ca_certificate_;
  CertificateIndex index_;
  std::optional<std::string> passphrase_;
};

}  // namespace kelvin::pki
