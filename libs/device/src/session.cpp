#include "kelvin/device/session.hpp"

#include <algorithm>
#include <utility>

#include "kelvin/proto/ack.hpp"
#include "kelvin/proto/status.hpp"
#include "kelvin/proto/topics.hpp"

namespace kelvin::device {

Session::Session(SessionConfig config, Outbox& outbox, Transport& transport, RandomSource& random)
    : config_(std::move(config)),
      outbox_(outbox),
      transport_(transport),
      backoff_(config_.backoff, random),
      telemetry_topic_(proto::device_topic(config_.device_id, proto::DeviceTopic::telemetry)),
      ack_topic_(proto::device_topic(config_.device_id, proto::DeviceTopic::ack)),
      status_topic_(proto::device_topic(config_.device_id, proto::DeviceTopic::status)) {
  config_.max_in_flight_readings = std::max<std::size_t>(config_.max_in_flight_readings, 1);
  sent_up_to_ = outbox_.acked_seq();
}

void Session::on_connected(std::int64_t now_ms) {
  connected_ = true;
  connected_at_ms_ = now_ms;
  status_sent_ = false;
  progress_at_ms_ = now_ms;
  rewind();
  ++counters_.connects;
  pump(now_ms);
}

void Session::on_disconnected(std::int64_t now_ms) {
  if (connected_ && now_ms - connected_at_ms_ >= config_.stable_connection_ms) backoff_.reset();
  connected_ = false;
  status_sent_ = false;
  rewind();
  reconnect_at_ms_ = now_ms + backoff_.next_delay_ms();
  ++counters_.disconnects;
}

bool Session::on_message(std::string_view topic, std::string_view payload, std::int64_t now_ms) {
  if (topic != ack_topic_) return false;
  const auto seq = proto::decode_ack(payload);
  if (!seq) {
    ++counters_.acks_malformed;
    return true;
  }
  switch (outbox_.acknowledge(*seq)) {
    case AckOutcome::advanced:
      ++counters_.acks_advanced;
      progress_at_ms_ = now_ms;
      sent_up_to_ = std::max(sent_up_to_, outbox_.acked_seq());
      pump(now_ms);
      break;
    case AckOutcome::duplicate:
      ++counters_.acks_duplicate;
      break;
    case AckOutcome::bogus:
      ++counters_.acks_bogus;
      break;
  }
  return true;
}

void Session::on_reading_added(std::int64_t now_ms) {
  pump(now_ms);
}

void Session::poll(std::int64_t now_ms) {
  if (!connected_) return;
  if (now_ms < progress_at_ms_) progress_at_ms_ = now_ms;
  if (in_flight() > 0 && now_ms - progress_at_ms_ >= config_.resend_timeout_ms) {
    rewind();
    progress_at_ms_ = now_ms;
    ++counters_.resends;
  }
  pump(now_ms);
}

void Session::set_release_check(std::string_view code) {
  if (proto::is_valid_release_check(code)) {
    release_check_.assign(code);
  } else {
    release_check_.clear();
  }
}

std::size_t Session::in_flight() const {
  return outbox_.pending_count_through(std::max(sent_up_to_, outbox_.acked_seq()));
}

void Session::rewind() {
  sent_up_to_ = outbox_.acked_seq();
}

bool Session::publish_status_if_due(std::int64_t now_ms) {
  const std::uint64_t dropped = outbox_.dropped_total();
  const std::uint64_t oldest = outbox_.oldest_held_seq();
  const bool first = !status_sent_;
  // Readings the outbox dropped after the last status was made, and that were never sent, leave
  // a gap its oldest_seq does not cover: the gateway's ack would wait there until the next status,
  // up to status_min_interval_ms later. Over MQTT the pending readings go out right behind the
  // status, so later drops hit readings already sent; over HTTPS the telemetry waits for the
  // status's answer, and a reading taken meanwhile may drop one never sent. Then the status goes
  // again at once.
  const std::uint64_t first_uncovered = std::max({status_oldest_seq_, highest_sent_ + 1, outbox_.acked_seq() + 1});
  const bool gap_uncovered = first_uncovered < oldest;
  const bool verdict_changed = release_check_ != status_release_check_;
  if (!first && !gap_uncovered && !verdict_changed &&
      (dropped == status_dropped_ || now_ms - status_at_ms_ < config_.status_min_interval_ms)) {
    return true;
  }
  const proto::StatusReport status{.online = true,
                                   .firmware = config_.fw_version,
                                   .dropped = dropped,
                                   .oldest_seq = oldest,
                                   .release_check = release_check_};
  if (!transport_.publish(status_topic_, proto::encode_status(status), true)) {
    ++counters_.publish_refusals;
    return !first;
  }
  status_sent_ = true;
  status_at_ms_ = now_ms;
  status_dropped_ = dropped;
  status_oldest_seq_ = oldest;
  status_release_check_ = release_check_;
  ++counters_.status_published;
  return true;
}

void Session::pump(std::int64_t now_ms) {
  if (!connected_) return;
  if (!publish_status_if_due(now_ms)) return;
  for (;;) {
    sent_up_to_ = std::max(sent_up_to_, outbox_.acked_seq());
    const std::size_t in_flight_now = outbox_.pending_count_through(sent_up_to_);
    if (in_flight_now >= config_.max_in_flight_readings) return;
    auto unsent = outbox_.pending_after(sent_up_to_);
    if (unsent.empty()) return;

    BatchLimits limits = config_.batch;
    limits.max_readings = std::min(limits.max_readings, config_.max_in_flight_readings - in_flight_now);
    auto batch = build_batch(unsent, limits);
    if (!batch) return;  // unreachable: the first reading always fits (batch.hpp)
    if (!transport_.publish(telemetry_topic_, batch->payload, false)) {
      ++counters_.publish_refusals;
      return;
    }
    // The resend clock starts when the window stops being empty; ack progress restarts it.
    if (in_flight_now == 0) progress_at_ms_ = now_ms;
    sent_up_to_ = batch->last_seq;
    highest_sent_ = std::max(highest_sent_, batch->last_seq);
    ++counters_.sent_batches;
    counters_.sent_readings += batch->readings;
  }
}

}  // namespace kelvin::device
