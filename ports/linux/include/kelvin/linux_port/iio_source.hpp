#pragma once
// Temperature and humidity from the kernel's DHT11 IIO driver (drivers/iio/humidity/dht11.c,
// enabled on a Raspberry Pi with `dtoverlay=dht11,gpiopin=4`; it serves DHT22/AM2302 too):
//   /sys/bus/iio/devices/iio:deviceN/name                        "dht11"
//   /sys/bus/iio/devices/iio:deviceN/in_temp_input               millidegrees Celsius
//   /sys/bus/iio/devices/iio:deviceN/in_humidityrelative_input   milli-percent RH
// Each read makes the driver bit-bang a measurement (it caches a good one for about 2 s). Missed
// edges are common under load: the read then fails with EIO or ETIMEDOUT, which is an error
// here (Errc::io) for the caller to retry, never a value.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "kelvin/device/sensor_source.hpp"

namespace kelvin::linux_port {

class IioDhtSource final : public device::SensorSource {
 public:
  // `device` is the IIO device's directory name, e.g. "iio:device0".
  explicit IioDhtSource(std::string device, const std::filesystem::path& sysfs_root = "/");

  // The first /sys/bus/iio/devices/iio:device* whose `name` is "dht11"; Errc::not_found if none.
  static Result<IioDhtSource> discover(const std::filesystem::path& sysfs_root = "/");

  // True for "iio:device<N>".
  static bool is_device_name(std::string_view device);

  std::string_view name() const override { return device_; }  // "iio:device0"
  // Both quantities or an error: the driver takes them from one measurement, so half a result
  // would only hide a failing sensor.
  Result<device::SensorValues> read(std::int64_t now_ms) override;

 private:
  std::string device_;
  std::filesystem::path directory_;  // under the sysfs root
};

}  // namespace kelvin::linux_port
