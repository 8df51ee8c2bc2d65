#pragma once
// The value types of the embedded time-series store (see store.hpp for the operations and
// docs/store.md for the design): what ingest hands over, what a commit reports, how a time range
// is asked for and what comes back, and what the store knows about a device.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/proto/telemetry.hpp"
#include "kelvin/proto/telemetry_codec.hpp"

namespace kelvin::store {

// ---- Ingest --------------------------------------------------------------------------------------

// A reading the decoder accepted, with the device it came from (the certificate's CN).
struct DeviceReading {
  std::string device_id;
  proto::Reading reading;
};

// A reading the decoder rejected although its seq was valid. The seq is consumed: it counts as
// delivered for the ack (a permanently bad reading must never block the device's outbox) and a
// later valid reading with the same seq is not stored.
struct ConsumedSeq {
  std::string device_id;
  std::uint64_t seq = 0;
  proto::RejectReason reason = proto::RejectReason::wrong_shape;
  std::int64_t at_ms = 0;  // when the gateway rejected it
};

// Everything one commit stores, in one transaction. Readings are applied before rejections, so a
// seq present in both is stored, not rejected.
// A device's report that it no longer holds any seq below `first_held_seq` (its outbox overflowed
// and dropped the oldest readings, docs/protocol.md "status"). Seqs below it that never arrived
// are given up, so the ack can move past the gap instead of stalling forever — but only up to the
// highest seq the store has consumed for the device (stored, rejected or consumed elsewhere): a
// device cannot give up seqs it never sent. The store keeps the device's highest claim and applies
// it at every later commit that touches the device, so a report that arrives before the readings
// it concerns takes effect when they arrive. A lower claim than one already held changes nothing;
// 0 is ignored.
struct SeqFloor {
  std::string device_id;
  std::uint64_t first_held_seq = 0;
};

// Seqs [first_seq, last_seq] of a device that another gateway sharing the broker reports it has
// consumed (docs/scaling.md). They count as consumed here too: the watermark moves over them and a
// reading with such a seq is a duplicate, so a device's readings split between gateways are
// acknowledged as one sequence and stored once across them. Kept until the watermark passes them.
struct ConsumedRange {
  std::string device_id;
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  // The peer stored these very readings, and this store is the one to give way if it stored some
  // of them too (a resend raced the original to two gateways): its copies are withdrawn — rows
  // deleted, rollups recomputed — so the reading stays stored exactly once across gateways. A
  // copy whose bucket retention has already thinned is kept (and counted as kept).
  bool withdraw_own_copies = false;
};

// Ranges consumed elsewhere are applied first, so a reading a peer already stored is a duplicate.
struct IngestBatch {
  std::vector<DeviceReading> readings;
  std::vector<ConsumedSeq> rejected;
  std::vector<SeqFloor> floors;
  std::vector<ConsumedRange> elsewhere;
};

// The ack to publish on devices/{id}/ack: every seq up to contiguous_seq is stored or consumed.
// Seqs [first, last] of one device.
struct SeqRun {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  bool operator==(const SeqRun&) const = default;
};
// Whether `seq` lies in one of `runs` (e.g. what a commit newly stored: DeviceAck::stored).
bool in_runs(const std::vector<SeqRun>& runs, std::uint64_t seq) noexcept;

struct DeviceAck {
  std::string device_id;
  std::uint64_t contiguous_seq = 0;
  std::vector<SeqRun> stored;  // the runs of seqs this commit newly stored, ascending
};

struct CommitSummary {
  std::size_t stored = 0;             // readings newly stored
  std::size_t duplicates = 0;         // readings already consumed (stored, rejected, elsewhere, or <= the ack)
  std::size_t rejected_recorded = 0;  // rejected seqs newly recorded (a repeated rejection is not)
  // Seqs below a device's claimed floor (SeqFloor) that the ack passed although they never
  // arrived: lost on the device. Saturates at SIZE_MAX rather than wrapping.
  std::size_t given_up = 0;
  // Readings and rejections skipped because the store cannot represent them: malformed device id,
  // seq 0 or above 2^63-1 (SQLite integers are signed), ts / at_ms outside 1970..9999, no value or
  // a non-finite one. The decoder produces none of these except seq > 2^63-1. Skipping, rather than
  // failing the commit, keeps one such reading from blocking everyone else's batch.
  std::size_t invalid = 0;
  std::size_t withdrawn = 0;        // own copies withdrawn because a peer stored them (ConsumedRange)
  std::size_t duplicates_kept = 0;  // such copies kept: their bucket's raw values are gone
  std::vector<DeviceAck> acks;      // one per (well-formed) device present in the batch, in first-seen order
  // The export position of the last reading stored (0 when none was). The `stored` readings have
  // the positions last_position - stored + 1 .. last_position, in batch order: a reading is one
  // of them when its seq is in its device's DeviceAck::stored and no earlier reading of the batch
  // had that device and seq.
  std::uint64_t last_position = 0;
};

// What a device has consumed in this store: every seq up to `watermark`, and the runs above it
// (stored, rejected or consumed elsewhere), ascending and disjoint.
struct DeviceConsumption {
  std::string device_id;
  std::uint64_t watermark = 0;
  std::vector<SeqRun> above;
};

// ---- Configuration -------------------------------------------------------------------------------

// How long each resolution is kept, in days; 0 keeps it forever. Rejection records follow raw_days.
struct RetentionPolicy {
  std::int64_t raw_days = 30;
  std::int64_t minute_days = 365;
  std::int64_t hour_days = 0;
};

struct StoreOptions {
  RetentionPolicy retention;
  int busy_timeout_ms = 5000;  // how long a write waits for another connection's lock
  // How often commits fold their readings into the rollups (docs/store.md, "Rollups"); queries
  // answer the same either way. 0 folds in every commit.
  std::int64_t rollup_fold_interval_ms = 1000;
};

// ---- Queries -------------------------------------------------------------------------------------

// A statistic of a bucket. Names are stable (API parameters, CLI flags).
enum class Aggregate { mean, min, max, count, last };
std::string_view to_string(Aggregate aggregate) noexcept;
std::optional<Aggregate> parse_aggregate(std::string_view name) noexcept;

// Where an answer comes from: raw samples, or per-minute / per-hour / per-8-hour rollups. The
// names (to_string) are "raw", "minute", "hour" and "8h".
enum class Resolution { raw, minute, hour, eight_hours };
std::string_view to_string(Resolution resolution) noexcept;
std::optional<Resolution> parse_resolution(std::string_view name) noexcept;

// One series (device, quantity) over [from_ms, to_ms), in buckets of step_ms aligned to multiples
// of step_ms since the Unix epoch (UTC). A bucket that overlaps the range is reported whole: the
// range is widened to [align_down(from_ms), align_up(to_ms)), so every resolution gives the same
// answer. Limits: from_ms < to_ms, step_ms > 0, (to_ms - from_ms) / step_ms <= kMaxQueryBuckets.
struct Query {
  std::string device_id;
  proto::Quantity quantity = proto::Quantity::temperature;
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  std::int64_t step_ms = 0;
  // Normally unset: the store picks the coarsest resolution that divides step_ms and still covers
  // the range under retention. Set, it must divide step_ms and is used even if retention has
  // thinned it (for comparisons and diagnostics).
  std::optional<Resolution> force_resolution;
};
inline constexpr std::int64_t kMaxQueryBuckets = 100'000;

struct Bucket {
  std::int64_t start_ms = 0;
  double min = 0;
  double max = 0;
  double mean = 0;  // sum / count
  std::uint64_t count = 0;
  double last = 0;  // the value with the highest timestamp (then the highest seq)
};
double value_of(const Bucket& bucket, Aggregate aggregate) noexcept;

struct QueryResult {
  Resolution resolution = Resolution::raw;
  std::vector<Bucket> buckets;  // only non-empty buckets, ascending by start_ms
};

// One quantity of every device over [from_ms, to_ms) in hour buckets, read from the hour rollups
// in one pass: a fleet overview's sparklines. Both ends must be whole hours (multiples of 3,600,000
// ms since the epoch) with from_ms < to_ms, spanning at most kMaxFleetHoursSpanMs.
struct FleetHoursQuery {
  proto::Quantity quantity = proto::Quantity::temperature;
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
};
inline constexpr std::int64_t kMaxFleetHoursSpanMs = 31LL * 86'400'000;

struct DeviceBuckets {
  std::string device_id;
  std::vector<Bucket> buckets;  // non-empty hour buckets, ascending by start_ms
};

// ---- Devices -------------------------------------------------------------------------------------

// The last status a device published (devices/{id}/status).
struct DeviceStatus {
  std::string state;  // "online", "offline", ...
  std::string firmware;
  std::uint64_t dropped_total = 0;  // readings the device's outbox dropped when full
  std::int64_t at_ms = 0;           // when the gateway received it
  // The verdict of the device's release timestamp check (docs/protocol.md, "Status"): a code of
  // 1 to 40 characters of a-z and '_', any such code; empty when never reported.
  std::string release_check{};
};

// How many known devices last reported `state` ("online", "offline", ...); an empty state counts
// the devices that never reported a status.
struct StatusStateCount {
  std::string state;
  std::uint64_t devices = 0;
};

struct DeviceInfo {
  std::string device_id;
  std::int64_t registered_ms = 0;              // 0 if never registered explicitly (seen first via telemetry)
  std::optional<std::int64_t> last_seen_ms;    // latest arrival of anything (reading, rejection or status)
  std::optional<proto::Reading> last_reading;  // highest-ts stored reading that still has its values
  std::uint64_t acked_seq = 0;                 // the watermark: highest contiguous consumed seq
  std::uint64_t readings_stored = 0;           // ever stored (retention does not decrease it)
  std::uint64_t rejected_total = 0;            // rejected seqs ever recorded
  std::optional<DeviceStatus> status;
  std::vector<std::string> labels{};  // the labels an operator gave it (docs/registry.md), sorted
};

// How many of a device's rejection records the store keeps carry one reason (a RejectReason's
// name, docs/protocol.md).
struct RejectionCount {
  std::string reason;
  std::uint64_t count = 0;
  bool operator==(const RejectionCount&) const = default;
};

struct RetentionReport {
  std::uint64_t raw_deleted = 0;     // readings whose raw values went (with their row, or only
                                     // the values of a row above the ack, which must stay)
  std::uint64_t minute_deleted = 0;  // minute rollup rows
  std::uint64_t hour_deleted = 0;    // hour and 8-hour rollup rows (both kept for hour_days)
};

// ---- Export log ----------------------------------------------------------------------------------

// A stored reading as an exporter sees it. `position` is its place in the export log: store-wide,
// strictly increasing in commit order, never reused.
struct ExportedReading {
  std::uint64_t position = 0;
  std::string device_id;
  proto::Reading reading;
};

struct ExportBatch {
  std::vector<ExportedReading> readings;  // in position order; each has at least one value
  // Readings after the requested position whose values retention deleted before they could be
  // exported: skipped, and counted here so the loss is visible.
  std::uint64_t expired = 0;
  // The position of the last reading looked at (exported or expired); the requested position when
  // nothing follows it. An exporter that delivered `readings` moves its cursor here.
  std::uint64_t end_position = 0;
};

// How far an exporter whose cursor is at some position is behind.
struct ExportBacklog {
  // Readings committed after the cursor (an upper bound once retention or purge deleted some).
  std::uint64_t readings = 0;
  // When the oldest reading after the cursor was committed; unset when there is none.
  std::optional<std::int64_t> oldest_committed_ms;
};

}  // namespace kelvin::store
