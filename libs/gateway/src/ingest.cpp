#include "kelvin/gateway/ingest.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <unordered_set>

#include "kelvin/core/thread_name.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/log/subject.hpp"
#include "kelvin/proto/status.hpp"
#include "kelvin/proto/topics.hpp"

namespace kelvin::gateway {

using SteadyClock = std::chrono::steady_clock;

namespace {
std::uint64_t saturating_add(std::uint64_t total, std::uint64_t more) {
  return more > UINT64_MAX - total ? UINT64_MAX : total + more;
}

// A completion that throws must not end the commit thread.
template <class Outcome>
void tell(const std::function<void(Outcome)>& done, Outcome outcome) noexcept {
  try {
    done(std::move(outcome));
  } catch (const std::exception& e) {
    log::component("ingest").error("a completion failed: {}", e.what());
  } catch (...) {
    log::component("ingest").error("a completion failed");
  }
}

// Tells `done` its `outcome` with the ack filled in once it is known, or `unavailable` (a
// default Outcome) when nothing was committed.
template <class Outcome>
std::function<void(std::optional<std::uint64_t>)> tell_with_ack(Outcome outcome, std::function<void(Outcome)> done) {
  return [outcome = std::move(outcome), done = std::move(done)](std::optional<std::uint64_t> acked) mutable {
    if (!acked) {
      tell(done, Outcome{});
      return;
    }
    outcome.acked_seq = *acked;
    tell(done, std::move(outcome));
  };
}

// What the store records of a decoded status. An empty firmware or release check (not reported)
// keeps the one the store holds (Store::record_status).
store::DeviceStatus stored_status(const proto::StatusReport& report, std::int64_t now_ms) {
  return store::DeviceStatus{.state = report.online ? "online" : "offline",
                             .firmware = report.firmware,
                             .dropped_total = report.dropped,
                             .at_ms = now_ms,
                             .release_check = report.release_check};
}

}  // namespace

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Ingest::Ingest(store::Store& store, AckSink ack_sink, IngestOptions options, WallClock clock)
    : store_(store),
      ack_sink_(std::move(ack_sink)),
      options_(options),
      clock_(std::move(clock)),
      latency_(options.latency_window),
      arrival_latency_(options.latency_window),
      commit_duration_(options.latency_window) {}

Ingest::~Ingest() {
  stop();
}

void Ingest::start() {
  std::lock_guard lock(mutex_);
  stopping_ = false;
  committer_ = core::named_thread("ingest-commit", [this] { commit_loop(); });
}

void Ingest::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  space_ready_.notify_all();
  if (committer_.joinable()) committer_.join();
}

IngestCounters Ingest::counters() const {
  std::lock_guard lock(mutex_);
  IngestCounters out = counters_;
  const auto now = SteadyClock::now();
  out.latency_p50_ms = latency_.percentile(0.50, now);
  out.latency_p99_ms = latency_.percentile(0.99, now);
  out.arrival_latency_p50_ms = arrival_latency_.percentile(0.50, now);
  out.arrival_latency_p99_ms = arrival_latency_.percentile(0.99, now);
  out.commit_duration_p50_ms = commit_duration_.percentile(0.50, now);
  out.commit_duration_p99_ms = commit_duration_.percentile(0.99, now);
  return out;
}

IngestHistograms Ingest::histograms() const {
  std::lock_guard lock(mutex_);
  return histograms_;
}

void Ingest::handle_message(std::string_view topic, std::string_view payload, bool retained) {
  const std::int64_t now_ms = clock_();
  auto parsed = proto::parse_device_topic(topic);
  if (parsed && parsed->topic == proto::DeviceTopic::telemetry) {
    handle_telemetry(parsed->device_id, payload, now_ms);
  } else if (parsed && parsed->topic == proto::DeviceTopic::status) {
    handle_status(parsed->device_id, payload, retained, now_ms);
  } else {
    std::lock_guard lock(mutex_);
    ++counters_.ignored_topics;
  }
}

void Ingest::handle_telemetry(std::string_view device_id, std::string_view payload, std::int64_t now_ms) {
  // Validation runs outside the lock, in parallel with the commit thread's I/O.
  proto::DecodedTelemetry decoded = proto::decode_telemetry(payload, now_ms, options_.limits);
  if (decoded.payload_rejection) log_rejection(device_id, *decoded.payload_rejection);
  for (const auto& rejection : decoded.rejected) log_rejection(device_id, rejection);

  std::unique_lock lock(mutex_);
  space_ready_.wait(lock, [this] { return stopping_ || waiting_.readings.size() < options_.max_waiting_readings; });
  // Stopping: nothing is taken any more (it would never be committed); unacknowledged, it is resent.
  if (stopping_) {
    ++counters_.refused_while_stopping;
    return;
  }
  take_decoded_locked(device_id, decoded, now_ms);
  if (!heard_over_mqtt_.contains(device_id)) heard_over_mqtt_.emplace(device_id);
}

void Ingest::submit_telemetry(std::string_view device_id, std::string_view payload, TelemetryCompletion done) {
  const std::int64_t now_ms = clock_();
  proto::DecodedTelemetry decoded = proto::decode_telemetry(payload, now_ms, options_.limits);
  if (decoded.payload_rejection) log_rejection(device_id, *decoded.payload_rejection);
  for (const auto& rejection : decoded.rejected) log_rejection(device_id, rejection);

  {
    std::lock_guard lock(mutex_);
    const bool full = waiting_.readings.size() >= options_.max_waiting_readings;
    if (!stopping_ && !full) {
      const bool was_idle = idle_locked();
      take_decoded_locked(device_id, decoded, now_ms);
      TelemetryOutcome outcome;
      outcome.status = decoded.payload_rejection ? TelemetryOutcome::Status::refused : TelemetryOutcome::Status::stored;
      outcome.accepted = decoded.accepted.size();
      outcome.rejected = std::move(decoded.rejected);
      outcome.payload_rejection = std::move(decoded.payload_rejection);
      waiting_completions_.push_back({std::string(device_id), tell_with_ack(std::move(outcome), std::move(done))});
      // A refused payload adds nothing else to wait for: the completion is the work.
      wake_for_request_locked(was_idle);
      return;
    }
    ++(stopping_ ? counters_.refused_while_stopping : counters_.refused_while_full);
  }
  tell(done, TelemetryOutcome{});  // unavailable; outside the lock
}

void Ingest::take_decoded_locked(std::string_view device_id, const proto::DecodedTelemetry& decoded,
                                 std::int64_t now_ms) {
  ++counters_.messages;
  auto count_rejection = [this](const proto::Rejection& rejection) {
    ++counters_.rejected[static_cast<std::size_t>(rejection.reason)];
    ++counters_.rejected_total;
  };
  if (decoded.payload_rejection) count_rejection(*decoded.payload_rejection);
  const bool was_idle = idle_locked();
  if (was_idle) first_waiting_since_ = SteadyClock::now();
  for (const auto& rejection : decoded.rejected) {
    count_rejection(rejection);
    // A rejected reading with a valid seq is consumed, so it never blocks the device's ack.
    if (rejection.seq) waiting_.rejected.push_back({std::string(device_id), *rejection.seq, rejection.reason, now_ms});
  }
  counters_.readings_accepted += decoded.accepted.size();
  const auto taken = SteadyClock::now();
  const std::size_t readings_before = waiting_.readings.size();
  for (const auto& reading : decoded.accepted) {
    arrival_latency_.record(now_ms - reading.ts_ms, taken);
    waiting_.readings.push_back({std::string(device_id), reading});
  }
  // The commit thread sleeps until work arrives, then until the batch is full or old enough, and a
  // small batch until it holds enough.
  const bool became_enough = readings_before < enough_readings() && waiting_.readings.size() >= enough_readings();
  if ((was_idle && !idle_locked()) || became_enough || waiting_.readings.size() >= options_.batch_max_readings) {
    work_ready_.notify_one();
  }
}

void Ingest::wake_for_request_locked(bool was_idle) {
  const bool first_request = ++waiting_requests_ == 1;
  if (was_idle || first_request) work_ready_.notify_one();
}

std::size_t Ingest::enough_readings() const {
  return std::min(options_.batch_min_readings, options_.batch_max_readings);
}

bool Ingest::batch_is_dense_locked() const {
  const auto& readings = waiting_.readings;
  const std::size_t most_devices = readings.size() / kDenseBatchReadingsPerDevice;
  if (most_devices == 0) return false;
  // Stops at the first device too many: a batch of a fleet (a device or two per reading) is
  // judged after a few readings, whatever its size.
  std::unordered_set<std::string_view> devices;
  for (const auto& item : readings) {
    if (devices.insert(item.device_id).second && devices.size() > most_devices) return false;
  }
  return true;
}

bool Ingest::idle_locked() const {
  // Floors are not in waiting_: they come from statuses, once those are recorded (commit()).
  return waiting_.readings.empty() && waiting_.rejected.empty() && waiting_statuses_.empty() &&
         waiting_.elsewhere.empty() && waiting_completions_.empty();
}

void Ingest::add_consumed_elsewhere(std::vector<store::ConsumedRange> ranges) {
  if (ranges.empty()) return;
  std::lock_guard lock(mutex_);
  const bool was_idle = idle_locked();
  if (was_idle) first_waiting_since_ = SteadyClock::now();
  counters_.peer_ranges += ranges.size();
  for (auto& range : ranges) waiting_.elsewhere.push_back(std::move(range));
  if (was_idle) work_ready_.notify_one();
}

void Ingest::add_commit_listener(CommitListener listener) {
  commit_listeners_.push_back(std::move(listener));
}

void Ingest::add_status_listener(StatusListener listener) {
  status_listeners_.push_back(std::move(listener));
}

void Ingest::handle_status(std::string_view device_id, std::string_view payload, bool retained, std::int64_t now_ms) {
  auto report = proto::decode_status(payload);
  std::lock_guard lock(mutex_);
  if (stopping_) {
    ++counters_.refused_while_stopping;
    return;
  }
  if (!report) {
    count_status_rejection_locked(device_id, report.error());
    return;
  }
  ++counters_.status_updates;
  const bool was_idle = idle_locked();
  if (was_idle) first_waiting_since_ = SteadyClock::now();
  waiting_statuses_.push_back(
      {std::string(device_id), stored_status(*report, now_ms), report->oldest_seq, retained, nullptr});
  if (!heard_over_mqtt_.contains(device_id)) heard_over_mqtt_.emplace(device_id);
  if (was_idle) work_ready_.notify_one();
}

void Ingest::submit_status(std::string_view device_id, std::string_view payload, StatusCompletion done) {
  const std::int64_t now_ms = clock_();
  auto report = proto::decode_status(payload);
  {
    std::lock_guard lock(mutex_);
    const bool full = waiting_.readings.size() >= options_.max_waiting_readings;
    if (!stopping_ && !full) {
      const bool was_idle = idle_locked();
      if (was_idle) first_waiting_since_ = SteadyClock::now();
      if (report) {
        ++counters_.status_updates;
        StatusOutcome outcome;
        outcome.status = StatusOutcome::Status::recorded;
        waiting_statuses_.push_back({std::string(device_id), stored_status(*report, now_ms), report->oldest_seq, false,
                                     tell_with_ack(std::move(outcome), std::move(done))});
      } else {
        count_status_rejection_locked(device_id, report.error());
        StatusOutcome outcome;
        outcome.status = StatusOutcome::Status::refused;
        outcome.too_large = payload.size() > proto::kMaxStatusBytes;
        outcome.refusal = report.error().message;
        // Answered with the store's ack after the next commit, like a telemetry payload refused whole.
        waiting_completions_.push_back({std::string(device_id), tell_with_ack(std::move(outcome), std::move(done))});
      }
      wake_for_request_locked(was_idle);
      return;
    }
    ++(stopping_ ? counters_.refused_while_stopping : counters_.refused_while_full);
  }
  tell(done, StatusOutcome{});  // unavailable; outside the lock
}

void Ingest::count_status_rejection_locked(std::string_view device_id, const Error& error) {
  ++counters_.status_rejected;
  if (auto suppressed = rejection_log_.admit("status", SteadyClock::now())) {
    const log::Subjects about{{log::SubjectKey::device, device_id}};
    log::component("ingest").warn("{}: {} ({} similar suppressed)", device_id, error.message, *suppressed);
  }
}

void Ingest::log_rejection(std::string_view device_id, const proto::Rejection& rejection) {
  std::string key(proto::to_string(rejection.reason));
  if (auto suppressed = rejection_log_.admit(key, SteadyClock::now())) {
    const log::Subjects about{{log::SubjectKey::device, device_id}};
    log::component("ingest").warn("rejected {} from {}{}: {} ({} similar suppressed)", key, device_id,
                                  rejection.seq ? " seq " + std::to_string(*rejection.seq) : std::string(),
                                  rejection.detail, *suppressed);
  }
}

void Ingest::commit_loop() {
  auto last_retention = SteadyClock::now() - options_.retention_interval;
  std::unique_lock lock(mutex_);
  for (;;) {
    auto has_work = [this] { return !idle_locked(); };
    work_ready_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping_ || has_work(); });
    if (has_work() && !stopping_ && waiting_.readings.size() < options_.batch_max_readings) {
      // Let the batch fill up to its size or delay bound: fewer, larger transactions; and a batch
      // of a quiet moment a little longer, so that a few readings share the commit.
      work_ready_.wait_until(lock, first_waiting_since_ + options_.batch_max_delay,
                             [&] { return stopping_ || waiting_.readings.size() >= options_.batch_max_readings; });
      // A batch of few devices waits longer: its devices' next readings share the commit's cost.
      // handle_telemetry() does not wake this wait for each reading, only at batch_max_readings.
      if (!stopping_ && waiting_requests_ == 0 && options_.batch_dense_delay > options_.batch_max_delay &&
          batch_is_dense_locked()) {
        ++counters_.dense_batches;
        work_ready_.wait_until(lock, first_waiting_since_ + options_.batch_dense_delay, [&] {
          return stopping_ || waiting_.readings.size() >= options_.batch_max_readings || waiting_requests_ > 0;
        });
      }
      work_ready_.wait_until(
          lock, first_waiting_since_ + std::max(options_.batch_max_delay, options_.batch_quiet_delay),
          [&] { return stopping_ || waiting_.readings.size() >= enough_readings() || waiting_requests_ > 0; });
    }
    if (has_work()) {
      store::IngestBatch batch = std::move(waiting_);
      waiting_ = {};
      std::vector<StatusUpdate> statuses = std::move(waiting_statuses_);
      waiting_statuses_.clear();
      std::vector<PendingCompletion> completions = std::move(waiting_completions_);
      waiting_completions_.clear();
      waiting_requests_ = 0;
      space_ready_.notify_all();
      lock.unlock();
      commit(batch, statuses, completions);
      lock.lock();
      continue;
    }
    if (stopping_) return;
    if (SteadyClock::now() - last_retention >= options_.retention_interval) {
      last_retention = SteadyClock::now();
      lock.unlock();
      auto report = store_.apply_retention(clock_());
      if (!report) {
        log::component("store").error("retention failed: {}", report.error().message);
      } else if (report->raw_deleted + report->minute_deleted + report->hour_deleted > 0) {
        log::component("store").info("retention removed the values of {} readings, {} minute and {} hour rollups",
                                     report->raw_deleted, report->minute_deleted, report->hour_deleted);
      }
      lock.lock();
    }
  }
}

void Ingest::set_device_may_connect(DeviceMayConnect check) {
  device_may_connect_ = std::move(check);
}

bool Ingest::record_status(const StatusUpdate& update) {
  if (update.retained) {
    auto known = store_.device(update.device_id);
    const bool unknown = known && !known->has_value();
    if (unknown && !(device_may_connect_ && device_may_connect_(update.device_id))) {
      std::lock_guard lock(mutex_);
      ++counters_.status_ignored;
      return false;
    }
  }
  if (auto r = store_.record_status(update.device_id, update.status); !r) {
    const log::Subjects about{{log::SubjectKey::device, update.device_id}};
    log::component("store").error("cannot record status of {}: {}", update.device_id, r.error().message);
    return false;
  }
  for (const auto& listener : status_listeners_) listener(update.device_id, update.status);
  return true;
}

// Runs on the commit thread without the lock. A failed commit is retried with the same batch until
// it succeeds: nothing is acknowledged that is not stored, and nothing handed over is dropped.
std::set<std::string_view> Ingest::answered_only_over_https(const std::vector<PendingCompletion>& completions) const {
  std::set<std::string_view> devices;
  std::lock_guard lock(mutex_);
  for (const auto& completion : completions) {
    if (!heard_over_mqtt_.contains(completion.device_id)) devices.insert(completion.device_id);
  }
  return devices;
}

void Ingest::commit(store::IngestBatch& batch, std::vector<StatusUpdate>& statuses,
                    std::vector<PendingCompletion>& completions) {
  for (auto& update : statuses) {
    const bool recorded = record_status(update);
    if (recorded && update.oldest_seq) batch.floors.push_back({update.device_id, *update.oldest_seq});
    if (!update.recorded) continue;
    // A submitted status is answered after the commit below (its floor may move the ack); one
    // that could not be recorded is told `unavailable` at once, and the device sends it again.
    if (recorded) {
      completions.push_back({update.device_id, std::move(update.recorded)});
    } else {
      update.recorded(std::nullopt);
    }
  }
  const bool own_data = !batch.readings.empty() || !batch.rejected.empty() || !batch.floors.empty();
  if (!own_data && batch.elsewhere.empty()) {
    complete(completions, nullptr);
    return;
  }
  // Devices this gateway heard from in the batch get their ack whatever it is (a resend needs one
  // even when nothing is new); the others only when it exceeds the watermark a peer reported (a
  // range from seq 1), which that peer acknowledged itself. Without peers' ranges every ack is ours.
  std::set<std::string_view> own_devices;
  std::map<std::string_view, std::uint64_t> peer_through;
  if (!batch.elsewhere.empty()) {
    for (const auto& item : batch.readings) own_devices.insert(item.device_id);
    for (const auto& item : batch.rejected) own_devices.insert(item.device_id);
    for (const auto& item : batch.floors) own_devices.insert(item.device_id);
    for (const auto& range : batch.elsewhere) {
      if (range.first_seq != 1) continue;
      auto& through = peer_through[range.device_id];
      through = std::max(through, range.last_seq);
    }
  }
  // A device that only ever spoke HTTPS gets its ack in the answers: an MQTT ack would go to a
  // topic nobody listens on, and hold those answers back while it is published.
  const std::set<std::string_view> answered_over_https = answered_only_over_https(completions);
  auto publishes_mqtt_ack = [&](const store::DeviceAck& ack) {
    if (answered_over_https.contains(ack.device_id)) return false;
    if (peer_through.empty() || own_devices.contains(ack.device_id)) return true;
    auto peer = peer_through.find(ack.device_id);
    return peer == peer_through.end() || ack.contiguous_seq > peer->second;
  };
  for (;;) {
    const auto began = SteadyClock::now();
    auto summary = store_.commit(batch, clock_());
    if (summary) {
      const auto ended = SteadyClock::now();
      if (summary->withdrawn + summary->duplicates_kept > 0) {
        log::component("ingest").info(
            "{} readings another gateway stored too were withdrawn here ({} kept: retention "
            "had already thinned their buckets)",
            summary->withdrawn, summary->duplicates_kept);
      }
      if (summary->given_up > 0) {
        log::component("ingest").warn("{} readings given up: dropped by full device outboxes before they arrived",
                                      summary->given_up);
      }
      const std::int64_t committed_ms = clock_();
      std::uint64_t published = 0, failed = 0;
      for (const auto& ack : summary->acks) {
        if (!publishes_mqtt_ack(ack)) continue;
        (ack_sink_(ack.device_id, ack.contiguous_seq) ? published : failed) += 1;
      }
      if (own_data) {
        for (const auto& listener : commit_listeners_) listener(batch, *summary);
      }
      std::lock_guard lock(mutex_);
      ++counters_.commits;
      counters_.readings_stored += summary->stored;
      counters_.duplicates += summary->duplicates;
      // Saturates: a device may give up a vast range of its own seqs (docs/protocol.md, oldest_seq).
      counters_.readings_given_up = saturating_add(counters_.readings_given_up, summary->given_up);
      counters_.readings_withdrawn += summary->withdrawn;
      counters_.duplicates_kept += summary->duplicates_kept;
      counters_.acks_published += published;
      counters_.ack_failures += failed;
      for (const auto& reading : batch.readings) {
        const std::int64_t latency_ms = committed_ms - reading.reading.ts_ms;
        latency_.record(latency_ms, ended);
        // A device clock ahead of the gateway's gives a negative latency: counted as none.
        histograms_.reading_commit_latency_s.observe(static_cast<double>(std::max<std::int64_t>(latency_ms, 0)) / 1e3);
      }
      commit_duration_.record(std::chrono::duration_cast<std::chrono::milliseconds>(ended - began).count(), ended);
      histograms_.commit_duration_s.observe(std::chrono::duration<double>(ended - began).count());
      if (!batch.readings.empty()) histograms_.batch_readings.observe(static_cast<double>(batch.readings.size()));
      complete(completions, &*summary);
      return;
    }
    {
      std::lock_guard lock(mutex_);
      ++counters_.commit_failures;
      if (stopping_) {
        log::component("store").error("commit failed during shutdown, {} readings stay unacknowledged: {}",
                                      batch.readings.size(), summary.error().message);
        abandon(completions);
        return;  // not acknowledged, so the devices resend them after the restart
      }
    }
    if (auto suppressed = rejection_log_.admit("commit", SteadyClock::now())) {
      log::component("store").error("commit failed, retrying: {} ({} similar suppressed)", summary.error().message,
                                    *suppressed);
    }
    std::this_thread::sleep_for(options_.commit_retry_delay);
  }
}

void Ingest::complete(std::vector<PendingCompletion>& completions, const store::CommitSummary* summary) {
  if (completions.empty()) return;
  // Indexed once: a commit may hold thousands of devices' acks and as many completions.
  std::map<std::string_view, std::uint64_t> acks;
  if (summary != nullptr) {
    for (const auto& ack : summary->acks) acks[ack.device_id] = ack.contiguous_seq;
  }
  for (auto& pending : completions) {
    std::optional<std::uint64_t> acked;
    if (auto found = acks.find(pending.device_id); found != acks.end()) acked = found->second;
    if (!acked) {
      // The commit did not touch the device (a refused payload, resends only of a peer's
      // readings): its ack is the store's.
      auto stored = store_.acked_seq(pending.device_id);
      if (!stored) {
        const log::Subjects about{{log::SubjectKey::device, pending.device_id}};
        log::component("store").error("cannot read the ack of {}: {}", pending.device_id, stored.error().message);
        pending.done(std::nullopt);
        continue;
      }
      acked = *stored;
    }
    pending.done(*acked);
  }
}

void Ingest::abandon(std::vector<PendingCompletion>& completions) {
  for (auto& pending : completions) pending.done(std::nullopt);
}

}  // namespace kelvin::gateway
