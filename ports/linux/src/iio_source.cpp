#include "kelvin/linux_port/iio_source.hpp"

#include <utility>

#include "kelvin/linux_port/sensor_values.hpp"
#include "kelvin/linux_port/sysfs.hpp"

namespace kelvin::linux_port {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kDevicePrefix = "iio:device";
constexpr std::string_view kDriverName = "dht11";

fs::path devices_dir(const fs::path& sysfs_root) {
  return under_root(sysfs_root, "/sys/bus/iio/devices");
}

}  // namespace

IioDhtSource::IioDhtSource(std::string device, const fs::path& sysfs_root)
    : device_(std::move(device)), directory_(devices_dir(sysfs_root) / device_) {}

bool IioDhtSource::is_device_name(std::string_view device) {
  if (!device.starts_with(kDevicePrefix) || device.size() == kDevicePrefix.size()) return false;
  for (char c : device.substr(kDevicePrefix.size())) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Result<device::SensorValues> IioDhtSource::read(std::int64_t /*now_ms*/) {
  device::SensorValues values{};
  const std::pair<proto::Quantity, const char*> channels[] = {
      {proto::Quantity::temperature, "in_temp_input"},
      {proto::Quantity::humidity, "in_humidityrelative_input"},
  };
  for (const auto& [quantity, file] : channels) {
    auto value = read_milli_attribute(directory_ / file);
    if (!value) return make_error(value.error().code, device_ + ": " + value.error().message);
    auto checked = plausible(quantity, *value, device_);
    if (!checked) return std::move(checked).error();
    values[static_cast<std::size_t>(quantity)] = *checked;
  }
  return values;
}

Result<IioDhtSource> IioDhtSource::discover(const fs::path& sysfs_root) {
  const fs::path dir = devices_dir(sysfs_root);
  for (const auto& device : numbered_entries(dir, kDevicePrefix)) {
    auto name = read_attribute(device / "name");
    if (name && *name == kDriverName) return IioDhtSource(device.filename().string(), sysfs_root);
  }
  return make_error(Errc::not_found, "no IIO device named dht11 in " + dir.string() +
                                         "; enable the driver (Raspberry Pi: dtoverlay=dht11,gpiopin=<pin>) or name "
                                         "the device in the sensor's device");
}

}  // namespace kelvin::linux_port
