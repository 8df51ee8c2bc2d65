// The InfluxDB export end to end: the real kelvin-gateway with simulated devices exporting over
// HTTPS (the installation's CA, basic auth from a 0600 file) to the real InfluxDB and to
// VictoriaMetrics. Whatever happens to InfluxDB or the gateway, InfluxDB ends up holding exactly
// the readings of the local store: no reading missing, none extra, values equal.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "installation.hpp"
#include "kelvin/testing/influx_server.hpp"
#include "kelvin/testing/victoria_server.hpp"

namespace {

namespace fs = std::filesystem;
using kelvin::testing::BackgroundProcess;
using kelvin::testing::InfluxServer;
using kelvin::testing::Installation;
using kelvin::testing::project_binary;
using kelvin::testing::VictoriaServer;
using kelvin::testing::wait_until;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr int kDevices = 3;
constexpr const char* kDatabase = "kelvin";

// A reading as both sides can report it; values compared exactly (the exporter writes doubles
// in their shortest round-trip form, InfluxDB keeps float64).
struct ExportedValues {
  std::int64_t ts_ms = 0;
  double temperature = 0;
  double humidity = 0;
  bool operator==(const ExportedValues&) const = default;
};
using ReadingKey = std::pair<std::string, std::uint64_t>;  // device, seq
using ReadingMap = std::map<ReadingKey, ExportedValues>;

ReadingMap stored_readings(Installation& install) {
  ReadingMap readings;
  auto store = install.open_store();
  auto batch = store.read_export_batch(0, 10'000'000);
  EXPECT_TRUE(batch.ok()) << batch.error().message;
  if (!batch) return readings;
  for (const auto& exported : batch->readings) {
    const auto& r = exported.reading;
    auto [it, inserted] =
        readings.emplace(ReadingKey{exported.device_id, r.seq},
                         ExportedValues{r.ts_ms, r.value(kelvin::proto::Quantity::temperature).value_or(-1000),
                                        r.value(kelvin::proto::Quantity::humidity).value_or(-1000)});
    EXPECT_TRUE(inserted) << "the store holds " << exported.device_id << " seq " << r.seq << " twice";
  }
  return readings;
}

class InfluxExport : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 1; i <= kDevices; ++i) install_.issue_device(device_id(i));
    influx_.create_database(kDatabase);
    // A short retry ceiling, so the export resumes promptly once InfluxDB is back.
    install_.export_to_influx(influx_.url(), install_.pki_dir() / "ca.crt", kDatabase, influx_.admin_user(),
                              influx_.admin_password(), {"retry_max_s = 2"});
    // The default export_lag rule, at levels an outage of seconds reaches.
    std::ofstream(install_.config_file(), std::ios::app)
        << "[alerts]\ninterval_s = 1\n"
           "[[alerts.rule]]\nname = \"export_lag\"\nkind = \"export_lag\"\nabove_s = 10\nclear_s = 3\n";
  }

  void TearDown() override {
    if (simulator_) simulator_->stop(SIGTERM, 20s);
    if (HasFailure()) {
      std::cerr << "---- gateway log ----\n" << install_.gateway_log();
      std::cerr << "---- simulator log (tail) ----\n"
                << tail(kelvin::testing::read_text(install_.root() / "simulator.log"), 4000);
      std::cerr << "---- influxd log (tail) ----\n" << tail(influx_.log(), 4000);
    }
  }

  static std::string tail(const std::string& text, std::size_t bytes) {
    return text.size() > bytes ? text.substr(text.size() - bytes) : text;
  }
  static std::string device_id(int i) { return "sensor-0" + std::to_string(i); }

  void start_devices() {
    simulator_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{project_binary("kelvin-agent"), "simulate", "--devices", std::to_string(kDevices),
                                 "--interval", "0.05", "--pki-dir", install_.pki_dir().string(), "--host", "localhost",
                                 "--port", std::to_string(install_.port()), "--prefix", "sensor-", "--first", "1"},
        install_.root() / "simulator.log");
  }

  // Stops the devices cleanly (they wait for their last acks), so the store is final.
  void stop_devices() {
    ASSERT_TRUE(simulator_);
    auto code = simulator_->stop(SIGTERM, 30s);
    simulator_.reset();
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << kelvin::testing::read_text(install_.root() / "simulator.log");
  }

  nlohmann::json export_stats() {
    auto stats = install_.stats();
    return stats.is_object() && stats.contains("export") ? stats["export"] : nlohmann::json();
  }
  std::uint64_t exported() { return export_stats().value("readings_exported", std::uint64_t{0}); }

  std::uint64_t stored_count() {
    std::uint64_t total = 0;
    auto store = install_.open_store();
    auto devices = store.list_devices();
    if (!devices) return 0;
    for (const auto& device : *devices) total += device.readings_stored;
    return total;
  }

  // Waits until the exporter has passed every reading stored.
  void wait_until_caught_up() {
    auto store = install_.open_store();
    EXPECT_TRUE(wait_until([&] { return kelvin::testing::exported_everything(store); }, 60s))
        << "export did not catch up: " << export_stats().dump();
  }

  ReadingMap influx_readings() {
    ReadingMap readings;
    auto rows = influx_.rows(kDatabase, "SELECT device, seq, temperature, humidity FROM kelvin_reading");
    for (const auto& row : rows) {
      ReadingKey key{row[1].get<std::string>(), row[2].get<std::uint64_t>()};
      auto [it, inserted] = readings.emplace(
          key, ExportedValues{row[0].get<std::int64_t>(), row[3].is_null() ? -1000 : row[3].get<double>(),
                              row[4].is_null() ? -1000 : row[4].get<double>()});
      EXPECT_TRUE(inserted) << "InfluxDB holds " << key.first << " seq " << key.second << " twice";
    }
    return readings;
  }

  void expect_influx_equals_store() {
    const ReadingMap local = stored_readings(install_);
    const ReadingMap remote = influx_readings();
    EXPECT_GT(local.size(), 0u);
    EXPECT_EQ(remote.size(), local.size());
    std::size_t missing = 0, different = 0;
    for (const auto& [key, values] : local) {
      auto found = remote.find(key);
      if (found == remote.end()) {
        if (++missing <= 5) ADD_FAILURE() << "missing in InfluxDB: " << key.first << " seq " << key.second;
      } else if (!(found->second == values)) {
        if (++different <= 5) ADD_FAILURE() << key.first << " seq " << key.second << " differs in InfluxDB";
      }
    }
    for (const auto& [key, values] : remote) {
      if (!local.contains(key)) ADD_FAILURE() << "in InfluxDB but not stored: " << key.first << " seq " << key.second;
    }
    EXPECT_EQ(missing, 0u);
    EXPECT_EQ(different, 0u);
  }

  Installation install_;
  InfluxServer influx_{install_.server_tls()};
  std::unique_ptr<BackgroundProcess> simulator_;
};

TEST_F(InfluxExport, InfluxDbHoldsExactlyTheStoredReadingsAfterAnOutageAndAGatewayCrash) {
  install_.start_gateway();
  start_devices();
  ASSERT_TRUE(wait_until([&] { return exported() >= 30; }, 60s)) << "nothing exported: " << export_stats().dump();

  // InfluxDB away for 30 s mid-stream: the store keeps accepting, the export waits and says so.
  influx_.stop();
  const std::uint64_t stored_at_outage = stored_count();
  std::this_thread::sleep_for(30s);
  EXPECT_GT(stored_count(), stored_at_outage + 100) << "the ingest stalled while InfluxDB was away";
  auto during = export_stats();
  EXPECT_TRUE(during.value("retrying", false)) << during.dump();
  EXPECT_GT(during.value("backlog_readings", 0), 100) << during.dump();
  EXPECT_GT(during.value("lag_s", 0.0), 5.0) << during.dump();
  EXPECT_TRUE(wait_until([&] { return install_.alert_state("export_lag") == "firing"; }, 10s))
      << "the stuck export raised no alert: " << during.dump();
  EXPECT_THAT(during.value("last_error", std::string()), HasSubstr("unavailable")) << during.dump();
  auto status = install_.kelvinctl({"status", "--state-dir", install_.state_dir().string()});
  EXPECT_THAT(status.out, HasSubstr("InfluxDB export    RETRYING"));
  EXPECT_THAT(status.out, ::testing::Not(HasSubstr(influx_.admin_password())));
  EXPECT_THAT(install_.gateway_log(), ::testing::Not(HasSubstr(influx_.admin_password())));

  influx_.start();
  ASSERT_TRUE(wait_until([&] { return !export_stats().value("retrying", true); }, 30s)) << export_stats().dump();
  EXPECT_TRUE(wait_until([&] { return install_.alert_state("export_lag") == "resolved"; }, 20s))
      << "caught up, the alert stays: " << export_stats().dump();

  // The gateway dies while the export catches up; its successor continues from the cursor.
  install_.stop_gateway(SIGKILL);
  install_.start_gateway();
  std::this_thread::sleep_for(2s);
  stop_devices();
  wait_until_caught_up();
  expect_influx_equals_store();

  // Every device's latest status reached InfluxDB too, as the store has it.
  auto store = install_.open_store();
  auto devices = store.list_devices();
  ASSERT_TRUE(devices.ok());
  ASSERT_EQ(devices->size(), static_cast<std::size_t>(kDevices));
  for (const auto& device : *devices) {
    ASSERT_TRUE(device.status.has_value()) << device.device_id;
    const std::string influxql =
        "SELECT last(state) FROM kelvin_device_status WHERE device = '" + device.device_id + "'";
    EXPECT_TRUE(wait_until(
        [&] {
          auto last = influx_.rows(kDatabase, influxql);
          return last.size() == 1 && last[0][0] == device.status->at_ms && last[0][1] == device.status->state;
        },
        20s))
        << device.device_id << " status " << device.status->state << " at " << device.status->at_ms << ", InfluxDB has "
        << nlohmann::json(influx_.rows(kDatabase, influxql)).dump();
  }
}

TEST_F(InfluxExport, APointInfluxDbRefusesIsSkippedAndCountedWhileTheRestIsExported) {
  // In the shard of an old week, `temperature` is already a string: InfluxDB refuses (400, field
  // type conflict) every float temperature written there, and nowhere else.
  constexpr std::int64_t kOldWeek = 1'609'459'200'000;  // 2021-01-01T00:00:00Z
  influx_.write(kDatabase, "kelvin_reading,device=other temperature=\"hot\" " + std::to_string(kOldWeek));
  install_.start_gateway();
  auto device = install_.device_files(device_id(1));
  // Three readings of 2021 (the protocol accepts anything since 2020), then a current one.
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::string batch = "{\"batch\":[";
  for (int seq = 1; seq <= 3; ++seq) {
    batch += "{\"seq\":" + std::to_string(seq) + ",\"ts\":" + std::to_string(kOldWeek + seq * 1000) +
             ",\"values\":{\"temperature\":20.5,\"humidity\":40}},";
  }
  batch += "{\"seq\":4,\"ts\":" + std::to_string(now_ms) + ",\"values\":{\"temperature\":21.25,\"humidity\":41}}]}";
  auto ack =
      install_.request(device, "devices/" + device_id(1) + "/telemetry", batch, "devices/" + device_id(1) + "/ack");
  ASSERT_EQ(ack.exit_code, 0) << ack.err;
  EXPECT_THAT(ack.out, HasSubstr("{\"seq\":4}"));

  ASSERT_TRUE(wait_until([&] { return export_stats().value("points_rejected", 0) == 3 && exported() == 1; }, 30s))
      << export_stats().dump();
  auto rows = influx_.rows(kDatabase, "SELECT seq, temperature FROM kelvin_reading WHERE device = 'sensor-01'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], nlohmann::json::array({now_ms, 4, 21.25}));
  EXPECT_THAT(install_.gateway_log(), HasSubstr("InfluxDB refused sensor-01 seq 1"));
  auto e = export_stats();
  EXPECT_FALSE(e.value("retrying", true));
  EXPECT_EQ(e.value("backlog_readings", 1), 0);
}

TEST_F(InfluxExport, TheGatewayRefusesAnExportWhoseCredentialsOthersCanRead) {
  fs::permissions(install_.root() / "influx.credentials", fs::perms::group_read | fs::perms::others_read,
                  fs::perm_options::add);
  install_.start_gateway(/*wait_until_connected=*/false);
  auto code = install_.gateway().wait(40s);
  ASSERT_TRUE(code.has_value()) << "the gateway kept running with readable credentials";
  EXPECT_NE(*code, 0);
  EXPECT_THAT(install_.gateway_log(), HasSubstr("chmod 600"));
  EXPECT_THAT(install_.gateway_log(), ::testing::Not(HasSubstr(influx_.admin_password())));
}

// VictoriaMetrics speaks the same /write API; what it holds must match the store as well.
TEST(VictoriaExport, VictoriaMetricsReceivesEveryStoredReading) {
  Installation install;
  VictoriaServer victoria(install.server_tls(), /*basic_auth=*/true);
  install.export_to_influx(victoria.url(), install.pki_dir() / "ca.crt", kDatabase, victoria.admin_user(),
                           victoria.admin_password());
  auto device = install.issue_device("sensor-01");
  install.start_gateway();
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::string batch = "{\"batch\":[";
  for (int seq = 1; seq <= 20; ++seq) {
    batch += (seq > 1 ? "," : "") + std::string("{\"seq\":") + std::to_string(seq) +
             ",\"ts\":" + std::to_string(now_ms - 20'000 + seq * 1000) +
             ",\"values\":{\"temperature\":" + std::to_string(20 + seq) + ".5,\"humidity\":40}}";
  }
  batch += "]}";
  auto ack = install.request(device, "devices/sensor-01/telemetry", batch, "devices/sensor-01/ack");
  ASSERT_EQ(ack.exit_code, 0) << ack.err;
  EXPECT_THAT(ack.out, HasSubstr("{\"seq\":20}"));

  std::vector<nlohmann::json> series;
  EXPECT_TRUE(wait_until(
      [&] {
        series = victoria.export_series("kelvin_reading_temperature{device=\"sensor-01\"}");
        return series.size() == 1 && series[0]["values"].size() >= 20;
      },
      30s))
      << install.gateway_log() << victoria.log();
  ASSERT_EQ(series.size(), 1u);
  const ReadingMap local = stored_readings(install);
  ASSERT_EQ(local.size(), 20u);
  std::set<std::pair<std::int64_t, double>> expected, received;
  for (const auto& [key, values] : local) expected.emplace(values.ts_ms, values.temperature);
  for (std::size_t i = 0; i < series[0]["values"].size(); ++i) {
    received.emplace(series[0]["timestamps"][i].get<std::int64_t>(), series[0]["values"][i].get<double>());
  }
  EXPECT_EQ(received, expected);
  EXPECT_EQ(series[0]["metric"]["db"], kDatabase);
}

}  // namespace
