#include "kelvin/linux_port/sensor_factory.hpp"

#include <string>
#include <utility>

#include "kelvin/linux_port/hwmon_source.hpp"
#include "kelvin/linux_port/iio_source.hpp"
#include "kelvin/linux_port/w1_source.hpp"

namespace kelvin::linux_port {
namespace fs = std::filesystem;
namespace {

using SourcePtr = std::unique_ptr<device::SensorSource>;

template <class Source>
Result<SourcePtr> boxed(Result<Source> source) {
  if (!source) return std::move(source).error();
  return SourcePtr(std::make_unique<Source>(std::move(source).value()));
}

Result<SourcePtr> make_one(const SensorSettings& sensor, const fs::path& sysfs_root,
                           const SimulatedSensorFactory& make_simulated) {
  const bool discover = sensor.location == "auto";
  switch (sensor.type) {
    case SensorType::hwmon:
      if (discover) return boxed(HwmonSource::discover(sysfs_root));
      return SourcePtr(std::make_unique<HwmonSource>(sensor.location, sysfs_root));
    case SensorType::iio:
      if (discover) return boxed(IioDhtSource::discover(sysfs_root));
      return SourcePtr(std::make_unique<IioDhtSource>(sensor.location, sysfs_root));
    case SensorType::w1:
      if (discover) return boxed(W1Ds18b20Source::discover(sysfs_root));
      return SourcePtr(std::make_unique<W1Ds18b20Source>(sensor.location, sysfs_root));
    case SensorType::sim:
      if (!make_simulated) {
        return make_error(Errc::invalid_argument, "the simulated sensor is not available in this program");
      }
      return make_simulated(sensor);
  }
  return make_error(Errc::invalid_argument, "unknown sensor type");
}

}  // namespace

Result<std::vector<SourcePtr>> make_sensor_sources(const AgentConfig& config, const fs::path& sysfs_root,
                                                   const SimulatedSensorFactory& make_simulated) {
  std::vector<SourcePtr> sources;
  std::string problems;
  Errc code = Errc::invalid_argument;
  for (std::size_t i = 0; i < config.sensors.size(); ++i) {
    auto source = make_one(config.sensors[i], sysfs_root, make_simulated);
    if (source && *source) {
      sources.push_back(std::move(source).value());
      continue;
    }
    if (!problems.empty()) problems += '\n';
    problems += config.source.string() + ": sensor[" + std::to_string(i) + "] (" + to_string(config.sensors[i].type) +
                "): " + (source ? std::string("the factory made no source") : source.error().message);
    if (!source) code = source.error().code;
  }
  if (!problems.empty()) return make_error(code, std::move(problems));
  return sources;
}

}  // namespace kelvin::linux_port
