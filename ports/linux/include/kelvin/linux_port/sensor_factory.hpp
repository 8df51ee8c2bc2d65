#pragma once
// Builds the configured sensor sources. "auto" locations are discovered here, once, at start-up:
// a sensor that cannot be found is a configuration problem to fix, not something to retry
// forever (systemd restarts the agent, so hardware that appears late is picked up then).

#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/device/sensor_source.hpp"
#include "kelvin/linux_port/agent_config.hpp"

namespace kelvin::linux_port {

// Makes the source for a `type = "sim"` sensor. The simulated sensor lives in the portable core
// (kelvin::device::SimulatedSensor); the agent's main wires it in, e.g.
//   [](const SensorSettings& s) { return std::make_unique<device::SimulatedSensor>(s.seed); }
// so this library needs only libs/device's headers.
using SimulatedSensorFactory = std::function<std::unique_ptr<device::SensorSource>(const SensorSettings&)>;

// One source per configured sensor, in configuration order, reading under `sysfs_root` ("/" in
// production). Errors: every sensor that cannot be built, at once (Errc::not_found for a failed
// discovery, Errc::invalid_argument for "sim" without a factory), one line each.
Result<std::vector<std::unique_ptr<device::SensorSource>>> make_sensor_sources(
    const AgentConfig& config, const std::filesystem::path& sysfs_root = "/",
    const SimulatedSensorFactory& make_simulated = {});

}  // namespace kelvin::linux_port
