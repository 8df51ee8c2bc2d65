#include "kelvin/gateway/live_feed.hpp"

#include <algorithm>

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

// Events formatted once per flush and shared by every subscriber that gets them.
struct Events {
  std::string text;
  std::uint64_t count = 0;

  void add(std::string_view name, std::string_view data) {
    text += event(name, data);
    ++count;
  }
  void append_to(Events& out) const {
    out.text += text;
    out.count += count;
  }
};

}  // namespace

struct LiveFeed::Subscriber {
  std::shared_ptr<http::ResponseStream> stream;
  std::optional<std::string> device_id;  // nullopt: the whole fleet
  std::string owner;
  StillAllowed still_allowed;
  SteadyClock::time_point last_sent;
  SteadyClock::time_point last_checked;
};

// What the commit thread hands over between two flushes.
struct LiveFeed::Pending {
  std::vector<store::DeviceReading> readings;  // of devices followed alone, in commit order
  // The latest reading (by ts) of each device, while someone follows the fleet.
  std::unordered_map<std::string, proto::Reading> latest;
  std::vector<std::pair<std::string, store::DeviceStatus>> statuses;
  std::uint64_t skipped = 0;
};

LiveFeed::LiveFeed(LiveFeedOptions options) : options_(options), pending_(std::make_unique<Pending>()) {}

LiveFeed::~LiveFeed() {
  stop();
}

void LiveFeed::start() {
  std::lock_guard lock(mutex_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { run(); });
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
  if (subscriber_count_.load(std::memory_order_relaxed) == 0) return;
  std::unordered_map<std::string_view, const std::vector<store::SeqRun>*> stored;
  for (const auto& ack : summary.acks) {
    if (!ack.stored.empty()) stored.emplace(ack.device_id, &ack.stored);
  }
  if (stored.empty()) return;
  std::lock_guard lock(mutex_);
  for (const auto& item : batch.readings) {
    const auto runs = stored.find(item.device_id);
    if (runs == stored.end() || !store::in_runs(*runs->second, item.reading.seq)) continue;  // not new
    if (fleet_followers_ > 0) {
      auto [latest, inserted] = pending_->latest.try_emplace(item.device_id, item.reading);
      if (!inserted && item.reading.ts_ms >= latest->second.ts_ms) latest->second = item.reading;
    }
    if (followed_devices_.contains(item.device_id)) {
      if (pending_->readings.size() < options_.max_queued_readings) {
        pending_->readings.push_back(item);
      } else {
        ++pending_->skipped;
      }
    }
  }
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
                                        StillAllowed still_allowed) {
  const auto now = SteadyClock::now();
  std::lock_guard lock(mutex_);
  if (const Admission refused = admission_locked(owner); refused != Admission::admitted) {
    ++counters_.subscriptions_refused;
    return refused;
  }
  std::string hello =
      "retry: " + std::to_string(options_.client_retry.count()) + "\n\n" +
      event("ready", fleet::live_ready_json(device_id ? std::optional<std::string_view>(*device_id) : std::nullopt));
  // The client is gone already: nothing is kept, and the caller's stream is closed anyway.
  if (!stream->send(std::move(hello))) return Admission::admitted;
  if (device_id) {
    ++followed_devices_[*device_id];
  } else {
    ++fleet_followers_;
  }
  ++streams_by_owner_[owner];
  subscribers_.push_back(std::make_shared<Subscriber>(
      Subscriber{std::move(stream), std::move(device_id), std::move(owner), std::move(still_allowed), now, now}));
  ++counters_.subscriptions;
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

void LiveFeed::flush(SteadyClock::time_point now) {
  std::unique_ptr<Pending> pending;
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  {
    std::lock_guard lock(mutex_);
    pending = std::exchange(pending_, std::make_unique<Pending>());
    subscribers = subscribers_;
  }
  // Format each event once.
  std::unordered_map<std::string, Events> by_device;  // readings and statuses of followed devices
  Events fleet;                                       // latest readings and every status
  for (const auto& item : pending->readings) {
    by_device[item.device_id].add("reading", fleet::live_reading_json(item.device_id, item.reading));
  }
  for (const auto& [device_id, reading] : pending->latest)
    fleet.add("reading", fleet::live_reading_json(device_id, reading));
  for (const auto& [device_id, status] : pending->statuses) {
    const std::string data = fleet::live_status_json(device_id, status);
    by_device[device_id].add("status", data);
    fleet.add("status", data);
  }
  Events gap;
  if (pending->skipped > 0) gap.add("gap", "{\"skipped\":" + std::to_string(pending->skipped) + "}");

  std::vector<Subscriber*> ended;
  std::uint64_t sent = 0, signed_out = 0;
  for (const auto& subscriber : subscribers) {
    Events out;
    gap.append_to(out);
    if (subscriber->device_id) {
      if (auto found = by_device.find(*subscriber->device_id); found != by_device.end()) found->second.append_to(out);
    } else {
      fleet.append_to(out);
    }
    if (out.text.empty() && now - subscriber->last_sent >= options_.keepalive_interval) out.text = ": keep-alive\n\n";
    if (!out.text.empty()) {
      if (!subscriber->stream->send(std::move(out.text))) {
        ended.push_back(subscriber.get());
        continue;
      }
      subscriber->last_sent = now;
      sent += out.count;
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
