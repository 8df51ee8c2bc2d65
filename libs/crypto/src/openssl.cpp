#include "kelvin/crypto/openssl.hpp"

#include <openssl/err.h>

namespace kelvin::crypto {

std::string drain_openssl_errors() {
  std::string out;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!out.empty()) out += "; ";
    const char* reason = ERR_reason_error_string(code);
    out += reason != nullptr ? reason : buffer;
  }
  return out;
}

Error openssl_error(std::string_view what) {
  std::string reasons = drain_openssl_errors();
  std::string message(what);
  if (!reasons.empty()) message += ": " + reasons;
  return make_error(Errc::crypto, std::move(message));
}

Bio memory_bio(std::string_view data) {
  return Bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

}  // namespace kelvin::crypto
