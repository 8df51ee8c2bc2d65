#include "kelvin/linux_port/agent_config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "kelvin/config/config_document.hpp"
#include "kelvin/core/identity.hpp"
#include "kelvin/linux_port/iio_source.hpp"
#include "kelvin/linux_port/w1_source.hpp"

namespace kelvin::linux_port {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kAuto = "auto";

void check_readable_file(config::TableReader& table, std::string_view key, const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    table.add_issue(key, "cannot use " + path.string() + ": " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    table.add_issue(key, path.string() + " is not a regular file");
  } else if (::access(path.c_str(), R_OK) != 0) {
    table.add_issue(key, "cannot read " + path.string() + ": " + std::strerror(errno));
  }
}

// The private key must be readable by its owner only, like every secret (kelvin::files rules):
// a key others can read is a key others may have copied.
void check_private_key(config::TableReader& table, std::string_view key, const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    table.add_issue(key, "cannot use " + path.string() + ": " + std::strerror(errno));
    return;
  }
  if (S_ISLNK(st.st_mode)) {
    table.add_issue(key, path.string() + " is a symlink; name the key file itself (its own mode is what is checked)");
    return;
  }
  if (!S_ISREG(st.st_mode)) {
    table.add_issue(key, path.string() + " is not a regular file");
    return;
  }
  if ((st.st_mode & 077) != 0) {
    char octal[12];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    table.add_issue(key, path.string() + " has mode " + octal + ": others may read the private key; run chmod 600 " +
                             path.string());
    return;
  }
  if (::access(path.c_str(), R_OK) != 0)
    table.add_issue(key, "cannot read " + path.string() + ": " + std::strerror(errno));
}

SensorSettings read_sensor(config::TableReader& table) {
  SensorSettings sensor;
  const std::string type = table.required_one_of("type", {"hwmon", "iio", "w1", "sim"});
  if (type == "hwmon") {
    sensor.type = SensorType::hwmon;
    sensor.location = table.string("path", std::string(kAuto));
    if (sensor.location != kAuto && !fs::path(sensor.location).is_absolute()) {
      table.add_issue("path", "must be \"auto\" or an absolute path such as /sys/class/thermal/thermal_zone0/temp");
    }
  } else if (type == "iio") {
    sensor.type = SensorType::iio;
    sensor.location = table.string("device", std::string(kAuto));
    if (sensor.location != kAuto && !IioDhtSource::is_device_name(sensor.location)) {
      table.add_issue("device", "must be \"auto\" or an IIO device name such as \"iio:device0\"");
    }
  } else if (type == "w1") {
    sensor.type = SensorType::w1;
    sensor.location = table.string("id", std::string(kAuto));
    if (sensor.location != kAuto && !W1Ds18b20Source::is_device_id(sensor.location)) {
      table.add_issue("id", "must be \"auto\" or a DS18B20 id such as \"28-00000a1b2c3d\" (see /sys/bus/w1/devices)");
    }
  } else if (type == "sim") {
    sensor.type = SensorType::sim;
    sensor.seed = table.integer("seed", sensor.seed);
  }
  // Another type's key (e.g. `id` on a hwmon sensor) is left unread and reported as unknown.
  return sensor;
}

}  // namespace

const char* to_string(SensorType type) noexcept {
  switch (type) {
    case SensorType::hwmon:
      return "hwmon";
    case SensorType::iio:
      return "iio";
    case SensorType::w1:
      return "w1";
    case SensorType::sim:
      return "sim";
  }
  return "?";
}

Result<AgentConfig> load_agent_config(const fs::path& path) {
  auto document = config::ConfigDocument::load(path);
  if (!document) return std::move(document).error();
  AgentConfig config;
  config.source = path;
  config::TableReader root = document->root();

  config.device_id = root.required_string("device_id");
  if (!config.device_id.empty()) {
    if (auto valid = validate_device_id(config.device_id); !valid) {
      root.add_issue("device_id", valid.error().message + " (it must equal the CN of the device certificate)");
    }
  }
  config.interval_s = root.number("interval_s", config.interval_s, 0.1, 86'400);

  config::TableReader broker = root.table("broker");
  config.broker.host = broker.required_string("host");
  config.broker.port = broker.integer("port", config.broker.port, 1, 65'535);
  // Without a valid device id there is no sensible default name for the certificate files.
  const std::string id = config.device_id.empty() ? std::string("device") : config.device_id;
  config.broker.ca_file = broker.path("ca_file", "ca.crt");
  config.broker.cert_file = broker.path("cert_file", id + ".crt");
  config.broker.key_file = broker.path("key_file", id + ".key");
  config.broker.keepalive_s = broker.integer("keepalive_s", config.broker.keepalive_s, 5, 3'600);

  config::TableReader outbox = root.table("outbox");
  config.outbox.dir = outbox.path("dir", "outbox");
  config.outbox.capacity = outbox.integer("capacity", config.outbox.capacity, 1, 1'000'000);

  for (auto& sensor : root.tables("sensor")) config.sensors.push_back(read_sensor(sensor));
  if (config.sensors.empty()) {
    document->add_issue("sensor", "at least one [[sensor]] is required (type = \"hwmon\" reads the SoC temperature)");
  }

  // File checks last, so a typo in a key name is reported rather than a confusing missing file.
  check_readable_file(broker, "ca_file", config.broker.ca_file);
  check_readable_file(broker, "cert_file", config.broker.cert_file);
  check_private_key(broker, "key_file", config.broker.key_file);

  if (auto done = document->finish(); !done) return std::move(done).error();
  return config;
}

}  // namespace kelvin::linux_port
