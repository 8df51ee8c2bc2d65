#include "kelvin/linux_port/slot_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <utility>

#include "kelvin/core/files.hpp"
#include "kelvin/crypto/digest.hpp"
#include "kelvin/linux_port/boot_record_file.hpp"
#include "kelvin/proto/signed_envelope.hpp"

namespace kelvin::linux_port {
namespace fs = std::filesystem;

namespace {

constexpr mode_t kProgramMode = 0755;

fs::path partial_image(const fs::path& dir, device::Slot slot) {
  return slot_path(dir, slot) / "download.partial";
}

fs::path partial_manifest(const fs::path& dir, device::Slot slot) {
  return slot_path(dir, slot) / "download.manifest";
}

class Sha256ImageHasher final : public device::ImageHasher {
 public:
  void update(std::string_view bytes) override { digest_.update(bytes); }
  std::string finish_hex() override { return digest_.finish_hex(); }
  void reset() override { digest_ = crypto::Sha256(); }

 private:
  crypto::Sha256 digest_;
};

}  // namespace

FileSlotStorage::FileSlotStorage(fs::path update_dir) : dir_(std::move(update_dir)) {}

FileSlotStorage::~FileSlotStorage() {
  close_download();
}

void FileSlotStorage::close_download() {
  if (download_fd_ >= 0) ::close(download_fd_);
  download_fd_ = -1;
}

Result<device::BootRecord> FileSlotStorage::load_boot_record(const device::BootRecord& fresh) {
  return linux_port::load_boot_record(boot_record_path(dir_), fresh);
}

Result<void> FileSlotStorage::save_boot_record(const device::BootRecord& record) {
  if (auto made = files::ensure_private_dir(dir_); !made) return made;
  return linux_port::save_boot_record(boot_record_path(dir_), record);
}

device::HeldDownload FileSlotStorage::held_download(device::Slot slot) {
  device::HeldDownload held;
  auto envelope = files::read_file(partial_manifest(dir_, slot), proto::kMaxEnvelopeBytes);
  if (!envelope) return held;
  std::error_code error;
  const auto size = fs::file_size(partial_image(dir_, slot), error);
  held.envelope = std::move(*envelope);
  held.bytes = error ? 0 : size;
  return held;
}

Result<void> FileSlotStorage::open_download(device::Slot slot, std::string_view envelope, std::uint64_t keep) {
  close_download();
  const fs::path slot_dir = slot_path(dir_, slot);
  if (auto made = files::ensure_private_dir(slot_dir); !made) return made;
  download_file_ = partial_image(dir_, slot);
  if (keep == 0) {
    std::error_code error;
    fs::remove(download_file_, error);
    if (auto written = files::write_file_atomic(partial_manifest(dir_, slot), envelope, files::kPrivateFileMode);
        !written) {
      return written;
    }
  }
  download_fd_ = ::open(download_file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (download_fd_ < 0) return files::error_from_errno("cannot open", download_file_);
  if (::ftruncate(download_fd_, static_cast<off_t>(keep)) != 0) {
    return files::error_from_errno("cannot truncate", download_file_);
  }
  return {};
}

Result<std::size_t> FileSlotStorage::read_download(std::uint64_t offset, std::span<char> into) {
  for (;;) {
    const ssize_t n = ::pread(download_fd_, into.data(), into.size(), static_cast<off_t>(offset));
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return files::error_from_errno("cannot read", download_file_);
  }
}

bool FileSlotStorage::write(std::uint64_t offset, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(download_fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

bool FileSlotStorage::sync() {
  return download_fd_ >= 0 && ::fsync(download_fd_) == 0;
}

Result<void> FileSlotStorage::install_download(device::Slot slot) {
  close_download();
  const fs::path slot_dir = slot_path(dir_, slot);
  const fs::path partial = partial_image(dir_, slot);
  auto envelope = files::read_file(partial_manifest(dir_, slot), proto::kMaxEnvelopeBytes);
  if (!envelope) return std::move(envelope).error();
  if (::chmod(partial.c_str(), kProgramMode) != 0) return files::error_from_errno("cannot make executable", partial);
  if (auto written = files::write_file_atomic(slot_dir / "manifest", *envelope, files::kPrivateFileMode); !written) {
    return written;
  }
  if (::rename(partial.c_str(), slot_image_path(dir_, slot).c_str()) != 0) {
    return files::error_from_errno("cannot move the image into", slot_image_path(dir_, slot));
  }
  std::error_code error;
  fs::remove(partial_manifest(dir_, slot), error);
  return files::sync_directory(slot_dir);
}

void FileSlotStorage::discard_download(device::Slot slot) {
  close_download();
  std::error_code error;
  fs::remove(partial_image(dir_, slot), error);
}

Result<std::string> FileSlotStorage::load_newest_timestamp() {
  const fs::path file = dir_ / "newest-timestamp";
  std::error_code error;
  if (!fs::exists(file, error)) {
    if (error) return make_error(Errc::io, "cannot inspect " + file.string() + ": " + error.message());
    return std::string();
  }
  return files::read_file(file, proto::kMaxEnvelopeBytes);
}

Result<void> FileSlotStorage::save_newest_timestamp(std::string_view envelope) {
  if (auto made = files::ensure_private_dir(dir_); !made) return made;
  return files::write_file_atomic(dir_ / "newest-timestamp", envelope, files::kPrivateFileMode);
}

std::optional<std::int64_t> SystemWallClock::utc_seconds() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

std::unique_ptr<device::ImageHasher> make_sha256_image_hasher() {
  return std::make_unique<Sha256ImageHasher>();
}

}  // namespace kelvin::linux_port
