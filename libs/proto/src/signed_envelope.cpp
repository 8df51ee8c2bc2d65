#include "kelvin/proto/signed_envelope.hpp"

#include <optional>

#include "json_reader.hpp"
#include "kelvin/core/base64.hpp"
#include "kelvin/proto/json_text.hpp"

namespace kelvin::proto {
namespace {

Error invalid(std::string message) {
  return make_error(Errc::invalid_argument, "signed envelope: " + std::move(message));
}

bool read_base64(JsonReader& in, std::string& out) {
  std::string text;
  if (!in.read_string(text)) return false;
  auto bytes = base64_decode(text);
  if (!bytes) return false;
  out = std::move(*bytes);
  return true;
}

// One {"keyid":...,"sig":...}; the reader is at its '{'.
Result<EnvelopeSignature> read_signature(JsonReader& in) {
  EnvelopeSignature signature;
  bool have_key_id = false, have_sig = false;
  std::string key;
  if (!in.begin_object()) return invalid("a signature is not a JSON object");
  while (in.next_member(key)) {
    if (key == "keyid") {
      if (have_key_id) return invalid("a signature has \"keyid\" twice");
      have_key_id = true;
      if (!in.read_string(signature.key_id) || signature.key_id.size() > kMaxKeyIdBytes) {
        return invalid("a signature's \"keyid\" is not a string of at most " + std::to_string(kMaxKeyIdBytes) +
                       " bytes");
      }
    } else if (key == "sig") {
      if (have_sig) return invalid("a signature has \"sig\" twice");
      have_sig = true;
      if (!read_base64(in, signature.signature)) return invalid("a signature's \"sig\" is not canonical base64");
    } else {
      return invalid("a signature has the unknown member \"" + printable_excerpt(key, 40) + "\"");
    }
  }
  if (in.failed()) return invalid("not well-formed JSON");
  if (!have_key_id || !have_sig) return invalid("a signature lacks \"keyid\" or \"sig\"");
  return signature;
}

}  // namespace

std::string pre_authentication_encoding(std::string_view payload_type, std::string_view payload) {
  std::string out = "DSSEv1 ";
  append_json_number(payload_type.size(), out);
  out += ' ';
  out += payload_type;
  out += ' ';
  append_json_number(payload.size(), out);
  out += ' ';
  out += payload;
  return out;
}

std::string encode_envelope(const SignedEnvelope& envelope) {
  std::string out = R"({"payloadType":)";
  append_json_string(envelope.payload_type, out);
  out += R"(,"payload":")";
  out += base64_encode(envelope.payload);
  out += R"(","signatures":[)";
  for (std::size_t i = 0; i < envelope.signatures.size(); ++i) {
    if (i > 0) out += ',';
    out += R"({"keyid":)";
    append_json_string(envelope.signatures[i].key_id, out);
    out += R"(,"sig":")";
    out += base64_encode(envelope.signatures[i].signature);
    out += R"("})";
  }
  out += "]}\n";
  return out;
}

Result<SignedEnvelope> decode_envelope(std::string_view text) {
  if (text.size() > kMaxEnvelopeBytes) return invalid("longer than " + std::to_string(kMaxEnvelopeBytes) + " bytes");
  SignedEnvelope envelope;
  bool have_type = false, have_payload = false, have_signatures = false;
  JsonReader in(text);
  std::string key;
  if (!in.begin_object()) return invalid("not a JSON object");
  while (in.next_member(key)) {
    if (key == "payloadType") {
      if (have_type) return invalid("\"payloadType\" given twice");
      have_type = true;
      if (!in.read_string(envelope.payload_type)) return invalid("\"payloadType\" is not a string");
    } else if (key == "payload") {
      if (have_payload) return invalid("\"payload\" given twice");
      have_payload = true;
      if (!read_base64(in, envelope.payload)) return invalid("\"payload\" is not canonical base64");
    } else if (key == "signatures") {
      if (have_signatures) return invalid("\"signatures\" given twice");
      have_signatures = true;
      if (!in.begin_array()) return invalid("\"signatures\" is not an array");
      while (in.next_element()) {
        if (envelope.signatures.size() == kMaxEnvelopeSignatures) {
          return invalid("more than " + std::to_string(kMaxEnvelopeSignatures) + " signatures");
        }
        auto signature = read_signature(in);
        if (!signature) return std::move(signature).error();
        envelope.signatures.push_back(std::move(*signature));
      }
    } else {
      return invalid("unknown member \"" + printable_excerpt(key, 40) + "\"");
    }
  }
  if (!in.finish()) return invalid("not well-formed JSON");
  if (!have_type || !have_payload || !have_signatures) {
    return invalid("needs \"payloadType\", \"payload\" and \"signatures\"");
  }
  if (envelope.signatures.empty()) return invalid("carries no signature");
  return envelope;
}

Result<std::string> open_signed_payload(std::string_view envelope_text, std::string_view payload_type,
                                        std::string_view what, const ReleaseKey& key) {
  auto envelope = decode_envelope(envelope_text);
  if (!envelope) return std::move(envelope).error();
  if (envelope->payload_type != payload_type) {
    return invalid("the payload is \"" + printable_excerpt(envelope->payload_type, 80) + "\", not a " +
                   std::string(what));
  }
  const std::string signed_bytes = pre_authentication_encoding(envelope->payload_type, envelope->payload);
  bool by_this_key = false;
  bool verified = false;
  for (const auto& signature : envelope->signatures) {
    if (signature.key_id != key.key_id()) continue;
    by_this_key = true;
    if (key.verify(signed_bytes, signature.signature)) {
      verified = true;
      break;
    }
  }
  if (!verified) {
    std::string message =
        by_this_key ? "the " + std::string(what) + "'s signature by key " + std::string(key.key_id()) +
                          " does not verify: the " + std::string(what) + " or the signature was altered"
                    : "the " + std::string(what) + " is not signed by the release key " + std::string(key.key_id()) +
                          " (signed by key " + printable_excerpt(envelope->signatures.front().key_id, 64) + ")";
    return make_error(Errc::bad_credentials, std::move(message));
  }
  return std::move(envelope->payload);
}

Result<ReleaseManifest> open_release_envelope(std::string_view envelope_text, const ReleaseKey& key) {
  auto payload = open_signed_payload(envelope_text, kReleaseManifestType, "release manifest", key);
  if (!payload) return std::move(payload).error();
  return decode_release_manifest(*payload);
}

Result<ReleaseTimestamp> open_release_timestamp(std::string_view envelope_text, const ReleaseKey& key) {
  auto payload = open_signed_payload(envelope_text, kReleaseTimestampType, "release timestamp", key);
  if (!payload) return std::move(payload).error();
  return decode_release_timestamp(*payload);
}

}  // namespace kelvin::proto
