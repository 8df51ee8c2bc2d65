#pragma once
// The benchmarks' HTTPS client (libcurl, one easy handle per client): make bench-query asks the
// gateway's API and InfluxDB with it, make bench-ingest's https mode posts devices' telemetry.
//
// By default a client keeps its connection alive: every request after the first reuses it, so a
// request's time is the server's answer over an open TLS connection, not a handshake or a process
// start. TLS is always verified, against the given CA only (never the system's), and the host name
// is pinned to 127.0.0.1: nothing else is ever contacted.
//
// A client is used either on its own (get, post: one blocking request) or, for many clients at
// once on one thread, through an HttpsClientGroup (prepare_get or prepare_post, then the group's
// start and wait_for_answers). Neither is thread-safe: a client and its group belong to one thread.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kelvin::bench {

struct HttpsClientOptions {
  std::string host = "localhost";  // the name the server's certificate holds
  int port = 0;
  std::filesystem::path ca_file;
  // HTTP Basic credentials (InfluxDB), or none.
  std::optional<std::string> username;
  std::optional<std::string> password;
  bool keep_cookies = false;  // remember cookies the server sets (the gateway's session)
  // A client certificate and its key (PEM; a device's), presented in every handshake; or none.
  std::optional<std::filesystem::path> certificate_file;
  std::optional<std::filesystem::path> key_file;
  // false: every request on a connection of its own, closed after the answer, with a full TLS
  // handshake (no session resumption either), as a device that keeps nothing between readings.
  bool keep_alive = true;
  long timeout_seconds = 300;  // a request's, connection included
  // The loopback address the client connects from (any of 127.0.0.0/8), or the kernel's choice
  // (127.0.0.1). Many clients on one host look like many devices to a server that limits
  // connections per client address (the gateway's [http] max_connections_per_address).
  std::optional<std::string> local_address;
};

struct HttpsAnswer {
  long status = 0;  // 0 when no answer came (see error)
  std::string body;
  double seconds = 0;           // from sending the request to the last byte of the answer
  std::string error;            // libcurl's, when no answer came
  bool new_connection = false;  // a connection had to be opened for it
};

class HttpsClient {
 public:
  // Requires kelvin::curl::ensure_initialised() to have succeeded.
  explicit HttpsClient(HttpsClientOptions options);
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  // `target` is the path and query, e.g. "/api/v1/health".
  HttpsAnswer get(const std::string& target);
  // `content_type` such as "application/json" or "application/x-www-form-urlencoded".
  HttpsAnswer post(const std::string& target, const std::string& content_type, const std::string& body);

  // Sets up a GET (no body, no extra headers) for an HttpsClientGroup to start; with `range`
  // ("first-last", bytes, inclusive) a Range request for those bytes.
  void prepare_get(const std::string& range = "");
  // Sets up a POST for an HttpsClientGroup to start (the body is copied).
  void prepare_post(const std::string& content_type, const std::string& body);

  // Percent-encodes a query parameter's value.
  std::string escape(const std::string& text);

  // Connections opened so far: 1 when every request reused the first.
  std::uint64_t connections_opened() const { return connections_; }

 private:
  friend class HttpsClientGroup;

  // The two halves of a request, whoever performs it: begin() aims the prepared request at its
  // target and starts the clock; finish() takes the answer once libcurl is done (`curl_code`, a
  // CURLcode, says how).
  void begin(const std::string& target);
  HttpsAnswer finish(int curl_code);
  HttpsAnswer perform(const std::string& target);

  struct Handle;
  std::unique_ptr<Handle> handle_;
  HttpsClientOptions options_;
  std::uint64_t connections_ = 0;
  HttpsAnswer answer_;  // the request's answer as it arrives
  std::chrono::steady_clock::time_point started_;
};

// Many clients' requests in flight at once, driven by the calling thread (a libcurl multi handle).
// Each client keeps its own connection: libcurl only reuses a connection for a client whose TLS
// settings (client certificate included) are the same, and a kept-alive one is reused by its own
// client's next request.
class HttpsClientGroup {
 public:
  HttpsClientGroup();
  ~HttpsClientGroup();
  HttpsClientGroup(const HttpsClientGroup&) = delete;
  HttpsClientGroup& operator=(const HttpsClientGroup&) = delete;

  // Starts the request `client` prepared (prepare_get, prepare_post) on `target`. Until wait_for_answers
  // returned its answer, the client must not be used otherwise, and must outlive the group's
  // use of it. False when the request could not be started (nothing is in flight then).
  bool start(HttpsClient& client, const std::string& target);

  // Moves every request on, waiting up to `timeout` for something to happen, and returns the
  // requests that ended with their clients (their answers' time includes any wait for this call).
  std::vector<std::pair<HttpsClient*, HttpsAnswer>> wait_for_answers(std::chrono::milliseconds timeout);

  // Requests started and not yet returned.
  std::size_t in_flight() const { return in_flight_; }

 private:
  struct Multi;
  std::unique_ptr<Multi> multi_;
  std::size_t in_flight_ = 0;
};

}  // namespace kelvin::bench
