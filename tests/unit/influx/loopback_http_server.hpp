#pragma once
// A minimal HTTP/1.1 server on 127.0.0.1 for the writer's tests: it records the requests it gets
// and answers each with the next canned response, on as many connections as the client opens.
// Only what libcurl sends for a POST with a Content-Length body is understood.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace kelvin::influx::testing {

struct RecordedRequest {
  std::string method;
  std::string target;  // e.g. "/write?db=x&precision=ms"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The value of the header `name` (case-insensitive), if present.
  std::optional<std::string> header(std::string_view name) const;
};

struct CannedResponse {
  int status = 204;
  std::string body;
  // False: keep the connection open and answer nothing until the server is destroyed (a hung server).
  bool answer = true;
  // More header lines of the answer, e.g. {"Location", "http://..."} for a redirect.
  std::vector<std::pair<std::string, std::string>> headers = {};
};

class LoopbackHttpServer {
 public:
  explicit LoopbackHttpServer(std::vector<CannedResponse> responses);
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;
  ~LoopbackHttpServer();

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Waits until every canned response was sent (or 10 s passed), then returns what arrived.
  std::vector<RecordedRequest> requests();
  int connections_accepted();
  // How many requests arrived so far, without waiting (for "nothing arrived here" checks).
  std::size_t requests_received();

 private:
  void serve();
  // Serves one connection until the client closes it or the responses run out.
  void serve_connection(int fd);
  bool wait_readable(int fd);

  std::vector<CannedResponse> responses_;
  std::size_t next_response_ = 0;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<RecordedRequest> requests_;
  int connections_ = 0;
  std::thread thread_;
};

}  // namespace kelvin::influx::testing
