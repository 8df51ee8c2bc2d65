// The Linux agent's release installer (ports/linux release_installer.hpp) against the real
// kelvin-gateway, through the agent's own HTTPS client: a release published with kelvinctl is
// fetched, decided on, downloaded in ranges into the inactive slot, checked and staged; an
// interrupted download resumes; every refusal leaves the device's slots and boot record as they
// were.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "https_client.hpp"
#include "installation.hpp"
#include "kelvin/linux_port/boot_record_file.hpp"
#include "kelvin/linux_port/https_client.hpp"
#include "kelvin/linux_port/release_installer.hpp"
#include "kelvin/release/release_keys.hpp"

namespace {

namespace fs = std::filesystem;
using kelvin::device::DownloadRefusal;
using kelvin::device::ReleaseRefusal;
using kelvin::device::Slot;
using kelvin::linux_port::HttpsAnswer;
using kelvin::linux_port::HttpsChannel;
using kelvin::linux_port::HttpsRequest;
using kelvin::linux_port::InstallRequest;
using kelvin::linux_port::ReleaseInstaller;
using kelvin::testing::DeviceFiles;
using kelvin::testing::Installation;
using kelvin::testing::read_text;
using kelvin::testing::wait_until;
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
    auto client = kelvin::linux_port::HttpsClient::create(
        {"localhost", static_cast<std::uint16_t>(*port_), device_.ca, device_.cert, device_.key});
    ASSERT_TRUE(client.ok()) << client.error().message;
    client_ = std::move(*client);
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

  InstallRequest request() const {
    InstallRequest r;
    r.device_id = "sensor-01";
    r.product = "thermo-linux";
    r.version = {1, 1, 0};
    r.running_product = "thermo-linux";
    r.running_version = {1, 0, 0};
    r.slot_bytes = 1'000'000;
    return r;
  }

  kelvin::Result<kelvin::linux_port::InstallOutcome> install(const InstallRequest& r, HttpsChannel* channel = nullptr,
                                                             const kelvin::proto::ReleaseKey* key = nullptr) {
    ReleaseInstaller installer(channel ? *channel : *client_, key ? *key : *pinned_, device_dir(),
                               [this](int percent) { percents_.push_back(percent); });
    return installer.install(r);
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
  std::vector<int> percents_;
};

TEST_F(ReleaseInstall, ANewerReleaseIsDownloadedCheckedAndStagedInTheOtherSlot) {
  auto outcome = install(request());
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  ASSERT_EQ(outcome->staged, Slot::b) << outcome->detail;
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
  ASSERT_FALSE(percents_.empty());
  EXPECT_EQ(percents_.front(), 0);
  EXPECT_EQ(percents_.back(), 100);
}

TEST_F(ReleaseInstall, AnInterruptedDownloadResumesWhereItStopped) {
  CutAfter cut(*client_, 2);  // two 64 KiB ranges, then the connection is cut
  auto first = install(request(), &cut);
  ASSERT_FALSE(first.ok());
  EXPECT_THAT(first.error().message, ::testing::HasSubstr("connection cut"));
  EXPECT_EQ(fs::file_size(device_dir() / "slots/b/download.partial"), 2 * kelvin::linux_port::kImageRangeBytes);
  EXPECT_FALSE(fs::exists(device_dir() / "boot.json"));

  auto second = install(request());
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->resumed_from, 2 * kelvin::linux_port::kImageRangeBytes);
  ASSERT_EQ(second->staged, Slot::b) << second->detail;
  EXPECT_EQ(read_text(device_dir() / "slots/b/image"), image_);
}

TEST_F(ReleaseInstall, RefusalsBeforeTheDownloadLeaveTheDeviceAsItWas) {
  struct Case {
    const char* what;
    InstallRequest request;
    ReleaseRefusal expected;
  };
  auto changed = [this](auto change) {
    InstallRequest r = request();
    change(r);
    return r;
  };
  const Case cases[] = {
      {"another product", changed([](InstallRequest& r) { r.running_product = "thermo-esp32"; }),
       ReleaseRefusal::other_product},
      {"a downgrade", changed([](InstallRequest& r) {
         r.running_version = {1, 2, 0};
       }),
       ReleaseRefusal::not_newer},
      {"the running version", changed([](InstallRequest& r) {
         r.running_version = {1, 1, 0};
       }),
       ReleaseRefusal::not_newer},
      {"too large for the slot", changed([](InstallRequest& r) { r.slot_bytes = 299'999; }), ReleaseRefusal::too_large},
  };
  for (const auto& c : cases) {
    auto outcome = install(c.request);
    ASSERT_TRUE(outcome.ok()) << c.what << ": " << outcome.error().message;
    EXPECT_EQ(outcome->refused, c.expected) << c.what << ": " << outcome->detail;
    EXPECT_FALSE(outcome->staged.has_value()) << c.what;
  }
  // A device that pinned another key refuses what this gateway serves.
  auto other = kelvin::release::create_release_key_pair(install_.root() / "other-keys", std::nullopt);
  ASSERT_TRUE(other.ok());
  auto other_key = kelvin::release::load_release_public_key(other->public_key);
  auto foreign = install(request(), nullptr, &*other_key);
  ASSERT_TRUE(foreign.ok());
  EXPECT_EQ(foreign->refused, ReleaseRefusal::bad_signature) << foreign->detail;
  // A security version below the highest the device accepted.
  kelvin::device::BootRecord record;
  record.confirmed_version = {1, 0, 0};
  record.highest_security_version = 3;
  fs::create_directories(device_dir());
  ASSERT_TRUE(kelvin::linux_port::save_boot_record(device_dir() / "boot.json", record).ok());
  auto lower = install(request());
  ASSERT_TRUE(lower.ok());
  EXPECT_EQ(lower->refused, ReleaseRefusal::security_version_too_low) << lower->detail;
  EXPECT_EQ(*kelvin::linux_port::load_boot_record(device_dir() / "boot.json", {}), record);
  fs::remove(device_dir() / "boot.json");
  expect_untouched();
}

TEST_F(ReleaseInstall, AnImageAlteredOnTheGatewayIsRefusedAfterTheDownloadAndNotStaged) {
  // Someone with the gateway's disk flips a byte of the published image (its size unchanged, so
  // the gateway still serves it): the device's own hash check is what stops it.
  const fs::path published = install_.state_dir() / "releases/thermo-linux/1.1.0/image";
  std::string altered = image_;
  altered[123'456] ^= 0x40;
  std::ofstream(published, std::ios::binary | std::ios::trunc) << altered;
  auto outcome = install(request());
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_EQ(outcome->download_refused, DownloadRefusal::hash_mismatch) << outcome->detail;
  EXPECT_FALSE(outcome->staged.has_value());
  expect_untouched();
  EXPECT_FALSE(fs::exists(device_dir() / "slots/b/download.partial")) << "a wrong image is not kept to resume";
}

TEST_F(ReleaseInstall, AGatewayStreamingPastTheSignedSizeIsRefusedAndNothingIsStaged) {
  StreamsPastTheEnd endless(*client_);
  auto outcome = install(request(), &endless);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_EQ(outcome->download_refused, DownloadRefusal::too_long) << outcome->detail;
  EXPECT_FALSE(outcome->staged.has_value());
  expect_untouched();
}

}  // namespace
