// The gateway's /metrics (docs/metrics.md) on the real gateway: refused without the scrape token
// (curl), the text checked by Prometheus's own promtool, its counters following what the gateway
// did (a reading published with mosquitto_pub, a reading rejected), and a real Prometheus server
// (Debian's) scraping it over HTTPS with the token file; a token file others can read stops the
// gateway at start.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "installation.hpp"
#include "kelvin/testing/background_process.hpp"
#include "kelvin/testing/process.hpp"
#include "log_records.hpp"

namespace {

namespace fs = std::filesystem;
using kelvin::testing::CommandResult;
using kelvin::testing::describe;
using kelvin::testing::DeviceFiles;
using kelvin::testing::Installation;
using kelvin::testing::run_command;
using kelvin::testing::wait_until;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

const std::string kToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Metrics : public ::testing::Test {
 protected:
  void SetUp() override {
    device_ = install_.issue_device("sensor-01");
    std::ofstream(token_file()) << kToken << "\n";
    fs::permissions(token_file(), fs::perms::owner_read | fs::perms::owner_write);
    std::ofstream(install_.config_file(), std::ios::app)
        << "\n[metrics]\ntoken_file = \"" << token_file().string() << "\"\n";
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- gateway log ----\n" << install_.gateway_log();
  }

  fs::path token_file() const { return install_.root() / "metrics.token"; }

  void start() {
    install_.start_gateway();
    auto port = install_.await_http_port();
    ASSERT_TRUE(port.has_value());
    port_ = *port;
  }

  // curl GET /metrics with `headers` (and a client certificate when `identity` is given); the
  // response's head and body.
  CommandResult scrape(const std::vector<std::string>& headers = {},
                       const std::optional<DeviceFiles>& identity = std::nullopt) {
    std::vector<std::string> argv{"curl", "-sS", "--max-time", "20", "-i", "--cacert", install_.pki_dir() / "ca.crt"};
    if (identity) {
      argv.insert(argv.end(), {"--cert", identity->cert.string(), "--key", identity->key.string()});
    }
    for (const auto& header : headers) {
      argv.push_back("-H");
      argv.push_back(header);
    }
    argv.push_back("https://localhost:" + std::to_string(port_) + "/metrics");
    return run_command(argv);
  }

  DeviceFiles service_files(const std::string& name) const {
    const fs::path dir = install_.pki_dir() / "services" / name;
    return {install_.pki_dir() / "ca.crt", dir / (name + ".crt"), dir / (name + ".key")};
  }

  static std::string body_of(const CommandResult& response) {
    const auto at = response.out.find("\r\n\r\n");
    return at == std::string::npos ? std::string() : response.out.substr(at + 4);
  }

  Installation install_;
  DeviceFiles device_;
  int port_ = 0;
};

TEST_F(Metrics, OnlyTheScrapeTokenReadsThemAndPromtoolAcceptsTheText) {
  start();
  auto none = scrape();
  EXPECT_THAT(none.out, HasSubstr("HTTP/1.1 401")) << describe(none);
  EXPECT_THAT(none.out, HasSubstr("WWW-Authenticate: Bearer"));
  EXPECT_THAT(none.out, HasSubstr("metrics_token_invalid"));
  auto wrong = scrape({"Authorization: Bearer " + std::string(64, 'x')});
  EXPECT_THAT(wrong.out, HasSubstr("HTTP/1.1 401")) << describe(wrong);
  auto as_basic = scrape({"Authorization: Basic " + kToken});
  EXPECT_THAT(as_basic.out, HasSubstr("HTTP/1.1 401")) << describe(as_basic);
  EXPECT_THAT(install_.gateway_log(), ::testing::Not(HasSubstr(kToken))) << "the token, sent wrongly, is not logged";
  EXPECT_TRUE(kelvin::testing::has_log_record_about(install_.gateway_log(), "warn", "https", {{"client", "127.0.0.1"}},
                                                    "a /metrics scrape from 127.0.0.1 was refused: no scrape token"))
      << install_.gateway_log();

  // A wrong password, as someone guessing would send it.
  auto guess = run_command({"curl", "-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                            install_.pki_dir() / "ca.crt", "-H", "Content-Type: application/json", "--data",
                            R"({"user":"admin","password":"not the password"})",
                            "https://localhost:" + std::to_string(port_) + "/api/v1/session"});
  EXPECT_EQ(guess.out, "401") << describe(guess);

  // One reading stored and one rejected (out of range), through the broker as a device sends them.
  const std::string ts = std::to_string(now_ms());
  ASSERT_EQ(install_
                .publish(device_, "devices/sensor-01/telemetry",
                         R"({"seq":1,"ts":)" + ts + R"(,"values":{"temperature":21.5,"humidity":40}})")
                .exit_code,
            0);
  ASSERT_EQ(install_
                .publish(device_, "devices/sensor-01/telemetry",
                         R"({"seq":2,"ts":)" + ts + R"(,"values":{"temperature":500,"humidity":40}})")
                .exit_code,
            0);
  std::string text;
  ASSERT_TRUE(wait_until(
      [&] {
        text = body_of(scrape({"Authorization: Bearer " + kToken}));
        return text.find("kelvin_readings_stored_total 1\n") != std::string::npos &&
               text.find("kelvin_readings_rejected_total{reason=\"out_of_range\"} 1\n") != std::string::npos;
      },
      20s))
      << text;
  EXPECT_THAT(text, HasSubstr("kelvin_devices{status=\"unreported\"} 1\n")) << "registered, no status yet";
  ASSERT_EQ(
      install_.publish(device_, "devices/sensor-01/status", R"({"state":"online","fw":"1.0.0","dropped":0})", {"-r"})
          .exit_code,
      0);
  ASSERT_TRUE(wait_until(
      [&] {
        text = body_of(scrape({"Authorization: Bearer " + kToken}));
        return text.find("kelvin_devices{status=\"online\"} 1\n") != std::string::npos;
      },
      20s))
      << text;
  EXPECT_THAT(text, ::testing::ContainsRegex("kelvin_store_size_bytes [1-9][0-9]+\n"));
  auto ok = scrape({"Authorization: Bearer " + kToken});
  EXPECT_THAT(ok.out, HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(ok.out, HasSubstr("Content-Type: text/plain; version=0.0.4; charset=utf-8"));
  EXPECT_THAT(text, HasSubstr("# TYPE kelvin_readings_stored_total counter\n"));
  EXPECT_THAT(text, HasSubstr("kelvin_broker_up 1\n"));
  EXPECT_THAT(text, HasSubstr("kelvin_metrics_scrapes_refused_total 3\n"));
  EXPECT_THAT(text, HasSubstr("kelvin_signins_total{result=\"bad_credentials\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("kelvin_signins_total{result=\"ok\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("kelvin_http_requests_total{method=\"GET\",route=\"/metrics\",code=\"4xx\"} 3\n"));
  EXPECT_THAT(text, ::testing::ContainsRegex(
                        "kelvin_http_requests_total\\{method=\"GET\",route=\"/metrics\",code=\"2xx\"\\} [1-9]"));
  EXPECT_THAT(text, ::testing::ContainsRegex("kelvin_build_info\\{version=\"[0-9.]+\"\\} 1\n"));
  // The stored reading is the one reading committed (the rejected one is not a reading of a batch),
  // within the minute the test allows, in a batch of one.
  EXPECT_THAT(text, HasSubstr("kelvin_reading_commit_latency_seconds_count 1\n"));
  EXPECT_THAT(text, HasSubstr("kelvin_reading_commit_latency_seconds_bucket{le=\"60\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("kelvin_ingest_batch_readings_bucket{le=\"1\"} 1\n"));
  EXPECT_THAT(text, ::testing::ContainsRegex("kelvin_store_commit_duration_seconds_count [1-9]"));
  // The installation's certificates as openssl reads them: the one device's, the CA's (the only
  // ones of their kinds) and the CRL's next update; the state dir's free space.
  const auto openssl_time = [](const std::string& command) {
    auto read = run_command({"sh", "-c", "date -u -d \"$(" + command + " | cut -d= -f2)\" +%s"});
    EXPECT_EQ(read.exit_code, 0) << describe(read);
    return std::stod(read.out);
  };
  // A sample's value (not its HELP or TYPE line, which start with '#'); -1 when it is missing.
  const auto value_of = [&](const std::string& sample) {
    const auto at = text.find("\n" + sample + " ");
    return at == std::string::npos ? -1.0 : std::strtod(text.c_str() + at + sample.size() + 2, nullptr);
  };
  EXPECT_EQ(value_of("kelvin_certificate_earliest_expiry_timestamp_seconds{kind=\"device\"}"),
            openssl_time("openssl x509 -enddate -noout -in " + device_.cert.string()));
  EXPECT_EQ(value_of("kelvin_certificate_earliest_expiry_timestamp_seconds{kind=\"ca\"}"),
            openssl_time("openssl x509 -enddate -noout -in " + (install_.pki_dir() / "ca.crt").string()));
  EXPECT_EQ(value_of("kelvin_crl_next_update_timestamp_seconds"),
            openssl_time("openssl crl -nextupdate -noout -in " + (install_.pki_dir() / "crl.pem").string()));
  EXPECT_GT(value_of("kelvin_state_filesystem_free_bytes"), 0.0);
  // No rollout yet: every state is there, at 0 (rollout_engine_test counts real ones).
  EXPECT_THAT(text, HasSubstr("kelvin_ota_rollouts{state=\"halted\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("kelvin_ota_rollout_devices{state=\"rolled_back\"} 0\n"));
  // The default alert rules, none firing (alerts_test fires real ones).
  for (const char* rule : {"device_offline", "certificate_expiry", "crl_expiry", "disk_space", "export_backlog",
                           "export_lag", "sign_in_attack", "update_failed", "rollout_halted", "outbox_drops",
                           "broker_exits", "acl_denials", "superseded_certificate"}) {
    EXPECT_EQ(value_of("kelvin_alerts_firing{rule=\"" + std::string(rule) + "\"}"), 0.0) << rule;
  }

  const fs::path saved = install_.root() / "metrics.txt";
  std::ofstream(saved) << text;
  auto checked = run_command({"sh", "-c", "promtool check metrics < " + saved.string()});
  EXPECT_EQ(checked.exit_code, 0) << describe(checked) << text;
  EXPECT_EQ(checked.err + checked.out, "") << "promtool's lint found nothing to say";
}

TEST_F(Metrics, APrometheusServerScrapesTheGatewayWithTheTokenFile) {
  start();
  const int prometheus_port = kelvin::testing::free_tcp_port();
  const fs::path config = install_.root() / "prometheus.yml";
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                        << "scrape_configs:\n  - job_name: kelvin\n    scheme: https\n"
                        << "    tls_config:\n      ca_file: " << (install_.pki_dir() / "ca.crt").string() << "\n"
                        << "    authorization:\n      type: Bearer\n      credentials_file: " << token_file().string()
                        << "\n    static_configs:\n      - targets: ['localhost:" << port_ << "']\n";
  kelvin::testing::BackgroundProcess prometheus(
      {"prometheus", "--config.file=" + config.string(),
       "--storage.tsdb.path=" + (install_.root() / "prometheus-data").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)},
      install_.root() / "prometheus.log");
  const std::string query = "http://127.0.0.1:" + std::to_string(prometheus_port) + "/api/v1/query";
  CommandResult answer;
  const bool scraped = wait_until(
      [&] {
        answer = run_command({"curl", "-sS", "--max-time", "5", "-G", query, "--data-urlencode",
                              "query=kelvin_broker_up{job=\"kelvin\"} and on() up{job=\"kelvin\"} == 1"});
        return answer.out.find("\"kelvin_broker_up\"") != std::string::npos;
      },
      60s);
  EXPECT_TRUE(scraped) << describe(answer) << prometheus.log();
  EXPECT_THAT(answer.out, HasSubstr("\"value\":[")) << answer.out;
}

// A scraper may present a service certificate from the installation's CA instead of the token, if
// its service is listed; no other certificate opens the metrics, the gateway's own included.
TEST_F(Metrics, AListedServiceCertificateReadsThemAndNoOtherCertificateDoes) {
  auto service = [&](const std::string& name) {
    EXPECT_EQ(install_.kelvinctl({"pki", "--dir", install_.pki_dir().string(), "issue", "service", name}).exit_code, 0);
    return service_files(name);
  };
  const DeviceFiles prometheus = service("svc-prometheus");
  const DeviceFiles other = service("svc-other");
  std::ofstream(install_.config_file(), std::ios::app) << "clients = [\"svc-prometheus\"]\n";  // in [metrics]
  start();

  auto listed = scrape({}, prometheus);
  EXPECT_THAT(listed.out, HasSubstr("HTTP/1.1 200")) << describe(listed);
  EXPECT_THAT(body_of(listed), HasSubstr("kelvin_broker_up 1\n"));
  for (const auto& [who, identity] : {std::pair<std::string, DeviceFiles>{"an unlisted service", other},
                                      {"a device", device_},
                                      {"the gateway's own service", service_files("svc-gateway")}}) {
    auto refused = scrape({}, identity);
    EXPECT_THAT(refused.out, HasSubstr("HTTP/1.1 401")) << who << "\n" << describe(refused);
    EXPECT_THAT(refused.out, HasSubstr("metrics_token_invalid")) << who;
  }
  // The token still works alongside, with or without a certificate.
  EXPECT_THAT(scrape({"Authorization: Bearer " + kToken}, other).out, HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(install_.gateway_log(), HasSubstr("svc-other is not in [metrics] clients"));
}

TEST_F(Metrics, ATokenFileOthersCanReadStopsTheGatewayAtStart) {
  fs::permissions(token_file(), fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
  auto started = run_command({"timeout", "30", kelvin::testing::project_binary("kelvin-gateway"), "--config",
                              install_.config_file().string()});
  EXPECT_NE(started.exit_code, 0) << describe(started);
  EXPECT_NE(started.exit_code, 124) << "it did not stop by itself";
  EXPECT_THAT(started.err + started.out, HasSubstr("[metrics] token_file")) << describe(started);
}

}  // namespace
