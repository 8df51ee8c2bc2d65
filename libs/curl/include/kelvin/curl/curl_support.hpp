#pragma once
// What every libcurl client in kelvin needs once (libs/influx's writer and the agent's HTTPS
// client in ports/linux may live in one process): a single process-wide initialisation, and a
// write callback that keeps a bounded part of an answer's body. Free of libcurl's header.

#include <cstddef>
#include <string>

#include "kelvin/core/result.hpp"

namespace kelvin::curl {

// curl_global_init, once per process whatever the number of callers and threads (it is not
// thread-safe itself); cleanup is left to process exit, since clients may outlive any owner it
// could be tied to. Errc::io when libcurl cannot initialise.
Result<void> ensure_initialised();

// The answers kelvin's clients read are short JSON or error texts; a longer body (a proxy's HTML
// page) is read to its end, so the connection stays usable for the next request, but only its
// first kMaxKeptBodyBytes are kept.
inline constexpr std::size_t kMaxKeptBodyBytes = 64 * 1024;

// A CURLOPT_WRITEFUNCTION whose CURLOPT_WRITEDATA is a std::string*: appends up to
// kMaxKeptBodyBytes in all and consumes everything.
std::size_t keep_body(char* data, std::size_t size, std::size_t count, void* body);

// Whether a libcurl result code (a CURLcode) says TLS failed: the peer's certificate did not
// verify, the handshake or the suites failed, or a TLS file or engine could not be used. Such a
// failure repeats until someone changes a certificate or a setting; other failures (refused,
// reset, DNS, timeout) may pass by themselves.
bool is_tls_failure(int curl_code);

}  // namespace kelvin::curl
