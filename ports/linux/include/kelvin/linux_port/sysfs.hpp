#pragma once
// Reading sysfs attributes. Every sensor source takes a `sysfs_root` ("/" in production) and
// reads "<root>/sys/...", so tests build fake trees in temp dirs and a container can point at a
// bind-mounted /sys.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/core/result.hpp"

namespace kelvin::linux_port {

// `target` (an absolute path as seen on the device, e.g. /sys/class/thermal) under `root`.
std::filesystem::path under_root(const std::filesystem::path& root, const std::filesystem::path& target);

// The text of a sysfs attribute without trailing whitespace. Errors are those of the read: a
// driver that fails a measurement returns EIO or ETIMEDOUT from read() (the kernel's DHT11 IIO
// driver does so on a missed edge), which becomes Errc::io with strerror in the message.
Result<std::string> read_attribute(const std::filesystem::path& path);

// A sysfs attribute holding an integer in thousandths (millidegrees Celsius, milli-%RH, ...),
// returned in units: "23125\n" -> 23.125.
Result<double> read_milli_attribute(const std::filesystem::path& path);

// The entries of `dir` named `prefix` followed by a number ("thermal_zone" -> thermal_zone0,
// thermal_zone10, ...) ordered by that number (thermal_zone2 before thermal_zone10). A missing
// or unreadable directory has none.
std::vector<std::filesystem::path> numbered_entries(const std::filesystem::path& dir, std::string_view prefix,
                                                    std::string_view suffix = {});

}  // namespace kelvin::linux_port
