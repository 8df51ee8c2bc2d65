#pragma once
// Drives many DeviceRunners on a few threads (kelvin-agent simulate): each worker thread owns a
// share of the devices and waits for all their connections at once with epoll, and for their
// timers with a min-heap, so ten thousand devices need neither ten thousand threads nor select().
//
// Stopping (stop becomes true): devices stop taking readings, the workers go on delivering until
// every outbox is empty or flush_timeout_ms passed, then each device publishes its offline status
// and disconnects cleanly.

#include <atomic>
#include <cstdint>
#include <vector>

#include "device_runner.hpp"

namespace kelvin::agent {

struct FleetOptions {
  int threads = 2;
  std::int64_t flush_timeout_ms = 5'000;
};

// Runs `runners` (prepared, not running) until `stop`; returns when every worker has finished.
void run_fleet(std::vector<DeviceRunner*> runners, const FleetOptions& options, const std::atomic<bool>& stop);

}  // namespace kelvin::agent
