// kelvin's MQTT client against a peer that accepts TCP connections and then says nothing: a broker
// that died or hung during our TLS handshake. The client must give the attempt up after its
// connect timeout instead of waiting on it forever.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "installation.hpp"
#include "kelvin/mqtt/client.hpp"

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

}  // namespace
