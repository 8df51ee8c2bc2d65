#include "kelvin/pki/certificate_authority.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "kelvin/core/files.hpp"
#include "kelvin/core/identity.hpp"
#include "kelvin/core/time_format.hpp"
#include "kelvin/core/utf8.hpp"
#include "kelvin/crypto/keys.hpp"
#include "kelvin/crypto/x509.hpp"
#include "kelvin/pki/certificate_profiles.hpp"

namespace kelvin::pki {
namespace fs = std::filesystem;

namespace {

constexpr std::time_t kSecondsPerDay = 86400;

std::string uppercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

// Names that are not device/service identities (CA name, server CN) still end up in the index
// and in messages: printable UTF-8, no control characters, at most 64 bytes (ub-common-name).
Result<void> validate_display_name(std::string_view name, std::string_view what) {
  bool printable = std::all_of(name.begin(), name.end(), [](unsigned char c) { return c >= 0x20 && c != 0x7f; });
  if (name.empty() || name.size() > 64 || !printable || !is_valid_utf8(name)) {
    return make_error(Errc::invalid_argument,
                      std::string(what) + " must have 1 to 64 printable characters, got '" + std::string(name) + "'");
  }
  return {};
}

bool is_unexpired_and_unrevoked(const IssuedCertificate& certificate, std::time_t now) {
  return !certificate.revoked_at && certificate.not_after > now;
}

Result<void> write_certificate(const fs::path& path, X509* certificate) {
  auto pem = crypto::certificate_to_pem(certificate);
  if (!pem) return std::move(pem).error();
  return files::write_file_atomic(path, *pem, files::kPublicFileMode);
}

// Moves every entry of a CA directory (but the lock and earlier backups) into a fresh
// replaced-<time>/ folder, so `init --force` never destroys keys outright.
Result<fs::path> move_existing_ca_aside(const PkiPaths& paths, std::time_t now) {
  // A fresh folder every time, even for two replacements within one second.
  const std::string stem = "replaced-" + format_utc_compact(now);
  fs::path backup = paths.root() / stem;
  for (int attempt = 2; ::mkdir(backup.c_str(), files::kPrivateDirMode) != 0; ++attempt) {
    if (errno != EEXIST || attempt > 1000) return files::error_from_errno("cannot create", backup);
    backup = paths.root() / (stem + "-" + std::to_string(attempt));
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(paths.root(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name == ".lock" || name.starts_with("replaced-")) continue;
    fs::rename(entry.path(), backup / name, ec);
    if (ec) return make_error(Errc::io, "cannot move " + entry.path().string() + " aside: " + ec.message());
  }
  if (ec) return make_error(Errc::io, "cannot list " + paths.root().string() + ": " + ec.message());
  return backup;
}

// OpenSSL verify callback: records every problem instead of stopping at the first one, so the
// report tells the operator everything that is wrong (e.g. both expired and revoked).
int collect_verification_problem(int ok, X509_STORE_CTX* context) {
  if (ok == 0) {
    auto* problems = static_cast<std::vector<std::string>*>(X509_STORE_CTX_get_app_data(context));
    std::string problem = X509_verify_cert_error_string(X509_STORE_CTX_get_error(context));
    if (std::find(problems->begin(), problems->end(), problem) == problems->end()) problems->push_back(problem);
  }
  return 1;
}

}  // namespace

// ---- paths -------------------------------------------------------------------------------------

fs::path PkiPaths::issued_copy(std::string_view serial) const {
  return root_ / "issued" / (std::string(serial) + ".crt");
}

fs::path PkiPaths::identity_dir(CertificateKind kind, std::string_view common_name) const {
  switch (kind) {
    case CertificateKind::ca:
      return root_ / "private";
    case CertificateKind::server:
      return root_ / "server";
    case CertificateKind::service:
      return root_ / "services" / std::string(common_name);
    case CertificateKind::device:
      return root_ / "devices" / std::string(common_name);
  }
  return root_;
}

fs::path PkiPaths::identity_certificate(CertificateKind kind, std::string_view common_name) const {
  switch (kind) {
    case CertificateKind::ca:
      return ca_certificate();
    case CertificateKind::server:
      return identity_dir(kind, common_name) / "server.crt";
    default:
      return identity_dir(kind, common_name) / (std::string(common_name) + ".crt");
  }
}

fs::path PkiPaths::identity_key(CertificateKind kind, std::string_view common_name) const {
  switch (kind) {
    case CertificateKind::ca:
      return ca_key();
    case CertificateKind::server:
      return identity_dir(kind, common_name) / "server.key";
    default:
      return identity_dir(kind, common_name) / (std::string(common_name) + ".key");
  }
}

// ---- free functions ----------------------------------------------------------------------------

std::string_view to_string(CertificateState state) noexcept {
  switch (state) {
    case CertificateState::valid:
      return "valid";
    case CertificateState::not_yet_valid:
      return "not yet valid";
    case CertificateState::expired:
      return "expired";
    case CertificateState::revoked:
      return "revoked";
  }
  return "unknown";
}

std::string local_host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

std::vector<std::string> default_server_alt_names() {
  std::vector<std::string> names = {"DNS:localhost", "IP:127.0.0.1"};
  std::string host = local_host_name();
  if (host != "localhost" && validate_subject_alt_name("DNS:" + host)) names.push_back("DNS:" + host);
  return names;
}

// ---- lifecycle ---------------------------------------------------------------------------------

CertificateAuthority::CertificateAuthority(PkiPaths paths, crypto::Certificate ca_certificate, CertificateIndex index,
                                           std::optional<std::string> passphrase)
    : paths_(std::move(paths)),
      ca_certificate_(std::move(ca_certificate)),
      index_(std::move(index)),
      passphrase_(std::move(passphrase)) {}

Result<CertificateAuthority> CertificateAuthority::init(const fs::path& dir, const InitOptions& options,
                                                        std::time_t now) {
  // Validate everything before touching the disk.
  if (auto r = validate_display_name(options.ca_name, "the CA name"); !r) return std::move(r).error();
  std::string server_name = options.server_name.empty() ? local_host_name() : options.server_name;
  if (auto r = validate_display_name(server_name, "the server name"); !r) return std::move(r).error();
  for (const auto& san : options.server_alt_names) {
    if (auto r = validate_subject_alt_name(san); !r) return std::move(r).error();
  }
  if (auto r = validate_service_name(options.gateway_service); !r) return std::move(r).error();
  if (options.passphrase && (options.passphrase->empty() || options.passphrase->size() > crypto::kMaxPassphraseBytes)) {
    return make_error(Errc::bad_credentials,
                      "the CA key passphrase must have 1 to " + std::to_string(crypto::kMaxPassphraseBytes) + " bytes");
  }

  PkiPaths paths(dir);
  if (auto made = files::ensure_private_dir(dir); !made) return std::move(made).error();
  auto lock = files::ExclusiveLock::acquire(paths.lock());
  if (!lock) return std::move(lock).error();

  const bool exists = fs::exists(paths.index()) || fs::exists(paths.ca_certificate()) || fs::exists(paths.ca_key());
  if (exists && !options.force) {
    return make_error(Errc::already_exists,
                      "a CA already exists in " + dir.string() +
                          "; use --force to replace it (the old one is moved to a replaced-* folder)");
  }
  if (exists) {
    if (auto moved = move_existing_ca_aside(paths, now); !moved) return std::move(moved).error();
  }

  if (auto made = files::ensure_private_dir(paths.ca_key().parent_path()); !made) return std::move(made).error();
  if (auto made = files::ensure_private_dir(paths.issued_copy("x").parent_path()); !made)
    return std::move(made).error();
  auto key = crypto::generate_p256_key();
  if (!key) return std::move(key).error();
  auto key_pem = crypto::private_key_to_pem(key->get(), options.passphrase);
  if (!key_pem) return std::move(key_pem).error();
  if (auto w = files::write_file_atomic(paths.ca_key(), *key_pem, files::kPrivateFileMode); !w)
    return std::move(w).error();

  auto serial = crypto::random_serial();
  if (!serial) return std::move(serial).error();
  CertificateSpec spec{
      CertificateKind::ca, options.ca_name, {}, now - kBackdateSeconds, now + kCaValidityDays * kSecondsPerDay};
  auto certificate = sign_certificate(spec, serial->get(), key->get(), nullptr, key->get());
  if (!certificate) return std::move(certificate).error();

  auto index = CertificateIndex::create(paths.index());
  if (!index) return std::move(index).error();
  IssuedCertificate record{crypto::serial_to_hex(serial->get()),
                           CertificateKind::ca,
                           options.ca_name,
                           spec.not_before,
                           spec.not_after,
                           std::nullopt};
  if (auto r = index->record_issue(record); !r) return std::move(r).error();
  if (auto w = write_certificate(paths.issued_copy(record.serial), certificate->get()); !w) return std::move(w).error();
  if (auto w = write_certificate(paths.ca_certificate(), certificate->get()); !w) return std::move(w).error();

  CertificateAuthority ca(paths, std::move(certificate).value(), std::move(index).value(), options.passphrase);
  IssueOptions server_options;
  server_options.server_alt_names = options.server_alt_names;
  if (auto r = ca.issue_locked(CertificateKind::server, server_name, server_options, now, key->get()); !r) {
    return std::move(r).error();
  }
  if (auto r = ca.issue_locked(CertificateKind::service, options.gateway_service, {}, now, key->get()); !r) {
    return std::move(r).error();
  }
  if (auto r = ca.write_crl_locked(now, key->get()); !r) return std::move(r).error();
  return ca;
}

Result<CertificateAuthority> CertificateAuthority::open(const fs::path& dir, std::optional<std::string> passphrase) {
  PkiPaths paths(dir);
  std::error_code ec;
  if (!fs::exists(paths.index(), ec) && !ec && !fs::exists(dir, ec) && !ec) {
    return make_error(Errc::not_found,
                      "no CA in " + dir.string() + ": create one with kelvinctl pki init --dir " + dir.string());
  }
  auto index = CertificateIndex::load(paths.index());
  if (!index) {
    if (index.error().code == Errc::not_found) {
      return make_error(Errc::not_found, "no CA in " + dir.string() +
                                             " (index.log missing): create one with "
                                             "kelvinctl pki init --dir " +
                                             dir.string());
    }
    return std::move(index).error();
  }
  auto pem = files::read_file(paths.ca_certificate());
  if (!pem) {
    if (pem.error().code == Errc::not_found) {
      return make_error(Errc::corrupt,
                        paths.ca_certificate().string() +
                            " is missing: the CA is incomplete; re-create it with kelvinctl pki init --force");
    }
    return std::move(pem).error();
  }
  auto certificate = crypto::certificate_from_pem(*pem, paths.ca_certificate().string());
  if (!certificate) return std::move(certificate).error();
  return CertificateAuthority(std::move(paths), std::move(certificate).value(), std::move(index).value(),
                              std::move(passphrase));
}

Result<void> CertificateAuthority::reload_index() {
  auto index = CertificateIndex::load(paths_.index());
  if (!index) return std::move(index).error();
  index_ = std::move(index).value();
  return {};
}

Result<crypto::PKey> CertificateAuthority::load_ca_key() const {
  auto pem = files::read_file(paths_.ca_key());
  if (!pem) return std::move(pem).error();
  auto key = crypto::private_key_from_pem(*pem, passphrase_, paths_.ca_key().string());
  if (!key) return key;
  if (X509_check_private_key(ca_certificate_.get(), key->get()) != 1) {
    crypto::drain_openssl_errors();
    return make_error(Errc::corrupt,
                      paths_.ca_key().string() + " does not belong to " + paths_.ca_certificate().string());
  }
  return key;
}

// ---- issuing -----------------------------------------------------------------------------------

Result<IssuedIdentity> CertificateAuthority::issue(CertificateKind kind, std::string_view name,
                                                   const IssueOptions& options, std::time_t now) {
  std::string common_name(name);
  switch (kind) {
    case CertificateKind::ca:
      return make_error(Errc::invalid_argument, "the CA certificate is made by kelvinctl pki init, not issued");
    case CertificateKind::device:
      if (auto r = validate_device_id(name); !r) return std::move(r).error();
      break;
    case CertificateKind::service:
      if (auto r = validate_service_name(name); !r) return std::move(r).error();
      break;
    case CertificateKind::server:
      if (common_name.empty()) common_name = local_host_name();
      if (auto r = validate_display_name(common_name, "the server name"); !r) return std::move(r).error();
      for (const auto& san : options.server_alt_names) {
        if (auto r = validate_subject_alt_name(san); !r) return std::move(r).error();
      }
      break;
  }
  auto lock = files::ExclusiveLock::acquire(paths_.lock());
  if (!lock) return std::move(lock).error();
  if (auto r = reload_index(); !r) return std::move(r).error();
  auto key = load_ca_key();
  if (!key) return std::move(key).error();
  return issue_locked(kind, std::move(common_name), options, now, key->get());
}

Result<IssuedIdentity> CertificateAuthority::issue_locked(CertificateKind kind, std::string common_name,
                                                          const IssueOptions& options, std::time_t now,
                                                          EVP_PKEY* ca_key) {
  if (options.validity_days < 1 || options.validity_days > kCaValidityDays) {
    return make_error(Errc::invalid_argument, "validity must be 1 to " + std::to_string(kCaValidityDays) + " days");
  }
  IssuedIdentity result;
  for (const IssuedCertificate* earlier : index_.find_common_name(common_name)) {
    if (!is_unexpired_and_unrevoked(*earlier, now)) continue;
    if (earlier->kind != kind) {
      return make_error(Errc::conflict, "'" + common_name + "' is already the name of a " +
                                            std::string(to_string(earlier->kind)) + " certificate; choose another");
    }
    if (!options.renew) {
      return make_error(Errc::conflict, std::string(to_string(kind)) + " '" + common_name +
                                            "' already has a valid certificate (serial " + earlier->serial +
                                            ", expires " + format_utc_date(earlier->not_after) +
                                            "); use --renew for another one, or revoke it first");
    }
    result.still_valid.push_back(*earlier);
  }

  CertificateSpec spec;
  spec.kind = kind;
  spec.common_name = common_name;
  if (kind == CertificateKind::server) {
    spec.subject_alt_names = options.server_alt_names.empty() ? default_server_alt_names() : options.server_alt_names;
  }
  const std::time_t start = options.not_before != 0 ? options.not_before : now;
  spec.not_before = options.not_before != 0 ? options.not_before : now - kBackdateSeconds;
  // A certificate cannot outlive the CA that vouches for it.
  const std::time_t ca_not_after = crypto::to_unix_seconds(X509_get0_notAfter(ca_certificate_.get()));
  spec.not_after = std::min<std::time_t>(start + options.validity_days * kSecondsPerDay, ca_not_after);

  auto key = crypto::generate_p256_key();
  if (!key) return std::move(key).error();
  auto serial = crypto::random_serial();
  if (!serial) return std::move(serial).error();
  while (index_.find_serial(crypto::serial_to_hex(serial->get())) != nullptr) {  // ~2^-128: but never reuse
    serial = crypto::random_serial();
    if (!serial) return std::move(serial).error();
  }
  auto certificate = sign_certificate(spec, serial->get(), key->get(), ca_certificate_.get(), ca_key);
  if (!certificate) return std::move(certificate).error();
  auto key_pem = crypto::private_key_to_pem(key->get(), std::nullopt);
  if (!key_pem) return std::move(key_pem).error();

  // The index learns of the certificate before it exists anywhere on disk (see certificate_index.hpp).
  result.record = {
      crypto::serial_to_hex(serial->get()), kind, common_name, spec.not_before, spec.not_after, std::nullopt};
  if (auto r = index_.record_issue(result.record); !r) return std::move(r).error();
  if (auto w = write_certificate(paths_.issued_copy(result.record.serial), certificate->get()); !w) {
    return std::move(w).error();
  }

  result.certificate_path = paths_.identity_certificate(kind, common_name);
  result.key_path = paths_.identity_key(kind, common_name);
  if (auto made = files::ensure_private_dir(paths_.identity_dir(kind, common_name)); !made) {
    return std::move(made).error();
  }
  if (auto w = files::write_file_atomic(result.key_path, *key_pem, files::kPrivateFileMode); !w) {
    return std::move(w).error();
  }
  if (auto w = write_certificate(result.certificate_path, certificate->get()); !w) return std::move(w).error();
  return result;
}

// ---- revocation --------------------------------------------------------------------------------

Result<std::vector<IssuedCertificate>> CertificateAuthority::revoke(std::string_view id_or_serial, std::time_t now) {
  auto lock = files::ExclusiveLock::acquire(paths_.lock());
  if (!lock) return std::move(lock).error();
  if (auto r = reload_index(); !r) return std::move(r).error();
  // Load the key first: a wrong passphrase must fail before anything is recorded.
  auto key = load_ca_key();
  if (!key) return std::move(key).error();

  std::vector<const IssuedCertificate*> targets;
  if (const IssuedCertificate* by_serial = index_.find_serial(uppercase(id_or_serial))) {
    targets.push_back(by_serial);
  } else {
    targets = index_.find_common_name(id_or_serial);
  }
  if (targets.empty()) {
    return make_error(Errc::not_found,
                      "no certificate with id or serial '" + std::string(id_or_serial) + "'; see kelvinctl pki list");
  }
  std::vector<IssuedCertificate> to_revoke;
  for (const IssuedCertificate* target : targets) {
    if (target->kind == CertificateKind::ca) {
      return make_error(Errc::invalid_argument,
                        "the CA certificate cannot be revoked; replace the CA with "
                        "kelvinctl pki init --force");
    }
    if (!target->revoked_at) to_revoke.push_back(*target);
  }
  if (to_revoke.empty()) {
    const IssuedCertificate& last = *targets.back();
    return make_error(Errc::conflict, "'" + std::string(id_or_serial) + "' is already revoked (serial " + last.serial +
                                          ", revoked " + format_utc_timestamp(*last.revoked_at) + ")");
  }
  for (auto& certificate : to_revoke) {
    if (auto r = index_.record_revocation(certificate.serial, now); !r) return std::move(r).error();
    certificate.revoked_at = now;
  }
  if (auto crl = write_crl_locked(now, key->get()); !crl) return std::move(crl).error();
  return to_revoke;
}

Result<CrlInfo> CertificateAuthority::regenerate_crl(std::time_t now) {
  auto lock = files::ExclusiveLock::acquire(paths_.lock());
  if (!lock) return std::move(lock).error();
  if (auto r = reload_index(); !r) return std::move(r).error();
  auto key = load_ca_key();
  if (!key) return std::move(key).error();
  return write_crl_locked(now, key->get());
}

Result<CrlInfo> CertificateAuthority::write_crl_locked(std::time_t now, EVP_PKEY* ca_key) {
  std::vector<RevokedEntry> revoked;
  for (const auto& certificate : index_.certificates()) {
    if (certificate.revoked_at) revoked.push_back({certificate.serial, *certificate.revoked_at});
  }
  CrlInfo info{index_.last_crl_number() + 1, revoked.size(), now + kCrlValidityDays * kSecondsPerDay};
  auto crl = sign_crl(ca_certificate_.get(), ca_key, revoked, info.number, now, info.next_update);
  if (!crl) return std::move(crl).error();
  auto pem = crypto::crl_to_pem(crl->get());
  if (!pem) return std::move(pem).error();
  // Record the number first: a crash after this line skips a number but never repeats one.
  if (auto r = index_.record_crl(info.number, now); !r) return std::move(r).error();
  if (auto w = files::write_file_atomic(paths_.crl(), *pem, files::kPublicFileMode); !w) return std::move(w).error();
  return info;
}

// ---- inspection --------------------------------------------------------------------------------

std::vector<CertificateStatus> CertificateAuthority::list(std::time_t now) const {
  std::vector<CertificateStatus> statuses;
  for (const auto& certificate : index_.certificates()) {
    CertificateState state = certificate.revoked_at         ? CertificateState::revoked
                             : now >= certificate.not_after ? CertificateState::expired
                             : now < certificate.not_before ? CertificateState::not_yet_valid
                                                            : CertificateState::valid;
    // Floor division, so a certificate that expired an hour ago shows -1, not 0.
    std::time_t seconds_left = certificate.not_after - now;
    long days_left = static_cast<long>(seconds_left >= 0 ? seconds_left / kSecondsPerDay
                                                         : -((-seconds_left + kSecondsPerDay - 1) / kSecondsPerDay));
    statuses.push_back({certificate, state, days_left});
  }
  return statuses;
}

Result<VerificationReport> CertificateAuthority::verify_pem(std::string_view pem, std::string_view source,
                                                            Purpose purpose, std::time_t now) const {
  auto certificate = crypto::certificate_from_pem(pem, source);
  if (!certificate) return std::move(certificate).error();
  return verify(certificate->get(), purpose, now);
}

VerificationReport CertificateAuthority::verify(X509* certificate, Purpose purpose, std::time_t now) const {
  VerificationReport report;
  report.common_name = crypto::subject_common_name(certificate);
  report.serial = crypto::serial_to_hex(X509_get0_serialNumber(certificate));
  report.not_after = crypto::to_unix_seconds(X509_get0_notAfter(certificate));
  const IssuedCertificate* record = index_.find_serial(report.serial);
  if (record != nullptr) report.kind = record->kind;

  int openssl_purpose = 0;
  if (purpose == Purpose::from_index && report.kind == CertificateKind::ca) {
    report.purpose = "ca";
  } else {
    bool server = purpose == Purpose::server ||
                  (purpose == Purpose::from_index &&
                   (report.kind ? *report.kind == CertificateKind::server
                                : (X509_get_extended_key_usage(certificate) & XKU_SSL_SERVER) != 0));
    report.purpose = server ? "server" : "client";
    openssl_purpose = server ? X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT;
  }

  crypto::X509Store store(X509_STORE_new());
  crypto::X509StoreCtx context(X509_STORE_CTX_new());
  if (!store || !context || X509_STORE_add_cert(store.get(), ca_certificate_.get()) != 1) {
    report.problems.push_back(crypto::openssl_error("cannot set up verification").message);
    return report;
  }
  bool crl_loaded = false;
  if (auto pem = files::read_file(paths_.crl()); pem) {
    if (auto crl = crypto::crl_from_pem(*pem, paths_.crl().string()); crl) {
      crl_loaded = X509_STORE_add_crl(store.get(), crl->get()) == 1;
    }
  }
  if (!crl_loaded) {
    report.problems.push_back("no readable CRL at " + paths_.crl().string() + " (run kelvinctl pki crl)");
  }
  if (X509_STORE_CTX_init(context.get(), store.get(), certificate, nullptr) != 1) {
    report.problems.push_back(crypto::openssl_error("cannot set up verification").message);
    return report;
  }
  X509_VERIFY_PARAM* params = X509_STORE_CTX_get0_param(context.get());
  X509_VERIFY_PARAM_set_time(params, now);
  if (crl_loaded) X509_VERIFY_PARAM_set_flags(params, X509_V_FLAG_CRL_CHECK);
  if (openssl_purpose != 0) X509_STORE_CTX_set_purpose(context.get(), openssl_purpose);
  X509_STORE_CTX_set_app_data(context.get(), &report.problems);
  X509_STORE_CTX_set_verify_cb(context.get(), collect_verification_problem);
  X509_verify_cert(context.get());
  crypto::drain_openssl_errors();

  if (record == nullptr) {
    report.problems.push_back("serial " + report.serial + " is not in this CA's index");
  } else if (record->revoked_at && std::find(report.problems.begin(), report.problems.end(), "certificate revoked") ==
                                       report.problems.end()) {
    report.problems.push_back("revoked in the index on " + format_utc_timestamp(*record->revoked_at) +
                              " but not yet in crl.pem (run kelvinctl pki crl)");
  }
  return report;
}

}  // namespace kelvin::pki
