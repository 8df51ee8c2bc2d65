#pragma once
// Base64 (RFC 4648 §4, the standard alphabet with '=' padding) for binary values carried in JSON:
// signatures and the signed payload of a release envelope (docs/ota.md). Portable (core_portable):
// the device core decodes release envelopes with it.

#include <optional>
#include <string>
#include <string_view>

namespace kelvin {

std::string base64_encode(std::string_view bytes);

// The bytes of `text`, which must be canonical standard base64: the standard alphabet only, padded
// to a multiple of four characters, no whitespace, and no bits set in the padding (so each byte
// string has exactly one accepted encoding). nullopt for anything else.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace kelvin
