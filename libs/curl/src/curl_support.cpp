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

}  // namespace kelvin::curl
