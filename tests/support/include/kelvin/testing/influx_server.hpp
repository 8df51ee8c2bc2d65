#pragma once
// The real InfluxDB 1.x server (Debian's influxd) for integration tests, and a curl-based client
// to check what reached it. Each InfluxServer runs its own influxd in its own TempDir:
//
//   - every listener on 127.0.0.1 and an ephemeral port: the HTTP API (port()) and the meta/RPC
//     service (which would otherwise take :8088 and collide between parallel tests);
//   - no usage reporting, no monitor database, no graphite/collectd/opentsdb/udp listeners;
//   - data, meta and WAL directories inside the temp dir, so stop() + start() keeps the data;
//   - HTTPS when a server certificate is given (the test's own PKI; clients verify it with
//     InfluxTls::ca_file, and nothing here ever switches verification off);
//   - authentication on, with one admin user (random password) created at the first start.
//
// influxd's log goes to a file in the temp dir (log()); failures to start or to query are
// reported with ADD_FAILURE and include the log or curl's output, so tests read like a spec.
// influxd runs under `setpriv --pdeathsig KILL`: it dies with the test even if the test crashes.

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kelvin/testing/background_process.hpp"
#include "kelvin/testing/process.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::testing {

struct InfluxTls {
  std::filesystem::path cert_file;  // the server's certificate (PEM), for host "localhost"
  std::filesystem::path key_file;   // its private key (PEM)
  std::filesystem::path ca_file;    // the CA that signed it: what curl trusts (--cacert)
};

class InfluxServer {
 public:
  // Writes the config and starts influxd; returns when it answers /ping and the admin user
  // exists (at most ~30 s; past that, or if influxd exits, ADD_FAILURE with its log).
  explicit InfluxServer(std::optional<InfluxTls> tls);
  ~InfluxServer();  // stops influxd (SIGTERM, SIGKILL after 10 s); the temp dir goes with it
  InfluxServer(const InfluxServer&) = delete;
  InfluxServer& operator=(const InfluxServer&) = delete;

  // Stops influxd (SIGTERM, SIGKILL after 10 s), keeping its data dir and port. No-op if stopped.
  void stop();
  // Starts it again on the same port and data dir and waits until it answers. No-op if running.
  void start();

  int port() const { return port_; }
  // "https://localhost:<port>" with TLS (the name the certificate is for), else "http://127.0.0.1:<port>".
  std::string url() const;
  const std::string& admin_user() const { return admin_user_; }
  const std::string& admin_password() const { return admin_password_; }
  const std::optional<InfluxTls>& tls() const { return tls_; }

  // Runs `curl -sS --max-time 30 [--cacert <ca>] <args...>` and returns its result; the caller
  // adds the URL, credentials (-u) and method. For tests that check what a client sees.
  CommandResult curl(const std::vector<std::string>& args) const;

  // Runs InfluxQL as the admin (POST /query, db=`database` unless empty, epoch=ms so times come
  // back as Unix milliseconds) and returns the parsed response. A curl failure, an HTTP error,
  // an {"error":...} answer or a statement's "error" is an ADD_FAILURE with the text.
  nlohmann::json query(const std::string& database, const std::string& influxql) const;
  void create_database(const std::string& name) const;
  // The "values" rows of the first series of the first result ([time_ms, columns...] each);
  // empty if there are none.
  std::vector<nlohmann::json> rows(const std::string& database, const std::string& influxql) const;
  // Writes line protocol as the admin (POST /write?db=..&precision=..); a non-204 is an ADD_FAILURE.
  void write(const std::string& database, const std::string& lines, const std::string& precision = "ms") const;

  std::string log() const;  // influxd's output, across restarts

 private:
  void write_config() const;
  bool wait_ready();
  CommandResult post_query(const std::string& database, const std::string& influxql, bool as_admin) const;

  TempDir dir_;  // declared first: removed only after influxd has stopped
  std::optional<InfluxTls> tls_;
  int port_;
  int meta_port_;
  std::string admin_user_ = "admin";
  std::string admin_password_;
  bool admin_created_ = false;
  std::unique_ptr<BackgroundProcess> process_;
};

// A random string of `length` lowercase hex digits (passwords for test servers).
std::string random_hex(std::size_t length);

}  // namespace kelvin::testing
