#pragma once
// Tuning of a TLS connection another library owns (libmosquitto's SSL object), so that no OpenSSL
// header is needed outside libs/crypto. `ssl` is an OpenSSL SSL* passed as void*.

namespace kelvin::crypto {

// Lets OpenSSL read whole socket buffers instead of a record header and then its body: one read()
// then yields many small records (an MQTT stream of single-reading messages is one record each).
// The caller must then ask has_buffered_tls_input() before it waits for the socket, because
// records already read from it no longer make the socket readable.
void enable_tls_read_ahead(void* ssl) noexcept;

// True when OpenSSL holds received bytes (decrypted or not) that have not been read yet.
bool has_buffered_tls_input(void* ssl) noexcept;

}  // namespace kelvin::crypto
