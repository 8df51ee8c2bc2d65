#include "kelvin/linux_port/release_installer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "kelvin/core/files.hpp"
#include "kelvin/crypto/digest.hpp"
#include "kelvin/linux_port/boot_record_file.hpp"

namespace kelvin::linux_port {
namespace fs = std::filesystem;

namespace {

constexpr mode_t kProgramMode = 0755;

class Sha256Hasher final : public device::ImageHasher {
 public:
  void update(std::string_view bytes) override { digest_.update(bytes); }
  std::string finish_hex() override { return digest_.finish_hex(); }

 private:
  crypto::Sha256 digest_;
};

// The partial image file of a slot, written where the download stands.
class PartialImage final : public device::SlotWriter {
 public:
  static Result<PartialImage> open(const fs::path& file) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return files::error_from_errno("cannot open", file);
    return PartialImage(fd);
  }
  PartialImage(PartialImage&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  PartialImage& operator=(PartialImage&&) = delete;
  ~PartialImage() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool write(std::uint64_t offset, std::string_view bytes) override {
    while (!bytes.empty()) {
      const ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
      offset += static_cast<std::uint64_t>(n);
    }
    return true;
  }
  bool sync() override { return ::fsync(fd_) == 0; }
  // Cuts what lies past `size` (a longer leftover of an earlier attempt).
  bool truncate(std::uint64_t size) { return ::ftruncate(fd_, static_cast<off_t>(size)) == 0; }

 private:
  explicit PartialImage(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Feeds the first `length` bytes of `file` to `hasher`: the part of an interrupted download that
// is reused. False when they cannot be read.
bool hash_prefix(const fs::path& file, std::uint64_t length, device::ImageHasher& hasher) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::vector<char> buffer(kImageRangeBytes);
  std::uint64_t done = 0;
  bool ok = true;
  while (ok && done < length) {
    const auto wanted = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), length - done));
    const ssize_t n = ::pread(fd, buffer.data(), wanted, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) {
      hasher.update(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
      done += static_cast<std::uint64_t>(n);
    }
  }
  ::close(fd);
  return ok;
}

std::string release_path(const InstallRequest& request, std::string_view what) {
  return "/api/v1/devices/" + request.device_id + "/releases/" + request.product + "/" + request.version.to_string() +
         "/" + std::string(what);
}

Error gateway_refused(const std::string& what, const HttpsAnswer& answer) {
  return make_error(
      Errc::io, what + ": the gateway answered " + std::to_string(answer.status) + " " + answer.body.substr(0, 200));
}

}  // namespace

ReleaseInstaller::ReleaseInstaller(HttpsChannel& channel, const proto::ReleaseKey& pinned, fs::path dir,
                                   std::function<void(int)> progress)
    : channel_(channel), pinned_(pinned), dir_(std::move(dir)), progress_(std::move(progress)) {}

Result<InstallOutcome> ReleaseInstaller::install(const InstallRequest& request) {
  InstallOutcome outcome;
  auto fetched = exchange(channel_, {"GET", release_path(request, "manifest"), "", ""}, stop_);
  if (!fetched) return std::move(fetched).error();
  if (fetched->status != 200) return gateway_refused("fetching the manifest", *fetched);
  const std::string envelope = std::move(fetched->body);

  device::BootRecord fresh;
  fresh.confirmed_version = request.running_version;
  const fs::path boot_file = boot_record_path(dir_);
  auto record = load_boot_record(boot_file, fresh);
  if (!record) return std::move(record).error();

  const device::RunningFirmware running{request.running_product, request.running_version,
                                        record->highest_security_version, request.slot_bytes};
  device::ReleaseDecision decision = device::check_offered_release(envelope, pinned_, running);
  if (!decision.accepted) {
    outcome.refused = decision.refusal;
    outcome.detail = std::move(decision.detail);
    return outcome;
  }
  const proto::ReleaseManifest& manifest = *decision.accepted;
  if (manifest.product != request.product || manifest.version != request.version) {
    outcome.refused = device::ReleaseRefusal::malformed;
    outcome.detail = "the gateway answered the manifest of another release (" + manifest.product + " " +
                     manifest.version.to_string() + ")";
    return outcome;
  }

  const device::Slot slot = device::other_slot(record->confirmed);
  const fs::path slot_dir = slot_path(dir_, slot);
  if (auto made = files::ensure_private_dir(slot_dir); !made) return std::move(made).error();
  const fs::path partial = slot_dir / "download.partial";
  const fs::path partial_manifest = slot_dir / "download.manifest";

  // Resume only a download of exactly this release; anything else in the slot starts over.
  Sha256Hasher hasher;
  std::uint64_t already = 0;
  auto previous = files::read_file(partial_manifest, proto::kMaxEnvelopeBytes);
  std::error_code error;
  if (previous && *previous == envelope) {
    const auto size = fs::file_size(partial, error);
    if (!error) already = std::min<std::uint64_t>(size, manifest.size);
    if (already > 0 && !hash_prefix(partial, already, hasher)) {
      hasher = Sha256Hasher();
      already = 0;
    }
  } else {
    fs::remove(partial, error);
    if (auto written = files::write_file_atomic(partial_manifest, envelope, files::kPrivateFileMode); !written) {
      return std::move(written).error();
    }
  }
  outcome.resumed_from = already;

  auto image = PartialImage::open(partial);
  if (!image) return std::move(image).error();
  if (!image->truncate(already)) return files::error_from_errno("cannot truncate", partial);
  device::ImageDownload download(manifest, hasher, *image, already);
  if (progress_) progress_(download.percent());
  while (!download.complete()) {
    const std::uint64_t first = download.received();
    const std::uint64_t last = std::min(first + kImageRangeBytes, manifest.size) - 1;
    auto piece = exchange(
        channel_, {"GET", release_path(request, "image"), "", std::to_string(first) + "-" + std::to_string(last)},
        stop_);
    if (!piece) return std::move(piece).error();
    if (piece->status != 206 && !(piece->status == 200 && first == 0)) {
      return gateway_refused("fetching the image", *piece);
    }
    if (piece->body.empty()) return make_error(Errc::io, "fetching the image: the gateway sent no bytes");
    if (auto refused = download.accept(first, piece->body)) {
      outcome.download_refused = *refused;
      outcome.detail = std::string("the image was refused during the download: ") + device::to_string(*refused);
      return outcome;
    }
    if (progress_) progress_(download.percent());
  }
  if (auto refused = download.finish()) {
    outcome.download_refused = *refused;
    outcome.detail = std::string("the downloaded image was refused: ") + device::to_string(*refused);
    fs::remove(partial, error);  // a wrong image is not worth resuming
    return outcome;
  }

  // The slot's program and manifest in place, durably, before the boot record names the slot.
  if (::chmod(partial.c_str(), kProgramMode) != 0) return files::error_from_errno("cannot make executable", partial);
  if (auto written = files::write_file_atomic(slot_dir / "manifest", envelope, files::kPrivateFileMode); !written) {
    return std::move(written).error();
  }
  if (::rename(partial.c_str(), slot_image_path(dir_, slot).c_str()) != 0) {
    return files::error_from_errno("cannot move the image into", slot_image_path(dir_, slot));
  }
  fs::remove(partial_manifest, error);
  if (auto synced = files::sync_directory(slot_dir); !synced) return std::move(synced).error();
  const device::BootRecord staged =
      device::stage_trial(*record, manifest.version, manifest.security_version, request.trial_attempts);
  if (auto saved = save_boot_record(boot_file, staged); !saved) return std::move(saved).error();
  outcome.staged = slot;
  outcome.detail = manifest.product + " " + manifest.version.to_string() + " staged in slot " + device::to_string(slot);
  return outcome;
}

}  // namespace kelvin::linux_port
