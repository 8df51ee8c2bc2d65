#include "kelvin/influx/writer.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstddef>
#include <system_error>
#include <utility>

#include "kelvin/crypto/tls_policy.hpp"
#include "kelvin/curl/curl_support.hpp"
#include "kelvin/influx/gzip.hpp"
#include "server_message.hpp"
#include "write_url.hpp"

namespace kelvin::influx {
namespace {

WriteStatus status_for_http(long code) {
  if (code >= 200 && code < 300) return WriteStatus::written;
  switch (code) {
    case 400:  // unparseable line, field type conflict, partial write
    case 413:  // request entity too large
    case 422:  // unprocessable (VictoriaMetrics, proxies)
      return WriteStatus::bad_points;
    case 401:
    case 403:
      return WriteStatus::unauthorized;
    case 404:
      return WriteStatus::not_found;
    default:
      // 5xx, 429, 408, redirects and anything unexpected: retrying loses nothing, while calling
      // the data bad would make the caller drop it.
      return WriteStatus::unavailable;
  }
}

WriteStatus status_for_transport(CURLcode code) {
  if (curl::is_tls_failure(code)) return WriteStatus::tls_failure;
  // Refused, reset, DNS, timeout, and failures of our own (out of memory): try again later.
  return WriteStatus::unavailable;
}

}  // namespace

std::string_view to_string(WriteStatus status) {
  switch (status) {
    case WriteStatus::written:
      return "written";
    case WriteStatus::bad_points:
      return "bad_points";
    case WriteStatus::unauthorized:
      return "unauthorized";
    case WriteStatus::not_found:
      return "not_found";
    case WriteStatus::unavailable:
      return "unavailable";
    case WriteStatus::tls_failure:
      return "tls_failure";
  }
  return "unknown";
}

struct Writer::Impl {
  WriterOptions options;
  std::string endpoint;
  CURL* curl = nullptr;
  curl_slist* plain_headers = nullptr;
  curl_slist* gzip_headers = nullptr;
  std::string response;
  char error_buffer[CURL_ERROR_SIZE] = {};

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (curl != nullptr) curl_easy_cleanup(curl);
    curl_slist_free_all(plain_headers);
    curl_slist_free_all(gzip_headers);
  }

  std::string_view secret() const {
    return options.credentials ? std::string_view(options.credentials->password) : std::string_view{};
  }

  Result<void> configure(bool loopback_http);
};

Result<void> Writer::Impl::configure(bool loopback_http) {
  curl = curl_easy_init();
  if (curl == nullptr) return make_error(Errc::io, "cannot create a libcurl handle (out of memory?)");

  // "Expect:" stops libcurl from waiting for "100 Continue" before sending larger bodies.
  for (const char* header : {"Content-Type: text/plain; charset=utf-8", "Expect:"}) {
    plain_headers = curl_slist_append(plain_headers, header);
    gzip_headers = curl_slist_append(gzip_headers, header);
  }
  gzip_headers = curl_slist_append(gzip_headers, "Content-Encoding: gzip");
  if (plain_headers == nullptr || gzip_headers == nullptr) return make_error(Errc::io, "cannot build HTTP headers");

  CURLcode rc = CURLE_OK;
  auto set = [&rc](CURLcode result) {
    if (rc == CURLE_OK) rc = result;
  };
  set(curl_easy_setopt(curl, CURLOPT_URL, endpoint.c_str()));
  set(curl_easy_setopt(curl, CURLOPT_POST, 1L));
  // The gateway is multi-threaded: libcurl must not use signals (SIGALRM) for its timeouts.
  set(curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L));
  set(curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, loopback_http ? "http" : "https"));
  set(curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L));
  // Verification is always on; there is deliberately no option to turn it off.
  set(curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L));
  set(curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L));
  // TLS 1.2 or later; TLS 1.2 only with ECDHE and an AEAD cipher (kTls12Ciphers). TLS 1.3 keeps
  // OpenSSL's default suites, all of them AEAD.
  set(curl_easy_setopt(curl, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2)));
  set(curl_easy_setopt(curl, CURLOPT_SSL_CIPHER_LIST, crypto::kTls12Ciphers));
  if (!options.ca_file.empty()) {
    set(curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_file.c_str()));
    // libcurl also trusts its built-in CA directory (/etc/ssl/certs on Debian) unless told not to:
    // with a configured CA file, that file is the only trust anchor.
    set(curl_easy_setopt(curl, CURLOPT_CAPATH, static_cast<const char*>(nullptr)));
  }
  if (loopback_http) set(curl_easy_setopt(curl, CURLOPT_NOPROXY, "*"));
  set(curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count())));
  set(curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count())));
  set(curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L));
  set(curl_easy_setopt(curl, CURLOPT_USERAGENT, "kelvin-influx-writer"));
  set(curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &curl::keep_body));
  set(curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response));
  set(curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer));
  if (options.credentials) {
    // Sent preemptively with every request; never part of the URL, so never in endpoint logs.
    set(curl_easy_setopt(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC)));
    set(curl_easy_setopt(curl, CURLOPT_USERNAME, options.credentials->username.c_str()));
    set(curl_easy_setopt(curl, CURLOPT_PASSWORD, options.credentials->password.c_str()));
  }
  if (rc != CURLE_OK) return make_error(Errc::io, std::string("cannot configure libcurl: ") + curl_easy_strerror(rc));
  return {};
}

Writer::Writer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Writer::~Writer() = default;

Result<std::unique_ptr<Writer>> Writer::create(WriterOptions options) {
  if (auto ready = curl::ensure_initialised(); !ready) return std::move(ready).error();
  auto target = detail::write_target(options.url, options.database, options.retention_policy);
  if (!target) return std::move(target).error();
  if (options.timeout.count() <= 0) {
    return make_error(Errc::invalid_argument, "InfluxDB write timeout must be positive");
  }
  if (options.connect_timeout.count() <= 0) {
    return make_error(Errc::invalid_argument, "InfluxDB connect timeout must be positive");
  }
  if (!options.ca_file.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(options.ca_file, ec)) {
      return make_error(Errc::not_found,
                        "InfluxDB CA file " + options.ca_file.string() + " does not exist or is not a file");
    }
  }
  if (options.credentials && options.credentials->username.find(':') != std::string::npos) {
    return make_error(Errc::invalid_argument,
                      "InfluxDB username contains ':', which HTTP Basic authentication cannot carry");
  }

  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->endpoint = std::move(target->endpoint);
  if (auto configured = impl->configure(target->loopback_http); !configured) return std::move(configured).error();
  return std::unique_ptr<Writer>(new Writer(std::move(impl)));
}

const std::string& Writer::endpoint_for_logs() const {
  return impl_->endpoint;
}

WriteResult Writer::write(std::string_view lines) {
  if (lines.empty()) return WriteResult{WriteStatus::written, 0, {}};
  Impl& w = *impl_;

  std::string compressed;
  std::string_view body = lines;
  curl_slist* headers = w.plain_headers;
  if (w.options.gzip_body) {
    // zlib fails only when out of memory; sending the body uncompressed still delivers the data.
    if (auto zipped = gzip(lines)) {
      compressed = std::move(zipped).value();
      body = compressed;
      headers = w.gzip_headers;
    }
  }
  // POSTFIELDS is not copied: `body` outlives curl_easy_perform below, which is all that uses it.
  curl_easy_setopt(w.curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(w.curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(w.curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  w.response.clear();
  w.error_buffer[0] = '\0';

  const CURLcode rc = curl_easy_perform(w.curl);
  if (rc != CURLE_OK) {
    const char* what = w.error_buffer[0] != '\0' ? w.error_buffer : curl_easy_strerror(rc);
    return WriteResult{status_for_transport(rc), 0, detail::one_line(what, w.secret())};
  }

  long http_status = 0;
  curl_easy_getinfo(w.curl, CURLINFO_RESPONSE_CODE, &http_status);
  const WriteStatus status = status_for_http(http_status);
  if (status == WriteStatus::written) return WriteResult{status, http_status, {}};

  std::string message;
  if (http_status >= 300 && http_status < 400) {
    message = "HTTP " + std::to_string(http_status) +
              " redirect, not followed; set the InfluxDB url to the address it redirects to";
  } else {
    message = detail::server_message(w.response, w.secret());
    if (message.empty()) message = "HTTP " + std::to_string(http_status) + " without an error text";
  }
  return WriteResult{status, http_status, std::move(message)};
}

}  // namespace kelvin::influx
