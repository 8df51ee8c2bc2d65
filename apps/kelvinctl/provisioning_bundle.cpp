#include "provisioning_bundle.hpp"

#include <unistd.h>

#include <cstdio>
#include <system_error>

#include "kelvin/core/files.hpp"

namespace kelvin::ctl {
namespace fs = std::filesystem;

Result<void> check_bundle_dir_free(const fs::path& dir) {
  std::error_code error;
  const auto status = fs::symlink_status(dir, error);
  if (!fs::exists(status)) return {};
  if (fs::is_directory(status) && fs::is_empty(dir, error) && !error) return {};
  return make_error(Errc::already_exists, "refusing to write the bundle into " + dir.string() +
                                              ": it exists and is not an empty directory; choose another --out "
                                              "or move it away");
}

std::string render_agent_config(const BundleContents& c) {
  const std::string& id = c.device_id;
  return "# kelvin-agent configuration of device " + id +
         ", written by `kelvinctl device add`.\n"
         "# Every key is explained in deploy/agent/agent.example.toml and docs/agent.md. Relative paths\n"
         "# resolve against this file's directory: keep the files of this bundle together.\n"
         "\n"
         "# The device's identity: the CN of " +
         id +
         ".crt.\n"
         "device_id = \"" +
         id +
         "\"\n"
         "\n"
         "# Seconds between readings.\n"
         "interval_s = 10\n"
         "\n"
         "[broker]\n"
         "# The gateway's MQTT broker; the host must be a name in the gateway's server certificate.\n"
         "host = \"" +
         c.broker_host +
         "\"\n"
         "port = " +
         std::to_string(c.broker_port) +
         "\n"
         "ca_file = \"ca.crt\"\n"
         "cert_file = \"" +
         id +
         ".crt\"\n"
         "key_file = \"" +
         id +
         ".key\"    # must stay mode 0600 (chmod 600)\n"
         "\n"
         "# Readings wait in the directory \"outbox\" next to this file until the gateway acknowledges\n"
         "# them. To keep them elsewhere:\n"
         "# [outbox]\n"
         "# dir = \"/var/lib/kelvin-agent\"\n"
         "\n"
         "# The SoC's or another kernel temperature sensor (\"auto\": the first thermal zone that reads).\n"
         "[[sensor]]\n"
         "type = \"hwmon\"\n"
         "path = \"auto\"\n"
         "\n"
         "# Or a DHT11/DHT22 through the kernel's IIO driver, for temperature and humidity. Sensors are\n"
         "# read in the order of this file and the first one that measured a quantity wins, so put it\n"
         "# above the hwmon sensor to prefer it.\n"
         "# [[sensor]]\n"
         "# type = \"iio\"\n"
         "# device = \"auto\"\n"
         "\n"
         "# Or a simulated room, to try kelvin without a sensor.\n"
         "# [[sensor]]\n"
         "# type = \"sim\"\n"
         "# seed = 1\n";
}

Result<std::vector<BundleFile>> write_bundle(const fs::path& dir, const BundleContents& contents) {
  if (auto free = check_bundle_dir_free(dir); !free) return std::move(free).error();
  const fs::path target = fs::absolute(dir).lexically_normal();
  const fs::path staging =
      target.parent_path() / ("." + target.filename().string() + ".partial-" + std::to_string(::getpid()));
  std::error_code ignored;
  fs::remove_all(staging, ignored);  // left over from a run with the same pid that crashed

  auto write_all = [&]() -> Result<void> {
    if (auto made = files::ensure_private_dir(staging); !made) return made;
    if (auto written =
            files::write_file_atomic(staging / "agent.toml", render_agent_config(contents), files::kPublicFileMode);
        !written) {
      return written;
    }
    struct Copy {
      const fs::path& from;
      std::string name;
      mode_t mode;
    };
    for (const Copy& copy : {Copy{contents.ca_certificate, "ca.crt", files::kPublicFileMode},
                             Copy{contents.device_certificate, contents.device_id + ".crt", files::kPublicFileMode},
                             Copy{contents.device_key, contents.device_id + ".key", files::kPrivateFileMode}}) {
      auto content = files::read_file(copy.from);
      if (!content) return std::move(content).error();
      if (auto written = files::write_file_atomic(staging / copy.name, *content, copy.mode); !written) return written;
    }
    // rename(2) replaces a missing or empty directory, and nothing else.
    if (::rename(staging.c_str(), target.c_str()) != 0) return files::error_from_errno("cannot create", target);
    return {};
  };
  if (auto written = write_all(); !written) {
    fs::remove_all(staging, ignored);
    return std::move(written).error();
  }
  return std::vector<BundleFile>{
      {"agent.toml", "agent configuration (broker " + contents.broker_host + ":" +
                         std::to_string(contents.broker_port) + ", sensor hwmon auto)"},
      {"ca.crt", "the installation's CA certificate"},
      {contents.device_id + ".crt", "the device certificate"},
      {contents.device_id + ".key", "its private key (0600): keep it secret"},
  };
}

}  // namespace kelvin::ctl
