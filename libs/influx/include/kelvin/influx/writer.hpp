#pragma once
// The InfluxDB 1.x write client: POSTs line protocol to /write over HTTPS and says what the
// answer means for the caller (written, bad data, configuration problem, try again later).
// It neither retries nor splits batches: the exporter decides that from WriteStatus.
// libcurl is an implementation detail; no public header includes curl.h.

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"
#include "kelvin/influx/credentials.hpp"

namespace kelvin::influx {

struct WriterOptions {
  // Base URL, e.g. "https://influx.example:8086", optionally with a path prefix
  // ("https://host/influx" when behind a reverse proxy). No user info, query or fragment.
  std::string url;
  std::string database;                       // the "db" query parameter (URL-encoded by the writer)
  std::string retention_policy;               // the "rp" query parameter; empty = the database's default
  std::filesystem::path ca_file;              // the only trust anchor for https; empty = the system's trust store
  std::optional<Credentials> credentials;     // HTTP Basic auth (InfluxDB 1.x and VictoriaMetrics accept it)
  std::chrono::milliseconds timeout{10'000};  // the whole request, connect included
  std::chrono::milliseconds connect_timeout{5'000};
  bool gzip_body = true;  // send the body with Content-Encoding: gzip
};

enum class WriteStatus {
  written,       // 2xx (InfluxDB answers 204)
  bad_points,    // 400 (unparseable line, field type conflict, partial write), 413 too large, 422:
                 // the data is at fault; the caller bisects the batch to find the bad points
  unauthorized,  // 401/403: credentials wrong or lacking rights; a configuration problem, retry later
  not_found,     // 404: the database does not exist; a configuration problem, retry later
  unavailable,   // 5xx, 429, 408, connection refused/reset, DNS, timeout, and any answer not listed
                 // here: try again with backoff (never dropping data for an answer we do not know)
  tls_failure,   // certificate verification or TLS handshake failed: a configuration problem, retry later
};

std::string_view to_string(WriteStatus status);

struct WriteResult {
  WriteStatus status = WriteStatus::unavailable;
  long http_status = 0;  // 0 when no HTTP answer arrived
  // Empty when written. Otherwise one line of at most ~300 characters: the server's error text
  // (the "error" member of InfluxDB's JSON answer, else the raw body) or libcurl's description of
  // the transport failure. Never contains the credentials.
  std::string message;
};

// Not thread-safe: one thread at a time per Writer (the exporter owns one). Separate Writers may
// be used from separate threads.
class Writer {
 public:
  // Validates `options`:
  // - url starts with https://, or with http:// only when the host is loopback (localhost,
  //   127.0.0.0/8, ::1): elsewhere credentials and readings would cross the network in clear
  //   text. The url carries no user info (credentials come from WriterOptions::credentials),
  //   no query and no fragment;
  // - database non-empty; timeouts positive;
  // - ca_file, if set, exists (Errc::not_found otherwise).
  // Other failures: Errc::invalid_argument; Errc::io when libcurl cannot be set up.
  static Result<std::unique_ptr<Writer>> create(WriterOptions options);

  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer();

  // POSTs `lines` (line protocol, timestamps in ms) to {url}/write?db=..&precision=ms[&rp=..].
  // Blocks for at most options.timeout. The connection is kept alive between calls. Empty
  // `lines` is written trivially, without a request.
  // TLS is always verified (peer certificate and host name): TLS 1.3, or TLS 1.2 with the ECDHE
  // and AEAD suites of crypto::kTls12Ciphers (a server offering only CBC suites gives tls_failure);
  // redirects are not followed. With an https url, libcurl's standard proxy variables
  // (https_proxy, no_proxy) are honoured (the tunnel keeps TLS end to end); a loopback http url
  // never uses a proxy, which would carry the clear text off the host.
  WriteResult write(std::string_view lines);

  // The write URL without credentials (they are never in it), for log lines.
  const std::string& endpoint_for_logs() const;

 private:
  struct Impl;
  explicit Writer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kelvin::influx
