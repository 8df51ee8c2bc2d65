#include "kelvin/linux_port/hwmon_source.hpp"

#include <utility>
#include <vector>

#include "kelvin/linux_port/sensor_values.hpp"
#include "kelvin/linux_port/sysfs.hpp"

namespace kelvin::linux_port {
namespace fs = std::filesystem;

HwmonSource::HwmonSource(fs::path file, fs::path sysfs_root)
    : file_(std::move(file)), sysfs_root_(std::move(sysfs_root)), name_("hwmon:" + file_.string()) {}

Result<device::SensorValues> HwmonSource::read(std::int64_t /*now_ms*/) {
  auto celsius = read_milli_attribute(under_root(sysfs_root_, file_));
  if (!celsius) return make_error(celsius.error().code, name_ + ": " + celsius.error().message);
  return temperature_only(*celsius, name_);
}

Result<HwmonSource> HwmonSource::discover(const fs::path& sysfs_root) {
  std::vector<fs::path> candidates;
  const fs::path thermal = "/sys/class/thermal";
  for (const auto& zone : numbered_entries(under_root(sysfs_root, thermal), "thermal_zone")) {
    candidates.push_back(thermal / zone.filename() / "temp");
  }
  const fs::path hwmon = "/sys/class/hwmon";
  for (const auto& device : numbered_entries(under_root(sysfs_root, hwmon), "hwmon")) {
    for (const auto& input : numbered_entries(device, "temp", "_input")) {
      candidates.push_back(hwmon / device.filename() / input.filename());
    }
  }
  for (auto& candidate : candidates) {
    HwmonSource source(std::move(candidate), sysfs_root);
    if (source.read(0).ok()) return source;
  }
  return make_error(Errc::not_found, "no readable temperature in " + under_root(sysfs_root, thermal).string() +
                                         "/thermal_zone*/temp or " + under_root(sysfs_root, hwmon).string() +
                                         "/hwmon*/temp*_input (" + std::to_string(candidates.size()) +
                                         " tried); name a file in the sensor's path");
}

}  // namespace kelvin::linux_port
