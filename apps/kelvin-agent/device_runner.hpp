#pragma once
// One device's main loop on Linux: takes readings on schedule into the outbox, and drives the
// portable Session over a libmosquitto connection it (re)opens itself with the session's
// jittered backoff. Single-threaded: MQTT callbacks run on the thread that drives the runner.
//
// Two drivers: run() is the loop of one device (kelvin-agent run); tick() and on_socket_ready()
// let an event loop drive thousands of runners on a few threads (kelvin-agent simulate,
// device_fleet.hpp).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "kelvin/device/outbox.hpp"
#include "kelvin/device/random.hpp"
#include "kelvin/device/session.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/mqtt/client.hpp"
#include "reading_scheduler.hpp"
#include "update_agent.hpp"

namespace kelvin::agent {

struct DeviceRunnerOptions {
  device::SessionConfig session;
  mqtt::ClientOptions mqtt;  // client_id, host, port, TLS; the will is set here
  std::int64_t interval_ms = 10'000;
  // The first reading is taken this long after the runner starts: a fleet spreads its devices'
  // readings over the interval instead of all reading in the same millisecond.
  std::int64_t first_reading_delay_ms = 0;
  // Readings taken each interval (load generation: a simulated device faster than one per ms).
  int readings_per_interval = 1;
  // Readings taken within this window go out together in one batch (0: send each at once).
  std::int64_t coalesce_ms = 0;
  std::int64_t poll_interval_ms = 200;
  std::int64_t flush_timeout_ms = 5'000;  // at stop: how long to wait for the last acks
  std::uint64_t random_seed = 0;          // 0: seeded from the device id and the time
  // Firmware updates (kelvin-agent run with [update]): the runner hands it the notices on
  // devices/{id}/ota, its health, and publishes its statuses; it stops when an update is staged.
  UpdateAgent* updates = nullptr;
};

class DeviceRunner {
 public:
  DeviceRunner(DeviceRunnerOptions options, device::Outbox& outbox, ReadSensors read_sensors);
  ~DeviceRunner();

  // Creates the MQTT client (TLS files are checked here).
  Result<void> prepare();
  // Runs until `stop` becomes true (or an update was staged), then flushes: waits up to flush_timeout_ms for the
  // outstanding acks, publishes the offline status and disconnects cleanly.
  void run(const std::atomic<bool>& stop);

  // Event-loop driving. tick() does what is due at `now_mono_ms` (readings, sends, connects,
  // session timeouts) and returns when it next needs to run. While the connection is open, wait
  // for client().socket() (readable; writable while client().wants_write()) and then call
  // on_socket_ready(); call it without waiting while client().has_buffered_input().
  std::int64_t tick(std::int64_t now_mono_ms);
  void on_socket_ready(bool readable, bool writable, std::int64_t now_mono_ms);
  // Stopping: after stop_taking_readings(), tick() only delivers; flushed() says the outbox is
  // empty or nothing can be delivered any more; then say_offline_and_disconnect().
  void stop_taking_readings();
  bool flushed() const;
  void say_offline_and_disconnect();
  mqtt::Client& client() { return *client_; }
  bool socket_open() const { return socket_open_; }
  device::Outbox& outbox() { return outbox_; }

  const device::Session& session() const { return *session_; }
  const RunnerCounters& counters() const { return readings_.counters(); }

 private:
  class Transport;
  void connect(std::int64_t now_mono_ms);
  void service_connection(std::int64_t now_mono_ms, std::int64_t wait_ms);
  void connection_failed(const Error& error, std::int64_t now_mono_ms);
  void flush_and_disconnect();
  void serve_updates();

  DeviceRunnerOptions options_;
  spdlog::logger& log_;  // the device's own (log::component("agent", its id))
  device::Outbox& outbox_;
  ReadingScheduler readings_;
  std::unique_ptr<device::SplitMix64Source> random_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<device::Session> session_;
  std::unique_ptr<mqtt::Client> client_;
  std::string ota_topic_;                  // devices/{id}/ota
  std::string ota_status_topic_;           // devices/{id}/ota/status
  std::set<int> unacknowledged_statuses_;  // update statuses published, not acknowledged yet
  bool socket_open_ = false;               // TCP/TLS up (CONNACK may still be pending)
  bool started_ = false;
  std::int64_t next_poll_ms_ = 0;
};

}  // namespace kelvin::agent
