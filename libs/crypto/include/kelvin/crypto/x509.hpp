#pragma once
// X.509 certificates and CRLs: PEM encoding, the few fields kelvin reads, random serials.

#include <ctime>
#include <string>
#include <string_view>

#include "kelvin/crypto/openssl.hpp"

namespace kelvin::crypto {

// `source` names the data in errors (usually the file path).
Result<Certificate> certificate_from_pem(std::string_view pem, std::string_view source);
Result<std::string> certificate_to_pem(X509* certificate);

Result<Crl> crl_from_pem(std::string_view pem, std::string_view source);
Result<std::string> crl_to_pem(X509_CRL* crl);

// Serial number as uppercase hex without leading zeros (as `openssl x509 -serial` prints it).
std::string serial_to_hex(const ASN1_INTEGER* serial);
Result<Asn1Integer> serial_from_hex(std::string_view hex);

// A uniformly random positive serial of exactly `bits` bits of entropy (RFC 5280 allows up to
// 20 octets; 128 bits makes collisions and prediction impractical).
Result<Asn1Integer> random_serial(int bits = 128);

// The subject's commonName, "" when absent.
std::string subject_common_name(X509* certificate);

// Seconds since the Unix epoch of an ASN.1 time; -1 when it cannot be converted.
std::time_t to_unix_seconds(const ASN1_TIME* time);

// SHA-256 fingerprint of the DER encoding, as colon-separated uppercase hex.
std::string sha256_fingerprint(X509* certificate);

}  // namespace kelvin::crypto
