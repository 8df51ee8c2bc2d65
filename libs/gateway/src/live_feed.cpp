#include "kelvin/gateway/live_feed.hpp"

#include <algorithm>
#include <unordered_set>

#include "kelvin/core/thread_name.hpp"
#include "kelvin/fleet/fleet_json.hpp"

namespace kelvin::gateway {
namespace {

using SteadyClock = std::chrono::steady_clock;

// One Server-Sent Event. `data` is one line of JSON (compact dumps have no line breaks).
std::string event(std::string_view name, std::string_view data) {
  std::string out;
  out.reserve(name.size() + data.size() + 16);
  out.append("event: ").append(name).append("\ndata: ").append(data).append("\n\n");
  return out;
}

std::string gap_event(std::uint64_t skipped) {
  return event("gap", "{\"skipped\":" + std::to_string(skipped) + "}");
}

// One event formatted once per flush, shared by every subscriber that gets it. `position`: the
// reading's export position; 0 for a status (never replayed, so never skipped).
struct FormattedEvent {
  std::uint64_t position = 0;
  std::string text;
};

// A device's seq within one commit's batch: a batch may carry a reading twice (a resend), and
// only its first copy was stored.
struct DeviceSeq {
  std::string_view device_id;
  std::uint64_t seq = 0;
  bool operator==(const DeviceSeq&) const = default;
};
struct DeviceSeqHash {
  std::size_t operator()(const DeviceSeq& key) const {
    return std::hash<std::string_view>{}(key.device_id) ^ (std::hash<std::uint64_t>{}(key.seq) * 0x9e3779b97f4a7c15ULL);
  }
};

// The latest (by ts, then position) reading of each device among `readings`, in position order.
std::vector<store::ExportedReading> latest_of_each_device(std::vector<store::ExportedReading> readings) {
  std::unordered_map<std::string_view, std::size_t> latest;  // device → index into readings
  for (std::size_t i = 0; i < readings.size(); ++i) {
    auto [found, inserted] = latest.try_emplace(readings[i].device_id, i);
    if (!inserted && readings[i].reading.ts_ms >= readings[found->second].reading.ts_ms) found->second = i;
  }
  std::vector<std::size_t> chosen;
  chosen.reserve(latest.size());
  for (const auto& [device, index] : latest) chosen.push_back(index);
  std::sort(chosen.begin(), chosen.end());
  std::vector<store::ExportedReading> out;
  out.reserve(chosen.size());
  for (std::size_t index : chosen) out.push_back(std::move(readings[index]));
  return out;
}

}  // namespace

struct LiveFeed::Subscriber {
  std::shared_ptr<http::ResponseStream> stream;
  std::optional<std::string> device_id;  // nullopt: the whole fleet
  std::string owner;
  StillAllowed still_allowed;
  SteadyClock::time_point last_sent;
  SteadyClock::time_point last_checked;
  std::optional<std::uint64_t> resume_after;  // to replay at the next flush
  std::uint64_t skip_through = 0;             // readings up to this position were replayed
  std::uint64_t id_sent = 0;                  // the last `id:` sent
};

// What the commit thread hands over between two flushes. Positions are export positions.
struct LiveFeed::Pending {
  // Readings of devices followed alone, in commit order.
  std::vector<std::pair<std::uint64_t, store::DeviceReading>> readings;
  // The latest reading (by ts) of each device, while someone follows the fleet.
  std::unordered_map<std::string, std::pair<std::uint64_t, proto::Reading>> latest;
  std::vector<std::pair<std::string, store::DeviceStatus>> statuses;
  std::uint64_t skipped = 0;
  std::uint64_t through = 0;  // the last position committed
};

LiveFeed::LiveFeed(LiveFeedOptions options) : options_(options), pending_(std::make_unique<Pending>()) {}

LiveFeed::~LiveFeed() {
  stop();
}

void LiveFeed::start(std::uint64_t last_position, ReplaySource replay) {
  std::lock_guard lock(mutex_);
  if (started_ || stopping_) return;
  started_ = true;
  through_ = last_position;  // the feed's thread's alone from here on
  replay_source_ = std::move(replay);
  thread_ = core::named_thread("live-feed", [this] { run(); });
}

void LiveFeed::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  close_all();
}

void LiveFeed::on_commit(const store::IngestBatch& batch, const store::CommitSummary& summary) {
  if (subscriber_count_.load(std::memory_order_relaxed) == 0) {
    // Stored before any stream that comes began: only where the log is, for the streams' ids.
    if (summary.last_position > 0) unwatched_through_.store(summary.last_position, std::memory_order_relaxed);
    return;
  }
  std::unordered_map<std::string_view, const std::vector<store::SeqRun>*> stored;
  for (const auto& ack : summary.acks) {
    if (!ack.stored.empty()) stored.emplace(ack.device_id, &ack.stored);
  }
  if (stored.empty()) return;
  // The stored readings have consecutive positions in batch order (CommitSummary::last_position).
  std::uint64_t position = summary.last_position - summary.stored;
  std::unordered_set<DeviceSeq, DeviceSeqHash> taken;
  std::lock_guard lock(mutex_);
  for (const auto& item : batch.readings) {
    const auto runs = stored.find(item.device_id);
    if (runs == stored.end() || !store::in_runs(*runs->second, item.reading.seq)) continue;  // not new
    if (!taken.insert(DeviceSeq{item.device_id, item.reading.seq}).second) continue;         // a second copy
    ++position;
    if (fleet_followers_ > 0) {
      auto [latest, inserted] = pending_->latest.try_emplace(item.device_id, position, item.reading);
      if (!inserted && item.reading.ts_ms >= latest->second.second.ts_ms) latest->second = {position, item.reading};
    }
    if (followed_devices_.contains(item.device_id)) {
      if (pending_->readings.size() < options_.max_queued_readings) {
        pending_->readings.emplace_back(position, item);
      } else {
        ++pending_->skipped;
      }
    }
  }
  pending_->through = std::max(pending_->through, summary.last_position);
}

void LiveFeed::on_status(std::string_view device_id, const store::DeviceStatus& status) {
  if (subscriber_count_.load(std::memory_order_relaxed) == 0) return;
  std::lock_guard lock(mutex_);
  if (fleet_followers_ == 0 && !followed_devices_.contains(std::string(device_id))) return;
  if (pending_->statuses.size() < options_.max_queued_readings) {
    pending_->statuses.emplace_back(std::string(device_id), status);
  } else {
    ++pending_->skipped;
  }
}

LiveFeed::Admission LiveFeed::admission(std::string_view owner) const {
  std::lock_guard lock(mutex_);
  return admission_locked(owner);
}

LiveFeed::Admission LiveFeed::admission_locked(std::string_view owner) const {
  if (stopping_) return Admission::stopped;
  if (subscribers_.size() >= options_.max_subscribers) return Admission::feed_full;
  const auto owned = streams_by_owner_.find(std::string(owner));
  if (owned != streams_by_owner_.end() && owned->second >= options_.max_per_owner) return Admission::owner_full;
  return Admission::admitted;
}

LiveFeed::Admission LiveFeed::subscribe(std::shared_ptr<http::ResponseStream> stream,
                                        std::optional<std::string> device_id, std::string owner,
                                        StillAllowed still_allowed, std::optional<std::uint64_t> resume_after) {
  const auto now = SteadyClock::now();
  std::lock_guard lock(mutex_);
  if (const Admission refused = admission_locked(owner); refused != Admission::admitted) {
    ++counters_.subscriptions_refused;
    return refused;
  }
  std::string hello =
      "retry: " + std::to_string(options_.client_retry.count()) + "\n\n" +
      event("ready", fleet::live_ready_json(device_id ? std::optional<std::string_view>(*device_id) : std::nullopt,
                                            resume_after.has_value()));
  // The client is gone already: nothing is kept, and the caller's stream is closed anyway.
  if (!stream->send(std::move(hello))) return Admission::admitted;
  if (device_id) {
    ++followed_devices_[*device_id];
  } else {
    ++fleet_followers_;
  }
  ++streams_by_owner_[owner];
  subscribers_.push_back(std::make_shared<Subscriber>(Subscriber{.stream = std::move(stream),
                                                                 .device_id = std::move(device_id),
                                                                 .owner = std::move(owner),
                                                                 .still_allowed = std::move(still_allowed),
                                                                 .last_sent = now,
                                                                 .last_checked = now,
                                                                 .resume_after = resume_after}));
  ++counters_.subscriptions;
  if (resume_after) ++counters_.streams_resumed;
  subscriber_count_.store(subscribers_.size());
  return Admission::admitted;
}

LiveFeedCounters LiveFeed::counters() const {
  std::lock_guard lock(mutex_);
  LiveFeedCounters out = counters_;
  out.subscribers = subscribers_.size();
  return out;
}

void LiveFeed::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.flush_interval, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    flush(SteadyClock::now());
    lock.lock();
  }
}

std::string LiveFeed::replay(Subscriber& subscriber, Replayed& replayed) {
  const std::uint64_t after = *std::exchange(subscriber.resume_after, std::nullopt);
  // What was stored since `after` (all devices: at most that many of this stream's) is not
  // replayed; the client loads again. 0 when the position is not this store's.
  auto refuse = [&] {
    ++replayed.refused;
    return gap_event(after <= through_ ? through_ - after : 0);
  };
  if (!replay_source_ || after > through_ || through_ - after > options_.max_replay_scan) return refuse();
  auto batch = replay_source_(after, options_.max_replay_scan + 1);
  if (!batch || batch->readings.size() + batch->expired > options_.max_replay_scan) return refuse();
  std::vector<store::ExportedReading> readings = std::move(batch->readings);
  if (subscriber.device_id) {
    std::erase_if(readings, [&](const store::ExportedReading& r) { return r.device_id != *subscriber.device_id; });
  } else {
    readings = latest_of_each_device(std::move(readings));
  }
  if (readings.size() > options_.max_replay_events) return refuse();
  std::string out;
  for (const auto& r : readings) out += event("reading", fleet::live_reading_json(r.device_id, r.reading));
  replayed.readings += readings.size();
  // The batch read the log to its end: every reading through end_position is in it.
  subscriber.skip_through = batch->end_position;
  return out;
}

void LiveFeed::flush(SteadyClock::time_point now) {
  std::unique_ptr<Pending> pending;
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  {
    std::lock_guard lock(mutex_);
    pending = std::exchange(pending_, std::make_unique<Pending>());
    subscribers = subscribers_;
  }
  through_ = std::max({through_, pending->through, unwatched_through_.load(std::memory_order_relaxed)});
  // Format each event once.
  std::unordered_map<std::string, std::vector<FormattedEvent>> by_device;  // of devices followed alone
  std::vector<FormattedEvent> fleet;                                       // latest readings, every status
  for (const auto& [position, item] : pending->readings) {
    by_device[item.device_id].push_back(
        {position, event("reading", fleet::live_reading_json(item.device_id, item.reading))});
  }
  for (const auto& [device_id, latest] : pending->latest) {
    fleet.push_back({latest.first, event("reading", fleet::live_reading_json(device_id, latest.second))});
  }
  for (const auto& [device_id, status] : pending->statuses) {
    FormattedEvent formatted{0, event("status", fleet::live_status_json(device_id, status))};
    by_device[device_id].push_back(formatted);
    fleet.push_back(std::move(formatted));
  }
  const std::string gap = pending->skipped > 0 ? gap_event(pending->skipped) : std::string();
  const std::vector<FormattedEvent> none;

  std::vector<Subscriber*> ended;
  std::uint64_t sent = 0, signed_out = 0;
  Replayed replayed;
  for (const auto& subscriber : subscribers) {
    std::string out;
    std::uint64_t count = 0;
    if (subscriber->resume_after) {
      const std::uint64_t readings_before = replayed.readings;
      out += replay(*subscriber, replayed);
      count += replayed.readings - readings_before;
    }
    out += gap;
    if (!gap.empty()) ++count;
    const auto found = subscriber->device_id ? by_device.find(*subscriber->device_id) : by_device.end();
    const auto& events = subscriber->device_id ? (found != by_device.end() ? found->second : none) : fleet;
    for (const auto& formatted : events) {
      if (formatted.position != 0 && formatted.position <= subscriber->skip_through) continue;  // replayed
      out += formatted.text;
      ++count;
    }
    if (out.empty() && now - subscriber->last_sent >= options_.keepalive_interval) out = ": keep-alive\n\n";
    if (!out.empty()) {
      // Where a reconnecting client resumes from: everything it follows through here is sent.
      if (const std::uint64_t id = std::max(through_, subscriber->skip_through); id > subscriber->id_sent) {
        out += "id: " + std::to_string(id) + "\n\n";
        subscriber->id_sent = id;
      }
      if (!subscriber->stream->send(std::move(out))) {
        ended.push_back(subscriber.get());
        continue;
      }
      subscriber->last_sent = now;
      sent += count;
    }
    if (!subscriber->stream->is_open()) {
      ended.push_back(subscriber.get());
      continue;
    }
    if (now - subscriber->last_checked >= options_.recheck_interval) {
      subscriber->last_checked = now;
      if (subscriber->still_allowed && !subscriber->still_allowed()) {
        subscriber->stream->close();
        ++signed_out;
        ended.push_back(subscriber.get());
      }
    }
  }

  std::lock_guard lock(mutex_);
  counters_.events_sent += sent;
  counters_.readings_skipped += pending->skipped;
  counters_.streams_closed_signed_out += signed_out;
  counters_.readings_replayed += replayed.readings;
  counters_.replays_refused += replayed.refused;
  if (ended.empty()) return;
  std::erase_if(subscribers_, [&](const std::shared_ptr<Subscriber>& subscriber) {
    if (std::find(ended.begin(), ended.end(), subscriber.get()) == ended.end()) return false;
    if (subscriber->device_id) {
      auto followed = followed_devices_.find(*subscriber->device_id);
      if (followed != followed_devices_.end() && --followed->second == 0) followed_devices_.erase(followed);
    } else {
      --fleet_followers_;
    }
    auto owned = streams_by_owner_.find(subscriber->owner);
    if (owned != streams_by_owner_.end() && --owned->second == 0) streams_by_owner_.erase(owned);
    return true;
  });
  subscriber_count_.store(subscribers_.size());
}

void LiveFeed::close_all() {
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  {
    std::lock_guard lock(mutex_);
    subscribers.swap(subscribers_);
    followed_devices_.clear();
    streams_by_owner_.clear();
    fleet_followers_ = 0;
    subscriber_count_.store(0);
  }
  for (const auto& subscriber : subscribers) subscriber->stream->close();
}

}  // namespace kelvin::gateway
