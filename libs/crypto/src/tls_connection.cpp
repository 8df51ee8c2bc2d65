#include "kelvin/crypto/tls_connection.hpp"

#include <openssl/ssl.h>

namespace kelvin::crypto {

void enable_tls_read_ahead(void* ssl) noexcept {
  if (ssl != nullptr) SSL_set_read_ahead(static_cast<SSL*>(ssl), 1);
}

bool has_buffered_tls_input(void* ssl) noexcept {
  return ssl != nullptr && SSL_has_pending(static_cast<const SSL*>(ssl)) == 1;
}

}  // namespace kelvin::crypto
