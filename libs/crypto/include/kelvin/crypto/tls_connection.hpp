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

// Puts a write buffer of `capacity` bytes between the TLS layer and the socket: the records of
// many small writes (a PUBACK and an ack per single-reading message) collect there and reach the
// socket in one write() at flush_tls_output, or earlier when the buffer fills. The caller must
// then flush after each pass of writes and wait for the socket to be writable while
// has_pending_tls_output() says so. What the buffer still holds when the TLS object is freed is
// written to the socket first (libmosquitto frees it right after writing a DISCONNECT). False
// when the buffer could not be set up (nothing changed).
bool enable_tls_write_buffer(void* ssl, int capacity) noexcept;

enum class TlsFlush {
  done,         // nothing left in the buffer
  would_block,  // the socket took part or none of it: flush again once it is writable
  failed,       // the connection is broken
};
TlsFlush flush_tls_output(void* ssl) noexcept;

// True when the write buffer holds bytes the socket has not taken yet.
bool has_pending_tls_output(void* ssl) noexcept;

}  // namespace kelvin::crypto
