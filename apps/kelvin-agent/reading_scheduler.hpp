#pragma once
// Takes one device's readings on schedule into its outbox and tells its session, which sends
// them: the part of a device's loop that does not depend on the transport, shared by the MQTT
// runner (device_runner.hpp) and the HTTPS runner (https_device_runner.hpp). Single-threaded.

#include <cstdint>
#include <functional>
#include <limits>
#include <string>

#include "kelvin/core/result.hpp"
#include "kelvin/device/outbox.hpp"
#include "kelvin/device/sensor_source.hpp"
#include "kelvin/device/session.hpp"

namespace kelvin::agent {

struct ReadingScheduleOptions {
  std::int64_t interval_ms = 10'000;
  // The first reading is taken this long after the first run_due(): a fleet spreads its devices'
  // readings over the interval instead of all reading in the same millisecond.
  std::int64_t first_reading_delay_ms = 0;
  // Readings taken each interval (load generation: a simulated device faster than one per ms).
  int readings_per_interval = 1;
  // Readings taken within this window go out together in one batch (0: send each at once).
  std::int64_t coalesce_ms = 0;
};

// Produces one round of sensor values; an error means nothing is recorded this round.
using ReadSensors = std::function<Result<device::SensorValues>(std::int64_t now_ms)>;

struct RunnerCounters {
  std::uint64_t readings_taken = 0;
  std::uint64_t sensor_failures = 0;
  std::uint64_t outbox_failures = 0;
};

class ReadingScheduler {
 public:
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

  // `device_id` names the device in logs; `outbox` must outlive the scheduler.
  ReadingScheduler(std::string device_id, ReadingScheduleOptions options, device::Outbox& outbox,
                   ReadSensors read_sensors);

  // Takes the readings due at `now` (monotonic ms) and tells `session` of new ones, at once or,
  // with coalesce_ms, when the window has passed (at once once readings stopped).
  void run_due(std::int64_t now, device::Session& session);
  // When run_due() has something to do next; kNever when nothing (readings stopped, nothing
  // waiting to be told).
  std::int64_t next_due_ms() const;

  // Takes no more readings; run_due() still tells the session of those waiting.
  void stop_taking_readings() { taking_readings_ = false; }
  // Readings were taken that the session has not been told of yet.
  bool send_waiting() const { return send_waiting_; }
  const RunnerCounters& counters() const { return counters_; }

 private:
  void take_reading(std::int64_t now, device::Session& session);
  void tell(std::int64_t now, device::Session& session);

  std::string device_id_;
  ReadingScheduleOptions options_;
  device::Outbox& outbox_;
  ReadSensors read_sensors_;
  bool started_ = false;
  bool taking_readings_ = true;
  std::int64_t next_reading_ms_ = 0;
  std::int64_t last_reading_ts_ms_ = 0;  // wall clock ms of the last reading taken
  std::int64_t last_send_ms_ = 0;
  bool send_waiting_ = false;
  RunnerCounters counters_;
};

std::int64_t monotonic_ms();
std::int64_t wall_clock_ms();

}  // namespace kelvin::agent
