#pragma once
// An image received into the inactive slot, checked against its signed manifest while it arrives
// (docs/ota.md, "The device's update"). Portable: the platform supplies the hash (SHA-256) and the
// slot's storage through the interfaces below; the rules are here.
//
// Pieces must arrive in order (offset == received()), as a download resumed with
// "Range: bytes=<received()>-" delivers them. A piece that would pass the manifest's size is
// refused whole and nothing of it is written: a server that streams past the size, or an image
// longer than signed, never gets more into the slot than the manifest allows. After the last byte,
// finish() compares the SHA-256 and syncs the slot; only then may the slot be staged
// (boot_control.hpp).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kelvin/proto/release_manifest.hpp"

namespace kelvin::device {

class ImageHasher {
 public:
  virtual ~ImageHasher() = default;
  virtual void update(std::string_view bytes) = 0;
  // The SHA-256 of everything given, 64 lowercase hex digits.
  virtual std::string finish_hex() = 0;
  // Forgets everything given: the next image starts.
  virtual void reset() = 0;
};

class SlotWriter {
 public:
  virtual ~SlotWriter() = default;
  // Writes `bytes` at `offset` of the inactive slot; false when it could not.
  virtual bool write(std::uint64_t offset, std::string_view bytes) = 0;
  // Makes what was written durable; false when it could not.
  virtual bool sync() = 0;
};

// Why a download is refused. The names (to_string) are what the device reports: stable.
enum class DownloadRefusal {
  out_of_order,   // a piece that does not start where the image stands
  too_long,       // more bytes than the manifest's size
  hash_mismatch,  // all bytes arrived, and their SHA-256 is not the manifest's
  slot_failed,    // the slot could not be written or synced
  incomplete,     // finish() before the last byte
};

const char* to_string(DownloadRefusal refusal) noexcept;

class ImageDownload {
 public:
  // `already`: bytes of this image in the slot from an interrupted download, which the caller has
  // given to `hasher` already (read back from the slot); the download resumes after them.
  // Precondition: already <= manifest.size.
  ImageDownload(proto::ReleaseManifest manifest, ImageHasher& hasher, SlotWriter& slot, std::uint64_t already = 0);

  // Takes the next piece. nullopt when it was written; the refusal otherwise, and then the piece
  // was not written (the download is over: start again from the manifest).
  std::optional<DownloadRefusal> accept(std::uint64_t offset, std::string_view bytes);
  // After the last byte: the hash against the manifest, then the slot synced.
  std::optional<DownloadRefusal> finish();

  std::uint64_t received() const noexcept { return received_; }
  bool complete() const noexcept { return received_ == manifest_.size; }
  // 0-100, for progress reports.
  int percent() const noexcept;
  const proto::ReleaseManifest& manifest() const noexcept { return manifest_; }

 private:
  proto::ReleaseManifest manifest_;
  ImageHasher& hasher_;
  SlotWriter& slot_;
  std::uint64_t received_ = 0;
};

}  // namespace kelvin::device
