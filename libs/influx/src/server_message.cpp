#include "server_message.hpp"

#include <cstdint>
#include <optional>

#include "kelvin/core/utf8.hpp"

namespace kelvin::influx::detail {
namespace {

void skip_blanks(std::string_view& text) {
  while (!text.empty() &&
         (text.front() == ' ' || text.front() == '\t' || text.front() == '\r' || text.front() == '\n')) {
    text.remove_prefix(1);
  }
}

// The \uXXXX code unit at the front of `text` (consumed); nullopt if there is none.
std::optional<std::uint32_t> hex4(std::string_view& text) {
  auto value = parse_hex4(text);
  if (value) text.remove_prefix(4);
  return value;
}

// Reads a JSON string starting at its opening quote; nullopt if it is not one.
std::optional<std::string> json_string(std::string_view& text) {
  if (text.empty() || text.front() != '"') return std::nullopt;
  text.remove_prefix(1);
  std::string out;
  while (!text.empty()) {
    const char c = text.front();
    text.remove_prefix(1);
    if (c == '"') return out;
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (text.empty()) return std::nullopt;
    const char escaped = text.front();
    text.remove_prefix(1);
    switch (escaped) {
      case '"':
      case '\\':
      case '/':
        out.push_back(escaped);
        break;
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        out.push_back(' ');
        break;
      case 'u': {
        auto unit = hex4(text);
        if (!unit) return std::nullopt;
        std::uint32_t code_point = *unit;
        if (code_point >= 0xd800 && code_point < 0xdc00 && text.size() >= 6 && text[0] == '\\' && text[1] == 'u') {
          std::string_view rest = text.substr(2);
          if (auto low = hex4(rest); low && *low >= 0xdc00 && *low < 0xe000) {
            code_point = 0x10000 + ((code_point - 0xd800) << 10) + (*low - 0xdc00);
            text = rest;
          }
        }
        if (code_point >= 0xd800 && code_point < 0xe000) code_point = 0xfffd;  // a lone surrogate
        append_utf8(code_point, out);
        break;
      }
      default:
        return std::nullopt;
    }
  }
  return std::nullopt;
}

// The "error" member of a JSON object whose members are all strings; nullopt for anything else.
std::optional<std::string> json_error_member(std::string_view body) {
  skip_blanks(body);
  if (body.empty() || body.front() != '{') return std::nullopt;
  body.remove_prefix(1);
  for (;;) {
    skip_blanks(body);
    auto key = json_string(body);
    if (!key) return std::nullopt;
    skip_blanks(body);
    if (body.empty() || body.front() != ':') return std::nullopt;
    body.remove_prefix(1);
    skip_blanks(body);
    auto value = json_string(body);
    if (!value) return std::nullopt;
    if (*key == "error") return value;
    skip_blanks(body);
    if (body.empty() || body.front() != ',') return std::nullopt;
    body.remove_prefix(1);
  }
}

std::string replace_all(std::string text, std::string_view needle, std::string_view replacement) {
  if (needle.empty()) return text;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + replacement.size())) {
    text.replace(at, needle.size(), replacement);
  }
  return text;
}

}  // namespace

std::string one_line(std::string_view text, std::string_view secret) {
  // Redact before flattening and cutting, so the secret is found whole wherever it was.
  std::string redacted = replace_all(std::string(text), secret, "***");
  std::string out;
  out.reserve(redacted.size());
  for (char c : redacted) {
    const auto byte = static_cast<unsigned char>(c);
    const bool blank = byte < 0x20 || byte == 0x7f || c == ' ';
    if (blank) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > kMaxMessageBytes) {
    std::size_t cut = kMaxMessageBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) --cut;  // not inside a character
    out.resize(cut);
    out += "...";
  }
  return out;
}

std::string server_message(std::string_view body, std::string_view secret) {
  if (auto error = json_error_member(body)) return one_line(*error, secret);
  return one_line(body, secret);
}

}  // namespace kelvin::influx::detail
