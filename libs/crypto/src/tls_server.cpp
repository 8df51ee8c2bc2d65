#include "kelvin/crypto/tls_server.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "kelvin/crypto/openssl.hpp"
#include "kelvin/crypto/tls_policy.hpp"
#include "kelvin/crypto/x509.hpp"

namespace kelvin::crypto {

namespace {

// Client certificates are verified, so a resumed session must belong to this server's
// verification settings: without an id context OpenSSL refuses every resumption attempt with a
// failed handshake.
constexpr unsigned char kSessionIdContext[] = "kelvin-https";

Result<void> load_identity(SSL_CTX* ctx, const TlsServerFiles& files) {
  if (SSL_CTX_use_certificate_chain_file(ctx, files.certificate.c_str()) != 1) {
    return openssl_error("cannot load the server certificate " + files.certificate.string());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, files.private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return openssl_error("cannot load the server key " + files.private_key.string());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return openssl_error("the server key " + files.private_key.string() + " does not belong to the certificate " +
                         files.certificate.string());
  }
  return {};
}

Result<void> require_verified_client_certificates(SSL_CTX* ctx, const TlsServerFiles& files) {
  if (SSL_CTX_load_verify_locations(ctx, files.client_ca.c_str(), nullptr) != 1) {
    return openssl_error("cannot load the client CA " + files.client_ca.string());
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
  if (lookup == nullptr || X509_load_crl_file(lookup, files.client_crl.c_str(), X509_FILETYPE_PEM) < 1) {
    return openssl_error("cannot load the CRL " + files.client_crl.string());
  }
  // The leaf is checked against the CRL; the CA itself is the trust anchor.
  if (X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK) != 1) return openssl_error("cannot enable CRL checking");
  // Tells clients which CA to pick a certificate for (curl and browsers use it).
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca.c_str());
  if (names == nullptr) return openssl_error("cannot read the client CA's name from " + files.client_ca.string());
  SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
  // Requested, verified when presented, never required (no SSL_VERIFY_FAIL_IF_NO_PEER_CERT).
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_verify_depth(ctx, 4);
  return {};
}

}  // namespace

Result<void> configure_tls_server(SSL_CTX* ctx, const TlsServerFiles& files) {
  if (ctx == nullptr) return make_error(Errc::invalid_argument, "no TLS context to configure");
  if (!files.client_ca.empty() && files.client_crl.empty()) {
    return make_error(Errc::invalid_argument,
                      "client certificates need the CA's CRL as well as the CA (" + files.client_ca.string() + ")");
  }
  (void)drain_openssl_errors();  // errors left by others would be blamed on us
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) return openssl_error("cannot require TLS 1.2");
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) return openssl_error("cannot set the TLS 1.2 suites");
  if (SSL_CTX_set_ciphersuites(ctx, OSSL_default_ciphersuites()) != 1) {
    return openssl_error("cannot set the TLS 1.3 suites");
  }
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1) != 1) {
    return openssl_error("cannot set the session id context");
  }
  if (auto loaded = load_identity(ctx, files); !loaded) return loaded;
  if (!files.client_ca.empty()) return require_verified_client_certificates(ctx, files);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  return {};
}

namespace {

// The certificate the peer presented on `ssl`, if it presented one and it was verified; nullptr
// otherwise.
X509* verified_peer(const SSL* ssl) {
  if (ssl == nullptr) return nullptr;
  X509* peer = SSL_get0_peer_certificate(ssl);
  return peer != nullptr && SSL_get_verify_result(ssl) == X509_V_OK ? peer : nullptr;
}

}  // namespace

std::optional<std::string> verified_peer_common_name(const SSL* ssl) {
  X509* peer = verified_peer(ssl);
  if (peer == nullptr) return std::nullopt;
  std::string common_name = subject_common_name(peer);
  if (common_name.empty()) return std::nullopt;
  return common_name;
}

std::optional<std::string> verified_peer_serial(const SSL* ssl) {
  X509* peer = verified_peer(ssl);
  if (peer == nullptr) return std::nullopt;
  std::string serial = serial_to_hex(X509_get0_serialNumber(peer));
  if (serial.empty()) return std::nullopt;
  return serial;
}

std::string peer_verification_failure(const SSL* ssl) {
  if (ssl == nullptr) return {};
  const long result = SSL_get_verify_result(ssl);
  if (result == X509_V_OK) return {};
  return X509_verify_cert_error_string(result);
}

}  // namespace kelvin::crypto
