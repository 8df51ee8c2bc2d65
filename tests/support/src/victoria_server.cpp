#include "kelvin/testing/victoria_server.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>

namespace kelvin::testing {

namespace {

constexpr auto kReadyTimeout = std::chrono::seconds(30);
constexpr auto kStopTimeout = std::chrono::seconds(10);

}  // namespace

VictoriaServer::VictoriaServer(std::optional<InfluxTls> tls, bool basic_auth)
    : tls_(std::move(tls)), port_(free_tcp_port()) {
  if (basic_auth) {
    admin_user_ = "admin";
    admin_password_ = random_hex(24);
  }
  start();
}

VictoriaServer::~VictoriaServer() {
  stop();
}

std::string VictoriaServer::url() const {
  return (tls_ ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(port_);
}

void VictoriaServer::start() {
  if (process_) return;
  std::vector<std::string> argv{"setpriv", "--pdeathsig", "KILL", "victoria-metrics",
                                "-httpListenAddr=127.0.0.1:" + std::to_string(port_),
                                "-storageDataPath=" + (dir_ / "data").string(),
                                // Tests use fixed timestamps; the default (1 month) would drop them.
                                "-retentionPeriod=100y",
                                // Instant queries see the newest samples (default: 30 s behind).
                                "-search.latencyOffset=0s", "-loggerLevel=WARN"};
  if (tls_) {
    argv.insert(argv.end(),
                {"-tls", "-tlsCertFile=" + tls_->cert_file.string(), "-tlsKeyFile=" + tls_->key_file.string()});
  }
  if (!admin_user_.empty()) {
    argv.insert(argv.end(), {"-httpAuth.username=" + admin_user_, "-httpAuth.password=" + admin_password_});
  }
  process_ = std::make_unique<BackgroundProcess>(argv, dir_ / "victoria-metrics.log");
  wait_ready();
}

bool VictoriaServer::wait_ready() {
  bool ready = wait_until(
      [this] {
        if (!process_->running()) return true;  // reported below
        auto health = curl({"--max-time", "2", url() + "/health"});
        return health.out == "OK";
      },
      kReadyTimeout);
  if (ready && process_->running()) return true;
  ADD_FAILURE() << "victoria-metrics did not become ready on " << url()
                << (process_->running() ? " (still running)" : " (it exited)") << "; its log:\n"
                << log();
  return false;
}

void VictoriaServer::stop() {
  if (!process_) return;
  if (!process_->stop(SIGTERM, kStopTimeout)) process_->stop(SIGKILL, kStopTimeout);
  process_.reset();
}

CommandResult VictoriaServer::curl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{"curl", "-sS", "--max-time", "30"};
  if (tls_) argv.insert(argv.end(), {"--cacert", tls_->ca_file.string()});
  if (!admin_user_.empty()) argv.insert(argv.end(), {"-u", admin_user_ + ":" + admin_password_});
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions options;
  options.timeout = std::chrono::seconds(40);
  return run_command(argv, options);
}

void VictoriaServer::flush() const {
  // Recent rows sit in memory for up to a second before searches see them.
  auto result = curl({"--fail-with-body", url() + "/internal/force_flush"});
  if (result.exit_code != 0) ADD_FAILURE() << "victoria-metrics force_flush failed: " << result.out << result.err;
}

std::vector<nlohmann::json> VictoriaServer::export_series(const std::string& selector) const {
  flush();
  auto result = curl({"--fail-with-body", "-G", url() + "/api/v1/export", "--data-urlencode", "match[]=" + selector});
  if (result.exit_code != 0) {
    ADD_FAILURE() << "victoria-metrics export of " << selector << " failed (curl " << result.exit_code
                  << "): " << result.out << result.err;
    return {};
  }
  std::vector<nlohmann::json> series;
  std::istringstream lines(result.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    auto json = nlohmann::json::parse(line, nullptr, false);
    if (json.is_discarded()) {
      ADD_FAILURE() << "victoria-metrics export line is not JSON: " << line;
      continue;
    }
    series.push_back(std::move(json));
  }
  return series;
}

nlohmann::json VictoriaServer::query(const std::string& promql) const {
  flush();
  auto result = curl({"--fail-with-body", "-G", url() + "/api/v1/query", "--data-urlencode", "query=" + promql});
  auto json = nlohmann::json::parse(result.out, nullptr, false);
  if (result.exit_code != 0 || !json.is_object() || json.value("status", "") != "success") {
    ADD_FAILURE() << "victoria-metrics query `" << promql << "` failed (curl " << result.exit_code
                  << "): " << result.out << result.err;
    return nullptr;
  }
  return json["data"];
}

std::string VictoriaServer::log() const {
  std::ifstream in(dir_ / "victoria-metrics.log");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace kelvin::testing
