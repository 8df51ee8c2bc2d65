#include "installation.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "kelvin/store/alert_db.hpp"

namespace kelvin::testing {

namespace fs = std::filesystem;

bool exported_everything(store::Store& store, std::string_view exporter) {
  auto cursor = store.export_cursor(exporter);
  if (!cursor) return false;
  auto backlog = store.export_backlog(*cursor);
  return backlog && backlog->readings == 0;
}

Installation::Installation() : port_(free_tcp_port()) {
  fs::create_directories(state_dir());
  fs::permissions(state_dir(), fs::perms::owner_all);
  kelvinctl({"pki", "--dir", pki_dir().string(), "init"});
  // [http] comes before [broker], which stays last: tests append broker keys (peer_gateways).
  // The HTTPS server takes a free loopback port, reported in gateway-stats.json ("http"."port").
  std::ofstream(config_file()) << "state_dir = \"" << state_dir().string() << "\"\n"
                               << "[http]\n"
                               << "bind = \"127.0.0.1\"\n"
                               << "port = 0\n"
                               << "[broker]\n"
                               << "bind = \"127.0.0.1\"\n"
                               << "port = " << port_ << "\n"
                               << "host = \"localhost\"\n";
}

void Installation::add_http_setting(const std::string& line) {
  std::string config = read_text(config_file());
  const auto section = config.find("[http]\n");
  ASSERT_NE(section, std::string::npos) << config;
  config.insert(section + 7, line + "\n");
  std::ofstream(config_file(), std::ios::trunc) << config;
}

Installation::~Installation() {
  if (gateway_) gateway_->stop(SIGTERM, std::chrono::seconds(15));
}

CommandResult Installation::kelvinctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{project_binary("kelvinctl")};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult result = run_command(argv);
  EXPECT_EQ(result.exit_code, 0) << "kelvinctl failed:\n" << result.out << result.err;
  return result;
}

DeviceFiles Installation::device_files(const std::string& device_id) const {
  fs::path dir = pki_dir() / "devices" / device_id;
  return {pki_dir() / "ca.crt", dir / (device_id + ".crt"), dir / (device_id + ".key")};
}

DeviceFiles Installation::issue_device(const std::string& device_id) {
  kelvinctl({"pki", "--dir", pki_dir().string(), "issue", "device", device_id});
  return device_files(device_id);
}

void Installation::export_to_influx(const std::string& url, const fs::path& ca_file, const std::string& database,
                                    const std::string& username, const std::string& password,
                                    const std::vector<std::string>& extra_keys) {
  const fs::path credentials = root() / "influx.credentials";
  std::ofstream(credentials) << "username=" << username << "\npassword=" << password << "\n";
  fs::permissions(credentials, fs::perms::owner_read | fs::perms::owner_write);
  std::ofstream config(config_file(), std::ios::app);
  config << "[export.influxdb]\n"
         << "url = \"" << url << "\"\n"
         << "database = \"" << database << "\"\n"
         << "ca_file = \"" << ca_file.string() << "\"\n"
         << "credentials_file = \"" << credentials.string() << "\"\n";
  for (const auto& line : extra_keys) config << line << "\n";
}

void Installation::start_gateway(bool wait_until_connected) {
  ++gateway_starts_;
  fs::remove(state_dir() / "gateway-stats.json");
  gateway_ = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{project_binary("kelvin-gateway"), "--config", config_file().string()},
      root() / "gateway.log");
  if (!wait_until_connected) return;
  bool connected = wait_until(
      [this] {
        auto s = stats();
        return !s.is_null() && s.value("connected", 0) == 1;
      },
      std::chrono::seconds(40));
  ASSERT_TRUE(connected) << "gateway did not connect to its broker:\n" << gateway_log();
}

void Installation::stop_gateway(int signal) {
  ASSERT_TRUE(gateway_);
  auto code = gateway_->stop(signal, std::chrono::seconds(20));
  ASSERT_TRUE(code.has_value()) << "gateway did not stop";
  if (signal == SIGTERM) {
    EXPECT_EQ(*code, 0) << gateway_log();
  }
  // Its managed broker follows it (parent-death signal); wait until the port is free again.
  wait_until([this] { return !broker_pid() || ::kill(*broker_pid(), 0) != 0; }, std::chrono::seconds(10));
}

std::string Installation::gateway_log() const {
  return read_text(root() / "gateway.log");
}

nlohmann::json Installation::stats() const {
  std::string text = read_text(state_dir() / "gateway-stats.json");
  if (text.empty()) return nullptr;
  auto json = nlohmann::json::parse(text, nullptr, false);
  return json.is_discarded() ? nlohmann::json(nullptr) : json;
}

std::optional<int> Installation::broker_pid() const {
  auto s = stats();
  if (s.is_null() || !s.contains("broker_pid") || s["broker_pid"].get<int>() <= 0) return std::nullopt;
  return s["broker_pid"].get<int>();
}

std::optional<int> Installation::http_port() const {
  auto s = stats();
  if (s.is_null() || !s.contains("http") || s["http"].value("port", 0) <= 0) return std::nullopt;
  return s["http"]["port"].get<int>();
}

std::optional<int> Installation::await_http_port() const {
  std::optional<int> port;
  wait_until([&] { return (port = http_port()).has_value(); }, std::chrono::seconds(10));
  return port;
}

// The arguments every Mosquitto client program needs to connect as `files` (QoS 1).
std::vector<std::string> Installation::client_args(const char* program, const DeviceFiles& files) const {
  return {
      program, "-h",      "localhost", "-p", std::to_string(port_), "--cafile", files.ca.string(), "--cert", files.cert,
      "--key", files.key, "-q",        "1"};
}

CommandResult Installation::publish(const DeviceFiles& files, const std::string& topic, const std::string& payload,
                                    const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = client_args("mosquitto_pub", files);
  argv.insert(argv.end(), {"-t", topic, "-m", payload});
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  CommandOptions options;
  options.timeout = std::chrono::seconds(20);
  return run_command(argv, options);
}

CommandResult Installation::request(const DeviceFiles& files, const std::string& topic, const std::string& payload,
                                    const std::string& response_topic, int timeout_s) {
  std::vector<std::string> argv = client_args("mosquitto_rr", files);
  argv.insert(argv.end(), {"-v", "-t", topic, "-e", response_topic, "-m", payload, "-W", std::to_string(timeout_s)});
  CommandOptions options;
  options.timeout = std::chrono::seconds(timeout_s + 10);
  return run_command(argv, options);
}

std::unique_ptr<BackgroundProcess> Installation::subscribe(const DeviceFiles& files, const std::string& topic,
                                                           const fs::path& output,
                                                           const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = client_args("mosquitto_sub", files);
  argv.insert(argv.end(), {"-v", "-t", topic});
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  return std::make_unique<BackgroundProcess>(argv, output);
}

CommandResult Installation::tls_handshake(const DeviceFiles& files, const std::vector<std::string>& openssl_args) {
  std::vector<std::string> argv{"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port_)};
  argv.insert(argv.end(), {"-servername", "localhost", "-verify_hostname", "localhost", "-verify_return_error"});
  argv.insert(argv.end(), {"-CAfile", files.ca.string(), "-cert", files.cert.string(), "-key", files.key.string()});
  argv.insert(argv.end(), openssl_args.begin(), openssl_args.end());
  CommandOptions options;
  options.timeout = std::chrono::seconds(20);  // stdin is empty: s_client quits after the handshake
  return run_command(argv, options);
}

InfluxTls Installation::server_tls() const {
  return {pki_dir() / "server" / "server.crt", pki_dir() / "server" / "server.key", pki_dir() / "ca.crt"};
}

std::string Installation::alert_state(std::string_view rule) const {
  auto db = store::AlertDb::open(state_dir() / "alerts.db");
  if (!db) return "";
  auto listed = db->list();  // newest first
  if (!listed) return "";
  for (const auto& alert : *listed) {
    if (alert.rule == rule) return std::string(store::to_string(alert.state));
  }
  return "none";
}

store::Store Installation::open_store() const {
  auto opened = store::Store::open(state_dir() / "telemetry.db");
  if (!opened) throw std::runtime_error(opened.error().message);
  return std::move(*opened);
}

}  // namespace kelvin::testing
