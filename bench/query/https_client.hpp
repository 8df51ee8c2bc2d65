#pragma once
// A keep-alive HTTPS client for the measurement (libcurl, one easy handle): every request after
// the first reuses the connection, so a request's time is the server's answer over an open TLS
// connection, not a handshake or a process start. TLS is verified against the given CA only, and
// the host name is pinned to 127.0.0.1 (nothing else is ever contacted).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace kelvin::bench {

struct HttpsClientOptions {
  std::string host = "localhost";  // the name the server's certificate holds
  int port = 0;
  std::filesystem::path ca_file;
  // HTTP Basic credentials (InfluxDB), or none.
  std::optional<std::string> username;
  std::optional<std::string> password;
  bool keep_cookies = false;  // remember cookies the server sets (the gateway's session)
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

  // Percent-encodes a query parameter's value.
  std::string escape(const std::string& text);

  // Connections opened so far: 1 when every request reused the first.
  std::uint64_t connections_opened() const { return connections_; }

 private:
  HttpsAnswer perform(const std::string& target);

  struct Handle;
  std::unique_ptr<Handle> handle_;
  HttpsClientOptions options_;
  std::uint64_t connections_ = 0;
};

}  // namespace kelvin::bench
