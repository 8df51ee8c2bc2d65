#pragma once
// The TLS policy every kelvin endpoint applies, server or client: the managed broker's listener,
// the MQTT clients, the InfluxDB exporter. One definition, so they cannot drift apart.
// Header only and free of OpenSSL includes: it is passed as text to Mosquitto and libcurl.

namespace kelvin::crypto {

// The TLS 1.2 cipher suites allowed, as an OpenSSL cipher string (SSL_CTX_set_cipher_list; in
// Mosquitto `ciphers` / mosquitto_tls_opts_set, in libcurl CURLOPT_SSL_CIPHER_LIST).
//
// Only ECDHE key exchange (forward secrecy: a stolen server or device key does not decrypt
// recorded traffic) with an AEAD cipher, AES-GCM or ChaCha20-Poly1305. CBC suites are refused
// whatever their MAC (SHA-1, SHA-256, SHA-384): TLS authenticates before it encrypts there, which
// gave Lucky Thirteen and the padding oracles after it, and the SHA-1 ones also rest on a retired
// hash. This is Mozilla's "intermediate" TLS 1.2 list without its finite-field DHE suites.
// ChaCha20-Poly1305 serves devices without AES instructions. The RSA-authenticated suites matter
// only to peers with an RSA certificate (an InfluxDB behind a public CA, for example); kelvin's
// own PKI issues ECDSA keys.
//
// TLS 1.3 suites are not affected by this string (all of them are AEAD with ephemeral key
// exchange); OpenSSL's default TLS 1.3 set stays in force. Nothing below TLS 1.2 is ever allowed.
// Every name here must be one OpenSSL knows: it silently skips unknown names
// (tests/unit/crypto/tls_policy_test.cpp checks them).
inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace kelvin::crypto
