#include "kelvin/device/outbox.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace kelvin::device {
namespace {

auto seq_less_than_value = [](const proto::Reading& reading, std::uint64_t seq) { return reading.seq < seq; };

// Why the gateway would refuse these values, or an empty string when it would accept them.
std::string why_unsendable(std::int64_t ts_ms, const SensorValues& values) {
  if (ts_ms < proto::TelemetryLimits{}.earliest_ts_ms) return "timestamp before 2020: the clock is not set";
  bool any = false;
  for (const auto& q : proto::kQuantities) {
    const auto& value = values[static_cast<std::size_t>(q.quantity)];
    if (!value) continue;
    any = true;
    if (!std::isfinite(*value) || *value < q.min || *value > q.max) {
      return std::string(q.name) + " is not finite or outside its range";
    }
  }
  return any ? std::string() : std::string("no values");
}

}  // namespace

Outbox::Outbox(OutboxJournal& journal, const OutboxSnapshot& restored, std::size_t capacity)
    : journal_(journal),
      capacity_(std::max<std::size_t>(capacity, 1)),
      acked_seq_(restored.acked_seq),
      dropped_total_(restored.dropped_total) {
  for (const auto& reading : restored.pending) {
    if (reading.seq <= acked_seq_) continue;
    if (!pending_.empty() && reading.seq <= pending_.back().seq) continue;
    pending_.push_back(reading);
  }
  next_seq_ = std::max({restored.next_seq, acked_seq_ + 1, std::uint64_t{1}});
  if (!pending_.empty()) next_seq_ = std::max(next_seq_, pending_.back().seq + 1);
  if (pending_.size() > capacity_) drop_oldest(pending_.size() - capacity_);
}

Result<std::uint64_t> Outbox::add(std::int64_t ts_ms, const SensorValues& values) {
  if (auto why = why_unsendable(ts_ms, values); !why.empty()) {
    return make_error(Errc::invalid_argument, "reading refused: " + why);
  }
  proto::Reading reading;
  reading.seq = next_seq_;
  reading.ts_ms = ts_ms;
  reading.values = values;
  if (!journal_.record_reading(reading)) {
    return make_error(Errc::io, "reading refused: the outbox journal could not record it");
  }
  ++next_seq_;
  pending_.push_back(reading);
  // Dropped only after the new reading is durable: a failed write must not cost an old reading.
  if (pending_.size() > capacity_) drop_oldest(pending_.size() - capacity_);
  return reading.seq;
}

AckOutcome Outbox::acknowledge(std::uint64_t seq) {
  if (seq <= acked_seq_) return AckOutcome::duplicate;
  if (seq > last_seq()) {
    ++bogus_acks_;
    return AckOutcome::bogus;
  }
  acked_seq_ = seq;
  while (!pending_.empty() && pending_.front().seq <= seq) pending_.pop_front();
  if (!journal_.record_ack(seq)) ++journal_failures_;
  return AckOutcome::advanced;
}

Outbox::PendingRange Outbox::pending_after(std::uint64_t after_seq) const {
  if (after_seq == UINT64_MAX) return {pending_.end(), pending_.end()};
  auto first = std::lower_bound(pending_.begin(), pending_.end(), after_seq + 1, seq_less_than_value);
  return {first, pending_.end()};
}

std::size_t Outbox::pending_count_through(std::uint64_t seq) const {
  if (seq == UINT64_MAX) return pending_.size();
  auto end = std::lower_bound(pending_.begin(), pending_.end(), seq + 1, seq_less_than_value);
  return static_cast<std::size_t>(end - pending_.begin());
}

void Outbox::drop_oldest(std::size_t count) {
  const std::uint64_t up_to_seq = pending_[count - 1].seq;
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(count));
  dropped_total_ += count;
  if (!journal_.record_drop(up_to_seq, dropped_total_)) ++journal_failures_;
}

}  // namespace kelvin::device
