// What the gateway does with traffic the protocol forbids, driven from outside with Debian's
// mosquitto_pub/mosquitto_sub: retained telemetry (which would come back at every subscription,
// even for a purged device) and a client using the gateway's own identity (taking over its
// session); and what it does when a broker refuses its subscriptions.

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <string>

#include "installation.hpp"
#include "locked_down_broker.hpp"

namespace {

using kelvin::testing::DeviceFiles;
using kelvin::testing::Installation;
using kelvin::testing::wait_until;
using namespace std::chrono_literals;

std::string reading_json(std::uint64_t seq) {
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  return R"({"seq":)" + std::to_string(seq) + R"(,"ts":)" + std::to_string(now_ms - 1000) +
         R"(,"values":{"temperature":21.5}})";
}

class IngestDefense : public ::testing::Test {
 protected:
  void SetUp() override {
    sensor1_ = install_.issue_device("sensor-01");
    sensor2_ = install_.issue_device("sensor-02");
    install_.start_gateway();
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- gateway log ----\n" << install_.gateway_log();
  }

  std::uint64_t stat(const std::string& name) {
    auto s = install_.stats();
    return s.is_null() ? 0 : s.value(name, std::uint64_t{0});
  }

  std::uint64_t acked(const std::string& device) {
    auto store = install_.open_store();
    auto seq = store.acked_seq(device);
    return seq ? *seq : 0;
  }

  // Stores a reading of sensor-02 and waits for it: everything the broker sent the gateway before
  // it (such as retained messages replayed at subscription) has been handled by then.
  void barrier(std::uint64_t seq) {
    auto reply = install_.request(sensor2_, "devices/sensor-02/telemetry", reading_json(seq), "devices/sensor-02/ack");
    ASSERT_EQ(reply.exit_code, 0) << reply.err;
    ASSERT_TRUE(wait_until([&] { return acked("sensor-02") >= seq; }, 20s));
  }

  Installation install_;
  DeviceFiles sensor1_, sensor2_;
};

TEST_F(IngestDefense, RetainedTelemetryIsDroppedCountedAndClearedFromTheBroker) {
  auto published = install_.publish(sensor1_, "devices/sensor-01/telemetry", reading_json(1), {"-r"});
  ASSERT_EQ(published.exit_code, 0) << published.err;
  ASSERT_TRUE(wait_until([&] { return stat("retained_telemetry_dropped") == 1; }, 20s))
      << "a retained telemetry message was not recognised";
  barrier(1);
  EXPECT_EQ(acked("sensor-01"), 0u) << "a retained reading was stored";

  // Cleared: after a restart the gateway subscribes again and nothing retained comes back.
  install_.stop_gateway(SIGTERM);
  install_.start_gateway();
  barrier(2);
  EXPECT_EQ(stat("retained_telemetry_dropped"), 0u) << "the retained reading was still on the broker";
  EXPECT_EQ(acked("sensor-01"), 0u);

  // The same reading sent as the protocol says is stored: the dropped one consumed nothing.
  auto reply = install_.request(sensor1_, "devices/sensor-01/telemetry", reading_json(1), "devices/sensor-01/ack");
  ASSERT_EQ(reply.exit_code, 0) << reply.err;
  EXPECT_EQ(reply.out, "devices/sensor-01/ack {\"seq\":1}\n");
}

// Mosquitto 2.0 closes a session taken over without a DISCONNECT reason (MQTT v5's 0x8E): the
// managed gateway recognises it as its connection closed by a broker that kept running.
TEST_F(IngestDefense, AClientUsingTheGatewaysIdentityIsReportedAsASessionTakeover) {
  const auto pki = install_.pki_dir();
  const DeviceFiles service{pki / "ca.crt", pki / "services" / "svc-gateway" / "svc-gateway.crt",
                            pki / "services" / "svc-gateway" / "svc-gateway.key"};
  auto intruder = install_.subscribe(service, "devices/+/status", install_.root() / "intruder.log", {"-V", "mqttv5"});
  ASSERT_TRUE(wait_until([&] { return stat("closed_by_running_broker") + stat("session_takeovers") >= 1; }, 20s))
      << "the takeover of the gateway's session went unnoticed";
  intruder.reset();
  EXPECT_NE(install_.gateway_log().find(" its session"), std::string::npos);
  // The gateway takes its session back and goes on storing.
  ASSERT_TRUE(wait_until([&] { return stat("connected") == 1; }, 30s));
  barrier(1);
}

// A gateway whose store cannot commit (another process holds the database's write lock, as a
// stuck tool or a full disk would) and whose network thread is blocked waiting for room still
// stops on SIGTERM, and acknowledges nothing it did not store.
TEST(IngestWhileTheStoreIsStuck, SigtermStopsTheGatewayWhileCommitsFail) {
  Installation install;
  auto device = install.issue_device("sensor-01");
  std::ofstream(install.config_file(), std::ios::app) << "[ingest]\nmax_waiting_readings = 1\n"
                                                      << "batch_max_readings = 1\n";
  install.start_gateway();
  // Another connection's write lock on the store, held until the end of the test.
  struct WriteLock {
    sqlite3* db = nullptr;
    ~WriteLock() {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      sqlite3_close(db);
    }
  } lock;
  ASSERT_EQ(sqlite3_open((install.state_dir() / "telemetry.db").c_str(), &lock.db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(lock.db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  // One reading for the failing commit, one waiting, and the third blocks the network thread.
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    auto published = install.publish(device, "devices/sensor-01/telemetry", reading_json(seq));
    ASSERT_EQ(published.exit_code, 0) << published.err;
  }
  auto stat = [&](const char* name) {
    auto s = install.stats();
    return s.is_null() ? std::uint64_t{0} : s.value(name, std::uint64_t{0});
  };
  ASSERT_TRUE(wait_until([&] { return stat("commit_failures") >= 2 && stat("messages") >= 2; }, 30s))
      << install.gateway_log();
  const auto exit_code = install.gateway().stop(SIGTERM, 20s);
  ASSERT_TRUE(exit_code.has_value()) << "SIGTERM did not stop the gateway within 20 s\n" << install.gateway_log();
  EXPECT_EQ(stat("acks_published"), 0u) << "nothing was stored, so nothing may be acknowledged";
}

// An external broker that refuses the gateway's subscriptions leaves it connected and storing
// nothing: the gateway must say so, not look healthy.
TEST(IngestAgainstABrokerThatRefuses, RefusedSubscriptionsAreLoggedAsErrorsAndCounted) {
  Installation install;
  kelvin::testing::LockedDownBroker broker(install);
  const auto pki = install.pki_dir();
  const auto state = install.root() / "external-state";
  std::filesystem::create_directories(state);
  std::filesystem::permissions(state, std::filesystem::perms::owner_all);
  const auto config = install.root() / "external-gateway.toml";
  std::ofstream(config) << "state_dir = \"" << state.string() << "\"\n"
                        << "stats_interval_ms = 100\n"
                        << "[http]\nenabled = false\n"  // no PKI of its own in this state dir
                        << "[broker]\nmode = \"external\"\nhost = \"localhost\"\nport = " << broker.port() << "\n"
                        << "ca_file = \"" << (pki / "ca.crt").string() << "\"\n"
                        << "cert_file = \"" << (pki / "services" / "svc-gateway" / "svc-gateway.crt").string() << "\"\n"
                        << "key_file = \"" << (pki / "services" / "svc-gateway" / "svc-gateway.key").string() << "\"\n";
  kelvin::testing::BackgroundProcess gateway(
      {kelvin::testing::project_binary("kelvin-gateway"), "--config", config.string()},
      install.root() / "external-gateway.log");
  auto refused = [&] {
    auto stats = kelvin::testing::read_text(state / "gateway-stats.json");
    auto json = nlohmann::json::parse(stats, nullptr, false);
    return json.is_object() ? json.value("subscriptions_refused", std::uint64_t{0}) : std::uint64_t{0};
  };
  EXPECT_TRUE(wait_until([&] { return refused() >= 2; }, 30s)) << gateway.log();
  EXPECT_NE(gateway.log().find("refused the subscription to 'devices/+/telemetry'"), std::string::npos)
      << gateway.log();
  gateway.stop(SIGTERM);
}

}  // namespace
