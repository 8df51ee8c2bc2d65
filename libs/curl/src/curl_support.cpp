#include "kelvin/curl/curl_support.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

namespace kelvin::curl {

Result<void> ensure_initialised() {
  static std::once_flag once;
  static CURLcode status = CURLE_OK;
  std::call_once(once, [] { status = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (status != CURLE_OK) {
    return make_error(Errc::io, std::string("cannot initialise libcurl: ") + curl_easy_strerror(status));
  }
  return {};
}

std::size_t keep_body(char* data, std::size_t size, std::size_t count, void* body) {
  auto* kept = static_cast<std::string*>(body);
  const std::size_t bytes = size * count;
  const std::size_t room = kMaxKeptBodyBytes - std::min(kept->size(), kMaxKeptBodyBytes);
  kept->append(data, std::min(bytes, room));
  return bytes;
}

bool is_tls_failure(int curl_code) {
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
      return true;
    default:
      return false;
  }
}

}  // namespace kelvin::curl
