#pragma once
// One device's main loop on Linux with transport = "https" (docs/agent.md): takes readings on
// schedule into the outbox (reading_scheduler.hpp) and drives the portable Session over the
// gateway's HTTPS device routes (linux_port/https_link.hpp), one request at a time, on one thread.
// The MQTT runner (device_runner.hpp) is its sibling; `kelvin-agent simulate` uses only that one.

#include <atomic>
#include <cstdint>
#include <memory>

#include "kelvin/device/outbox.hpp"
#include "kelvin/device/random.hpp"
#include "kelvin/device/session.hpp"
#include "kelvin/linux_port/https_client.hpp"
#include "kelvin/linux_port/https_link.hpp"
#include "reading_scheduler.hpp"
#include "update_agent.hpp"

namespace kelvin::agent {

struct HttpsRunnerOptions {
  device::SessionConfig session;
  linux_port::HttpsClientOptions https;
  ReadingScheduleOptions readings;
  std::int64_t poll_interval_ms = 200;
  std::int64_t flush_timeout_ms = 5'000;    // at stop: how long to wait for the last acks
  std::int64_t offline_timeout_ms = 2'000;  // at stop: how long the offline status may take
  std::uint64_t random_seed = 0;            // 0: seeded from the device id and the time
  // Firmware updates: the runner tells it its health (it sends its statuses itself over HTTPS) and
  // stops when an update is staged.
  UpdateAgent* updates = nullptr;
};

class HttpsDeviceRunner {
 public:
  HttpsDeviceRunner(HttpsRunnerOptions options, device::Outbox& outbox, ReadSensors read_sensors);
  ~HttpsDeviceRunner();

  // Creates the HTTPS client (the TLS files are checked here; nothing connects yet).
  Result<void> prepare();
  // Runs until `stop` becomes true (or an update was staged), then flushes: waits up to flush_timeout_ms for the
  // outstanding acks and tells the gateway the device is offline. Precondition: prepare() succeeded.
  void run(const std::atomic<bool>& stop);

  const RunnerCounters& counters() const { return readings_.counters(); }

 private:
  // Does what is due at `now` and returns when it next needs to run.
  std::int64_t tick(std::int64_t now);
  // Waits until `until` (monotonic ms) or an answer, whichever comes first.
  void wait(std::int64_t now, std::int64_t until);
  bool flushed() const;

  HttpsRunnerOptions options_;
  device::Outbox& outbox_;
  ReadingScheduler readings_;
  std::unique_ptr<device::SplitMix64Source> random_;
  std::unique_ptr<linux_port::HttpsClient> client_;
  std::unique_ptr<linux_port::HttpsLink> link_;
  std::unique_ptr<device::Session> session_;
  std::int64_t next_poll_ms_ = 0;
};

}  // namespace kelvin::agent
