#include "kelvin/release/release_catalog.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "kelvin/release/release_image.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::release {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// Names of what is in `dir`, hidden ones included.
std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(dir, ignored)) names.push_back(entry.path().filename().string());
  return names;
}

class ReleaseCatalogTest : public ::testing::Test {
 protected:
  ReleaseCatalogTest() {
    keys_ = *create_release_key_pair(dir_ / "keys", std::nullopt);
    other_keys_ = *create_release_key_pair(dir_ / "other", std::nullopt);
  }

  // The image and signed manifest of `product` `version` with `content`, signed by `key_file`.
  std::pair<fs::path, std::string> release(const std::string& product, proto::FirmwareVersion version,
                                           const std::string& content, const fs::path& key_file) {
    const fs::path image = dir_ / (product + "-" + version.to_string() + "-" + std::to_string(content.size()) + ".bin");
    write(image, content);
    auto facts = measure_image(image);
    EXPECT_TRUE(facts.ok());
    proto::ReleaseManifest manifest;
    manifest.product = product;
    manifest.version = version;
    manifest.security_version = 1;
    manifest.size = facts->size;
    manifest.sha256 = facts->sha256;
    manifest.created = "2026-12-04T21:00:00Z";
    auto envelope = sign_release(manifest, *load_release_signing_key(key_file, std::nullopt));
    EXPECT_TRUE(envelope.ok());
    return {image, *envelope};
  }
  std::pair<fs::path, std::string> release(const std::string& product, proto::FirmwareVersion version,
                                           const std::string& content) {
    return release(product, version, content, keys_.private_key);
  }

  ReleaseCatalog catalog() const {
    return ReleaseCatalog(dir_ / "releases", *load_release_public_key(keys_.public_key));
  }

  testing::TempDir dir_;
  ReleaseKeyFiles keys_;
  ReleaseKeyFiles other_keys_;
};

TEST_F(ReleaseCatalogTest, PublishesAndListsReleasesInVersionOrder) {
  auto [image_a, manifest_a] = release("thermo", {1, 10, 0}, std::string(5000, 'a'));
  auto [image_b, manifest_b] = release("thermo", {1, 9, 0}, std::string(4000, 'b'));
  auto published = catalog().publish(image_a, manifest_a);
  ASSERT_TRUE(published.ok()) << published.error().message;
  EXPECT_FALSE(published->already_published);
  EXPECT_EQ(published->release.directory, dir_ / "releases/thermo/1.10.0");
  EXPECT_EQ(testing::read_text(published->release.image()), std::string(5000, 'a'));
  EXPECT_EQ(testing::read_text(published->release.manifest_file()), manifest_a);
  ASSERT_TRUE(catalog().publish(image_b, manifest_b).ok());

  auto listed = catalog().list();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].manifest.version, (proto::FirmwareVersion{1, 9, 0}));
  EXPECT_EQ((*listed)[1].manifest.version, (proto::FirmwareVersion{1, 10, 0}));
  EXPECT_EQ(entries(dir_ / "releases"), std::vector<std::string>{"thermo"});  // no leftovers

  auto found = catalog().find("thermo", {1, 9, 0});
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->manifest.size, 4000u);
  EXPECT_FALSE(catalog().find("thermo", {2, 0, 0})->has_value());
  EXPECT_FALSE(catalog().find("..", {1, 9, 0})->has_value());
  EXPECT_FALSE(catalog().find("thermo/../thermo", {1, 9, 0})->has_value());
}

TEST_F(ReleaseCatalogTest, TheSameReleaseAgainChangesNothingAnotherImageAsTheSameVersionIsRefused) {
  auto [image, manifest] = release("thermo", {2, 0, 0}, std::string(3000, 'x'));
  ASSERT_TRUE(catalog().publish(image, manifest).ok());
  auto again = catalog().publish(image, manifest);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->already_published);

  // Its manifest with another file is not the same release.
  write(dir_ / "impostor.bin", std::string(3000, 'X'));
  EXPECT_EQ(catalog().publish(dir_ / "impostor.bin", manifest).error().code, Errc::corrupt);

  auto [other_image, other_manifest] = release("thermo", {2, 0, 0}, std::string(3001, 'y'));
  auto conflict = catalog().publish(other_image, other_manifest);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, Errc::conflict);
  EXPECT_EQ(testing::read_text(dir_ / "releases/thermo/2.0.0/image"), std::string(3000, 'x'));
}

TEST_F(ReleaseCatalogTest, RefusesForeignSignaturesAndImagesThatAreNotTheManifests) {
  auto [image, manifest] = release("thermo", {3, 0, 0}, std::string(2000, 'z'), other_keys_.private_key);
  auto foreign = catalog().publish(image, manifest);
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, Errc::bad_credentials);
  EXPECT_FALSE(fs::exists(dir_ / "releases"));

  auto [good_image, good_manifest] = release("thermo", {3, 0, 0}, std::string(2000, 'z'));
  write(good_image, std::string(1999, 'z') + "Z");
  auto altered = catalog().publish(good_image, good_manifest);
  ASSERT_FALSE(altered.ok());
  EXPECT_EQ(altered.error().code, Errc::corrupt);
  EXPECT_TRUE(entries(dir_ / "releases").empty()) << "the half-assembled release is gone";

  write(good_image, std::string(2001, 'z'));
  EXPECT_EQ(catalog().publish(good_image, good_manifest).error().code, Errc::corrupt);
  EXPECT_EQ(catalog().publish(good_image, "{}").error().code, Errc::invalid_argument);
  // Not a file at all: refused before a byte is copied (publishing /dev/zero once filled the disk).
  EXPECT_EQ(catalog().publish("/dev/zero", good_manifest).error().code, Errc::invalid_argument);
  EXPECT_EQ(catalog().publish(dir_.path(), good_manifest).error().code, Errc::invalid_argument);
  EXPECT_TRUE(catalog().list()->empty());
}

TEST_F(ReleaseCatalogTest, APublishRemovesWhatAnOldCrashedPublishLeftButNotWorkInProgress) {
  fs::create_directories(dir_ / "releases/.incoming-0123456789abcdef");
  write(dir_ / "releases/.incoming-0123456789abcdef/image", "half an image");
  fs::last_write_time(dir_ / "releases/.incoming-0123456789abcdef",
                      fs::file_time_type::clock::now() - std::chrono::hours(2));
  fs::create_directories(dir_ / "releases/.incoming-fedcba9876543210");  // another publish, now
  EXPECT_TRUE(catalog().list()->empty()) << "leftovers are never listed";
  auto [image, manifest] = release("thermo", {1, 0, 0}, std::string(100, 'a'));
  ASSERT_TRUE(catalog().publish(image, manifest).ok());
  EXPECT_FALSE(fs::exists(dir_ / "releases/.incoming-0123456789abcdef"));
  EXPECT_TRUE(fs::exists(dir_ / "releases/.incoming-fedcba9876543210"));
}

TEST_F(ReleaseCatalogTest, ADamagedReleaseIsSkippedAndNamedWhileTheOthersServe) {
  auto [image_a, manifest_a] = release("thermo", {1, 0, 0}, std::string(100, 'a'));
  auto [image_b, manifest_b] = release("thermo", {1, 1, 0}, std::string(100, 'b'));
  ASSERT_TRUE(catalog().publish(image_a, manifest_a).ok());
  ASSERT_TRUE(catalog().publish(image_b, manifest_b).ok());
  write(dir_ / "releases/thermo/1.0.0/image", std::string(99, 'a'));  // truncated on disk
  // A manifest moved to another version's directory: signed, but not this release.
  fs::create_directories(dir_ / "releases/thermo/9.9.9");
  fs::copy_file(dir_ / "releases/thermo/1.1.0/manifest", dir_ / "releases/thermo/9.9.9/manifest");
  fs::copy_file(dir_ / "releases/thermo/1.1.0/image", dir_ / "releases/thermo/9.9.9/image");

  std::vector<std::string> problems;
  auto listed = catalog().list(&problems);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].manifest.version, (proto::FirmwareVersion{1, 1, 0}));
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(catalog().find("thermo", {1, 0, 0}).error().code, Errc::corrupt);
}

// A product's timestamp: published only when signed, current, naming a published release that is
// the newest, and never replaced by an older statement; it stays out of the release list.
TEST_F(ReleaseCatalogTest, ATimestampIsPublishedOnlyWhenItTellsTheTruthAndNeverGoesBack) {
  constexpr std::int64_t kNow = 1'796'457'600;  // 2026-12-05T08:00:00Z
  auto stamp = [&](proto::FirmwareVersion version, std::int64_t issued, const fs::path& key_file) {
    proto::ReleaseTimestamp t;
    t.product = "thermo";
    t.version = version;
    t.security_version = 1;
    t.issued = issued;
    t.expires = issued + 30 * 86'400;
    return *sign_release_timestamp(t, *load_release_signing_key(key_file, std::nullopt));
  };
  auto refusal = [&](const std::string& envelope) {
    auto outcome = catalog().publish_timestamp(envelope, kNow);
    return outcome ? std::string("published") : std::string(to_string(outcome.error().code));
  };
  auto [image_a, manifest_a] = release("thermo", {1, 1, 0}, std::string(3000, 'a'));
  EXPECT_EQ(refusal(stamp({1, 1, 0}, kNow, keys_.private_key)), "not found") << "the release is not published";
  ASSERT_TRUE(catalog().publish(image_a, manifest_a).ok());
  EXPECT_EQ(refusal(stamp({1, 1, 0}, kNow, other_keys_.private_key)), "bad credentials");
  EXPECT_EQ(refusal(stamp({1, 1, 0}, kNow - 31 * 86'400, keys_.private_key)), "invalid argument") << "expired";
  EXPECT_EQ(refusal("{}"), "invalid argument");

  const std::string first = stamp({1, 1, 0}, kNow - 86'400, keys_.private_key);
  EXPECT_EQ(refusal(first), "published");
  auto again = catalog().publish_timestamp(first, kNow);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_published);
  EXPECT_EQ(refusal(stamp({1, 1, 0}, kNow - 2 * 86'400, keys_.private_key)), "conflict") << "older than published";

  auto [image_b, manifest_b] = release("thermo", {1, 2, 0}, std::string(3000, 'b'));
  ASSERT_TRUE(catalog().publish(image_b, manifest_b).ok());
  EXPECT_EQ(refusal(stamp({1, 1, 0}, kNow, keys_.private_key)), "conflict") << "1.2.0 is newer than what it names";
  const std::string second = stamp({1, 2, 0}, kNow, keys_.private_key);
  EXPECT_EQ(refusal(second), "published");

  auto served = catalog().timestamp("thermo");
  ASSERT_TRUE(served.ok());
  ASSERT_TRUE(served->has_value());
  EXPECT_EQ((*served)->envelope, second);
  EXPECT_EQ((*served)->timestamp.version, (proto::FirmwareVersion{1, 2, 0}));
  EXPECT_EQ(testing::read_text(dir_ / "releases/.timestamps/thermo"), second);
  EXPECT_FALSE(catalog().timestamp("other")->has_value());
  std::vector<std::string> problems;
  EXPECT_EQ(catalog().list(&problems)->size(), 2u);
  EXPECT_TRUE(problems.empty());

  write(dir_ / "releases/.timestamps/thermo", "damaged");
  auto damaged = catalog().timestamp("thermo");
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.error().code, Errc::corrupt);
}

}  // namespace
}  // namespace kelvin::release
