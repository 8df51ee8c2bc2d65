#pragma once
// A DS18B20 on the 1-Wire bus through the kernel's w1_therm driver:
// /sys/bus/w1/devices/<id>/w1_slave, where <id> is "28-" and 12 hex digits (family 0x28). Reading
// the file makes the driver start a conversion and wait for it (up to 750 ms at 12 bits).

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "kelvin/device/sensor_source.hpp"

namespace kelvin::linux_port {

class W1Ds18b20Source final : public device::SensorSource {
 public:
  explicit W1Ds18b20Source(const std::string& id, const std::filesystem::path& sysfs_root = "/");

  // The first /sys/bus/w1/devices/28-* (in name order); Errc::not_found if none.
  static Result<W1Ds18b20Source> discover(const std::filesystem::path& sysfs_root = "/");

  // True for "28-" followed by 12 lowercase hex digits, the form the kernel names them in.
  static bool is_device_id(std::string_view id);

  std::string_view name() const override { return name_; }  // "w1:28-00000a1b2c3d"
  Result<device::SensorValues> read(std::int64_t now_ms) override;

 private:
  std::filesystem::path file_;  // w1_slave under the sysfs root
  std::string name_;
};

}  // namespace kelvin::linux_port
