// The agent's HTTPS link (https_link.hpp) between the real Session and Outbox and a scripted
// channel: which request goes when, and what each answer does to the session. The channel answers
// only when the test says so, so "one request at a time" is visible as requests that did not start.

#include "kelvin/linux_port/https_link.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kelvin/device/memory_outbox_journal.hpp"
#include "kelvin/device/outbox.hpp"
#include "kelvin/device/random.hpp"
#include "kelvin/device/session.hpp"

namespace kelvin::linux_port {
namespace {

using ::testing::ElementsAre;

constexpr std::int64_t kTs = 1'800'000'000'000;  // 2027-01-15T08:00:00Z
constexpr const char* kTelemetryPath = "/api/v1/devices/d1/telemetry";
constexpr const char* kStatusPath = "/api/v1/devices/d1/status";

// Starts what it is given and answers only with what the test queued for it.
class ScriptedChannel final : public HttpsChannel {
 public:
  Result<void> start(HttpsRequest request) override {
    EXPECT_FALSE(running_) << "a second request started while one ran";
    started.push_back(std::move(request));
    running_ = true;
    return {};
  }
  bool busy() const override { return running_; }
  std::optional<Result<HttpsAnswer>> poll(std::int64_t) override {
    if (!running_ || replies_.empty()) return std::nullopt;
    running_ = false;
    Result<HttpsAnswer> reply = std::move(replies_.front());
    replies_.pop_front();
    return reply;
  }
  void abandon() override {
    if (running_) ++abandoned;
    running_ = false;
  }

  void reply(Result<HttpsAnswer> answer) { replies_.push_back(std::move(answer)); }

  std::vector<HttpsRequest> started;
  int abandoned = 0;

 private:
  bool running_ = false;
  std::deque<Result<HttpsAnswer>> replies_;
};

std::vector<std::uint64_t> seqs_of(const HttpsRequest& request) {
  auto json = nlohmann::json::parse(request.body);
  std::vector<std::uint64_t> seqs;
  if (json.contains("batch")) {
    for (const auto& reading : json["batch"]) seqs.push_back(reading["seq"].get<std::uint64_t>());
  } else {
    seqs.push_back(json["seq"].get<std::uint64_t>());
  }
  return seqs;
}

HttpsAnswer ack(std::uint64_t seq) {
  return HttpsAnswer{200, R"({"seq":)" + std::to_string(seq) + R"(,"accepted":1,"rejected":[]})", std::nullopt};
}

class HttpsLinkTest : public ::testing::Test {
 protected:
  HttpsLinkTest()
      : outbox_(journal_, device::OutboxSnapshot{}, 1000),
        link_(
            "d1", channel_, [this] { return now_; },
            [this](LinkLogLevel, std::string_view line) { log_.emplace_back(line); }) {
    device::SessionConfig config;
    config.device_id = "d1";
    config.fw_version = "1.0";
    config.backoff = device::BackoffPolicy{1000, 8000, 2};
    config.resend_timeout_ms = 30'000;
    session_.emplace(config, outbox_, link_, random_);
    link_.attach(*session_);
  }

  void add_readings(int count) {
    for (int i = 0; i < count; ++i) {
      device::SensorValues values{};
      values[0] = 21.5;
      ASSERT_TRUE(outbox_.add(kTs + static_cast<std::int64_t>(outbox_.next_seq()), values).ok());
      session_->on_reading_added(now_);
    }
  }

  // Lets the link do what is due now, then delivers `answer` to the request on the wire.
  void answer(Result<HttpsAnswer> reply) {
    ASSERT_TRUE(channel_.busy()) << "no request to answer";
    channel_.reply(std::move(reply));
    link_.await_answer(0);
    link_.step(now_);
  }

  const HttpsRequest& last() const { return channel_.started.back(); }

  std::int64_t now_ = 5'000;
  device::MemoryOutboxJournal journal_;
  device::Outbox outbox_;
  device::SplitMix64Source random_{7};
  ScriptedChannel channel_;
  std::vector<std::string> log_;
  HttpsLink link_;
  std::optional<device::Session> session_;
};

TEST_F(HttpsLinkTest, TheStatusGoesFirstThenTheReadingsOneRequestAtATimeAndEachAnswerIsTheAck) {
  add_readings(3);  // taken before the link ever connected
  link_.step(now_);
  ASSERT_EQ(channel_.started.size(), 1u);
  EXPECT_EQ(last().method, "PUT");
  EXPECT_EQ(last().path, kStatusPath);
  auto status = nlohmann::json::parse(last().body);
  EXPECT_EQ(status["state"], "online");
  EXPECT_EQ(status["fw"], "1.0");
  EXPECT_EQ(status["oldest_seq"], 1);
  EXPECT_TRUE(session_->connected());

  answer(HttpsAnswer{200, R"({"seq":0})", std::nullopt});
  ASSERT_EQ(channel_.started.size(), 2u);
  EXPECT_EQ(last().method, "POST");
  EXPECT_EQ(last().path, kTelemetryPath);
  EXPECT_THAT(seqs_of(last()), ElementsAre(1, 2, 3));

  // Readings taken while a request runs wait for its answer.
  add_readings(2);
  link_.step(now_);
  EXPECT_EQ(channel_.started.size(), 2u);
  answer(ack(3));
  EXPECT_EQ(outbox_.acked_seq(), 3u);
  ASSERT_EQ(channel_.started.size(), 3u);
  EXPECT_THAT(seqs_of(last()), ElementsAre(4, 5));
  answer(ack(5));
  EXPECT_EQ(outbox_.pending_count(), 0u);
  EXPECT_EQ(channel_.started.size(), 3u) << "nothing left to send";
  EXPECT_EQ(link_.counters().acks, 3u);
}

TEST_F(HttpsLinkTest, NoAnswerEndsTheConnectionAndTheSessionResendsAfterItsBackoff) {
  add_readings(2);
  link_.step(now_);
  answer(HttpsAnswer{200, R"({"seq":0})", std::nullopt});
  ASSERT_THAT(seqs_of(last()), ElementsAre(1, 2));
  answer(make_error(Errc::io, "Connection refused"));
  EXPECT_FALSE(session_->connected());
  const std::int64_t retry_at = session_->reconnect_at_ms();
  EXPECT_GE(retry_at, now_ + 500) << "no backoff";

  // Nothing goes before the backoff has passed, however often the loop runs.
  add_readings(1);
  now_ = retry_at - 1;
  link_.step(now_);
  EXPECT_EQ(channel_.started.size(), 2u);

  // Then the status again, and everything unacknowledged.
  now_ = retry_at;
  link_.step(now_);
  ASSERT_EQ(channel_.started.size(), 3u);
  EXPECT_EQ(last().path, kStatusPath);
  answer(HttpsAnswer{200, R"({"seq":0})", std::nullopt});
  EXPECT_THAT(seqs_of(last()), ElementsAre(1, 2, 3));
  answer(ack(3));
  EXPECT_EQ(outbox_.pending_count(), 0u);
  EXPECT_EQ(link_.counters().failures, 1u);
}

TEST_F(HttpsLinkTest, RepeatedFailuresBackOffFurtherEachTime) {
  link_.step(now_);
  std::vector<std::int64_t> delays;
  for (int attempt = 0; attempt < 4; ++attempt) {
    ASSERT_TRUE(channel_.busy());
    answer(make_error(Errc::crypto, "certificate revoked"));
    delays.push_back(session_->reconnect_at_ms() - now_);
    now_ = session_->reconnect_at_ms();
    link_.step(now_);
  }
  // Equal jitter: each delay in [ceiling/2, ceiling], the ceiling doubling from 1 s to 8 s.
  EXPECT_GE(delays[0], 500);
  EXPECT_GE(delays[1], 1000);
  EXPECT_GE(delays[2], 2000);
  EXPECT_GE(delays[3], 4000);
  EXPECT_EQ(channel_.started.size(), 5u);
}

TEST_F(HttpsLinkTest, A503SendsTheSameRequestAgainAfterRetryAfterAndStaysConnected) {
  add_readings(2);
  link_.step(now_);
  answer(HttpsAnswer{200, R"({"seq":0})", std::nullopt});
  const HttpsRequest sent = last();
  answer(HttpsAnswer{503, R"({"error":{"code":"unavailable","message":"m"}})", 2});
  EXPECT_TRUE(session_->connected());
  add_readings(1);
  now_ += 1999;
  EXPECT_EQ(link_.step(now_), now_ + 1) << "the link wakes when the Retry-After ends";
  EXPECT_EQ(channel_.started.size(), 2u) << "sent again before Retry-After";
  now_ += 1;
  link_.step(now_);
  ASSERT_EQ(channel_.started.size(), 3u);
  EXPECT_EQ(last().body, sent.body) << "the same request goes again, ahead of newer readings";
  answer(ack(2));
  EXPECT_THAT(seqs_of(last()), ElementsAre(3));
  EXPECT_EQ(link_.counters().retries_later, 1u);
  EXPECT_EQ(link_.counters().failures, 0u);
}

// A payload the gateway refused as a whole took nothing; its answer's seq is where the device
// stands. The session goes on with the next readings (no reconnection loop) and, as over MQTT,
// sends the refused ones again only with its resend after resend_timeout_ms.
TEST_F(HttpsLinkTest, A400WithTheAckFeedsItBackAndDoesNotLoop) {
  add_readings(2);
  link_.step(now_);
  answer(HttpsAnswer{200, R"({"seq":0})", std::nullopt});
  answer(HttpsAnswer{400, R"({"error":{"code":"malformed_json","message":"m"},"seq":0})", std::nullopt});
  EXPECT_TRUE(session_->connected());
  EXPECT_EQ(link_.counters().payloads_refused, 1u);
  EXPECT_EQ(channel_.started.size(), 2u) << "the refused payload went again at once";
  add_readings(1);
  link_.step(now_);
  ASSERT_EQ(channel_.started.size(), 3u);
  EXPECT_THAT(seqs_of(last()), ElementsAre(3));
  answer(ack(0));  // the gap at 1..2 holds the ack
  now_ += 30'000;
  session_->poll(now_);
  link_.step(now_);
  ASSERT_EQ(channel_.started.size(), 4u);
  EXPECT_THAT(seqs_of(last()), ElementsAre(1, 2, 3)) << "the resend after resend_timeout_ms";
}

TEST_F(HttpsLinkTest, A400AfterWhichTheGatewayMovedTheAckFreesTheReadings) {
  add_readings(2);
  link_.step(now_);
  answer(HttpsAnswer{200, R"({"seq":0})", std::nullopt});
  answer(HttpsAnswer{413, R"({"error":{"code":"payload_too_large","message":"m"},"seq":2})", std::nullopt});
  EXPECT_EQ(outbox_.acked_seq(), 2u);
  EXPECT_EQ(outbox_.pending_count(), 0u);
}

TEST_F(HttpsLinkTest, ARefusedCertificateOrAMissingRouteEndsTheConnection) {
  link_.step(now_);
  answer(HttpsAnswer{403, R"({"error":{"code":"device_mismatch","message":"m"}})", std::nullopt});
  EXPECT_FALSE(session_->connected());
  ASSERT_FALSE(log_.empty());
  EXPECT_THAT(log_.back(), ::testing::HasSubstr("HTTP 403 device_mismatch"));
  now_ = session_->reconnect_at_ms();
  link_.step(now_);
  answer(HttpsAnswer{404, R"({"error":{"code":"not_found","message":"m"}})", std::nullopt});
  EXPECT_FALSE(session_->connected());
  EXPECT_EQ(link_.counters().failures, 2u);
}

TEST_F(HttpsLinkTest, AStatusWithTheDropCountGoesWhenTheOutboxDroppedReadings) {
  device::MemoryOutboxJournal journal;
  device::Outbox small(journal, device::OutboxSnapshot{}, 2);
  device::SessionConfig config;
  config.device_id = "d1";
  config.status_min_interval_ms = 0;
  ScriptedChannel channel;
  HttpsLink link(
      "d1", channel, [this] { return now_; }, [](LinkLogLevel, std::string_view) {});
  device::Session session(config, small, link, random_);
  link.attach(session);
  device::SensorValues values{};
  values[0] = 20;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(small.add(kTs + i, values).ok());  // 1..3 dropped
  link.step(now_);
  ASSERT_EQ(channel.started.size(), 1u);
  auto status = nlohmann::json::parse(channel.started[0].body);
  EXPECT_EQ(status["dropped"], 3);
  EXPECT_EQ(status["oldest_seq"], 4) << "the gateway gives up 1..3 and the ack passes the gap";
}

TEST_F(HttpsLinkTest, SayingOfflineDropsWhatRunsAndPutsTheOfflineStatus) {
  add_readings(1);
  link_.step(now_);
  answer(HttpsAnswer{200, R"({"seq":0})", std::nullopt});
  ASSERT_TRUE(channel_.busy());
  channel_.reply(HttpsAnswer{200, R"({"seq":0})", std::nullopt});  // for the offline status
  link_.say_offline(1000);
  EXPECT_EQ(channel_.abandoned, 1) << "the telemetry on the wire was not dropped";
  EXPECT_EQ(last().method, "PUT");
  EXPECT_EQ(last().path, kStatusPath);
  EXPECT_EQ(last().body, R"({"state":"offline"})");
  EXPECT_EQ(outbox_.pending_count(), 1u) << "the outbox keeps what was not acknowledged";
}

}  // namespace
}  // namespace kelvin::linux_port
