#pragma once
// Several gateways sharing one broker (docs/scaling.md): they split the devices' telemetry with a
// shared subscription, so one device's readings reach several gateways, each storing a part. For
// the ack ("highest contiguous seq stored") to move, and for a resent reading to be stored once
// across them, every gateway tells the others what it consumed, on topics only gateways may use:
// its presence, and a consumed notice after each commit (the messages and their codecs are
// libs/proto's, kelvin/proto/gateway_messages.hpp).
//
// The broker's ACL lets only a gateway's own identity write under kelvin/gateways/{gateway}/ (and
// no device read or write anything under kelvin/), so the topic authenticates the sender. A
// receiver turns a notice into store::ConsumedRange items for its ingest.
//
// Joining: on every connection a gateway subscribes to the peers' topics, publishes its presence
// and its own full summary, and answers every peer that joins later with its full summary. It
// starts handing telemetry to its ingest (ready) only once it knows what the online peers
// consumed: when each peer whose presence says online has sent its full summary, or after
// join_timeout (a peer that died without its will being published yet). The echo of its own
// presence marks the point where every retained presence has arrived, because the broker sends
// them first on the same connection. A gateway stopping cleanly publishes its offline presence
// itself (the broker publishes a last will only for a connection that breaks).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/gateway/rate_limited_log.hpp"
#include "kelvin/proto/gateway_messages.hpp"
#include "kelvin/store/store.hpp"

namespace kelvin::gateway {

// The ranges a notice from `sender` makes consumed for gateway `self`: [1, through] and each run
// above, per device; and the stored runs, with withdraw_own_copies when `self` sorts after `sender`.
std::vector<store::ConsumedRange> consumed_ranges(const proto::ConsumedNotice& notice, std::string_view self,
                                                  std::string_view sender);
// The commit notice for a committed batch: per device the batch holds readings, rejections or a
// floor for, the watermark (its ack), the batch's seqs above it (a duplicate is consumed all the
// same) and the runs the commit stored. Devices touched only by peers' ranges are left out:
// announcing them back would echo.
proto::ConsumedNotice commit_notice(const store::IngestBatch& batch, const store::CommitSummary& summary);

struct PeerSyncCounters {
  std::uint64_t notices_sent = 0;
  std::uint64_t notices_received = 0;
  std::uint64_t notices_rejected = 0;   // malformed, from a peer: logged and ignored
  std::uint64_t presence_rejected = 0;  // malformed presences: logged and ignored
  std::uint64_t summaries_sent = 0;     // full summaries (each in one or more parts)
  std::uint64_t publish_failures = 0;
  std::size_t peers_online = 0;
};

class PeerSync {
 public:
  using Publish = std::function<bool(const std::string& topic, const std::string& payload, bool retain)>;
  using ApplyRanges = std::function<void(std::vector<store::ConsumedRange> ranges)>;
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::string self;  // this gateway's service identity
    std::chrono::milliseconds join_timeout{5000};
  };

  // `summary_store` is a connection of its own (summaries are read on the MQTT thread while the
  // ingest commits on its own). `apply` hands peers' ranges to the ingest; `on_ready` is called
  // once per connection, never under this object's lock, when this gateway may start handing
  // telemetry to its ingest.
  PeerSync(Options options, store::Store summary_store, Publish publish, ApplyRanges apply,
           std::function<void()> on_ready);

  // MQTT thread: after the peers' topics are subscribed on a new connection.
  void on_connected(Clock::time_point now);
  void on_disconnected();
  // MQTT thread: a message on a kelvin/gateways/... topic; false if the topic is none of ours.
  // A malformed message is counted, logged (rate-limited) and otherwise ignored; it never makes
  // this throw, which inside the MQTT library's callback would end the process.
  bool handle_message(std::string_view topic, std::string_view payload, bool retained, Clock::time_point now);
  // Any thread, regularly: fires on_ready when the join timeout passed.
  void poll(Clock::time_point now);
  // Commit thread: announces what a commit consumed.
  void after_commit(const store::IngestBatch& batch, const store::CommitSummary& summary);

  bool ready() const;
  // Any thread: the peers whose presence says online, once this gateway is ready on its current
  // connection (it knows them then); nullopt while it is not connected or still joining.
  std::optional<std::set<std::string>> online_peers() const;
  PeerSyncCounters counters() const;

 private:
  void handle_presence(std::string_view gateway, std::string_view payload, bool retained, Clock::time_point now);
  void handle_notice(std::string_view gateway, std::string_view payload, Clock::time_point now);
  void publish_summary();  // mutex_ not held
  // Both return true when the caller, after releasing mutex_, must call on_ready_: it hands held
  // telemetry to the ingest, which may wait for the commit thread, which calls after_commit.
  bool become_ready_locked();
  bool check_ready_locked(Clock::time_point now);

  Options options_;
  store::Store summary_store_;
  Publish publish_;
  ApplyRanges apply_;
  std::function<void()> on_ready_;
  RateLimitedLog log_;

  mutable std::mutex mutex_;
  std::string session_;  // of the current connection's presence
  bool connected_ = false;
  bool own_presence_seen_ = false;  // every retained presence has arrived
  bool ready_ = false;
  bool ready_fired_ = false;
  Clock::time_point joined_at_{};
  std::map<std::string, std::string, std::less<>> online_;  // peer -> session
  std::set<std::string, std::less<>> synced_;               // peers whose full summary arrived
  PeerSyncCounters counters_;
};

}  // namespace kelvin::gateway
