#pragma once
// Signed envelopes (DSSE v1, the Dead Simple Signing Envelope of in-toto and Sigstore) around a
// release manifest (docs/ota.md, "Signatures"):
//
//   {"payloadType":"application/vnd.kelvin.release-manifest+json",
//    "payload":"<base64 of the manifest's bytes>",
//    "signatures":[{"keyid":"<16 hex digits>","sig":"<base64 of an Ed25519 signature>"}]}
//
// The signature covers the pre-authentication encoding of the type and the payload's exact bytes
// (no JSON canonicalisation, so nothing can be re-encoded into a different meaning), and the type
// is part of what is signed. Portable (proto_portable): the device core opens envelopes.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/proto/release_manifest.hpp"
#include "kelvin/proto/release_timestamp.hpp"

namespace kelvin::proto {

inline constexpr std::size_t kMaxEnvelopeBytes = 64 * 1024;
inline constexpr std::size_t kMaxEnvelopeSignatures = 8;
inline constexpr std::size_t kMaxKeyIdBytes = 64;

struct EnvelopeSignature {
  std::string key_id;     // which key made it: a hint for finding the key, never trusted alone
  std::string signature;  // raw bytes
};

struct SignedEnvelope {
  std::string payload_type;
  std::string payload;  // raw bytes
  std::vector<EnvelopeSignature> signatures;
};

// PAE(type, payload) = "DSSEv1" SP LEN(type) SP type SP LEN(payload) SP payload, lengths in
// ASCII decimal: the bytes a signature is made over.
std::string pre_authentication_encoding(std::string_view payload_type, std::string_view payload);

std::string encode_envelope(const SignedEnvelope& envelope);

// Errc::invalid_argument for anything but an envelope as above: exactly the three members, 1 to
// kMaxEnvelopeSignatures signatures each with exactly "keyid" and "sig", canonical base64
// (core/base64.hpp), at most kMaxEnvelopeBytes. Checks no signature.
Result<SignedEnvelope> decode_envelope(std::string_view text);

// A release public key a verifier trusts, as the portable code sees it: the platform supplies the
// cryptography (libs/crypto on Linux).
class ReleaseKey {
 public:
  virtual ~ReleaseKey() = default;
  virtual std::string_view key_id() const = 0;
  // Whether `signature` is this key's signature of `message`.
  virtual bool verify(std::string_view message, std::string_view signature) const = 0;
};

// The payload inside `envelope_text` when the envelope is well formed, of `payload_type`, and
// carries a signature by `key` that verifies over its PAE. Errc::bad_credentials when no signature
// by `key` verifies (the message says whether it was signed by another key or the signature is
// wrong), Errc::invalid_argument for a malformed envelope or another payload type. `what` names
// the payload in messages ("release manifest").
Result<std::string> open_signed_payload(std::string_view envelope_text, std::string_view payload_type,
                                        std::string_view what, const ReleaseKey& key);

// The manifest inside a signed envelope (open_signed_payload with kReleaseManifestType); the
// manifest's own rules are checked after the signature, Errc::invalid_argument when broken.
Result<ReleaseManifest> open_release_envelope(std::string_view envelope_text, const ReleaseKey& key);

// The release timestamp inside a signed envelope (kReleaseTimestampType), checked likewise.
Result<ReleaseTimestamp> open_release_timestamp(std::string_view envelope_text, const ReleaseKey& key);

}  // namespace kelvin::proto
