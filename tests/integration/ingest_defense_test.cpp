// What the gateway does with traffic the protocol forbids, driven from outside with Debian's
// mosquitto_pub/mosquitto_sub: retained telemetry (which would come back at every subscription,
// even for a purged device) and a client using the gateway's own identity (taking over its
// session).

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>

#include "installation.hpp"

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

}  // namespace
