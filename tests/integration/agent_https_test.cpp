// kelvin-agent with transport = "https" (docs/agent.md) against the real kelvin-gateway: the
// delivery guarantee over the gateway's HTTPS device routes, with the agent killed mid-request,
// the gateway away, a full outbox and a revoked certificate; and the status route as an outside
// client (Debian's curl) meets it. What is stored is read from the store; what the agent kept,
// from its outbox journal once it has stopped.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "https_client.hpp"
#include "installation.hpp"
#include "kelvin/linux_port/file_outbox_journal.hpp"
#include "log_records.hpp"

namespace {

namespace fs = std::filesystem;
using kelvin::testing::BackgroundProcess;
using kelvin::testing::DeviceFiles;
using kelvin::testing::HttpsAnswer;
using kelvin::testing::Installation;
using kelvin::testing::project_binary;
using kelvin::testing::read_text;
using kelvin::testing::wait_until;
using ::testing::HasSubstr;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Holds the gateway store's write lock from a connection of its own while it lives: the gateway's
// commits fail (and are retried), so a request waits for its answer as long as the test wants.
class StoreWriteLock {
 public:
  explicit StoreWriteLock(const fs::path& db) {
    EXPECT_EQ(sqlite3_open(db.c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 10'000);
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
  }
  ~StoreWriteLock() { release(); }
  StoreWriteLock(const StoreWriteLock&) = delete;
  StoreWriteLock& operator=(const StoreWriteLock&) = delete;
  void release() {
    if (db_ == nullptr) return;
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
  }

 private:
  sqlite3* db_ = nullptr;
};

class AgentHttps : public ::testing::Test {
 protected:
  void SetUp() override {
    // A fixed HTTPS port instead of the installation's ephemeral one: the agent must find the
    // gateway again after a restart, and before the gateway ever ran.
    const std::string ephemeral = "[http]\nbind = \"127.0.0.1\"\nport = 0\n";
    std::string config = read_text(install_.config_file());
    const auto at = config.find(ephemeral);
    ASSERT_NE(at, std::string::npos) << "the installation's [http] section changed:\n" << config;
    http_port_ = kelvin::testing::free_tcp_port();
    config.replace(at, ephemeral.size(), "[http]\nbind = \"127.0.0.1\"\nport = " + std::to_string(http_port_) + "\n");
    std::ofstream(install_.config_file(), std::ios::trunc) << config;
    files_ = install_.issue_device(kDevice);
    write_agent_config(100'000);
  }

  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "---- gateway log ----\n" << install_.gateway_log();
      std::cerr << "---- agent log ----\n" << agent_log();
    }
  }

  void write_agent_config(std::size_t outbox_capacity, const std::string& device = kDevice) {
    const DeviceFiles files = install_.device_files(device);
    std::ofstream(config_file()) << "device_id = \"" << device << "\"\n"
                                 << "interval_s = 0.1\n"
                                 << "transport = \"https\"\n"
                                 << "[https]\n"
                                 << "host = \"localhost\"\n"
                                 << "port = " << http_port_ << "\n"
                                 << "ca_file = \"" << files.ca.string() << "\"\n"
                                 << "cert_file = \"" << files.cert.string() << "\"\n"
                                 << "key_file = \"" << files.key.string() << "\"\n"
                                 << "timeout_s = 60\n"
                                 << "[outbox]\n"
                                 << "dir = \"" << outbox_dir().string() << "\"\n"
                                 << "capacity = " << outbox_capacity << "\n"
                                 << "[[sensor]]\n"
                                 << "type = \"sim\"\n"
                                 << "seed = 3\n";
  }

  fs::path config_file() const { return install_.root() / "agent.toml"; }
  fs::path outbox_dir() const { return install_.root() / "outbox"; }
  std::string agent_log() const { return read_text(install_.root() / "agent.log"); }

  void start_agent() {
    agent_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{project_binary("kelvin-agent"), "run", "--config", config_file().string()},
        install_.root() / "agent.log");
  }

  // Stops the agent cleanly (it waits for its last acks) and returns its outbox as it left it.
  kelvin::device::OutboxSnapshot stop_agent() {
    auto code = agent_->stop(SIGTERM, 30s);
    EXPECT_TRUE(code.has_value() && *code == 0) << "the agent did not stop cleanly";
    auto journal = kelvin::linux_port::FileOutboxJournal::open(outbox_dir());
    EXPECT_TRUE(journal.ok()) << journal.error().message;
    return journal ? journal->snapshot() : kelvin::device::OutboxSnapshot{};
  }

  // Attempts that ended without an answer, as the agent logs them.
  std::size_t failed_attempts() const {
    const std::string log = agent_log();
    std::size_t count = 0;
    for (auto at = log.find("no answer from the gateway"); at != std::string::npos;
         at = log.find("no answer from the gateway", at + 1)) {
      ++count;
    }
    return count;
  }

  std::uint64_t acked(const std::string& device = kDevice) {
    auto seq = install_.open_store().acked_seq(device);
    return seq ? *seq : 0;
  }

  std::uint64_t stat(const std::string& name) {
    auto s = install_.stats();
    return s.is_null() ? 0 : s.value(name, std::uint64_t{0});
  }

  // Waits until the gateway has acknowledged `more` readings beyond what it had when called.
  void expect_progress(std::uint64_t more, const char* after) {
    const std::uint64_t from = acked();
    EXPECT_TRUE(wait_until([&] { return acked() >= from + more; }, 60s))
        << "no progress after " << after << ": ack stuck at " << acked();
  }

  // After the agent stopped: the store holds exactly the seqs 1..produced, each once.
  void expect_everything_stored_once(const kelvin::device::OutboxSnapshot& outbox) {
    const std::uint64_t produced = outbox.next_seq - 1;
    ASSERT_GT(produced, 0u);
    EXPECT_EQ(outbox.dropped_total, 0u);
    // Readings unacknowledged at the agent's exit would go at its next start; a clean stop after
    // a live stream leaves none.
    EXPECT_TRUE(outbox.pending.empty()) << outbox.pending.size() << " readings left unacknowledged";
    EXPECT_EQ(outbox.acked_seq, produced) << "the agent's own ack did not reach its last reading";
    auto device = install_.open_store().device(kDevice);
    ASSERT_TRUE(device.ok() && device->has_value());
    // Rows are unique per (device, seq) and the ack says 1..produced are all consumed; with no
    // rejection and nothing given up, the stored set is exactly {1..produced}.
    EXPECT_EQ((*device)->acked_seq, produced);
    EXPECT_EQ((*device)->readings_stored, produced);
    EXPECT_EQ((*device)->rejected_total, 0u);
    EXPECT_EQ(stat("readings_given_up"), 0u);
  }

  static constexpr const char* kDevice = "sensor-05";
  Installation install_;
  DeviceFiles files_;
  int http_port_ = 0;
  std::unique_ptr<BackgroundProcess> agent_;
};

TEST_F(AgentHttps, ReadingsAreStoredAndAcknowledgedOverHttps) {
  install_.start_gateway();
  start_agent();
  expect_progress(30, "start");
  EXPECT_GT(install_.stats()["http"].value("requests", 0), 0) << "the readings did not come over HTTPS";
  const auto outbox = stop_agent();
  expect_everything_stored_once(outbox);
  // The status went over HTTPS too: the online status first, the offline one at the clean stop.
  auto device = install_.open_store().device(kDevice);
  ASSERT_TRUE(device.ok() && device->has_value() && (*device)->status.has_value());
  EXPECT_EQ((*device)->status->state, "offline");
  EXPECT_FALSE((*device)->status->firmware.empty());
  EXPECT_TRUE(wait_until([&] { return stat("status_updates") >= 2; }, 10s)) << install_.stats().dump();
  // The agent's log is JSON lines too, each of the device's lines naming it.
  const std::string log = agent_log();
  EXPECT_THAT(kelvin::testing::lines_not_records(log), ::testing::IsEmpty()) << log;
  EXPECT_TRUE(kelvin::testing::has_log_record(log, "info", "agent", "connected: the gateway answers over HTTPS"))
      << log;
  for (const auto& record : kelvin::testing::log_records(log)) {
    if (record.value("component", "") == "agent") {
      EXPECT_EQ(record.value("device", ""), kDevice) << record.dump();
    }
  }
}

// The agent dies while its request waits for the answer (the store is held, so the commit cannot
// happen yet). The gateway then stores what it took, which the dead agent never heard acknowledged
// and still holds in its outbox. The restarted agent's first request, its status, is answered with
// the ack, which covers those readings: they are freed, not sent twice, and every seq ends up stored
// exactly once, none missing.
TEST_F(AgentHttps, AnAgentKilledMidRequestLosesAndDoublesNothing) {
  install_.start_gateway();
  start_agent();
  expect_progress(10, "start");
  {
    const std::uint64_t accepted_before = stat("readings_accepted");
    StoreWriteLock lock(install_.state_dir() / "telemetry.db");
    // The barrier: the gateway took readings it cannot commit, so the agent's request is waiting.
    ASSERT_TRUE(
        wait_until([&] { return stat("readings_accepted") > accepted_before && stat("commit_failures") >= 1; }, 30s))
        << install_.stats().dump();
    ASSERT_EQ(install_.stats()["http"].value("connections_active", 0), 1) << install_.stats().dump();
    ASSERT_TRUE(agent_->stop(SIGKILL).has_value());
  }
  // The lock is released: the gateway commits what it took from the dead agent (nothing else
  // arrives meanwhile).
  const std::uint64_t accepted = stat("readings_accepted");
  ASSERT_TRUE(wait_until([&] { return stat("readings_stored") + stat("duplicates") >= accepted; }, 30s))
      << "the taken readings were not stored: " << install_.stats().dump();
  const std::uint64_t stored_while_dead = acked();
  {
    // The dead agent's outbox still holds readings the gateway has stored.
    auto journal = kelvin::linux_port::FileOutboxJournal::open(outbox_dir());
    ASSERT_TRUE(journal.ok()) << journal.error().message;
    ASSERT_LT(journal->snapshot().acked_seq, stored_while_dead) << "the kill did not land mid-request";
  }
  const std::uint64_t duplicates_before = stat("duplicates");

  start_agent();
  expect_progress(20, "the agent's restart");
  const auto outbox = stop_agent();
  expect_everything_stored_once(outbox);
  EXPECT_TRUE(wait_until([&] { return stat("readings_stored") == outbox.next_seq - 1; }, 10s))
      << install_.stats().dump();
  EXPECT_EQ(stat("duplicates"), duplicates_before)
      << "the restarted agent resent readings its status's answer had acknowledged";
}

TEST_F(AgentHttps, AnAgentStartedBeforeTheGatewayBacksOffThenDeliversEverything) {
  start_agent();  // nothing listens on the HTTPS port yet
  const auto started = Clock::now();
  ASSERT_TRUE(wait_until([&] { return failed_attempts() >= 3; }, 30s)) << "the agent did not try";
  // The backoff (1 s doubling, with equal jitter) puts at least 0.5 + 1 s between the first and
  // the third attempt; an agent that did not back off would have made them within milliseconds.
  EXPECT_GE(Clock::now() - started, 1400ms) << failed_attempts() << " attempts";
  EXPECT_THAT(agent_log(), HasSubstr("next attempt in"));

  install_.start_gateway();
  expect_progress(40, "the gateway came up");
  const auto outbox = stop_agent();
  // The agent may stop with exactly the 40 readings acknowledged. Those include the ones taken
  // while the gateway was away (at one per 0.1 s over the 1.4 s or more before it started), and
  // the check below finds every seq from 1 stored once.
  ASSERT_GE(outbox.next_seq - 1, 40u);
  expect_everything_stored_once(outbox);
}

// Over HTTPS the status route carries oldest_seq: without it the ack would stall at the readings
// the full outbox dropped before the gateway came up.
TEST_F(AgentHttps, ReadingsDroppedByAFullOutboxAreGivenUpAndTheAckMovesOn) {
  write_agent_config(10);
  start_agent();  // no gateway yet: the outbox keeps the newest 10 readings and drops the rest
  ASSERT_TRUE(wait_until([&] { return failed_attempts() >= 1; }, 30s));
  std::this_thread::sleep_for(3s);  // about 30 readings, at least 15 dropped
  install_.start_gateway();
  ASSERT_TRUE(wait_until([&] { return stat("readings_given_up") >= 15; }, 30s)) << install_.stats().dump();
  expect_progress(20, "the outbox overflowed");

  const auto outbox = stop_agent();
  const std::uint64_t produced = outbox.next_seq - 1;
  EXPECT_GE(outbox.dropped_total, 15u);
  ASSERT_TRUE(wait_until([&] { return acked() == produced; }, 20s)) << "produced " << produced << ", acked " << acked();
  auto device = install_.open_store().device(kDevice);
  ASSERT_TRUE(device.ok() && device->has_value());
  // Every seq is stored or given up (the statistics file lags the store by up to a second).
  EXPECT_TRUE(wait_until([&] { return (*device)->readings_stored + stat("readings_given_up") == produced; }, 5s))
      << "stored " << (*device)->readings_stored << " + given up " << stat("readings_given_up") << " != produced "
      << produced;
  EXPECT_LE(stat("readings_given_up"), outbox.dropped_total);
}

TEST_F(AgentHttps, ARevokedDeviceIsRefusedAndNothingOfItIsStored) {
  install_.kelvinctl({"pki", "--dir", install_.pki_dir().string(), "revoke", kDevice});
  install_.start_gateway();  // loads the CRL with the revocation
  start_agent();
  // The barrier: the gateway refused the agent's handshakes twice (the agent backed off between).
  ASSERT_TRUE(wait_until([&] { return install_.stats()["http"].value("handshake_failures", 0) >= 2; }, 30s))
      << install_.stats().dump();
  ASSERT_TRUE(wait_until([&] { return failed_attempts() >= 2; }, 10s));
  EXPECT_THAT(agent_log(), HasSubstr("revoked"));

  // Debian's curl with the same certificate: refused in the handshake as well.
  ASSERT_TRUE(wait_until([&] { return install_.http_port().has_value(); }, 10s));
  auto curl = kelvin::testing::run_command(
      {"curl", "-sS", "--max-time", "20", "--cacert", files_.ca.string(), "--cert", files_.cert.string(), "--key",
       files_.key.string(), "-X", "PUT", "-H", "Content-Type: application/json", "--data-binary",
       R"({"state":"online","oldest_seq":1})",
       "https://localhost:" + std::to_string(http_port_) + "/api/v1/devices/" + kDevice + "/status"});
  EXPECT_NE(curl.exit_code, 0) << kelvin::testing::describe(curl);

  ASSERT_TRUE(agent_->stop(SIGTERM, 30s).has_value());
  auto device = install_.open_store().device(kDevice);
  ASSERT_TRUE(device.ok()) << device.error().message;
  if (device->has_value()) {
    EXPECT_EQ((*device)->readings_stored, 0u);
    EXPECT_EQ((*device)->acked_seq, 0u);
    EXPECT_FALSE((*device)->status.has_value()) << "a revoked device's status was recorded";
  }
  EXPECT_EQ(stat("status_updates"), 0u);
  EXPECT_EQ(stat("readings_accepted"), 0u);
}

// PUT /api/v1/devices/{id}/status from an outside client: Debian's curl with device certificates.
class HttpsStatusRoute : public ::testing::Test {
 protected:
  void SetUp() override {
    sensor1_ = install_.issue_device("sensor-01");
    sensor2_ = install_.issue_device("sensor-02");
    install_.start_gateway();
    ASSERT_TRUE((port_ = install_.await_http_port()).has_value());
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << "---- gateway log ----\n" << install_.gateway_log();
  }

  HttpsAnswer put(const std::optional<DeviceFiles>& identity, const std::string& device, const std::string& body) {
    return kelvin::testing::device_request(install_, *port_, identity, "PUT", "/api/v1/devices/" + device + "/status",
                                           body);
  }

  std::optional<kelvin::store::DeviceStatus> recorded(const std::string& device) {
    auto info = install_.open_store().device(device);
    if (!info.ok() || !info->has_value()) return std::nullopt;
    return (*info)->status;
  }

  Installation install_;
  DeviceFiles sensor1_, sensor2_;
  std::optional<int> port_;
};

TEST_F(HttpsStatusRoute, OnlyTheDevicesOwnCertificateMayPutItsStatus) {
  auto other = put(sensor2_, "sensor-01", R"({"state":"online","fw":"9.9","oldest_seq":1000})");
  EXPECT_EQ(other.status, 403) << other.raw;
  EXPECT_EQ(other.body["error"]["code"], "device_mismatch");
  auto none = put(std::nullopt, "sensor-01", R"({"state":"online"})");
  EXPECT_EQ(none.status, 401) << none.raw;
  EXPECT_EQ(none.body["error"]["code"], "client_certificate_required");

  // The barrier: the device's own status is recorded, and the refused ones were not.
  auto own = put(sensor1_, "sensor-01",
                 R"({"state":"online","fw":"1.2.0","dropped":0,"oldest_seq":1,"release_check":"timestamp_missing"})");
  ASSERT_EQ(own.status, 200) << own.raw;
  EXPECT_EQ(own.body, nlohmann::json::parse(R"({"seq":0})"));
  auto status = recorded("sensor-01");
  ASSERT_TRUE(status.has_value()) << "answered before the status was recorded";
  EXPECT_EQ(status->firmware, "1.2.0");
  EXPECT_EQ(status->release_check, "timestamp_missing");
  EXPECT_TRUE(wait_until([&] { return install_.stats().value("status_updates", 0) == 1; }, 10s))
      << install_.stats().dump();
}

TEST_F(HttpsStatusRoute, AnOldestSeqMovesTheAckPastReadingsTheDeviceDropped) {
  // Readings 1..2 and 5..6 arrive; 3..4 were dropped by the device's full outbox.
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::string batch = R"({"batch":[)";
  for (int seq : {1, 2, 5, 6}) {
    batch += (seq == 1 ? "" : ",") + std::string(R"({"seq":)") + std::to_string(seq) + R"(,"ts":)" +
             std::to_string(now_ms - 1000 + seq) + R"(,"values":{"temperature":20}})";
  }
  batch += "]}";
  auto posted = kelvin::testing::run_command(
      {"curl", "-sS", "--max-time", "20", "--cacert", sensor1_.ca.string(), "--cert", sensor1_.cert.string(), "--key",
       sensor1_.key.string(), "-H", "Content-Type: application/json", "--data-binary", batch,
       "https://localhost:" + std::to_string(*port_) + "/api/v1/devices/sensor-01/telemetry"});
  ASSERT_EQ(posted.exit_code, 0) << kelvin::testing::describe(posted);
  EXPECT_EQ(nlohmann::json::parse(posted.out, nullptr, false)["seq"], 2) << posted.out;

  auto status = put(sensor1_, "sensor-01", R"({"state":"online","fw":"1.2.0","dropped":2,"oldest_seq":5})");
  ASSERT_EQ(status.status, 200) << status.raw;
  EXPECT_EQ(status.body["seq"], 6) << "the ack did not pass the dropped seqs";
  auto refused = put(sensor1_, "sensor-01", R"({"state":"online","dropped":-1})");
  EXPECT_EQ(refused.status, 400) << refused.raw;
  EXPECT_EQ(refused.body["error"]["code"], "invalid_status");
  EXPECT_EQ(refused.body["seq"], 6);
  EXPECT_TRUE(wait_until([&] { return install_.stats().value("readings_given_up", 0) == 2; }, 10s))
      << install_.stats().dump();
}

}  // namespace
