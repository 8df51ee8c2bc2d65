#include "kelvin/release/release_catalog.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <system_error>
#include <tuple>

#include "kelvin/core/files.hpp"
#include "kelvin/core/utc_time.hpp"
#include "kelvin/crypto/random.hpp"
#include "kelvin/proto/signed_envelope.hpp"
#include "kelvin/release/release_image.hpp"

namespace kelvin::release {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kIncomingPrefix = ".incoming-";

// Removes a half-assembled release directory; best effort (what is left is ignored by list()).
void discard(const fs::path& dir) {
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

// A publish that crashed leaves its .incoming- directory behind; one older than this is nobody's
// work in progress any more (copying and checking an image takes seconds).
constexpr auto kStaleIncomingAge = std::chrono::hours(1);

// Removes .incoming- directories older than kStaleIncomingAge; best effort.
void discard_stale_incoming(const fs::path& dir) {
  const auto now = fs::file_time_type::clock::now();
  std::error_code error;
  for (fs::directory_iterator entry(dir, error), end; !error && entry != end; entry.increment(error)) {
    if (!entry->path().filename().string().starts_with(kIncomingPrefix)) continue;
    std::error_code time_error;
    const auto written = fs::last_write_time(entry->path(), time_error);
    if (!time_error && now - written > kStaleIncomingAge) discard(entry->path());
  }
}

}  // namespace

Result<std::optional<ReleaseCatalog>> ReleaseCatalog::open(fs::path dir, const fs::path& key_file) {
  std::error_code error;
  if (!fs::exists(key_file, error)) {
    if (error) return make_error(Errc::io, "cannot inspect " + key_file.string() + ": " + error.message());
    return std::optional<ReleaseCatalog>();
  }
  auto key = load_release_public_key(key_file);
  if (!key) return std::move(key).error();
  return std::optional<ReleaseCatalog>(ReleaseCatalog(std::move(dir), std::move(*key)));
}

Result<PublishedRelease> ReleaseCatalog::load(const fs::path& release_dir) const {
  const std::string where = release_dir.string();
  auto envelope = files::read_file(release_dir / "manifest", proto::kMaxEnvelopeBytes);
  if (!envelope) return make_error(Errc::corrupt, where + ": " + envelope.error().message);
  auto manifest = proto::open_release_envelope(*envelope, key_);
  if (!manifest) return make_error(Errc::corrupt, where + ": " + manifest.error().message);
  if (manifest->product != release_dir.parent_path().filename().string() ||
      manifest->version.to_string() != release_dir.filename().string()) {
    return make_error(Errc::corrupt, where + ": the manifest is for " + manifest->product + " " +
                                         manifest->version.to_string() + ", not this directory's release");
  }
  std::error_code error;
  const auto size = fs::file_size(release_dir / "image", error);
  if (error || size != manifest->size) {
    return make_error(Errc::corrupt, where + ": the image is missing or not the manifest's " +
                                         std::to_string(manifest->size) + " bytes");
  }
  return PublishedRelease{std::move(*manifest), std::move(*envelope), release_dir};
}

Result<ManifestCheck> ReleaseCatalog::check_manifest(std::string_view envelope_text) const {
  auto manifest = proto::open_release_envelope(envelope_text, key_);
  if (!manifest) return std::move(manifest).error();
  auto existing = find(manifest->product, manifest->version);
  if (!existing) return std::move(existing).error();
  if (*existing && (*existing)->manifest.sha256 != manifest->sha256) {
    return make_error(Errc::conflict, manifest->product + " " + manifest->version.to_string() +
                                          " is published already with another image (sha256 " +
                                          (*existing)->manifest.sha256 +
                                          "); a release is never replaced: "
                                          "sign the new image as a new version");
  }
  return ManifestCheck{std::move(*manifest), std::move(*existing)};
}

Result<PublishOutcome> ReleaseCatalog::publish(
    const fs::path& image, std::string_view envelope_text,
    const std::function<void(std::uint64_t done, std::uint64_t total)>& progress) const {
  // What is there already decides before anything is copied.
  auto checked = check_manifest(envelope_text);
  if (!checked) return std::move(checked).error();
  if (auto regular = require_regular_file(image); !regular) return std::move(regular).error();
  proto::ReleaseManifest& manifest = checked->manifest;
  const fs::path product_dir = dir_ / manifest.product;
  const fs::path destination = product_dir / manifest.version.to_string();
  if (checked->published) {
    // The same manifest: "already published" only if this is also the same image.
    if (auto matches = check_image(image, manifest); !matches) {
      auto error = std::move(matches).error();
      error.message = "refused: " + error.message;
      return error;
    }
    return PublishOutcome{std::move(*checked->published), true};
  }

  if (auto made = files::ensure_private_dir(dir_); !made) return std::move(made).error();
  discard_stale_incoming(dir_);
  auto suffix = crypto::random_hex(8);
  if (!suffix) return std::move(suffix).error();
  const fs::path incoming = dir_ / (std::string(kIncomingPrefix) + *suffix);
  if (auto made = files::ensure_private_dir(incoming); !made) return std::move(made).error();
  // The copy is what gets checked: the source may change after it was measured.
  auto fail = [&](Error error) -> Result<PublishOutcome> {
    discard(incoming);
    return error;
  };
  // At most one byte past the signed size is copied: enough to tell the image is longer.
  auto copy_progress = [&](std::uint64_t copied) {
    if (progress) progress(std::min(copied, manifest.size), manifest.size);
  };
  if (auto copied =
          files::copy_file_durably(image, incoming / "image", files::kPublicFileMode, manifest.size + 1, copy_progress);
      !copied) {
    if (copied.error().code == Errc::invalid_argument) {
      return fail(make_error(Errc::corrupt, "refused: the image " + image.string() + " is longer than the manifest's " +
                                                std::to_string(manifest.size) + " bytes"));
    }
    return fail(std::move(copied).error());
  }
  if (auto matches = check_image(incoming / "image", manifest); !matches) {
    auto error = std::move(matches).error();
    error.message = "refused: " + error.message;
    return fail(std::move(error));
  }
  if (auto written = files::write_file_atomic(incoming / "manifest", envelope_text, files::kPublicFileMode); !written) {
    return fail(std::move(written).error());
  }
  if (auto made = files::ensure_private_dir(product_dir); !made) return fail(std::move(made).error());
  // rename(2) of a directory onto an existing non-empty one fails: a concurrent publisher of the
  // same release wins, and this one reports what is there.
  if (std::rename(incoming.c_str(), destination.c_str()) != 0) {
    const int error = errno;
    discard(incoming);
    if (error == EEXIST || error == ENOTEMPTY) return publish(image, envelope_text);
    return make_error(Errc::io, "cannot move the release into " + destination.string() + ": " +
                                    std::generic_category().message(error));
  }
  if (auto synced = files::sync_directory(product_dir); !synced) return std::move(synced).error();
  if (auto synced = files::sync_directory(dir_); !synced) return std::move(synced).error();
  return PublishOutcome{PublishedRelease{std::move(manifest), std::string(envelope_text), destination}, false};
}

Result<std::vector<PublishedRelease>> ReleaseCatalog::list(std::vector<std::string>* problems) const {
  std::vector<PublishedRelease> releases;
  std::error_code error;
  if (!fs::exists(dir_, error)) {
    if (error) return make_error(Errc::io, "cannot inspect " + dir_.string() + ": " + error.message());
    return releases;
  }
  for (fs::directory_iterator products(dir_, error), end; !error && products != end; products.increment(error)) {
    const auto name = products->path().filename().string();
    if (name.starts_with('.') || !products->is_directory(error)) continue;
    for (fs::directory_iterator versions(products->path(), error); !error && versions != end;
         versions.increment(error)) {
      auto release = load(versions->path());
      if (release) {
        releases.push_back(std::move(*release));
      } else if (problems != nullptr) {
        problems->push_back(release.error().message);
      }
    }
  }
  if (error) return make_error(Errc::io, "cannot read " + dir_.string() + ": " + error.message());
  std::sort(releases.begin(), releases.end(), [](const PublishedRelease& a, const PublishedRelease& b) {
    return std::tie(a.manifest.product, a.manifest.version) < std::tie(b.manifest.product, b.manifest.version);
  });
  return releases;
}

Result<std::optional<PublishedRelease>> ReleaseCatalog::find(std::string_view product,
                                                             const proto::FirmwareVersion& version) const {
  // A product name that is not one (a path, "..") is never looked up on disk.
  if (!proto::is_valid_product_name(product)) return std::optional<PublishedRelease>();
  const fs::path release_dir = dir_ / std::string(product) / version.to_string();
  std::error_code error;
  if (!fs::exists(release_dir, error)) {
    if (error) return make_error(Errc::io, "cannot inspect " + release_dir.string() + ": " + error.message());
    return std::optional<PublishedRelease>();
  }
  auto release = load(release_dir);
  if (!release) return std::move(release).error();
  return std::optional<PublishedRelease>(std::move(*release));
}

fs::path ReleaseCatalog::timestamp_file(std::string_view product) const {
  return dir_ / ".timestamps" / std::string(product);
}

Result<std::optional<PublishedTimestamp>> ReleaseCatalog::timestamp(std::string_view product) const {
  if (!proto::is_valid_product_name(product)) return std::optional<PublishedTimestamp>();
  const fs::path file = timestamp_file(product);
  std::error_code error;
  if (!fs::exists(file, error)) {
    if (error) return make_error(Errc::io, "cannot inspect " + file.string() + ": " + error.message());
    return std::optional<PublishedTimestamp>();
  }
  auto envelope = files::read_file(file, proto::kMaxEnvelopeBytes);
  if (!envelope) return make_error(Errc::corrupt, file.string() + ": " + envelope.error().message);
  auto opened = proto::open_release_timestamp(*envelope, key_);
  if (!opened) return make_error(Errc::corrupt, file.string() + ": " + opened.error().message);
  if (opened->product != product) {
    return make_error(Errc::corrupt, file.string() + ": the timestamp is for " + opened->product);
  }
  return std::optional<PublishedTimestamp>(PublishedTimestamp{std::move(*opened), std::move(*envelope)});
}

Result<TimestampOutcome> ReleaseCatalog::publish_timestamp(std::string_view envelope_text,
                                                           std::int64_t now_seconds) const {
  auto opened = proto::open_release_timestamp(envelope_text, key_);
  if (!opened) return std::move(opened).error();
  const proto::ReleaseTimestamp& stamp = *opened;
  const std::string named = stamp.product + " " + stamp.version.to_string();
  if (stamp.expires <= now_seconds) {
    return make_error(Errc::invalid_argument,
                      "the timestamp expired at " + format_utc_seconds(stamp.expires) + ": sign a new one");
  }
  auto release = find(stamp.product, stamp.version);
  if (!release) return std::move(release).error();
  if (!*release) {
    return make_error(Errc::not_found, "the timestamp names " + named +
                                           ", which is not published here: publish "
                                           "the release first");
  }
  auto releases = list();
  if (!releases) return std::move(releases).error();
  for (const auto& other : *releases) {
    if (other.manifest.product == stamp.product && other.manifest.version > stamp.version) {
      return make_error(Errc::conflict, "the timestamp names " + named + ", but " + stamp.product + " " +
                                            other.manifest.version.to_string() +
                                            " is published: sign a timestamp for the newest release");
    }
  }
  auto current = timestamp(stamp.product);
  if (!current) return std::move(current).error();
  if (*current && (*current)->envelope == envelope_text) {
    return TimestampOutcome{std::move(**current), true};
  }
  if (*current && (*current)->timestamp.issued >= stamp.issued) {
    return make_error(Errc::conflict,
                      "the timestamp published for " + stamp.product + " was issued at " +
                          format_utc_seconds((*current)->timestamp.issued) + ", this one at " +
                          format_utc_seconds(stamp.issued) +
                          ": devices refuse a timestamp older than one they saw, so it never goes back");
  }
  const fs::path file = timestamp_file(stamp.product);
  if (auto made = files::ensure_private_dir(file.parent_path()); !made) return std::move(made).error();
  if (auto written = files::write_file_atomic(file, envelope_text, files::kPublicFileMode); !written) {
    return std::move(written).error();
  }
  return TimestampOutcome{PublishedTimestamp{std::move(*opened), std::string(envelope_text)}, false};
}

}  // namespace kelvin::release
