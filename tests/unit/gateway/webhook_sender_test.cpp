// The webhooks' sender (webhook_sender.hpp) on a real alerts.db with a fake receiver: a queued
// delivery is POSTed signed, retried with backoff after failures until delivered, given up after
// its attempts; a delivery for a webhook no longer configured is given up; secrets others may read
// or too short stop the start.

#include "kelvin/gateway/webhook_sender.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kelvin/crypto/digest.hpp"
#include "kelvin/testing/background_process.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::gateway {
namespace {

using namespace std::chrono_literals;
using kelvin::testing::wait_until;
using nlohmann::json;

const std::string kSecret(64, 's');

// What the fake receiver got, and how it answers: `failures` more 500s, then 204.
struct Receiver {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::vector<std::string>>> requests;  // body, headers
  std::atomic<int> failures{0};

  Result<long> post(const std::string& body, const std::vector<std::string>& headers) {
    std::lock_guard lock(mutex);
    requests.emplace_back(body, headers);
    if (failures > 0) {
      --failures;
      return 500L;
    }
    return 204L;
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return requests.size();
  }
};

std::string header(const std::vector<std::string>& headers, const std::string& name) {
  for (const auto& line : headers) {
    if (line.rfind(name + ": ", 0) == 0) return line.substr(name.size() + 2);
  }
  return "";
}

class WebhookSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_secret(secret_file_, kSecret);
    auto db = store::AlertDb::open(dir_ / "alerts.db");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
  }

  static void write_secret(const std::filesystem::path& file, const std::string& secret,
                           std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                                          std::filesystem::perms::owner_write) {
    std::ofstream(file) << secret << "\n";
    std::filesystem::permissions(file, perms);
  }

  // Fires an alert with a delivery queued for each of `webhooks`; returns the alert's id.
  std::int64_t fire(const std::vector<std::string>& webhooks) {
    const std::vector<std::string> names = webhooks;
    auto fired = db_->fire({.rule = "warm",
                            .kind = "threshold",
                            .subject = "d1",
                            .started_ms = 1000,
                            .value = 31.5,
                            .summary = "temperature 31.5 °C (fires above 30 °C)"},
                           names);
    EXPECT_TRUE(fired.ok());
    return fired.ok() ? fired->id : 0;
  }

  // `clock` empty: the system's.
  std::unique_ptr<WebhookSender> sender(int max_attempts = 30, std::function<std::int64_t()> clock = nullptr) {
    WebhookSenderOptions options{.webhooks = {{.name = "ops",
                                               .url = "https://receiver.invalid/hook",
                                               .secret_file = secret_file_,
                                               .max_attempts = max_attempts}},
                                 .poll = 5ms,
                                 .retry_min = 5ms,
                                 .retry_max = 20ms};
    return std::make_unique<WebhookSender>(
        dir_ / "alerts.db", std::move(options),
        [this](const WebhookSettings& webhook, const std::string& body, const std::vector<std::string>& headers) {
          EXPECT_EQ(webhook.name, "ops");
          return receiver_.post(body, headers);
        },
        std::move(clock));
  }

  kelvin::testing::TempDir dir_;
  std::filesystem::path secret_file_ = dir_ / "ops.secret";
  std::optional<store::AlertDb> db_;
  Receiver receiver_;
};

TEST_F(WebhookSenderTest, ADeliveryIsSignedAndRetriedUntilTheReceiverTakesIt) {
  const std::int64_t alert = fire({"ops"});
  receiver_.failures = 2;
  auto webhooks = sender();
  ASSERT_TRUE(webhooks->start().ok());
  ASSERT_TRUE(wait_until([&] { return webhooks->counters().delivered == 1; }, 10s));
  EXPECT_EQ(webhooks->counters().failed_attempts, 2u);
  std::this_thread::sleep_for(50ms);
  webhooks->stop();
  ASSERT_EQ(receiver_.count(), 3u) << "two refusals, one delivery, nothing after it";

  std::string delivery_id;
  for (const auto& [body, headers] : receiver_.requests) {
    const json parsed = json::parse(body);
    EXPECT_EQ(parsed["event"], "fired");
    EXPECT_EQ(parsed["webhook"], "ops");
    EXPECT_EQ(parsed["alert"]["id"], alert);
    EXPECT_EQ(parsed["alert"]["summary"], "temperature 31.5 °C (fires above 30 °C)");
    if (delivery_id.empty()) delivery_id = header(headers, "X-Kelvin-Delivery");
    EXPECT_EQ(header(headers, "X-Kelvin-Delivery"), delivery_id) << "the same delivery each time";
    EXPECT_EQ(std::to_string(parsed["delivery"].get<std::int64_t>()), delivery_id);
    const std::string timestamp = header(headers, "X-Kelvin-Timestamp");
    EXPECT_EQ(header(headers, "X-Kelvin-Signature"),
              "sha256=" + crypto::hmac_sha256_hex(kSecret, timestamp + "." + body));
  }
  auto due = db_->due_deliveries(std::numeric_limits<std::int64_t>::max(), 10);
  ASSERT_TRUE(due.ok());
  EXPECT_TRUE(due->empty()) << "delivered: never sent again";
}

TEST_F(WebhookSenderTest, ADeliveryIsGivenUpAfterItsAttemptsAndCountedDead) {
  fire({"ops"});
  receiver_.failures = 1000;
  auto webhooks = sender(3);
  ASSERT_TRUE(webhooks->start().ok());
  ASSERT_TRUE(wait_until([&] { return webhooks->counters().dead == 1; }, 10s));
  EXPECT_EQ(webhooks->counters().given_up, 1u);
  EXPECT_EQ(webhooks->counters().failed_attempts, 3u);
  EXPECT_EQ(webhooks->counters().pending, 0u);
  webhooks->stop();
  EXPECT_EQ(receiver_.count(), 3u);
}

TEST_F(WebhookSenderTest, ADeliveryForAWebhookNoLongerConfiguredIsGivenUp) {
  fire({"ops", "old"});
  auto webhooks = sender();
  ASSERT_TRUE(webhooks->start().ok());
  ASSERT_TRUE(wait_until([&] { return webhooks->counters().delivered == 1 && webhooks->counters().dead == 1; }, 10s));
  webhooks->stop();
  EXPECT_EQ(receiver_.count(), 1u);
}

// A gateway of a share group has each delivery judged (notification_referee.hpp) before it is
// sent: told to wait, it is not sent until then; told a peer notifies it, never; a retry is not
// judged again.
TEST_F(WebhookSenderTest, ADeliveryIsJudgedBeforeItsFirstAttemptAndLeftToAPeerIfTheRefereeSaysSo) {
  fire({"ops"});
  std::atomic<std::int64_t> now_ms{1000};
  std::atomic<int> judged{0};
  std::atomic<bool> leave{false};
  auto webhooks = sender(30, [&] { return now_ms.load(); });
  webhooks->judge_with([&](const store::Delivery& delivery, std::int64_t now) {
    ++judged;
    EXPECT_EQ(delivery.attempts, 0) << "only the first attempt is judged";
    if (leave) return RefereeVerdict{.kind = RefereeVerdict::Kind::leave_to_peer, .peer = "svc-gateway-b"};
    if (now < 3000) return RefereeVerdict{.kind = RefereeVerdict::Kind::wait, .until_ms = 3000};
    return RefereeVerdict{};
  });
  receiver_.failures = 1;
  ASSERT_TRUE(webhooks->start().ok());
  ASSERT_TRUE(wait_until([&] { return judged.load() >= 1; }, 10s));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(judged.load(), 1) << "postponed: not looked at again before its time";
  EXPECT_EQ(receiver_.count(), 0u);
  now_ms = 3000;
  ASSERT_TRUE(wait_until([&] { return webhooks->counters().failed_attempts == 1; }, 10s));
  now_ms = 4000;  // the retry is due
  ASSERT_TRUE(wait_until([&] { return webhooks->counters().delivered == 1; }, 10s));
  EXPECT_EQ(judged.load(), 2) << "judged once more when due, then sent and retried without asking";
  EXPECT_EQ(receiver_.count(), 2u);

  // The next transition is another gateway's to notify: kept, never sent, counted.
  leave = true;
  ASSERT_TRUE(*db_->resolve(1, 4000, "condition cleared", std::vector<std::string>{"ops"}));
  ASSERT_TRUE(wait_until([&] { return webhooks->counters().left_to_peer == 1; }, 10s));
  now_ms = 1'000'000;
  std::this_thread::sleep_for(50ms);
  webhooks->stop();
  EXPECT_EQ(receiver_.count(), 2u);
  EXPECT_EQ(webhooks->counters().pending, 0u);
  EXPECT_EQ(webhooks->counters().dead, 0u);
  EXPECT_TRUE(db_->due_deliveries(std::numeric_limits<std::int64_t>::max(), 10)->empty());
}

TEST_F(WebhookSenderTest, ASecretOthersMayReadOrAShortOneStopsTheStart) {
  write_secret(
      secret_file_, kSecret,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write | std::filesystem::perms::group_read);
  auto readable = sender()->start();
  ASSERT_FALSE(readable.ok());
  EXPECT_NE(readable.error().message.find("ops"), std::string::npos) << readable.error().message;
  write_secret(secret_file_, "short");
  auto short_secret = sender()->start();
  ASSERT_FALSE(short_secret.ok());
  EXPECT_NE(short_secret.error().message.find("shorter than 32 characters"), std::string::npos)
      << short_secret.error().message;
}

}  // namespace
}  // namespace kelvin::gateway
