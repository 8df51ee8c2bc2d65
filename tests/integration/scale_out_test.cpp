// Two gateways on one broker (docs/scaling.md): gateway A runs the managed Mosquitto, gateway B
// connects to it as an external broker; both take telemetry as members of one MQTT v5 shared
// subscription and export to the same InfluxDB. Simulated devices publish continuously while B is
// killed with SIGKILL and started again. Afterwards every seq a device produced is stored exactly
// once across the two stores and exactly once in InfluxDB, and both gateways acknowledge it. The
// gateways also share their alert rules and silences, and a webhook both notify hears of each
// transition of an alert both raise once.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "device_probe.hpp"
#include "https_client.hpp"
#include "installation.hpp"
#include "kelvin/store/alert_db.hpp"
#include "kelvin/testing/influx_server.hpp"
#include "log_records.hpp"
#include "webhook_receiver.hpp"

namespace {

namespace fs = std::filesystem;
using kelvin::testing::BackgroundProcess;
using kelvin::testing::DeviceProbe;
using kelvin::testing::exported_everything;
using kelvin::testing::InfluxServer;
using kelvin::testing::Installation;
using kelvin::testing::project_binary;
using kelvin::testing::read_text;
using kelvin::testing::TempDir;
using kelvin::testing::wait_until;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

constexpr int kDevices = 4;
constexpr const char* kDatabase = "kelvin";
constexpr const char* kPeer = "svc-gateway-b";

using SeqsByDevice = std::map<std::string, std::set<std::uint64_t>>;

std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string presence_topic_of_b() {
  return std::string("kelvin/gateways/") + kPeer + "/presence";
}

SeqsByDevice stored_seqs(kelvin::store::Store& store) {
  SeqsByDevice seqs;
  auto batch = store.read_export_batch(0, 10'000'000);
  EXPECT_TRUE(batch.ok()) << batch.error().message;
  if (!batch) return seqs;
  for (const auto& exported : batch->readings) {
    EXPECT_TRUE(seqs[exported.device_id].insert(exported.reading.seq).second) << "stored twice in one store";
  }
  return seqs;
}

nlohmann::json read_stats(const fs::path& file) {
  auto json = nlohmann::json::parse(read_text(file), nullptr, false);
  return json.is_discarded() ? nlohmann::json(nullptr) : json;
}

std::uint64_t readings_stored(const nlohmann::json& stats) {
  return stats.is_object() ? stats.value("readings_stored", std::uint64_t{0}) : 0;
}

class ScaleOut : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 1; i <= kDevices; ++i) a_.issue_device("sensor-0" + std::to_string(i));
    a_.kelvinctl({"pki", "--dir", a_.pki_dir().string(), "issue", "service", kPeer});
    influx_.create_database(kDatabase);
    // Gateway A: the managed broker lets B in with a gateway's rights; both are in share group "kelvin".
    std::ofstream(a_.config_file(), std::ios::app) << "peer_gateways = [\"" << kPeer << "\"]\n"
                                                   << "[ingest]\nshare_group = \"kelvin\"\n";
    a_.export_to_influx(influx_.url(), a_.pki_dir() / "ca.crt", kDatabase, influx_.admin_user(),
                        influx_.admin_password(), {"retry_max_s = 2"});
    // Gateway B: its own state dir and store, A's broker as an external one, its own identity.
    fs::create_directories(b_state());
    fs::permissions(b_state(), fs::perms::owner_all);
    const fs::path service = a_.pki_dir() / "services" / kPeer;
    std::ofstream(b_config()) << "state_dir = \"" << b_state().string() << "\"\n"
                              << "service_identity = \"" << kPeer << "\"\n"
                              << "[http]\nenabled = false\n"  // B has no PKI dir of its own
                              << "[broker]\nmode = \"external\"\nhost = \"localhost\"\n"
                              << "port = " << a_.port() << "\n"
                              << "ca_file = \"" << (a_.pki_dir() / "ca.crt").string() << "\"\n"
                              << "cert_file = \"" << (service / (std::string(kPeer) + ".crt")).string() << "\"\n"
                              << "key_file = \"" << (service / (std::string(kPeer) + ".key")).string() << "\"\n"
                              << "[ingest]\nshare_group = \"kelvin\"\n"
                              << "[export.influxdb]\nurl = \"" << influx_.url() << "\"\ndatabase = \"" << kDatabase
                              << "\"\nca_file = \"" << (a_.pki_dir() / "ca.crt").string() << "\"\n"
                              << "credentials_file = \"" << (a_.root() / "influx.credentials").string() << "\"\n"
                              << "retry_max_s = 2\n";
  }

  void TearDown() override {
    if (simulator_) simulator_->stop(SIGTERM, 30s);
    if (b_) b_->stop(SIGTERM, 20s);
    if (HasFailure()) {
      std::cerr << "---- gateway A log ----\n" << a_.gateway_log();
      std::cerr << "---- gateway B log ----\n" << read_text(b_dir_ / "gateway.log");
      std::cerr << "---- simulator log ----\n" << read_text(a_.root() / "simulator.log");
    }
  }

  fs::path b_state() const { return b_dir_ / "state"; }
  fs::path b_config() const { return b_dir_ / "gateway.toml"; }
  nlohmann::json b_stats() const { return read_stats(b_state() / "gateway-stats.json"); }

  static bool ready(const nlohmann::json& stats) {
    return stats.is_object() && stats.value("connected", 0) == 1 && stats.contains("peers") &&
           stats["peers"].value("ready", false);
  }

  void start_b() {
    fs::remove(b_state() / "gateway-stats.json");
    b_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{project_binary("kelvin-gateway"), "--config", b_config().string()},
        b_dir_ / "gateway.log");
    ASSERT_TRUE(wait_until([&] { return ready(b_stats()); }, 40s)) << "gateway B did not join:\n"
                                                                   << read_text(b_dir_ / "gateway.log");
  }

  void start_devices() {
    simulator_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{project_binary("kelvin-agent"), "simulate", "--devices", std::to_string(kDevices),
                                 "--interval", "0.02", "--pki-dir", a_.pki_dir().string(), "--host", "localhost",
                                 "--port", std::to_string(a_.port()), "--prefix", "sensor-", "--first", "1"},
        a_.root() / "simulator.log");
  }

  // The added rules in a gateway's state dir, name -> definition, as its alerts.db has them.
  static std::map<std::string, std::string> added_rules(const fs::path& state_dir) {
    std::map<std::string, std::string> rules;
    auto db = kelvin::store::AlertDb::open(state_dir / "alerts.db");
    if (!db) return rules;
    auto added = db->added_rules();
    if (added) {
      for (const auto& rule : *added) rules[rule.name] = rule.definition;
    }
    return rules;
  }
  std::map<std::string, std::string> b_rules() const { return added_rules(b_state()); }

  // Gateway B's identity, for a client that speaks as B.
  kelvin::testing::DeviceFiles b_identity() const {
    const fs::path service = a_.pki_dir() / "services" / kPeer;
    return {a_.pki_dir() / "ca.crt", service / (std::string(kPeer) + ".crt"), service / (std::string(kPeer) + ".key")};
  }

  // Starts A, signs its admin in on A's API, then starts B; nullptr (and a failure) when any fails.
  std::unique_ptr<kelvin::testing::Browser> start_both_with_admin_on_a() {
    a_.start_gateway();
    const auto port = a_.await_http_port();
    EXPECT_TRUE(port.has_value());
    if (!port) return nullptr;
    auto admin = std::make_unique<kelvin::testing::Browser>(a_, *port, a_.root() / "admin.jar");
    const auto signed_in = admin->sign_in("admin", kelvin::testing::first_admin_password(a_.gateway_log()));
    EXPECT_EQ(signed_in.status, 200) << signed_in.raw;
    start_b();
    if (signed_in.status != 200 || HasFailure()) return nullptr;
    return admin;
  }

  // The silences lasting now in a gateway's state dir, "rule subject" -> who set them last.
  static std::map<std::string, std::string> active_silences(const fs::path& state_dir) {
    std::map<std::string, std::string> silences;
    auto db = kelvin::store::AlertDb::open(state_dir / "alerts.db");
    if (!db) return silences;
    auto active = db->active_silences(unix_now_ms());
    if (active) {
      for (const auto& silence : *active) silences[silence.rule + " " + silence.subject] = silence.created_by;
    }
    return silences;
  }
  std::map<std::string, std::string> b_silences() const { return active_silences(b_state()); }

  // Whether `rule` fires for `subject` in a gateway's state dir, as its alerts.db has it.
  static bool firing(const fs::path& state_dir, const std::string& rule, const std::string& subject) {
    auto db = kelvin::store::AlertDb::open(state_dir / "alerts.db");
    if (!db) return false;
    auto alerts = db->firing();
    if (!alerts) return false;
    return std::any_of(alerts->begin(), alerts->end(),
                       [&](const auto& alert) { return alert.rule == rule && alert.subject == subject; });
  }
  // How many deliveries a gateway's webhook queue holds waiting (not yet sent, given up or left to
  // a peer); nullopt when its alerts.db cannot be read.
  static std::optional<std::uint64_t> waiting_deliveries(const fs::path& state_dir) {
    auto db = kelvin::store::AlertDb::open(state_dir / "alerts.db");
    if (!db) return std::nullopt;
    auto counts = db->delivery_counts();
    if (!counts) return std::nullopt;
    return counts->pending;
  }

  // The lowest ack over all devices, as gateway A's store has it.
  std::uint64_t lowest_ack() {
    auto store = a_.open_store();
    std::uint64_t lowest = UINT64_MAX;
    for (int i = 1; i <= kDevices; ++i) {
      auto ack = store.acked_seq("sensor-0" + std::to_string(i));
      lowest = std::min(lowest, ack ? *ack : 0);
    }
    return lowest;
  }

  Installation a_;
  InfluxServer influx_{a_.server_tls()};
  TempDir b_dir_;
  std::unique_ptr<BackgroundProcess> b_;
  std::unique_ptr<BackgroundProcess> simulator_;
};

TEST_F(ScaleOut, EveryReadingIsStoredOnceAcrossTwoGatewaysWhileOneIsKilled) {
  a_.start_gateway();
  ASSERT_TRUE(wait_until([&] { return ready(a_.stats()); }, 20s)) << a_.stats().dump();
  start_b();
  start_devices();

  // Both gateways take a share of the readings.
  ASSERT_TRUE(wait_until([&] { return readings_stored(a_.stats()) > 200 && readings_stored(b_stats()) > 200; }, 60s))
      << "A stored " << readings_stored(a_.stats()) << ", B stored " << readings_stored(b_stats());
  const std::uint64_t acked_before = lowest_ack();
  EXPECT_GT(acked_before, 50u) << "acks do not move although the readings are split between the gateways";

  // B dies mid-stream: what it had taken but not committed is lost to it; A carries on alone.
  ASSERT_TRUE(b_->stop(SIGKILL).has_value());
  const std::uint64_t a_at_kill = readings_stored(a_.stats());
  ASSERT_TRUE(wait_until([&] { return readings_stored(a_.stats()) > a_at_kill + 200; }, 30s))
      << "A stopped storing when B died";
  start_b();
  const std::uint64_t b_after_restart = readings_stored(b_stats());
  ASSERT_TRUE(wait_until([&] { return readings_stored(b_stats()) > b_after_restart + 100; }, 30s))
      << "B takes no share after its restart";

  // The devices resend what B lost (after their resend timeout): the acks pass the point of the kill.
  const std::uint64_t acked_at_restart = lowest_ack();
  ASSERT_TRUE(wait_until([&] { return lowest_ack() > acked_at_restart + 500; }, 90s))
      << "acks stuck at " << lowest_ack();

  ASSERT_TRUE(simulator_->stop(SIGTERM, 60s).has_value());
  simulator_.reset();
  const std::string simulator_log = read_text(a_.root() / "simulator.log");
  std::smatch taken;
  ASSERT_TRUE(std::regex_search(simulator_log, taken, std::regex("(\\d+) readings taken, 0 unacknowledged")))
      << simulator_log;
  const std::uint64_t produced = std::stoull(taken[1]);

  // Both stores together hold every seq once; neither holds one the other has.
  auto store_a = a_.open_store();
  auto store_b = kelvin::store::Store::open(b_state() / "telemetry.db");
  ASSERT_TRUE(store_b.ok()) << store_b.error().message;
  const SeqsByDevice in_a = stored_seqs(store_a);
  const SeqsByDevice in_b = stored_seqs(*store_b);
  std::uint64_t total = 0;
  for (int i = 1; i <= kDevices; ++i) {
    const std::string device = "sensor-0" + std::to_string(i);
    const auto& a = in_a.count(device) ? in_a.at(device) : std::set<std::uint64_t>{};
    const auto& b = in_b.count(device) ? in_b.at(device) : std::set<std::uint64_t>{};
    std::vector<std::uint64_t> both;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
    EXPECT_TRUE(both.empty()) << device << ": " << both.size() << " seqs stored by both gateways, first "
                              << (both.empty() ? 0 : both.front());
    EXPECT_FALSE(a.empty()) << device << " never reached A";
    EXPECT_FALSE(b.empty()) << device << " never reached B";
    std::set<std::uint64_t> all(a.begin(), a.end());
    all.insert(b.begin(), b.end());
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(*all.begin(), 1u) << device;
    EXPECT_EQ(all.size(), *all.rbegin()) << device << ": seqs missing from 1.." << *all.rbegin();
    // Each gateway acknowledges the whole sequence, whichever of them stored a reading.
    EXPECT_TRUE(wait_until([&] { return *store_a.acked_seq(device) == *all.rbegin(); }, 10s))
        << device << ": A acks " << *store_a.acked_seq(device) << " of " << *all.rbegin();
    EXPECT_TRUE(wait_until([&] { return *store_b->acked_seq(device) == *all.rbegin(); }, 10s))
        << device << ": B acks " << *store_b->acked_seq(device) << " of " << *all.rbegin();
    total += all.size();
  }
  EXPECT_EQ(total, produced);

  // Both exporters wrote to one InfluxDB: it holds every reading once (points are idempotent).
  ASSERT_TRUE(wait_until([&] { return exported_everything(store_a) && exported_everything(*store_b); }, 60s))
      << a_.stats().dump() << "\n"
      << b_stats().dump();
  auto counts = influx_.query(kDatabase, "SELECT count(seq) FROM kelvin_reading GROUP BY device");
  std::uint64_t in_influx = 0;
  for (const auto& series : counts["results"][0]["series"]) in_influx += series["values"][0][1].get<std::uint64_t>();
  EXPECT_EQ(in_influx, produced) << counts.dump();

  std::cerr << "withdrawn duplicates: A " << a_.stats().value("readings_withdrawn", 0) << ", B "
            << b_stats().value("readings_withdrawn", 0) << "\n";
  EXPECT_EQ(a_.stats().value("readings_withdrawn", 1), 0) << "svc-gateway sorts first: it never gives way";
  // Neither gateway refused the other's notices, and no device could read them (ACL: no pattern).
  EXPECT_EQ(a_.stats()["peers"].value("notices_rejected", 1), 0);
  EXPECT_EQ(b_stats()["peers"].value("notices_rejected", 1), 0);
}

TEST_F(ScaleOut, ADeviceCanNeitherReadNorForgeTheGatewaysNotices) {
  a_.start_gateway();
  start_b();
  // sensor-01 listens to everything the gateways say, retained presences included.
  DeviceProbe observer(a_, "sensor-01", {"kelvin/gateways/#"});
  ASSERT_TRUE(observer.start());

  // sensor-02 forges notices claiming its seqs 1..1000 were stored: taken, they would make the
  // gateways acknowledge readings nobody stored. A gateway ignores notices on its own topic, so
  // one in each gateway's name. The broker accepts the PUBLISH (a denied one is acknowledged all
  // the same) before mosquitto_pub exits, so both are ahead of anything sent after.
  const auto forger = a_.device_files("sensor-02");
  for (const char* gateway : {"svc-gateway", kPeer}) {
    auto forged = a_.publish(forger, std::string("kelvin/gateways/") + gateway + "/consumed",
                             R"({"full":false,"last":true,"devices":{"sensor-02":{"through":1000,"above":[]}}})");
    ASSERT_EQ(forged.exit_code, 0) << forged.err;
  }
  // And a rule version in each gateway's name, retained: taken, it would add a rule to every
  // gateway of the group, also to one joining later.
  for (const char* gateway : {"svc-gateway", kPeer}) {
    auto forged = a_.publish(
        forger, std::string("kelvin/gateways/") + gateway + "/rules/forged",
        R"({"name":"forged","rule":{"name":"forged","kind":"threshold","quantity":"temperature","above":0.0},)"
        R"("created_by":"x","created_ms":1,"updated_by":"x","updated_ms":1})",
        {"-r"});
    ASSERT_EQ(forged.exit_code, 0) << forged.err;
  }
  // And a silence in each gateway's name: taken, it would hide sensor-02's alerts from every webhook.
  const std::string in_an_hour = std::to_string(unix_now_ms() + 3'600'000);
  for (const char* gateway : {"svc-gateway", kPeer}) {
    auto forged = a_.publish(forger, std::string("kelvin/gateways/") + gateway + "/silences/device_offline/sensor-02",
                             R"({"rule":"device_offline","subject":"sensor-02","until_ms":)" + in_an_hour +
                                 R"(,"set_by":"x","set_ms":1,"comment":""})",
                             {"-r"});
    ASSERT_EQ(forged.exit_code, 0) << forged.err;
  }
  // And an alert of sensor-02 in each gateway's name, firing since 1970: taken, it would have the
  // other gateway leave every notification of sensor-02 going offline to the named one.
  for (const char* gateway : {"svc-gateway", kPeer}) {
    auto forged = a_.publish(forger, std::string("kelvin/gateways/") + gateway + "/alerts/device_offline/sensor-02",
                             R"({"rule":"device_offline","subject":"sensor-02","started_ms":1,"ended_ms":null,)"
                             R"("webhooks":["ops"]})",
                             {"-r"});
    ASSERT_EQ(forged.exit_code, 0) << forged.err;
  }
  // sensor-02's real first reading: a gateway that took a forgery acknowledges 1000, not 1. Each
  // gateway takes notices and telemetry on one connection, in arrival order.
  const std::int64_t now_ms = unix_now_ms();
  auto ack = a_.request(forger, "devices/sensor-02/telemetry",
                        R"({"seq":1,"ts":)" + std::to_string(now_ms) + R"(,"values":{"temperature":21.5}})",
                        "devices/sensor-02/ack");
  EXPECT_EQ(ack.out, "devices/sensor-02/ack {\"seq\":1}\n") << ack.err;
  // The gateway that did not take the reading learns of it from the other's notice: its ack is 1 too.
  auto store_a = a_.open_store();
  ASSERT_TRUE(wait_until([&] { return fs::exists(b_state() / "telemetry.db"); }, 5s));
  auto store_b = kelvin::store::Store::open(b_state() / "telemetry.db");
  ASSERT_TRUE(store_b.ok()) << store_b.error().message;
  EXPECT_TRUE(wait_until([&] { return *store_a.acked_seq("sensor-02") == 1; }, 10s))
      << "A acks " << *store_a.acked_seq("sensor-02");
  EXPECT_TRUE(wait_until([&] { return *store_b->acked_seq("sensor-02") == 1; }, 10s))
      << "B acks " << *store_b->acked_seq("sensor-02");

  // B restarts and both exchange summaries (B is ready once it has A's answer to its own).
  ASSERT_TRUE(b_->stop(SIGTERM).has_value());
  start_b();
  // None of it, nor the forgeries, nor the notices about sensor-02, reached the device.
  ASSERT_TRUE(observer.round_trip());
  EXPECT_THAT(observer.foreign(), IsEmpty()) << "a device received the gateways' traffic";
  // B, restarted, subscribed to the rules again: a retained forgery would have reached it by now.
  EXPECT_EQ(added_rules(a_.state_dir()).count("forged"), 0u) << "A took a device's rule";
  EXPECT_EQ(b_rules().count("forged"), 0u) << "B took a device's rule";
  EXPECT_THAT(active_silences(a_.state_dir()), IsEmpty()) << "A took a device's silence";
  EXPECT_THAT(b_silences(), IsEmpty()) << "B took a device's silence";
  // Neither gateway raised an alert of a device or certificate here, so any alert state one
  // received, or refused, came from the device.
  for (const auto& stats : {a_.stats(), b_stats()}) {
    ASSERT_TRUE(stats.contains("shared_alert_states")) << stats.dump();
    EXPECT_EQ(stats["shared_alert_states"].value("received", 1), 0) << "a gateway took a device's alert state";
    EXPECT_EQ(stats["shared_alert_states"].value("rejected", 1), 0) << stats.dump();
  }
}

// The race a resend can cause: the same readings reach both gateways at the same moment (here:
// one batch published twice at once, which the shared subscription hands to A and to B in turn),
// both store them before either hears of the other's commit. The gateway whose identity sorts
// later (svc-gateway-b) withdraws its copies when A's notice arrives.
TEST_F(ScaleOut, ReadingsThatRaceToBothGatewaysEndUpStoredOnce) {
  a_.start_gateway();
  ASSERT_TRUE(wait_until([&] { return ready(a_.stats()); }, 20s)) << a_.stats().dump();
  start_b();
  const std::int64_t now_ms = unix_now_ms();
  std::string batch = "{\"batch\":[";
  for (int seq = 1; seq <= 50; ++seq) {
    batch += (seq > 1 ? "," : "") + std::string("{\"seq\":") + std::to_string(seq) +
             ",\"ts\":" + std::to_string(now_ms - 60'000 + seq * 1000) +
             ",\"values\":{\"temperature\":" + std::to_string(20 + seq % 7) + ".5}}";
  }
  batch += "]}";
  auto published = a_.publish(a_.device_files("sensor-01"), "devices/sensor-01/telemetry", batch, {"--repeat", "2"});
  ASSERT_EQ(published.exit_code, 0) << published.err;

  auto store_a = a_.open_store();
  ASSERT_TRUE(wait_until([&] { return *store_a.acked_seq("sensor-01") == 50; }, 20s));
  ASSERT_TRUE(wait_until([&] { return fs::exists(b_state() / "telemetry.db"); }, 5s));
  auto store_b = kelvin::store::Store::open(b_state() / "telemetry.db");
  ASSERT_TRUE(store_b.ok()) << store_b.error().message;
  ASSERT_TRUE(wait_until([&] { return *store_b->acked_seq("sensor-01") == 50; }, 20s));
  // Both copies arrived: either both gateways stored the batch and B withdrew its copy, or the
  // second copy reached a gateway that already knew it (a duplicate). Either way: once in total.
  EXPECT_TRUE(wait_until(
      [&] {
        auto a = stored_seqs(store_a)["sensor-01"];
        auto b = stored_seqs(*store_b)["sensor-01"];
        return a.size() + b.size() == 50;
      },
      20s))
      << "A holds " << stored_seqs(store_a)["sensor-01"].size() << ", B holds "
      << stored_seqs(*store_b)["sensor-01"].size() << "\n"
      << b_stats().dump();
  const auto in_a = stored_seqs(store_a)["sensor-01"];
  const auto in_b = stored_seqs(*store_b)["sensor-01"];
  std::set<std::uint64_t> all(in_a.begin(), in_a.end());
  all.insert(in_b.begin(), in_b.end());
  EXPECT_EQ(all.size(), 50u);
  // The statistics files are rewritten every second: wait for the ones that count both copies.
  auto second_copy_accounted = [&] {
    const auto a = a_.stats();
    const auto b = b_stats();
    if (!a.is_object() || !b.is_object()) return false;
    return a.value("duplicates", 0) + b.value("duplicates", 0) + b.value("readings_withdrawn", 0) == 50;
  };
  EXPECT_TRUE(wait_until(second_copy_accounted, 10s)) << a_.stats().dump() << "\n" << b_stats().dump();
  const auto stats_a = a_.stats();
  const auto stats_b = b_stats();
  std::cerr << "A stored " << readings_stored(stats_a) << ", duplicates " << stats_a.value("duplicates", 0)
            << "; B stored " << readings_stored(stats_b) << ", duplicates " << stats_b.value("duplicates", 0)
            << ", withdrawn " << stats_b.value("readings_withdrawn", 0) << "\n";
  EXPECT_EQ(stats_a.value("readings_withdrawn", 1), 0);
  // The rollups agree with what B still holds: a withdrawn reading leaves no trace in its buckets.
  auto minutes = store_b->query(
      {"sensor-01", kelvin::proto::Quantity::temperature, now_ms - 120'000, now_ms + 60'000, 60'000, std::nullopt});
  ASSERT_TRUE(minutes.ok()) << minutes.error().message;
  std::uint64_t counted = 0;
  for (const auto& bucket : minutes->buckets) counted += bucket.count;
  EXPECT_EQ(counted, in_b.size());
}

// A gateway that stops cleanly says so (the broker publishes a last will only for a broken
// connection), so a gateway joining later does not wait for it. And a gateway that does wait for a
// peer marked online keeps the telemetry arriving meanwhile and stores it once it may.
TEST_F(ScaleOut, AStoppedGatewaySaysOfflineAndTelemetryArrivingWhileJoiningIsKept) {
  a_.start_gateway();
  start_b();
  ASSERT_TRUE(b_->stop(SIGTERM, 20s).has_value());
  b_.reset();
  const kelvin::testing::DeviceFiles peer = b_identity();
  auto presence_of_b = [&] {
    const fs::path seen = a_.root() / "presence.log";
    fs::remove(seen);
    auto sub = a_.subscribe(peer, presence_topic_of_b(), seen, {"-C", "1", "-W", "5"});
    sub->wait(10s);
    return read_text(seen);
  };
  EXPECT_THAT(presence_of_b(), HasSubstr("\"state\":\"offline\""));

  // Now a presence that says online although nobody is there (as a peer that vanished without its
  // will being published yet would leave): A, restarted, waits for that peer's summary.
  auto stale = a_.publish(peer, presence_topic_of_b(), R"({"state":"online","session":"gone"})", {"-r"});
  ASSERT_EQ(stale.exit_code, 0) << stale.err;
  a_.stop_gateway(SIGTERM);
  a_.start_gateway();
  // A reading sent during the wait (mosquitto_rr never resends): held, then stored and acknowledged.
  const std::int64_t now_ms = unix_now_ms();
  auto ack = a_.request(a_.device_files("sensor-01"), "devices/sensor-01/telemetry",
                        R"({"seq":1,"ts":)" + std::to_string(now_ms) + R"(,"values":{"temperature":21.5}})",
                        "devices/sensor-01/ack", 20);
  ASSERT_EQ(ack.exit_code, 0) << ack.err << a_.gateway_log();
  EXPECT_THAT(ack.out, HasSubstr("{\"seq\":1}"));
  EXPECT_THAT(a_.gateway_log(), HasSubstr("no summary from 1 gateway(s) marked online (first: svc-gateway-b)"));
  EXPECT_EQ(*a_.open_store().acked_seq("sensor-01"), 1u);
}

// Rules operators add, change and remove through one gateway's API are the rules of every gateway
// of the group (docs/scaling.md, "Alert rules"): live, and for a gateway that was away when they
// changed. A version one gateway publishes (here: B's identity, through mosquitto_pub) is taken by
// the others when it is newer; a malformed one is counted and changes nothing.
TEST_F(ScaleOut, AlertRulesAddedThroughOneGatewayAreTheRulesOfEveryGatewayOfTheGroup) {
  using nlohmann::json;
  auto signed_in = start_both_with_admin_on_a();
  ASSERT_TRUE(signed_in);
  kelvin::testing::Browser& admin = *signed_in;

  const json hot = json::parse(R"({"name":"hot","kind":"threshold","quantity":"temperature","above":20})");
  auto added = admin.request("POST", "/api/v1/alert-rules", hot);
  ASSERT_EQ(added.status, 201) << added.raw;
  ASSERT_TRUE(wait_until([&] { return b_rules().count("hot") == 1; }, 20s)) << "B never took the rule";
  EXPECT_EQ(json::parse(b_rules()["hot"]), added.body);

  // Changed while B is away: B takes the newest versions when it joins again, a removal included.
  ASSERT_TRUE(b_->stop(SIGTERM, 20s).has_value());
  b_.reset();
  auto changed = admin.request("PUT", "/api/v1/alert-rules/hot",
                               json{{"kind", "threshold"}, {"quantity", "temperature"}, {"above", 30}});
  ASSERT_EQ(changed.status, 200) << changed.raw;
  const json cold = json::parse(R"({"name":"cold","kind":"threshold","quantity":"temperature","below":-5})");
  ASSERT_EQ(admin.request("POST", "/api/v1/alert-rules", cold).status, 201);
  ASSERT_EQ(admin.request("DELETE", "/api/v1/alert-rules/cold").status, 204);
  start_b();
  ASSERT_TRUE(
      wait_until([&] { return b_rules().count("hot") == 1 && json::parse(b_rules()["hot"])["above"] == 30.0; }, 20s))
      << (b_rules().count("hot") ? b_rules()["hot"] : "no rule hot");
  EXPECT_EQ(b_rules().count("cold"), 0u) << "a removed rule came back";

  // B's identity publishes a newer version (as B would after a change through its own API), and
  // a malformed one: A takes the first, refuses the second, and goes on. B is stopped meanwhile: its
  // identity is its client id, and the broker lets one connection hold it (B reconnecting would
  // take it from mosquitto_pub).
  ASSERT_TRUE(b_->stop(SIGTERM, 20s).has_value());
  b_.reset();
  const kelvin::testing::DeviceFiles peer = b_identity();
  const std::string topic = std::string("kelvin/gateways/") + kPeer + "/rules/";
  const std::string later = std::to_string(unix_now_ms() + 1000);
  ASSERT_EQ(a_.publish(peer, topic + "warm",
                       R"({"name":"warm","rule":{"name":"warm","kind":"threshold","quantity":"humidity","above":80.0},)"
                       R"("created_by":"vera","created_ms":)" +
                           later + R"(,"updated_by":"vera","updated_ms":)" + later + "}",
                       {"-r"})
                .exit_code,
            0);
  ASSERT_EQ(a_.publish(peer, topic + "bad", R"({"name":"bad","removed_by":"vera"})", {"-r"}).exit_code, 0);
  ASSERT_TRUE(wait_until(
      [&] {
        const auto stats = read_stats(a_.state_dir() / "gateway-stats.json");
        return stats.is_object() && stats.contains("shared_rules") && stats["shared_rules"].value("rejected", 0) >= 1;
      },
      20s))
      << read_stats(a_.state_dir() / "gateway-stats.json").dump();
  const auto listed = admin.request("GET", "/api/v1/alert-rules");
  ASSERT_EQ(listed.status, 200) << listed.raw;
  EXPECT_EQ(listed.body["added"]["warm"]["created_by"], "vera") << listed.raw;
  EXPECT_FALSE(listed.body["added"].contains("bad")) << listed.raw;
  EXPECT_TRUE(kelvin::testing::has_log_record_about(a_.gateway_log(), "warn", "alerts", {{"gateway", "svc-gateway-b"}},
                                                    "a rule shared by gateway svc-gateway-b is refused"))
      << a_.gateway_log();
  // And B agrees when it is back: it takes the same version from A, or from its own topic.
  start_b();
  ASSERT_TRUE(wait_until([&] { return b_rules().count("warm") == 1; }, 20s));
}

// Silences set or lifted through one gateway's API hold on every gateway of the group
// (docs/scaling.md, "Silences"): live, and for a gateway that was away, a lift included. A version
// B's identity publishes (through mosquitto_pub) is taken by A; a malformed one is counted.
TEST_F(ScaleOut, SilencesSetOrLiftedThroughOneGatewayHoldOnEveryGatewayOfTheGroup) {
  using nlohmann::json;
  auto signed_in = start_both_with_admin_on_a();
  ASSERT_TRUE(signed_in);
  kelvin::testing::Browser& admin = *signed_in;
  const auto in_an_hour = unix_now_ms() + 3'600'000;

  auto silenced = admin.request(
      "POST", "/api/v1/silences",
      json{
          {"rule", "device_offline"}, {"subject", "sensor-01"}, {"until_ms", in_an_hour}, {"comment", "on the bench"}});
  ASSERT_EQ(silenced.status, 200) << silenced.raw;
  ASSERT_TRUE(wait_until([&] { return b_silences().count("device_offline sensor-01") == 1; }, 20s))
      << "B never took the silence:\n"
      << read_text(b_dir_ / "gateway.log");
  EXPECT_EQ(b_silences()["device_offline sensor-01"], "admin");
  // The operator's action names who did it and from where.
  EXPECT_TRUE(kelvin::testing::has_log_record_about(a_.gateway_log(), "info", "https",
                                                    {{"user", "admin"}, {"client", "127.0.0.1"}},
                                                    "admin silenced device_offline sensor-01"))
      << a_.gateway_log();

  // Lifted, and another set, while B is away: B takes both when it joins again.
  ASSERT_TRUE(b_->stop(SIGTERM, 20s).has_value());
  b_.reset();
  ASSERT_EQ(
      admin.request("DELETE", "/api/v1/silences/" + std::to_string(silenced.body["id"].get<std::int64_t>())).status,
      204);
  ASSERT_EQ(admin
                .request("POST", "/api/v1/silences",
                         json{{"rule", "certificate_expiry"}, {"subject", "sensor-02"}, {"until_ms", in_an_hour}})
                .status,
            200);
  start_b();
  ASSERT_TRUE(wait_until([&] { return b_silences().count("certificate_expiry sensor-02") == 1; }, 20s))
      << read_text(b_dir_ / "gateway.log");
  EXPECT_EQ(b_silences().count("device_offline sensor-01"), 0u) << "a lifted silence came back";

  // B's identity publishes a silence (as B would after one set through its own API), and a
  // malformed one: A takes the first, refuses the second, and goes on. B is stopped meanwhile, as
  // above.
  ASSERT_TRUE(b_->stop(SIGTERM, 20s).has_value());
  b_.reset();
  const kelvin::testing::DeviceFiles peer = b_identity();
  const std::string topic = std::string("kelvin/gateways/") + kPeer + "/silences/";
  const std::string later = std::to_string(in_an_hour - 3'590'000);
  ASSERT_EQ(a_.publish(peer, topic + "outbox_drops/sensor-03",
                       R"({"rule":"outbox_drops","subject":"sensor-03","until_ms":)" + std::to_string(in_an_hour) +
                           R"(,"set_by":"vera","set_ms":)" + later + R"(,"comment":"flaky radio"})",
                       {"-r"})
                .exit_code,
            0);
  ASSERT_EQ(
      a_.publish(peer, topic + "outbox_drops/sensor-04", R"({"rule":"outbox_drops","subject":"sensor-04"})", {"-r"})
          .exit_code,
      0);
  ASSERT_TRUE(wait_until(
      [&] {
        const auto stats = read_stats(a_.state_dir() / "gateway-stats.json");
        return stats.is_object() && stats.contains("shared_silences") &&
               stats["shared_silences"].value("rejected", 0) >= 1;
      },
      20s))
      << read_stats(a_.state_dir() / "gateway-stats.json").dump();
  std::map<std::string, json> listed_by_pair;
  const auto listed = admin.request("GET", "/api/v1/silences");
  ASSERT_EQ(listed.status, 200) << listed.raw;
  for (const auto& silence : listed.body["silences"]) {
    listed_by_pair[silence["rule"].get<std::string>() + " " + silence["subject"].get<std::string>()] = silence;
  }
  ASSERT_EQ(listed_by_pair.count("outbox_drops sensor-03"), 1u) << listed.raw;
  EXPECT_EQ(listed_by_pair["outbox_drops sensor-03"]["created_by"], "vera");
  EXPECT_EQ(listed_by_pair["outbox_drops sensor-03"]["comment"], "flaky radio");
  EXPECT_EQ(listed_by_pair.count("outbox_drops sensor-04"), 0u) << listed.raw;
  EXPECT_TRUE(kelvin::testing::has_log_record_about(a_.gateway_log(), "warn", "alerts", {{"gateway", "svc-gateway-b"}},
                                                    "a silence shared by gateway svc-gateway-b is refused"))
      << a_.gateway_log();
  // And B agrees when it is back.
  start_b();
  ASSERT_TRUE(wait_until([&] { return b_silences().count("outbox_drops sensor-03") == 1; }, 20s));
}

// Both gateways see a device's statuses, so both raise its device_offline alert and both queue a
// notification of each transition for the webhook they share: the receiver (Node, not kelvin's)
// hears of the firing once and of the resolution once, each from the gateway that judged it its
// own (notification_referee.hpp); the other keeps its delivery as left to that gateway.
TEST_F(ScaleOut, AWebhookBothGatewaysNotifyHearsOfEachTransitionOfAnAlertBothRaiseOnce) {
  kelvin::testing::WebhookReceiver receiver(a_, "receiver");
  auto configure = [&](const fs::path& config, const fs::path& secret_file) {
    std::ofstream(secret_file) << std::string(64, 'k') << "\n";
    fs::permissions(secret_file, fs::perms::owner_read | fs::perms::owner_write);
    std::ofstream(config, std::ios::app) << "[alerts]\ninterval_s = 1\n[[alerts.webhook]]\nname = \"ops\"\nurl = \""
                                         << receiver.url("/hook") << "\"\nsecret_file = \"" << secret_file.string()
                                         << "\"\nca_file = \"" << (a_.pki_dir() / "ca.crt").string() << "\"\n";
  };
  configure(a_.config_file(), a_.root() / "webhook.secret");
  configure(b_config(), b_dir_ / "webhook.secret");
  a_.start_gateway();
  start_b();
  // Each gateway stores some of every device's readings, so both know the devices.
  start_devices();
  ASSERT_TRUE(wait_until(
      [&] {
        auto a_store = a_.open_store();
        auto b_store = kelvin::store::Store::open(b_state() / "telemetry.db");
        if (!b_store) return false;
        auto a_device = a_store.device("sensor-01");
        auto b_device = b_store->device("sensor-01");
        return a_device.ok() && a_device->has_value() && b_device.ok() && b_device->has_value();
      },
      30s));
  ASSERT_TRUE(simulator_->stop(SIGTERM, 30s).has_value());
  simulator_.reset();

  // sensor-01's status, as its last will or the device would say it.
  const kelvin::testing::DeviceFiles sensor = a_.device_files("sensor-01");
  auto say = [&](const std::string& status) {
    EXPECT_EQ(a_.publish(sensor, "devices/sensor-01/status", status, {"-r"}).exit_code, 0);
  };
  auto nothing_waits = [&] {
    return wait_until([&] { return waiting_deliveries(a_.state_dir()) == 0u && waiting_deliveries(b_state()) == 0u; },
                      20s);
  };
  // The simulator's stop sent each device's last will: what it fires settles first (the engines
  // evaluate every second, and a notification is judged 2 s after its transition).
  say(R"({"state":"online","fw":"1.0.0"})");
  ASSERT_TRUE(wait_until(
      [&] {
        return !firing(a_.state_dir(), "device_offline", "sensor-01") &&
               !firing(b_state(), "device_offline", "sensor-01");
      },
      20s));
  std::this_thread::sleep_for(3s);
  ASSERT_TRUE(nothing_waits());

  // The transitions counted: sensor-01 offline, then online again.
  const std::int64_t offline_ms = unix_now_ms();
  say(R"({"state":"offline"})");
  ASSERT_TRUE(wait_until(
      [&] {
        return firing(a_.state_dir(), "device_offline", "sensor-01") &&
               firing(b_state(), "device_offline", "sensor-01");
      },
      20s))
      << "both gateways raise it";
  say(R"({"state":"online","fw":"1.0.0"})");
  ASSERT_TRUE(wait_until(
      [&] {
        return !firing(a_.state_dir(), "device_offline", "sensor-01") &&
               !firing(b_state(), "device_offline", "sensor-01");
      },
      20s))
      << "both gateways resolve it";
  ASSERT_TRUE(nothing_waits());
  std::this_thread::sleep_for(1s);  // a POST under way arrives

  std::map<std::string, int> heard;  // event -> notifications of the alerts that started since
  for (const auto& request : receiver.requests()) {
    const auto body = nlohmann::json::parse(request["body"].get<std::string>());
    const auto& alert = body["alert"];
    if (alert["rule"] == "device_offline" && alert["subject"] == "sensor-01" &&
        alert["started_ms"].get<std::int64_t>() >= offline_ms) {
      ++heard[body["event"].get<std::string>()];
    }
  }
  EXPECT_EQ(heard["fired"], 1) << "the firing once, not once per gateway";
  EXPECT_EQ(heard["resolved"], 1) << "the resolution once";
  // The other gateway's deliveries are kept as left to the one that sent them.
  const std::string logs = a_.gateway_log() + read_text(b_dir_ / "gateway.log");
  for (const char* event : {"fired", "resolved"}) {
    const std::string kept = std::string("(device_offline sensor-01 ") + event + ") is left to gateway";
    EXPECT_NE(logs.find(kept), std::string::npos) << kept;
  }

  // A malformed state in B's name (mosquitto_pub with B's identity, B stopped first: the broker
  // binds the client id to it): A refuses it, says so, and goes on.
  ASSERT_TRUE(b_->stop(SIGTERM, 20s).has_value());
  b_.reset();
  ASSERT_EQ(a_.publish(b_identity(), std::string("kelvin/gateways/") + kPeer + "/alerts/device_offline/sensor-02",
                       R"({"rule":"device_offline","subject":"sensor-02","started_ms":5,"ended_ms":1,"webhooks":[]})")
                .exit_code,
            0);
  ASSERT_TRUE(wait_until(
      [&] {
        const auto stats = a_.stats();
        return stats.contains("shared_alert_states") && stats["shared_alert_states"].value("rejected", 0) == 1;
      },
      20s))
      << a_.stats().dump();
  EXPECT_TRUE(kelvin::testing::has_log_record_about(a_.gateway_log(), "warn", "alerts", {{"gateway", kPeer}},
                                                    "it ends before it started"))
      << a_.gateway_log();
  EXPECT_EQ(a_.stats().value("connected", 0), 1);
}

}  // namespace
