#include "kelvin/pki/certificate_profiles.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "kelvin/crypto/x509.hpp"

namespace kelvin::pki {
namespace {

using crypto::openssl_error;

bool is_host_label(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// A host name of dot-separated labels (RFC 1123); a wildcard is allowed only as the whole
// leftmost label of a name with at least two more labels (RFC 6125 6.4.3): "*.site.lan".
bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t labels = 0;
  bool wildcard = false;
  for (std::size_t start = 0;;) {
    auto dot = name.find('.', start);
    std::string_view label = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (labels == 0 && label == "*") {
      wildcard = true;
    } else if (!is_host_label(label)) {
      return false;
    }
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return !wildcard || labels >= 3;
}

bool is_ip_address(std::string_view text) {
  std::string address(text);
  unsigned char buffer[16];
  return inet_pton(AF_INET, address.c_str(), buffer) == 1 || inet_pton(AF_INET6, address.c_str(), buffer) == 1;
}

// Adds one extension written in OpenSSL's configuration syntax. Only kelvin's own constant
// strings and validated SANs reach this, so the syntax cannot be injected into.
Result<void> add_extension(X509* certificate, X509V3_CTX* context, int nid, const std::string& value) {
  crypto::X509Extension extension(X509V3_EXT_nconf_nid(nullptr, context, nid, value.c_str()));
  if (!extension || X509_add_ext(certificate, extension.get(), -1) != 1) {
    return openssl_error("cannot add extension " + std::string(OBJ_nid2sn(nid)) + "=" + value);
  }
  return {};
}

Result<void> set_validity(X509* certificate, std::time_t not_before, std::time_t not_after) {
  if (not_after <= not_before) return make_error(Errc::invalid_argument, "certificate would expire before it starts");
  if (ASN1_TIME_set(X509_getm_notBefore(certificate), not_before) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(certificate), not_after) == nullptr) {
    return openssl_error("cannot set validity period");
  }
  return {};
}

Result<void> set_common_name(X509* certificate, const std::string& common_name) {
  if (common_name.empty() || common_name.size() > 64) {  // ub-common-name (RFC 5280)
    return make_error(Errc::invalid_argument, "a common name must have 1 to 64 characters");
  }
  X509_NAME* name = X509_get_subject_name(certificate);
  if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    return openssl_error("cannot set common name");
  }
  return {};
}

std::string join_alt_names(const std::vector<std::string>& names) {
  std::string joined;
  for (const auto& name : names) {
    if (!joined.empty()) joined += ',';
    joined += name;
  }
  return joined;
}

}  // namespace

Result<void> validate_subject_alt_name(std::string_view san) {
  if (san.starts_with("DNS:") && is_dns_name(san.substr(4))) return {};
  if (san.starts_with("IP:") && is_ip_address(san.substr(3))) return {};
  return make_error(Errc::invalid_argument,
                    "invalid subject alternative name '" + std::string(san) + "': use DNS:<host name> or IP:<address>");
}

Result<crypto::Certificate> sign_certificate(const CertificateSpec& spec, ASN1_INTEGER* serial, EVP_PKEY* subject_key,
                                             X509* issuer_certificate, EVP_PKEY* issuer_key) {
  const bool self_signed = issuer_certificate == nullptr;
  if (self_signed != (spec.kind == CertificateKind::ca)) {
    return make_error(Errc::invalid_argument, "only the CA certificate is self-signed");
  }
  if (!spec.subject_alt_names.empty() && spec.kind != CertificateKind::server) {
    return make_error(Errc::invalid_argument, "subject alternative names are for server certificates only");
  }
  for (const auto& san : spec.subject_alt_names) {
    if (auto valid = validate_subject_alt_name(san); !valid) return std::move(valid).error();
  }

  crypto::Certificate certificate(X509_new());
  if (!certificate) return openssl_error("cannot allocate certificate");
  X509* cert = certificate.get();
  if (X509_set_version(cert, X509_VERSION_3) != 1 || X509_set_serialNumber(cert, serial) != 1 ||
      X509_set_pubkey(cert, subject_key) != 1) {
    return openssl_error("cannot fill certificate");
  }
  if (auto r = set_common_name(cert, spec.common_name); !r) return std::move(r).error();
  X509_NAME* issuer_name = self_signed ? X509_get_subject_name(cert) : X509_get_subject_name(issuer_certificate);
  if (X509_set_issuer_name(cert, issuer_name) != 1) return openssl_error("cannot set issuer");
  if (auto r = set_validity(cert, spec.not_before, spec.not_after); !r) return std::move(r).error();

  X509V3_CTX context;
  X509V3_set_ctx(&context, self_signed ? cert : issuer_certificate, cert, nullptr, nullptr, 0);

  std::vector<std::pair<int, std::string>> extensions;
  if (spec.kind == CertificateKind::ca) {
    extensions = {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                  {NID_key_usage, "critical,keyCertSign,cRLSign"},
                  {NID_subject_key_identifier, "hash"}};
  } else {
    const char* purpose = spec.kind == CertificateKind::server ? "serverAuth" : "clientAuth";
    extensions = {{NID_basic_constraints, "critical,CA:FALSE"},
                  {NID_key_usage, "critical,digitalSignature"},
                  {NID_ext_key_usage, purpose},
                  {NID_subject_key_identifier, "hash"},
                  {NID_authority_key_identifier, "keyid:always"}};
    if (!spec.subject_alt_names.empty()) {
      extensions.emplace_back(NID_subject_alt_name, join_alt_names(spec.subject_alt_names));
    }
  }
  for (const auto& [nid, value] : extensions) {
    if (auto r = add_extension(cert, &context, nid, value); !r) return std::move(r).error();
  }

  if (X509_sign(cert, issuer_key, EVP_sha256()) <= 0) return openssl_error("cannot sign certificate");
  return certificate;
}

Result<crypto::Crl> sign_crl(X509* ca_certificate, EVP_PKEY* ca_key, const std::vector<RevokedEntry>& revoked,
                             std::uint64_t crl_number, std::time_t this_update, std::time_t next_update) {
  crypto::Crl crl(X509_CRL_new());
  if (!crl) return openssl_error("cannot allocate CRL");
  crypto::Asn1Time last(ASN1_TIME_set(nullptr, this_update));
  crypto::Asn1Time next(ASN1_TIME_set(nullptr, next_update));
  if (!last || !next || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca_certificate)) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), last.get()) != 1 || X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1) {
    return openssl_error("cannot fill CRL");
  }

  for (const auto& entry : revoked) {
    auto serial = crypto::serial_from_hex(entry.serial);
    if (!serial) return std::move(serial).error();
    crypto::X509Revoked item(X509_REVOKED_new());
    crypto::Asn1Time when(ASN1_TIME_set(nullptr, entry.revoked_at));
    if (!item || !when || X509_REVOKED_set_serialNumber(item.get(), serial->get()) != 1 ||
        X509_REVOKED_set_revocationDate(item.get(), when.get()) != 1 ||
        X509_CRL_add0_revoked(crl.get(), item.get()) != 1) {
      return openssl_error("cannot add revoked serial " + entry.serial + " to CRL");
    }
    item.release();  // now owned by the CRL
  }

  crypto::BigNum number_bn(BN_new());
  if (!number_bn || BN_set_word(number_bn.get(), crl_number) != 1) return openssl_error("cannot encode CRL number");
  crypto::Asn1Integer number(BN_to_ASN1_INTEGER(number_bn.get(), nullptr));
  if (!number || X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1) {
    return openssl_error("cannot add CRL number");
  }
  X509V3_CTX context;
  X509V3_set_ctx(&context, ca_certificate, nullptr, nullptr, crl.get(), 0);
  crypto::X509Extension authority_key(
      X509V3_EXT_nconf_nid(nullptr, &context, NID_authority_key_identifier, "keyid:always"));
  if (!authority_key || X509_CRL_add_ext(crl.get(), authority_key.get(), -1) != 1) {
    return openssl_error("cannot add authorityKeyIdentifier to CRL");
  }

  if (X509_CRL_sort(crl.get()) != 1 || X509_CRL_sign(crl.get(), ca_key, EVP_sha256()) <= 0) {
    return openssl_error("cannot sign CRL");
  }
  return crl;
}

}  // namespace kelvin::pki
