#pragma once
// The durable half of the agent's outbox. The portable Outbox (outbox.hpp) keeps readings in
// memory and calls a journal to make each change survive a crash; a platform port implements the
// journal on its storage (ports/linux: an append-only file), tests and simulated devices use
// MemoryOutboxJournal.
//
// Delivery contract (docs/protocol.md): a reading is handed to the sensor loop as "taken" only
// after record_reading() returned true, so a crash at any moment loses nothing that was taken;
// seq numbers never repeat because the journal's replay restores next_seq.

#include <cstdint>
#include <vector>

#include "kelvin/proto/telemetry.hpp"

namespace kelvin::device {

// What a journal replays at start-up.
struct OutboxSnapshot {
  std::uint64_t next_seq = 1;           // the seq the next reading gets (seq 0 is never used)
  std::uint64_t acked_seq = 0;          // highest contiguous seq the gateway acknowledged
  std::uint64_t dropped_total = 0;      // readings dropped because the outbox was full, ever
  std::vector<proto::Reading> pending;  // not yet acknowledged, ascending seq, all > acked_seq
};

class OutboxJournal {
 public:
  virtual ~OutboxJournal() = default;
  // Durably records a new reading (reading.seq is the outbox's next seq). Returns false if it
  // could not be made durable; the outbox then refuses the reading and the caller counts it.
  virtual bool record_reading(const proto::Reading& reading) = 0;
  // Records that every seq <= acked_seq is acknowledged. May be made durable lazily: losing it
  // only causes a resend, which the gateway treats as a no-op.
  virtual bool record_ack(std::uint64_t acked_seq) = 0;
  // Records that the oldest pending readings up to and including `up_to_seq` were dropped
  // because the outbox was full, and the new lifetime drop count.
  virtual bool record_drop(std::uint64_t up_to_seq, std::uint64_t dropped_total) = 0;
};

}  // namespace kelvin::device
