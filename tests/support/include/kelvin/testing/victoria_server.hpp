#pragma once
// The real VictoriaMetrics single-node server (Debian's victoria-metrics) for integration tests:
// a second, independent implementation of the InfluxDB 1.x write API (POST /write, line protocol)
// to export to, read back with curl. Each VictoriaServer runs its own process in its own TempDir:
// HTTP API on 127.0.0.1 and an ephemeral port, storage in the temp dir (stop() + start() keeps
// it), retention long enough for any test timestamp, HTTPS when a certificate is given (-tls),
// HTTP basic auth when asked (-httpAuth.*; /health stays open). No other listener is enabled.
// It runs under `setpriv --pdeathsig KILL`, so it dies with the test even if the test crashes.
//
// How VictoriaMetrics maps a line-protocol point (see -influx* flags):
//   readings,device=sensor-01 temperature=21.5,humidity=40.2 1732200000123   (POST /write?db=kelvin&precision=ms)
// becomes one sample per field, named {measurement}_{field}, with the tags as labels plus the
// database as label "db" (only if ?db= is given):
//   readings_temperature{db="kelvin",device="sensor-01"} 21.5 @1732200000123
//   readings_humidity{db="kelvin",device="sensor-01"}    40.2 @1732200000123
// Without ?db= there is no "db" label. Timestamps keep millisecond resolution. Every value is a
// float: booleans become 1/0 and (in 1.79) a string field becomes a sample 0. Unlike InfluxDB, a
// point with the same series and timestamp does not overwrite: /api/v1/export returns both
// samples (queries deduplicate only with -dedup.minScrapeInterval), so count with care.

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kelvin/testing/background_process.hpp"
#include "kelvin/testing/influx_server.hpp"
#include "kelvin/testing/process.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::testing {

class VictoriaServer {
 public:
  // Starts victoria-metrics and returns when /health answers (at most ~30 s; past that, or if it
  // exits, ADD_FAILURE with its log). With `basic_auth`, every API call needs admin_user() /
  // admin_password() (random); without it, admin_user() is empty and nothing asks for credentials.
  explicit VictoriaServer(std::optional<InfluxTls> tls = std::nullopt, bool basic_auth = false);
  ~VictoriaServer();  // stops it (SIGTERM, SIGKILL after 10 s); the temp dir goes with it
  VictoriaServer(const VictoriaServer&) = delete;
  VictoriaServer& operator=(const VictoriaServer&) = delete;

  void stop();   // stops the process, keeping storage and port; no-op if stopped
  void start();  // starts again on the same port and storage, waits until ready; no-op if running

  int port() const { return port_; }
  // "https://localhost:<port>" with TLS, else "http://127.0.0.1:<port>". Influx clients write to url() + "/write".
  std::string url() const;
  const std::string& admin_user() const { return admin_user_; }
  const std::string& admin_password() const { return admin_password_; }

  // Runs `curl -sS --max-time 30 [--cacert <ca>] [-u admin] <args...>` and returns its result.
  CommandResult curl(const std::vector<std::string>& args) const;

  // Every sample of the series matching `selector` (e.g. `readings_temperature{device="d1"}` or
  // `{__name__=~"readings_.*"}`), all time, via GET /api/v1/export: one JSON object per series,
  // {"metric":{"__name__":..., labels...},"values":[...],"timestamps":[ms...]}. Flushes recent
  // writes first; even so a series seen for the first time can take a second or so to become
  // searchable (seen with 1.79), so poll with wait_until for what should be there. Failures are an
  // ADD_FAILURE.
  std::vector<nlohmann::json> export_series(const std::string& selector) const;
  // A PromQL instant query (GET /api/v1/query) at the current time; returns the parsed "data".
  nlohmann::json query(const std::string& promql) const;

  std::string log() const;  // victoria-metrics' output, across restarts

 private:
  bool wait_ready();
  void flush() const;

  TempDir dir_;  // declared first: removed only after the process has stopped
  std::optional<InfluxTls> tls_;
  int port_;
  std::string admin_user_;
  std::string admin_password_;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace kelvin::testing
