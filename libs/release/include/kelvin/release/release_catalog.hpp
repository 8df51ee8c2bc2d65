#pragma once
// The releases a gateway holds (docs/ota.md, "Publishing"): one directory per release,
//   <releases dir>/<product>/<version>/image      the firmware image, exactly as signed
//   <releases dir>/<product>/<version>/manifest   its signed envelope, the bytes as published
// A release appears whole or not at all: it is assembled in a ".incoming-…" directory beside the
// products, checked there (signature, then the copy's size and SHA-256), and renamed into place.
// Several processes may use one catalog (kelvinctl publishes while kelvin-gateway serves): the
// rename is the only step others can see. A published release is never changed or replaced. An
// .incoming- directory a crashed publish left behind is ignored, and removed by a later publish
// once it is an hour old.
//
// Beside the releases, the newest release timestamp of each product (docs/ota.md, "Freeze"):
//   <releases dir>/.timestamps/<product>          its signed envelope, replaced atomically

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/proto/release_manifest.hpp"
#include "kelvin/proto/release_timestamp.hpp"
#include "kelvin/release/release_keys.hpp"

namespace kelvin::release {

struct PublishedRelease {
  proto::ReleaseManifest manifest;
  std::string envelope;  // the signed manifest's bytes, as published and as verified
  std::filesystem::path directory;
  std::filesystem::path image() const { return directory / "image"; }
  std::filesystem::path manifest_file() const { return directory / "manifest"; }
};

struct PublishOutcome {
  PublishedRelease release;
  bool already_published = false;  // the same release (same image) was there: nothing changed
};

// What publishing a signed manifest would meet, known before any image is read.
struct ManifestCheck {
  proto::ReleaseManifest manifest;              // what the envelope signs
  std::optional<PublishedRelease> published{};  // the same release, published already
};

struct PublishedTimestamp {
  proto::ReleaseTimestamp timestamp;
  std::string envelope;  // the bytes as published and as verified
};

struct TimestampOutcome {
  PublishedTimestamp timestamp;
  bool already_published = false;  // the same statement was there: nothing changed
};

class ReleaseCatalog {
 public:
  // `dir` need not exist until the first publish, which creates it 0700.
  ReleaseCatalog(std::filesystem::path dir, PinnedReleaseKey key) : dir_(std::move(dir)), key_(std::move(key)) {}

  // The catalog in `dir` with the key in `key_file` (load_release_public_key); nullopt when
  // `key_file` does not exist (no key trusted yet), an error when it cannot be read or is no key.
  static Result<std::optional<ReleaseCatalog>> open(std::filesystem::path dir, const std::filesystem::path& key_file);

  // Adds the release `envelope_text` describes, with the image from `image`. Refused, with
  // nothing changed: Errc::bad_credentials when the envelope is not signed by the catalog's key,
  // Errc::invalid_argument when it is malformed, Errc::corrupt when the image is not the one the
  // manifest describes, Errc::conflict when another image was published as the same product and
  // version. Publishing the same release again succeeds with already_published. `progress`
  // (optional) hears how many of the image's bytes were copied, of how many, as the copy goes.
  Result<PublishOutcome> publish(
      const std::filesystem::path& image, std::string_view envelope_text,
      const std::function<void(std::uint64_t done, std::uint64_t total)>& progress = {}) const;

  // The manifest `envelope_text` signs, and the release published already under its product and
  // version if that is this one. Refused as publish() refuses: Errc::bad_credentials (not signed
  // by the catalog's key), Errc::invalid_argument (malformed), Errc::conflict (another image was
  // published as that product and version).
  Result<ManifestCheck> check_manifest(std::string_view envelope_text) const;

  // Every release whose manifest opens with the key and whose image has the manifest's size,
  // sorted by product, then version (newest last). What does not qualify is skipped and described
  // in `problems` (when given): a catalog with one damaged release still serves the others.
  Result<std::vector<PublishedRelease>> list(std::vector<std::string>* problems = nullptr) const;

  // One release, checked as list() checks it; nullopt when there is none of that product and
  // version, Errc::corrupt when it is there but does not qualify.
  Result<std::optional<PublishedRelease>> find(std::string_view product, const proto::FirmwareVersion& version) const;

  // Makes `envelope_text` the product's release timestamp. Refused, with nothing changed:
  // Errc::bad_credentials (not signed by the catalog's key), Errc::invalid_argument (malformed, or
  // expired at `now_seconds`), Errc::not_found (the release it names is not published),
  // Errc::conflict (a newer release of the product is published, or the product's timestamp
  // now was issued later: a statement never goes back). The same statement again succeeds with
  // already_published.
  Result<TimestampOutcome> publish_timestamp(std::string_view envelope_text, std::int64_t now_seconds) const;

  // The product's release timestamp; nullopt when none was published, Errc::corrupt when the
  // file is there but does not open with the key.
  Result<std::optional<PublishedTimestamp>> timestamp(std::string_view product) const;

  const PinnedReleaseKey& key() const noexcept { return key_; }
  const std::filesystem::path& directory() const noexcept { return dir_; }

 private:
  Result<PublishedRelease> load(const std::filesystem::path& release_dir) const;
  std::filesystem::path timestamp_file(std::string_view product) const;

  std::filesystem::path dir_;
  PinnedReleaseKey key_;
};

}  // namespace kelvin::release
