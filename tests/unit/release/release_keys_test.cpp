#include "kelvin/release/release_keys.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "kelvin/core/files.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::release {
namespace {

mode_t mode_of(const std::filesystem::path& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777;
}

TEST(ReleaseKeysTest, CreatesAPrivateKeyOnlyItsOwnerReadsAndAPublicOne) {
  testing::TempDir dir;
  auto files = create_release_key_pair(dir / "keys", std::nullopt);
  ASSERT_TRUE(files.ok()) << files.error().message;
  EXPECT_EQ(mode_of(dir / "keys"), 0700u);
  EXPECT_EQ(mode_of(files->private_key), 0600u);
  EXPECT_EQ(mode_of(files->public_key), 0644u);

  auto signing = load_release_signing_key(files->private_key, std::nullopt);
  ASSERT_TRUE(signing.ok()) << signing.error().message;
  auto pinned = load_release_public_key(files->public_key);
  ASSERT_TRUE(pinned.ok()) << pinned.error().message;
  EXPECT_EQ(pinned->key_id(), files->key_id);
  EXPECT_EQ(signing->public_key().key_id(), files->key_id);
  auto signature = signing->sign("message");
  ASSERT_TRUE(signature.ok());
  EXPECT_TRUE(pinned->verify("message", *signature));
}

TEST(ReleaseKeysTest, NeverReplacesAnExistingKey) {
  testing::TempDir dir;
  auto first = create_release_key_pair(dir.path(), std::nullopt);
  ASSERT_TRUE(first.ok());
  const std::string before = testing::read_text(first->private_key);
  auto second = create_release_key_pair(dir.path(), std::nullopt);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, Errc::already_exists);
  EXPECT_EQ(testing::read_text(first->private_key), before);

  // The public half alone is enough to refuse: it may be what devices pinned.
  testing::TempDir other;
  ASSERT_TRUE(files::write_file_atomic(other / kPublicKeyFile, "pinned", 0644).ok());
  EXPECT_EQ(create_release_key_pair(other.path(), std::nullopt).error().code, Errc::already_exists);
  EXPECT_FALSE(std::filesystem::exists(other / kPrivateKeyFile));
}

TEST(ReleaseKeysTest, AnEncryptedKeyNeedsItsPassphrase) {
  testing::TempDir dir;
  auto files = create_release_key_pair(dir.path(), std::string("long passphrase"));
  ASSERT_TRUE(files.ok());
  EXPECT_NE(testing::read_text(files->private_key).find("ENCRYPTED"), std::string::npos);
  EXPECT_EQ(load_release_signing_key(files->private_key, std::nullopt).error().code, Errc::bad_credentials);
  EXPECT_EQ(load_release_signing_key(files->private_key, std::string("wrong")).error().code, Errc::bad_credentials);
  EXPECT_TRUE(load_release_signing_key(files->private_key, std::string("long passphrase")).ok());
}

TEST(ReleaseKeysTest, RefusesAPrivateKeyOthersCanRead) {
  testing::TempDir dir;
  auto files = create_release_key_pair(dir.path(), std::nullopt);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(::chmod(files->private_key.c_str(), 0644), 0);
  auto loaded = load_release_signing_key(files->private_key, std::nullopt);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, Errc::permission_denied);
}

TEST(ReleaseKeysTest, APublicKeyFileMustHoldAnEd25519Key) {
  testing::TempDir dir;
  ASSERT_TRUE(files::write_file_atomic(dir / "garbage.pub", "not a key", 0644).ok());
  EXPECT_FALSE(load_release_public_key(dir / "garbage.pub").ok());
  EXPECT_EQ(load_release_public_key(dir / "missing.pub").error().code, Errc::not_found);
}

}  // namespace
}  // namespace kelvin::release
