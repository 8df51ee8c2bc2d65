#include "kelvin/linux_port/agent_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::linux_port {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// A config directory with the files a device installation has: CA, certificate, private key.
class AgentConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write(dir_ / "ca.crt", "CA\n", 0644);
    write(dir_ / "sensor-01.crt", "CERT\n", 0644);
    write(dir_ / "sensor-01.key", "KEY\n", 0600);
  }

  static void write(const fs::path& path, const std::string& text, mode_t mode) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    ::chmod(path.c_str(), mode);
  }

  Result<AgentConfig> load(const std::string& toml) {
    write(config_path(), toml, 0644);
    return load_agent_config(config_path());
  }

  // The error message of a load that must fail.
  std::string problems(const std::string& toml) {
    auto config = load(toml);
    if (config) return "(loaded)";
    EXPECT_EQ(config.error().code, Errc::invalid_argument);
    return config.error().message;
  }

  fs::path config_path() const { return dir_ / "agent.toml"; }

  kelvin::testing::TempDir dir_;
};

const std::string kMinimal =
    "device_id = \"sensor-01\"\n"
    "[broker]\nhost = \"gateway.local\"\n"
    "[[sensor]]\ntype = \"hwmon\"\n";

TEST_F(AgentConfigTest, MinimalConfigGetsTheDefaults) {
  auto config = load(kMinimal);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->source, config_path());
  EXPECT_EQ(config->device_id, "sensor-01");
  EXPECT_EQ(config->interval_s, 10.0);
  EXPECT_EQ(config->broker.host, "gateway.local");
  EXPECT_EQ(config->broker.port, 8883);
  EXPECT_EQ(config->broker.keepalive_s, 30u);
  EXPECT_EQ(config->broker.ca_file, dir_ / "ca.crt");
  EXPECT_EQ(config->broker.cert_file, dir_ / "sensor-01.crt");  // named after the device id
  EXPECT_EQ(config->broker.key_file, dir_ / "sensor-01.key");
  EXPECT_EQ(config->outbox.dir, dir_ / "outbox");
  EXPECT_EQ(config->outbox.capacity, 100'000u);
  ASSERT_EQ(config->sensors.size(), 1u);
  EXPECT_EQ(config->sensors[0].type, SensorType::hwmon);
  EXPECT_EQ(config->sensors[0].location, "auto");
}

TEST_F(AgentConfigTest, EverySettingIsRead) {
  fs::create_directories(dir_ / "tls");
  write(dir_ / "tls" / "root.pem", "CA\n", 0644);
  write(dir_ / "tls" / "me.pem", "CERT\n", 0644);
  write(dir_ / "tls" / "me.key", "KEY\n", 0400);
  auto config = load(
      "device_id = \"greenhouse-3\"\ninterval_s = 60\n"
      "[broker]\nhost = \"10.0.0.2\"\nport = 18883\nca_file = \"tls/root.pem\"\ncert_file = \"tls/me.pem\"\n"
      "key_file = \"tls/me.key\"\nkeepalive_s = 120\n"
      "[outbox]\ndir = \"/var/lib/kelvin-agent\"\ncapacity = 500\n"
      "[[sensor]]\ntype = \"w1\"\nid = \"28-00000a1b2c3d\"\n"
      "[[sensor]]\ntype = \"iio\"\ndevice = \"iio:device1\"\n"
      "[[sensor]]\ntype = \"hwmon\"\npath = \"/sys/class/hwmon/hwmon2/temp1_input\"\n"
      "[[sensor]]\ntype = \"sim\"\nseed = 42\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->device_id, "greenhouse-3");
  EXPECT_EQ(config->interval_s, 60.0);
  EXPECT_EQ(config->broker.host, "10.0.0.2");
  EXPECT_EQ(config->broker.port, 18883);
  EXPECT_EQ(config->broker.ca_file, dir_ / "tls" / "root.pem");
  EXPECT_EQ(config->broker.cert_file, dir_ / "tls" / "me.pem");
  EXPECT_EQ(config->broker.key_file, dir_ / "tls" / "me.key");
  EXPECT_EQ(config->broker.keepalive_s, 120u);
  EXPECT_EQ(config->outbox.dir, fs::path("/var/lib/kelvin-agent"));
  EXPECT_EQ(config->outbox.capacity, 500u);
  ASSERT_EQ(config->sensors.size(), 4u);
  EXPECT_EQ(config->sensors[0].type, SensorType::w1);
  EXPECT_EQ(config->sensors[0].location, "28-00000a1b2c3d");
  EXPECT_EQ(config->sensors[1].type, SensorType::iio);
  EXPECT_EQ(config->sensors[1].location, "iio:device1");
  EXPECT_EQ(config->sensors[2].type, SensorType::hwmon);
  EXPECT_EQ(config->sensors[2].location, "/sys/class/hwmon/hwmon2/temp1_input");
  EXPECT_EQ(config->sensors[3].type, SensorType::sim);
  EXPECT_EQ(config->sensors[3].seed, 42u);
}

TEST_F(AgentConfigTest, TheLogLevelIsReadAndOnlyTheConfigsNamesAreTaken) {
  auto defaults = load(kMinimal);
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ(defaults->log_level, "info");
  auto quiet = load(kMinimal + "[log]\nlevel = \"warn\"\n");
  ASSERT_TRUE(quiet.ok()) << quiet.error().message;
  EXPECT_EQ(quiet->log_level, "warn");
  EXPECT_THAT(problems(kMinimal + "[log]\nlevel = \"warning\"\n"), HasSubstr("log.level"));
  EXPECT_THAT(problems(kMinimal + "[log]\nformat = \"text\"\n"), HasSubstr("log.format: unknown key"));
}

TEST_F(AgentConfigTest, TheDeviceIdFollowsTheIdentityGrammar) {
  EXPECT_THAT(problems("device_id = \"Sensor 01\"\n[broker]\nhost = \"h\"\n[[sensor]]\ntype = \"hwmon\"\n"),
              HasSubstr("agent.toml:1:13: device_id: invalid device id 'Sensor 01'"));
  EXPECT_THAT(problems("device_id = \"svc-gateway\"\n[broker]\nhost = \"h\"\n[[sensor]]\ntype = \"hwmon\"\n"),
              HasSubstr("reserved for services"));
}

TEST_F(AgentConfigTest, AKeyReadableByOthersIsRefusedWithAChmodHint) {
  ::chmod((dir_ / "sensor-01.key").c_str(), 0640);
  const std::string message = problems(kMinimal);
  EXPECT_THAT(message, HasSubstr("broker.key_file: " + (dir_ / "sensor-01.key").string() + " has mode 0640"));
  EXPECT_THAT(message, HasSubstr("chmod 600 " + (dir_ / "sensor-01.key").string()));
}

TEST_F(AgentConfigTest, AKeySymlinkIsRefused) {
  fs::rename(dir_ / "sensor-01.key", dir_ / "real.key");
  fs::create_symlink(dir_ / "real.key", dir_ / "sensor-01.key");
  EXPECT_THAT(problems(kMinimal), HasSubstr("broker.key_file: " + (dir_ / "sensor-01.key").string() + " is a symlink"));
}

TEST_F(AgentConfigTest, MissingCertificateFilesAreReported) {
  fs::remove(dir_ / "ca.crt");
  fs::remove(dir_ / "sensor-01.crt");
  fs::remove(dir_ / "sensor-01.key");
  const std::string message = problems(kMinimal);
  EXPECT_THAT(message, HasSubstr("broker.ca_file: cannot use " + (dir_ / "ca.crt").string() + ": No such file"));
  EXPECT_THAT(message, HasSubstr("broker.cert_file: cannot use " + (dir_ / "sensor-01.crt").string()));
  EXPECT_THAT(message, HasSubstr("broker.key_file: cannot use " + (dir_ / "sensor-01.key").string()));
}

TEST_F(AgentConfigTest, AtLeastOneSensorIsRequired) {
  EXPECT_THAT(problems("device_id = \"sensor-01\"\n[broker]\nhost = \"h\"\n"),
              HasSubstr("sensor: at least one [[sensor]] is required"));
}

TEST_F(AgentConfigTest, SensorLocationsAreValidatedPerType) {
  const std::string message = problems(
      "device_id = \"sensor-01\"\n[broker]\nhost = \"h\"\n"
      "[[sensor]]\ntype = \"hwmon\"\npath = \"thermal_zone0/temp\"\n"
      "[[sensor]]\ntype = \"iio\"\ndevice = \"/dev/iio:device0\"\n"
      "[[sensor]]\ntype = \"w1\"\nid = \"28-../../etc\"\n"
      "[[sensor]]\ntype = \"dht22\"\n"
      "[[sensor]]\ntype = \"hwmon\"\nid = \"28-00000a1b2c3d\"\n");  // another type's key
  EXPECT_THAT(message, HasSubstr("agent.toml:6:8: sensor[0].path: must be \"auto\" or an absolute path"));
  EXPECT_THAT(message, HasSubstr("agent.toml:9:10: sensor[1].device: must be \"auto\" or an IIO device name"));
  EXPECT_THAT(message, HasSubstr("agent.toml:12:6: sensor[2].id: must be \"auto\" or a DS18B20 id"));
  EXPECT_THAT(message,
              HasSubstr("agent.toml:14:8: sensor[3].type: must be one of \"hwmon\", \"iio\", \"w1\", \"sim\""));
  EXPECT_THAT(message, HasSubstr("agent.toml:17:1: sensor[4].id: unknown key"));
}

TEST_F(AgentConfigTest, EveryProblemIsReportedAtOnce) {
  const std::string message = problems(
      "device_id = \"\"\n"      // 1: empty
      "interval_s = 0\n"        // 2: out of range
      "intervall_s = 5\n"       // 3: unknown
      "[broker]\n"              // 4: host missing
      "port = 70000\n"          // 5: out of range
      "keepalive_s = \"30\"\n"  // 6: wrong type
      "[outbox]\n"
      "capacity = 0\n"  // 8: out of range
      "[logging]\n"     // 9: unknown table
      "level = \"debug\"\n");
  EXPECT_THAT(message, HasSubstr("agent.toml:1:13: device_id: must not be empty"));
  EXPECT_THAT(message, HasSubstr("agent.toml:2:14: interval_s: must be between 0.1 and 86400, found 0"));
  EXPECT_THAT(message, HasSubstr("agent.toml:3:1: intervall_s: unknown key"));
  EXPECT_THAT(message, HasSubstr("agent.toml:4:1: broker.host: required key is missing"));
  EXPECT_THAT(message, HasSubstr("agent.toml:5:8: broker.port: must be between 1 and 65535, found 70000"));
  EXPECT_THAT(message, HasSubstr("agent.toml:6:15: broker.keepalive_s: expected an integer, found a string"));
  EXPECT_THAT(message, HasSubstr("agent.toml:8:12: outbox.capacity: must be between 1 and 1000000, found 0"));
  EXPECT_THAT(message, HasSubstr("agent.toml:9:2: logging: unknown key"));
  EXPECT_THAT(message, HasSubstr("sensor: at least one [[sensor]] is required"));
  // Ordered by position in the file, one problem per line.
  EXPECT_LT(message.find(":1:13:"), message.find(":2:14:"));
  EXPECT_LT(message.find(":8:12:"), message.find(":9:2:"));
  EXPECT_GE(std::count(message.begin(), message.end(), '\n'), 8);
}

TEST_F(AgentConfigTest, ASyntaxErrorIsReportedWithItsLine) {
  auto config = load("device_id = \"sensor-01\"\n[broker\n");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error().message, ::testing::StartsWith(config_path().string() + ":2:"));
}

TEST_F(AgentConfigTest, AMissingFileIsNotFound) {
  auto config = load_agent_config(dir_ / "absent.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, Errc::not_found);
}

std::string example_text() {
  std::ifstream in(fs::path(KELVIN_SOURCE_DIR) / "deploy" / "agent" / "agent.example.toml");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(AgentConfigTest, TheAnnotatedExampleLoads) {
  const std::string text = example_text();
  ASSERT_FALSE(text.empty()) << "deploy/agent/agent.example.toml not found";
  auto config = load(text);  // its relative files are the ones SetUp created next to it
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->device_id, "sensor-01");
  EXPECT_EQ(config->transport, TransportKind::mqtt);
  EXPECT_EQ(config->broker.host, "gateway.local");
  EXPECT_EQ(config->broker.key_file, dir_ / "sensor-01.key");
  EXPECT_EQ(config->outbox.dir, fs::path("/var/lib/kelvin-agent"));
  ASSERT_EQ(config->sensors.size(), 1u);
  EXPECT_EQ(config->sensors[0].type, SensorType::hwmon);
}

TEST_F(AgentConfigTest, TheExamplesCommentedSensorsLoadWhenEnabled) {
  // Uncomment the optional [[sensor]] blocks: each must be valid as written.
  const std::regex commented_sensor_line("# (\\[\\[sensor\\]\\]|type =|device =|id =|seed =)(.*)");
  std::istringstream example(example_text());
  std::string text;
  for (std::string line; std::getline(example, line);) {
    std::smatch match;
    text += (std::regex_match(line, match, commented_sensor_line) ? match[1].str() + match[2].str() : line) + "\n";
  }
  auto config = load(text);
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_EQ(config->sensors.size(), 4u);
  EXPECT_EQ(config->sensors[1].type, SensorType::iio);
  EXPECT_EQ(config->sensors[2].type, SensorType::w1);
  EXPECT_EQ(config->sensors[3].type, SensorType::sim);
}

// ---- transport --------------------------------------------------------------------------------

TEST_F(AgentConfigTest, MqttIsTheDefaultTransport) {
  auto config = load(kMinimal);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->transport, TransportKind::mqtt);
  auto said = load("transport = \"mqtt\"\n" + kMinimal);
  ASSERT_TRUE(said.ok()) << said.error().message;
  EXPECT_EQ(said->transport, TransportKind::mqtt);
}

TEST_F(AgentConfigTest, HttpsTransportReadsItsTableWithTheDefaults) {
  auto config = load(
      "device_id = \"sensor-01\"\ntransport = \"https\"\n"
      "[https]\nhost = \"gateway.local\"\n"
      "[[sensor]]\ntype = \"hwmon\"\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->transport, TransportKind::https);
  EXPECT_EQ(config->https.host, "gateway.local");
  EXPECT_EQ(config->https.port, 8443);
  EXPECT_EQ(config->https.timeout_s, 30u);
  EXPECT_EQ(config->https.ca_file, dir_ / "ca.crt");
  EXPECT_EQ(config->https.cert_file, dir_ / "sensor-01.crt");
  EXPECT_EQ(config->https.key_file, dir_ / "sensor-01.key");
  EXPECT_TRUE(config->broker.host.empty()) << "no [broker] was read";
}

TEST_F(AgentConfigTest, EveryHttpsSettingIsRead) {
  fs::create_directories(dir_ / "tls");
  write(dir_ / "tls" / "root.pem", "CA\n", 0644);
  write(dir_ / "tls" / "me.pem", "CERT\n", 0644);
  write(dir_ / "tls" / "me.key", "KEY\n", 0600);
  auto config = load(
      "device_id = \"sensor-01\"\ntransport = \"https\"\n"
      "[https]\nhost = \"10.0.0.2\"\nport = 9443\nca_file = \"tls/root.pem\"\ncert_file = \"tls/me.pem\"\n"
      "key_file = \"tls/me.key\"\ntimeout_s = 120\n"
      "[[sensor]]\ntype = \"sim\"\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->https.host, "10.0.0.2");
  EXPECT_EQ(config->https.port, 9443);
  EXPECT_EQ(config->https.ca_file, dir_ / "tls" / "root.pem");
  EXPECT_EQ(config->https.cert_file, dir_ / "tls" / "me.pem");
  EXPECT_EQ(config->https.key_file, dir_ / "tls" / "me.key");
  EXPECT_EQ(config->https.timeout_s, 120u);
}

TEST_F(AgentConfigTest, HttpsNeedsItsHostItsFilesAndSaneValues) {
  ::chmod((dir_ / "sensor-01.key").c_str(), 0644);
  fs::remove(dir_ / "ca.crt");
  const std::string message = problems(
      "device_id = \"sensor-01\"\ntransport = \"https\"\n"
      "[https]\nport = 0\ntimeout_s = 0\n"
      "[[sensor]]\ntype = \"hwmon\"\n");
  EXPECT_THAT(message, HasSubstr("agent.toml:3:1: https.host: required key is missing"));
  EXPECT_THAT(message, HasSubstr("agent.toml:4:8: https.port: must be between 1 and 65535, found 0"));
  EXPECT_THAT(message, HasSubstr("agent.toml:5:13: https.timeout_s: must be between 1 and 600, found 0"));
  EXPECT_THAT(message, HasSubstr("https.ca_file: cannot use " + (dir_ / "ca.crt").string()));
  EXPECT_THAT(message, HasSubstr("https.key_file: " + (dir_ / "sensor-01.key").string() + " has mode 0644"));

  EXPECT_THAT(problems("device_id = \"sensor-01\"\ntransport = \"https\"\n[[sensor]]\ntype = \"hwmon\"\n"),
              HasSubstr("https.host: required key is missing"));
}

TEST_F(AgentConfigTest, OnlyTheChosenTransportsTableMayBePresent) {
  const std::string https_with_broker = problems(
      "device_id = \"sensor-01\"\ntransport = \"https\"\n"
      "[broker]\nhost = \"gateway.local\"\n"
      "[https]\nhost = \"gateway.local\"\n"
      "[[sensor]]\ntype = \"hwmon\"\n");
  EXPECT_THAT(https_with_broker, HasSubstr("agent.toml:3:1: broker: used only with transport = \"mqtt\""));
  EXPECT_THAT(https_with_broker, Not(HasSubstr("unknown key"))) << "its keys are known, the table is misplaced";

  const std::string mqtt_with_https = problems(kMinimal + "[https]\nhost = \"gateway.local\"\nprot = 1\n");
  EXPECT_THAT(mqtt_with_https, HasSubstr("https: used only with transport = \"https\""));
  EXPECT_THAT(mqtt_with_https, HasSubstr("https.prot: unknown key"));
}

TEST_F(AgentConfigTest, AnUnknownTransportIsRefusedWithTheChoices) {
  EXPECT_THAT(problems("transport = \"http\"\n" + kMinimal),
              HasSubstr("agent.toml:1:13: transport: must be one of \"mqtt\", \"https\""));
}

// The example with the commented block that starts with "# <table>" (up to the next blank line)
// enabled.
std::string with_commented_table_enabled(const std::string& example, const std::string& table) {
  std::istringstream lines(example);
  std::string text;
  bool in_table = false;
  for (std::string line; std::getline(lines, line);) {
    if (line == "# " + table) in_table = true;
    if (line.empty()) in_table = false;
    if (in_table && line.rfind("# ", 0) == 0) line.erase(0, 2);
    text += line + "\n";
  }
  return text;
}

TEST_F(AgentConfigTest, TheExamplesHttpsTableLoadsWhenChosen) {
  // transport = "https", the commented [https] block enabled, [broker] (up to the blank line) gone.
  std::istringstream example(with_commented_table_enabled(example_text(), "[https]"));
  std::string text;
  bool in_broker = false;
  for (std::string line; std::getline(example, line);) {
    if (line == "[broker]") in_broker = true;
    if (in_broker) {
      in_broker = !line.empty();
      continue;
    }
    if (line == "transport = \"mqtt\"") line = "transport = \"https\"";
    text += line + "\n";
  }
  auto config = load(text);
  ASSERT_TRUE(config.ok()) << config.error().message << "\n" << text;
  EXPECT_EQ(config->transport, TransportKind::https);
  EXPECT_EQ(config->https.host, "gateway.local");
  EXPECT_EQ(config->https.port, 8443);
  EXPECT_EQ(config->https.key_file, dir_ / "sensor-01.key");
  EXPECT_EQ(config->https.timeout_s, 30u);
}

TEST_F(AgentConfigTest, UpdatesAreOffWithoutTheirTable) {
  auto config = load(kMinimal);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_FALSE(config->update.enabled);
}

TEST_F(AgentConfigTest, TheUpdateTableGetsItsDefaultsFromTheTransport) {
  write(dir_ / "release.pub", "PUB\n", 0644);
  auto mqtt = load(kMinimal + "[update]\nproduct = \"thermo-linux\"\n");
  ASSERT_TRUE(mqtt.ok()) << mqtt.error().message;
  EXPECT_TRUE(mqtt->update.enabled);
  EXPECT_EQ(mqtt->update.product, "thermo-linux");
  EXPECT_EQ(mqtt->update.release_key, dir_ / "release.pub");
  EXPECT_EQ(mqtt->update.dir, dir_ / "update");
  EXPECT_EQ(mqtt->update.host, "gateway.local") << "the broker's host";
  EXPECT_EQ(mqtt->update.port, 8443);
  EXPECT_EQ(mqtt->update.check_interval_s, 3600u);
  EXPECT_EQ(mqtt->update.trial_timeout_s, 300u);
  EXPECT_EQ(mqtt->update.trial_attempts, 3u);

  auto https = load(
      "device_id = \"sensor-01\"\ntransport = \"https\"\n"
      "[https]\nhost = \"gw.example\"\nport = 9443\n"
      "[update]\nproduct = \"p\"\n"
      "[[sensor]]\ntype = \"hwmon\"\n");
  ASSERT_TRUE(https.ok()) << https.error().message;
  EXPECT_EQ(https->update.host, "gw.example");
  EXPECT_EQ(https->update.port, 9443);
}

TEST_F(AgentConfigTest, EveryUpdateSettingIsRead) {
  write(dir_ / "keys.pem", "PUB\n", 0644);
  auto config = load(kMinimal +
                     "[update]\nproduct = \"p\"\nrelease_key = \"keys.pem\"\ndir = \"/var/lib/x\"\nhost = \"h\"\n"
                     "port = 1443\ncheck_interval_s = 0\ntrial_timeout_s = 60\ntrial_attempts = 1\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->update.release_key, dir_ / "keys.pem");
  EXPECT_EQ(config->update.dir, fs::path("/var/lib/x"));
  EXPECT_EQ(config->update.host, "h");
  EXPECT_EQ(config->update.port, 1443);
  EXPECT_EQ(config->update.check_interval_s, 0u);
  EXPECT_EQ(config->update.trial_timeout_s, 60u);
  EXPECT_EQ(config->update.trial_attempts, 1u);
}

TEST_F(AgentConfigTest, TheExamplesUpdateTableLoadsWhenEnabled) {
  write(dir_ / "release.pub", "PUB\n", 0644);
  auto config = load(with_commented_table_enabled(example_text(), "[update]"));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_TRUE(config->update.enabled);
  EXPECT_EQ(config->update.product, "thermo-linux");
  EXPECT_EQ(config->update.host, "gateway.local");
}

TEST_F(AgentConfigTest, TheUpdateTableNeedsAProductAKeyAndSaneTimes) {
  const std::string message =
      problems(kMinimal + "[update]\ncheck_interval_s = 5\ntrial_timeout_s = 1\ntrial_attempts = 0\n");
  EXPECT_THAT(message, HasSubstr("update.product: required key is missing"));
  EXPECT_THAT(message, HasSubstr("update.check_interval_s: must be 0 (MQTT notices only) or at least 10 seconds"));
  EXPECT_THAT(message, HasSubstr("update.trial_timeout_s: must be between 10 and 86400"));
  EXPECT_THAT(message, HasSubstr("update.trial_attempts: must be between 1 and 10"));
  EXPECT_THAT(message, HasSubstr("update.release_key: cannot use " + (dir_ / "release.pub").string()));
  EXPECT_THAT(problems(kMinimal + "[update]\nproduct = \"Thermo Linux\"\n"), HasSubstr("update.product: must be"));
}

}  // namespace
}  // namespace kelvin::linux_port
