#include "kelvin/gateway/peer_sync.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "kelvin/core/identity.hpp"

namespace kelvin::gateway {
namespace {

using nlohmann::json;

constexpr std::uint64_t kMaxSeq = 9'223'372'036'854'775'807ULL;  // SQLite's integers are signed

std::string random_session() {
  unsigned char bytes[8] = {};
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // Only distinguishes this connection's presence from the previous one's; a clock value does that too.
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    for (std::size_t i = 0; i < sizeof bytes; ++i) bytes[i] = static_cast<unsigned char>(now >> (8 * i));
  }
  std::string hex;
  char digits[3];
  for (unsigned char b : bytes) {
    std::snprintf(digits, sizeof digits, "%02x", b);
    hex += digits;
  }
  return hex;
}

// kelvin/gateways/{gateway}/{leaf} -> gateway, when leaf matches and the gateway is a service name.
std::optional<std::string_view> gateway_of(std::string_view topic, std::string_view leaf) {
  if (topic.substr(0, kGatewayTopicPrefix.size()) != kGatewayTopicPrefix) return std::nullopt;
  topic.remove_prefix(kGatewayTopicPrefix.size());
  const auto slash = topic.find('/');
  if (slash == std::string_view::npos || topic.substr(slash + 1) != leaf) return std::nullopt;
  const std::string_view gateway = topic.substr(0, slash);
  if (!validate_service_name(gateway)) return std::nullopt;
  return gateway;
}

json runs_json(const std::vector<store::SeqRun>& runs) {
  json out = json::array();
  for (const auto& run : runs) out.push_back(json::array({run.first, run.last}));
  return out;
}

json device_json(const ConsumedNotice::Device& device) {
  json out{{"through", device.through}, {"above", runs_json(device.above)}};
  if (!device.stored.empty()) out["stored"] = runs_json(device.stored);
  return out;
}

std::optional<std::uint64_t> seq_of(const json& value) {
  if (!value.is_number_unsigned()) return std::nullopt;
  const auto seq = value.get<std::uint64_t>();
  if (seq > kMaxSeq) return std::nullopt;
  return seq;
}

}  // namespace

std::string peer_presence_filter() {
  return std::string(kGatewayTopicPrefix) + "+/presence";
}
std::string peer_consumed_filter() {
  return std::string(kGatewayTopicPrefix) + "+/consumed";
}
std::string presence_topic(std::string_view gateway) {
  return std::string(kGatewayTopicPrefix) + std::string(gateway) + "/presence";
}
std::string consumed_topic(std::string_view gateway) {
  return std::string(kGatewayTopicPrefix) + std::string(gateway) + "/consumed";
}
std::string offline_presence_payload() {
  return R"({"state":"offline"})";
}

std::string encode_notice(const ConsumedNotice& notice) {
  json devices = json::object();
  for (const auto& device : notice.devices) devices[device.device_id] = device_json(device);
  return json{{"full", notice.full}, {"last", notice.last}, {"devices", std::move(devices)}}.dump();
}

std::vector<std::string> encode_parts(std::vector<ConsumedNotice::Device> devices, bool full) {
  std::vector<std::string> parts;
  ConsumedNotice part;
  part.full = full;
  part.last = !full;  // only a summary has a final part; every commit notice is complete
  std::size_t part_bytes = 0;
  for (auto& device : devices) {
    const std::size_t bytes = device.device_id.size() + 40 + 24 * (device.above.size() + device.stored.size());
    if (!part.devices.empty() && part_bytes + bytes > kNoticeTargetBytes) {
      parts.push_back(encode_notice(part));
      part.devices.clear();
      part_bytes = 0;
    }
    part.devices.push_back(std::move(device));
    part_bytes += bytes;
  }
  part.last = true;
  parts.push_back(encode_notice(part));
  return parts;
}

std::vector<std::string> encode_summary(std::vector<ConsumedNotice::Device> devices) {
  return encode_parts(std::move(devices), true);
}

Result<ConsumedNotice> decode_notice(std::string_view payload) {
  auto refuse = [](const std::string& why) { return make_error(Errc::invalid_argument, "consumed notice: " + why); };
  if (payload.size() > kMaxNoticeBytes) return refuse("larger than " + std::to_string(kMaxNoticeBytes) + " bytes");
  json document = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object()) return refuse("not a JSON object");
  ConsumedNotice notice;
  const auto full = document.find("full");
  const auto last = document.find("last");
  const auto devices = document.find("devices");
  if (full == document.end() || !full->is_boolean() || last == document.end() || !last->is_boolean() ||
      devices == document.end() || !devices->is_object()) {
    return refuse("needs boolean \"full\" and \"last\" and an object \"devices\"");
  }
  notice.full = full->get<bool>();
  notice.last = last->get<bool>();
  for (const auto& [device_id, entry] : devices->items()) {
    if (!validate_device_id(device_id)) return refuse("invalid device id");
    if (!entry.is_object() || !entry.contains("through") || !entry.contains("above") || !entry["above"].is_array()) {
      return refuse(device_id + ": needs \"through\" and an array \"above\"");
    }
    ConsumedNotice::Device device;
    device.device_id = device_id;
    const auto through = seq_of(entry["through"]);
    if (!through) return refuse(device_id + ": \"through\" is not a seq");
    device.through = *through;
    // Runs must be ascending and neither overlap nor touch: the first starts at `min_first` or
    // later, each next one at least two past the previous one's end.
    auto read_runs = [&](const json& runs, std::uint64_t min_first,
                         std::vector<store::SeqRun>& out) -> std::optional<std::string> {
      if (!runs.is_array() || runs.size() > kMaxRunsPerDevice) {
        return device_id + ": runs must be an array of at most " + std::to_string(kMaxRunsPerDevice);
      }
      for (const auto& run : runs) {
        if (!run.is_array() || run.size() != 2) return device_id + ": a run is not [first, last]";
        const auto first = seq_of(run[0]);
        const auto last_seq = seq_of(run[1]);
        if (!first || !last_seq || *first > *last_seq || *first < min_first) {
          return device_id + ": runs must be ascending and disjoint, \"above\" ones beyond \"through\" + 1";
        }
        out.push_back(store::SeqRun{*first, *last_seq});
        min_first = *last_seq + 2;  // seqs stop at 2^63-1: no overflow
      }
      return std::nullopt;
    };
    if (auto problem = read_runs(entry["above"], device.through + 2, device.above)) return refuse(*problem);
    if (entry.contains("stored")) {
      if (auto problem = read_runs(entry["stored"], 1, device.stored)) return refuse(*problem);
    }
    notice.devices.push_back(std::move(device));
  }
  return notice;
}

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
    device.stored.assign(ack.stored.begin(), ack.stored.begin() + static_cast<std::ptrdiff_t>(
                                                                      std::min(ack.stored.size(), kMaxRunsPerDevice)));
    if (auto found = seqs.find(ack.device_id); found != seqs.end()) {
      auto& list = found->second;
      std::sort(list.begin(), list.end());
      for (std::uint64_t seq : list) {
        if (seq <= device.through + 1) continue;  // covered by "through" (or would touch it)
        if (!device.above.empty() && seq <= device.above.back().last + 1) {
          device.above.back().last = std::max(device.above.back().last, seq);
        } else if (device.above.size() < kMaxRunsPerDevice) {
          device.above.push_back(store::SeqRun{seq, seq});
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
    presence = json{{"state", "online"}, {"session", session_}}.dump();
  }
  if (!publish_(presence_topic(options_.self), presence, /*retain=*/true)) {
    std::lock_guard lock(mutex_);
    ++counters_.publish_failures;
  }
  publish_summary();
}

void PeerSync::on_disconnected() {
  std::lock_guard lock(mutex_);
  connected_ = false;
  ready_ = false;
}

bool PeerSync::handle_message(std::string_view topic, std::string_view payload, bool retained, Clock::time_point now) {
  if (auto gateway = gateway_of(topic, "presence")) {
    const json presence = json::parse(payload, nullptr, false);
    const bool online = presence.is_object() && presence.value("state", std::string()) == "online";
    const std::string session = online ? presence.value("session", std::string()) : std::string();
    bool answer = false;
    bool fire = false;
    {
      std::lock_guard lock(mutex_);
      if (*gateway == options_.self) {
        if (online && session == session_) own_presence_seen_ = true;
      } else if (online) {
        auto [it, inserted] = online_.insert_or_assign(std::string(*gateway), session);
        // A peer joining now (not the retained presence of one that was there before us) needs
        // our summary; it restarted if its session changed, so it forgot what it knew.
        answer = !retained;
        if (!retained) synced_.erase(it->first);
      } else {
        online_.erase(std::string(*gateway));
        synced_.erase(std::string(*gateway));
      }
      counters_.peers_online = online_.size();
      fire = check_ready_locked(now);
    }
    if (fire) on_ready_();
    if (answer) publish_summary();
    return true;
  }
  auto gateway = gateway_of(topic, "consumed");
  if (!gateway) return false;
  if (*gateway == options_.self) return true;  // our own notices, echoed back
  auto notice = decode_notice(payload);
  if (!notice) {
    std::lock_guard lock(mutex_);
    ++counters_.notices_rejected;
    if (auto suppressed = log_.admit("notice", now)) {
      spdlog::warn("peers: notice from {} refused: {} ({} similar suppressed)", *gateway, notice.error().message,
                   *suppressed);
    }
    return true;
  }
  apply_(consumed_ranges(*notice, options_.self, *gateway));
  bool fire = false;
  {
    std::lock_guard lock(mutex_);
    ++counters_.notices_received;
    if (notice->full && notice->last) synced_.emplace(*gateway);
    fire = check_ready_locked(now);
  }
  if (fire) on_ready_();
  return true;
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
      spdlog::warn("peers: no summary from {} gateway(s) marked online (first: {}) within {} ms; taking telemetry",
                   missing.size(), missing.front(), options_.join_timeout.count());
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
  spdlog::info("peers: {} other gateway(s) online; taking telemetry", online_.size());
  return true;
}

void PeerSync::publish_summary() {
  auto consumption = summary_store_.consumption();
  if (!consumption) {
    spdlog::error("peers: cannot read the store for a summary: {}", consumption.error().message);
    return;
  }
  std::vector<ConsumedNotice::Device> devices;
  devices.reserve(consumption->size());
  for (auto& device : *consumption) {
    if (device.above.size() > kMaxRunsPerDevice) device.above.resize(kMaxRunsPerDevice);
    devices.push_back({std::move(device.device_id), device.watermark, std::move(device.above), {}});
  }
  bool all_sent = true;
  for (const auto& part : encode_summary(std::move(devices))) {
    if (!publish_(consumed_topic(options_.self), part, false)) all_sent = false;
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
  for (const auto& part : encode_parts(std::move(notice.devices), false)) {
    sent = publish_(consumed_topic(options_.self), part, false) && sent;
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
