#include "kelvin/gateway/webhook_sender.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "alert_json.hpp"
#include "kelvin/core/files.hpp"
#include "kelvin/core/thread_name.hpp"
#include "kelvin/crypto/digest.hpp"
#include "kelvin/curl/https_post.hpp"
#include "kelvin/gateway/ingest.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/log/subject.hpp"

namespace kelvin::gateway {
namespace {

// How many deliveries one look at the queue takes: a long queue is worked through a batch at a
// time, so a stop never waits for more than one batch's POSTs.
constexpr std::size_t kBatch = 20;
constexpr std::size_t kMinSecretLength = 32;

Result<long> post_with_curl(const WebhookSettings& webhook, const std::string& body,
                            const std::vector<std::string>& headers) {
  auto answer = curl::https_post(webhook.url, body, headers, {.ca_file = webhook.ca_file, .timeout = webhook.timeout});
  if (!answer) return std::move(answer).error();
  return answer->status;
}

}  // namespace

SignedDelivery sign_delivery(const store::Delivery& delivery, const std::string& secret, std::int64_t now_s) {
  const nlohmann::json body{{"delivery", delivery.id},
                            {"webhook", delivery.webhook},
                            {"event", delivery.event},
                            {"alert", alert_json(delivery.alert)}};
  SignedDelivery out;
  out.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::string timestamp = std::to_string(now_s);
  out.headers = {"Content-Type: application/json", "X-Kelvin-Delivery: " + std::to_string(delivery.id),
                 "X-Kelvin-Event: " + delivery.event, "X-Kelvin-Timestamp: " + timestamp,
                 "X-Kelvin-Signature: sha256=" + crypto::hmac_sha256_hex(secret, timestamp + "." + out.body)};
  return out;
}

WebhookSender::WebhookSender(std::filesystem::path alerts_db, WebhookSenderOptions options, WebhookPost post,
                             std::function<std::int64_t()> clock)
    : alerts_db_file_(std::move(alerts_db)),
      options_(std::move(options)),
      post_(post ? std::move(post) : WebhookPost(post_with_curl)),
      clock_(clock ? std::move(clock) : std::function<std::int64_t()>(system_now_ms)) {}

WebhookSender::~WebhookSender() {
  stop();
}

Result<void> WebhookSender::start() {
  for (const auto& webhook : options_.webhooks) {
    auto secret = files::read_secret_file(webhook.secret_file);
    if (!secret) {
      return make_error(secret.error().code, "[[alerts.webhook]] " + webhook.name + ": " + secret.error().message);
    }
    if (secret->size() < kMinSecretLength) {
      return make_error(Errc::invalid_argument, "[[alerts.webhook]] " + webhook.name + ": the secret in " +
                                                    webhook.secret_file.string() +
                                                    " is shorter than 32 characters (openssl rand -hex 32 makes one)");
    }
    targets_[webhook.name] = Target{.settings = &webhook, .secret = std::move(*secret)};
  }
  auto db = store::AlertDb::open(alerts_db_file_);
  if (!db) return make_error(db.error().code, "webhooks: " + db.error().message);
  db_.emplace(std::move(*db));
  thread_ = core::named_thread("webhooks", [this] { run(); });
  return {};
}

void WebhookSender::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

WebhookCounters WebhookSender::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

void WebhookSender::run() {
  for (;;) {
    send_due();
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, options_.poll, [this] { return stopping_; });
    if (stopping_) return;
  }
}

void WebhookSender::send_due() {
  auto due = db_->due_deliveries(clock_(), kBatch);
  if (!due) {
    if (auto suppressed = log_.admit("database", std::chrono::steady_clock::now())) {
      log::component("webhooks")
          .error("reading the queue failed: {} ({} similar suppressed)", due.error().message, *suppressed);
    }
    return;
  }
  for (const auto& delivery : *due) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    if (judged_sendable(delivery)) send(delivery);
  }
  if (auto counts = db_->delivery_counts(); counts) {
    std::lock_guard lock(mutex_);
    counters_.pending = counts->pending;
    counters_.dead = counts->dead;
  }
}

void WebhookSender::judge_with(DeliveryReferee referee) {
  referee_ = std::move(referee);
}

bool WebhookSender::judged_sendable(const store::Delivery& delivery) {
  // Judged once, before the first attempt: a retry carries the same decision on.
  if (!referee_ || delivery.attempts > 0) return true;
  const std::int64_t now_ms = clock_();
  const RefereeVerdict verdict = referee_(delivery, now_ms);
  switch (verdict.kind) {
    case RefereeVerdict::Kind::send:
      return true;
    case RefereeVerdict::Kind::wait:
      if (auto saved = db_->postpone_delivery(delivery.id, verdict.until_ms); !saved) {
        log::component("webhooks").error("postponing delivery {} failed: {}", delivery.id, saved.error().message);
      }
      return false;
    case RefereeVerdict::Kind::leave_to_peer: {
      if (auto saved = db_->leave_delivery_to_peer(delivery.id, verdict.peer, now_ms); !saved) {
        log::component("webhooks")
            .error("recording delivery {} as left to gateway {} failed: {}", delivery.id, verdict.peer,
                   saved.error().message);
        return false;  // judged again at the next look
      }
      const log::Subjects about{{log::SubjectKey::webhook, delivery.webhook},
                                {log::SubjectKey::rule, delivery.alert.rule},
                                {log::SubjectKey::subject, delivery.alert.subject},
                                {log::SubjectKey::gateway, verdict.peer}};
      log::component("webhooks")
          .info("delivery {} to {} ({} {} {}) is left to gateway {}, whose alert of it came first", delivery.id,
                delivery.webhook, delivery.alert.rule, delivery.alert.subject, delivery.event, verdict.peer);
      std::lock_guard lock(mutex_);
      ++counters_.left_to_peer;
      return false;
    }
  }
  return true;
}

void WebhookSender::send(const store::Delivery& delivery) {
  const auto target = targets_.find(delivery.webhook);
  if (target == targets_.end()) {
    // Queued for a webhook since removed from the configuration: nobody to tell.
    (void)db_->delivery_failed(delivery.id, "the webhook is no longer configured", std::nullopt);
    std::lock_guard lock(mutex_);
    ++counters_.given_up;
    return;
  }
  const WebhookSettings& settings = *target->second.settings;
  const std::int64_t now_ms = clock_();
  const SignedDelivery signed_delivery = sign_delivery(delivery, target->second.secret, now_ms / 1000);
  auto status = post_(settings, signed_delivery.body, signed_delivery.headers);
  if (status && *status >= 200 && *status < 300) {
    if (auto saved = db_->delivered(delivery.id, now_ms); !saved) {
      log::component("webhooks")
          .error("recording delivery {} failed: {}; it may be sent again", delivery.id, saved.error().message);
    }
    std::lock_guard lock(mutex_);
    ++counters_.delivered;
    return;
  }
  const std::string error = status ? "answered " + std::to_string(*status) : status.error().message;
  const std::int64_t attempts = delivery.attempts + 1;
  std::optional<std::int64_t> next_attempt_ms;
  if (attempts < settings.max_attempts) {
    const auto shift = static_cast<int>(std::min<std::int64_t>(attempts - 1, 20));
    const std::int64_t backoff_ms =
        std::min<std::int64_t>(options_.retry_min.count() << shift, options_.retry_max.count());
    next_attempt_ms = now_ms + backoff_ms;
  }
  if (auto saved = db_->delivery_failed(delivery.id, error, next_attempt_ms); !saved) {
    log::component("webhooks").error("recording a failed delivery {} failed: {}", delivery.id, saved.error().message);
  }
  if (auto suppressed = log_.admit(delivery.webhook, std::chrono::steady_clock::now())) {
    const log::Subjects about{{log::SubjectKey::webhook, delivery.webhook},
                              {log::SubjectKey::rule, delivery.alert.rule},
                              {log::SubjectKey::subject, delivery.alert.subject}};
    log::component("webhooks")
        .warn("delivery {} to {} ({} {} {}) failed, attempt {}: {}{} ({} similar suppressed)", delivery.id,
              delivery.webhook, delivery.alert.rule, delivery.alert.subject, delivery.event, attempts, error,
              next_attempt_ms ? "" : "; given up", *suppressed);
  }
  std::lock_guard lock(mutex_);
  ++counters_.failed_attempts;
  if (!next_attempt_ms) ++counters_.given_up;
}

}  // namespace kelvin::gateway
