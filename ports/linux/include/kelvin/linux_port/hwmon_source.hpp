#pragma once
// Temperature from a kernel thermal zone or hwmon sensor: a sysfs file holding millidegrees
// Celsius as integer text, e.g. /sys/class/thermal/thermal_zone0/temp (the SoC on most boards)
// or /sys/class/hwmon/hwmon2/temp1_input. Reports temperature only.
//
// hwmonN numbers are assigned in probe order and may change between boots; a configured hwmon
// path is only stable if the board's drivers always probe in the same order ("auto" or a
// thermal zone is the robust choice).

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "kelvin/device/sensor_source.hpp"

namespace kelvin::linux_port {

class HwmonSource final : public device::SensorSource {
 public:
  // `file` is absolute as seen on the device (/sys/...); it is read under `sysfs_root`.
  explicit HwmonSource(std::filesystem::path file, std::filesystem::path sysfs_root = "/");

  // The first /sys/class/thermal/thermal_zone*/temp that reads a plausible value (in zone
  // order), else the first /sys/class/hwmon/hwmon*/temp*_input that does. Errc::not_found when
  // none does, naming what was tried.
  static Result<HwmonSource> discover(const std::filesystem::path& sysfs_root = "/");

  std::string_view name() const override { return name_; }  // "hwmon:/sys/class/thermal/thermal_zone0/temp"
  const std::filesystem::path& file() const { return file_; }
  Result<device::SensorValues> read(std::int64_t now_ms) override;

 private:
  std::filesystem::path file_;
  std::filesystem::path sysfs_root_;
  std::string name_;
};

}  // namespace kelvin::linux_port
