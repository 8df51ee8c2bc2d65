#include "kelvin/curl/https_post.hpp"

#include <curl/curl.h>

#include <cctype>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>

#include "kelvin/crypto/tls_policy.hpp"
#include "kelvin/curl/curl_support.hpp"

namespace kelvin::curl {
namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// The field name of a "Name: value" line; empty when the line has none.
std::string_view field_name(std::string_view line) {
  const auto colon = line.find(':');
  return colon == std::string_view::npos ? std::string_view{} : line.substr(0, colon);
}

// A header line libcurl sends as given: CR or LF would end it early and let the rest pass as
// further headers or as the body; NUL would cut it short.
Result<void> check_header(std::string_view line) {
  if (line.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    return make_error(Errc::invalid_argument, "an HTTP header line contains CR, LF or NUL");
  }
  const std::string_view name = field_name(line);
  if (name.empty() || name.find_first_of(" \t") != std::string_view::npos) {
    return make_error(Errc::invalid_argument, "an HTTP header line is not \"Name: value\"");
  }
  return {};
}

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

Result<HttpsPostAnswer> https_post(const std::string& url, const std::string& body,
                                   const std::vector<std::string>& headers, const HttpsPostOptions& options) {
  // Checked here, not only by CURLOPT_PROTOCOLS_STR: a plain-text URL must never reach libcurl,
  // and the caller learns it is a mistake of input rather than of the network.
  constexpr std::string_view kScheme = "https://";
  if (url.size() <= kScheme.size() || !equal_ignoring_case(std::string_view(url).substr(0, kScheme.size()), kScheme)) {
    return make_error(Errc::invalid_argument, "only https:// URLs may be posted to");
  }
  if (options.timeout.count() <= 0) return make_error(Errc::invalid_argument, "the HTTPS timeout must be positive");
  bool content_type_set = false;
  bool expect_set = false;
  for (const std::string& line : headers) {
    if (auto checked = check_header(line); !checked) return std::move(checked).error();
    content_type_set = content_type_set || equal_ignoring_case(field_name(line), "content-type");
    expect_set = expect_set || equal_ignoring_case(field_name(line), "expect");
  }
  if (!options.ca_file.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(options.ca_file, ec)) {
      return make_error(Errc::not_found, "CA file " + options.ca_file.string() + " does not exist or is not a file");
    }
  }
  if (auto ready = ensure_initialised(); !ready) return std::move(ready).error();

  std::unique_ptr<curl_slist, SlistDeleter> header_list;
  auto append = [&header_list](const char* line) {
    curl_slist* longer = curl_slist_append(header_list.get(), line);
    if (longer == nullptr) return false;  // the list is unchanged and still owned
    (void)header_list.release();
    header_list.reset(longer);
    return true;
  };
  bool built = true;
  for (const std::string& line : headers) built = built && append(line.c_str());
  if (!content_type_set) built = built && append("Content-Type: application/json");
  // "Expect:" stops libcurl from waiting for "100 Continue" before sending a larger body.
  if (!expect_set) built = built && append("Expect:");
  if (!built) return make_error(Errc::io, "cannot build HTTP headers (out of memory?)");

  // Each call its own handle, hence its own connection and no state shared between threads.
  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  if (!easy) return make_error(Errc::io, "cannot create a libcurl handle (out of memory?)");
  std::string answer_body;
  char error_buffer[CURL_ERROR_SIZE] = {};

  CURLcode rc = CURLE_OK;
  auto set = [&rc](CURLcode result) {
    if (rc == CURLE_OK) rc = result;
  };
  CURL* const handle = easy.get();
  set(curl_easy_setopt(handle, CURLOPT_URL, url.c_str()));
  set(curl_easy_setopt(handle, CURLOPT_POST, 1L));
  // POSTFIELDS is not copied: `body` outlives curl_easy_perform below, which is all that uses it.
  set(curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.data()));
  set(curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size())));
  set(curl_easy_setopt(handle, CURLOPT_HTTPHEADER, header_list.get()));
  // Callers may run threads of their own: libcurl must not use signals (SIGALRM) for timeouts.
  set(curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L));
  set(curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "https"));
  set(curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, "https"));
  set(curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L));
  // Verification is always on; there is deliberately no option to turn it off.
  set(curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L));
  set(curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L));
  // TLS 1.2 or later; TLS 1.2 only with ECDHE and an AEAD cipher (kTls12Ciphers). TLS 1.3 keeps
  // OpenSSL's default suites, all of them AEAD.
  set(curl_easy_setopt(handle, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2)));
  set(curl_easy_setopt(handle, CURLOPT_SSL_CIPHER_LIST, crypto::kTls12Ciphers));
  if (!options.ca_file.empty()) {
    set(curl_easy_setopt(handle, CURLOPT_CAINFO, options.ca_file.c_str()));
    // libcurl also trusts its built-in CA directory (/etc/ssl/certs on Debian) unless told not to:
    // with a CA file given, that file is the only trust anchor.
    set(curl_easy_setopt(handle, CURLOPT_CAPATH, static_cast<const char*>(nullptr)));
  }
  set(curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count())));
  set(curl_easy_setopt(handle, CURLOPT_USERAGENT, "kelvin"));
  set(curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &keep_body));
  set(curl_easy_setopt(handle, CURLOPT_WRITEDATA, &answer_body));
  set(curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer));
  if (rc != CURLE_OK) return make_error(Errc::io, std::string("cannot configure libcurl: ") + curl_easy_strerror(rc));

  rc = curl_easy_perform(handle);
  if (rc != CURLE_OK) {
    const char* what = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
    if (rc == CURLE_URL_MALFORMAT) return make_error(Errc::invalid_argument, std::string("bad URL: ") + what);
    return make_error(Errc::io, (is_tls_failure(rc) ? std::string("TLS: ") : std::string()) + what);
  }
  HttpsPostAnswer answer;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &answer.status);
  answer.body = std::move(answer_body);
  return answer;
}

}  // namespace kelvin::curl
