#pragma once
// A firmware image file measured and signed (docs/ota.md): what `kelvinctl release sign` writes
// and what the gateway checks before it stores a release; and the release timestamps `kelvinctl
// release timestamp` signs.

#include <cstdint>
#include <filesystem>
#include <string>

#include "kelvin/core/result.hpp"
#include "kelvin/crypto/ed25519.hpp"
#include "kelvin/proto/release_manifest.hpp"
#include "kelvin/proto/release_timestamp.hpp"

namespace kelvin::release {

struct ImageFacts {
  std::uint64_t size = 0;
  std::string sha256;  // 64 lowercase hex digits
};

// Errc::invalid_argument unless `image` is a regular file (a device file or a pipe is never an
// image: /dev/zero would never end), Errc::not_found when there is none.
Result<void> require_regular_file(const std::filesystem::path& image);

// Reads the whole file once. Errc::invalid_argument for anything but a regular file, an empty
// file or one larger than proto::kMaxImageBytes, Errc::not_found / Errc::io when it cannot be read.
Result<ImageFacts> measure_image(const std::filesystem::path& image);

// Whether `image` is the one `manifest` describes: Errc::corrupt naming the difference (size
// first: reading stops past the manifest's size, so a longer file is not hashed to the end).
Result<void> check_image(const std::filesystem::path& image, const proto::ReleaseManifest& manifest);

// The signed envelope (proto/signed_envelope.hpp) of `manifest`, ready to be written to a file.
// Errc::invalid_argument when the manifest breaks its rules.
Result<std::string> sign_release(const proto::ReleaseManifest& manifest, const crypto::Ed25519PrivateKey& key);

// The signed envelope of `timestamp`. Errc::invalid_argument when it breaks its rules.
Result<std::string> sign_release_timestamp(const proto::ReleaseTimestamp& timestamp,
                                           const crypto::Ed25519PrivateKey& key);

}  // namespace kelvin::release
