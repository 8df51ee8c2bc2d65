// The device's update machine (libs/device update_client.hpp) over the Linux port's ports
// (ports/linux update_gateway.hpp, slot_files.hpp) against the real kelvin-gateway, through the
// agent's own HTTPS client: a release published with kelvinctl is fetched, decided on, downloaded
// in ranges into the inactive slot, checked and staged; an interrupted download resumes; every
// refusal is reported to the gateway (a failed status with its reason, posted on the device's
// status route and recorded by the rollout that offered it) and leaves the device's slots and boot
// record as they were.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "https_client.hpp"
#include "installation.hpp"
#include "kelvin/device/update_client.hpp"
#include "kelvin/linux_port/boot_record_file.hpp"
#include "kelvin/linux_port/https_client.hpp"
#include "kelvin/linux_port/slot_files.hpp"
#include "kelvin/linux_port/update_gateway.hpp"
#include "kelvin/release/release_image.hpp"
#include "kelvin/release/release_keys.hpp"

namespace {

namespace fs = std::filesystem;
using kelvin::device::Slot;
using kelvin::device::UpdateClient;
using kelvin::device::UpdateClientConfig;
using kelvin::device::UpdatePhase;
using kelvin::linux_port::HttpsAnswer;
using kelvin::linux_port::HttpsChannel;
using kelvin::linux_port::HttpsRequest;
using kelvin::testing::DeviceFiles;
using kelvin::testing::Installation;
using kelvin::testing::read_text;
using kelvin::testing::wait_until;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// Passes requests to the real client until `image_requests_left` image ranges went through, then
// fails the next one as a connection cut would.
class CutAfter final : public HttpsChannel {
 public:
  CutAfter(HttpsChannel& inner, int image_requests_left) : inner_(inner), left_(image_requests_left) {}
  kelvin::Result<void> start(HttpsRequest request) override {
    cut_ = request.path.ends_with("/image") && left_-- <= 0;
    if (cut_) return {};
    return inner_.start(std::move(request));
  }
  bool busy() const override { return !cut_ && inner_.busy(); }
  std::optional<kelvin::Result<HttpsAnswer>> poll(std::int64_t wait_ms) override {
    if (cut_) {
      cut_ = false;
      return kelvin::Result<HttpsAnswer>(kelvin::make_error(kelvin::Errc::io, "connection cut (test)"));
    }
    return inner_.poll(wait_ms);
  }
  void abandon() override { inner_.abandon(); }

 private:
  HttpsChannel& inner_;
  int left_;
  bool cut_ = false;
};

// A gateway that streams past the image's end: every image answer gets bytes appended, as a
// server would that sends more than the manifest's size.
class StreamsPastTheEnd final : public HttpsChannel {
 public:
  explicit StreamsPastTheEnd(HttpsChannel& inner) : inner_(inner) {}
  kelvin::Result<void> start(HttpsRequest request) override {
    image_ = request.path.ends_with("/image");
    return inner_.start(std::move(request));
  }
  bool busy() const override { return inner_.busy(); }
  std::optional<kelvin::Result<HttpsAnswer>> poll(std::int64_t wait_ms) override {
    auto answer = inner_.poll(wait_ms);
    if (answer && answer->ok() && image_) (*answer)->body += "MORE BYTES THAN SIGNED";
    return answer;
  }
  void abandon() override { inner_.abandon(); }

 private:
  HttpsChannel& inner_;
  bool image_ = false;
};

// Asks for another product's manifest than the notice names: the gateway then answers, validly
// signed, the manifest of another device's product, as a replay would deliver it.
class ReplaysAnotherProduct final : public HttpsChannel {
 public:
  ReplaysAnotherProduct(HttpsChannel& inner, std::string from, std::string to)
      : inner_(inner), from_(std::move(from)), to_(std::move(to)) {}
  kelvin::Result<void> start(HttpsRequest request) override {
    if (request.path.ends_with("/manifest")) {
      request.path.replace(request.path.find("/" + from_ + "/"), from_.size() + 2, "/" + to_ + "/");
    }
    return inner_.start(std::move(request));
  }
  bool busy() const override { return inner_.busy(); }
  std::optional<kelvin::Result<HttpsAnswer>> poll(std::int64_t wait_ms) override { return inner_.poll(wait_ms); }
  void abandon() override { inner_.abandon(); }

 private:
  HttpsChannel& inner_;
  std::string from_, to_;
};

// What the device reported: each status posted to the gateway's route over the same channel, kept
// once the gateway took it.
class PostedStatuses final : public kelvin::device::UpdateStatusSink {
 public:
  explicit PostedStatuses(kelvin::device::UpdateStatusSink& gateway) : gateway_(gateway) {}
  kelvin::device::StatusDeliveryAnswer deliver(std::string_view status) override {
    auto answer = gateway_.deliver(status);
    if (answer.delivery == kelvin::device::StatusDelivery::delivered) posted.emplace_back(status);
    return answer;
  }
  std::vector<std::string> posted;

 private:
  kelvin::device::UpdateStatusSink& gateway_;
};

class LogLines final : public kelvin::device::UpdateLog {
 public:
  void write(kelvin::device::UpdateLogLevel, std::string_view line) override { text += std::string(line) + "\n"; }
  std::string text;
};

struct UpdateRun {
  UpdatePhase phase = UpdatePhase::idle;
  std::vector<std::string> statuses;  // as posted, oldest first
  std::string log;

  bool staged() const { return phase == UpdatePhase::restart_wanted; }
  // The failed status's reason, "" when there is none.
  std::string failed_reason() const {
    for (const auto& status : statuses) {
      if (status.find(R"("state":"failed")") == std::string::npos) continue;
      const auto at = status.find(R"("reason":")") + 10;
      return status.substr(at, status.find('"', at) - at);
    }
    return {};
  }
};

class ReleaseInstall : public ::testing::Test {
 protected:
  void SetUp() override {
    device_ = install_.issue_device("sensor-01");
    install_.start_gateway();
    ASSERT_TRUE((port_ = install_.await_http_port()).has_value());
    for (int i = 0; i < 300'000; ++i) image_ += static_cast<char>(i * 13 % 251);
    std::ofstream(image_file(), std::ios::binary) << image_;
    install_.kelvinctl({"release", "keygen", "--dir", keys().string()});
    install_.kelvinctl({"release", "sign", image_file().string(), "--version", "1.1.0", "--security-version", "2",
                        "--product", "thermo-linux", "--key", (keys() / "release.key").string()});
    install_.kelvinctl(
        {"release", "trust", (keys() / "release.pub").string(), "--state-dir", install_.state_dir().string()});
    install_.kelvinctl({"release", "publish", image_file().string(), (image_file().string() + ".manifest"),
                        "--state-dir", install_.state_dir().string()});
    // The same image released for another product: what a replay of another device's manifest serves.
    const std::string esp32_manifest = (install_.root() / "thermo-esp32-1.1.0.manifest").string();
    install_.kelvinctl({"release", "sign", image_file().string(), "--version", "1.1.0", "--security-version", "2",
                        "--product", "thermo-esp32", "--key", (keys() / "release.key").string(), "--out",
                        esp32_manifest});
    install_.kelvinctl(
        {"release", "publish", image_file().string(), esp32_manifest, "--state-dir", install_.state_dir().string()});
    auto client = kelvin::linux_port::HttpsClient::create(
        {"localhost", static_cast<std::uint16_t>(*port_), device_.ca, device_.cert, device_.key});
    ASSERT_TRUE(client.ok()) << client.error().message;
    client_ = std::move(*client);
    // The device says it is online (running 1.0.0), so the gateway knows it for its rollouts.
    auto online = kelvin::linux_port::exchange(
        *client_, {"PUT", "/api/v1/devices/sensor-01/status", R"({"state":"online","fw":"1.0.0","dropped":0})"});
    ASSERT_TRUE(online.ok()) << online.error().message;
    ASSERT_EQ(online->status, 200) << online->body;
    auto pinned = kelvin::release::load_release_public_key(keys() / "release.pub");
    ASSERT_TRUE(pinned.ok());
    pinned_.emplace(std::move(*pinned));
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- gateway log ----\n" << install_.gateway_log();
  }

  fs::path keys() const { return install_.root() / "keys"; }
  fs::path image_file() const { return install_.root() / "thermo-1.1.0.bin"; }
  fs::path device_dir() const { return install_.root() / "device"; }

  UpdateClientConfig config() const {
    UpdateClientConfig c;
    c.product = "thermo-linux";
    c.running_version = {1, 0, 0};
    c.slot_bytes = 1'000'000;
    c.check_interval_ms = 0;
    return c;
  }

  // A rollout of thermo-linux 1.1.0 to this device, started on the gateway's host: it records what
  // the device reports. Returns once the gateway notified the device.
  void start_rollout() {
    // The previous one ends (a completed one is over already: the device confirmed it runs it).
    if (rollout_id_ > 0 && rollout_status().find("1.1.0, completed") == std::string::npos) {
      install_.kelvinctl(
          {"rollout", "abort", std::to_string(rollout_id_), "--state-dir", install_.state_dir().string()});
    }
    auto started = install_.kelvinctl({"rollout", "start", "thermo-linux", "1.1.0", "--devices", "sensor-01", "--waves",
                                       "100", "--state-dir", install_.state_dir().string()});
    const auto at = started.out.find("Started rollout ");
    ASSERT_NE(at, std::string::npos) << started.out << started.err;
    rollout_id_ = std::stoi(started.out.substr(at + 16));
    ASSERT_TRUE(wait_until([&] { return rollout_status().find("notified") != std::string::npos; }, 15s))
        << rollout_status();
  }

  std::string rollout_status() {
    return install_
        .kelvinctl({"rollout", "status", std::to_string(rollout_id_), "--state-dir", install_.state_dir().string()})
        .out;
  }

  // The device offered thermo-linux 1.1.0 by the rollout, its machine stepped until it rests.
  UpdateRun update(const UpdateClientConfig& c, HttpsChannel* channel = nullptr,
                   const kelvin::proto::ReleaseKey* key = nullptr) {
    kelvin::linux_port::HttpsUpdateGateway gateway("sensor-01", channel ? *channel : *client_);
    kelvin::linux_port::FileSlotStorage slots(device_dir());
    auto hasher = kelvin::linux_port::make_sha256_image_hasher();
    PostedStatuses statuses(gateway);
    LogLines log;
    kelvin::linux_port::SystemWallClock clock;
    UpdateClient machine(c, key ? *key : *pinned_, {gateway, slots, statuses, *hasher, log, clock});
    machine.offer({static_cast<std::uint64_t>(rollout_id_), "thermo-linux", {1, 1, 0}});
    std::int64_t now = 0;
    for (int steps = 0; steps < 1000; ++steps) {
      machine.step(now);
      if (machine.phase() == UpdatePhase::idle || machine.restart_wanted()) break;
    }
    return {machine.phase(), std::move(statuses.posted), std::move(log.text)};
  }

  // The refusal reported end to end: the device posted failed with `reason`, and the gateway's
  // rollout recorded it for the device.
  void expect_reported(const UpdateRun& run, const std::string& reason) {
    EXPECT_FALSE(run.staged()) << run.log;
    EXPECT_EQ(run.failed_reason(), reason) << run.log;
    EXPECT_TRUE(wait_until(
        [&] {
          const std::string status = rollout_status();
          return status.find("failed") != std::string::npos && status.find(reason) != std::string::npos;
        },
        15s))
        << rollout_status();
  }

  // The device as it was before: no boot record, no image in either slot.
  void expect_untouched() {
    EXPECT_FALSE(fs::exists(device_dir() / "boot.json"));
    EXPECT_FALSE(fs::exists(device_dir() / "slots/b/image"));
    EXPECT_FALSE(fs::exists(device_dir() / "slots/a/image"));
  }

  Installation install_;
  DeviceFiles device_;
  std::optional<int> port_;
  std::string image_;
  std::unique_ptr<kelvin::linux_port::HttpsClient> client_;
  std::optional<kelvin::release::PinnedReleaseKey> pinned_;
  int rollout_id_ = 0;
};

TEST_F(ReleaseInstall, ANewerReleaseIsDownloadedCheckedAndStagedInTheOtherSlot) {
  start_rollout();
  const UpdateRun run = update(config());
  ASSERT_TRUE(run.staged()) << run.log;
  EXPECT_EQ(read_text(device_dir() / "slots/b/image"), image_);
  struct stat info {};
  ASSERT_EQ(::stat((device_dir() / "slots/b/image").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0755u) << "the slot's program can be started";
  EXPECT_EQ(read_text(device_dir() / "slots/b/manifest"), read_text(image_file().string() + ".manifest"));
  EXPECT_FALSE(fs::exists(device_dir() / "slots/b/download.partial"));

  auto record = kelvin::linux_port::load_boot_record(device_dir() / "boot.json", {});
  ASSERT_TRUE(record.ok()) << record.error().message;
  EXPECT_EQ(record->trial, Slot::b);
  EXPECT_EQ(record->trial_version, (kelvin::proto::FirmwareVersion{1, 1, 0}));
  EXPECT_EQ(record->trial_security_version, 2u);
  EXPECT_EQ(record->confirmed, Slot::a);
  EXPECT_EQ(record->confirmed_version, (kelvin::proto::FirmwareVersion{1, 0, 0}));
  ASSERT_FALSE(run.statuses.empty());
  EXPECT_THAT(run.statuses.front(), HasSubstr(R"("state":"downloading","percent":0)"));
  EXPECT_THAT(run.statuses.back(), HasSubstr(R"("state":"installed","percent":100)"));
  EXPECT_TRUE(wait_until([&] { return rollout_status().find("installed") != std::string::npos; }, 15s))
      << rollout_status();
}

TEST_F(ReleaseInstall, AnInterruptedDownloadResumesWhereItStopped) {
  start_rollout();
  CutAfter cut(*client_, 2);  // two 64 KiB ranges, then the connection is cut
  const UpdateRun first = update(config(), &cut);
  EXPECT_FALSE(first.staged());
  EXPECT_THAT(first.log, HasSubstr("connection cut"));
  EXPECT_EQ(first.failed_reason(), "") << "a cut is no refusal";
  EXPECT_EQ(fs::file_size(device_dir() / "slots/b/download.partial"), 2 * kelvin::device::kUpdateRangeBytes);
  EXPECT_FALSE(fs::exists(device_dir() / "boot.json"));

  const UpdateRun second = update(config());
  ASSERT_TRUE(second.staged()) << second.log;
  EXPECT_THAT(second.log, HasSubstr("download resumed after " + std::to_string(2 * kelvin::device::kUpdateRangeBytes)));
  EXPECT_EQ(read_text(device_dir() / "slots/b/image"), image_);
}

TEST_F(ReleaseInstall, RefusalsBeforeTheDownloadAreReportedAndLeaveTheDeviceAsItWas) {
  struct Case {
    const char* what;
    UpdateClientConfig config;
    const char* reason;
  };
  auto changed = [this](auto change) {
    UpdateClientConfig c = config();
    change(c);
    return c;
  };
  const Case cases[] = {
      {"another product", changed([](UpdateClientConfig& c) { c.product = "thermo-esp32"; }), "other_product"},
      {"a downgrade", changed([](UpdateClientConfig& c) {
         c.running_version = {1, 2, 0};
       }),
       "not_newer"},
      {"the running version's manifest", changed([](UpdateClientConfig& c) {
         c.running_version = {1, 1, 0};
       }),
       ""},
      {"too large for the slot", changed([](UpdateClientConfig& c) { c.slot_bytes = 299'999; }), "too_large"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    start_rollout();
    const UpdateRun run = update(c.config);
    if (std::string(c.reason).empty()) {
      // Offered the version it runs, the device says it runs it, without fetching anything.
      ASSERT_FALSE(run.statuses.empty());
      EXPECT_THAT(run.statuses.back(), HasSubstr(R"("state":"confirmed")"));
      continue;
    }
    expect_reported(run, c.reason);
  }
  // A device that pinned another key refuses what this gateway serves.
  auto other = kelvin::release::create_release_key_pair(install_.root() / "other-keys", std::nullopt);
  ASSERT_TRUE(other.ok());
  auto other_key = kelvin::release::load_release_public_key(other->public_key);
  start_rollout();
  expect_reported(update(config(), nullptr, &*other_key), "bad_signature");
  // A manifest of another device's product, validly signed, answered for this one's.
  start_rollout();
  ReplaysAnotherProduct replay(*client_, "thermo-linux", "thermo-esp32");
  expect_reported(update(config(), &replay), "other_product");
  // A security version below the highest the device accepted.
  kelvin::device::BootRecord record;
  record.confirmed_version = {1, 0, 0};
  record.highest_security_version = 3;
  fs::create_directories(device_dir());
  ASSERT_TRUE(kelvin::linux_port::save_boot_record(device_dir() / "boot.json", record).ok());
  start_rollout();
  expect_reported(update(config()), "security_version_too_low");
  EXPECT_EQ(*kelvin::linux_port::load_boot_record(device_dir() / "boot.json", {}), record);
  fs::remove(device_dir() / "boot.json");
  expect_untouched();
}

TEST_F(ReleaseInstall, AnImageAlteredOnTheGatewayIsRefusedReportedAndNotStaged) {
  // Someone with the gateway's disk flips a byte of the published image (its size unchanged, so
  // the gateway still serves it): the device's own hash check is what stops it.
  const fs::path published = install_.state_dir() / "releases/thermo-linux/1.1.0/image";
  std::string altered = image_;
  altered[123'456] ^= 0x40;
  std::ofstream(published, std::ios::binary | std::ios::trunc) << altered;
  start_rollout();
  expect_reported(update(config()), "hash_mismatch");
  expect_untouched();
  EXPECT_FALSE(fs::exists(device_dir() / "slots/b/download.partial")) << "a wrong image is not kept to resume";
}

TEST_F(ReleaseInstall, AGatewayStreamingPastTheSignedSizeIsRefusedReportedAndNothingIsStaged) {
  StreamsPastTheEnd endless(*client_);
  start_rollout();
  expect_reported(update(config(), &endless), "too_long");
  expect_untouched();
}

}  // namespace

// Freeze: the device judges the release timestamp the gateway serves, over the real HTTPS route.
// kelvinctl signs and publishes a current one; a statement that has expired since is then put in
// the catalog's place for it (as a gateway nobody gives new ones would hold it).
TEST_F(ReleaseInstall, TheReleaseTimestampTheGatewayServesIsJudgedByTheDevice) {
  auto judge = [&] {
    kelvin::linux_port::HttpsUpdateGateway gateway("sensor-01", *client_);
    kelvin::linux_port::FileSlotStorage slots(device_dir());
    auto hasher = kelvin::linux_port::make_sha256_image_hasher();
    PostedStatuses statuses(gateway);
    LogLines log;
    kelvin::linux_port::SystemWallClock clock;
    UpdateClientConfig c = config();
    c.check_interval_ms = 60'000;
    UpdateClient machine(c, *pinned_, {gateway, slots, statuses, *hasher, log, clock});
    machine.step(0);
    machine.step(c.first_check_after_ms);  // the check
    machine.step(c.first_check_after_ms);  // the timestamp
    return std::string(machine.release_check()) + " | " + log.text;
  };
  EXPECT_THAT(judge(), ::testing::StartsWith("timestamp_missing | "));

  const std::string stamp_file = (install_.root() / "thermo-linux.timestamp").string();
  install_.kelvinctl({"release", "timestamp", image_file().string() + ".manifest", "--key",
                      (keys() / "release.key").string(), "--out", stamp_file, "--valid-days", "7"});
  auto published =
      install_.kelvinctl({"release", "publish-timestamp", stamp_file, "--state-dir", install_.state_dir().string()});
  EXPECT_THAT(published.out, HasSubstr("thermo-linux 1.1.0 is the newest release"));
  EXPECT_THAT(judge(), ::testing::StartsWith("current | "));

  auto key = kelvin::release::load_release_signing_key(keys() / "release.key", std::nullopt);
  ASSERT_TRUE(key.ok()) << key.error().message;
  kelvin::proto::ReleaseTimestamp expired;
  expired.product = "thermo-linux";
  expired.version = {1, 1, 0};
  expired.security_version = 2;
  expired.expires = static_cast<std::int64_t>(std::time(nullptr)) - 60;
  expired.issued = expired.expires - 86'400;
  auto envelope = kelvin::release::sign_release_timestamp(expired, *key);
  ASSERT_TRUE(envelope.ok());
  const fs::path served = install_.state_dir() / "releases" / ".timestamps" / "thermo-linux";
  ASSERT_TRUE(fs::exists(served));
  std::ofstream(served, std::ios::trunc) << *envelope;
  // The device saw a later statement before: this older one is a rollback before it is expired.
  EXPECT_THAT(judge(), ::testing::StartsWith("timestamp_rolled_back | "));
  fs::remove(device_dir() / "newest-timestamp");
  const std::string verdict = judge();
  EXPECT_THAT(verdict, ::testing::StartsWith("timestamp_expired | "));
  EXPECT_THAT(verdict, HasSubstr("this device cannot tell whether its gateway withholds releases"));
}
