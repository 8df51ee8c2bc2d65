#include "kelvin/linux_port/https_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <string_view>
#include <system_error>
#include <utility>

#include "kelvin/crypto/tls_policy.hpp"
#include "kelvin/curl/curl_support.hpp"

namespace kelvin::linux_port {
namespace {

bool field_named(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != std::tolower(static_cast<unsigned char>(name[i]))) {
      return false;
    }
  }
  return true;
}

// Retry-After as delta-seconds (RFC 9110 10.2.3); the HTTP-date form is ignored.
std::optional<std::int64_t> parse_retry_after(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() &&
         (value.back() == ' ' || value.back() == '\t' || value.back() == '\r' || value.back() == '\n')) {
    value.remove_suffix(1);
  }
  std::int64_t seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) return std::nullopt;
  return seconds;
}

size_t collect_header(char* data, size_t size, size_t count, void* user) {
  auto* retry_after = static_cast<std::optional<std::int64_t>*>(user);
  const std::string_view line(data, size * count);
  // A status line starts each response (also an interim "100 Continue"): only the last counts.
  if (line.starts_with("HTTP/")) retry_after->reset();
  if (field_named(line, "retry-after")) *retry_after = parse_retry_after(line.substr(sizeof("retry-after")));
  return size * count;
}

Errc errc_for(CURLcode code) {
  if (code == CURLE_OPERATION_TIMEDOUT) return Errc::timed_out;
  if (curl::is_tls_failure(code)) return Errc::crypto;
  // Refused, reset, DNS, a TLS 1.3 alert read after the handshake (a revoked certificate shows as
  // a receive error there: the message says which).
  return Errc::io;
}

Result<void> check_file(const std::filesystem::path& file, std::string_view what) {
  std::error_code ec;
  if (file.empty() || !std::filesystem::is_regular_file(file, ec)) {
    return make_error(Errc::not_found, std::string(what) + " " + file.string() + " does not exist or is not a file");
  }
  return {};
}

}  // namespace

struct HttpsClient::Impl {
  HttpsClientOptions options;
  std::string base_url;
  CURLM* multi = nullptr;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  bool running = false;  // `easy` is added to `multi`
  HttpsRequest request;  // the one running: libcurl reads the URL and body from here
  std::string url;
  std::string answer_body;
  std::optional<std::int64_t> retry_after_s;
  char error_buffer[CURL_ERROR_SIZE] = {};

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (running) curl_multi_remove_handle(multi, easy);
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (multi != nullptr) curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
  }

  Result<void> configure();
  void finish_running() {
    curl_multi_remove_handle(multi, easy);
    running = false;
  }
};

Result<void> HttpsClient::Impl::configure() {
  multi = curl_multi_init();
  easy = curl_easy_init();
  if (multi == nullptr || easy == nullptr)
    return make_error(Errc::io, "cannot create libcurl handles (out of memory?)");
  // "Expect:" stops libcurl from waiting for "100 Continue" before sending a larger body.
  for (const char* header : {"Content-Type: application/json", "Accept: application/json", "Expect:"}) {
    headers = curl_slist_append(headers, header);
    if (headers == nullptr) return make_error(Errc::io, "cannot build HTTP headers");
  }

  CURLcode rc = CURLE_OK;
  auto set = [&rc](CURLcode result) {
    if (rc == CURLE_OK) rc = result;
  };
  // The agent may run threads of its own: libcurl must not use signals (SIGALRM) for timeouts.
  set(curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L));
  set(curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "https"));
  set(curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L));
  set(curl_easy_setopt(easy, CURLOPT_PROXY, ""));  // never a proxy from the environment
  // Verification is always on; there is deliberately no option to turn it off.
  set(curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L));
  set(curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L));
  set(curl_easy_setopt(easy, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2)));
  set(curl_easy_setopt(easy, CURLOPT_SSL_CIPHER_LIST, crypto::kTls12Ciphers));
  set(curl_easy_setopt(easy, CURLOPT_CAINFO, options.ca_file.c_str()));
  // libcurl also trusts its built-in CA directory (/etc/ssl/certs on Debian) unless told not to:
  // the installation's CA is the only trust anchor.
  set(curl_easy_setopt(easy, CURLOPT_CAPATH, static_cast<const char*>(nullptr)));
  set(curl_easy_setopt(easy, CURLOPT_SSLCERT, options.cert_file.c_str()));
  set(curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM"));
  set(curl_easy_setopt(easy, CURLOPT_SSLKEY, options.key_file.c_str()));
  set(curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM"));
  set(curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options.request_timeout.count())));
  set(curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count())));
  set(curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L));
  set(curl_easy_setopt(easy, CURLOPT_USERAGENT, "kelvin-agent"));
  set(curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers));
  set(curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &curl::keep_body));
  set(curl_easy_setopt(easy, CURLOPT_WRITEDATA, &answer_body));
  set(curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &collect_header));
  set(curl_easy_setopt(easy, CURLOPT_HEADERDATA, &retry_after_s));
  set(curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer));
  if (rc != CURLE_OK) return make_error(Errc::io, std::string("cannot configure libcurl: ") + curl_easy_strerror(rc));
  return {};
}

HttpsClient::HttpsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpsClient::~HttpsClient() = default;

Result<std::unique_ptr<HttpsClient>> HttpsClient::create(HttpsClientOptions options) {
  if (options.host.empty()) return make_error(Errc::invalid_argument, "the gateway's HTTPS host is empty");
  if (options.connect_timeout.count() <= 0 || options.request_timeout.count() <= 0) {
    return make_error(Errc::invalid_argument, "HTTPS timeouts must be positive");
  }
  if (auto r = check_file(options.ca_file, "CA file"); !r) return std::move(r).error();
  if (auto r = check_file(options.cert_file, "certificate file"); !r) return std::move(r).error();
  if (auto r = check_file(options.key_file, "key file"); !r) return std::move(r).error();
  if (auto ready = curl::ensure_initialised(); !ready) return std::move(ready).error();

  auto impl = std::make_unique<Impl>();
  // An IPv6 address goes in brackets.
  const bool ipv6 = options.host.find(':') != std::string::npos;
  impl->base_url = "https://" + (ipv6 ? "[" + options.host + "]" : options.host) + ":" + std::to_string(options.port);
  impl->options = std::move(options);
  if (auto configured = impl->configure(); !configured) return std::move(configured).error();
  return std::unique_ptr<HttpsClient>(new HttpsClient(std::move(impl)));
}

const std::string& HttpsClient::base_url() const {
  return impl_->base_url;
}

bool HttpsClient::busy() const {
  return impl_->running;
}

Result<void> HttpsClient::start(HttpsRequest request) {
  Impl& c = *impl_;
  if (c.running) return make_error(Errc::conflict, "an HTTPS request is already running");
  c.request = std::move(request);
  c.url = c.base_url + c.request.path;
  c.answer_body.clear();
  c.retry_after_s.reset();
  c.error_buffer[0] = '\0';
  CURLcode rc = curl_easy_setopt(c.easy, CURLOPT_URL, c.url.c_str());
  if (c.request.method == "GET") {
    // HTTPGET undoes a previous request's POSTFIELDS; RANGE (not copied either) asks for bytes.
    if (rc == CURLE_OK) rc = curl_easy_setopt(c.easy, CURLOPT_HTTPGET, 1L);
    if (rc == CURLE_OK) rc = curl_easy_setopt(c.easy, CURLOPT_CUSTOMREQUEST, static_cast<const char*>(nullptr));
  } else {
    // POSTFIELDS is not copied: c.request outlives the transfer. With CUSTOMREQUEST the same body
    // goes with PUT.
    if (rc == CURLE_OK) rc = curl_easy_setopt(c.easy, CURLOPT_POSTFIELDS, c.request.body.data());
    if (rc == CURLE_OK) {
      rc = curl_easy_setopt(c.easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(c.request.body.size()));
    }
    if (rc == CURLE_OK) {
      rc = curl_easy_setopt(c.easy, CURLOPT_CUSTOMREQUEST,
                            c.request.method == "POST" ? nullptr : c.request.method.c_str());
    }
  }
  if (rc == CURLE_OK) {
    rc = curl_easy_setopt(c.easy, CURLOPT_RANGE, c.request.range.empty() ? nullptr : c.request.range.c_str());
  }
  if (rc != CURLE_OK) return make_error(Errc::io, std::string("cannot set up the request: ") + curl_easy_strerror(rc));
  if (CURLMcode added = curl_multi_add_handle(c.multi, c.easy); added != CURLM_OK) {
    return make_error(Errc::io, std::string("cannot start the request: ") + curl_multi_strerror(added));
  }
  c.running = true;
  return {};
}

std::optional<Result<HttpsAnswer>> HttpsClient::poll(std::int64_t wait_ms) {
  Impl& c = *impl_;
  if (!c.running) return std::nullopt;
  auto finished = [&c]() -> std::optional<Result<HttpsAnswer>> {
    int running_handles = 0;
    if (CURLMcode rc = curl_multi_perform(c.multi, &running_handles); rc != CURLM_OK) {
      c.finish_running();
      return Result<HttpsAnswer>(make_error(Errc::io, std::string("HTTPS client failed: ") + curl_multi_strerror(rc)));
    }
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(c.multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      const CURLcode result = message->data.result;
      c.finish_running();
      if (result != CURLE_OK) {
        const char* what = c.error_buffer[0] != '\0' ? c.error_buffer : curl_easy_strerror(result);
        return Result<HttpsAnswer>(make_error(errc_for(result), c.url + ": " + what));
      }
      HttpsAnswer answer;
      curl_easy_getinfo(c.easy, CURLINFO_RESPONSE_CODE, &answer.status);
      answer.body = std::move(c.answer_body);
      answer.retry_after_s = c.retry_after_s;
      return Result<HttpsAnswer>(std::move(answer));
    }
    return std::nullopt;
  };
  if (auto done = finished()) return done;
  if (wait_ms <= 0) return std::nullopt;
  // Sleeps until the socket has something or libcurl's own timers are due, at most wait_ms.
  curl_multi_poll(c.multi, nullptr, 0, static_cast<int>(std::min<std::int64_t>(wait_ms, INT_MAX)), nullptr);
  return finished();
}

void HttpsClient::abandon() {
  Impl& c = *impl_;
  if (!c.running) return;
  // libcurl halts the transfer and closes its connection, which cannot carry another exchange.
  c.finish_running();
}

Result<HttpsAnswer> exchange(HttpsChannel& channel, HttpsRequest request, const std::atomic<bool>* stop) {
  if (auto started = channel.start(std::move(request)); !started) return std::move(started).error();
  for (;;) {
    if (stop && stop->load()) {
      channel.abandon();
      return make_error(Errc::timed_out, "stopped before the gateway answered");
    }
    if (auto done = channel.poll(500)) return std::move(*done);
  }
}

}  // namespace kelvin::linux_port
