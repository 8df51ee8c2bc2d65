#include "kelvin/release/release_keys.hpp"

#include <system_error>

#include "kelvin/core/files.hpp"

namespace kelvin::release {

Result<ReleaseKeyFiles> create_release_key_pair(const std::filesystem::path& dir,
                                                const std::optional<std::string>& passphrase) {
  ReleaseKeyFiles files{dir / kPrivateKeyFile, dir / kPublicKeyFile, {}};
  for (const auto& path : {files.private_key, files.public_key}) {
    std::error_code ignored;  // not there is "not found", not an error; other errors show when writing
    if (std::filesystem::exists(std::filesystem::symlink_status(path, ignored))) {
      return make_error(Errc::already_exists,
                        path.string() +
                            " already exists; a new release key would strand every device that pinned "
                            "the old one, so it is never replaced (move it away first if you mean it)");
    }
  }
  if (auto made = files::ensure_private_dir(dir); !made) return std::move(made).error();
  auto key = crypto::Ed25519PrivateKey::generate();
  if (!key) return std::move(key).error();
  auto private_pem = key->to_pem(passphrase);
  if (!private_pem) return std::move(private_pem).error();
  auto public_pem = key->public_key().to_pem();
  if (!public_pem) return std::move(public_pem).error();
  // The private key first: a public key without its private half would be worse than none.
  if (auto written = files::write_file_atomic(files.private_key, *private_pem, files::kPrivateFileMode); !written) {
    return std::move(written).error();
  }
  if (auto written = files::write_file_atomic(files.public_key, *public_pem, files::kPublicFileMode); !written) {
    return std::move(written).error();
  }
  files.key_id = key->public_key().key_id();
  return files;
}

Result<crypto::Ed25519PrivateKey> load_release_signing_key(const std::filesystem::path& file,
                                                           const std::optional<std::string>& passphrase) {
  auto pem = files::read_secret_file(file);
  if (!pem) return std::move(pem).error();
  return crypto::Ed25519PrivateKey::from_pem(*pem, passphrase, file.string());
}

Result<PinnedReleaseKey> load_release_public_key(const std::filesystem::path& file) {
  auto pem = files::read_file(file, 64 * 1024);
  if (!pem) return std::move(pem).error();
  auto key = crypto::Ed25519PublicKey::from_pem(*pem, file.string());
  if (!key) return std::move(key).error();
  return PinnedReleaseKey(std::move(*key));
}

}  // namespace kelvin::release
