#include "kelvin/http/file_response.hpp"

#include <charconv>

namespace kelvin::http {
namespace {

// A run of decimal digits that fits 64 bits; nullopt otherwise (empty, a sign, trailing bytes).
std::optional<std::uint64_t> decimal(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

RangeRequest parse_range(std::optional<std::string_view> header, std::uint64_t size) {
  RangeRequest whole;
  if (!header) return whole;
  constexpr std::string_view kUnit = "bytes=";
  std::string_view spec = *header;
  if (!spec.starts_with(kUnit)) return whole;
  spec.remove_prefix(kUnit.size());
  if (spec.find(',') != std::string_view::npos) return whole;  // several ranges: the whole is simpler
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;
  const std::string_view first_text = spec.substr(0, dash);
  const std::string_view last_text = spec.substr(dash + 1);

  RangeRequest range;
  range.kind = RangeRequest::Kind::range;
  if (first_text.empty()) {  // bytes=-N: the last N bytes
    const auto suffix = decimal(last_text);
    if (!suffix) return whole;
    if (*suffix == 0 || size == 0) return RangeRequest{RangeRequest::Kind::unsatisfiable};
    range.length = std::min(*suffix, size);
    range.first = size - range.length;
    return range;
  }
  const auto first = decimal(first_text);
  if (!first) return whole;
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    const auto asked = decimal(last_text);
    if (!asked || *asked < *first) return whole;  // an invalid range is ignored (RFC 9110 §14.2)
    last = std::min(last, *asked);
  }
  if (*first >= size) return RangeRequest{RangeRequest::Kind::unsatisfiable};
  range.first = *first;
  range.length = last - *first + 1;
  return range;
}

Response file_response(const std::filesystem::path& path, std::uint64_t size, std::optional<std::string_view> range,
                       std::string content_type, const std::string& etag) {
  Response response;
  response.content_type = std::move(content_type);
  response.headers.emplace_back("Accept-Ranges", "bytes");
  if (!etag.empty()) response.headers.emplace_back("ETag", etag);
  const RangeRequest asked = parse_range(range, size);
  switch (asked.kind) {
    case RangeRequest::Kind::whole:
      response.file = FileSlice{path, 0, size};
      break;
    case RangeRequest::Kind::range:
      response.status = 206;
      response.headers.emplace_back("Content-Range", "bytes " + std::to_string(asked.first) + "-" +
                                                         std::to_string(asked.first + asked.length - 1) + "/" +
                                                         std::to_string(size));
      response.file = FileSlice{path, asked.first, asked.length};
      break;
    case RangeRequest::Kind::unsatisfiable:
      response = error_response(416, "range_not_satisfiable",
                                "the range starts past the end of the " + std::to_string(size) + " bytes");
      response.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
      break;
  }
  return response;
}

}  // namespace kelvin::http
