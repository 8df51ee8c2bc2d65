#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kelvin {

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

// The length in bytes (1 to 4) of the well-formed UTF-8 sequence `text` begins with; 0 when it is
// empty or begins with an ill-formed one.
std::size_t utf8_sequence_length(std::string_view text) noexcept;

// Appends `code_point` encoded as UTF-8 (1 to 4 bytes). Precondition: at most U+10FFFF and not a
// surrogate (U+D800-U+DFFF): callers decoding \u escapes pair or refuse surrogates first.
void append_utf8(std::uint32_t code_point, std::string& out);

// The UTF-16 code unit of a JSON \uXXXX escape: the first four characters of `text` as hex digits
// (either case); nullopt when there are fewer or one is not a hex digit.
std::optional<std::uint32_t> parse_hex4(std::string_view text) noexcept;

}  // namespace kelvin
