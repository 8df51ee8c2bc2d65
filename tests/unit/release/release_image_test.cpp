#include "kelvin/release/release_image.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "kelvin/crypto/digest.hpp"
#include "kelvin/release/release_keys.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::release {
namespace {

void write(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string image_bytes(std::size_t size) {
  std::string bytes;
  for (std::size_t i = 0; i < size; ++i) bytes += static_cast<char>(i * 131 % 251);
  return bytes;
}

proto::ReleaseManifest manifest_for(const ImageFacts& facts) {
  proto::ReleaseManifest manifest;
  manifest.product = "thermo";
  manifest.version = proto::FirmwareVersion{1, 2, 3};
  manifest.security_version = 2;
  manifest.size = facts.size;
  manifest.sha256 = facts.sha256;
  manifest.created = "2026-12-04T21:00:00Z";
  return manifest;
}

TEST(ReleaseImageTest, MeasuresSizeAndHashAcrossChunks) {
  testing::TempDir dir;
  const std::string bytes = image_bytes(200'003);  // three 64 KiB chunks and a rest
  write(dir / "image.bin", bytes);
  auto facts = measure_image(dir / "image.bin");
  ASSERT_TRUE(facts.ok()) << facts.error().message;
  EXPECT_EQ(facts->size, bytes.size());
  EXPECT_EQ(facts->sha256, crypto::sha256_hex(bytes));

  write(dir / "empty.bin", "");
  EXPECT_EQ(measure_image(dir / "empty.bin").error().code, Errc::invalid_argument);
  EXPECT_EQ(measure_image(dir / "missing.bin").error().code, Errc::not_found);
  EXPECT_EQ(measure_image("/dev/zero").error().code, Errc::invalid_argument);
}

TEST(ReleaseImageTest, ChecksAnImageAgainstItsManifest) {
  testing::TempDir dir;
  const std::string bytes = image_bytes(70'000);
  write(dir / "image.bin", bytes);
  const auto manifest = manifest_for(*measure_image(dir / "image.bin"));
  EXPECT_TRUE(check_image(dir / "image.bin", manifest).ok());

  write(dir / "longer.bin", bytes + "x");
  auto longer = check_image(dir / "longer.bin", manifest);
  ASSERT_FALSE(longer.ok());
  EXPECT_EQ(longer.error().code, Errc::corrupt);
  EXPECT_NE(longer.error().message.find("longer than the manifest's 70000 bytes"), std::string::npos)
      << longer.error().message;

  write(dir / "shorter.bin", bytes.substr(1));
  EXPECT_NE(check_image(dir / "shorter.bin", manifest).error().message.find("shorter"), std::string::npos);

  std::string altered = bytes;
  altered[65'536] ^= 0x20;
  write(dir / "altered.bin", altered);
  auto hash = check_image(dir / "altered.bin", manifest);
  ASSERT_FALSE(hash.ok());
  EXPECT_NE(hash.error().message.find("SHA-256"), std::string::npos);
}

TEST(ReleaseImageTest, ASignedReleaseOpensWithThePinnedKeyOnly) {
  testing::TempDir dir;
  auto files = create_release_key_pair(dir / "keys", std::nullopt);
  auto other = create_release_key_pair(dir / "other", std::nullopt);
  ASSERT_TRUE(files.ok() && other.ok());
  auto signing = load_release_signing_key(files->private_key, std::nullopt);
  ASSERT_TRUE(signing.ok());
  write(dir / "image.bin", image_bytes(1000));
  const auto manifest = manifest_for(*measure_image(dir / "image.bin"));

  auto envelope = sign_release(manifest, *signing);
  ASSERT_TRUE(envelope.ok()) << envelope.error().message;
  auto opened = proto::open_release_envelope(*envelope, *load_release_public_key(files->public_key));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->sha256, manifest.sha256);
  EXPECT_TRUE(check_image(dir / "image.bin", *opened).ok());

  auto foreign = proto::open_release_envelope(*envelope, *load_release_public_key(other->public_key));
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, Errc::bad_credentials);

  proto::ReleaseManifest invalid = manifest;
  invalid.product = "Not Valid";
  EXPECT_EQ(sign_release(invalid, *signing).error().code, Errc::invalid_argument);
}

}  // namespace
}  // namespace kelvin::release
