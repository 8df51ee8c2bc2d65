#include "kelvin/http/response_headers.hpp"

#include <algorithm>
#include <array>

namespace kelvin::http {

namespace {

char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool safe_field_text(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

constexpr std::array<std::string_view, 3> kFramingFields = {"Content-Length", "Transfer-Encoding", "Connection"};

}  // namespace

bool field_name_equals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

bool is_json_media_type(std::string_view content_type) noexcept {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  return field_name_equals(type, "application/json");
}

Headers response_headers(const Response& response) {
  Headers out;
  if (!response.content_type.empty() && safe_field_text(response.content_type)) {
    out.emplace_back("Content-Type", response.content_type);
  }
  out.emplace_back("Strict-Transport-Security", "max-age=31536000");
  out.emplace_back("X-Content-Type-Options", "nosniff");
  out.emplace_back("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'");
  out.emplace_back("Referrer-Policy", "no-referrer");
  if (is_json_media_type(response.content_type)) out.emplace_back("Cache-Control", "no-store");
  const std::size_t standard = out.size();
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || !safe_field_text(name) || !safe_field_text(value)) continue;
    const auto same_name = [&name](std::string_view other) { return field_name_equals(name, other); };
    if (std::any_of(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(standard),
                    [&](const auto& field) { return same_name(field.first); }) ||
        std::any_of(kFramingFields.begin(), kFramingFields.end(), same_name)) {
      continue;
    }
    out.emplace_back(name, value);
  }
  return out;
}

}  // namespace kelvin::http
