#include "kelvin/device/image_download.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "kelvin/crypto/digest.hpp"
#include "kelvin/linux_port/slot_files.hpp"

namespace kelvin::device {
namespace {

// A slot in memory that can be told to fail.
class MemorySlot : public SlotWriter {
 public:
  bool write(std::uint64_t offset, std::string_view bytes) override {
    if (fail_writes) return false;
    if (content.size() < offset + bytes.size()) content.resize(offset + bytes.size());
    content.replace(offset, bytes.size(), bytes);
    return true;
  }
  bool sync() override {
    ++syncs;
    return !fail_sync;
  }
  std::string content;
  int syncs = 0;
  bool fail_writes = false;
  bool fail_sync = false;
};

std::string image_bytes() {
  std::string image;
  for (int i = 0; i < 10'000; ++i) image += static_cast<char>(i * 7 % 256);
  return image;
}

proto::ReleaseManifest manifest_of(const std::string& image) {
  proto::ReleaseManifest manifest;
  manifest.product = "thermo";
  manifest.version = {1, 1, 0};
  manifest.size = image.size();
  manifest.sha256 = crypto::sha256_hex(image);
  manifest.created = "2026-12-04T21:00:00Z";
  return manifest;
}

TEST(ImageDownloadTest, PiecesInOrderMakeTheImageWhichIsCheckedAndSynced) {
  const std::string image = image_bytes();
  auto sha256 = linux_port::make_sha256_image_hasher();  // the platform's, as the Linux port supplies it
  ImageHasher& hasher = *sha256;
  MemorySlot slot;
  ImageDownload download(manifest_of(image), hasher, slot);
  for (std::size_t at = 0; at < image.size(); at += 4096) {
    EXPECT_EQ(download.accept(at, std::string_view(image).substr(at, 4096)), std::nullopt);
  }
  EXPECT_TRUE(download.complete());
  EXPECT_EQ(download.percent(), 100);
  EXPECT_EQ(download.finish(), std::nullopt);
  EXPECT_EQ(slot.content, image);
  EXPECT_EQ(slot.syncs, 1);
}

TEST(ImageDownloadTest, AResumedDownloadContinuesAfterTheBytesAlreadyInTheSlot) {
  const std::string image = image_bytes();
  auto sha256 = linux_port::make_sha256_image_hasher();  // the platform's, as the Linux port supplies it
  ImageHasher& hasher = *sha256;
  MemorySlot slot;
  slot.content = image.substr(0, 6000);  // from before the interruption
  hasher.update(slot.content);           // read back by the port
  ImageDownload download(manifest_of(image), hasher, slot, 6000);
  EXPECT_EQ(download.received(), 6000u);
  EXPECT_EQ(download.percent(), 60);
  EXPECT_EQ(download.accept(0, image.substr(0, 10)), DownloadRefusal::out_of_order);
  EXPECT_EQ(download.accept(6000, image.substr(6000)), std::nullopt);
  EXPECT_EQ(download.finish(), std::nullopt);
  EXPECT_EQ(slot.content, image);
}

TEST(ImageDownloadTest, NothingPastTheSignedSizeEverReachesTheSlot) {
  const std::string image = image_bytes();
  auto sha256 = linux_port::make_sha256_image_hasher();  // the platform's, as the Linux port supplies it
  ImageHasher& hasher = *sha256;
  MemorySlot slot;
  ImageDownload download(manifest_of(image), hasher, slot);
  ASSERT_EQ(download.accept(0, image.substr(0, 9000)), std::nullopt);
  // A server streaming past the size: the piece that would pass it is refused whole.
  EXPECT_EQ(download.accept(9000, image.substr(9000) + "EXTRA"), DownloadRefusal::too_long);
  EXPECT_EQ(slot.content.size(), 9000u);
  EXPECT_EQ(download.finish(), DownloadRefusal::incomplete);
  EXPECT_STREQ(to_string(DownloadRefusal::too_long), "too_long");
}

TEST(ImageDownloadTest, AnImageThatIsNotTheManifestsIsRefusedAtTheEnd) {
  std::string image = image_bytes();
  const auto manifest = manifest_of(image);
  image[5000] ^= 1;
  auto sha256 = linux_port::make_sha256_image_hasher();  // the platform's, as the Linux port supplies it
  ImageHasher& hasher = *sha256;
  MemorySlot slot;
  ImageDownload download(manifest, hasher, slot);
  ASSERT_EQ(download.accept(0, image), std::nullopt);
  EXPECT_EQ(download.finish(), DownloadRefusal::hash_mismatch);
  EXPECT_EQ(slot.syncs, 0) << "a wrong image is never made durable as a finished one";
}

TEST(ImageDownloadTest, SlotFailuresAreRefusals) {
  const std::string image = image_bytes();
  auto sha256 = linux_port::make_sha256_image_hasher();  // the platform's, as the Linux port supplies it
  ImageHasher& hasher = *sha256;
  MemorySlot slot;
  slot.fail_writes = true;
  ImageDownload download(manifest_of(image), hasher, slot);
  EXPECT_EQ(download.accept(0, image.substr(0, 100)), DownloadRefusal::slot_failed);
  EXPECT_EQ(download.received(), 0u);
  slot.fail_writes = false;
  ASSERT_EQ(download.accept(0, image), std::nullopt);
  slot.fail_sync = true;
  EXPECT_EQ(download.finish(), DownloadRefusal::slot_failed);
}

}  // namespace
}  // namespace kelvin::device
