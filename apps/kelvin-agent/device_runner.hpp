#pragma once
// One device's main loop on Linux: takes readings on schedule into the outbox, and drives the
// portable Session over a libmosquitto connection it (re)opens itself with the session's
// jittered backoff. Single-threaded: MQTT callbacks run inside Client::loop() on this thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "kelvin/device/outbox.hpp"
#include "kelvin/device/random.hpp"
#include "kelvin/device/sensor_source.hpp"
#include "kelvin/device/session.hpp"
#include "kelvin/mqtt/client.hpp"

namespace kelvin::agent {

struct DeviceRunnerOptions {
  device::SessionConfig session;
  mqtt::ClientOptions mqtt;  // client_id, host, port, TLS; the will is set here
  std::int64_t interval_ms = 10'000;
  // Readings taken each interval (load generation: a simulated device faster than one per ms).
  int readings_per_interval = 1;
  // Readings taken within this window go out together in one batch (0: send each at once).
  std::int64_t coalesce_ms = 0;
  std::int64_t poll_interval_ms = 200;
  std::int64_t flush_timeout_ms = 5'000;  // at stop: how long to wait for the last acks
  std::uint64_t random_seed = 0;          // 0: seeded from the device id and the time
};

// Produces one round of sensor values; an error means nothing is recorded this round.
using ReadSensors = std::function<Result<device::SensorValues>(std::int64_t now_ms)>;

struct RunnerCounters {
  std::uint64_t readings_taken = 0;
  std::uint64_t sensor_failures = 0;
  std::uint64_t outbox_failures = 0;
};

class DeviceRunner {
 public:
  DeviceRunner(DeviceRunnerOptions options, device::Outbox& outbox, ReadSensors read_sensors);
  ~DeviceRunner();

  // Creates the MQTT client (TLS files are checked here).
  Result<void> prepare();
  // Runs until `stop` becomes true, then flushes: waits up to flush_timeout_ms for the
  // outstanding acks, publishes the offline status and disconnects cleanly.
  void run(const std::atomic<bool>& stop);

  const device::Session& session() const { return *session_; }
  const RunnerCounters& counters() const { return counters_; }

 private:
  class Transport;
  void take_reading(std::int64_t now_mono_ms);
  void connect(std::int64_t now_mono_ms);
  void service_connection(std::int64_t now_mono_ms, std::int64_t wait_ms);
  void flush_and_disconnect();

  DeviceRunnerOptions options_;
  device::Outbox& outbox_;
  ReadSensors read_sensors_;
  std::unique_ptr<device::SplitMix64Source> random_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<device::Session> session_;
  std::unique_ptr<mqtt::Client> client_;
  bool socket_open_ = false;  // TCP/TLS up (CONNACK may still be pending)
  std::int64_t next_reading_ms_ = 0;
  std::int64_t last_reading_ts_ms_ = 0;  // wall clock ms of the last reading taken
  std::int64_t last_send_ms_ = 0;
  bool send_waiting_ = false;
  RunnerCounters counters_;
};

std::int64_t monotonic_ms();
std::int64_t wall_clock_ms();

}  // namespace kelvin::agent
