#pragma once
// Private to libs/influx: checking the configured base URL and building the /write URL from it.

#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"

namespace kelvin::influx::detail {

struct WriteTarget {
  std::string endpoint;        // {base}/write?db=..&precision=ms[&rp=..]
  bool loopback_http = false;  // plain http, allowed only because the host is this machine
};

// Checks `base_url` as Writer::create documents (https, or http to a loopback host; no user
// info, query or fragment) and a non-empty database, and builds the write endpoint. Error
// messages show the host at most, never the whole URL (it might carry a secret by mistake).
Result<WriteTarget> write_target(std::string_view base_url, std::string_view database,
                                 std::string_view retention_policy);

// True for "localhost", 127.0.0.0/8 and ::1 (with or without brackets): names libcurl connects to
// without leaving the machine (libcurl resolves "localhost" itself, never via DNS).
bool is_loopback_host(std::string_view host);

// Percent-encodes everything but RFC 3986 unreserved characters, for a query parameter value.
std::string url_encode(std::string_view text);

}  // namespace kelvin::influx::detail
