#include "kelvin/http/target.hpp"

namespace kelvin::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_control_or_space(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte <= 0x20 || byte == 0x7f;
}

Error bad_target(std::string_view why) {
  return make_error(Errc::invalid_argument, "bad request target: " + std::string(why));
}

// Checks the escapes and decoded bytes of a query without decoding it for the caller: the query's
// own grammar (which '+' or '&' means what) belongs to whoever reads it.
Result<void> check_query(std::string_view query) {
  auto decoded = percent_decode(query);
  if (!decoded) return std::move(decoded).error();
  for (char c : *decoded) {
    if (is_control_or_space(c) && c != ' ') return bad_target("control character in the query");
  }
  return {};
}

}  // namespace

Result<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return bad_target("truncated percent-escape");
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return bad_target("invalid percent-escape");
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

Result<Target> parse_target(std::string_view target) {
  if (target.empty() || target.front() != '/') return bad_target("must start with '/'");
  for (char c : target) {
    if (is_control_or_space(c)) return bad_target("control character or space");
    if (c == '#') return bad_target("fragment");
  }
  Target out;
  const std::size_t question = target.find('?');
  out.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) {
    out.query = std::string(target.substr(question + 1));
    if (auto checked = check_query(out.query); !checked) return std::move(checked).error();
  }
  std::string_view rest = std::string_view(out.path).substr(1);
  if (rest.empty()) return out;  // "/" has no segments
  while (true) {
    const std::size_t slash = rest.find('/');
    const std::string_view raw = rest.substr(0, slash);
    auto decoded = percent_decode(raw);
    if (!decoded) return std::move(decoded).error();
    if (*decoded == "." || *decoded == "..") return bad_target("dot segment");
    for (char c : *decoded) {
      if (is_control_or_space(c) && c != ' ') return bad_target("control character in the path");
      if (c == '/' || c == '\\') return bad_target("encoded path separator");
    }
    out.segments.push_back(std::move(*decoded));
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return out;
}

}  // namespace kelvin::http
