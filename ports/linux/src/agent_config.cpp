#include "kelvin/linux_port/agent_config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "kelvin/config/config_document.hpp"
#include "kelvin/config/log_table.hpp"
#include "kelvin/core/identity.hpp"
#include "kelvin/linux_port/iio_source.hpp"
#include "kelvin/linux_port/w1_source.hpp"
#include "kelvin/proto/release_manifest.hpp"

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

// [broker] and [https] name the device's TLS files alike, with the defaults `kelvinctl pki issue
// device` writes. `device_id` names the certificate files.
template <class Settings>
void read_tls_files(config::TableReader& table, const std::string& device_id, Settings& settings) {
  settings.ca_file = table.path("ca_file", "ca.crt");
  settings.cert_file = table.path("cert_file", device_id + ".crt");
  settings.key_file = table.path("key_file", device_id + ".key");
}

template <class Settings>
void check_tls_files(config::TableReader& table, const Settings& settings) {
  check_readable_file(table, "ca_file", settings.ca_file);
  check_readable_file(table, "cert_file", settings.cert_file);
  check_private_key(table, "key_file", settings.key_file);
}

BrokerSettings read_broker(config::TableReader& broker, const std::string& device_id) {
  BrokerSettings settings;
  settings.host = broker.required_string("host");
  settings.port = broker.integer("port", settings.port, 1, 65'535);
  read_tls_files(broker, device_id, settings);
  settings.keepalive_s = broker.integer("keepalive_s", settings.keepalive_s, 5, 3'600);
  return settings;
}

HttpsSettings read_https(config::TableReader& https, const std::string& device_id) {
  HttpsSettings settings;
  settings.host = https.required_string("host");
  settings.port = https.integer("port", settings.port, 1, 65'535);
  read_tls_files(https, device_id, settings);
  settings.timeout_s = https.integer("timeout_s", settings.timeout_s, 1, 600);
  return settings;
}

UpdateSettings read_update(config::TableReader& update, const AgentConfig& config) {
  UpdateSettings settings;
  settings.enabled = true;
  settings.product = update.required_string("product");
  if (!settings.product.empty() && !proto::is_valid_product_name(settings.product)) {
    update.add_issue("product",
                     "must be 1-64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit");
  }
  settings.release_key = update.path("release_key", "release.pub");
  settings.dir = update.path("dir", "update");
  const bool https = config.transport == TransportKind::https;
  settings.host = update.string("host", https ? config.https.host : config.broker.host);
  settings.port = update.integer("port", https ? config.https.port : settings.port, 1, 65'535);
  settings.check_interval_s = update.integer("check_interval_s", settings.check_interval_s, 0, 604'800);
  if (settings.check_interval_s != 0 && settings.check_interval_s < 10) {
    update.add_issue("check_interval_s", "must be 0 (MQTT notices only) or at least 10 seconds");
  }
  settings.trial_timeout_s = update.integer("trial_timeout_s", settings.trial_timeout_s, 10, 86'400);
  settings.trial_attempts = update.integer("trial_attempts", settings.trial_attempts, 1, 10);
  return settings;
}

}  // namespace

const char* to_string(TransportKind transport) noexcept {
  return transport == TransportKind::https ? "https" : "mqtt";
}

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
  config.transport =
      root.one_of("transport", "mqtt", {"mqtt", "https"}) == "https" ? TransportKind::https : TransportKind::mqtt;

  // Without a valid device id there is no sensible default name for the certificate files.
  const std::string id = config.device_id.empty() ? std::string("device") : config.device_id;
  // The chosen transport's table is required; the other one is refused rather than ignored (a
  // setting with no effect would pass silently), after its keys were read, so mistakes inside it
  // are reported too instead of as "unknown key".
  const bool https = config.transport == TransportKind::https;
  config::TableReader broker = root.table("broker");
  config::TableReader https_table = root.table("https");
  if (!https || broker.present()) config.broker = read_broker(broker, id);
  if (https || https_table.present()) config.https = read_https(https_table, id);
  if (https && broker.present()) {
    broker.add_issue(
        "used only with transport = \"mqtt\"; this agent's transport is \"https\" ([https]): remove "
        "[broker] or set transport = \"mqtt\"");
  }
  if (!https && https_table.present()) {
    https_table.add_issue(
        "used only with transport = \"https\"; this agent's transport is \"mqtt\" ([broker]): "
        "remove [https] or set transport = \"https\"");
  }

  config::TableReader outbox = root.table("outbox");
  config.outbox.dir = outbox.path("dir", "outbox");
  config.outbox.capacity = outbox.integer("capacity", config.outbox.capacity, 1, 1'000'000);

  config::TableReader update = root.table("update");
  if (update.present()) config.update = read_update(update, config);

  config.log_level = config::read_log_level(root, config.log_level);

  for (auto& sensor : root.tables("sensor")) config.sensors.push_back(read_sensor(sensor));
  if (config.sensors.empty()) {
    document->add_issue("sensor", "at least one [[sensor]] is required (type = \"hwmon\" reads the SoC temperature)");
  }

  // File checks last, so a typo in a key name is reported rather than a confusing missing file.
  if (https) {
    check_tls_files(https_table, config.https);
  } else {
    check_tls_files(broker, config.broker);
  }
  if (config.update.enabled) check_readable_file(update, "release_key", config.update.release_key);

  if (auto done = document->finish(); !done) return std::move(done).error();
  return config;
}

}  // namespace kelvin::linux_port
