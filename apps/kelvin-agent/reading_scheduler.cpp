#include "reading_scheduler.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "kelvin/log/log.hpp"

namespace kelvin::agent {

std::int64_t monotonic_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ReadingScheduler::ReadingScheduler(std::string device_id, ReadingScheduleOptions options, device::Outbox& outbox,
                                   ReadSensors read_sensors)
    : device_id_(std::move(device_id)), options_(options), outbox_(outbox), read_sensors_(std::move(read_sensors)) {}

void ReadingScheduler::run_due(std::int64_t now, device::Session& session) {
  if (!started_) {
    started_ = true;
    next_reading_ms_ = now + options_.first_reading_delay_ms;
  }
  if (taking_readings_ && now >= next_reading_ms_) {
    for (int i = 0; i < options_.readings_per_interval; ++i) take_reading(now, session);
    next_reading_ms_ += options_.interval_ms;
    // After a stall (suspend, overloaded host) skip missed rounds instead of bursting.
    if (next_reading_ms_ < now) next_reading_ms_ = now + options_.interval_ms;
  }
  if (send_waiting_ && (!taking_readings_ || now - last_send_ms_ >= options_.coalesce_ms)) tell(now, session);
}

std::int64_t ReadingScheduler::next_due_ms() const {
  std::int64_t next = kNever;
  if (taking_readings_) next = std::min(next, next_reading_ms_);
  if (send_waiting_) next = std::min(next, last_send_ms_ + options_.coalesce_ms);
  return next;
}

void ReadingScheduler::take_reading(std::int64_t now, device::Session& session) {
  auto values = read_sensors_(wall_clock_ms());
  if (!values) {
    ++counters_.sensor_failures;
    return;
  }
  // Two readings of one device never share a millisecond (bursts, a late loop catching up): a
  // reading's identity in time-series stores such as InfluxDB is (device, time), so the second
  // would overwrite the first there.
  const std::int64_t ts_ms = std::max(wall_clock_ms(), last_reading_ts_ms_ + 1);
  last_reading_ts_ms_ = ts_ms;
  auto seq = outbox_.add(ts_ms, *values);
  if (!seq) {
    ++counters_.outbox_failures;
    log::component("agent", device_id_).error("reading not recorded: {}", seq.error().message);
    return;
  }
  ++counters_.readings_taken;
  if (options_.coalesce_ms == 0 || now - last_send_ms_ >= options_.coalesce_ms) {
    tell(now, session);
  } else {
    send_waiting_ = true;
  }
}

void ReadingScheduler::tell(std::int64_t now, device::Session& session) {
  session.on_reading_added(now);
  last_send_ms_ = now;
  send_waiting_ = false;
}

}  // namespace kelvin::agent
