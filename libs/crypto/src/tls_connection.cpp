#include "kelvin/crypto/tls_connection.hpp"

#include <openssl/ssl.h>
#include <poll.h>

namespace kelvin::crypto {

void enable_tls_read_ahead(void* ssl) noexcept {
  if (ssl != nullptr) SSL_set_read_ahead(static_cast<SSL*>(ssl), 1);
}

bool has_buffered_tls_input(void* ssl) noexcept {
  return ssl != nullptr && SSL_has_pending(static_cast<const SSL*>(ssl)) == 1;
}

namespace {

// The buffer BIO's callback: before the BIO is freed, what it still holds goes to the socket.
// libmosquitto writes a DISCONNECT and then, in the same call, frees the TLS object (which frees
// this BIO) and closes the socket: without this the DISCONNECT, and the acks written just before
// it, would be dropped with the buffer, and the broker would publish the client's last will.
// Bounded: a socket that takes nothing for about 100 ms loses the rest, as a lost connection would.
long flush_before_free(BIO* bio, int operation, const char*, size_t, int, long, int result, size_t*) {
  if (operation != BIO_CB_FREE) return result;
  for (int attempt = 0; attempt < 10 && BIO_wpending(bio) > 0; ++attempt) {
    if (BIO_flush(bio) == 1 || !BIO_should_retry(bio)) break;
    int fd = -1;
    if (BIO_next(bio) == nullptr || BIO_get_fd(BIO_next(bio), &fd) <= 0 || fd < 0) break;
    pollfd writable{fd, POLLOUT, 0};
    (void)::poll(&writable, 1, 10);
  }
  return result;
}

}  // namespace

bool enable_tls_write_buffer(void* ssl_ptr, int capacity) noexcept {
  auto* ssl = static_cast<SSL*>(ssl_ptr);
  if (ssl == nullptr || capacity <= 0) return false;
  BIO* socket = SSL_get_wbio(ssl);  // below OpenSSL's own handshake buffer, if one is in place
  if (socket == nullptr) return false;
  if (BIO_method_type(socket) == BIO_TYPE_BUFFER) return true;
  BIO* buffer = BIO_new(BIO_f_buffer());
  if (buffer == nullptr) return false;
  if (BIO_set_write_buffer_size(buffer, capacity) != 1 || BIO_up_ref(socket) != 1) {
    BIO_free(buffer);
    return false;
  }
  // The chain holds its own reference to the socket BIO; SSL_set0_wbio drops the SSL's old one
  // (the read side keeps its own) and keeps OpenSSL's handshake buffer on top of the new chain.
  BIO_push(buffer, socket);
  BIO_set_callback_ex(buffer, flush_before_free);
  SSL_set0_wbio(ssl, buffer);
  return true;
}

TlsFlush flush_tls_output(void* ssl_ptr) noexcept {
  auto* ssl = static_cast<SSL*>(ssl_ptr);
  BIO* out = ssl != nullptr ? SSL_get_wbio(ssl) : nullptr;
  if (out == nullptr || BIO_wpending(out) == 0) return TlsFlush::done;
  if (BIO_flush(out) == 1) return TlsFlush::done;
  return BIO_should_retry(out) ? TlsFlush::would_block : TlsFlush::failed;
}

bool has_pending_tls_output(void* ssl_ptr) noexcept {
  auto* ssl = static_cast<SSL*>(ssl_ptr);
  BIO* out = ssl != nullptr ? SSL_get_wbio(ssl) : nullptr;
  return out != nullptr && BIO_wpending(out) > 0;
}

}  // namespace kelvin::crypto
