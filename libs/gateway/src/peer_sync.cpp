#include "kelvin/gateway/peer_sync.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "kelvin/crypto/random.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/log/subject.hpp"

namespace kelvin::gateway {
namespace {

using proto::ConsumedNotice;
using proto::kMaxRunsPerDevice;

std::string random_session() {
  if (auto hex = crypto::random_hex(8)) return std::move(hex).value();
  // Only distinguishes this connection's presence from the previous one's; a clock value does that too.
  const auto now = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(now));
  return hex;
}

// store::SeqRun and proto::SeqRun are the same two seqs: libs/proto does not depend on the store.
std::vector<proto::SeqRun> proto_runs(const std::vector<store::SeqRun>& runs, std::size_t max_runs) {
  std::vector<proto::SeqRun> out;
  out.reserve(std::min(runs.size(), max_runs));
  for (const auto& run : runs) {
    if (out.size() == max_runs) break;
    out.push_back(proto::SeqRun{run.first, run.last});
  }
  return out;
}

}  // namespace

std::vector<store::ConsumedRange> consumed_ranges(const ConsumedNotice& notice, std::string_view self,
                                                  std::string_view sender) {
  // The one rule both sides apply without talking: the identity that sorts later gives way.
  const bool give_way = self > sender;
  std::vector<store::ConsumedRange> ranges;
  for (const auto& device : notice.devices) {
    if (device.through > 0) ranges.push_back({device.device_id, 1, device.through, false});
    for (const auto& run : device.above) ranges.push_back({device.device_id, run.first, run.last, false});
    if (!give_way) continue;
    for (const auto& run : device.stored) ranges.push_back({device.device_id, run.first, run.last, true});
  }
  return ranges;
}

ConsumedNotice commit_notice(const store::IngestBatch& batch, const store::CommitSummary& summary) {
  std::map<std::string_view, std::vector<std::uint64_t>> seqs;
  for (const auto& item : batch.readings) seqs[item.device_id].push_back(item.reading.seq);
  for (const auto& item : batch.rejected) seqs[item.device_id].push_back(item.seq);
  for (const auto& item : batch.floors) seqs[item.device_id];
  ConsumedNotice notice;
  for (const auto& ack : summary.acks) {
    // Devices the batch touched only through peers' ranges are theirs to announce.
    if (!seqs.contains(ack.device_id)) continue;
    ConsumedNotice::Device device;
    device.device_id = ack.device_id;
    device.through = ack.contiguous_seq;
    device.stored = proto_runs(ack.stored, kMaxRunsPerDevice);
    if (auto found = seqs.find(ack.device_id); found != seqs.end()) {
      auto& list = found->second;
      std::sort(list.begin(), list.end());
      for (std::uint64_t seq : list) {
        if (seq <= device.through + 1) continue;  // covered by "through" (or would touch it)
        if (!device.above.empty() && seq <= device.above.back().last + 1) {
          device.above.back().last = std::max(device.above.back().last, seq);
        } else if (device.above.size() < kMaxRunsPerDevice) {
          device.above.push_back(proto::SeqRun{seq, seq});
        }
        // Beyond kMaxRunsPerDevice runs (a pathological batch) the rest goes unannounced: peers
        // then store such a reading if it reaches them again, and never lose one.
      }
    }
    notice.devices.push_back(std::move(device));
  }
  return notice;
}

PeerSync::PeerSync(Options options, store::Store summary_store, Publish publish, ApplyRanges apply,
                   std::function<void()> on_ready)
    : options_(std::move(options)),
      summary_store_(std::move(summary_store)),
      publish_(std::move(publish)),
      apply_(std::move(apply)),
      on_ready_(std::move(on_ready)) {}

void PeerSync::on_connected(Clock::time_point now) {
  std::string presence;
  {
    std::lock_guard lock(mutex_);
    session_ = random_session();
    connected_ = true;
    own_presence_seen_ = false;
    ready_ = false;
    ready_fired_ = false;
    joined_at_ = now;
    synced_.clear();
    presence = proto::encode_presence(proto::Presence{true, session_});
  }
  if (!publish_(proto::presence_topic(options_.self), presence, /*retain=*/true)) {
    std::lock_guard lock(mutex_);
    ++counters_.publish_failures;
  }
  publish_summary();
}

std::optional<std::set<std::string>> PeerSync::online_peers() const {
  std::lock_guard lock(mutex_);
  if (!ready_) return std::nullopt;
  std::set<std::string> peers;
  for (const auto& [peer, session] : online_) peers.insert(peer);
  return peers;
}

void PeerSync::on_disconnected() {
  std::lock_guard lock(mutex_);
  connected_ = false;
  ready_ = false;
}

bool PeerSync::handle_message(std::string_view topic, std::string_view payload, bool retained, Clock::time_point now) {
  const auto parsed = proto::parse_gateway_topic(topic);
  if (!parsed) return false;
  switch (parsed->topic) {
    case proto::GatewayTopic::presence:
      handle_presence(parsed->gateway, payload, retained, now);
      break;
    case proto::GatewayTopic::consumed:
      handle_notice(parsed->gateway, payload, now);
      break;
    case proto::GatewayTopic::rule:
    case proto::GatewayTopic::silence:
      return false;  // alert_sharing.hpp's
    case proto::GatewayTopic::alert:
      return false;  // notification_referee.hpp's
  }
  return true;
}

void PeerSync::handle_presence(std::string_view gateway, std::string_view payload, bool retained,
                               Clock::time_point now) {
  // An empty retained message is how MQTT removes a retained one: that gateway's presence is gone.
  auto presence = payload.empty() ? Result<proto::Presence>(proto::Presence{}) : proto::decode_presence(payload);
  if (!presence) {
    std::lock_guard lock(mutex_);
    ++counters_.presence_rejected;
    if (auto suppressed = log_.admit("presence", now)) {
      const log::Subjects about{{log::SubjectKey::gateway, gateway}};
      log::component("peers").warn("presence of {} refused: {} ({} similar suppressed)", gateway,
                                   presence.error().message, *suppressed);
    }
    return;
  }
  bool answer = false;
  bool fire = false;
  {
    std::lock_guard lock(mutex_);
    if (gateway == options_.self) {
      if (presence->online && presence->session == session_) own_presence_seen_ = true;
    } else if (presence->online) {
      auto [it, inserted] = online_.insert_or_assign(std::string(gateway), presence->session);
      // A peer joining now (not the retained presence of one that was there before us) needs
      // our summary; it restarted if its session changed, so it forgot what it knew.
      answer = !retained;
      if (!retained) synced_.erase(it->first);
    } else {
      online_.erase(std::string(gateway));
      synced_.erase(std::string(gateway));
    }
    counters_.peers_online = online_.size();
    fire = check_ready_locked(now);
  }
  if (fire) on_ready_();
  if (answer) publish_summary();
}

void PeerSync::handle_notice(std::string_view gateway, std::string_view payload, Clock::time_point now) {
  if (gateway == options_.self) return;  // our own notices, echoed back
  auto notice = proto::decode_notice(payload);
  if (!notice) {
    std::lock_guard lock(mutex_);
    ++counters_.notices_rejected;
    if (auto suppressed = log_.admit("notice", now)) {
      const log::Subjects about{{log::SubjectKey::gateway, gateway}};
      log::component("peers").warn("notice from {} refused: {} ({} similar suppressed)", gateway,
                                   notice.error().message, *suppressed);
    }
    return;
  }
  apply_(consumed_ranges(*notice, options_.self, gateway));
  bool fire = false;
  {
    std::lock_guard lock(mutex_);
    ++counters_.notices_received;
    if (notice->full && notice->last) synced_.emplace(gateway);
    fire = check_ready_locked(now);
  }
  if (fire) on_ready_();
}

void PeerSync::poll(Clock::time_point now) {
  bool fire = false;
  {
    std::lock_guard lock(mutex_);
    fire = check_ready_locked(now);
  }
  if (fire) on_ready_();
}

bool PeerSync::check_ready_locked(Clock::time_point now) {
  if (!connected_ || ready_) return false;
  if (now - joined_at_ >= options_.join_timeout) {
    std::vector<std::string> missing;
    for (const auto& [peer, session] : online_) {
      if (!synced_.contains(peer)) missing.push_back(peer);
    }
    if (!missing.empty()) {
      log::component("peers").warn(
          "no summary from {} gateway(s) marked online (first: {}) within {} ms; taking telemetry", missing.size(),
          missing.front(), options_.join_timeout.count());
    }
    return become_ready_locked();
  }
  if (!own_presence_seen_) return false;
  for (const auto& [peer, session] : online_) {
    if (!synced_.contains(peer)) return false;
  }
  return become_ready_locked();
}

bool PeerSync::become_ready_locked() {
  ready_ = true;
  if (ready_fired_) return false;
  ready_fired_ = true;
  log::component("peers").info("{} other gateway(s) online; taking telemetry", online_.size());
  return true;
}

void PeerSync::publish_summary() {
  auto consumption = summary_store_.consumption();
  if (!consumption) {
    log::component("peers").error("cannot read the store for a summary: {}", consumption.error().message);
    return;
  }
  std::vector<ConsumedNotice::Device> devices;
  devices.reserve(consumption->size());
  for (auto& device : *consumption) {
    devices.push_back({std::move(device.device_id), device.watermark, proto_runs(device.above, kMaxRunsPerDevice), {}});
  }
  bool all_sent = true;
  const std::string topic = proto::consumed_topic(options_.self);
  for (const auto& part : proto::encode_summary(std::move(devices))) {
    if (!publish_(topic, part, false)) all_sent = false;
  }
  std::lock_guard lock(mutex_);
  ++counters_.summaries_sent;
  if (!all_sent) ++counters_.publish_failures;
}

void PeerSync::after_commit(const store::IngestBatch& batch, const store::CommitSummary& summary) {
  ConsumedNotice notice = commit_notice(batch, summary);
  if (notice.devices.empty()) return;
  bool sent = true;
  std::size_t parts = 0;
  const std::string topic = proto::consumed_topic(options_.self);
  for (const auto& part : proto::encode_parts(std::move(notice.devices), false)) {
    sent = publish_(topic, part, false) && sent;
    ++parts;
  }
  std::lock_guard lock(mutex_);
  counters_.notices_sent += parts;
  if (!sent) ++counters_.publish_failures;
}

bool PeerSync::ready() const {
  std::lock_guard lock(mutex_);
  return ready_;
}

PeerSyncCounters PeerSync::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

}  // namespace kelvin::gateway
