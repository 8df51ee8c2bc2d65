#include "kelvin/testing/influx_server.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <random>

namespace kelvin::testing {

namespace {

constexpr auto kReadyTimeout = std::chrono::seconds(30);
constexpr auto kStopTimeout = std::chrono::seconds(10);

// curl's exit code when --fail-with-body saw an HTTP error (the body is still printed).
constexpr int kCurlHttpError = 22;

}  // namespace

std::string random_hex(std::size_t length) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::random_device device;
  std::uniform_int_distribution<int> digit(0, 15);
  std::string out;
  for (std::size_t i = 0; i < length; ++i) out += kDigits[digit(device)];
  return out;
}

InfluxServer::InfluxServer(std::optional<InfluxTls> tls)
    : tls_(std::move(tls)), port_(free_tcp_port()), meta_port_(free_tcp_port()), admin_password_(random_hex(24)) {
  while (meta_port_ == port_) meta_port_ = free_tcp_port();
  write_config();
  start();
}

InfluxServer::~InfluxServer() {
  stop();
}

std::string InfluxServer::url() const {
  return (tls_ ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(port_);
}

// Keys as influxd 1.6 reads them (`influxd config -config <file>` prints the merged result).
void InfluxServer::write_config() const {
  std::ofstream config(dir_ / "influxdb.conf");
  // Usage reporting: upstream calls the key reporting-disabled, Debian's build reporting-enabled
  // (default false there); influxd ignores the one it does not know, so both are written.
  config << "reporting-disabled = true\n"
         << "reporting-enabled = false\n"
         << "bind-address = \"127.0.0.1:" << meta_port_ << "\"\n"  // the RPC/meta service, default :8088
         << "[meta]\n"
         << "  dir = \"" << (dir_ / "meta").string() << "\"\n"
         << "  logging-enabled = false\n"
         << "[data]\n"
         << "  dir = \"" << (dir_ / "data").string() << "\"\n"
         << "  wal-dir = \"" << (dir_ / "wal").string() << "\"\n"
         << "  query-log-enabled = false\n"
         << "[monitor]\n"
         << "  store-enabled = false\n"  // no _internal database
         << "[subscriber]\n"
         << "  enabled = false\n"
         << "[continuous_queries]\n"
         << "  enabled = false\n"
         << "[http]\n"
         << "  enabled = true\n"
         << "  bind-address = \"127.0.0.1:" << port_ << "\"\n"
         << "  auth-enabled = true\n"
         << "  log-enabled = false\n"  // no access log per request
         << "  pprof-enabled = false\n";
  if (tls_) {
    config << "  https-enabled = true\n"
           << "  https-certificate = \"" << tls_->cert_file.string() << "\"\n"
           << "  https-private-key = \"" << tls_->key_file.string() << "\"\n";
  }
  // graphite, collectd, opentsdb and udp are off unless configured; none is.
  config << "[logging]\n"
         << "  level = \"warn\"\n"
         << "  suppress-logo = true\n";
}

void InfluxServer::start() {
  if (process_) return;
  process_ =
      std::make_unique<BackgroundProcess>(std::vector<std::string>{"setpriv", "--pdeathsig", "KILL", "influxd", "run",
                                                                   "-config", (dir_ / "influxdb.conf").string()},
                                          dir_ / "influxd.log");
  if (!wait_ready() || admin_created_) return;
  // Allowed without credentials only while no user exists.
  auto created = post_query(
      "", "CREATE USER \"" + admin_user_ + "\" WITH PASSWORD '" + admin_password_ + "' WITH ALL PRIVILEGES", false);
  if (created.exit_code != 0 || created.out.find("\"error\"") != std::string::npos) {
    ADD_FAILURE() << "cannot create the InfluxDB admin user:\n" << created.out << created.err << "\n" << log();
    return;
  }
  admin_created_ = true;
}

bool InfluxServer::wait_ready() {
  bool ready = wait_until(
      [this] {
        if (!process_->running()) return true;  // reported below
        auto ping = curl({"-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", url() + "/ping"});
        return ping.out == "204";
      },
      kReadyTimeout);
  if (ready && process_->running()) return true;
  ADD_FAILURE() << "influxd did not become ready on " << url()
                << (process_->running() ? " (still running)" : " (it exited)") << "; its log:\n"
                << log();
  return false;
}

void InfluxServer::stop() {
  if (!process_) return;
  if (!process_->stop(SIGTERM, kStopTimeout)) process_->stop(SIGKILL, kStopTimeout);
  process_.reset();
}

CommandResult InfluxServer::curl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{"curl", "-sS", "--max-time", "30"};
  if (tls_) argv.insert(argv.end(), {"--cacert", tls_->ca_file.string()});
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions options;
  options.timeout = std::chrono::seconds(40);
  return run_command(argv, options);
}

CommandResult InfluxServer::post_query(const std::string& database, const std::string& influxql, bool as_admin) const {
  // --data-urlencode makes it a POST with a form body; "name=content" never reads files.
  std::vector<std::string> args{"--fail-with-body", url() + "/query",   "--data-urlencode",
                                "q=" + influxql,    "--data-urlencode", "epoch=ms"};
  if (!database.empty()) args.insert(args.end(), {"--data-urlencode", "db=" + database});
  if (as_admin) args.insert(args.end(), {"-u", admin_user_ + ":" + admin_password_});
  return curl(args);
}

nlohmann::json InfluxServer::query(const std::string& database, const std::string& influxql) const {
  auto result = post_query(database, influxql, true);
  if (result.exit_code != 0 && result.exit_code != kCurlHttpError) {
    ADD_FAILURE() << "curl failed (" << result.exit_code << ") for InfluxQL `" << influxql << "`: " << result.err;
    return nullptr;
  }
  auto json = nlohmann::json::parse(result.out, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    ADD_FAILURE() << "InfluxDB answered `" << influxql << "` with something not JSON: " << result.out << result.err;
    return nullptr;
  }
  if (json.contains("error")) {
    ADD_FAILURE() << "InfluxDB refused `" << influxql << "`: " << json.dump();
    return json;
  }
  for (const auto& statement : json.value("results", nlohmann::json::array())) {
    if (statement.contains("error"))
      ADD_FAILURE() << "InfluxDB statement failed in `" << influxql << "`: " << json.dump();
  }
  return json;
}

void InfluxServer::create_database(const std::string& name) const {
  query("", "CREATE DATABASE \"" + name + "\"");
}

std::vector<nlohmann::json> InfluxServer::rows(const std::string& database, const std::string& influxql) const {
  auto json = query(database, influxql);
  if (!json.is_object()) return {};
  const auto results = json.value("results", nlohmann::json::array());
  if (results.empty() || !results[0].is_object()) return {};
  const auto series = results[0].value("series", nlohmann::json::array());
  if (series.empty() || !series[0].is_object()) return {};
  const auto values = series[0].value("values", nlohmann::json::array());
  return std::vector<nlohmann::json>(values.begin(), values.end());
}

void InfluxServer::write(const std::string& database, const std::string& lines, const std::string& precision) const {
  // --data-raw sends the text as it is (newlines kept, a leading @ is no file name).
  auto result = curl({"-w", "%{http_code}", "-u", admin_user_ + ":" + admin_password_, "--data-raw", lines,
                      url() + "/write?db=" + database + "&precision=" + precision});
  if (result.exit_code != 0 || result.out != "204") {
    ADD_FAILURE() << "InfluxDB write to " << database << " failed (curl " << result.exit_code << "): " << result.out
                  << result.err;
  }
}

std::string InfluxServer::log() const {
  std::ifstream in(dir_ / "influxd.log");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace kelvin::testing
