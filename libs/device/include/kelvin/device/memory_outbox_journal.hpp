#pragma once
// An OutboxJournal in memory: for tests and simulated devices, which have no storage to survive
// a restart but still want to exercise one. snapshot() returns what a real journal's replay
// would, so "restart the device" is `Outbox fresh(journal, journal.snapshot(), capacity)`.
//
// Header-only on purpose (see SplitMix64Source in random.hpp): the -fno-rtti device library must
// not emit the vtable of a class that RTTI-enabled code constructs.

#include <algorithm>
#include <cstdint>
#include <utility>

#include "kelvin/device/outbox_journal.hpp"

namespace kelvin::device {

class MemoryOutboxJournal final : public OutboxJournal {
 public:
  MemoryOutboxJournal() = default;
  // Starts from an earlier state (e.g. another journal's snapshot).
  explicit MemoryOutboxJournal(OutboxSnapshot state) : state_(std::move(state)) {}

  // Like a replayed log: a later record of a seq replaces an earlier one (outbox.hpp explains
  // why a journal must behave so).
  bool record_reading(const proto::Reading& reading) override {
    if (failing_) return false;
    std::erase_if(state_.pending, [&](const proto::Reading& r) { return r.seq == reading.seq; });
    state_.pending.push_back(reading);
    state_.next_seq = std::max(state_.next_seq, reading.seq + 1);
    ++readings_recorded_;
    return true;
  }

  bool record_ack(std::uint64_t acked_seq) override {
    if (failing_) return false;
    state_.acked_seq = std::max(state_.acked_seq, acked_seq);
    forget_through(state_.acked_seq);
    ++acks_recorded_;
    return true;
  }

  bool record_drop(std::uint64_t up_to_seq, std::uint64_t dropped_total) override {
    if (failing_) return false;
    forget_through(up_to_seq);
    state_.dropped_total = std::max(state_.dropped_total, dropped_total);
    ++drops_recorded_;
    return true;
  }

  // What a replay at start-up would restore.
  OutboxSnapshot snapshot() const { return state_; }

  // While failing, every record_* call returns false and records nothing (a full or broken disk).
  void set_failing(bool failing) { failing_ = failing; }

  std::uint64_t readings_recorded() const { return readings_recorded_; }
  std::uint64_t acks_recorded() const { return acks_recorded_; }
  std::uint64_t drops_recorded() const { return drops_recorded_; }

 private:
  void forget_through(std::uint64_t seq) {
    std::erase_if(state_.pending, [&](const proto::Reading& r) { return r.seq <= seq; });
  }

  OutboxSnapshot state_;
  bool failing_ = false;
  std::uint64_t readings_recorded_ = 0;
  std::uint64_t acks_recorded_ = 0;
  std::uint64_t drops_recorded_ = 0;
};

}  // namespace kelvin::device
