// Firmware releases on the real kelvin-gateway (docs/ota.md): signed and published with the real
// kelvinctl, then fetched as a device would with Debian's curl and its client certificate: the
// manifest byte for byte, the image whole and resumed after a cut, and the refusals for other
// callers. The downloaded manifest is then checked by the code devices decide with.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "https_client.hpp"
#include "installation.hpp"
#include "kelvin/device/release_check.hpp"
#include "kelvin/release/release_keys.hpp"

namespace {

namespace fs = std::filesystem;
using kelvin::testing::Browser;
using kelvin::testing::CommandResult;
using kelvin::testing::describe;
using kelvin::testing::DeviceFiles;
using kelvin::testing::Installation;
using kelvin::testing::read_text;
using kelvin::testing::run_command;
using kelvin::testing::wait_until;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr const char* kManifestPath = "/releases/thermo-linux/1.1.0/manifest";
constexpr const char* kImagePath = "/releases/thermo-linux/1.1.0/image";

class ReleaseDownload : public ::testing::Test {
 protected:
  void SetUp() override {
    sensor1_ = install_.issue_device("sensor-01");
    sensor2_ = install_.issue_device("sensor-02");
    install_.start_gateway();
    ASSERT_TRUE((port_ = install_.await_http_port()).has_value());
    for (int i = 0; i < 400'000; ++i) image_ += static_cast<char>(i * 31 % 256);
    std::ofstream(image_file(), std::ios::binary) << image_;
    release_cli({"keygen", "--dir", keys().string()});
    release_cli({"sign", image_file().string(), "--version", "1.1.0", "--security-version", "1", "--product",
                 "thermo-linux", "--key", (keys() / "release.key").string()});
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- gateway log ----\n" << install_.gateway_log();
  }

  fs::path keys() const { return install_.root() / "keys"; }
  fs::path image_file() const { return install_.root() / "thermo-1.1.0.bin"; }
  fs::path manifest_file() const { return install_.root() / "thermo-1.1.0.bin.manifest"; }

  void release_cli(std::vector<std::string> args) {
    args.insert(args.begin(), "release");
    install_.kelvinctl(args);
  }
  void trust_and_publish() {
    release_cli({"trust", (keys() / "release.pub").string(), "--state-dir", install_.state_dir().string()});
    release_cli(
        {"publish", image_file().string(), manifest_file().string(), "--state-dir", install_.state_dir().string()});
  }

  // curl as `device` (its certificate) for /api/v1/devices/<as_id><path>, the body into `out`;
  // prints the response's head.
  CommandResult fetch(const DeviceFiles& device, const std::string& as_id, const std::string& path, const fs::path& out,
                      const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{"curl",       "-sS",
                                  "--max-time", "30",
                                  "-D",         "-",
                                  "--cacert",   device.ca.string(),
                                  "--cert",     device.cert.string(),
                                  "--key",      device.key.string(),
                                  "-o",         out.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(kelvin::testing::gateway_url(*port_, "/api/v1/devices/" + as_id + path));
    return run_command(argv);
  }

  Installation install_;
  DeviceFiles sensor1_, sensor2_;
  std::optional<int> port_;
  std::string image_;
};

TEST_F(ReleaseDownload, ADeviceFetchesTheManifestAsSignedAndTheImageWholeOrResumed) {
  const fs::path manifest = install_.root() / "fetched.manifest";
  auto before = fetch(sensor1_, "sensor-01", kManifestPath, manifest);
  EXPECT_THAT(before.out, HasSubstr("HTTP/1.1 503")) << describe(before);
  EXPECT_THAT(read_text(manifest), HasSubstr("release_key_missing"));

  trust_and_publish();
  auto got = fetch(sensor1_, "sensor-01", kManifestPath, manifest);
  ASSERT_THAT(got.out, HasSubstr("HTTP/1.1 200")) << describe(got);
  EXPECT_EQ(read_text(manifest), read_text(manifest_file())) << "the bytes as signed";

  // What the device decides on the bytes it received, with the key it pinned.
  auto pinned = kelvin::release::load_release_public_key(keys() / "release.pub");
  ASSERT_TRUE(pinned.ok());
  auto decision = kelvin::device::check_offered_release(read_text(manifest), *pinned,
                                                        {"thermo-linux", {1, 0, 0}, 0, image_.size()});
  ASSERT_TRUE(decision.accepted.has_value()) << decision.detail;

  const fs::path image = install_.root() / "fetched.bin";
  auto whole = fetch(sensor1_, "sensor-01", kImagePath, image);
  ASSERT_THAT(whole.out, HasSubstr("HTTP/1.1 200")) << describe(whole);
  EXPECT_THAT(whole.out, HasSubstr("ETag: \"" + decision.accepted->sha256 + "\""));
  EXPECT_EQ(read_text(image), image_);

  // Cut off after 150,000 bytes: the rest, from where it stopped.
  std::ofstream(image, std::ios::binary | std::ios::trunc) << image_.substr(0, 150'000);
  auto resumed = fetch(sensor1_, "sensor-01", kImagePath, image, {"--continue-at", "-"});
  ASSERT_THAT(resumed.out, HasSubstr("HTTP/1.1 206")) << describe(resumed);
  EXPECT_THAT(resumed.out, HasSubstr("Content-Range: bytes 150000-399999/400000"));
  EXPECT_EQ(read_text(image), image_);
}

TEST_F(ReleaseDownload, OnlyTheDeviceItselfFetchesUnderItsIdAndUnknownReleasesAre404) {
  trust_and_publish();
  const fs::path out = install_.root() / "out";
  auto other = fetch(sensor2_, "sensor-01", kImagePath, out);
  EXPECT_THAT(other.out, HasSubstr("HTTP/1.1 403")) << describe(other);
  EXPECT_THAT(read_text(out), HasSubstr("device_mismatch"));
  auto unknown = fetch(sensor1_, "sensor-01", "/releases/thermo-linux/9.9.9/image", out);
  EXPECT_THAT(unknown.out, HasSubstr("HTTP/1.1 404")) << describe(unknown);
  auto dotted = fetch(sensor1_, "sensor-01", "/releases/..%2f..%2fpki/1.1.0/image", out);
  EXPECT_THAT(dotted.out, ::testing::AnyOf(HasSubstr("HTTP/1.1 400"), HasSubstr("HTTP/1.1 404"))) << describe(dotted);

  auto none = kelvin::testing::device_request(install_, *port_, std::nullopt, "GET",
                                              std::string("/api/v1/devices/sensor-01") + kImagePath, "");
  EXPECT_EQ(none.status, 401) << none.raw;

  // People see the list (viewer and up), never through a device's connection.
  Browser admin(install_, *port_, install_.root() / "admin.jar");
  const std::string password = kelvin::testing::first_admin_password(install_.gateway_log());
  ASSERT_EQ(admin.sign_in("admin", password).status, 200);
  auto listed = admin.request("GET", "/api/v1/releases");
  ASSERT_EQ(listed.status, 200) << listed.raw;
  auto pinned = kelvin::release::load_release_public_key(keys() / "release.pub");
  EXPECT_EQ(listed.body["release_key"], std::string(pinned->key_id()));
  ASSERT_EQ(listed.body["releases"].size(), 1u) << listed.body.dump();
  EXPECT_EQ(listed.body["releases"][0]["version"], "1.1.0");
  EXPECT_EQ(listed.body["releases"][0]["size"], 400'000);

  // kelvinctl's trust and publish are in the audit log beside the dashboard's actions.
  auto audit = admin.request("GET", "/api/v1/audit?before=end&limit=50");
  ASSERT_EQ(audit.status, 200) << audit.raw;
  std::vector<std::string> host_actions;
  for (const auto& entry : audit.body["entries"]) {
    if (entry["actor"] == "kelvinctl")
      host_actions.push_back(entry["action"].get<std::string>() + " " + entry["target"].get<std::string>());
  }
  EXPECT_THAT(host_actions, ::testing::UnorderedElementsAre("release_key_trust " + std::string(pinned->key_id()),
                                                            "release_publish thermo-linux 1.1.0"));
}

}  // namespace
