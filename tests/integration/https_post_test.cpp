// curl::https_post (libs/curl) against a webhook receiver kelvin did not write: Node's HTTPS server
// (webhook_receiver.mjs) with the installation's server certificate, which records every request
// it gets. What arrives is what was posted; any status is an answer; a certificate from another CA,
// a server offering only CBC suites, a closed port and a silent one are Errc::io; plain http:// is
// refused before any connection.

#include "kelvin/curl/https_post.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "installation.hpp"
#include "kelvin/crypto/digest.hpp"
#include "webhook_receiver.hpp"

namespace {

using kelvin::Errc;
using kelvin::curl::https_post;
using kelvin::curl::HttpsPostAnswer;
using kelvin::curl::HttpsPostOptions;
using kelvin::testing::BackgroundProcess;
using kelvin::testing::free_tcp_port;
using kelvin::testing::Installation;
using kelvin::testing::read_text;
using kelvin::testing::wait_until;
using kelvin::testing::WebhookReceiver;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;

// A TCP socket on 127.0.0.1 that listens and never accepts: the kernel completes connections into
// its backlog, and nobody ever reads from them or answers.
class SilentListener {
 public:
  SilentListener() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  int port() const { return port_; }
  // Whether a connection came in (and waits in the backlog).
  bool connected_to() const {
    pollfd waiting{fd_, POLLIN, 0};
    return ::poll(&waiting, 1, 0) > 0;
  }

 private:
  int fd_;
  int port_ = 0;
};

class HttpsPost : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && receiver_) std::cerr << "---- receiver log ----\n" << receiver_->process().log();
  }

  WebhookReceiver& start_receiver(int fail_first = 0) {
    receiver_ = std::make_unique<WebhookReceiver>(install_, "receiver", fail_first);
    return *receiver_;
  }

  HttpsPostOptions trusting_the_installation(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    HttpsPostOptions options;
    options.ca_file = install_.server_tls().ca_file;
    options.timeout = timeout;
    return options;
  }

  Installation install_;  // its PKI only
  std::unique_ptr<WebhookReceiver> receiver_;
};

TEST_F(HttpsPost, TheExactBodyAndHeadersArriveAndThe204IsTheAnswer) {
  auto& receiver = start_receiver();
  // Quotes, a newline, non-ASCII UTF-8 and a NUL: the body goes as given, byte for byte.
  const std::string body = std::string(R"({"alert":"cpu_temperature","note":"81.5 °C\nsecond line"})") + '\0' + "end";
  const std::string signature = "sha256=" + kelvin::crypto::hmac_sha256_hex("shared-secret", body);
  const std::vector<std::string> headers{"Authorization: Bearer s3cret-token", "X-Kelvin-Signature: " + signature,
                                         "X-Kelvin-Event: alert.firing"};

  auto answer = https_post(receiver.url("/hooks/alerts?source=kelvin"), body, headers, trusting_the_installation());
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->status, 204);
  EXPECT_EQ(answer->body, "");

  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u) << read_text(receiver.out_file());
  const auto& request = requests[0];
  EXPECT_EQ(request["method"], "POST");
  EXPECT_EQ(request["path"], "/hooks/alerts?source=kelvin");
  EXPECT_EQ(request["body"].get<std::string>(), body);
  const auto& got = request["headers"];
  EXPECT_EQ(got["content-type"], "application/json");
  EXPECT_EQ(got["content-length"], std::to_string(body.size()));
  EXPECT_EQ(got["authorization"], "Bearer s3cret-token");
  EXPECT_EQ(got["x-kelvin-signature"], signature);
  EXPECT_EQ(got["x-kelvin-event"], "alert.firing");
  EXPECT_EQ(got["host"], "localhost:" + std::to_string(receiver.port()));
  EXPECT_FALSE(got.contains("expect")) << got.dump();
  EXPECT_FALSE(got.contains("transfer-encoding")) << got.dump();

  // The receiver stops cleanly, as the tests that follow rely on.
  EXPECT_EQ(receiver.process().stop(SIGTERM), 0);
}

TEST_F(HttpsPost, AContentTypeAmongTheHeadersReplacesTheDefault) {
  auto& receiver = start_receiver();
  auto answer = https_post(receiver.url("/plain"), "text, not JSON", {"content-type: text/plain; charset=utf-8"},
                           trusting_the_installation());
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->status, 204);
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["headers"]["content-type"], "text/plain; charset=utf-8");
  EXPECT_EQ(requests[0]["body"], "text, not JSON");
}

TEST_F(HttpsPost, AnErrorStatusIsAnAnswerNotAnError) {
  auto& receiver = start_receiver(/*fail_first=*/1);
  auto first = https_post(receiver.url("/hook"), R"({"n":1})", {}, trusting_the_installation());
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->status, 500);
  EXPECT_EQ(first->body, "failing on purpose (--fail-first)\n");

  auto second = https_post(receiver.url("/hook"), R"({"n":2})", {}, trusting_the_installation());
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->status, 204);

  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0]["body"], R"({"n":1})");
  EXPECT_EQ(requests[1]["body"], R"({"n":2})");
}

TEST_F(HttpsPost, ACertificateFromAnotherCaIsRefused) {
  auto& receiver = start_receiver();
  const Installation other;  // a second PKI, whose CA never signed the receiver's certificate
  HttpsPostOptions options = trusting_the_installation();
  options.ca_file = other.server_tls().ca_file;
  auto answer = https_post(receiver.url("/hook"), "{}", {}, options);
  ASSERT_FALSE(answer) << "status " << answer->status;
  EXPECT_EQ(answer.error().code, Errc::io);
  EXPECT_THAT(answer.error().message, StartsWith("TLS: "));
  EXPECT_THAT(answer.error().message, HasSubstr("certificate"));

  // The system's CAs do not trust the installation's CA either.
  options.ca_file.clear();
  answer = https_post(receiver.url("/hook"), "{}", {}, options);
  ASSERT_FALSE(answer) << "status " << answer->status;
  EXPECT_EQ(answer.error().code, Errc::io);
  EXPECT_THAT(answer.error().message, StartsWith("TLS: "));

  EXPECT_EQ(receiver.requests().size(), 0u) << read_text(receiver.out_file());
}

TEST_F(HttpsPost, AServerOfferingOnlyCbcSuitesIsRefused) {
  // openssl s_server with the receiver's certificate, TLS 1.2 and one CBC suite only: no suite in
  // common with kelvin's TLS policy, so the handshake fails.
  const auto tls = install_.server_tls();
  const int port = free_tcp_port();
  BackgroundProcess server(
      {"openssl", "s_server", "-brief", "-accept", "127.0.0.1:" + std::to_string(port), "-cert", tls.cert_file.string(),
       "-key", tls.key_file.string(), "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256"},
      install_.root() / "s_server.log");
  // Until s_server listens, the connection is refused: not a TLS failure.
  kelvin::Result<HttpsPostAnswer> answer = kelvin::make_error(Errc::io, "not tried");
  wait_until(
      [&] {
        answer = https_post("https://localhost:" + std::to_string(port) + "/hook", "{}", {},
                            trusting_the_installation(std::chrono::seconds(2)));
        return !answer && answer.error().message.starts_with("TLS: ");
      },
      std::chrono::seconds(10));
  ASSERT_FALSE(answer) << "status " << answer->status;
  EXPECT_EQ(answer.error().code, Errc::io);
  EXPECT_THAT(answer.error().message, StartsWith("TLS: ")) << server.log();
}

TEST_F(HttpsPost, OnlyHttpsUrlsAreTriedAndNothingConnects) {
  SilentListener listener;
  const std::string address = "127.0.0.1:" + std::to_string(listener.port()) + "/hook";
  for (const std::string& url : {"http://" + address, "HTTP://" + address, "ftp://" + address, address,
                                 " https://" + address, std::string("https://"), std::string()}) {
    SCOPED_TRACE(url);
    auto answer = https_post(url, "{}", {}, trusting_the_installation());
    ASSERT_FALSE(answer) << "status " << answer->status;
    EXPECT_EQ(answer.error().code, Errc::invalid_argument) << answer.error().message;
  }
  EXPECT_FALSE(listener.connected_to());
}

TEST_F(HttpsPost, HeaderLinesThatWouldInjectMoreAreRefused) {
  SilentListener listener;
  const std::string url = "https://localhost:" + std::to_string(listener.port()) + "/hook";
  for (const std::string& header :
       {std::string("X-Event: a\r\nX-Injected: b"), std::string("X-Event: a\n"), std::string("no colon at all"),
        std::string(": no name"), std::string("X-Event : space before the colon"), std::string("X-Nul: a\0b", 10)}) {
    SCOPED_TRACE(header);
    auto answer = https_post(url, "{}", {header}, trusting_the_installation());
    ASSERT_FALSE(answer) << "status " << answer->status;
    EXPECT_EQ(answer.error().code, Errc::invalid_argument) << answer.error().message;
  }
  EXPECT_FALSE(listener.connected_to());
}

TEST_F(HttpsPost, APortNobodyListensOnIsAnIoErrorWithinTheTimeout) {
  const int port = free_tcp_port();
  const auto started = Clock::now();
  auto answer = https_post("https://localhost:" + std::to_string(port) + "/hook", "{}", {},
                           trusting_the_installation(std::chrono::seconds(3)));
  const auto took = Clock::now() - started;
  ASSERT_FALSE(answer) << "status " << answer->status;
  EXPECT_EQ(answer.error().code, Errc::io);
  EXPECT_THAT(answer.error().message, Not(StartsWith("TLS: ")));
  EXPECT_LT(took, std::chrono::seconds(4));
}

TEST_F(HttpsPost, AServerThatNeverAnswersTimesOut) {
  SilentListener listener;
  const auto started = Clock::now();
  auto answer = https_post("https://localhost:" + std::to_string(listener.port()) + "/hook", "{}", {},
                           trusting_the_installation(std::chrono::milliseconds(1'000)));
  const auto took = Clock::now() - started;
  ASSERT_FALSE(answer) << "status " << answer->status;
  EXPECT_EQ(answer.error().code, Errc::io);
  EXPECT_TRUE(listener.connected_to());  // it did connect, then waited for the TLS handshake
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(4));
}

TEST_F(HttpsPost, ConcurrentCallsEachDeliverTheirOwnRequest) {
  auto& receiver = start_receiver();
  constexpr int kThreads = 4, kPerThread = 5;
  std::vector<std::vector<long>> statuses(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto answer =
            https_post(receiver.url("/hook"), "{\"thread\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + "}",
                       {}, trusting_the_installation());
        statuses[static_cast<std::size_t>(t)].push_back(answer ? answer->status : -1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& of_thread : statuses) EXPECT_EQ(of_thread, std::vector<long>(kPerThread, 204));

  std::set<std::string> bodies;
  for (const auto& request : receiver.requests()) bodies.insert(request["body"].get<std::string>());
  EXPECT_EQ(bodies.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

}  // namespace
