#pragma once
// A strict pull reader for the fixed JSON shapes of portable payloads (release envelopes and
// manifests), for code that has no JSON library: the device core. Portable (proto_portable).
//
// The caller drives it by the shape it expects: begin_object, then next_member until it returns
// false, reading each member's value with read_string / read_unsigned / begin_array ... . Every
// call returns false once the text has failed to match (failed() then says so), so a caller may
// check failed() once after a loop. Strict RFC 8259: no comments, trailing commas, single quotes,
// leading zeros, unescaped control characters or invalid UTF-8; \u escapes are decoded (surrogate
// pairs included, a lone surrogate refused). Nesting is bounded (kMaxDepth).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kelvin::proto {

class JsonReader {
 public:
  static constexpr std::size_t kMaxDepth = 8;

  explicit JsonReader(std::string_view text) : text_(text) {}

  // Consumes '{' (or '['), opening a level.
  bool begin_object();
  bool begin_array();
  // The next member's key, after consuming the ',' before it and the ':' after it; false at the
  // closing '}' (consumed, the level closed) or on a failure.
  bool next_member(std::string& key);
  // True when another element follows (its ',' consumed); false at the closing ']' or a failure.
  bool next_element();
  // A string value, unescaped; a JSON integer in 0..2^64-1 (no sign, fraction or exponent).
  bool read_string(std::string& out);
  bool read_unsigned(std::uint64_t& out);
  // True when nothing but whitespace is left and nothing failed.
  bool finish();

  bool failed() const noexcept { return failed_; }

 private:
  bool fail() noexcept;
  void skip_whitespace() noexcept;
  bool expect(char c) noexcept;
  bool open(char c) noexcept;
  // At the start of a member or element: false at `close` (consumed), otherwise consumes the ','
  // that must precede any but the first.
  bool next_in_level(char close) noexcept;
  bool read_hex4(std::uint32_t& out) noexcept;
  bool read_escape(std::string& out);

  std::string_view text_;
  std::size_t pos_ = 0;
  bool failed_ = false;
  std::size_t depth_ = 0;
  bool first_in_level_[kMaxDepth] = {};
};

// Reads `text` as one JSON object whose members are exactly `names`, each once, in any order:
// `read(in, i)` reads the value of the member names[i] and returns whether it had that member's
// type and value. Returns "" when the object was so, else the problem in one line ("unknown member
// "x"", "member "x" given twice", ""x" has the wrong type or value", "member "x" is missing", "not
// a JSON object", "not well-formed JSON"). At most 32 names.
template <std::size_t N, class ReadMember>
std::string read_exact_members(std::string_view text, const std::string_view (&names)[N], ReadMember&& read);

// Text from a payload quoted in an error message: at most `limit` bytes, anything but printable
// ASCII shown as '?', so a hostile payload cannot put line breaks or terminal controls into logs.
std::string printable_excerpt(std::string_view text, std::size_t limit);

template <std::size_t N, class ReadMember>
std::string read_exact_members(std::string_view text, const std::string_view (&names)[N], ReadMember&& read) {
  static_assert(N <= 32, "a member set is a 32-bit mask");
  std::uint32_t seen = 0;
  JsonReader in(text);
  std::string key;
  if (!in.begin_object()) return "not a JSON object";
  while (in.next_member(key)) {
    std::size_t index = 0;
    while (index < N && names[index] != key) ++index;
    if (index == N) return "unknown member \"" + printable_excerpt(key, 40) + "\"";
    const std::uint32_t bit = std::uint32_t{1} << index;
    if (seen & bit) return "member \"" + key + "\" given twice";
    seen |= bit;
    if (!read(in, index)) return "\"" + key + "\" has the wrong type or value";
  }
  if (!in.finish()) return "not well-formed JSON";
  for (std::size_t index = 0; index < N; ++index) {
    if (!(seen & (std::uint32_t{1} << index))) return "member \"" + std::string(names[index]) + "\" is missing";
  }
  return {};
}

}  // namespace kelvin::proto
