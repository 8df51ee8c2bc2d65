#pragma once
// kelvin's HTTPS server (Boost.Beast/Asio behind this header, which includes neither): HTTPS
// only, HTTP/1.1 with keep-alive, kelvin's TLS policy (crypto/tls_server.hpp), optional client
// certificates, hard limits on sizes, time and connections, graceful stop. Handlers see
// message.hpp's types only. docs/gateway.md, "HTTPS server", is the user's view of it.
//
// Per connection, in order, each step bounded:
//   accept        past max_connections, or past max_connections_per_address from the client's
//                 address, the connection is closed at once (connections_refused; the second
//                 also connections_refused_per_address)
//   handshake     handshake_timeout; a failure or timeout closes it (handshake_failures, timeouts;
//                 a failure is also told to handshake_failed)
//   request       request_timeout for the header and body together, from the first byte (from
//                 the handshake for the first request), so a client that trickles bytes is
//                 dropped (timeouts). Header over max_header_bytes → 431, malformed HTTP → 400,
//                 a target parse_target refuses → 400. Then admit_body, when set, decides from
//                 the head where the body goes (message.hpp, BodyAdmission): into memory under
//                 max_body_bytes, into a new file under the BodyToFile's size and time limits
//                 (in place of request_timeout), or nowhere: the request is refused unread with
//                 the Response it gave. A body over its limit → 413 (a Content-Length over it
//                 before the body is read). Each refusal closes the connection after answering.
//                 "Expect: 100-continue" is answered 100 once the head passed these checks.
//   handler       called on an I/O thread with the Request and a Responder; no timeout while the
//                 handler works (its own job), nothing else is read meanwhile.
//   response      written within request_timeout; then the next request, or close.
//   idle          between requests at most idle_timeout, then the connection is closed.
//   stream        a handler that answers with Responder::stream keeps the connection for as long
//                 as it sends: each chunk written within request_timeout, the stream's buffer
//                 bound, no idle timeout (the producer sends keep-alives); it ends with the
//                 connection (message.hpp, ResponseStream).
// Every response carries response_headers().

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"
#include "kelvin/http/message.hpp"

namespace kelvin::http {

enum class LogLevel { info, warn, error };
// Called with the server's own events ("listening on ...", a handler that threw), from any of its
// threads; the message names no component: the caller's log does.
using LogFunction = std::function<void(LogLevel, std::string_view)>;

struct ServerOptions {
  std::string bind_address = "0.0.0.0";    // an IPv4 or IPv6 address
  std::uint16_t port = 8443;               // 0: an ephemeral port (Server::port() tells which)
  std::filesystem::path certificate_file;  // the server's certificate chain (PEM)
  std::filesystem::path private_key_file;  // its key (PEM)
  // Optional client certificates: set both to request them (crypto::configure_tls_server).
  std::filesystem::path client_ca_file;
  std::filesystem::path client_crl_file;
  std::size_t max_header_bytes = 8 * 1024;  // request line and header fields
  std::uint64_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds request_timeout{15'000};  // header + body; also the response's write
  std::chrono::milliseconds idle_timeout{60'000};     // between requests on a kept-alive connection
  std::size_t max_connections = 1024;                 // open at once, any state
  // Open at once from one client address: one host cannot take every place. Devices behind one
  // NAT share an address, so it is generous.
  std::size_t max_connections_per_address = 256;
  int io_threads = 1;
  // stop(): how long requests in flight may take to be answered before connections are cut.
  std::chrono::milliseconds stop_grace{5'000};
  LogFunction log;  // unset: nothing is logged
  // Told of each TLS handshake that failed (not one that timed out): the client's address and
  // OpenSSL's reason ("certificate verify failed: certificate revoked", "no shared
  // cipher", "http request" for plain HTTP).
  // Called on an I/O thread; must not block. Unset: only counted (handshake_failures).
  std::function<void(const std::string& peer_address, const std::string& reason)> handshake_failed;
  // Where each request's body goes, from its head (see above); unset: every body into memory.
  // Router::admit_body is meant for it.
  AdmitBody admit_body;
};

// A consistent-enough snapshot (each field read atomically on its own).
struct ServerCounters {
  std::uint64_t connections_accepted = 0;             // taken on (not counting refused ones)
  std::uint64_t connections_refused = 0;              // closed at once: max_connections reached, or the address's
  std::uint64_t connections_refused_per_address = 0;  // of those: max_connections_per_address reached
  std::uint64_t connections_active = 0;               // open now
  std::uint64_t handshake_failures = 0;               // TLS handshakes that failed (not timed out)
  std::uint64_t timeouts = 0;                         // connections closed by a timeout (handshake, request, write)
  std::uint64_t requests = 0;                         // requests read completely or refused with a status
  std::uint64_t responses_2xx = 0;
  std::uint64_t responses_3xx = 0;
  std::uint64_t responses_4xx = 0;
  std::uint64_t responses_5xx = 0;
  std::uint64_t handler_exceptions = 0;  // handlers that threw (each answered 500 unless answered)
  std::uint64_t streams_opened = 0;      // streamed responses begun (Responder::stream)
  std::uint64_t streams_active = 0;      // streamed responses still being written
  std::uint64_t streams_overflowed = 0;  // closed because the client read too slowly (the stream's bound)
};

class Server {
 public:
  // Loads the TLS files, binds, listens and starts the I/O threads. `handler` is called for every
  // request that passed the checks above, on an I/O thread; it must not block for long (with one
  // I/O thread nothing else moves meanwhile): slow work goes elsewhere and answers later through
  // the Responder. Errors: Errc::crypto (TLS files), Errc::io (cannot bind or listen),
  // Errc::invalid_argument (an address that does not parse, zero limits or threads).
  static Result<std::unique_ptr<Server>> start(ServerOptions options, Handler handler);

  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const noexcept;  // the bound port
  ServerCounters counters() const noexcept;

  // Reads the TLS files again (a renewed CRL, a renewed certificate) for connections accepted from
  // now on; connections already open keep what they negotiated. On failure the old files stay in
  // force.
  Result<void> reload_tls();

  // Graceful stop: accepts nothing more, closes connections that are idle, handshaking or reading
  // a request, lets requests already handed to a handler be answered (and those connections then
  // closed) for up to stop_grace, then cuts what is left and joins the I/O threads. Idempotent;
  // callable from any thread but a handler's. A Responder called after stop() does nothing.
  void stop();

  class Impl;

 private:
  explicit Server(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace kelvin::http
