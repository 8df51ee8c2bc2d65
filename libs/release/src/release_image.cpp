#include "kelvin/release/release_image.hpp"

#include <fstream>
#include <vector>

#include "kelvin/crypto/digest.hpp"
#include "kelvin/proto/signed_envelope.hpp"

namespace kelvin::release {
namespace {

constexpr std::size_t kChunkBytes = 64 * 1024;

// SHA-256 and length of at most `limit` + 1 bytes of `image` (one more than allowed tells that the
// file is longer).
Result<ImageFacts> digest_prefix(const std::filesystem::path& image, std::uint64_t limit) {
  std::ifstream in(image, std::ios::binary);
  if (!in) {
    std::error_code error;
    const bool exists = std::filesystem::exists(image, error);
    return make_error(exists ? Errc::io : Errc::not_found, "cannot read the image " + image.string());
  }
  crypto::Sha256 digest;
  ImageFacts facts;
  std::vector<char> chunk(kChunkBytes);
  while (facts.size <= limit) {
    const std::uint64_t wanted = std::min<std::uint64_t>(chunk.size(), limit + 1 - facts.size);
    in.read(chunk.data(), static_cast<std::streamsize>(wanted));
    const auto got = static_cast<std::size_t>(in.gcount());
    digest.update(std::string_view(chunk.data(), got));
    facts.size += got;
    if (got < wanted) break;
  }
  if (in.bad()) return make_error(Errc::io, "reading the image " + image.string() + " failed");
  facts.sha256 = digest.finish_hex();
  return facts;
}

}  // namespace

Result<void> require_regular_file(const std::filesystem::path& image) {
  std::error_code error;
  const auto status = std::filesystem::status(image, error);
  if (status.type() == std::filesystem::file_type::not_found) {
    return make_error(Errc::not_found, "the image " + image.string() + " does not exist");
  }
  if (error || status.type() != std::filesystem::file_type::regular) {
    return make_error(Errc::invalid_argument, "the image " + image.string() + " is not a regular file");
  }
  return {};
}

Result<ImageFacts> measure_image(const std::filesystem::path& image) {
  if (auto regular = require_regular_file(image); !regular) return std::move(regular).error();
  auto facts = digest_prefix(image, proto::kMaxImageBytes);
  if (!facts) return facts;
  if (facts->size == 0) return make_error(Errc::invalid_argument, "the image " + image.string() + " is empty");
  if (facts->size > proto::kMaxImageBytes) {
    return make_error(Errc::invalid_argument, "the image " + image.string() + " is larger than " +
                                                  std::to_string(proto::kMaxImageBytes) + " bytes");
  }
  return facts;
}

Result<void> check_image(const std::filesystem::path& image, const proto::ReleaseManifest& manifest) {
  auto facts = digest_prefix(image, manifest.size);
  if (!facts) return std::move(facts).error();
  if (facts->size != manifest.size) {
    return make_error(Errc::corrupt, "the image " + image.string() +
                                         (facts->size > manifest.size ? " is longer than" : " is shorter than") +
                                         " the manifest's " + std::to_string(manifest.size) + " bytes");
  }
  if (facts->sha256 != manifest.sha256) {
    return make_error(Errc::corrupt, "the image " + image.string() + " has SHA-256 " + facts->sha256 +
                                         ", the manifest says " + manifest.sha256);
  }
  return {};
}

namespace {

Result<std::string> sign_payload(std::string_view payload_type, std::string payload,
                                 const crypto::Ed25519PrivateKey& key) {
  proto::SignedEnvelope envelope;
  envelope.payload_type = std::string(payload_type);
  envelope.payload = std::move(payload);
  auto signature = key.sign(proto::pre_authentication_encoding(envelope.payload_type, envelope.payload));
  if (!signature) return std::move(signature).error();
  envelope.signatures.push_back({key.public_key().key_id(), std::move(*signature)});
  return proto::encode_envelope(envelope);
}

}  // namespace

Result<std::string> sign_release(const proto::ReleaseManifest& manifest, const crypto::Ed25519PrivateKey& key) {
  if (auto valid = proto::validate_release_manifest(manifest); !valid) return std::move(valid).error();
  return sign_payload(proto::kReleaseManifestType, proto::encode_release_manifest(manifest), key);
}

Result<std::string> sign_release_timestamp(const proto::ReleaseTimestamp& timestamp,
                                           const crypto::Ed25519PrivateKey& key) {
  if (auto valid = proto::validate_release_timestamp(timestamp); !valid) return std::move(valid).error();
  return sign_payload(proto::kReleaseTimestampType, proto::encode_release_timestamp(timestamp), key);
}

}  // namespace kelvin::release
