// Firmware updates end to end, with two real builds of kelvin-agent: the installed one (v1,
// kelvin-agent) and the same program built one minor version ahead (v2, kelvin-agent-next). A
// device runs under the boot step (`kelvin-agent boot`), learns of a release from the gateway's
// notice on devices/{id}/ota, downloads it from the real gateway over HTTPS with its certificate,
// restarts into it and confirms it once connected with a reading acknowledged; a v2 that exits at
// start or never connects is rolled back by the device itself; the agent SIGKILLed at random
// points of download and install always comes back on a good version.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <ios>
#include <random>
#include <string>
#include <vector>

#include "installation.hpp"
#include "kelvin/crypto/digest.hpp"
#include "kelvin/linux_port/boot_record_file.hpp"

namespace {

namespace fs = std::filesystem;
using kelvin::testing::BackgroundProcess;
using kelvin::testing::DeviceFiles;
using kelvin::testing::Installation;
using kelvin::testing::project_binary;
using kelvin::testing::read_text;
using kelvin::testing::wait_until;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr const char* kObserver = "svc-observer";
constexpr const char* kNotifier = "svc-notifier";
const std::string kV1 = KELVIN_VERSION;
const std::string kV2 = KELVIN_NEXT_VERSION;

// One gateway for the suite; each test has devices and products of its own.
class OtaUpdate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    install_ = new Installation();
    // The test speaks for the gateway on the broker (its notices, reading the devices' statuses) as
    // a peer gateway's identity: the gateway's own would take over its session.
    // Two of them: one connection per identity at a time (the broker takes the client id from the
    // certificate), and the status watcher stays connected while notices are published.
    for (const char* identity : {kObserver, kNotifier}) {
      install_->kelvinctl({"pki", "--dir", install_->pki_dir().string(), "issue", "service", identity});
    }
    std::ofstream(install_->config_file(), std::ios::app)
        << "peer_gateways = [\"" << kObserver << "\", \"" << kNotifier << "\"]\n";
    install_->start_gateway();
    auto port = install_->await_http_port();
    ASSERT_TRUE(port.has_value());
    http_port_ = *port;
    install_->kelvinctl({"release", "keygen", "--dir", keys().string()});
    install_->kelvinctl(
        {"release", "trust", (keys() / "release.pub").string(), "--state-dir", install_->state_dir().string()});
  }
  static void TearDownTestSuite() {
    delete install_;
    install_ = nullptr;
  }

  void TearDown() override {
    if (!HasFailure()) return;
    std::cerr << "---- device log ----\n"
              << (boot_ ? boot_->log() : std::string()) << "---- statuses ----\n"
              << read_text(statuses_file()) << "---- gateway log ----\n"
              << install_->gateway_log();
  }

  static fs::path keys() { return install_->root() / "keys"; }
  fs::path device_dir() const { return install_->root() / device_; }
  fs::path update_dir() const { return device_dir() / "update"; }
  fs::path statuses_file() const { return device_dir() / "statuses.log"; }

  // Signs `image` as `product` `version` and publishes it on the gateway.
  static void publish_release(const fs::path& image, const std::string& product, const std::string& version,
                              int security_version = 1) {
    const std::string manifest = (install_->root() / (product + "-" + version + ".manifest")).string();
    install_->kelvinctl({"release", "sign", image.string(), "--version", version, "--security-version",
                         std::to_string(security_version), "--product", product, "--key",
                         (keys() / "release.key").string(), "--out", manifest});
    install_->kelvinctl(
        {"release", "publish", image.string(), manifest, "--state-dir", install_->state_dir().string()});
  }

  // A program for a slot: a shell script (a "v2" that misbehaves).
  fs::path write_script(const std::string& name, const std::string& body) const {
    const fs::path file = install_->root() / name;
    std::ofstream(file) << "#!/bin/sh\n" << body << "\n";
    ::chmod(file.c_str(), 0755);
    return file;
  }

  // A device `id` of `product`, provisioned, configured for updates, watched on its status topic.
  void make_device(const std::string& id, const std::string& product, int trial_timeout_s = 60, int trial_attempts = 3,
                   int check_interval_s = 0) {
    device_ = id;
    files_ = install_->issue_device(id);
    fs::create_directories(device_dir());
    std::ofstream(device_dir() / "agent.toml")
        << "device_id = \"" << id << "\"\ninterval_s = 0.2\n"
        << "[broker]\nhost = \"localhost\"\nport = " << install_->port() << "\n"
        << "ca_file = \"" << files_.ca.string() << "\"\ncert_file = \"" << files_.cert.string() << "\"\n"
        << "key_file = \"" << files_.key.string() << "\"\nkeepalive_s = 5\n"
        << "[update]\nproduct = \"" << product << "\"\nrelease_key = \"" << (keys() / "release.pub").string()
        << "\"\nhost = \"localhost\"\nport = " << http_port_ << "\ncheck_interval_s = " << check_interval_s << "\n"
        << "trial_timeout_s = " << trial_timeout_s << "\ntrial_attempts = " << trial_attempts << "\n"
        << "[[sensor]]\ntype = \"sim\"\n";
    watcher_ = install_->subscribe(service_files(kObserver), "devices/" + id + "/ota/status", statuses_file(), {"-v"});
  }

  static DeviceFiles service_files(const std::string& identity) {
    const fs::path pki = install_->pki_dir();
    return {pki / "ca.crt", pki / "services" / identity / (identity + ".crt"),
            pki / "services" / identity / (identity + ".key")};
  }

  void start_device() {
    boot_ =
        std::make_unique<BackgroundProcess>(std::vector<std::string>{project_binary("kelvin-agent"), "boot", "--config",
                                                                     (device_dir() / "agent.toml").string()},
                                            device_dir() / "device.log");
  }

  // A rollout of the release to this device alone, started on the gateway's host; returns its
  // `kelvinctl rollout status` after `state` shows up in it (or the deadline passed).
  std::string roll_out(const std::string& product, const std::string& version) {
    auto started = install_->kelvinctl({"rollout", "start", product, version, "--devices", device_, "--waves", "100",
                                        "--state-dir", install_->state_dir().string()});
    const auto at = started.out.find("Started rollout ");
    EXPECT_NE(at, std::string::npos) << started.out;
    rollout_id_ = std::stoi(started.out.substr(at + 16));
    return started.out;
  }

  std::string rollout_status() const {
    return install_
        ->kelvinctl({"rollout", "status", std::to_string(rollout_id_), "--state-dir", install_->state_dir().string()})
        .out;
  }

  // A notice published without a rollout, as the gateway's identity would (retained): for the
  // tests that need the device offered a release again and again.
  void offer(const std::string& product, const std::string& version) {
    auto published =
        install_->publish(service_files(kNotifier), "devices/" + device_ + "/ota",
                          R"({"rollout":1,"product":")" + product + R"(","version":")" + version + R"("})", {"-r"});
    ASSERT_EQ(published.exit_code, 0) << kelvin::testing::describe(published);
  }

  // Whether the device reported `state` for `version` (in what it reported after byte `from` of
  // the statuses file).
  bool status_seen(const std::string& state, const std::string& version, std::size_t from = 0) const {
    const std::string all = read_text(statuses_file());
    const std::string text = from < all.size() ? all.substr(from) : std::string();
    std::size_t at = 0;
    while ((at = text.find(R"("state":")" + state + "\"", at)) != std::string::npos) {
      const auto line_start = text.rfind('\n', at) == std::string::npos ? 0 : text.rfind('\n', at);
      const auto line_end = text.find('\n', at);
      if (text.substr(line_start, line_end - line_start).find(R"("version":")" + version + "\"") != std::string::npos) {
        return true;
      }
      ++at;
    }
    return false;
  }

  // The firmware the device last reported in its status, as the gateway stored it.
  std::string running_firmware() const {
    auto device = install_->open_store().device(device_);
    if (!device.ok() || !device->has_value() || !(*device)->status) return {};
    return (*device)->status->firmware;
  }

  // The release check the device last reported in its status, as the gateway stored it.
  std::string release_check() const {
    auto device = install_->open_store().device(device_);
    if (!device.ok() || !device->has_value() || !(*device)->status) return {};
    return (*device)->status->release_check;
  }

  kelvin::device::BootRecord boot_record() const {
    auto record = kelvin::linux_port::load_boot_record(kelvin::linux_port::boot_record_path(update_dir()), {});
    EXPECT_TRUE(record.ok()) << record.error().message;
    return record.ok() ? *record : kelvin::device::BootRecord{};
  }

  static Installation* install_;
  static int http_port_;
  std::string device_;
  DeviceFiles files_;
  std::unique_ptr<BackgroundProcess> watcher_;
  std::unique_ptr<BackgroundProcess> boot_;
  int rollout_id_ = 0;
};

Installation* OtaUpdate::install_ = nullptr;
int OtaUpdate::http_port_ = 0;

TEST_F(OtaUpdate, V1UpdatesToV2WhichConfirmsItselfAndRuns) {
  publish_release(project_binary("kelvin-agent-next"), "thermo-good", kV2);
  make_device("ota-good", "thermo-good");
  start_device();
  ASSERT_TRUE(wait_until([&] { return running_firmware() == kV1; }, 30s)) << "v1 never reported itself";
  roll_out("thermo-good", kV2);

  ASSERT_TRUE(wait_until([&] { return status_seen("confirmed", kV2); }, 120s)) << "v2 never confirmed itself";
  EXPECT_TRUE(wait_until([&] { return rollout_status().find("completed") != std::string::npos; }, 30s))
      << rollout_status();
  EXPECT_TRUE(status_seen("downloading", kV2));
  EXPECT_TRUE(status_seen("installed", kV2));
  EXPECT_TRUE(wait_until([&] { return running_firmware() == kV2; }, 30s)) << running_firmware();
  const auto record = boot_record();
  EXPECT_EQ(record.confirmed, kelvin::device::Slot::b);
  EXPECT_EQ(record.confirmed_version.to_string(), kV2);
  EXPECT_FALSE(record.trial.has_value());
  EXPECT_EQ(read_text(kelvin::linux_port::slot_image_path(update_dir(), kelvin::device::Slot::b)),
            read_text(project_binary("kelvin-agent-next")));
  EXPECT_THAT(boot_->log(), HasSubstr("starting slot b on trial"));
  EXPECT_EQ(boot_->stop(SIGTERM, 30s), 0);
}

// Freeze: the running agent judges its product's release timestamp after each update check and
// says so in its status, which the gateway stores; a timestamp taken away is noticed at the next.
TEST_F(OtaUpdate, TheDeviceReportsWhatItMakesOfTheReleaseTimestampInItsStatus) {
  publish_release(project_binary("kelvin-agent-next"), "thermo-stamp", kV2);
  const fs::path stamp = install_->root() / "thermo-stamp.timestamp";
  install_->kelvinctl({"release", "timestamp", (install_->root() / ("thermo-stamp-" + kV2 + ".manifest")).string(),
                       "--key", (keys() / "release.key").string(), "--out", stamp.string()});
  install_->kelvinctl({"release", "publish-timestamp", stamp.string(), "--state-dir", install_->state_dir().string()});
  make_device("ota-stamp", "thermo-stamp", 60, 3, /*check_interval_s=*/10);
  start_device();
  EXPECT_TRUE(wait_until([&] { return release_check() == "current"; }, 40s)) << release_check() << boot_->log();
  EXPECT_EQ(running_firmware(), kV1) << "a timestamp naming a newer release installs nothing by itself";

  fs::remove(install_->state_dir() / "releases" / ".timestamps" / "thermo-stamp");
  EXPECT_TRUE(wait_until([&] { return release_check() == "timestamp_missing"; }, 40s)) << release_check();
  EXPECT_THAT(boot_->log(), HasSubstr("release timestamp: timestamp_missing"));
  EXPECT_EQ(boot_->stop(SIGTERM, 30s), 0);
}

TEST_F(OtaUpdate, AV2ThatExitsAtStartIsRolledBackByTheDevice) {
  publish_release(write_script("exits.sh", "echo 'v2: exiting at start'; exit 1"), "thermo-exits", kV2);
  make_device("ota-exits", "thermo-exits");
  start_device();
  ASSERT_TRUE(wait_until([&] { return running_firmware() == kV1; }, 30s));
  roll_out("thermo-exits", kV2);

  ASSERT_TRUE(wait_until([&] { return status_seen("rolled_back", kV2); }, 60s)) << "no rollback reported";
  // One device of one: above the default threshold (20 %), the rollout halts by itself.
  EXPECT_TRUE(wait_until([&] { return rollout_status().find("halted") != std::string::npos; }, 30s))
      << rollout_status();
  EXPECT_TRUE(status_seen("installed", kV2));
  EXPECT_EQ(running_firmware(), kV1);
  const auto record = boot_record();
  EXPECT_EQ(record.confirmed, kelvin::device::Slot::a);
  EXPECT_FALSE(record.trial.has_value());
  EXPECT_THAT(boot_->log(), HasSubstr("did not confirm itself in its attempts; rolled back to slot a"));
  // The retained notice is still there: the device does not install the release it rolled back.
  std::this_thread::sleep_for(2s);
  EXPECT_FALSE(record.trial.has_value() || boot_record().trial.has_value());
  EXPECT_EQ(boot_->stop(SIGTERM, 30s), 0);
}

TEST_F(OtaUpdate, AV2ThatNeverConnectsIsStoppedAtItsTimeLimitAndRolledBack) {
  publish_release(write_script("hangs.sh", "exec sleep 600"), "thermo-hangs", kV2);
  make_device("ota-hangs", "thermo-hangs", /*trial_timeout_s=*/10, /*trial_attempts=*/1);
  start_device();
  ASSERT_TRUE(wait_until([&] { return running_firmware() == kV1; }, 30s));
  roll_out("thermo-hangs", kV2);

  ASSERT_TRUE(wait_until([&] { return status_seen("rolled_back", kV2); }, 60s)) << "no rollback reported";
  EXPECT_TRUE(wait_until([&] { return rollout_status().find("halted") != std::string::npos; }, 30s))
      << rollout_status();
  EXPECT_THAT(boot_->log(), HasSubstr("did not confirm itself within 10 s"));
  EXPECT_EQ(running_firmware(), kV1);
  EXPECT_EQ(boot_record().confirmed, kelvin::device::Slot::a);
  EXPECT_EQ(boot_->stop(SIGTERM, 30s), 0);
}

TEST_F(OtaUpdate, AnOlderReleaseIsRefusedAndReported) {
  publish_release(project_binary("kelvin-agent-next"), "thermo-old", "0.0.1");
  make_device("ota-old", "thermo-old");
  start_device();
  ASSERT_TRUE(wait_until([&] { return running_firmware() == kV1; }, 30s));
  offer("thermo-old", "0.0.1");

  ASSERT_TRUE(wait_until([&] { return status_seen("failed", "0.0.1"); }, 60s));
  EXPECT_THAT(read_text(statuses_file()), HasSubstr(R"("reason":"not_newer")"));
  EXPECT_FALSE(fs::exists(kelvin::linux_port::slot_image_path(update_dir(), kelvin::device::Slot::b)));
  EXPECT_EQ(running_firmware(), kV1);
  EXPECT_EQ(boot_->stop(SIGTERM, 30s), 0);
}

// Whether a process whose command line mentions `needle` is still alive (a killed boot step's
// program, which dies with it by SIGKILL, may take a moment to be gone). A process that exits while
// its /proc files are read makes the read fail (ESRCH, which libstdc++ throws): it is not running.
bool process_running_with(const std::string& needle) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline;
    std::string state;
    try {
      cmdline = read_text(entry.path() / "cmdline");
      state = read_text(entry.path() / "stat");
    } catch (const std::ios_base::failure&) {
      continue;
    }
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    const auto close = state.rfind(')');
    const bool zombie = close != std::string::npos && close + 2 < state.size() && state[close + 2] == 'Z';
    if (!zombie && cmdline.find(needle) != std::string::npos) return true;
  }
  return false;
}

// Power loss: the device (boot step and agent) SIGKILLed at seeded random moments while it takes
// the update: connecting, fetching the manifest, downloading, checking, staging, starting the trial,
// confirming. After every kill the device's disk must name a good program to start: the boot
// record loads, and the slot it chooses (and the confirmed one) holds v1 or the complete v2. A
// device that finished the update is put back on v1 (its update directory removed) so later kills
// land in the update again. At the end the device runs undisturbed and must run v2 or v1.
//
// The v2 image here is a 2 MiB launcher of the v2 build (a shell script that execs
// kelvin-agent-next, padded), so that 50 trials fit the suite's time: a download of 32 ranges in
// about a second, where the real 70 MB debug build takes tens of seconds.
TEST_F(OtaUpdate, KilledAtRandomPointsTheDeviceAlwaysHasAGoodVersionToStartAndResumesItsDownload) {
  std::string launcher = "#!/bin/sh\nexec '" + project_binary("kelvin-agent-next") + "' \"$@\"\n";
  while (launcher.size() < (2u << 20)) launcher += "# padding: a firmware image is megabytes, not a line\n";
  const fs::path image = install_->root() / "launcher-v2";
  std::ofstream(image, std::ios::binary) << launcher;
  ::chmod(image.c_str(), 0755);
  publish_release(image, "thermo-kill", kV2);
  make_device("ota-kill", "thermo-kill", /*trial_timeout_s=*/30, /*trial_attempts=*/3);
  offer("thermo-kill", kV2);
  const std::string config = (device_dir() / "agent.toml").string();

  std::mt19937 random(20261205);
  std::uniform_int_distribution<int> kill_after_ms(0, 1500);
  int finished = 0, staged_seen = 0, partial_seen = 0;
  for (int trial = 0; trial < 50; ++trial) {
    start_device();
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms(random)));
    boot_->stop(SIGKILL);
    ASSERT_TRUE(wait_until([&] { return !process_running_with(config); }, 10s)) << "the agent outlived its boot step";

    auto record = kelvin::linux_port::load_boot_record(kelvin::linux_port::boot_record_path(update_dir()),
                                                       kelvin::device::BootRecord{});
    ASSERT_TRUE(record.ok()) << "trial " << trial << ": " << record.error().message;
    const auto choice = kelvin::device::choose_boot_slot(*record);
    for (const auto slot : {choice.slot, record->confirmed}) {
      const fs::path program = kelvin::linux_port::slot_image_path(update_dir(), slot);
      if (slot == kelvin::device::Slot::a && !fs::exists(program)) continue;  // the installed v1
      ASSERT_TRUE(fs::exists(program)) << "trial " << trial << ": slot " << to_string(slot) << " has no program";
      ASSERT_EQ(read_text(program), launcher) << "trial " << trial << ": slot " << to_string(slot) << " is not v2";
    }
    if (fs::exists(update_dir() / "slots/b/download.partial")) ++partial_seen;
    if (record->trial) ++staged_seen;
    if (record->confirmed == kelvin::device::Slot::b) {
      ++finished;
      fs::remove_all(update_dir());  // back to v1, for the next kills to land in an update again
    }
  }
  std::cerr << "kills: " << partial_seen << " left a partial download, " << staged_seen << " a staged trial, "
            << finished << " a finished update\n";
  EXPECT_GT(partial_seen, 0) << "no kill landed in a download";
  EXPECT_THAT(boot_->log(), HasSubstr("download resumed after"));

  // Undisturbed, the device ends on a good version: v2 confirmed, or v1 after a rollback.
  const std::size_t reported_before = read_text(statuses_file()).size();
  start_device();
  ASSERT_TRUE(wait_until(
      [&] {
        return status_seen("confirmed", kV2, reported_before) || status_seen("rolled_back", kV2, reported_before);
      },
      60s));
  const auto record = boot_record();
  EXPECT_FALSE(record.trial.has_value());
  EXPECT_TRUE(wait_until([&] { return running_firmware() == record.confirmed_version.to_string(); }, 30s))
      << "running " << running_firmware() << ", confirmed " << record.confirmed_version.to_string();
  EXPECT_EQ(boot_->stop(SIGTERM, 30s), 0);
}

}  // namespace
