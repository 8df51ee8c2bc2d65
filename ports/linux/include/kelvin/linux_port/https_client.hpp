#pragma once
// The agent's HTTPS client for the gateway's device routes (transport = "https", docs/agent.md):
// one request at a time over one kept-alive connection, with the device's client certificate,
// the installation's CA as the only trust anchor and verification always on (TLS 1.2 or later,
// kelvin's TLS 1.2 suites: crypto/tls_policy.hpp). It never blocks for longer than the caller
// allows: start() sends, poll() moves the exchange on for at most the time given, so the agent's
// loop keeps taking readings and stops promptly while a request is on the wire.
//
// libcurl does the work (the multi interface, one easy handle kept for the connection's reuse);
// its headers stay in the .cpp. No proxy is used, whatever the environment says: the device talks
// to its gateway directly, as over MQTT.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "kelvin/core/result.hpp"

namespace kelvin::linux_port {

struct HttpsRequest {
  std::string method;      // "POST", "PUT", "GET"
  std::string path;        // from the root, e.g. "/api/v1/devices/sensor-01/telemetry"
  std::string body;        // sent as application/json (not with GET)
  std::string range = {};  // GET only: "first-last" asks for those bytes (Range: bytes=first-last); "" all
};

struct HttpsAnswer {
  long status = 0;   // the HTTP status code
  std::string body;  // its first 64 KiB (curl::kMaxKeptBodyBytes; the gateway's answers are smaller, images are
                     // fetched in ranges of that size)
  // A Retry-After in seconds, when the answer carried one in that form (not as a date).
  std::optional<std::int64_t> retry_after_s;
};

// One exchange at a time with an HTTPS server; HttpsClient is the real one, tests drive the agent's
// HTTPS link (https_link.hpp) through fakes.
class HttpsChannel {
 public:
  virtual ~HttpsChannel() = default;
  // Starts `request`. Precondition: !busy(). An error means nothing was started.
  virtual Result<void> start(HttpsRequest request) = 0;
  // Whether a request was started and has not ended yet.
  virtual bool busy() const = 0;
  // Moves the request on, waiting at most wait_ms (0: only what is ready now). nullopt while it
  // is still running (or when none is); once it ended: the answer, whatever its status, or an
  // Error when there is none: Errc::timed_out (connect or request timeout), Errc::crypto (TLS:
  // handshake refused, certificate not trusted or revoked), Errc::io (refused, reset, DNS, ...).
  // Then busy() is false.
  virtual std::optional<Result<HttpsAnswer>> poll(std::int64_t wait_ms) = 0;
  // Drops the request in progress, if any, and its connection.
  virtual void abandon() = 0;
};

// Runs `request` on `channel` to its end (the channel's timeouts bound it). When `stop` is given,
// gives up within half a second of it becoming true: the request is abandoned and the answer is
// Errc::timed_out, "stopped before the gateway answered".
Result<HttpsAnswer> exchange(HttpsChannel& channel, HttpsRequest request, const std::atomic<bool>* stop = nullptr);

struct HttpsClientOptions {
  std::string host;  // must match the server's certificate (a DNS name or an IP address)
  std::uint16_t port = 8443;
  std::filesystem::path ca_file;                      // the only trust anchor
  std::filesystem::path cert_file;                    // the client certificate (PEM)
  std::filesystem::path key_file;                     // its private key (PEM)
  std::chrono::milliseconds connect_timeout{10'000};  // TCP and TLS handshake
  std::chrono::milliseconds request_timeout{30'000};  // the whole exchange, connection included
};

class HttpsClient final : public HttpsChannel {
 public:
  // Checks the options (files exist, timeouts positive, a host) and sets libcurl up; connects
  // with the first request. Errc::invalid_argument / not_found for bad options, Errc::io when
  // libcurl cannot be initialised.
  static Result<std::unique_ptr<HttpsClient>> create(HttpsClientOptions options);
  ~HttpsClient() override;
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  Result<void> start(HttpsRequest request) override;
  bool busy() const override;
  std::optional<Result<HttpsAnswer>> poll(std::int64_t wait_ms) override;
  void abandon() override;

  // "https://host:port", for logs.
  const std::string& base_url() const;

  struct Impl;

 private:
  explicit HttpsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kelvin::linux_port
