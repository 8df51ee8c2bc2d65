// kelvin-gateway with its managed Mosquitto, exercised from outside as devices and attackers see
// it: Debian's mosquitto_pub/mosquitto_rr with device certificates, a device's own connection
// (DeviceProbe) where a test checks what a device does not receive, the store read back directly.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "device_probe.hpp"
#include "installation.hpp"
#include "kelvin/mqtt/client.hpp"
#include "kelvin/pki/certificate_authority.hpp"
#include "log_records.hpp"

namespace {

namespace fs = std::filesystem;
using kelvin::testing::DeviceFiles;
using kelvin::testing::DeviceProbe;
using kelvin::testing::Installation;
using kelvin::testing::read_text;
using kelvin::testing::wait_until;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string reading_json(std::uint64_t seq, double temperature, double humidity, std::int64_t ts = now_ms()) {
  return "{\"seq\":" + std::to_string(seq) + ",\"ts\":" + std::to_string(ts) +
         ",\"values\":{\"temperature\":" + std::to_string(temperature) + ",\"humidity\":" + std::to_string(humidity) +
         "}}";
}

class Gateway : public ::testing::Test {
 protected:
  void SetUp() override {
    sensor1_ = install_.issue_device("sensor-01");
    sensor2_ = install_.issue_device("sensor-02");
    install_.start_gateway();
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- gateway log ----\n" << install_.gateway_log();
  }

  std::uint64_t acked(const std::string& device) {
    auto store = install_.open_store();
    auto seq = store.acked_seq(device);
    return seq ? *seq : 0;
  }

  std::uint64_t stat(const std::string& name) {
    auto s = install_.stats();
    return s.is_null() ? 0 : s.value(name, std::uint64_t{0});
  }

  std::uint64_t rejected(const std::string& reason) {
    auto s = install_.stats();
    return s.is_null() ? 0 : s["rejected"].value(reason, std::uint64_t{0});
  }

  // Proves that reading 1 of `device`, offered by a client the broker must refuse, was not stored:
  // the device itself (`files`: a valid certificate) sends reading 2 and waits for its ack. The
  // broker passes what it accepted to the gateway's one ingest connection in that order, and the
  // ingest commits in arrival order, so this ack accounts for anything accepted before it:
  // {"seq":0} (seq 1 missing) if reading 1 never got in, {"seq":2} if it did.
  void expect_reading_1_was_never_stored(const DeviceFiles& files, const std::string& device) {
    auto reply = install_.request(files, "devices/" + device + "/telemetry", reading_json(2, 20, 50),
                                  "devices/" + device + "/ack");
    ASSERT_EQ(reply.exit_code, 0) << reply.err;
    EXPECT_EQ(reply.out, "devices/" + device + "/ack {\"seq\":0}\n") << "the refused client's reading was stored";
    auto stored = install_.open_store().device(device);
    ASSERT_TRUE(stored.ok() && stored->has_value());
    EXPECT_EQ((*stored)->readings_stored, 1u);
    EXPECT_EQ(acked(device), 0u);
  }

  Installation install_;
  DeviceFiles sensor1_, sensor2_;
};

TEST_F(Gateway, ReadingPublishedWithMosquittoClientsIsStoredAndAcknowledged) {
  const std::int64_t ts = now_ms() - 1000;
  auto reply = install_.request(sensor1_, "devices/sensor-01/telemetry", reading_json(1, 21.5, 40.25, ts),
                                "devices/sensor-01/ack");
  ASSERT_EQ(reply.exit_code, 0) << reply.err;
  EXPECT_EQ(reply.out, "devices/sensor-01/ack {\"seq\":1}\n");

  auto store = install_.open_store();
  auto device = store.device("sensor-01");
  ASSERT_TRUE(device.ok()) << device.error().message;
  ASSERT_TRUE(device->has_value());
  const auto& info = **device;
  EXPECT_EQ(info.acked_seq, 1u);
  EXPECT_EQ(info.readings_stored, 1u);
  ASSERT_TRUE(info.last_reading.has_value());
  EXPECT_EQ(info.last_reading->seq, 1u);
  EXPECT_EQ(info.last_reading->ts_ms, ts);
  EXPECT_EQ(info.last_reading->value(kelvin::proto::Quantity::temperature), 21.5);
  EXPECT_EQ(info.last_reading->value(kelvin::proto::Quantity::humidity), 40.25);
}

// What `top -H -p <pid>` and perf show an operator: each of the gateway's threads by its job.
TEST_F(Gateway, ItsThreadsAreNamedByTheirJob) {
  std::vector<std::string> names;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(install_.gateway().pid()) + "/task")) {
    std::string name = read_text(task.path() / "comm");
    if (!name.empty() && name.back() == '\n') name.pop_back();
    names.push_back(name);
  }
  for (const char* expected : {"mqtt", "ingest-commit", "housekeeping", "https-io", "password-checks", "api-reads",
                               "release-reads", "broker-watch", "broker-log", "live-feed", "alerts", "rollouts"}) {
    EXPECT_THAT(names, ::testing::Contains(std::string(expected)));
  }
}

TEST_F(Gateway, ResentReadingIsStoredOnceAndAcknowledgedAgain) {
  auto payload = "{\"batch\":[" + reading_json(1, 20, 50) + "," + reading_json(2, 20.5, 51) + "]}";
  ASSERT_EQ(install_.publish(sensor1_, "devices/sensor-01/telemetry", payload).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return acked("sensor-01") == 2; }, 10s));
  ASSERT_EQ(install_.publish(sensor1_, "devices/sensor-01/telemetry", payload).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return stat("duplicates") == 2; }, 10s)) << install_.stats().dump();
  auto store = install_.open_store();
  EXPECT_EQ((*store.device("sensor-01"))->readings_stored, 2u);
  EXPECT_EQ(stat("readings_stored"), 2u);
}

TEST_F(Gateway, ClientWithoutCertificateIsRefused) {
  kelvin::testing::CommandOptions options;
  options.timeout = 20s;
  auto result = kelvin::testing::run_command(
      {"mosquitto_pub", "-h", "localhost", "-p", std::to_string(install_.port()), "--cafile", sensor1_.ca.string(),
       "-q", "1", "-t", "devices/sensor-01/telemetry", "-m", reading_json(1, 20, 50)},
      options);
  EXPECT_NE(result.exit_code, 0);
  expect_reading_1_was_never_stored(sensor1_, "sensor-01");
}

TEST_F(Gateway, CertificateFromAnotherCaIsRefused) {
  Installation other;  // a second installation: its own CA
  DeviceFiles foreign = other.issue_device("sensor-01");
  foreign.ca = sensor1_.ca;  // it trusts our broker, but our broker does not trust its CA
  auto result = install_.publish(foreign, "devices/sensor-01/telemetry", reading_json(1, 20, 50));
  EXPECT_NE(result.exit_code, 0);
  expect_reading_1_was_never_stored(sensor1_, "sensor-01");
}

TEST_F(Gateway, ExpiredCertificateIsRefused) {
  auto ca = kelvin::pki::CertificateAuthority::open(install_.pki_dir());
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  kelvin::pki::IssueOptions options;
  options.validity_days = 1;
  options.not_before = std::time(nullptr) - 3 * 86400;
  auto issued = ca->issue(kelvin::pki::CertificateKind::device, "sensor-old", options, std::time(nullptr));
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  auto result =
      install_.publish(install_.device_files("sensor-old"), "devices/sensor-old/telemetry", reading_json(1, 20, 50));
  EXPECT_NE(result.exit_code, 0);
  // A current certificate for the same device (the expired one does not block issuing it).
  expect_reading_1_was_never_stored(install_.issue_device("sensor-old"), "sensor-old");
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

TEST_F(Gateway, RevokedDeviceIsDisconnectedAndCannotReconnect) {
  const std::string connected_line = "as sensor-02 (";
  auto live = install_.subscribe(sensor2_, "devices/sensor-02/ack", install_.root() / "live.log");
  ASSERT_TRUE(wait_until([&] { return occurrences(install_.gateway_log(), connected_line) == 1; }, 10s));
  install_.kelvinctl({"pki", "--dir", install_.pki_dir().string(), "revoke", "sensor-02"});

  // The broker is restarted to drop the live session; mosquitto_sub's reconnect fails the
  // handshake (the broker logs it) and mosquitto_sub gives up.
  ASSERT_TRUE(wait_until([&] { return install_.stats().value("broker_restarts", 0) >= 1; }, 10s));
  EXPECT_TRUE(live->wait(15s).has_value()) << "the revoked device is still connected";
  EXPECT_EQ(occurrences(install_.gateway_log(), connected_line), 1u) << "the revoked device got back in";
  auto again = install_.publish(sensor2_, "devices/sensor-02/telemetry", reading_json(1, 20, 50));
  EXPECT_NE(again.exit_code, 0);
  // Other devices are served again after the broker restart.
  ASSERT_TRUE(wait_until([&] { return install_.stats().value("connected", 0) == 1; }, 15s));
  auto reply =
      install_.request(sensor1_, "devices/sensor-01/telemetry", reading_json(1, 20, 50), "devices/sensor-01/ack");
  EXPECT_EQ(reply.out, "devices/sensor-01/ack {\"seq\":1}\n") << reply.err;
  EXPECT_EQ(acked("sensor-02"), 0u);
}

// The HTTPS server kelvin-gateway starts (docs/gateway.md, "HTTPS server"), met by Debian's curl
// trusting the installation's CA: health answers, the statistics count it, and a device revoked
// with kelvinctl is refused by new HTTPS connections once the gateway notices the new CRL.
TEST_F(Gateway, ServesHealthOverHttpsCountsItAndLoadsANewCrl) {
  std::optional<int> port;
  ASSERT_TRUE(wait_until([&] { return (port = install_.http_port()).has_value(); }, 10s)) << install_.stats().dump();
  const std::string ca = (install_.pki_dir() / "ca.crt").string();
  auto curl = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv{"curl", "-sS", "--max-time", "20", "--cacert", ca};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("https://localhost:" + std::to_string(*port) + "/api/v1/health");
    return kelvin::testing::run_command(argv);
  };
  auto health = curl({"-D", "-"});
  ASSERT_EQ(health.exit_code, 0) << kelvin::testing::describe(health);
  EXPECT_THAT(health.out, HasSubstr("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(health.out, HasSubstr("Strict-Transport-Security: max-age=31536000\r\n"));
  EXPECT_THAT(health.out, HasSubstr("\r\n\r\n{\"status\":\"ok\"}"));
  ASSERT_TRUE(wait_until(
      [&] {
        auto http = install_.stats().value("http", nlohmann::json::object());
        return http.value("requests", 0) == 1 && http.value("responses_2xx", 0) == 1 &&
               http.value("connections_accepted", 0) == 1;
      },
      10s))
      << install_.stats().dump();
  for (const char* counter : {"connections_refused", "connections_active", "handshake_failures", "timeouts",
                              "responses_3xx", "responses_4xx", "responses_5xx", "handler_exceptions"}) {
    EXPECT_TRUE(install_.stats()["http"].contains(counter)) << counter;
  }

  // A device certificate is accepted, until kelvinctl revokes it.
  const std::vector<std::string> as_sensor2 = {"--cert", sensor2_.cert.string(), "--key", sensor2_.key.string()};
  ASSERT_EQ(curl(as_sensor2).out, R"({"status":"ok"})");
  install_.kelvinctl({"pki", "--dir", install_.pki_dir().string(), "revoke", "sensor-02"});
  EXPECT_TRUE(wait_until([&] { return curl(as_sensor2).exit_code != 0; }, 15s)) << "the revoked device is still served";
  EXPECT_TRUE(kelvin::testing::has_log_record(install_.gateway_log(), "info", "https", "loaded the changed CRL"));
  EXPECT_EQ(curl(std::vector<std::string>{"--cert", sensor1_.cert.string(), "--key", sensor1_.key.string()}).out,
            R"({"status":"ok"})");
}

TEST_F(Gateway, DeviceCannotPublishForAnotherDevice) {
  ASSERT_EQ(install_.publish(sensor1_, "devices/sensor-02/telemetry", reading_json(1, 20, 50)).exit_code, 0);
  // A valid reading of its own afterwards proves the first one had time to arrive if it could.
  ASSERT_EQ(install_.publish(sensor1_, "devices/sensor-01/telemetry", reading_json(1, 20, 50)).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return acked("sensor-01") == 1; }, 10s));
  auto store = install_.open_store();
  auto other = store.device("sensor-02");
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(!other->has_value() || (*other)->readings_stored == 0);
}

TEST_F(Gateway, DeviceSubscribingToEverythingReceivesOnlyItsOwnAcks) {
  // Material the spy must not see: another device's retained status (handed to a new subscription
  // at once, so before the spy's first round trip ends), telemetry and acks.
  ASSERT_EQ(
      install_.publish(sensor1_, "devices/sensor-01/status", R"({"state":"online","fw":"1.0.0"})", {"-r"}).exit_code,
      0);
  ASSERT_EQ(install_.publish(sensor1_, "devices/sensor-01/telemetry", reading_json(1, 20, 50)).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return acked("sensor-01") == 1; }, 10s));

  install_.issue_device("sensor-03");
  DeviceProbe spy(install_, "sensor-03", {"devices/#"});
  ASSERT_TRUE(spy.start());
  // While it listens: another device's reading, and its ack, which reaches that device (mosquitto_rr)
  // before the spy's next round trip begins.
  auto reply =
      install_.request(sensor1_, "devices/sensor-01/telemetry", reading_json(2, 20, 50), "devices/sensor-01/ack");
  ASSERT_EQ(reply.out, "devices/sensor-01/ack {\"seq\":2}\n") << reply.err;
  ASSERT_TRUE(spy.round_trip());
  EXPECT_THAT(spy.foreign(), IsEmpty()) << "a device read another device's traffic";
}

TEST_F(Gateway, AnotherDevicesClientIdCannotKickAConnectedDevice) {
  DeviceProbe victim(install_, "sensor-01", {});
  ASSERT_TRUE(victim.start());  // connected with client id sensor-01, and served
  // sensor-02 claims sensor-01's client id; the broker uses its certificate's CN instead. Had the
  // claim counted, the broker would have closed the victim's connection for the newcomer's.
  auto intruder =
      install_.publish(sensor2_, "devices/sensor-02/telemetry", reading_json(1, 20, 50), {"-i", "sensor-01"});
  EXPECT_EQ(intruder.exit_code, 0) << intruder.err;
  // The victim's connection (never re-established by the probe) still carries a reading and its ack.
  EXPECT_TRUE(victim.round_trip()) << "sensor-01 was kicked off";
  // The intruder's reading counts as sensor-02's.
  EXPECT_TRUE(wait_until([&] { return acked("sensor-02") == 1; }, 10s));
}

TEST_F(Gateway, BadInputIsRejectedByReasonWhileOtherDevicesAreServed) {
  const auto now = now_ms();
  struct Case {
    std::string payload;
    std::string reason;
  };
  std::vector<Case> cases = {
      {"{\"seq\":1,", "malformed_json"},
      {"{\"seq\":\"one\",\"ts\":1,\"values\":{}}", "invalid_seq"},
      {"{\"seq\":2,\"ts\":" + std::to_string(now) + ",\"values\":{\"temperature\":\"warm\"}}", "wrong_shape"},
      {"{\"seq\":3,\"ts\":" + std::to_string(now) + ",\"values\":{\"temperature\":NaN}}", "malformed_json"},
      {"{\"seq\":4,\"ts\":" + std::to_string(now) + ",\"values\":{\"temperature\":1e999}}", "malformed_json"},
      {reading_json(5, 500, 40, now), "out_of_range"},
      {reading_json(6, 20, 40, now + 3'600'000), "timestamp_in_future"},
      {reading_json(7, 20, 40, 1'000'000'000'000), "timestamp_too_old"},
      {"{\"seq\":8,\"ts\":" + std::to_string(now) + ",\"values\":{\"temperature\":20,\"\xff\xfe\":1}}", "invalid_utf8"},
      {std::string(20000, ' ') + reading_json(9, 20, 40, now), "payload_too_large"},
  };
  std::string big_batch = "{\"batch\":[";
  for (int i = 0; i < 501; ++i) big_batch += (i ? "," : "") + std::string("{}");
  cases.push_back({big_batch + "]}", "batch_too_large"});

  for (const auto& c : cases) {
    ASSERT_EQ(install_.publish(sensor1_, "devices/sensor-01/telemetry", c.payload).exit_code, 0) << c.reason;
    // The other device keeps being served between the bad payloads.
    static std::uint64_t seq = 0;
    ++seq;
    ASSERT_EQ(install_.publish(sensor2_, "devices/sensor-02/telemetry", reading_json(seq, 21, 45)).exit_code, 0);
    ASSERT_TRUE(wait_until([&] { return acked("sensor-02") == seq; }, 10s)) << "after " << c.reason;
  }
  std::map<std::string, std::uint64_t> expected;
  for (const auto& c : cases) ++expected[c.reason];
  for (const auto& [reason, count] : expected) {
    EXPECT_TRUE(wait_until([&] { return rejected(reason) == count; }, 5s))
        << reason << ": " << install_.stats()["rejected"].dump();
  }
  EXPECT_TRUE(install_.gateway().running());
  auto store = install_.open_store();
  EXPECT_EQ((*store.device("sensor-01"))->readings_stored, 0u);
  // Rejected readings with a valid seq are consumed: the ack moves past them (seqs 2..8).
  EXPECT_EQ(acked("sensor-01"), 0u) << "seq 1 was never valid, so nothing after it is contiguous";
  // Each refusal is a warning of the ingest, and the hostile bytes (not UTF-8, 20 KB of spaces)
  // left every line of the log a JSON record.
  const std::string log = install_.gateway_log();
  EXPECT_THAT(kelvin::testing::lines_not_records(log), ::testing::IsEmpty());
  for (const auto& [reason, count] : expected) {
    EXPECT_TRUE(kelvin::testing::has_log_record(log, "warn", "ingest", "rejected " + reason)) << reason << "\n" << log;
  }
}

TEST_F(Gateway, RejectedReadingsDoNotBlockTheAcknowledgement) {
  const auto now = now_ms();
  auto payload = "{\"batch\":[" + reading_json(1, 20, 50, now) + "," + reading_json(2, 999, 50, now) + "," +
                 reading_json(3, 21, 50, now) + "]}";
  ASSERT_EQ(install_.publish(sensor1_, "devices/sensor-01/telemetry", payload).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return acked("sensor-01") == 3; }, 10s)) << install_.stats().dump();
  auto store = install_.open_store();
  EXPECT_EQ((*store.device("sensor-01"))->readings_stored, 2u);
  EXPECT_TRUE(wait_until([&] { return rejected("out_of_range") == 1; }, 5s));
}

TEST_F(Gateway, KilledBrokerIsRestartedAndServesAgain) {
  auto pid = install_.broker_pid();
  ASSERT_TRUE(pid.has_value()) << install_.stats().dump();
  ASSERT_EQ(::kill(*pid, SIGKILL), 0);
  ASSERT_TRUE(wait_until([&] { return install_.stats().value("broker_restarts", 0) >= 1; }, 15s));
  // 30 s: an ingest that reconnected while the old broker was dying gives that attempt up only
  // after the client's 10 s connect timeout.
  ASSERT_TRUE(wait_until([&] { return install_.stats().value("connected", 0) == 1; }, 30s));
  ASSERT_TRUE(wait_until(
      [&] { return install_.publish(sensor1_, "devices/sensor-01/telemetry", reading_json(1, 20, 50)).exit_code == 0; },
      15s));
  EXPECT_TRUE(wait_until([&] { return acked("sensor-01") == 1; }, 10s));
  EXPECT_NE(install_.broker_pid(), pid);
}

TEST_F(Gateway, StatusMessagesAreRecordedAndTheLastWillMarksTheDeviceOffline) {
  ASSERT_EQ(install_
                .publish(sensor1_, "devices/sensor-01/status",
                         R"({"state":"online","fw":"1.4.2","dropped":3,"release_check":"timestamp_expired"})", {"-r"})
                .exit_code,
            0);
  ASSERT_TRUE(wait_until(
      [&] {
        auto device = install_.open_store().device("sensor-01");
        return device.ok() && device->has_value() && (*device)->status && (*device)->status->firmware == "1.4.2";
      },
      10s));
  auto device = *install_.open_store().device("sensor-01");
  EXPECT_EQ(device->status->state, "online");
  EXPECT_EQ(device->status->dropped_total, 3u);
  EXPECT_EQ(device->status->release_check, "timestamp_expired");
  ASSERT_EQ(install_.publish(sensor1_, "devices/sensor-01/status", "not json").exit_code, 0);
  EXPECT_TRUE(wait_until([&] { return stat("status_rejected") == 1; }, 10s));

  // The last will's payload: offline, with the firmware and the release check kept.
  ASSERT_EQ(install_.publish(sensor1_, "devices/sensor-01/status", R"({"state":"offline"})", {"-r"}).exit_code, 0);
  ASSERT_TRUE(wait_until(
      [&] {
        auto offline = install_.open_store().device("sensor-01");
        return offline.ok() && offline->has_value() && (*offline)->status && (*offline)->status->state == "offline";
      },
      10s));
  device = *install_.open_store().device("sensor-01");
  EXPECT_EQ(device->status->firmware, "1.4.2");
  EXPECT_EQ(device->status->release_check, "timestamp_expired");
}

TEST_F(Gateway, PurgedDeviceStaysGoneWhenTheBrokerRedeliversItsRetainedStatus) {
  ASSERT_EQ(
      install_.publish(sensor1_, "devices/sensor-01/status", R"({"state":"online","fw":"1.0.0"})", {"-r"}).exit_code,
      0);
  ASSERT_TRUE(wait_until([&] { return stat("status_updates") == 1; }, 10s));
  install_.kelvinctl({"device", "remove", "sensor-01", "--purge", "--state-dir", install_.state_dir().string()});
  // Revocation restarts the broker; the ingest reconnects and gets the retained status again.
  ASSERT_TRUE(wait_until([&] { return stat("broker_restarts") >= 1 && stat("connected") == 1; }, 20s));
  ASSERT_TRUE(wait_until([&] { return stat("status_ignored") >= 1; }, 10s)) << install_.stats().dump();
  auto device = install_.open_store().device("sensor-01");
  ASSERT_TRUE(device.ok());
  EXPECT_FALSE(device->has_value()) << "the purged device came back";
}

// A device that connected and said its status before this gateway knew it (the gateway's store is
// new, or the ingest subscribed after the device published) is not mistaken for a purged one: it
// holds a valid certificate, so its retained status is recorded.
TEST_F(Gateway, RetainedStatusOfADeviceTheStoreDoesNotKnowYetIsRecorded) {
  ASSERT_EQ(
      install_.publish(sensor2_, "devices/sensor-02/status", R"({"state":"online","fw":"2.0.1"})", {"-r"}).exit_code,
      0);
  ASSERT_TRUE(wait_until([&] { return stat("status_updates") == 1; }, 10s));
  install_.stop_gateway(SIGTERM);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(install_.state_dir() / (std::string("telemetry.db") + suffix));
  }
  install_.start_gateway();  // the broker keeps retained messages across restarts
  ASSERT_TRUE(wait_until(
      [&] {
        auto device = install_.open_store().device("sensor-02");
        return device.ok() && device->has_value() && (*device)->status && (*device)->status->firmware == "2.0.1";
      },
      10s))
      << install_.stats().dump();
  EXPECT_EQ(stat("status_ignored"), 0u);
}

// The broker's identity as the ingest and a device check it: a broker whose certificate is not
// from the installation's CA, or does not name the host they connect to, is refused.
class BrokerIdentity : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << "---- gateway log ----\n" << install_.gateway_log();
  }

  // What a device sees: kelvin's MQTT client (the agent's) connecting as sensor-01.
  bool device_gets_connected() {
    auto files = install_.issue_device("sensor-01");
    bool connected = false;
    kelvin::mqtt::Callbacks callbacks;
    callbacks.on_connected = [&] { connected = true; };
    kelvin::mqtt::ClientOptions options;
    options.client_id = "sensor-01";
    options.host = "localhost";
    options.port = install_.port();
    options.tls = {files.ca, files.cert, files.key};
    auto client = kelvin::mqtt::Client::create(options, callbacks);
    EXPECT_TRUE(client.ok());
    if (!client.ok() || !(*client)->connect().ok()) return false;
    auto end = std::chrono::steady_clock::now() + 3s;
    while (!connected && std::chrono::steady_clock::now() < end && (*client)->loop(50).ok()) {
    }
    return connected;
  }

  // The gateway starts its broker but its own ingest never gets connected to it.
  void expect_ingest_refuses_the_broker() {
    install_.start_gateway(/*wait_until_connected=*/false);
    ASSERT_TRUE(wait_until([&] { return install_.gateway_log().find("cannot connect") != std::string::npos; }, 20s))
        << "the ingest did not report a refused broker";
    ASSERT_TRUE(wait_until([&] { return !install_.stats().is_null(); }, 10s)) << "no statistics written";
    EXPECT_EQ(install_.stats().value("connected", 0), 0);
    EXPECT_THAT(install_.gateway_log(), HasSubstr("TLS"));
  }

  Installation install_;
};

TEST_F(BrokerIdentity, BrokerCertificateFromAnotherCaIsRefused) {
  Installation other;
  for (const char* file : {"server/server.crt", "server/server.key"}) {
    fs::copy_file(other.pki_dir() / file, install_.pki_dir() / file, fs::copy_options::overwrite_existing);
  }
  expect_ingest_refuses_the_broker();
  EXPECT_FALSE(device_gets_connected());
}

TEST_F(BrokerIdentity, BrokerCertificateForAnotherHostIsRefused) {
  install_.kelvinctl({"pki", "--dir", install_.pki_dir().string(), "issue", "server", "--renew", "--server-san",
                      "DNS:gateway.example"});
  expect_ingest_refuses_the_broker();
  EXPECT_FALSE(device_gets_connected());
}

}  // namespace
