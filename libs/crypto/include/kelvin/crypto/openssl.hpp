#pragma once
// RAII owners for OpenSSL 3 objects and the conversion of OpenSSL's error queue into kelvin
// errors. Every OpenSSL object kelvin holds is owned by one of these pointers.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"

namespace kelvin::crypto {

template <class T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const noexcept { Free(p); }
};

template <class T, void (*Free)(T*)>
using OpenSslPtr = std::unique_ptr<T, OpenSslDeleter<T, Free>>;

using PKey = OpenSslPtr<EVP_PKEY, EVP_PKEY_free>;
using Certificate = OpenSslPtr<X509, X509_free>;
using Crl = OpenSslPtr<X509_CRL, X509_CRL_free>;
using BigNum = OpenSslPtr<BIGNUM, BN_free>;
using Bio = OpenSslPtr<BIO, BIO_free_all>;
using Asn1Integer = OpenSslPtr<ASN1_INTEGER, ASN1_INTEGER_free>;
using Asn1Time = OpenSslPtr<ASN1_TIME, ASN1_TIME_free>;
using X509Name = OpenSslPtr<X509_NAME, X509_NAME_free>;
using X509Store = OpenSslPtr<X509_STORE, X509_STORE_free>;
using X509StoreCtx = OpenSslPtr<X509_STORE_CTX, X509_STORE_CTX_free>;
using X509Revoked = OpenSslPtr<X509_REVOKED, X509_REVOKED_free>;
using X509Extension = OpenSslPtr<X509_EXTENSION, X509_EXTENSION_free>;

// Drains OpenSSL's thread-local error queue into one line ("" when empty).
std::string drain_openssl_errors();

// An Errc::crypto error: "<what>: <OpenSSL's reasons>"; drains the error queue.
Error openssl_error(std::string_view what);

// A read-only memory BIO over `data` (which must outlive it).
Bio memory_bio(std::string_view data);

// The contents of a memory BIO as a string.
std::string bio_to_string(BIO* bio);

}  // namespace kelvin::crypto
