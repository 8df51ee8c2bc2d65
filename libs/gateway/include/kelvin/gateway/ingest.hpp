#pragma once
// The ingest: turns telemetry and status messages into committed rows and, after each commit,
// acknowledges to every device the highest contiguous seq stored (docs/protocol.md).
//
// Threads: handle_message() runs on the MQTT network thread and does the CPU work (validation);
// one commit thread owns the store, commits batches bounded in size and delay, and publishes the
// acks. When the store falls behind, handle_message() blocks, which stops reading from the broker
// connection: the broker queues for us (max_queued_messages) instead of anything being dropped.

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "kelvin/gateway/latency_histogram.hpp"
#include "kelvin/gateway/prometheus_text.hpp"
#include "kelvin/gateway/rate_limited_log.hpp"
#include "kelvin/proto/telemetry_codec.hpp"
#include "kelvin/store/store.hpp"

namespace kelvin::gateway {

struct IngestOptions {
  std::size_t batch_max_readings = 5000;  // commit at this many readings ...
  // ... or, once batch_min_readings wait, this long after the first one waited. Under load a
  // commit takes longer than this and the next batch is what arrived meanwhile, so it bounds
  // latency, not the commit rate.
  std::chrono::milliseconds batch_max_delay{5};
  // Fewer readings than this wait for more until batch_quiet_delay after the first one (never
  // less than batch_max_delay). At a fleet's pace nearly every reading would otherwise be a
  // commit, an fsync and several page writes of its own; under load a batch reaches this size
  // well within batch_max_delay, so it waits no longer there (docs/gateway.md, "Ingest"). A batch
  // that an HTTPS request waits on (submit_telemetry, submit_status) does not wait for more: its
  // client holds the connection open until the answer. 1: every batch is committed after
  // batch_max_delay.
  std::size_t batch_min_readings = 16;
  std::chrono::milliseconds batch_quiet_delay{50};
  // A dense batch, whose readings come from few devices (Ingest::kDenseBatchReadingsPerDevice each
  // or more on average), waits for more until batch_dense_delay after its first reading (never
  // less than batch_max_delay). Most of what a commit costs is per commit (the fsync) and per
  // device in it (the tails of its index ranges, its row, its ack), so more readings of the same
  // devices share that nearly free: a few devices streaming readings cost about 14 % less CPU
  // per reading than with every batch committed at batch_max_delay. A batch of many devices with a
  // reading or two each (a fleet at its pace) gains nothing from waiting and keeps batch_max_delay
  // (docs/gateway.md, "Ingest"). Not when an HTTPS request waits on the batch. A value up to
  // batch_max_delay turns the rule off.
  std::chrono::milliseconds batch_dense_delay{20};
  std::size_t max_waiting_readings = 200'000;  // backpressure threshold
  proto::TelemetryLimits limits;
  std::chrono::milliseconds retention_interval{3'600'000};
  std::chrono::milliseconds commit_retry_delay{1000};  // after a failed commit (disk full, locked)
  std::chrono::milliseconds latency_window{60'000};    // latency percentiles cover 1–2 such windows
};

struct IngestCounters {
  std::uint64_t messages = 0;
  std::uint64_t readings_accepted = 0;  // passed validation
  std::uint64_t readings_stored = 0;    // new rows committed
  std::uint64_t duplicates = 0;         // resends of readings already stored
  std::uint64_t readings_given_up = 0;  // never arrived; the device reported it no longer holds them
  std::array<std::uint64_t, proto::kRejectReasonCount> rejected{};  // by proto::RejectReason
  std::uint64_t rejected_total = 0;
  std::uint64_t commits = 0;
  std::uint64_t dense_batches = 0;  // batches held past batch_max_delay as dense (IngestOptions)
  std::uint64_t commit_failures = 0;
  std::uint64_t acks_published = 0;
  std::uint64_t ack_failures = 0;
  std::uint64_t status_updates = 0;
  std::uint64_t status_rejected = 0;
  std::uint64_t status_ignored = 0;  // retained statuses of unknown devices that may not connect
  std::uint64_t ignored_topics = 0;
  std::uint64_t refused_while_stopping = 0;  // messages that arrived after stop() began
  std::uint64_t refused_while_full = 0;      // submit_telemetry()/submit_status() calls refused: the store was behind
  std::uint64_t peer_ranges = 0;             // ranges other gateways reported consumed (docs/scaling.md)
  std::uint64_t readings_withdrawn = 0;      // own copies given up because a peer stored them too
  std::uint64_t duplicates_kept = 0;         // such copies kept: retention had thinned their buckets
  // Over the last one to two IngestOptions::latency_window: reading ts → commit, and where that
  // time goes: reading ts → taken by the ingest (the device, the broker and this gateway's network
  // thread), and how long each commit took (the store; one sample per commit).
  std::int64_t latency_p50_ms = 0;
  std::int64_t latency_p99_ms = 0;
  std::int64_t arrival_latency_p50_ms = 0;
  std::int64_t arrival_latency_p99_ms = 0;
  std::int64_t commit_duration_p50_ms = 0;
  std::int64_t commit_duration_p99_ms = 0;
};

// The ingest's distributions since it started, as /metrics exposes them (docs/metrics.md). The
// bounds are fixed: a histogram's buckets must not change while Prometheus scrapes it.
struct IngestHistograms {
  // A reading's timestamp → the commit of its batch, for every reading of a committed batch.
  PrometheusHistogram reading_commit_latency_s{{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}};
  // How long each successful commit of the store took.
  PrometheusHistogram commit_duration_s{{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10}};
  // Readings per committed batch that held any (duplicates included; a batch of only statuses or
  // rejections is not counted).
  PrometheusHistogram batch_readings{{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000}};
};

// Publishes {"seq":N} on devices/{id}/ack; returns false when it could not be queued.
using AckSink = std::function<bool(std::string_view device_id, std::uint64_t contiguous_seq)>;
// Told of every commit that held this gateway's own data (readings, rejections, floors), on the
// commit thread after the commit and the acks: the peers' notice (peer_sync.hpp) is built here.
using CommitListener = std::function<void(const store::IngestBatch& batch, const store::CommitSummary& summary)>;
// Told of every device status recorded, on the commit thread right after recording it. Must not
// block.
using StatusListener = std::function<void(std::string_view device_id, const store::DeviceStatus& status)>;
using WallClock = std::function<std::int64_t()>;  // Unix milliseconds
// Whether `device_id` holds a certificate it may connect with now (valid or not yet valid).
using DeviceMayConnect = std::function<bool(std::string_view device_id)>;

// What became of telemetry handed to Ingest::submit_telemetry().
struct TelemetryOutcome {
  enum class Status {
    stored,       // committed (new readings, resends of stored ones, refused readings with a seq)
    refused,      // the payload as a whole was refused (payload_rejection): nothing was taken
    unavailable,  // not taken or not committed: the ingest is stopping, or the store is behind
  };
  Status status = Status::unavailable;
  // The device's ack after the commit (docs/protocol.md): every seq up to it is consumed. Also
  // set for a refused payload, so the device learns where it stands. 0 when unavailable.
  std::uint64_t acked_seq = 0;
  std::size_t accepted = 0;                // readings that passed validation (new or resent)
  std::vector<proto::Rejection> rejected;  // readings refused one by one
  std::optional<proto::Rejection> payload_rejection;
};
// Told exactly once, on the commit thread (or at once on the caller's thread when nothing was
// taken): it must not block and must not call back into the Ingest.
using TelemetryCompletion = std::function<void(TelemetryOutcome)>;

// What became of a device status handed to Ingest::submit_status().
struct StatusOutcome {
  enum class Status {
    recorded,     // recorded, and its oldest_seq (if any) committed as the device's floor
    refused,      // not a status the protocol accepts (`refusal` says why): nothing was recorded
    unavailable,  // not recorded: the ingest is stopping, the store is behind, or recording failed
  };
  Status status = Status::unavailable;
  // The device's ack after the commit that followed the status (docs/protocol.md): with an
  // oldest_seq it may have moved past seqs the device gave up. Also set for a refused status.
  // 0 when unavailable.
  std::uint64_t acked_seq = 0;
  bool too_large = false;  // refused because longer than proto::kMaxStatusBytes
  std::string refusal;     // refused: why, in one line
};
// Told exactly once, like a TelemetryCompletion.
using StatusCompletion = std::function<void(StatusOutcome)>;

std::int64_t system_now_ms();

class Ingest {
 public:
  // A batch is dense (IngestOptions::batch_dense_delay) with this many readings per device. A
  // device's share of a commit's fixed cost is a few pages (two index tails, its row) and an ack,
  // about what this many of its readings cost to insert.
  static constexpr std::size_t kDenseBatchReadingsPerDevice = 8;

  Ingest(store::Store& store, AckSink ack_sink, IngestOptions options = {}, WallClock clock = system_now_ms);
  ~Ingest();  // stop()s
  Ingest(const Ingest&) = delete;
  Ingest& operator=(const Ingest&) = delete;

  void start();
  // Stops taking messages (a handle_message() waiting for room returns at once, and later ones
  // are refused), commits and acknowledges everything already taken, then ends the commit thread.
  // A commit that fails while stopping is not retried: its readings stay unacknowledged.
  void stop();

  // Thread-safe. Handles devices/{id}/telemetry and devices/{id}/status; other topics are counted
  // and ignored. Blocks while max_waiting_readings readings wait for the store. `retained` marks a
  // status the broker kept from earlier: for a device the store does not know it is recorded only
  // when the device may still connect (set_device_may_connect); one removed with `kelvinctl device
  // remove --purge` does not come back.
  void handle_message(std::string_view topic, std::string_view payload, bool retained = false);

  // Thread-safe, never blocks: telemetry that does not come through the broker (HTTPS). The
  // payload is the wire protocol's; `done` is told after the commit that holds its readings and
  // after the device's ack was published, so a caller that answers then answers the truth. When
  // max_waiting_readings wait already, or the ingest is stopping, `done` is told `unavailable` at
  // once and nothing is taken (the device resends later).
  void submit_telemetry(std::string_view device_id, std::string_view payload, TelemetryCompletion done);

  // Thread-safe, never blocks: a device status that does not come through the broker (HTTPS),
  // the JSON of devices/{id}/status. Recorded like a status published there without the retain
  // flag (its oldest_seq becomes the device's floor); `done` is told after the commit that follows
  // the recording, with the device's ack then. A refused status is counted (status_rejected) and
  // told the ack as it stands, after the next commit. While the ingest is stopping or
  // max_waiting_readings readings wait, `done` is told `unavailable` at once and nothing is taken,
  // as for submit_telemetry().
  void submit_status(std::string_view device_id, std::string_view payload, StatusCompletion done);

  // Thread-safe, never blocks for long. Seqs other gateways sharing the broker consumed: committed
  // with the next batch, so the acks move over them and resends of them are not stored here.
  void add_consumed_elsewhere(std::vector<store::ConsumedRange> ranges);
  // Before start(): called after each commit of this gateway's own data, in the order added.
  void add_commit_listener(CommitListener listener);
  // Before start(): called after each status recorded.
  void add_status_listener(StatusListener listener);
  // Set before start(); asked on the commit thread about a retained status of a device the store
  // does not know. Such a status is what a device that connected before this gateway subscribed
  // left, or what a purged device left behind: only the first still holds a usable certificate.
  // Without a check every such status is ignored.
  void set_device_may_connect(DeviceMayConnect check);

  IngestCounters counters() const;
  IngestHistograms histograms() const;

 private:
  // Told the device's ack after a commit, or nullopt when nothing it waited for was committed
  // (its caller then hears `unavailable`). Wraps a TelemetryCompletion or StatusCompletion with
  // the rest of its outcome; never throws.
  using AckCompletion = std::function<void(std::optional<std::uint64_t> acked_seq)>;
  struct StatusUpdate {
    std::string device_id;
    store::DeviceStatus status;
    std::optional<std::uint64_t> oldest_seq;  // becomes a SeqFloor once the status is recorded
    bool retained = false;
    AckCompletion recorded;  // submit_status(): told after the commit that follows the recording
  };
  // A submit_telemetry() or submit_status() call waiting for a commit.
  struct PendingCompletion {
    std::string device_id;
    AckCompletion done;
  };
  // Counts a decoded payload and appends what it holds to waiting_; mutex_ held, not stopping.
  void take_decoded_locked(std::string_view device_id, const proto::DecodedTelemetry& decoded, std::int64_t now_ms);
  // Tells each completion its ack: from `summary` when the commit acknowledged its device, else
  // the store's. Runs on the commit thread.
  void complete(std::vector<PendingCompletion>& completions, const store::CommitSummary* summary);
  static void abandon(std::vector<PendingCompletion>& completions);  // tells each `unavailable`
  void handle_telemetry(std::string_view device_id, std::string_view payload, std::int64_t now_ms);
  void handle_status(std::string_view device_id, std::string_view payload, bool retained, std::int64_t now_ms);
  // Counts and logs (rate-limited) a status decode_status() refused; mutex_ held.
  void count_status_rejection_locked(std::string_view device_id, const Error& error);
  // Records `update`'s status (statuses of the batch, before its commit); false when it was not
  // recorded. Runs on the commit thread without the lock.
  bool record_status(const StatusUpdate& update);
  bool idle_locked() const;             // nothing waits for the commit thread; mutex_ held
  std::size_t enough_readings() const;  // a batch of this many waits no longer than batch_max_delay
  // waiting_ holds at least kDenseBatchReadingsPerDevice readings per device it names; mutex_ held.
  bool batch_is_dense_locked() const;
  // After an HTTPS request's completion was queued (mutex_ held): wakes the commit thread for the
  // first work, and for the batch's first request, which ends a quiet delay it may be waiting out.
  void wake_for_request_locked(bool was_idle);
  void log_rejection(std::string_view device_id, const proto::Rejection& rejection);
  void commit_loop();
  void commit(store::IngestBatch& batch, std::vector<StatusUpdate>& statuses,
              std::vector<PendingCompletion>& completions);
  // The devices of `completions` (HTTPS requests) never heard over MQTT since the start: their ack
  // is in their answers, and none is published on devices/{id}/ack, where nobody listens for it.
  std::set<std::string_view> answered_only_over_https(const std::vector<PendingCompletion>& completions) const;

  store::Store& store_;
  AckSink ack_sink_;
  IngestOptions options_;
  WallClock clock_;
  RateLimitedLog rejection_log_;

  mutable std::mutex mutex_;
  std::condition_variable work_ready_;   // commit thread waits for work
  std::condition_variable space_ready_;  // network thread waits for room
  store::IngestBatch waiting_;
  std::vector<CommitListener> commit_listeners_;
  std::vector<StatusListener> status_listeners_;
  DeviceMayConnect device_may_connect_;
  std::vector<StatusUpdate> waiting_statuses_;
  std::vector<PendingCompletion> waiting_completions_;
  // HTTPS requests whose answer waits for the batch being gathered (their completions are in
  // waiting_completions_ or in a waiting status): such a batch skips the quiet delay.
  std::size_t waiting_requests_ = 0;
  // Every device whose telemetry or status came over MQTT since the start (at most the fleet: the
  // broker lets a device publish only under its own id). A device that uses both transports keeps
  // getting its acks on MQTT too.
  struct IdHash {
    using is_transparent = void;  // looked up by string_view, without a copy per message
    std::size_t operator()(std::string_view id) const noexcept { return std::hash<std::string_view>{}(id); }
  };
  std::unordered_set<std::string, IdHash, std::equal_to<>> heard_over_mqtt_;
  std::chrono::steady_clock::time_point first_waiting_since_;
  bool stopping_ = false;
  IngestCounters counters_;
  // Mutable: reading a percentile moves the window on.
  mutable RecentLatency latency_;          // reading ts → commit
  mutable RecentLatency arrival_latency_;  // reading ts → handle_telemetry
  mutable RecentLatency commit_duration_;  // store::Store::commit, per successful commit
  IngestHistograms histograms_;
  std::thread committer_;
};

}  // namespace kelvin::gateway
