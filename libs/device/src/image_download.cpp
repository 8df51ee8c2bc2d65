#include "kelvin/device/image_download.hpp"

#include <utility>

namespace kelvin::device {

const char* to_string(DownloadRefusal refusal) noexcept {
  switch (refusal) {
    case DownloadRefusal::out_of_order:
      return "out_of_order";
    case DownloadRefusal::too_long:
      return "too_long";
    case DownloadRefusal::hash_mismatch:
      return "hash_mismatch";
    case DownloadRefusal::slot_failed:
      return "slot_failed";
    case DownloadRefusal::incomplete:
      return "incomplete";
  }
  return "incomplete";
}

ImageDownload::ImageDownload(proto::ReleaseManifest manifest, ImageHasher& hasher, SlotWriter& slot,
                             std::uint64_t already)
    : manifest_(std::move(manifest)), hasher_(hasher), slot_(slot), received_(already) {}

std::optional<DownloadRefusal> ImageDownload::accept(std::uint64_t offset, std::string_view bytes) {
  if (offset != received_) return DownloadRefusal::out_of_order;
  if (bytes.size() > manifest_.size - received_) return DownloadRefusal::too_long;
  if (bytes.empty()) return std::nullopt;
  if (!slot_.write(offset, bytes)) return DownloadRefusal::slot_failed;
  hasher_.update(bytes);
  received_ += bytes.size();
  return std::nullopt;
}

std::optional<DownloadRefusal> ImageDownload::finish() {
  if (!complete()) return DownloadRefusal::incomplete;
  if (hasher_.finish_hex() != manifest_.sha256) return DownloadRefusal::hash_mismatch;
  if (!slot_.sync()) return DownloadRefusal::slot_failed;
  return std::nullopt;
}

int ImageDownload::percent() const noexcept {
  if (manifest_.size == 0) return 100;
  return static_cast<int>(received_ * 100 / manifest_.size);
}

}  // namespace kelvin::device
