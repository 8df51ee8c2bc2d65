#include "write_url.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>

namespace kelvin::influx::detail {
namespace {

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlDeleter>;

std::optional<std::string> url_part(CURLU* url, CURLUPart which) {
  char* value = nullptr;
  if (curl_url_get(url, which, &value, 0) != CURLUE_OK || value == nullptr) return std::nullopt;
  std::string text(value);
  curl_free(value);
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

Error bad_url(std::string reason) {
  return make_error(Errc::invalid_argument, "InfluxDB url " + std::move(reason));
}

}  // namespace

bool is_loopback_host(std::string_view host) {
  if (iequals(host, "localhost")) return true;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string text(host);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0f]);
    }
  }
  return out;
}

Result<WriteTarget> write_target(std::string_view base_url, std::string_view database,
                                 std::string_view retention_policy) {
  if (base_url.empty()) return bad_url("is empty; set it to e.g. https://influx.example:8086");
  // Checked on the raw text: even an empty "?" or "#" would end up in front of "/write".
  if (base_url.find_first_of("?#") != std::string_view::npos) {
    return bad_url("must not contain a query or fragment ('?' or '#'); the writer adds db, rp and precision itself");
  }
  UrlHandle url(curl_url());
  if (!url) return make_error(Errc::io, "cannot parse the InfluxDB url: libcurl is out of memory");
  const std::string text(base_url);
  if (CURLUcode rc = curl_url_set(url.get(), CURLUPART_URL, text.c_str(), 0); rc != CURLUE_OK) {
    return bad_url(std::string("is not a valid URL (") + curl_url_strerror(rc) +
                   "); write it as https://host:port, optionally with a path prefix");
  }
  if (url_part(url.get(), CURLUPART_USER) || url_part(url.get(), CURLUPART_PASSWORD)) {
    return bad_url(
        "must not contain user info (user:password@); the credentials come from a credentials file or "
        "the environment");
  }
  const std::string scheme = url_part(url.get(), CURLUPART_SCHEME).value_or("");
  const std::string host = url_part(url.get(), CURLUPART_HOST).value_or("");
  WriteTarget target;
  if (scheme == "http") {
    if (!is_loopback_host(host)) {
      return bad_url("uses plain http to " + host +
                     ", which is not this machine: credentials and readings would cross the network in clear "
                     "text; use https:// (plain http is allowed only to localhost, 127.0.0.0/8 or ::1)");
    }
    target.loopback_http = true;
  } else if (scheme != "https") {
    return bad_url("has scheme \"" + scheme + "\"; use https://");
  }
  if (database.empty()) {
    return make_error(Errc::invalid_argument, "InfluxDB database is empty; set it to the database to write to");
  }

  std::string_view base = base_url;
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  target.endpoint = std::string(base) + "/write?db=" + url_encode(database) + "&precision=ms";
  if (!retention_policy.empty()) target.endpoint += "&rp=" + url_encode(retention_policy);
  return target;
}

}  // namespace kelvin::influx::detail
