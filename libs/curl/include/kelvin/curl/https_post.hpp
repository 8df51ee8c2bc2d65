#pragma once
// One HTTPS POST and its answer, for senders that talk to a URL someone configured (webhooks):
// a blocking call that keeps nothing between calls. Free of libcurl's header.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "kelvin/core/result.hpp"

namespace kelvin::curl {

struct HttpsPostOptions {
  // The trust anchor (PEM), then the only one; empty: the system's CAs. Verification of the
  // server's certificate and name is never off.
  std::filesystem::path ca_file{};
  // The whole exchange: connecting, TLS, sending and reading the answer. Must be positive.
  std::chrono::milliseconds timeout{10'000};
};

struct HttpsPostAnswer {
  long status = 0;     // the HTTP status
  std::string body{};  // the answer's body, at most kMaxKeptBodyBytes (curl_support.hpp)
};

// POSTs `body` to `url` with `headers` ("Name: value" lines) and "Content-Type: application/json"
// unless `headers` set a Content-Type.
//
// https:// only: any other scheme is refused, also in a redirect; redirects are not followed (a
// 3xx comes back as the answer). TLS as everywhere in kelvin: TLS 1.2 or later, kTls12Ciphers
// (kelvin/crypto/tls_policy.hpp). Proxies come from the environment (https_proxy, no_proxy) as
// libcurl reads them; TLS runs end to end through one.
//
// One request per call on a new connection (no state kept between calls); thread-safe, each call
// has its own libcurl handle. Blocks for up to options.timeout.
//
// An answer with any status is a success of the exchange. Errors:
// - Errc::invalid_argument, before any connection: a URL that is not https:// or that libcurl
//   cannot parse, a header line without "Name:" or with CR, LF or NUL, a timeout not positive;
// - Errc::not_found: options.ca_file is set but not a file;
// - Errc::io: no answer came (refused, reset, DNS, timeout, the certificate not verified): libcurl's
//   message, starting "TLS: " when curl::is_tls_failure says TLS failed. Messages never repeat the
//   URL's path or query, nor the headers: webhook URLs and headers often carry secrets.
Result<HttpsPostAnswer> https_post(const std::string& url, const std::string& body,
                                   const std::vector<std::string>& headers, const HttpsPostOptions& options);

}  // namespace kelvin::curl
