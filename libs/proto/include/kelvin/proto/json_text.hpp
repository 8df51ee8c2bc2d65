#pragma once
// Writing JSON text without a JSON library, for the encoders of libs/proto. Portable
// (proto_portable): the device core encodes its payloads with it.

#include <charconv>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

namespace kelvin::proto {

// Appends `text` as a JSON string literal (quotes included): '"' and '\' escaped, control
// characters as \n, \r, \t, \b, \f or \u00XX. Precondition: `text` is valid UTF-8.
void append_json_string(std::string_view text, std::string& out);

// `text` made fit to send as a JSON string a gateway accepts: control characters (and, when
// `text` is not valid UTF-8, every non-ASCII byte) replaced by '?', and cut to at most `max_bytes`
// without splitting a character.
std::string sendable_text(std::string_view text, std::size_t max_bytes);

// Appends an integer in decimal, or a double in its shortest form that reads back to the same
// value. Precondition: a double is finite (JSON has no NaN or Infinity).
template <class Number>
void append_json_number(Number value, std::string& out) {
  static_assert(std::is_arithmetic_v<Number> && !std::is_same_v<Number, bool>, "JSON numbers only");
  char digits[32];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  if (ec == std::errc()) out.append(digits, end);
}

}  // namespace kelvin::proto
