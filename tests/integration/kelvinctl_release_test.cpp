// `kelvinctl release keygen|sign|verify` as a release manager uses them: the real binary on temp
// dirs; what it writes checked with clients it did not write (the openssl command line verifies
// the envelope's signature over the DSSE pre-authentication encoding) and with the code devices
// decide with.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "kelvin/core/base64.hpp"
#include "kelvin/device/release_check.hpp"
#include "kelvin/release/release_keys.hpp"
#include "kelvin/testing/process.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using kelvin::testing::CommandOptions;
using kelvin::testing::CommandResult;
using kelvin::testing::describe;
using kelvin::testing::project_binary;
using kelvin::testing::read_text;
using kelvin::testing::run_command;
using kelvin::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

CommandResult kelvinctl(const std::vector<std::string>& args, CommandOptions options = {}) {
  std::vector<std::string> argv{project_binary("kelvinctl")};
  argv.insert(argv.end(), args.begin(), args.end());
  options.env.emplace("KELVIN_RELEASE_PASSPHRASE", std::nullopt);
  return run_command(argv, options);
}

void expect_one_line_failure(const CommandResult& r, const std::string& what, const std::string& says) {
  EXPECT_EQ(r.exit_code, 1) << what << "\n" << describe(r);
  EXPECT_THAT(r.err, StartsWith("kelvinctl: ")) << what;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << "\n" << r.err;
  EXPECT_THAT(r.err, HasSubstr(says)) << what;
}

void write(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

mode_t mode_of(const fs::path& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777;
}

class KelvinctlReleaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto made = kelvinctl({"release", "keygen", "--dir", (dir_ / "keys").string()});
    ASSERT_EQ(made.exit_code, 0) << describe(made);
    std::string image;
    for (int i = 0; i < 150'000; ++i) image += static_cast<char>(i * 7 % 256);
    write(image_, image);
  }

  CommandResult sign(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"release",
                                  "sign",
                                  image_.string(),
                                  "--version",
                                  "1.2.0",
                                  "--security-version",
                                  "2",
                                  "--product",
                                  "thermo-linux",
                                  "--notes",
                                  "fixes the \"stuck\" sensor",
                                  "--key",
                                  (dir_ / "keys/release.key").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return kelvinctl(args);
  }
  CommandResult verify(const fs::path& manifest, const std::string& public_key, const fs::path& image = {}) {
    std::vector<std::string> args{"release", "verify", manifest.string(), "--public-key", public_key};
    if (!image.empty()) args.insert(args.end(), {"--image", image.string()});
    return kelvinctl(args);
  }

  TempDir dir_;
  fs::path image_ = dir_ / "thermo-1.2.0.bin";
  fs::path manifest_ = dir_ / "thermo-1.2.0.bin.manifest";
};

TEST_F(KelvinctlReleaseTest, KeygenWritesTheKeyPairOnceWithTheirModes) {
  EXPECT_EQ(mode_of(dir_ / "keys"), 0700u);
  EXPECT_EQ(mode_of(dir_ / "keys/release.key"), 0600u);
  EXPECT_EQ(mode_of(dir_ / "keys/release.pub"), 0644u);
  const std::string key_before = read_text(dir_ / "keys/release.key");
  expect_one_line_failure(kelvinctl({"release", "keygen", "--dir", (dir_ / "keys").string()}), "second keygen",
                          "already exists");
  EXPECT_EQ(read_text(dir_ / "keys/release.key"), key_before);
}

TEST_F(KelvinctlReleaseTest, ASignedManifestVerifiesAndDescribesTheImage) {
  auto signed_ = sign();
  ASSERT_EQ(signed_.exit_code, 0) << describe(signed_);
  EXPECT_THAT(signed_.out, HasSubstr("Signed thermo-linux 1.2.0 (security version 2, 150000 bytes"));
  auto checked = verify(manifest_, (dir_ / "keys/release.pub").string(), image_);
  ASSERT_EQ(checked.exit_code, 0) << describe(checked);
  EXPECT_THAT(checked.out, HasSubstr("version           1.2.0"));
  EXPECT_THAT(checked.out, HasSubstr("notes             fixes the \"stuck\" sensor"));
  EXPECT_THAT(checked.out, HasSubstr(" matches"));

  // The device's own decision on it, with the pinned public key: a newer release of its product.
  auto pinned = kelvin::release::load_release_public_key(dir_ / "keys/release.pub");
  ASSERT_TRUE(pinned.ok());
  kelvin::device::RunningFirmware running{"thermo-linux", {1, 1, 0}, 2, 1'000'000};
  auto decision = kelvin::device::check_offered_release(read_text(manifest_), *pinned, running);
  ASSERT_TRUE(decision.accepted.has_value()) << decision.detail;
  EXPECT_EQ(decision.accepted->size, 150'000u);

  expect_one_line_failure(sign(), "signing over an existing manifest", "already exists");
  EXPECT_EQ(sign({"--force"}).exit_code, 0);
}

TEST_F(KelvinctlReleaseTest, TheOpensslCommandLineVerifiesTheSignature) {
  ASSERT_EQ(sign().exit_code, 0);
  const auto envelope = nlohmann::json::parse(read_text(manifest_));
  const std::string type = envelope.at("payloadType");
  const auto payload = kelvin::base64_decode(envelope.at("payload").get<std::string>());
  const auto signature = kelvin::base64_decode(envelope.at("signatures").at(0).at("sig").get<std::string>());
  ASSERT_TRUE(payload && signature);
  EXPECT_THAT(*payload, StartsWith(R"({"product":"thermo-linux","version":"1.2.0","security_version":2,)"));
  write(dir_ / "pae",
        "DSSEv1 " + std::to_string(type.size()) + " " + type + " " + std::to_string(payload->size()) + " " + *payload);
  write(dir_ / "sig", *signature);
  auto checked = run_command({"openssl", "pkeyutl", "-verify", "-pubin", "-inkey", (dir_ / "keys/release.pub").string(),
                              "-rawin", "-in", (dir_ / "pae").string(), "-sigfile", (dir_ / "sig").string()});
  EXPECT_EQ(checked.exit_code, 0) << describe(checked);
}

TEST_F(KelvinctlReleaseTest, RefusesAnotherKeyATamperedManifestAndAnotherImage) {
  ASSERT_EQ(sign().exit_code, 0);
  ASSERT_EQ(kelvinctl({"release", "keygen", "--dir", (dir_ / "other").string()}).exit_code, 0);
  expect_one_line_failure(verify(manifest_, (dir_ / "other/release.pub").string()), "another key",
                          "not signed by the release key");

  // The payload re-encoded with a lower security version, the signature kept.
  auto envelope = nlohmann::json::parse(read_text(manifest_));
  std::string payload = *kelvin::base64_decode(envelope["payload"].get<std::string>());
  payload.replace(payload.find("\"security_version\":2"), 20, "\"security_version\":1");
  envelope["payload"] = kelvin::base64_encode(payload);
  write(dir_ / "tampered.manifest", envelope.dump());
  expect_one_line_failure(verify(dir_ / "tampered.manifest", (dir_ / "keys/release.pub").string()), "tampered",
                          "does not verify");

  write(dir_ / "other.bin", "another image");
  expect_one_line_failure(verify(manifest_, (dir_ / "keys/release.pub").string(), dir_ / "other.bin"), "another image",
                          "shorter than the manifest's 150000 bytes");
}

TEST_F(KelvinctlReleaseTest, AnEncryptedKeySignsOnlyWithItsPassphrase) {
  write(dir_ / "passphrase", "a long release passphrase\n");
  ASSERT_EQ(::chmod((dir_ / "passphrase").c_str(), 0600), 0);
  auto made = kelvinctl(
      {"release", "keygen", "--dir", (dir_ / "locked").string(), "--passphrase-file", (dir_ / "passphrase").string()});
  ASSERT_EQ(made.exit_code, 0) << describe(made);
  EXPECT_THAT(made.out, HasSubstr("encrypted with your passphrase"));
  const std::vector<std::string> sign_args{"release",
                                           "sign",
                                           image_.string(),
                                           "--version",
                                           "2.0.0",
                                           "--security-version",
                                           "3",
                                           "--product",
                                           "thermo-linux",
                                           "--key",
                                           (dir_ / "locked/release.key").string()};
  expect_one_line_failure(kelvinctl(sign_args), "no passphrase", "no passphrase was given");
  CommandOptions with_env;
  with_env.env["KELVIN_RELEASE_PASSPHRASE"] = "a long release passphrase";
  std::vector<std::string> argv{project_binary("kelvinctl")};
  argv.insert(argv.end(), sign_args.begin(), sign_args.end());
  auto signed_ = run_command(argv, with_env);
  EXPECT_EQ(signed_.exit_code, 0) << describe(signed_);
}

TEST_F(KelvinctlReleaseTest, TheGatewayTakesOnlyReleasesSignedByTheKeyItTrusts) {
  const std::string state = (dir_ / "state").string();
  fs::create_directories(state);
  ASSERT_EQ(sign().exit_code, 0);
  const std::vector<std::string> publish{"release",          "publish",     image_.string(),
                                         manifest_.string(), "--state-dir", state};
  expect_one_line_failure(kelvinctl(publish), "publish before trust", "kelvinctl release trust");

  auto trusted = kelvinctl({"release", "trust", (dir_ / "keys/release.pub").string(), "--state-dir", state});
  ASSERT_EQ(trusted.exit_code, 0) << describe(trusted);
  auto published = kelvinctl(publish);
  ASSERT_EQ(published.exit_code, 0) << describe(published);
  EXPECT_THAT(published.out, HasSubstr("Published thermo-linux 1.2.0"));
  EXPECT_EQ(read_text(dir_ / "state/releases/thermo-linux/1.2.0/image"), read_text(image_));
  EXPECT_THAT(kelvinctl(publish).out, HasSubstr("published already"));
  auto listed = kelvinctl({"release", "list", "--state-dir", state});
  ASSERT_EQ(listed.exit_code, 0) << describe(listed);
  EXPECT_THAT(listed.out, HasSubstr("thermo-linux  1.2.0"));

  // Signed by another key: refused, and the gateway's key stays unless replaced on purpose.
  ASSERT_EQ(kelvinctl({"release", "keygen", "--dir", (dir_ / "other").string()}).exit_code, 0);
  ASSERT_EQ(kelvinctl({"release", "sign", image_.string(), "--version", "1.3.0", "--security-version", "2", "--product",
                       "thermo-linux", "--key", (dir_ / "other/release.key").string(), "--out",
                       (dir_ / "foreign.manifest").string()})
                .exit_code,
            0);
  expect_one_line_failure(
      kelvinctl({"release", "publish", image_.string(), (dir_ / "foreign.manifest").string(), "--state-dir", state}),
      "foreign signature", "not signed by the release key");
  expect_one_line_failure(kelvinctl({"release", "trust", (dir_ / "other/release.pub").string(), "--state-dir", state}),
                          "trusting another key", "--replace");

  // Another image as the same version, and an image that is not the manifest's.
  write(dir_ / "changed.bin", read_text(image_) + "!");
  expect_one_line_failure(
      kelvinctl({"release", "publish", (dir_ / "changed.bin").string(), manifest_.string(), "--state-dir", state}),
      "not the manifest's image", "longer than the manifest's");
  ASSERT_EQ(kelvinctl({"release", "sign", (dir_ / "changed.bin").string(), "--version", "1.2.0", "--security-version",
                       "2", "--product", "thermo-linux", "--key", (dir_ / "keys/release.key").string()})
                .exit_code,
            0);
  expect_one_line_failure(kelvinctl({"release", "publish", (dir_ / "changed.bin").string(),
                                     (dir_ / "changed.bin.manifest").string(), "--state-dir", state}),
                          "same version, other image", "never replaced");
  EXPECT_EQ(read_text(dir_ / "state/releases/thermo-linux/1.2.0/image"), read_text(image_));
}

// A release timestamp: signed offline for the manifest of a release the same key signed, published
// on the gateway only for a published release, shown by list with its expiry.
TEST_F(KelvinctlReleaseTest, ATimestampIsSignedForAReleaseOfTheKeyAndPublishedBesideIt) {
  const std::string state = (dir_ / "state").string();
  fs::create_directories(state);
  ASSERT_EQ(sign().exit_code, 0);
  const std::string stamp = (dir_ / "thermo.timestamp").string();
  const std::vector<std::string> sign_stamp{
      "release", "timestamp", manifest_.string(), "--key", (dir_ / "keys/release.key").string(), "--out", stamp};
  auto signed_stamp = kelvinctl(sign_stamp);
  ASSERT_EQ(signed_stamp.exit_code, 0) << describe(signed_stamp);
  EXPECT_THAT(signed_stamp.out, HasSubstr("thermo-linux 1.2.0 is the newest release (security version 2)"));
  expect_one_line_failure(kelvinctl(sign_stamp), "no overwrite", "already exists (--force replaces it)");
  ASSERT_EQ(kelvinctl({"release", "keygen", "--dir", (dir_ / "other").string()}).exit_code, 0);
  expect_one_line_failure(kelvinctl({"release", "timestamp", manifest_.string(), "--key",
                                     (dir_ / "other/release.key").string(), "--out", (dir_ / "x").string()}),
                          "a manifest of another key", "not signed by the release key");
  auto too_long = kelvinctl({"release", "timestamp", manifest_.string(), "--key", (dir_ / "keys/release.key").string(),
                             "--valid-days", "400", "--force", "--out", stamp});
  EXPECT_EQ(too_long.exit_code, 2) << describe(too_long);

  ASSERT_EQ(kelvinctl({"release", "trust", (dir_ / "keys/release.pub").string(), "--state-dir", state}).exit_code, 0);
  const std::vector<std::string> publish_stamp{"release", "publish-timestamp", stamp, "--state-dir", state};
  expect_one_line_failure(kelvinctl(publish_stamp), "before its release", "publish the release first");
  ASSERT_EQ(kelvinctl({"release", "publish", image_.string(), manifest_.string(), "--state-dir", state}).exit_code, 0);
  auto published = kelvinctl(publish_stamp);
  ASSERT_EQ(published.exit_code, 0) << describe(published);
  EXPECT_EQ(read_text(dir_ / "state/releases/.timestamps/thermo-linux"), read_text(stamp));
  EXPECT_THAT(kelvinctl(publish_stamp).out, HasSubstr("published already"));
  auto listed = kelvinctl({"release", "list", "--state-dir", state});
  EXPECT_THAT(listed.out, ::testing::ContainsRegex("thermo-linux: names 1.2.0, expires [0-9T:Z-]+ \\(in 29 days\\)"));
}

TEST_F(KelvinctlReleaseTest, BadArgumentsAreUsageErrors) {
  auto bad_version = kelvinctl({"release", "sign", image_.string(), "--version", "1.2", "--security-version", "1",
                                "--product", "thermo-linux", "--key", (dir_ / "keys/release.key").string()});
  EXPECT_EQ(bad_version.exit_code, 2) << describe(bad_version);
  auto bad_product = kelvinctl({"release", "sign", image_.string(), "--version", "1.2.0", "--security-version", "1",
                                "--product", "Thermo Linux", "--key", (dir_ / "keys/release.key").string()});
  expect_one_line_failure(bad_product, "bad product", "product must be");
  EXPECT_FALSE(fs::exists(manifest_));
}

}  // namespace
