#pragma once
// A complete kelvin installation for integration tests: a fresh PKI made by kelvinctl, a gateway
// config on an ephemeral loopback port, the real kelvin-gateway (with its managed Mosquitto), and
// helpers to talk to the broker as a device with Debian's mosquitto_pub / mosquitto_sub.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/store/store.hpp"
#include "kelvin/testing/background_process.hpp"
#include "kelvin/testing/influx_server.hpp"
#include "kelvin/testing/process.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::testing {

struct DeviceFiles {
  std::filesystem::path ca, cert, key;
};

class Installation {
 public:
  Installation();  // creates the PKI (kelvinctl pki init) and the gateway config; starts nothing
  ~Installation();

  const std::filesystem::path& root() const { return dir_.path(); }
  std::filesystem::path state_dir() const { return dir_ / "state"; }
  std::filesystem::path pki_dir() const { return state_dir() / "pki"; }
  std::filesystem::path config_file() const { return dir_ / "gateway.toml"; }
  int port() const { return port_; }

  // kelvinctl <args...>; fails the test on a non-zero exit.
  CommandResult kelvinctl(const std::vector<std::string>& args);
  DeviceFiles issue_device(const std::string& device_id);
  DeviceFiles device_files(const std::string& device_id) const;

  // Appends an [export.influxdb] section to gateway.toml (call before start_gateway) with the
  // credentials in a 0600 file beside it; `extra_keys` are more "key = value" lines of the section.
  void export_to_influx(const std::string& url, const std::filesystem::path& ca_file, const std::string& database,
                        const std::string& username, const std::string& password,
                        const std::vector<std::string>& extra_keys = {});

  // Adds "key = value" (`line`) to gateway.toml's [http] section; call before start_gateway.
  void add_http_setting(const std::string& line);

  // Starts kelvin-gateway and (by default) waits until its ingest is connected to the broker.
  void start_gateway(bool wait_until_connected = true);
  void stop_gateway(int signal);  // SIGTERM for a clean stop, SIGKILL for a crash
  BackgroundProcess& gateway() { return *gateway_; }
  std::string gateway_log() const;

  // The gateway's latest statistics (gateway-stats.json); null when not written yet.
  nlohmann::json stats() const;
  std::optional<int> broker_pid() const;
  // The HTTPS server's port (the config asks for an ephemeral one), from gateway-stats.json;
  // nullopt before the statistics show it.
  std::optional<int> http_port() const;
  // http_port() once the statistics show it, waiting up to 10 s; nullopt if they never do.
  std::optional<int> await_http_port() const;

  // mosquitto_pub as `files` (QoS 1) on localhost:port(); returns its result.
  CommandResult publish(const DeviceFiles& files, const std::string& topic, const std::string& payload,
                        const std::vector<std::string>& extra_args = {});
  // mosquitto_rr as `files`: subscribes to `response_topic`, publishes `payload` on `topic` (QoS 1)
  // on the same connection, prints the first message that arrives (-v: "topic payload"). This is
  // how a device sees its ack: publisher and subscriber share the one connection its CN allows.
  CommandResult request(const DeviceFiles& files, const std::string& topic, const std::string& payload,
                        const std::string& response_topic, int timeout_s = 10);
  // Starts mosquitto_sub as `files` on `topic`, printing "topic payload" lines into a log file.
  std::unique_ptr<BackgroundProcess> subscribe(const DeviceFiles& files, const std::string& topic,
                                               const std::filesystem::path& output,
                                               const std::vector<std::string>& extra_args = {});

  // openssl s_client as `files` to the broker on 127.0.0.1:port(), for host name localhost: verifies
  // the broker's certificate and name (an untrusted broker fails the handshake), completes the
  // handshake, prints the session (cipher, verify return code) on stdout and closes at once.
  // `openssl_args` choose the protocol and suites (-tls1_2 -cipher ..., -tls1_3). A TLS client
  // independent of kelvin's and Mosquitto's code, for checking what the broker accepts.
  CommandResult tls_handshake(const DeviceFiles& files, const std::vector<std::string>& openssl_args);

  // A second connection to the gateway's store (WAL: reading while the gateway writes is safe).
  store::Store open_store() const;
  // The state of the newest alert of `rule` in the gateway's alerts.db: "firing", "resolved", "none"
  // (never raised), or "" when the file cannot be read yet.
  std::string alert_state(std::string_view rule) const;

  // The installation's server certificate and CA, for an InfluxDB or VictoriaMetrics under test
  // (its certificate is valid for localhost).
  InfluxTls server_tls() const;

 private:
  std::vector<std::string> client_args(const char* program, const DeviceFiles& files) const;

  TempDir dir_;
  int port_;
  std::unique_ptr<BackgroundProcess> gateway_;
  int gateway_starts_ = 0;
};

// Whether the exporter's cursor, as the store itself has it (gateway-stats.json may be a second
// old), has passed every reading stored.
bool exported_everything(store::Store& store, std::string_view exporter = "influxdb");

}  // namespace kelvin::testing
