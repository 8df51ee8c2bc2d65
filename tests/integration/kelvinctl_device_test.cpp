// `kelvinctl device | query | status` as an administrator uses them against a real installation:
// the real kelvin-gateway with its managed Mosquitto, devices played by Debian's mosquitto_pub /
// mosquitto_rr / mosquitto_sub, certificates checked with OpenSSL's command line, the bundle's
// agent.toml loaded by the agent's own config loader, the store read back directly.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "installation.hpp"
#include "kelvin/accounts/accounts.hpp"
#include "kelvin/core/time_format.hpp"
#include "kelvin/linux_port/agent_config.hpp"

namespace {

namespace fs = std::filesystem;
using kelvin::testing::CommandOptions;
using kelvin::testing::CommandResult;
using kelvin::testing::DeviceFiles;
using kelvin::testing::Installation;
using kelvin::testing::project_binary;
using kelvin::testing::read_text;
using kelvin::testing::run_command;
using kelvin::testing::TempDir;
using kelvin::testing::wait_until;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using namespace std::chrono_literals;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string iso(std::int64_t ms) {
  return kelvin::format_utc_timestamp(static_cast<std::time_t>(ms / 1000));
}

std::string reading_json(std::uint64_t seq, std::int64_t ts, double temperature, double humidity) {
  return "{\"seq\":" + std::to_string(seq) + ",\"ts\":" + std::to_string(ts) +
         ",\"values\":{\"temperature\":" + std::to_string(temperature) + ",\"humidity\":" + std::to_string(humidity) +
         "}}";
}

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// The one line of `text` that starts with `prefix`, "" if none.
std::string line_starting(const std::string& text, const std::string& prefix) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(prefix)) return line;
  }
  return {};
}

// A failure as the house style wants it: the exit status, and exactly one line on stderr.
void expect_one_line_failure(const CommandResult& r, int exit_code, const std::string& what) {
  EXPECT_EQ(r.exit_code, exit_code) << what << "\n" << describe(r);
  EXPECT_THAT(r.err, StartsWith("kelvinctl: ")) << what;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << "\n" << r.err;
}

class KelvinctlDevice : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && gateway_started_) std::cerr << "---- gateway log ----\n" << install_.gateway_log();
  }

  void start_gateway() {
    install_.start_gateway();
    gateway_started_ = true;
  }

  // kelvinctl with the installation's state dir from the environment (as an administrator would
  // set KELVIN_STATE_DIR) and nothing else inherited from whoever runs the tests.
  CommandResult ctl(std::vector<std::string> args, CommandOptions options = {}) {
    args.insert(args.begin(), project_binary("kelvinctl"));
    options.env.emplace("KELVIN_STATE_DIR", install_.state_dir().string());
    options.env.emplace("KELVIN_PKI_DIR", std::nullopt);
    options.env.emplace("KELVIN_CA_PASSPHRASE", std::nullopt);
    return run_command(args, options);
  }

  // `device add ID` with a bundle under the test's directory that reaches the test broker.
  DeviceFiles add_device(const std::string& id) {
    const fs::path bundle = install_.root() / (id + "-bundle");
    auto r = ctl({"device", "add", id, "--out", bundle.string(), "--broker-host", "localhost", "--broker-port",
                  std::to_string(install_.port())});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return {bundle / "ca.crt", bundle / (id + ".crt"), bundle / (id + ".key")};
  }

  std::uint64_t acked(const std::string& device) {
    auto seq = install_.open_store().acked_seq(device);
    return seq ? *seq : 0;
  }

  nlohmann::json list_json() {
    auto r = ctl({"device", "list", "--json"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    auto json = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << r.out;
    return json;
  }

  static nlohmann::json entry(const nlohmann::json& list, const std::string& id) {
    for (const auto& device : list) {
      if (device.value("id", "") == id) return device;
    }
    return nullptr;
  }

  Installation install_;
  bool gateway_started_ = false;
};

TEST_F(KelvinctlDevice, AddWritesABundleTheAgentLoadsWithTheRightCertificateAndKey) {
  const fs::path bundle = install_.root() / "sensor-01-bundle";
  // The options before and after the subcommand, given explicitly instead of the environment.
  CommandOptions no_env;
  no_env.env.emplace("KELVIN_STATE_DIR", std::nullopt);
  auto r = run_command({project_binary("kelvinctl"), "device", "--state-dir", install_.state_dir().string(), "add",
                        "sensor-01", "--out", bundle.string(), "--broker-host", "localhost", "--broker-port", "18883",
                        "--pki-dir", install_.pki_dir().string()},
                       no_env);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.err, "") << "localhost is in the server certificate: no warning expected";
  EXPECT_THAT(r.out, HasSubstr("Registered device sensor-01"));
  EXPECT_THAT(r.out, HasSubstr("kelvin-agent run --config"));
  for (const char* name : {"agent.toml", "ca.crt", "sensor-01.crt", "sensor-01.key"}) {
    EXPECT_THAT(r.out, HasSubstr(name));
  }

  EXPECT_EQ(mode_of(bundle), 0700u);
  EXPECT_EQ(mode_of(bundle / "sensor-01.key"), 0600u);
  std::vector<std::string> names;
  for (const auto& file : fs::directory_iterator(bundle)) names.push_back(file.path().filename().string());
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("agent.toml", "ca.crt", "sensor-01.crt", "sensor-01.key"));

  // The agent's own loader accepts it, and it names the bundle's files.
  auto config = kelvin::linux_port::load_agent_config(bundle / "agent.toml");
  ASSERT_TRUE(config.ok()) << config.error().message << "\n" << read_text(bundle / "agent.toml");
  EXPECT_EQ(config->device_id, "sensor-01");
  EXPECT_EQ(config->broker.host, "localhost");
  EXPECT_EQ(config->broker.port, 18883);
  EXPECT_EQ(fs::canonical(config->broker.ca_file), fs::canonical(bundle / "ca.crt"));
  EXPECT_EQ(fs::canonical(config->broker.cert_file), fs::canonical(bundle / "sensor-01.crt"));
  EXPECT_EQ(fs::canonical(config->broker.key_file), fs::canonical(bundle / "sensor-01.key"));
  ASSERT_EQ(config->sensors.size(), 1u);
  EXPECT_EQ(config->sensors[0].type, kelvin::linux_port::SensorType::hwmon);
  EXPECT_THAT(read_text(bundle / "agent.toml"), HasSubstr("# type = \"iio\""));  // the commented alternative

  // OpenSSL agrees: CN is the id, the chain is the installation's CA, the key belongs to the cert.
  auto subject = run_command({"openssl", "x509", "-noout", "-subject", "-in", (bundle / "sensor-01.crt").string()});
  EXPECT_THAT(subject.out, HasSubstr("CN = sensor-01")) << describe(subject);
  auto verify =
      run_command({"openssl", "verify", "-CAfile", (bundle / "ca.crt").string(), (bundle / "sensor-01.crt").string()});
  EXPECT_EQ(verify.exit_code, 0) << describe(verify);
  auto cert_key = run_command({"openssl", "x509", "-noout", "-pubkey", "-in", (bundle / "sensor-01.crt").string()});
  auto key_pub = run_command({"openssl", "pkey", "-pubout", "-in", (bundle / "sensor-01.key").string()});
  EXPECT_FALSE(cert_key.out.empty());
  EXPECT_EQ(cert_key.out, key_pub.out);
  EXPECT_EQ(read_text(bundle / "ca.crt"), read_text(install_.pki_dir() / "ca.crt"));

  auto device = install_.open_store().device("sensor-01");
  ASSERT_TRUE(device.ok() && device->has_value());
  EXPECT_NE((*device)->registered_ms, 0);

  // A second add of the same id is refused, whatever the bundle directory.
  auto again = ctl({"device", "add", "sensor-01", "--out", (install_.root() / "other").string()});
  expect_one_line_failure(again, 1, "second add");
  EXPECT_THAT(again.err, HasSubstr("sensor-01"));
  EXPECT_FALSE(fs::exists(install_.root() / "other"));
}

TEST_F(KelvinctlDevice, AddDefaultsToTheHostNameAndABundleInTheWorkingDirectory) {
  // From the test's directory, through a shell: ./sensor-02-bundle lands there.
  CommandOptions options;
  options.env.emplace("KELVIN_STATE_DIR", install_.state_dir().string());
  options.env.emplace("KELVIN_PKI_DIR", std::nullopt);
  auto r = run_command({"sh", "-c", "cd \"$1\" && exec \"$0\" device add sensor-02", project_binary("kelvinctl"),
                        install_.root().string()},
                       options);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const fs::path bundle = install_.root() / "sensor-02-bundle";
  auto config = kelvin::linux_port::load_agent_config(bundle / "agent.toml");
  ASSERT_TRUE(config.ok()) << config.error().message;
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  EXPECT_EQ(config->broker.host, host);
  EXPECT_EQ(config->broker.port, 8883);

  // A host the server certificate does not name works, with a warning that says so.
  auto elsewhere = ctl({"device", "add", "sensor-03", "--out", (install_.root() / "b3").string(), "--broker-host",
                        "gateway.example.org"});
  ASSERT_EQ(elsewhere.exit_code, 0) << describe(elsewhere);
  EXPECT_THAT(elsewhere.err, HasSubstr("does not name 'gateway.example.org'"));
  EXPECT_THAT(elsewhere.err, HasSubstr("DNS:localhost"));
}

TEST_F(KelvinctlDevice, AddThatCannotIssueLeavesNothingRegisteredAndCanBeRetried) {
  // Its own installation: an encrypted CA key and a server certificate named "gw".
  TempDir dir;
  const fs::path state = dir / "state";
  fs::create_directories(state);
  const fs::path passphrase_file = dir / "passphrase";
  std::ofstream(passphrase_file) << "correct horse battery staple\n";
  fs::permissions(passphrase_file, fs::perms::owner_read | fs::perms::owner_write);
  auto init = run_command({project_binary("kelvinctl"), "pki", "--dir", (state / "pki").string(), "init",
                           "--server-name", "gw", "--passphrase-file", passphrase_file.string()});
  ASSERT_EQ(init.exit_code, 0) << describe(init);
  auto run = [&](std::vector<std::string> args, std::optional<std::string> passphrase) {
    args.insert(args.begin(), project_binary("kelvinctl"));
    CommandOptions options;
    options.env.emplace("KELVIN_STATE_DIR", state.string());
    options.env.emplace("KELVIN_PKI_DIR", std::nullopt);
    options.env.emplace("KELVIN_CA_PASSPHRASE", passphrase);
    return run_command(args, options);
  };
  auto registered = [&](const std::string& id) {
    auto store = kelvin::store::Store::open(state / "telemetry.db");
    EXPECT_TRUE(store.ok());
    auto device = store->device(id);
    return device.ok() && device->has_value();
  };

  // Wrong passphrase: the registration made before issuing is undone.
  auto wrong = run({"device", "add", "sensor-09", "--out", (dir / "b9").string()}, "not the passphrase");
  expect_one_line_failure(wrong, 1, "wrong passphrase");
  EXPECT_FALSE(registered("sensor-09"));
  EXPECT_FALSE(fs::exists(dir / "b9"));
  EXPECT_FALSE(fs::exists(state / "pki" / "devices" / "sensor-09" / "sensor-09.crt"));

  // The CA refuses a device named like the server certificate: undone as well.
  auto clash = run({"device", "add", "gw", "--out", (dir / "bgw").string()}, "correct horse battery staple");
  expect_one_line_failure(clash, 1, "device named like the server");
  EXPECT_FALSE(registered("gw"));

  // The retry works.
  auto retry = run({"device", "add", "sensor-09", "--out", (dir / "b9").string(), "--broker-host", "gw"},
                   "correct horse battery staple");
  ASSERT_EQ(retry.exit_code, 0) << describe(retry);
  EXPECT_TRUE(registered("sensor-09"));

  // `device revoke gw` must not touch the server certificate of the same name.
  auto revoke = run({"device", "revoke", "gw"}, "correct horse battery staple");
  expect_one_line_failure(revoke, 1, "revoke a device id that is the server's CN");
  auto list = run({"pki", "--dir", (state / "pki").string(), "list"}, std::nullopt);
  EXPECT_THAT(line_starting(list.out, "gw "), HasSubstr(" valid ")) << list.out;
}

TEST_F(KelvinctlDevice, AddRunByRootCreatesTheStoreForTheOwnerOfTheStateDir) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to hand the file to another account";
  // The gateway runs as a service account in production; a store root created there must be its.
  TempDir dir;
  const fs::path state = dir / "state";
  fs::create_directories(state);
  const uid_t service_uid = 65534;  // nobody
  ASSERT_EQ(::chown(state.c_str(), service_uid, service_uid), 0);
  auto r = run_command({project_binary("kelvinctl"), "device", "add", "sensor-01", "--state-dir", state.string(),
                        "--pki-dir", install_.pki_dir().string(), "--out", (dir / "bundle").string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  struct stat st {};
  ASSERT_EQ(::stat((state / "telemetry.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, service_uid);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(KelvinctlDevice, ListShowsWhatDevicesDidAndWhetherTheyMayConnect) {
  start_gateway();
  DeviceFiles sensor1 = add_device("sensor-01");
  add_device("sensor-02");
  install_.issue_device("sensor-03");  // a certificate made with kelvinctl pki only: never registered

  // sensor-01, with the bundle's own files: a status, then a reading acknowledged end to end.
  ASSERT_EQ(
      install_.publish(sensor1, "devices/sensor-01/status", R"({"state":"online","fw":"1.4.2","dropped":3})", {"-r"})
          .exit_code,
      0);
  const std::int64_t ts = now_ms() - 5000;
  auto reply = install_.request(sensor1, "devices/sensor-01/telemetry", reading_json(1, ts, 21.5, 40.25),
                                "devices/sensor-01/ack");
  ASSERT_EQ(reply.out, "devices/sensor-01/ack {\"seq\":1}\n") << reply.err;
  ASSERT_TRUE(wait_until(
      [&] {
        auto device = install_.open_store().device("sensor-01");
        return device.ok() && device->has_value() && (*device)->status.has_value();
      },
      10s));

  auto r = ctl({"device", "list"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, StartsWith("ID ")) << r.out;
  EXPECT_THAT(r.out, HasSubstr("LAST READING"));
  const std::string expires = R"((\d{4}-\d{2}-\d{2}))";
  const std::string seen = R"((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z))";
  const std::regex row1("sensor-01 +online +" + seen + " +21\\.50 °C 40\\.2 %RH at " + iso(ts) +
                        " +1\\.4\\.2 +1 +1 +3 +" + expires + " +-");
  EXPECT_TRUE(std::regex_match(line_starting(r.out, "sensor-01 "), row1)) << r.out;
  const std::regex never_seen(R"(sensor-0[23] +never seen +- +- +- +0 +0 +- +)" + expires + " +-");
  EXPECT_TRUE(std::regex_match(line_starting(r.out, "sensor-02 "), never_seen)) << r.out;
  EXPECT_TRUE(std::regex_match(line_starting(r.out, "sensor-03 "), never_seen)) << r.out;
  EXPECT_EQ(line_starting(r.out, "svc-gateway"), "") << "services are not devices";

  auto json = list_json();
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 3u) << json.dump(2);
  for (const auto& device : json) {
    for (const char* key : {"id", "state", "registered", "registered_at", "last_seen", "last_seen_ms", "last_reading",
                            "firmware", "acked_seq", "readings_stored", "rejected", "dropped", "certificate"}) {
      EXPECT_TRUE(device.contains(key)) << key << " missing in " << device.dump();
    }
  }
  auto one = entry(json, "sensor-01");
  EXPECT_EQ(one["state"], "online");
  EXPECT_EQ(one["registered"], true);
  EXPECT_EQ(one["firmware"], "1.4.2");
  EXPECT_EQ(one["acked_seq"], 1);
  EXPECT_EQ(one["readings_stored"], 1);
  EXPECT_EQ(one["dropped"], 3);
  EXPECT_EQ(one["last_reading"]["seq"], 1);
  EXPECT_EQ(one["last_reading"]["ts_ms"], ts);
  EXPECT_EQ(one["last_reading"]["temperature"], 21.5);
  EXPECT_EQ(one["last_reading"]["humidity"], 40.25);
  EXPECT_EQ(one["certificate"]["state"], "valid");
  auto three = entry(json, "sensor-03");
  EXPECT_EQ(three["state"], "never seen");
  EXPECT_EQ(three["registered"], false);
  EXPECT_TRUE(three["last_reading"].is_null());
  EXPECT_TRUE(three["dropped"].is_null());
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

TEST_F(KelvinctlDevice, RevokeDropsTheLiveSessionAndTheDeviceCannotReconnect) {
  start_gateway();
  DeviceFiles sensor1 = add_device("sensor-01");
  DeviceFiles sensor2 = add_device("sensor-02");
  const std::string connected_line = "as sensor-02 (";
  auto live = install_.subscribe(sensor2, "devices/sensor-02/ack", install_.root() / "live.log");
  ASSERT_TRUE(wait_until([&] { return occurrences(install_.gateway_log(), connected_line) == 1; }, 10s));

  auto r = ctl({"device", "revoke", "sensor-02"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("Revoked device certificate sensor-02"));
  EXPECT_THAT(r.out, HasSubstr("drops sensor-02's live session"));

  ASSERT_TRUE(wait_until([&] { return install_.stats().value("broker_restarts", 0) >= 1; }, 10s));
  EXPECT_TRUE(live->wait(15s).has_value()) << "the revoked device is still connected";
  EXPECT_EQ(occurrences(install_.gateway_log(), connected_line), 1u) << "the revoked device got back in";
  EXPECT_NE(install_.publish(sensor2, "devices/sensor-02/telemetry", reading_json(1, now_ms(), 20, 50)).exit_code, 0);
  // The other device is served again after the broker's restart.
  ASSERT_TRUE(wait_until([&] { return install_.stats().value("connected", 0) == 1; }, 15s));
  auto reply = install_.request(sensor1, "devices/sensor-01/telemetry", reading_json(1, now_ms(), 20, 50),
                                "devices/sensor-01/ack");
  EXPECT_EQ(reply.out, "devices/sensor-01/ack {\"seq\":1}\n") << reply.err;
  EXPECT_EQ(acked("sensor-02"), 0u);

  EXPECT_EQ(entry(list_json(), "sensor-02")["certificate"]["state"], "revoked");
  EXPECT_THAT(line_starting(ctl({"device", "list"}).out, "sensor-02 "), ::testing::ContainsRegex(" revoked +-$"));
  expect_one_line_failure(ctl({"device", "revoke", "sensor-02"}), 1, "revoking twice");

  // In the audit log, beside the dashboard's changes (the gateway created the database).
  auto accounts = kelvin::accounts::Accounts::open(install_.state_dir() / "accounts.db");
  ASSERT_TRUE(accounts.ok()) << accounts.error().message;
  auto entries = (*accounts)->audit_entries_before(std::numeric_limits<std::int64_t>::max(), 1);
  ASSERT_TRUE(entries.ok() && entries->size() == 1u);
  EXPECT_EQ((*entries)[0].actor, "kelvinctl");
  EXPECT_EQ((*entries)[0].action, "device_revoke");
  EXPECT_EQ((*entries)[0].target, "sensor-02");
  EXPECT_EQ((*entries)[0].result, "ok");
  EXPECT_THAT((*entries)[0].detail, ::testing::StartsWith("serials "));
}

TEST_F(KelvinctlDevice, RemovePurgeDeletesThatDevicesDataAndNothingElse) {
  start_gateway();
  DeviceFiles sensor1 = add_device("sensor-01");
  DeviceFiles sensor2 = add_device("sensor-02");
  // Both readings in one minute bucket, whatever the second of the minute the test runs at.
  const std::int64_t ts = (now_ms() - 120'000) / 60'000 * 60'000;
  for (const auto& [id, files] :
       {std::pair{std::string("sensor-01"), sensor1}, std::pair{std::string("sensor-02"), sensor2}}) {
    auto batch = "{\"batch\":[" + reading_json(1, ts, 20, 50) + "," + reading_json(2, ts + 1000, 21, 51) + "]}";
    ASSERT_EQ(install_.publish(files, "devices/" + id + "/telemetry", batch).exit_code, 0);
    ASSERT_TRUE(wait_until([&, id = id] { return acked(id) == 2; }, 10s)) << id;
  }

  auto r = ctl({"device", "remove", "sensor-01", "--purge"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("Revoked device certificate sensor-01"));
  EXPECT_THAT(r.out, HasSubstr("Deleted device sensor-01 and everything stored for it: its readings (2 received"));

  auto store = install_.open_store();
  auto gone = store.device("sensor-01");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  kelvin::store::Query query{"sensor-01", kelvin::proto::Quantity::temperature, ts - 3'600'000, now_ms(), 60'000, {}};
  auto buckets = store.query(query);
  ASSERT_TRUE(buckets.ok());
  EXPECT_TRUE(buckets->buckets.empty());
  auto kept = store.device("sensor-02");
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ((*kept)->readings_stored, 2u);
  query.device_id = "sensor-02";
  EXPECT_EQ(store.query(query)->buckets.size(), 1u);
  // Removed devices are listed only with --all.
  EXPECT_TRUE(entry(list_json(), "sensor-01").is_null());
  auto all = ctl({"device", "list", "--all", "--json"});
  EXPECT_EQ(entry(nlohmann::json::parse(all.out), "sensor-01")["certificate"]["state"], "revoked") << all.out;

  // Without --purge the registration goes and the data stays.
  auto keep = ctl({"device", "remove", "sensor-02"});
  ASSERT_EQ(keep.exit_code, 0) << describe(keep);
  EXPECT_THAT(keep.out, HasSubstr("its 2 stored reading(s) stay"));
  auto unregistered = install_.open_store().device("sensor-02");
  ASSERT_TRUE(unregistered.ok() && unregistered->has_value());
  EXPECT_EQ((*unregistered)->registered_ms, 0);
  EXPECT_EQ((*unregistered)->readings_stored, 2u);

  expect_one_line_failure(ctl({"device", "remove", "sensor-01"}), 1, "removing twice");
  expect_one_line_failure(ctl({"device", "remove", "nobody"}), 1, "unknown device");
}

TEST_F(KelvinctlDevice, QueryGivesMinMeanMaxAndCountPerBucket) {
  start_gateway();
  DeviceFiles sensor = add_device("sensor-01");
  // Six readings in two whole minutes, about ten minutes ago; base is a multiple of two minutes, so
  // the --step 2m bucket (aligned to the epoch) holds all six.
  const std::int64_t base = (now_ms() - 10 * 60'000) / 120'000 * 120'000;
  const std::vector<std::tuple<std::int64_t, double, double>> readings = {
      {base + 5'000, 20.0, 40},  {base + 25'000, 21.0, 42}, {base + 45'000, 23.0, 44},    // minute 1
      {base + 70'000, 18.5, 50}, {base + 90'000, 19.5, 50}, {base + 110'000, 22.0, 53}};  // minute 2
  std::string batch = "{\"batch\":[";
  for (std::size_t i = 0; i < readings.size(); ++i) {
    const auto& [ts, temperature, humidity] = readings[i];
    batch += (i ? "," : "") + reading_json(i + 1, ts, temperature, humidity);
  }
  ASSERT_EQ(install_.publish(sensor, "devices/sensor-01/telemetry", batch + "]}").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return acked("sensor-01") == 6; }, 10s));

  const std::string from = iso(base), to = iso(base + 120'000);
  auto table = ctl({"query", "sensor-01", "--from", from, "--to", to, "--step", "1m"});
  ASSERT_EQ(table.exit_code, 0) << describe(table);
  EXPECT_THAT(table.out, HasSubstr("step 1m, resolution minute"));
  EXPECT_THAT(table.out, HasSubstr("BUCKET START (UTC)"));
  EXPECT_TRUE(std::regex_search(table.out, std::regex(iso(base) + R"( +20\.00 +21\.33 +23\.00 +3\n)"))) << table.out;
  EXPECT_TRUE(std::regex_search(table.out, std::regex(iso(base + 60'000) + R"( +18\.50 +20\.00 +22\.00 +3\n)")))
      << table.out;

  auto json_of = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"query", "sensor-01", "--json"});
    auto r = ctl(args);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return nlohmann::json::parse(r.out, nullptr, false);
  };
  auto humidity = json_of({"--quantity", "humidity", "--from", from, "--to", to, "--step", "1m"});
  ASSERT_EQ(humidity["buckets"].size(), 2u) << humidity.dump(2);
  EXPECT_EQ(humidity["unit"], "%RH");
  EXPECT_EQ(humidity["buckets"][0]["start_ms"], base);
  EXPECT_DOUBLE_EQ(humidity["buckets"][0]["mean"].get<double>(), 42.0);
  EXPECT_DOUBLE_EQ(humidity["buckets"][1]["mean"].get<double>(), 51.0);
  EXPECT_DOUBLE_EQ(humidity["buckets"][1]["min"].get<double>(), 50.0);
  EXPECT_DOUBLE_EQ(humidity["buckets"][1]["max"].get<double>(), 53.0);

  auto both_minutes = json_of({"--from", from, "--to", to, "--step", "2m"});
  ASSERT_EQ(both_minutes["buckets"].size(), 1u) << both_minutes.dump(2);
  EXPECT_EQ(both_minutes["buckets"][0]["count"], 6);
  EXPECT_DOUBLE_EQ(both_minutes["buckets"][0]["min"].get<double>(), 18.5);
  EXPECT_DOUBLE_EQ(both_minutes["buckets"][0]["max"].get<double>(), 23.0);
  EXPECT_NEAR(both_minutes["buckets"][0]["mean"].get<double>(), 124.0 / 6, 1e-9);

  // Without --step: about 60 buckets over two minutes, i.e. 2 s from raw samples, one reading each.
  auto fine = json_of({"--from", from, "--to", to});
  EXPECT_EQ(fine["step"], "2s");
  EXPECT_EQ(fine["resolution"], "raw");
  ASSERT_EQ(fine["buckets"].size(), 6u);
  EXPECT_EQ(fine["buckets"][2]["start_ms"], base + 44'000);
  EXPECT_DOUBLE_EQ(fine["buckets"][2]["mean"].get<double>(), 23.0);

  // The defaults (the last hour in 1-minute steps) cover them all.
  auto last_hour = json_of({});
  EXPECT_EQ(last_hour["step"], "1m");
  std::uint64_t count = 0;
  for (const auto& bucket : last_hour["buckets"]) count += bucket["count"].get<std::uint64_t>();
  EXPECT_EQ(count, 6u) << last_hour.dump(2);

  auto empty = ctl({"query", "sensor-01", "--from", "-7d", "--to", "-6d"});
  EXPECT_EQ(empty.exit_code, 0) << describe(empty);
  EXPECT_THAT(empty.out, HasSubstr("no temperature readings in this range"));
}

TEST_F(KelvinctlDevice, StatusSummarisesTheRunningGatewaysStatistics) {
  start_gateway();
  DeviceFiles sensor = add_device("sensor-01");
  auto reply = install_.request(sensor, "devices/sensor-01/telemetry", reading_json(1, now_ms(), 21, 45),
                                "devices/sensor-01/ack");
  ASSERT_EQ(reply.exit_code, 0) << reply.err;
  ASSERT_EQ(install_.publish(sensor, "devices/sensor-01/telemetry", reading_json(2, now_ms(), 500, 45)).exit_code, 0);
  ASSERT_EQ(install_.publish(sensor, "devices/sensor-01/telemetry", "{\"seq\":3,").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return install_.stats().value("rejected_total", 0) == 2; }, 10s));
  ASSERT_TRUE(wait_until([&] { return install_.stats().value("readings_stored", 0) == 1; }, 10s));

  auto r = ctl({"status"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("broker connection  connected"));
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex("gateway            kelvin-gateway [0-9]+\\.[0-9]+\\.[0-9]+, up [0-9.]+ (s|min)\n")))
      << r.out;
  EXPECT_THAT(r.out, HasSubstr("readings stored    1\n"));
  EXPECT_THAT(r.out, HasSubstr("rejected           2: malformed_json 1, out_of_range 1\n"));
  EXPECT_THAT(r.out, HasSubstr("broker restarts    0"));
  EXPECT_THAT(r.out, HasSubstr("latency            p50 "));
  EXPECT_THAT(r.out, Not(HasSubstr("not to be running")));

  // Once the gateway has stopped, its last numbers are shown with a warning when they get old.
  install_.stop_gateway(SIGTERM);
  auto stats = install_.stats();
  stats["time_ms"] = now_ms() - 60'000;
  std::ofstream(install_.state_dir() / "gateway-stats.json") << stats.dump();
  auto stale = ctl({"status"});
  EXPECT_EQ(stale.exit_code, 0) << describe(stale);
  EXPECT_TRUE(std::regex_search(stale.out, std::regex("written 6[0-9] s ago"))) << stale.out;
  EXPECT_THAT(stale.out, HasSubstr("kelvin-gateway seems not to be running"));
}

TEST_F(KelvinctlDevice, LabelsAreGivenAtRegistrationChangedAndListed) {
  const auto bundle = [this](const std::string& id) { return (install_.root() / (id + "-bundle")).string(); };
  auto added =
      ctl({"device", "add", "sensor-01", "--out", bundle("sensor-01"), "--label", "west", "--label", "greenhouse"});
  ASSERT_EQ(added.exit_code, 0) << describe(added);
  EXPECT_THAT(added.out, HasSubstr("Labels: greenhouse, west"));
  ASSERT_EQ(ctl({"device", "add", "sensor-02", "--out", bundle("sensor-02"), "--label", "greenhouse,east"}).exit_code,
            0);
  ASSERT_EQ(ctl({"device", "add", "sensor-03", "--out", bundle("sensor-03")}).exit_code, 0);

  auto changed = ctl({"device", "label", "sensor-03", "--add", "greenhouse", "--add", "north"});
  ASSERT_EQ(changed.exit_code, 0) << describe(changed);
  EXPECT_EQ(changed.out, "Device sensor-03 now carries the labels: greenhouse, north\n");
  changed = ctl({"device", "label", "sensor-01", "--remove", "greenhouse", "--add", "south"});
  ASSERT_EQ(changed.exit_code, 0) << describe(changed);
  EXPECT_EQ(changed.out, "Device sensor-01 now carries the labels: south, west\n");
  auto shown = ctl({"device", "label", "sensor-02"});
  ASSERT_EQ(shown.exit_code, 0) << describe(shown);
  EXPECT_EQ(shown.out, "Device sensor-02 carries the labels: east, greenhouse\n");

  const auto list = list_json();
  EXPECT_EQ(entry(list, "sensor-01")["labels"], nlohmann::json({"south", "west"}));
  EXPECT_EQ(entry(list, "sensor-03")["labels"], nlohmann::json({"greenhouse", "north"}));
  auto table = ctl({"device", "list"});
  ASSERT_EQ(table.exit_code, 0) << describe(table);
  EXPECT_THAT(line_starting(table.out, "ID "), HasSubstr("LABELS"));
  EXPECT_THAT(line_starting(table.out, "sensor-02 "), HasSubstr("east,greenhouse"));
  auto filtered = ctl({"device", "list", "--label", "greenhouse", "--json"});
  ASSERT_EQ(filtered.exit_code, 0) << describe(filtered);
  std::vector<std::string> ids;
  for (const auto& device : nlohmann::json::parse(filtered.out)) ids.push_back(device["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"sensor-02", "sensor-03"}));
  EXPECT_THAT(ctl({"device", "list", "--label", "nowhere"}).out, HasSubstr("No device carries the label nowhere"));
  EXPECT_EQ(install_.open_store().device("sensor-01").value()->labels, (std::vector<std::string>{"south", "west"}));

  // Removing a device takes its labels with its registration.
  ASSERT_EQ(ctl({"device", "remove", "sensor-03"}).exit_code, 0);
  auto after = ctl({"device", "list", "--label", "north", "--json"});
  EXPECT_EQ(nlohmann::json::parse(after.out), nlohmann::json::array());

  // Refusals: one line each, nothing changed.
  expect_one_line_failure(ctl({"device", "label", "sensor-01", "--add", "South"}), 2, "a malformed label");
  expect_one_line_failure(ctl({"device", "label", "sensor-01", "--add", "x", "--remove", "x"}), 2, "added and removed");
  expect_one_line_failure(ctl({"device", "add", "sensor-04", "--out", bundle("sensor-04"), "--label", "a b"}), 2,
                          "add with a malformed label");
  expect_one_line_failure(ctl({"device", "list", "--label", "-x"}), 2, "list a malformed label");
  expect_one_line_failure(ctl({"device", "label", "nobody", "--add", "x"}), 1, "label an unknown device");
  std::vector<std::string> too_many = {"device", "label", "sensor-01"};
  for (int i = 0; i < 31; ++i) {
    too_many.push_back("--add");
    too_many.push_back("l" + std::to_string(i));
  }
  expect_one_line_failure(ctl(too_many), 1, "33 labels");
  EXPECT_EQ(install_.open_store().device("sensor-01").value()->labels, (std::vector<std::string>{"south", "west"}));
  EXPECT_FALSE(fs::exists(bundle("sensor-04")));
}

TEST_F(KelvinctlDevice, EveryErrorIsOneLineWithTheRightExitStatus) {
  const std::string out = (install_.root() / "bundle").string();
  struct Case {
    std::vector<std::string> args;
    int exit_code;
  };
  // Usage errors: the command line makes no sense.
  for (const Case& c : std::vector<Case>{
           {{"device"}, 2},
           {{"device", "add"}, 2},
           {{"device", "add", "Sensor-01"}, 2},
           {{"device", "add", "svc-gateway"}, 2},
           {{"device", "add", "a/b"}, 2},
           {{"device", "add", "sensor-01", "--broker-port", "0"}, 2},
           {{"device", "add", "sensor-01", "--broker-host", "gw\"; rm"}, 2},
           {{"device", "add", "sensor-01", "--days", "0"}, 2},
           {{"device", "revoke", "svc-gateway"}, 2},
           {{"device", "remove", "-x"}, 2},
           {{"device", "list", "extra"}, 2},
           {{"device", "label", "sensor-01", "--add", "UPPER"}, 2},
           {{"device", "label", "Sensor-01"}, 2},
           {{"query", "sensor-01", "--from", "2026-13-01T00:00:00Z"}, 2},
           {{"query", "sensor-01", "--from", "yesterday"}, 2},
           {{"query", "sensor-01", "--from", "now", "--to", "-1h"}, 2},
           {{"query", "sensor-01", "--step", "0m"}, 2},
           {{"query", "sensor-01", "--step", "5x"}, 2},
           {{"query", "sensor-01", "--from", "-7d", "--step", "1s"}, 2},
           {{"query", "sensor-01", "--quantity", "pressure"}, 2},
           {{"status", "--bogus"}, 2},
       }) {
    std::string joined;
    for (const auto& arg : c.args) joined += arg + " ";
    expect_one_line_failure(ctl(c.args), c.exit_code, joined);
  }
  EXPECT_FALSE(fs::exists(install_.state_dir() / "telemetry.db")) << "a refused command created the store";

  // Operational errors: the command line is fine, the operation is not.
  expect_one_line_failure(ctl({"status"}), 1, "no statistics yet");
  EXPECT_THAT(ctl({"status"}).err, HasSubstr("is kelvin-gateway running with this state dir"));
  expect_one_line_failure(ctl({"query", "sensor-01"}), 1, "no store yet");
  expect_one_line_failure(ctl({"device", "revoke", "nobody"}), 1, "revoke unknown");
  expect_one_line_failure(ctl({"device", "remove", "nobody"}), 1, "remove unknown");
  expect_one_line_failure(ctl({"device", "list", "--pki-dir", (install_.root() / "no-pki").string()}), 1,
                          "list without a PKI");
  expect_one_line_failure(ctl({"device", "add", "sensor-01", "--out", out, "--state-dir",
                               (install_.root() / "no-state").string(), "--pki-dir", install_.pki_dir().string()}),
                          1, "add with a missing state dir");

  fs::create_directories(install_.root() / "full");
  std::ofstream(install_.root() / "full" / "something") << "x";
  expect_one_line_failure(ctl({"device", "add", "sensor-01", "--out", (install_.root() / "full").string()}), 1,
                          "add into a non-empty directory");
  std::ofstream(install_.state_dir() / "gateway-stats.json") << "not json";
  expect_one_line_failure(ctl({"status"}), 1, "corrupt statistics");

  ASSERT_EQ(ctl({"device", "add", "sensor-01", "--out", out}).exit_code, 0);
  expect_one_line_failure(ctl({"device", "add", "sensor-01", "--out", out + "2"}), 1, "add twice");
  expect_one_line_failure(ctl({"query", "nobody"}), 1, "query unknown device");
  expect_one_line_failure(ctl({"device", "revoke", "sensor-01", "--passphrase-file", "/nonexistent"}), 1,
                          "missing passphrase file");
}

}  // namespace
