#pragma once
// kelvin-agent's configuration (TOML; annotated example: deploy/agent/agent.example.toml).
// Loaded with libs/config: defaults below, every problem reported at once, unknown keys refused.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "kelvin/core/result.hpp"

namespace kelvin::linux_port {

// How readings travel to the gateway: MQTT through its broker ([broker]), or its HTTPS device
// routes ([https]) for networks that let only HTTPS through. Same outbox, acks and guarantee.
enum class TransportKind { mqtt, https };

struct BrokerSettings {
  std::string host;  // required with transport = "mqtt"
  std::uint16_t port = 8883;
  // Relative paths in the file resolve against the config file's directory. The defaults match
  // what `kelvinctl pki issue device <id>` writes, copied next to the config.
  std::filesystem::path ca_file;    // default "ca.crt"
  std::filesystem::path cert_file;  // default "<device_id>.crt"
  std::filesystem::path key_file;   // default "<device_id>.key"; must be mode 0600 (checked at load)
  std::uint32_t keepalive_s = 30;   // 5..3600
};

struct HttpsSettings {
  std::string host;  // required with transport = "https"; must match the gateway's certificate
  std::uint16_t port = 8443;
  // As in BrokerSettings: relative to the config file's directory, same defaults.
  std::filesystem::path ca_file;
  std::filesystem::path cert_file;
  std::filesystem::path key_file;  // must be mode 0600 (checked at load)
  // One request from connecting to the answer, 1..600 s; connecting alone gets at most 10 s of it.
  std::uint32_t timeout_s = 30;
};

struct OutboxSettings {
  std::filesystem::path dir;       // default: "outbox" next to the config file
  std::size_t capacity = 100'000;  // readings kept until acknowledged (1..1,000,000); oldest dropped beyond
};

// Firmware updates (docs/ota.md, "The agent's updates"); on when the [update] table is present.
// They need the boot step: the agent runs under `kelvin-agent boot`, which starts the slot the
// boot record names.
struct UpdateSettings {
  bool enabled = false;
  std::string product;                // required: the product this firmware is (release manifests name it)
  std::filesystem::path release_key;  // the pinned release public key (PEM); default "release.pub"
  std::filesystem::path dir;          // slots and boot record; default "update" next to the config file
  // The gateway's HTTPS server, where releases are fetched, with the transport's TLS files.
  // Defaults: [https]'s host and port with transport = "https", else [broker]'s host and 8443.
  std::string host;
  std::uint16_t port = 8443;
  std::uint32_t check_interval_s = 3600;  // asking the gateway for an update; 0: MQTT notices only
  std::uint32_t trial_timeout_s = 300;    // a new image must confirm itself within this, 10..86400
  std::uint32_t trial_attempts = 3;       // starts a new image gets before it is rolled back, 1..10
};

enum class SensorType { hwmon, iio, w1, sim };

struct SensorSettings {
  SensorType type = SensorType::hwmon;
  // hwmon: "auto" or an absolute sysfs file (key `path`); iio: "auto" or "iio:deviceN" (key
  // `device`); w1: "auto" or "28-xxxxxxxxxxxx" (key `id`); sim: unused.
  std::string location = "auto";
  std::uint64_t seed = 1;  // sim only
};

struct AgentConfig {
  std::filesystem::path source;  // the file it was loaded from
  std::string device_id;         // required; must equal the certificate's CN
  double interval_s = 10;        // seconds between readings, 0.1..86400 (fractions for fast sensors and tests)
  TransportKind transport = TransportKind::mqtt;
  BrokerSettings broker;  // read with transport = "mqtt" (the [broker] table is refused otherwise)
  HttpsSettings https;    // read with transport = "https" (the [https] table is refused otherwise)
  OutboxSettings outbox;
  UpdateSettings update;
  std::vector<SensorSettings> sensors;  // at least one, in the order they are merged
  std::string log_level = "info";       // [log] level: trace, debug, info, warn or error
};

const char* to_string(SensorType type) noexcept;
const char* to_string(TransportKind transport) noexcept;

// Loads and validates `path`. Besides types and ranges it checks the device id grammar
// (kelvin::validate_device_id), that the CA and certificate files of the chosen transport exist
// and that its key file is a regular file readable only by its owner (with a chmod hint
// otherwise), and that only the chosen transport's table is present. Every problem comes
// back at once in one Error (Errc::invalid_argument, one line per problem); a missing or
// unparsable file is reported alone.
Result<AgentConfig> load_agent_config(const std::filesystem::path& path);

}  // namespace kelvin::linux_port
