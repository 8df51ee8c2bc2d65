#include "kelvin/linux_port/w1_source.hpp"

#include <algorithm>
#include <system_error>
#include <utility>
#include <vector>

#include "kelvin/device/ds18b20.hpp"
#include "kelvin/linux_port/sensor_values.hpp"
#include "kelvin/linux_port/sysfs.hpp"
#include "kelvin/linux_port/w1_scratchpad.hpp"

namespace kelvin::linux_port {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kFamilyPrefix = "28-";

fs::path devices_dir(const fs::path& sysfs_root) {
  return under_root(sysfs_root, "/sys/bus/w1/devices");
}

}  // namespace

W1Ds18b20Source::W1Ds18b20Source(const std::string& id, const fs::path& sysfs_root)
    : file_(devices_dir(sysfs_root) / id / "w1_slave"), name_("w1:" + id) {}

bool W1Ds18b20Source::is_device_id(std::string_view id) {
  if (id.size() != kFamilyPrefix.size() + 12 || !id.starts_with(kFamilyPrefix)) return false;
  return std::all_of(id.begin() + 3, id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<device::SensorValues> W1Ds18b20Source::read(std::int64_t /*now_ms*/) {
  auto text = read_attribute(file_);
  if (!text) return make_error(text.error().code, name_ + ": " + text.error().message);
  auto scratchpad = parse_w1_slave(*text);
  if (!scratchpad) return make_error(scratchpad.error().code, name_ + ": " + scratchpad.error().message);
  auto celsius = device::decode_ds18b20_scratchpad(*scratchpad);
  if (!celsius) return make_error(celsius.error().code, name_ + ": " + celsius.error().message);
  return temperature_only(*celsius, name_);
}

Result<W1Ds18b20Source> W1Ds18b20Source::discover(const fs::path& sysfs_root) {
  const fs::path dir = devices_dir(sysfs_root);
  std::vector<std::string> ids;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string id = it->path().filename().string();
    if (id.starts_with(kFamilyPrefix)) ids.push_back(std::move(id));
  }
  if (ids.empty()) {
    return make_error(Errc::not_found, "no DS18B20 (28-*) in " + dir.string() +
                                           "; enable 1-Wire (Raspberry Pi: dtoverlay=w1-gpio) or name the sensor's id");
  }
  std::sort(ids.begin(), ids.end());
  return W1Ds18b20Source(ids.front(), sysfs_root);
}

}  // namespace kelvin::linux_port
