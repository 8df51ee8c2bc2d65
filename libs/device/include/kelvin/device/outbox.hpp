#pragma once
// The agent's outbox: every reading taken, with its sequence number, until the gateway
// acknowledges it (docs/protocol.md, docs/architecture.md "Delivery guarantee"). The outbox keeps
// the readings in memory and makes every change durable through an OutboxJournal first.
//
// Sequence numbers. A reading gets next_seq() only once the journal has recorded it. When
// record_reading() fails the reading is refused (Errc::io) and its seq is NOT consumed: the next
// reading gets the same number. Burning the seq instead would leave a hole that no reading ever
// fills, and the gateway acknowledges only the highest seq up to which it has everything, so one
// failed disk write would stop acknowledgements for good. Reuse is safe because a refused
// reading never reaches the wire; the one requirement it puts on a journal is that, if a failed
// write did reach the disk after all, replay keeps the LAST record of a seq (the one that was
// accepted), never the first. Seqs already accepted are never reused, also across restarts:
// next_seq comes back from the journal's snapshot.
//
// Capacity. When a new reading would leave more than capacity() readings pending, the oldest
// are dropped, recorded in the journal and counted in dropped_total(): loss is never silent.
//
// Not thread-safe: one owner (the agent loop) calls everything.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <ranges>

#include "kelvin/core/result.hpp"
#include "kelvin/device/outbox_journal.hpp"
#include "kelvin/device/sensor_source.hpp"
#include "kelvin/proto/telemetry.hpp"

namespace kelvin::device {

// What an acknowledgement did.
enum class AckOutcome {
  advanced,   // acked_seq moved forward and pending readings were freed
  duplicate,  // seq <= acked_seq: an old or repeated ack; nothing changes
  bogus,      // seq beyond every seq ever assigned: ignored (see acknowledge)
};

class Outbox {
 public:
  using PendingRange = std::ranges::subrange<std::deque<proto::Reading>::const_iterator>;

  // Restores the state a journal replayed. The snapshot is repaired rather than trusted: pending
  // readings at or below acked_seq or out of ascending order are discarded, next_seq is raised
  // above every pending seq and above acked_seq, and readings beyond `capacity` are dropped
  // (oldest first, recorded and counted). A capacity of 0 is treated as 1.
  Outbox(OutboxJournal& journal, const OutboxSnapshot& restored, std::size_t capacity);

  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Takes a reading: returns its seq once the journal recorded it. Errors:
  //   Errc::invalid_argument  no value, a value that is not finite or outside the protocol's
  //                           range, or ts_ms before TelemetryLimits::earliest_ts_ms (the clock
  //                           is not set). The gateway would refuse such a reading, and a refused
  //                           seq would stall the acknowledgements, so it never gets a seq.
  //   Errc::io                the journal could not record it; the seq is not consumed.
  Result<std::uint64_t> add(std::int64_t ts_ms, const SensorValues& values);

  // The gateway stored every reading up to `seq`. An ack beyond last_seq() cannot be about this
  // outbox (a gateway confusing devices, or a journal that lost its tail); applying it would
  // free readings the gateway never received, so it is ignored and counted in bogus_acks().
  AckOutcome acknowledge(std::uint64_t seq);

  std::uint64_t acked_seq() const { return acked_seq_; }
  std::uint64_t next_seq() const { return next_seq_; }
  std::uint64_t last_seq() const { return next_seq_ - 1; }  // highest seq ever assigned, 0 if none
  // The lowest seq still held, next_seq() when nothing is pending: every seq below it was
  // acknowledged or dropped, so the device can never send it again.
  std::uint64_t oldest_held_seq() const { return pending_.empty() ? next_seq_ : pending_.front().seq; }
  std::size_t pending_count() const { return pending_.size(); }
  std::size_t capacity() const { return capacity_; }
  std::uint64_t dropped_total() const { return dropped_total_; }
  std::uint64_t bogus_acks() const { return bogus_acks_; }
  // record_ack/record_drop calls that returned false. Those changes are applied in memory anyway
  // (the journal contract allows them to be lazy); a restart may then resend or re-drop.
  std::uint64_t journal_failures() const { return journal_failures_; }

  // Pending readings with seq > after_seq, ascending. Invalidated by add() and acknowledge().
  PendingRange pending_after(std::uint64_t after_seq) const;
  // How many pending readings have seq <= seq.
  std::size_t pending_count_through(std::uint64_t seq) const;

 private:
  void drop_oldest(std::size_t count);

  OutboxJournal& journal_;
  std::size_t capacity_;
  std::deque<proto::Reading> pending_;  // ascending seq, all > acked_seq_
  std::uint64_t next_seq_ = 1;
  std::uint64_t acked_seq_ = 0;
  std::uint64_t dropped_total_ = 0;
  std::uint64_t bogus_acks_ = 0;
  std::uint64_t journal_failures_ = 0;
};

}  // namespace kelvin::device
