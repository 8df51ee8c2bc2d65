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

  // The product's release timestamp, as kelvinctl signed and published it, to devices with curl.
  const fs::path stamp = install_.root() / "thermo.timestamp";
  release_cli(
      {"timestamp", manifest_file().string(), "--key", (keys() / "release.key").string(), "--out", stamp.string()});
  auto unpublished = fetch(sensor1_, "sensor-01", "/releases/thermo-linux/timestamp", out);
  EXPECT_THAT(unpublished.out, HasSubstr("HTTP/1.1 404")) << describe(unpublished);
  EXPECT_THAT(read_text(out), HasSubstr("timestamp_not_found"));
  release_cli({"publish-timestamp", stamp.string(), "--state-dir", install_.state_dir().string()});
  auto served = fetch(sensor1_, "sensor-01", "/releases/thermo-linux/timestamp", out);
  EXPECT_THAT(served.out, HasSubstr("HTTP/1.1 200")) << describe(served);
  EXPECT_EQ(read_text(out), read_text(stamp));
  auto not_its_own = fetch(sensor2_, "sensor-01", "/releases/thermo-linux/timestamp", out);
  EXPECT_THAT(not_its_own.out, HasSubstr("HTTP/1.1 403")) << describe(not_its_own);

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
  ASSERT_EQ(listed.body["timestamps"].size(), 1u) << listed.body.dump();
  EXPECT_EQ(listed.body["timestamps"][0]["product"], "thermo-linux");
  EXPECT_EQ(listed.body["timestamps"][0]["version"], "1.1.0");
  EXPECT_THAT(listed.body["timestamps"][0]["expires"].get<std::string>(),
              ::testing::MatchesRegex("20[0-9-]+T[0-9:]+Z"));

  // kelvinctl's trust and publish are in the audit log beside the dashboard's actions.
  auto audit = admin.request("GET", "/api/v1/audit?before=end&limit=50");
  ASSERT_EQ(audit.status, 200) << audit.raw;
  std::vector<std::string> host_actions;
  for (const auto& entry : audit.body["entries"]) {
    if (entry["actor"] == "kelvinctl")
      host_actions.push_back(entry["action"].get<std::string>() + " " + entry["target"].get<std::string>());
  }
  EXPECT_THAT(host_actions,
              ::testing::UnorderedElementsAre("release_key_trust " + std::string(pinned->key_id()),
                                              "release_publish thermo-linux 1.1.0", "release_timestamp thermo-linux"));
}

TEST_F(ReleaseDownload, AReleaseServedFromMemoryIsDroppedOnceAnotherKeyIsTrusted) {
  trust_and_publish();
  const fs::path out = install_.root() / "out";
  for (int i = 0; i < 3; ++i) {  // verified once, then recalled
    auto got = fetch(sensor1_, "sensor-01", kImagePath, out, {"-r", "0-99"});
    ASSERT_THAT(got.out, HasSubstr("HTTP/1.1 206")) << describe(got);
  }
  const fs::path other_keys = install_.root() / "other-keys";
  release_cli({"keygen", "--dir", other_keys.string()});
  release_cli(
      {"trust", (other_keys / "release.pub").string(), "--replace", "--state-dir", install_.state_dir().string()});
  // The release is not signed by the key trusted now: no longer served, at the very next request.
  auto after = fetch(sensor1_, "sensor-01", kImagePath, out, {"-r", "0-99"});
  EXPECT_THAT(after.out, HasSubstr("HTTP/1.1 404")) << describe(after);
  auto manifest = fetch(sensor1_, "sensor-01", kManifestPath, out);
  EXPECT_THAT(manifest.out, HasSubstr("HTTP/1.1 404")) << describe(manifest);
}

// ---- operators publishing over HTTPS (the dashboard's upload) -----------------------------------

class ReleaseUpload : public ReleaseDownload {
 protected:
  void SetUp() override {
    ReleaseDownload::SetUp();
    release_cli({"trust", (keys() / "release.pub").string(), "--state-dir", install_.state_dir().string()});
    admin_.emplace(install_, *port_, install_.root() / "admin.jar");
    ASSERT_EQ(admin_->sign_in("admin", kelvin::testing::first_admin_password(install_.gateway_log())).status, 200);
  }

  static constexpr const char* kUploadManifest = "/api/v1/releases/thermo-linux/1.1.0/manifest";
  static constexpr const char* kUploadImage = "/api/v1/releases/thermo-linux/1.1.0/image";

  kelvin::testing::HttpsAnswer put_manifest(Browser& browser, const fs::path& manifest, bool with_csrf = true) {
    return browser.request("PUT", kUploadManifest, std::nullopt, with_csrf,
                           {"-H", "Content-Type: application/json", "--data-binary", "@" + manifest.string()});
  }
  kelvin::testing::HttpsAnswer put_image(Browser& browser, const fs::path& image) {
    return browser.request("PUT", kUploadImage, std::nullopt, true,
                           {"-H", "Content-Type: application/octet-stream", "--data-binary", "@" + image.string()});
  }
  fs::path write_file(const std::string& name, const std::string& content) {
    const fs::path path = install_.root() / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::vector<std::string> audited(const std::string& action) {
    auto audit = admin_->request("GET", "/api/v1/audit?before=end&limit=100");
    EXPECT_EQ(audit.status, 200) << audit.raw;
    std::vector<std::string> found;
    for (const auto& entry : audit.body["entries"]) {
      if (entry["action"] == action) {
        found.push_back(entry["actor"].get<std::string>() + " " + entry["result"].get<std::string>());
      }
    }
    return found;
  }
  fs::path pending_uploads() const { return install_.state_dir() / "releases" / ".uploads"; }

  std::optional<Browser> admin_;
};

TEST_F(ReleaseUpload, AnOperatorPublishesTheSignedManifestThenTheImageAndDevicesFetchIt) {
  // The image before its manifest, and a manifest without the session's CSRF token: refused.
  auto early = put_image(*admin_, image_file());
  EXPECT_EQ(early.status, 409) << early.raw;
  EXPECT_EQ(early.body["error"]["code"], "manifest_missing");
  EXPECT_EQ(put_manifest(*admin_, manifest_file(), false).status, 403);

  auto manifest = put_manifest(*admin_, manifest_file());
  ASSERT_EQ(manifest.status, 200) << manifest.raw;
  EXPECT_EQ(manifest.body["state"], "awaiting_image");
  EXPECT_EQ(manifest.body["size"], 400'000);
  auto image = put_image(*admin_, image_file());
  ASSERT_EQ(image.status, 201) << image.raw;
  EXPECT_EQ(image.body["state"], "published");
  EXPECT_FALSE(fs::exists(pending_uploads() / "thermo-linux" / "1.1.0")) << "the pending upload outlived its publish";

  // Served to devices exactly as signed, and listed.
  const fs::path fetched = install_.root() / "fetched.bin";
  auto got = fetch(sensor1_, "sensor-01", kImagePath, fetched);
  ASSERT_THAT(got.out, HasSubstr("HTTP/1.1 200")) << describe(got);
  EXPECT_EQ(read_text(fetched), image_);
  auto listed = admin_->request("GET", "/api/v1/releases");
  ASSERT_EQ(listed.body["releases"].size(), 1u) << listed.raw;
  EXPECT_EQ(listed.body["releases"][0]["version"], "1.1.0");

  // The same release again: published already, nothing changes.
  auto again = put_manifest(*admin_, manifest_file());
  EXPECT_EQ(again.status, 200) << again.raw;
  EXPECT_EQ(again.body["state"], "published");
  EXPECT_THAT(audited("release_publish"), ::testing::ElementsAre("admin ok"));
}

TEST_F(ReleaseUpload, AViewerCannotUploadAndForeignOrAlteredReleasesAreRefusedAndAudited) {
  auto added = admin_->request("POST", "/api/v1/users", nlohmann::json{{"name", "vera"}, {"role", "viewer"}});
  ASSERT_EQ(added.status, 201) << added.raw;
  Browser vera(install_, *port_, install_.root() / "vera.jar");
  ASSERT_EQ(vera.sign_in("vera", added.body["password"]).status, 200);
  auto viewer_manifest = put_manifest(vera, manifest_file());
  EXPECT_EQ(viewer_manifest.status, 403) << viewer_manifest.raw;
  EXPECT_EQ(viewer_manifest.body["error"]["code"], "forbidden");
  auto viewer_image = put_image(vera, image_file());
  EXPECT_EQ(viewer_image.status, 403) << viewer_image.raw;

  // Signed by another key.
  const fs::path other_keys = install_.root() / "other-keys";
  release_cli({"keygen", "--dir", other_keys.string()});
  const fs::path foreign = install_.root() / "foreign.manifest";
  release_cli({"sign", image_file().string(), "--version", "1.1.0", "--security-version", "1", "--product",
               "thermo-linux", "--key", (other_keys / "release.key").string(), "--out", foreign.string()});
  auto by_other_key = put_manifest(*admin_, foreign);
  EXPECT_EQ(by_other_key.status, 422) << by_other_key.raw;
  EXPECT_EQ(by_other_key.body["error"]["code"], "bad_signature");

  // The signed bytes changed (a bigger image claimed), and not a manifest at all.
  std::string altered = read_text(manifest_file());
  const auto payload = altered.find("\"payload\":\"") + 11;
  altered[payload + 20] = altered[payload + 20] == 'A' ? 'B' : 'A';
  auto tampered = put_manifest(*admin_, write_file("altered.manifest", altered));
  EXPECT_THAT(tampered.status, ::testing::AnyOf(400, 422)) << tampered.raw;
  auto unsigned_json = put_manifest(*admin_, write_file("plain.json", R"({"product":"thermo-linux"})"));
  EXPECT_EQ(unsigned_json.status, 400) << unsigned_json.raw;
  EXPECT_EQ(unsigned_json.body["error"]["code"], "malformed_manifest");
  // Signed for another release than the path names.
  auto elsewhere =
      admin_->request("PUT", "/api/v1/releases/thermo-linux/2.0.0/manifest", std::nullopt, true,
                      {"-H", "Content-Type: application/json", "--data-binary", "@" + manifest_file().string()});
  EXPECT_EQ(elsewhere.status, 400) << elsewhere.raw;
  EXPECT_EQ(elsewhere.body["error"]["code"], "release_name_mismatch");

  // The right manifest, then images that are not its image.
  ASSERT_EQ(put_manifest(*admin_, manifest_file()).status, 200);
  auto shorter = put_image(*admin_, write_file("short.bin", image_.substr(0, 1000)));
  EXPECT_EQ(shorter.status, 400) << shorter.raw;
  EXPECT_EQ(shorter.body["error"]["code"], "size_mismatch");
  auto longer = put_image(*admin_, write_file("long.bin", image_ + "x"));
  EXPECT_EQ(longer.status, 400) << longer.raw;
  std::string flipped = image_;
  flipped[123'456] = static_cast<char>(flipped[123'456] ^ 1);
  auto other_bytes = put_image(*admin_, write_file("flipped.bin", flipped));
  EXPECT_EQ(other_bytes.status, 422) << other_bytes.raw;
  EXPECT_EQ(other_bytes.body["error"]["code"], "image_mismatch");

  // Nothing was published, no body file is left, and each refusal of a signed-in operator is audited.
  auto listed = admin_->request("GET", "/api/v1/releases");
  EXPECT_TRUE(listed.body["releases"].empty()) << listed.raw;
  std::size_t leftovers = 0;
  for (const auto& entry : fs::recursive_directory_iterator(pending_uploads())) {
    if (entry.path().filename() != "manifest" && entry.is_regular_file()) ++leftovers;
  }
  EXPECT_EQ(leftovers, 0u);
  const auto refusals = audited("release_publish");
  EXPECT_EQ(std::count(refusals.begin(), refusals.end(), "admin refused"), 4) << ::testing::PrintToString(refusals);
  EXPECT_THAT(audited("permission_denied"), ::testing::Contains("vera denied"));

  // After all that, the real image still publishes.
  EXPECT_EQ(put_image(*admin_, image_file()).status, 201);
}

}  // namespace
