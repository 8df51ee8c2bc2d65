#pragma once
// The installation's release key pair on disk (docs/ota.md, "The release key"): created by
// `kelvinctl release keygen`, the private half kept offline by whoever signs releases, the public
// half given to the gateway and pinned in every device.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"
#include "kelvin/crypto/ed25519.hpp"
#include "kelvin/proto/signed_envelope.hpp"

namespace kelvin::release {

inline constexpr const char* kPrivateKeyFile = "release.key";
inline constexpr const char* kPublicKeyFile = "release.pub";

// The public release key as the portable code checks signatures with it.
class PinnedReleaseKey final : public proto::ReleaseKey {
 public:
  explicit PinnedReleaseKey(crypto::Ed25519PublicKey key) : key_(std::move(key)), key_id_(key_.key_id()) {}
  std::string_view key_id() const override { return key_id_; }
  bool verify(std::string_view message, std::string_view signature) const override {
    return key_.verify(message, signature);
  }
  const crypto::Ed25519PublicKey& public_key() const noexcept { return key_; }

 private:
  crypto::Ed25519PublicKey key_;
  std::string key_id_;
};

struct ReleaseKeyFiles {
  std::filesystem::path private_key;  // mode 0600, encrypted when a passphrase was given
  std::filesystem::path public_key;   // mode 0644
  std::string key_id;
};

// A new key pair as release.key and release.pub in `dir` (created 0700 if missing). Never
// overwrites: Errc::already_exists when either file is there, as replacing a release key strands
// every device that pinned the old one.
Result<ReleaseKeyFiles> create_release_key_pair(const std::filesystem::path& dir,
                                                const std::optional<std::string>& passphrase);

// The private key from a file only its owner may read (files::read_secret_file refuses others).
Result<crypto::Ed25519PrivateKey> load_release_signing_key(const std::filesystem::path& file,
                                                           const std::optional<std::string>& passphrase);

// The public key (SubjectPublicKeyInfo PEM of an Ed25519 key).
Result<PinnedReleaseKey> load_release_public_key(const std::filesystem::path& file);

}  // namespace kelvin::release
