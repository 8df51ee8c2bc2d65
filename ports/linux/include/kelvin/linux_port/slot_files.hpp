#pragma once
// The device update's slot storage on Linux (device::SlotStorage, update_ports.hpp): files in the
// update directory (agent.toml [update] dir, 0700):
//   boot.json                     the boot record (boot_record_file.hpp)
//   slots/<a|b>/image             a slot's program (0755) and its signed manifest, as fetched
//   slots/<a|b>/manifest
//   slots/<a|b>/download.partial  a download in progress and the manifest it is for; a later
//   slots/<a|b>/download.manifest install of the same release resumes after the bytes it holds
//   newest-timestamp              the newest release timestamp seen (its signed envelope)
//
// Every step that matters is durable before the next: download.manifest is written atomically
// before its image's first byte, the partial image is synced (device::ImageDownload::finish)
// before it becomes `image`, `image` and `manifest` are in place and their directory synced before
// install_download returns, which is before the boot record names the slot; boot.json is replaced
// atomically. A crash at any point leaves the confirmed slot and the boot record as they were, or
// the new release staged.

#include <filesystem>
#include <memory>

#include "kelvin/device/update_ports.hpp"

namespace kelvin::linux_port {

class FileSlotStorage final : public device::SlotStorage {
 public:
  explicit FileSlotStorage(std::filesystem::path update_dir);
  ~FileSlotStorage() override;
  FileSlotStorage(const FileSlotStorage&) = delete;
  FileSlotStorage& operator=(const FileSlotStorage&) = delete;

  Result<device::BootRecord> load_boot_record(const device::BootRecord& fresh) override;
  Result<void> save_boot_record(const device::BootRecord& record) override;
  device::HeldDownload held_download(device::Slot slot) override;
  Result<void> open_download(device::Slot slot, std::string_view envelope, std::uint64_t keep) override;
  Result<std::size_t> read_download(std::uint64_t offset, std::span<char> into) override;
  bool write(std::uint64_t offset, std::string_view bytes) override;
  bool sync() override;
  Result<void> install_download(device::Slot slot) override;
  void discard_download(device::Slot slot) override;
  Result<std::string> load_newest_timestamp() override;
  Result<void> save_newest_timestamp(std::string_view envelope) override;

 private:
  void close_download();

  std::filesystem::path dir_;
  int download_fd_ = -1;  // the download opened last
  std::filesystem::path download_file_;
};

// The system clock, trusted as set (NTP keeps a Linux board's clock).
class SystemWallClock final : public device::WallClock {
 public:
  std::optional<std::int64_t> utc_seconds() override;
};

// The image hash the update checks (SHA-256, libs/crypto).
std::unique_ptr<device::ImageHasher> make_sha256_image_hasher();

}  // namespace kelvin::linux_port
