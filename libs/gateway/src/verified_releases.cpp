#include "verified_releases.hpp"

#include <sys/stat.h>

#include "kelvin/gateway/state_layout.hpp"
#include "kelvin/log/log.hpp"

namespace kelvin::gateway {
namespace {

std::filesystem::path release_dir(const std::filesystem::path& state_dir, const ReleaseName& name) {
  return releases_path(state_dir) / name.product / name.version.to_string();
}

}  // namespace

VerifiedReleases::Stamps VerifiedReleases::stamps_of(const ReleaseName& name) const {
  auto stamp = [](const std::filesystem::path& path) -> std::optional<FileStamp> {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return std::nullopt;
    return FileStamp{static_cast<std::uint64_t>(info.st_dev), static_cast<std::uint64_t>(info.st_ino),
                     static_cast<std::uint64_t>(info.st_size),
                     std::int64_t{info.st_mtim.tv_sec} * 1'000'000'000 + info.st_mtim.tv_nsec};
  };
  const auto dir = release_dir(state_dir_, name);
  return Stamps{stamp(release_public_key_path(state_dir_)), stamp(dir / "manifest"), stamp(dir / "image")};
}

std::shared_ptr<const release::PublishedRelease> VerifiedReleases::recall(const ReleaseName& name) const {
  {
    std::lock_guard lock(mutex_);
    if (entries_.find(name.text()) == entries_.end()) return nullptr;
  }
  const Stamps now = stamps_of(name);  // outside the lock: it is I/O
  std::lock_guard lock(mutex_);
  const auto found = entries_.find(name.text());
  if (found == entries_.end() || !(found->second.stamps == now)) return nullptr;
  return found->second.release;
}

std::variant<std::shared_ptr<const release::PublishedRelease>, http::Response> VerifiedReleases::verify(
    const ReleaseName& name) {
  const Stamps before = stamps_of(name);
  auto catalog = open_release_catalog(state_dir_);
  if (!catalog) return release_catalog_error(catalog.error());
  if (!*catalog) return release_key_missing();
  auto found = (*catalog)->find(name.product, name.version);
  if (!found) {
    if (found.error().code != Errc::corrupt) return release_catalog_error(found.error());
    log::component("https").warn("a release is not served: {}", found.error().message);
  }
  if (!found || !*found) {
    return http::error_response(404, "release_not_found", "the gateway holds no release " + name.text());
  }
  auto release = std::make_shared<const release::PublishedRelease>(std::move(**found));
  if (before.key && before.manifest && before.image) {
    std::lock_guard lock(mutex_);
    if (entries_.size() >= kMaxEntries) entries_.clear();
    entries_[name.text()] = Entry{before, release};
  }
  return release;
}

}  // namespace kelvin::gateway
