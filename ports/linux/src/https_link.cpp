#include "kelvin/linux_port/https_link.hpp"

#include <algorithm>
#include <utility>

#include "kelvin/linux_port/gateway_answer.hpp"
#include "kelvin/proto/ack.hpp"
#include "kelvin/proto/status.hpp"

namespace kelvin::linux_port {

HttpsLink::HttpsLink(std::string device_id, HttpsChannel& channel, Clock clock, Log log)
    : device_id_(std::move(device_id)),
      telemetry_path_("/api/v1/devices/" + device_id_ + "/telemetry"),
      status_path_("/api/v1/devices/" + device_id_ + "/status"),
      channel_(channel),
      clock_(std::move(clock)),
      log_(std::move(log)) {}

bool HttpsLink::publish(std::string_view topic, std::string_view payload, bool /*retain*/) {
  if (waiting_ || channel_.busy()) return false;
  if (topic == session_->telemetry_topic()) {
    waiting_ = HttpsRequest{"POST", telemetry_path_, std::string(payload)};
  } else if (topic == session_->status_topic()) {
    waiting_ = HttpsRequest{"PUT", status_path_, std::string(payload)};
  } else {
    return false;  // the session publishes nothing else
  }
  return true;
}

std::int64_t HttpsLink::step(std::int64_t now) {
  if (!session_->connected() && session_->connect_due(now)) {
    answered_ = false;
    hold_until_ms_ = 0;
    session_->on_connected(now);  // publishes the online status: the attempt's first request
  }
  start_waiting(now);
  std::int64_t next = now + 1000;
  if (waiting_ && hold_until_ms_ > now) next = std::min(next, hold_until_ms_);
  if (!session_->connected()) next = std::min(next, std::max(session_->reconnect_at_ms(), now));
  return next;
}

void HttpsLink::start_waiting(std::int64_t now) {
  if (!waiting_ || channel_.busy() || now < hold_until_ms_) return;
  HttpsRequest request = std::move(*waiting_);
  waiting_.reset();
  ++counters_.requests;
  if (auto started = channel_.start(request); !started) {
    disconnect(now, started.error().message);
    return;
  }
  running_ = std::move(request);
}

void HttpsLink::await_answer(std::int64_t wait_ms) {
  if (auto answer = channel_.poll(wait_ms)) handle(std::move(*answer));
}

void HttpsLink::handle(Result<HttpsAnswer> answer) {
  const std::int64_t now = clock_();
  std::optional<HttpsRequest> request = std::move(running_);
  running_.reset();
  if (!answer) {
    disconnect(now, "no answer from the gateway: " + answer.error().message);
    return;
  }
  const GatewayVerdict verdict = read_gateway_answer(*answer);
  switch (verdict.kind) {
    case GatewayVerdict::Kind::acknowledged:
      ++counters_.acks;
      if (!answered_) {
        answered_ = true;
        log_(LinkLogLevel::info, "connected: the gateway answers over HTTPS");
      }
      if (!verdict.problem.empty()) {
        ++counters_.payloads_refused;
        log_(LinkLogLevel::error, verdict.problem + " (kept in the outbox; it goes again with the next resend)");
      }
      session_->on_message(session_->ack_topic(), proto::encode_ack(verdict.acked_seq), now);
      // on_message sends more only when the ack advanced; poll sends what is due either way.
      session_->poll(now);
      return;
    case GatewayVerdict::Kind::retry_later:
      ++counters_.retries_later;
      log_(LinkLogLevel::warn, "the gateway is busy (" + verdict.problem + "); the request goes again in " +
                                   std::to_string(verdict.retry_after_ms) + " ms");
      // Nothing was taken: the same request goes again, ahead of anything new.
      waiting_ = std::move(request);
      hold_until_ms_ = now + verdict.retry_after_ms;
      return;
    case GatewayVerdict::Kind::failed:
      disconnect(now, verdict.problem);
      return;
  }
}

void HttpsLink::disconnect(std::int64_t now, const std::string& why) {
  ++counters_.failures;
  channel_.abandon();
  waiting_.reset();
  running_.reset();
  hold_until_ms_ = 0;
  if (!session_->connected()) return;
  session_->on_disconnected(now);
  log_(LinkLogLevel::warn, why + "; next attempt in " + std::to_string(session_->reconnect_at_ms() - now) + " ms");
}

void HttpsLink::say_offline(std::int64_t timeout_ms) {
  channel_.abandon();
  waiting_.reset();
  running_.reset();
  if (!session_->connected()) return;
  ++counters_.requests;
  if (!channel_.start(HttpsRequest{"PUT", status_path_, std::string(proto::kOfflineStatusJson)})) return;
  const std::int64_t deadline = clock_() + timeout_ms;
  while (channel_.busy()) {
    const std::int64_t left = deadline - clock_();
    if (left <= 0) {
      channel_.abandon();
      return;
    }
    (void)channel_.poll(left);
  }
}

}  // namespace kelvin::linux_port
