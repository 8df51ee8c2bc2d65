#pragma once
// kelvin's TLS policy applied to a server context another library owns (Boost.Asio's ssl::context
// in libs/http), so that no OpenSSL header is needed outside libs/crypto. The OpenSSL types are
// only forward-declared: callers pass the native handles they get from their TLS library.

#include <filesystem>
#include <optional>
#include <string>

#include "kelvin/core/result.hpp"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX
struct ssl_st;      // OpenSSL's SSL

namespace kelvin::crypto {

struct TlsServerFiles {
  std::filesystem::path certificate;  // the server's certificate chain (PEM, leaf first)
  std::filesystem::path private_key;  // its private key (PEM, unencrypted)
  // Client certificates are requested only when client_ca is set; client_crl must then be set too.
  std::filesystem::path client_ca;   // the CA client certificates must chain to (PEM)
  std::filesystem::path client_crl;  // that CA's revocation list (PEM)
};

// Configures `ctx` as a kelvin TLS server (docs/gateway.md, "HTTPS server"):
//   - TLS 1.2 at least; TLS 1.2 suites are exactly kTls12Ciphers (tls_policy.hpp), TLS 1.3 keeps
//     OpenSSL's default (all AEAD); the server's preference order wins; no compression, no
//     renegotiation;
//   - the certificate chain and key, checked to belong together;
//   - with client_ca: a client certificate is requested but not required. One that is presented
//     must chain to client_ca and must not be listed in client_crl (checked for the leaf; a
//     missing or expired CRL fails it too), or the handshake fails. Without one the handshake
//     succeeds and the connection has no client identity (verified_peer_common_name: nullopt).
// The files are read now; later changes need a new context.
// Errors: Errc::invalid_argument (client_ca without client_crl), Errc::crypto (a file that does
// not load, a key that does not match, a policy OpenSSL refuses).
Result<void> configure_tls_server(ssl_ctx_st* ctx, const TlsServerFiles& files);

// The common name of the certificate the peer presented on `ssl`, if it presented one and it was
// verified (SSL_get_verify_result is X509_V_OK); nullopt otherwise, and for a certificate without
// a CN.
std::optional<std::string> verified_peer_common_name(const ssl_st* ssl);

// The serial number of that same certificate (uppercase hex, as serial_to_hex writes it and the
// PKI index keeps it), under the same conditions; nullopt otherwise.
std::optional<std::string> verified_peer_serial(const ssl_st* ssl);

// Why the certificate the peer presented on `ssl` failed verification ("certificate revoked");
// "" when it passed or none was presented. For logging a failed handshake (after a failed
// handshake the server no longer holds the certificate, so its name cannot be given).
std::string peer_verification_failure(const ssl_st* ssl);

}  // namespace kelvin::crypto
