#pragma once
// The releases devices download, verified once and then served from memory while their files stay
// the ones verified. A device fetches an image in 64 KiB ranges, asking for the same release 32
// times for 2 MiB; reading the trusted key, the manifest and checking its Ed25519 signature at each
// of those cost more than sending the bytes. An entry is used only while release.pub, the manifest
// and the image are the very files it was verified from (device, inode, size, modification time,
// taken before they were read), so a key trusted anew or a file replaced is seen at the next
// request. Thread-safe.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

#include "kelvin/http/message.hpp"
#include "kelvin/release/release_catalog.hpp"
#include "release_route_parts.hpp"

namespace kelvin::gateway {

class VerifiedReleases {
 public:
  explicit VerifiedReleases(std::filesystem::path state_dir) : state_dir_(std::move(state_dir)) {}

  // The release as verified before, if its files are still those; nullopt when it was not
  // verified yet or a file changed. A few stat(2) calls: cheap enough for an I/O thread.
  std::shared_ptr<const release::PublishedRelease> recall(const ReleaseName& name) const;

  // Opens the catalog and finds the release (signature, image size), remembering it for recall();
  // otherwise the answer that says why it is not served (404, 503, 500). Reads files: for a
  // thread that may block.
  std::variant<std::shared_ptr<const release::PublishedRelease>, http::Response> verify(const ReleaseName& name);

 private:
  struct FileStamp {
    std::uint64_t device = 0, inode = 0, size = 0;
    std::int64_t modified_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };
  struct Stamps {
    std::optional<FileStamp> key, manifest, image;
    bool operator==(const Stamps&) const = default;
  };
  struct Entry {
    Stamps stamps;
    std::shared_ptr<const release::PublishedRelease> release;
  };
  // At most this many releases are remembered; past it the memory starts over.
  static constexpr std::size_t kMaxEntries = 64;

  Stamps stamps_of(const ReleaseName& name) const;

  std::filesystem::path state_dir_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;  // by "<product> <version>"
};

}  // namespace kelvin::gateway
