#pragma once
// Live updates for the dashboard (GET /api/v1/events, docs/api.md "Live events"): what the ingest
// commits — every newly stored reading and every recorded device status — as Server-Sent Events
// to the streams subscribed.
//
// What a subscriber gets, every flush_interval:
//   - one device's subscriber: each newly stored reading of that device, in commit order;
//   - a fleet subscriber: the latest reading (by ts) of each device that stored one in the
//     interval: what a fleet table shows, so thousands of devices do not flood a browser;
//   - both: every status of the devices they follow.
// Events (one line of JSON each, data shapes in kelvin/fleet/fleet_json.hpp):
//   event: ready     at once: the stream is live ({"device": id or null, "resumed": bool})
//   event: reading   {"device","seq","ts","ts_ms","temperature","humidity"}
//   event: status    {"device","state","firmware","dropped","at","at_ms"}
//   event: gap       {"skipped": n}: readings were left out (the queue was full, or a resumed
//                    stream missed more than can be replayed); reload
//   ": keep-alive"   a comment after keepalive_interval of silence
//
// Resuming (the `Last-Event-ID` an EventSource sends when it reconnects): each send ends with
// `id: P`, P the store's export position (store::ExportedReading) through which this stream has
// every reading it follows, but for those stored before the stream began (a new stream's client
// loads them). A stream subscribed with resume_after = P gets, at its first flush, the readings it
// follows stored after P, read from the store through the ReplaySource (a fleet stream: the
// latest of each device), then the live ones after those: nothing missed, a reading possibly
// twice. Statuses are not replayed. When the store cannot say (no ReplaySource, an error, a P
// this store never handed out), or more than max_replay_scan readings were stored since P, or the
// replay would be more than max_replay_events events, the stream gets a `gap` instead.
//
// Bounds, so neither the ingest nor the gateway's memory depends on how many watch or how fast
// they read:
//   - the commit thread pays an atomic load and store per commit while nobody subscribes;
//     otherwise it copies the readings someone follows into the feed's queue (at most
//     max_queued_readings between two flushes; more are skipped and counted, and the subscribers
//     get a `gap`) and returns. Formatting and sending happen on the feed's own thread.
//   - at most max_subscribers streams, and at most max_per_owner of one owner (a session: one
//     signed-in person cannot take every place); subscribe() refuses more.
//   - each stream holds at most max_buffered_bytes unwritten (http::ResponseStream): a slower
//     reader is cut off, and the browser's EventSource reconnects and reloads.
//   - every recheck_interval each subscriber's StillAllowed is asked (its session is still
//     valid); a stream whose session ended is closed.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/http/message.hpp"
#include "kelvin/store/types.hpp"

namespace kelvin::gateway {

struct LiveFeedOptions {
  std::size_t max_subscribers = 64;
  std::size_t max_per_owner = 8;
  std::size_t max_buffered_bytes = 256 * 1024;  // per stream
  std::size_t max_queued_readings = 50'000;     // between two flushes, over all followed devices
  std::chrono::milliseconds flush_interval{250};
  std::chrono::milliseconds keepalive_interval{15'000};
  // A signed-out or removed user's streams end within this; each check is one read of the
  // accounts database (64 streams: 13 reads a second).
  std::chrono::milliseconds recheck_interval{5'000};
  // The `retry:` the streams announce: how long an EventSource waits before reconnecting.
  std::chrono::milliseconds client_retry{3'000};
  // A resumed stream: at most this many readings (of all devices) stored since its last id are
  // read to replay it, and at most max_replay_events sent (within max_buffered_bytes).
  std::size_t max_replay_scan = 10'000;
  std::size_t max_replay_events = 500;
};

struct LiveFeedCounters {
  std::uint64_t subscribers = 0;                // now
  std::uint64_t subscriptions = 0;              // ever accepted
  std::uint64_t subscriptions_refused = 0;      // max_subscribers or max_per_owner reached
  std::uint64_t events_sent = 0;                // reading and status events queued on streams
  std::uint64_t readings_skipped = 0;           // left out: the queue was full
  std::uint64_t streams_closed_signed_out = 0;  // their session ended
  std::uint64_t streams_resumed = 0;            // subscribed with a position to resume from
  std::uint64_t readings_replayed = 0;          // reading events sent to resumed streams from the store
  std::uint64_t replays_refused = 0;            // resumed streams sent a `gap` instead
};

class LiveFeed {
 public:
  // Asked on the feed's thread every recheck_interval: false closes the stream. May block briefly.
  using StillAllowed = std::function<bool()>;
  // The store's export log (store::Store::read_export_batch), read on the feed's thread to replay
  // a resumed stream.
  using ReplaySource = std::function<Result<store::ExportBatch>(std::uint64_t after_position, std::size_t max)>;

  explicit LiveFeed(LiveFeedOptions options = {});
  ~LiveFeed();  // stop()
  LiveFeed(const LiveFeed&) = delete;
  LiveFeed& operator=(const LiveFeed&) = delete;

  // `last_position`: the store's export position now (store::Store::last_export_position), from
  // which the streams' ids go on; `replay`, how resumed streams are replayed (none: they get a gap).
  void start(std::uint64_t last_position = 0, ReplaySource replay = nullptr);
  // Closes every stream and ends the thread. Idempotent.
  void stop();

  // The ingest's listeners (Ingest::add_commit_listener, add_status_listener): commit thread.
  void on_commit(const store::IngestBatch& batch, const store::CommitSummary& summary);
  void on_status(std::string_view device_id, const store::DeviceStatus& status);

  enum class Admission { admitted, feed_full, owner_full, stopped };

  // Any thread. Follows one device, or the whole fleet without `device_id`, for `owner` (who opened
  // the stream: a session id); sends `ready` at once; replays what was stored after
  // `resume_after` at the next flush. Anything but `admitted` leaves the stream as it was.
  Admission subscribe(std::shared_ptr<http::ResponseStream> stream, std::optional<std::string> device_id,
                      std::string owner, StillAllowed still_allowed,
                      std::optional<std::uint64_t> resume_after = std::nullopt);
  // What subscribe() would answer `owner` now.
  Admission admission(std::string_view owner) const;

  LiveFeedCounters counters() const;
  const LiveFeedOptions& options() const { return options_; }

 private:
  struct Subscriber;
  struct Pending;
  struct Replayed {
    std::uint64_t readings = 0;
    std::uint64_t refused = 0;
  };
  void run();
  // A resumed subscriber's replay from the store (feed thread): its reading events, or a gap.
  // Sets its skip_through; counts into `replayed`.
  std::string replay(Subscriber& subscriber, Replayed& replayed);
  // One flush: the queue's readings and statuses to every subscriber, keep-alives, rechecks.
  void flush(std::chrono::steady_clock::time_point now);
  void close_all();
  Admission admission_locked(std::string_view owner) const;  // mutex_ held

  const LiveFeedOptions options_;
  std::atomic<std::size_t> subscriber_count_{0};

  // Guards the queue (pending_), the followed devices and the subscriber list.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool started_ = false;
  std::unique_ptr<Pending> pending_;
  ReplaySource replay_source_;  // set by start()
  std::uint64_t through_ = 0;   // the last export position known committed (feed thread)
  // The last position committed while nobody subscribed (no reading of it was queued).
  std::atomic<std::uint64_t> unwatched_through_{0};
  // Devices someone follows alone, with how many follow each; whether someone follows the fleet.
  std::unordered_map<std::string, std::size_t> followed_devices_;
  std::size_t fleet_followers_ = 0;
  std::unordered_map<std::string, std::size_t> streams_by_owner_;
  std::vector<std::shared_ptr<Subscriber>> subscribers_;
  LiveFeedCounters counters_;
  std::thread thread_;
};

}  // namespace kelvin::gateway
