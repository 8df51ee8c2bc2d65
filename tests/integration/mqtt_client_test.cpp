// kelvin's MQTT client against a peer that accepts TCP connections and then says nothing (a broker
// that died or hung during our TLS handshake: the client must give the attempt up after its
// connect timeout instead of waiting on it forever), and against the gateway's real broker: a
// refused subscription is reported, a throwing callback does not take the process down, and a
// connection on a descriptor numbered above 1023 (where select() cannot go) works.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "installation.hpp"
#include "kelvin/mqtt/client.hpp"
#include "locked_down_broker.hpp"

namespace {

using kelvin::testing::Installation;
using kelvin::testing::wait_until;
using namespace std::chrono_literals;

// A loopback listener that never accepts: the kernel completes the TCP handshake into the backlog,
// so the client's connect succeeds and its ClientHello is never answered.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot open a loopback listener";
      return;
    }
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class MqttClient : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && gateway_started_) std::cerr << "---- gateway log ----\n" << install_.gateway_log();
  }

  void start_gateway() {
    install_.start_gateway();
    gateway_started_ = true;
  }

  // Runs `client` in manual mode until `done` or 10 s passed.
  template <typename Condition>
  bool loop_until(kelvin::mqtt::Client& client, Condition done) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < until) {
      if (auto r = client.loop(50); !r) {
        ADD_FAILURE() << r.error().message;
        return false;
      }
    }
    return done();
  }

  kelvin::mqtt::ClientOptions options_for(int port) {
    auto files = install_.issue_device("sensor-01");
    kelvin::mqtt::ClientOptions options;
    options.client_id = "sensor-01";
    options.host = "localhost";
    options.port = port;
    options.tls = {files.ca, files.cert, files.key};
    options.connect_timeout_s = 1;
    options.reconnect_min_s = 1;
    return options;
  }

  Installation install_;
  SilentListener silent_;
  bool gateway_started_ = false;
};

TEST_F(MqttClient, ManualLoopFailsWhenTheHandshakeIsNeverAnswered) {
  auto client = kelvin::mqtt::Client::create(options_for(silent_.port()), {});
  ASSERT_TRUE(client.ok()) << client.error().message;
  ASSERT_TRUE((*client)->connect().ok()) << "the TCP connection to the listener should succeed";

  const auto started = std::chrono::steady_clock::now();
  kelvin::Result<void> outcome;
  while ((outcome = (*client)->loop(50)).ok() && std::chrono::steady_clock::now() - started < 10s) {
  }
  const auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(outcome.ok()) << "the client was still waiting for the broker after 10 s";
  EXPECT_EQ(outcome.error().code, kelvin::Errc::timed_out) << outcome.error().message;
  EXPECT_NE(outcome.error().message.find("no CONNACK"), std::string::npos) << outcome.error().message;
  EXPECT_GE(waited, 900ms) << "gave up before its 1 s connect timeout";
}

TEST_F(MqttClient, BackgroundThreadAbandonsAStalledHandshakeAndTriesAgain) {
  std::mutex mutex;
  std::vector<std::string> log;
  kelvin::mqtt::Callbacks callbacks;
  callbacks.on_log = [&](std::string_view line) {
    std::lock_guard lock(mutex);
    log.emplace_back(line);
  };
  auto client = kelvin::mqtt::Client::create(options_for(silent_.port()), callbacks);
  ASSERT_TRUE(client.ok()) << client.error().message;
  ASSERT_TRUE((*client)->start_background().ok());

  auto stalled_attempts = [&] {
    std::lock_guard lock(mutex);
    return std::count_if(log.begin(), log.end(),
                         [](const std::string& line) { return line.find("no CONNACK") != std::string::npos; });
  };
  EXPECT_TRUE(wait_until([&] { return stalled_attempts() >= 2; }, 15s))
      << "the network thread did not give up a stalled handshake and retry";
  (*client)->stop_background();
}

TEST_F(MqttClient, ReportsASubscriptionTheBrokerRefuses) {
  kelvin::testing::LockedDownBroker broker(install_);
  std::atomic<bool> connected{false};
  std::vector<std::pair<std::string, int>> refused;
  kelvin::mqtt::Callbacks callbacks;
  callbacks.on_connected = [&] { connected = true; };
  callbacks.on_subscribe_refused = [&](std::string_view filter, int code) { refused.emplace_back(filter, code); };
  auto client = kelvin::mqtt::Client::create(options_for(broker.port()), callbacks);
  ASSERT_TRUE(client.ok()) << client.error().message;
  ASSERT_TRUE((*client)->connect().ok());
  ASSERT_TRUE(loop_until(**client, [&] { return connected.load(); }));

  ASSERT_TRUE((*client)->subscribe("devices/sensor-01/ack", 1).ok()) << "the request itself is queued";
  ASSERT_TRUE(loop_until(**client, [&] { return !refused.empty(); })) << "no refusal was reported";
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].first, "devices/sensor-01/ack");
  EXPECT_GE(refused[0].second, 0x80);
  // The refusal did not cost the connection.
  EXPECT_TRUE((*client)->publish("devices/sensor-01/status", R"({"state":"online"})", 1, false).ok());
  EXPECT_TRUE((*client)->loop(100).ok());
}

TEST_F(MqttClient, AThrowingCallbackIsCountedAndTheClientGoesOn) {
  start_gateway();
  std::atomic<bool> connected{false};
  std::atomic<int> messages{0};
  std::vector<std::string> log;
  kelvin::mqtt::Callbacks callbacks;
  callbacks.on_connected = [&] { connected = true; };
  callbacks.on_message = [&](const kelvin::mqtt::Message&) {
    ++messages;
    throw std::runtime_error("handler bug");
  };
  callbacks.on_log = [&](std::string_view line) { log.emplace_back(line); };
  auto options = options_for(install_.port());
  auto client = kelvin::mqtt::Client::create(options, callbacks);
  ASSERT_TRUE(client.ok()) << client.error().message;
  ASSERT_TRUE((*client)->connect().ok());
  ASSERT_TRUE(loop_until(**client, [&] { return connected.load(); }));
  ASSERT_TRUE((*client)->subscribe("devices/sensor-01/ack", 1).ok());
  // The gateway acknowledges the device's readings on its ack topic: two messages, two throws.
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  for (int seq = 1; seq <= 2; ++seq) {
    const std::string reading = "{\"seq\":" + std::to_string(seq) + ",\"ts\":" + std::to_string(now_ms - 10 + seq) +
                                ",\"values\":{\"temperature\":20}}";
    ASSERT_TRUE((*client)->publish("devices/sensor-01/telemetry", reading, 1, false).ok());
    // One ack per commit: let the first be acknowledged before the second goes.
    ASSERT_TRUE(loop_until(**client, [&] { return messages.load() >= seq; })) << "the client stopped after a throw";
  }
  EXPECT_EQ((*client)->callback_failures(), static_cast<std::uint64_t>(messages.load()));
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.front().find("handler bug"), std::string::npos) << log.front();
}

TEST_F(MqttClient, WorksOnADescriptorNumberedAbove1023) {
  start_gateway();
  // Occupy the low descriptors, as a simulator with hundreds of devices does.
  std::vector<int> fillers;
  for (int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC); fd >= 0 && fd < 1100;
       fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) {
    fillers.push_back(fd);
  }
  std::atomic<bool> connected{false};
  kelvin::mqtt::Callbacks callbacks;
  callbacks.on_connected = [&] { connected = true; };
  auto client = kelvin::mqtt::Client::create(options_for(install_.port()), callbacks);
  ASSERT_TRUE(client.ok()) << client.error().message;
  ASSERT_TRUE((*client)->connect().ok());
  EXPECT_GE((*client)->socket(), 1024);
  EXPECT_TRUE(loop_until(**client, [&] { return connected.load(); })) << "no CONNACK on a high descriptor";
  for (int fd : fillers) ::close(fd);
}

}  // namespace
