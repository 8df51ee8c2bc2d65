#pragma once
// Alert notifications to webhooks (docs/alerts.md, "Webhooks"): each transition the alert engine
// records queues one delivery per webhook in alerts.db, in the transition's own transaction; this
// sender POSTs them over HTTPS (the receiver's certificate verified), signed with HMAC-SHA256 under
// the webhook's secret, and retries a failed one with backoff until it is delivered or has used its
// attempts (then it is dead, and counted). The queue is the database: a restart, a crash or an
// unreachable receiver loses nothing, and every delivery carries its id so a receiver can drop a
// repeat (one sent again because its answer was lost).
//
// Threads: one thread of its own owns its alerts.db connection and does every POST, one at a time
// (each bounded by the webhook's timeout).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/gateway/notification_referee.hpp"
#include "kelvin/gateway/rate_limited_log.hpp"
#include "kelvin/store/alert_db.hpp"

namespace kelvin::gateway {

// [[alerts.webhook]]
struct WebhookSettings {
  std::string name{};                   // a rule name's characters; in alerts.db and the logs
  std::string url{};                    // https:// only
  std::filesystem::path secret_file{};  // 0600, 32 characters or more: the HMAC key, read at start
  std::filesystem::path ca_file{};      // the receiver's trust anchor; empty: the system's CAs
  std::chrono::milliseconds timeout{10'000};
  int max_attempts = 30;  // then the delivery is dead (about 2 hours at the longest backoff)
};

struct WebhookSenderOptions {
  std::vector<WebhookSettings> webhooks{};
  std::chrono::milliseconds poll{1000};  // how often the queue is read
  std::chrono::milliseconds retry_min{1000};
  std::chrono::milliseconds retry_max{300'000};  // backoff doubles from retry_min up to this
};

struct WebhookCounters {
  std::uint64_t delivered = 0;
  std::uint64_t failed_attempts = 0;  // a receiver that did not answer 2xx, or no answer
  std::uint64_t given_up = 0;         // deliveries that became dead since the start
  std::uint64_t left_to_peer = 0;     // another gateway of the share group notified the transition
  // Gauges, as the last look at the queue left them.
  std::uint64_t pending = 0;
  std::uint64_t dead = 0;
};

// The headers and body of one delivery as sent: X-Kelvin-Signature is "sha256=" and the hex
// HMAC-SHA256 under `secret` of "<timestamp>.<body>", timestamp X-Kelvin-Timestamp (Unix seconds).
struct SignedDelivery {
  std::string body{};
  std::vector<std::string> headers{};
};
SignedDelivery sign_delivery(const store::Delivery& delivery, const std::string& secret, std::int64_t now_s);

// Whether this gateway sends a delivery, waits, or leaves it to another gateway of its share group
// (NotificationReferee::judge); asked before a delivery's first attempt, not before its retries.
using DeliveryReferee = std::function<RefereeVerdict(const store::Delivery& delivery, std::int64_t now_ms)>;

// POSTs `body` with `headers` to `webhook`: the HTTP status, or the error when no answer came.
using WebhookPost = std::function<Result<long>(const WebhookSettings& webhook, const std::string& body,
                                               const std::vector<std::string>& headers)>;

class WebhookSender {
 public:
  // `post` empty: HTTPS with libcurl (curl::https_post).
  WebhookSender(std::filesystem::path alerts_db, WebhookSenderOptions options, WebhookPost post = nullptr,
                std::function<std::int64_t()> clock = nullptr);
  ~WebhookSender();  // stop()s
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  // Reads every webhook's secret (refusing one others may read, or shorter than 32 characters),
  // opens alerts.db and starts the thread.
  Result<void> start();
  void stop();  // idempotent; waits for a POST in progress

  WebhookCounters counters() const;

  // Before start(): a gateway of a share group has each delivery judged first.
  void judge_with(DeliveryReferee referee);

 private:
  void run();
  void send_due();
  void send(const store::Delivery& delivery);
  // Carries out the referee's verdict on `delivery`; true when it is to be sent now.
  bool judged_sendable(const store::Delivery& delivery);

  const std::filesystem::path alerts_db_file_;
  const WebhookSenderOptions options_;
  const WebhookPost post_;
  const std::function<std::int64_t()> clock_;
  DeliveryReferee referee_{};  // set before start()

  mutable std::mutex mutex_;  // guards the members below it; a leaf
  std::condition_variable wake_;
  bool stopping_ = false;
  WebhookCounters counters_;

  // The sender's thread only (and start()): each configured webhook by name, with its secret.
  struct Target {
    const WebhookSettings* settings = nullptr;
    std::string secret{};
  };
  std::map<std::string, Target, std::less<>> targets_;
  std::optional<store::AlertDb> db_{};
  RateLimitedLog log_;
  std::thread thread_;
};

}  // namespace kelvin::gateway
