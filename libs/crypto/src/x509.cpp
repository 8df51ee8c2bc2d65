#include "kelvin/crypto/x509.hpp"

#include <openssl/pem.h>

#include <cstdio>

namespace kelvin::crypto {
Result<Certificate> certificate_from_pem(std::string_view pem, std::string_view source) {
  Bio bio = memory_bio(pem);
  Certificate certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!certificate) {
    drain_openssl_errors();
    return make_error(Errc::corrupt, std::string(source) + " is not a PEM certificate");
  }
  return certificate;
}

Result<std::string> certificate_to_pem(X509* certificate) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1) return openssl_error("cannot encode certificate");
  return bio_to_string(bio.get());
}

Result<Crl> crl_from_pem(std::string_view pem, std::string_view source) {
  Bio bio = memory_bio(pem);
  Crl crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  if (!crl) {
    drain_openssl_errors();
    return make_error(Errc::corrupt, std::string(source) + " is not a PEM CRL");
  }
  return crl;
}

Result<std::string> crl_to_pem(X509_CRL* crl) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_CRL(bio.get(), crl) != 1) return openssl_error("cannot encode CRL");
  return bio_to_string(bio.get());
}

std::string serial_to_hex(const ASN1_INTEGER* serial) {
  BigNum bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return {};
  char* hex = BN_bn2hex(bn.get());
  if (hex == nullptr) return {};
  std::string out(hex);
  OPENSSL_free(hex);
  return out;
}

Result<Asn1Integer> serial_from_hex(std::string_view hex) {
  std::string text(hex);
  BIGNUM* raw = nullptr;
  // BN_hex2bn accepts a leading '-'; a serial is a positive integer (RFC 5280 4.1.2.2).
  if (text.empty() || text.front() == '-' || BN_hex2bn(&raw, text.c_str()) != static_cast<int>(text.size()) ||
      BN_is_zero(raw)) {
    BN_free(raw);
    drain_openssl_errors();
    return make_error(Errc::invalid_argument, "'" + text + "' is not a positive hexadecimal serial number");
  }
  BigNum bn(raw);
  Asn1Integer serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial) return openssl_error("cannot encode serial number");
  return serial;
}

Result<Asn1Integer> random_serial(int bits) {
  BigNum bn(BN_new());
  if (!bn) return openssl_error("cannot allocate serial number");
  // Retry the (2^-bits-likely) zero draw: a serial must be positive.
  do {
    if (BN_rand(bn.get(), bits, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
      return openssl_error("cannot draw a random serial number");
    }
  } while (BN_is_zero(bn.get()));
  Asn1Integer serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial) return openssl_error("cannot encode serial number");
  return serial;
}

std::string subject_common_name(X509* certificate) {
  X509_NAME* name = X509_get_subject_name(certificate);
  int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return {};
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return out;
}

std::time_t to_unix_seconds(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return -1;
  return timegm(&tm);
}

std::string sha256_fingerprint(X509* certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(certificate, EVP_sha256(), digest, &length) != 1) return {};
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    char byte[4];
    std::snprintf(byte, sizeof byte, i == 0 ? "%02X" : ":%02X", digest[i]);
    out += byte;
  }
  return out;
}

}  // namespace kelvin::crypto
