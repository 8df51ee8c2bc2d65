#pragma once
// The certificate and CRL profiles of a kelvin installation (RFC 5280), one place for all of
// them: ECDSA P-256 keys, SHA-256 signatures, X.509 v3.
//
//   ca       basicConstraints critical CA:TRUE,pathlen:0; keyUsage critical keyCertSign,cRLSign
//   server   CA:FALSE; keyUsage critical digitalSignature; extendedKeyUsage serverAuth; SANs
//   service  CA:FALSE; keyUsage critical digitalSignature; extendedKeyUsage clientAuth
//   device   CA:FALSE; keyUsage critical digitalSignature; extendedKeyUsage clientAuth
// All carry subjectKeyIdentifier; all but the CA carry authorityKeyIdentifier.

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "kelvin/crypto/openssl.hpp"
#include "kelvin/pki/certificate_kind.hpp"

namespace kelvin::pki {

struct CertificateSpec {
  CertificateKind kind = CertificateKind::device;
  std::string common_name;
  std::vector<std::string> subject_alt_names;  // "DNS:name" or "IP:address"; server only
  std::time_t not_before = 0;
  std::time_t not_after = 0;
};

// Checks one subject alternative name ("DNS:gateway.local", "IP:10.0.0.2", "IP:::1").
Result<void> validate_subject_alt_name(std::string_view san);

// Builds and signs a certificate for `subject_key`. For the CA, pass issuer_certificate = nullptr:
// the certificate is self-signed with issuer_key (which must then be subject_key).
Result<crypto::Certificate> sign_certificate(const CertificateSpec& spec, ASN1_INTEGER* serial, EVP_PKEY* subject_key,
                                             X509* issuer_certificate, EVP_PKEY* issuer_key);

struct RevokedEntry {
  std::string serial;  // hex
  std::time_t revoked_at = 0;
};

// Builds and signs a v2 CRL with a CRL number and the CA's authorityKeyIdentifier.
Result<crypto::Crl> sign_crl(X509* ca_certificate, EVP_PKEY* ca_key, const std::vector<RevokedEntry>& revoked,
                             std::uint64_t crl_number, std::time_t this_update, std::time_t next_update);

}  // namespace kelvin::pki
