#include "json_reader.hpp"

#include <limits>

#include "kelvin/core/utf8.hpp"

namespace kelvin::proto {
namespace {

bool is_high_surrogate(std::uint32_t code) {
  return code >= 0xD800 && code <= 0xDBFF;
}
bool is_low_surrogate(std::uint32_t code) {
  return code >= 0xDC00 && code <= 0xDFFF;
}

}  // namespace

bool JsonReader::fail() noexcept {
  failed_ = true;
  return false;
}

void JsonReader::skip_whitespace() noexcept {
  while (pos_ < text_.size() &&
         (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\r' || text_[pos_] == '\n')) {
    ++pos_;
  }
}

bool JsonReader::expect(char c) noexcept {
  skip_whitespace();
  if (pos_ >= text_.size() || text_[pos_] != c) return fail();
  ++pos_;
  return true;
}

bool JsonReader::open(char c) noexcept {
  if (failed_) return false;
  if (depth_ == kMaxDepth) return fail();
  if (!expect(c)) return false;
  first_in_level_[depth_++] = true;
  return true;
}

bool JsonReader::begin_object() {
  return open('{');
}
bool JsonReader::begin_array() {
  return open('[');
}

bool JsonReader::next_in_level(char close) noexcept {
  if (failed_ || depth_ == 0) return fail();
  skip_whitespace();
  if (pos_ < text_.size() && text_[pos_] == close) {
    ++pos_;
    --depth_;
    return false;
  }
  bool& first = first_in_level_[depth_ - 1];
  if (!first && !expect(',')) return false;
  first = false;
  return true;
}

bool JsonReader::next_member(std::string& key) {
  if (!next_in_level('}')) return false;
  return read_string(key) && expect(':');
}

bool JsonReader::next_element() {
  return next_in_level(']');
}

bool JsonReader::read_hex4(std::uint32_t& out) noexcept {
  auto code = parse_hex4(text_.substr(pos_));
  if (!code) return fail();
  pos_ += 4;
  out = *code;
  return true;
}

// After the backslash.
bool JsonReader::read_escape(std::string& out) {
  if (pos_ >= text_.size()) return fail();
  const char c = text_[pos_++];
  switch (c) {
    case '"':
    case '\\':
    case '/':
      out += c;
      return true;
    case 'b':
      out += '\b';
      return true;
    case 'f':
      out += '\f';
      return true;
    case 'n':
      out += '\n';
      return true;
    case 'r':
      out += '\r';
      return true;
    case 't':
      out += '\t';
      return true;
    case 'u':
      break;
    default:
      return fail();
  }
  std::uint32_t code = 0;
  if (!read_hex4(code)) return false;
  if (is_low_surrogate(code)) return fail();
  if (is_high_surrogate(code)) {
    std::uint32_t low = 0;
    if (text_.substr(pos_, 2) != "\\u") return fail();
    pos_ += 2;
    if (!read_hex4(low) || !is_low_surrogate(low)) return fail();
    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
  }
  append_utf8(code, out);
  return true;
}

bool JsonReader::read_string(std::string& out) {
  if (failed_) return false;
  out.clear();
  if (!expect('"')) return false;
  while (pos_ < text_.size()) {
    const char c = text_[pos_++];
    if (c == '"') return is_valid_utf8(out) || fail();
    if (static_cast<unsigned char>(c) < 0x20) return fail();
    if (c == '\\') {
      if (!read_escape(out)) return false;
    } else {
      out += c;
    }
  }
  return fail();
}

bool JsonReader::read_unsigned(std::uint64_t& out) {
  if (failed_) return false;
  skip_whitespace();
  const std::size_t start = pos_;
  std::uint64_t value = 0;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
    const auto digit = static_cast<std::uint64_t>(text_[pos_] - '0');
    if (value > (kMax - digit) / 10) return fail();
    value = value * 10 + digit;
    ++pos_;
  }
  const std::size_t length = pos_ - start;
  if (length == 0 || (length > 1 && text_[start] == '0')) return fail();
  // A fraction or exponent would make it another number: refuse rather than truncate.
  if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E')) return fail();
  out = value;
  return true;
}

bool JsonReader::finish() {
  if (failed_ || depth_ != 0) return fail();
  skip_whitespace();
  return pos_ == text_.size() || fail();
}

std::string printable_excerpt(std::string_view text, std::size_t limit) {
  std::string out(text.substr(0, limit));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

}  // namespace kelvin::proto
