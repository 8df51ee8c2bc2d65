#pragma once
// Answering GET with a file, whole or the one byte range the client asked for (RFC 9110 §14), so
// a device whose download was cut off resumes it instead of starting over (docs/ota.md).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "kelvin/http/message.hpp"

namespace kelvin::http {

// What a Range header asks of a representation of `size` bytes.
struct RangeRequest {
  enum class Kind {
    whole,          // no Range, or one the server may ignore (another unit, several ranges, malformed)
    range,          // exactly one satisfiable range: answer 206 with it
    unsatisfiable,  // one range that starts at or past the end: answer 416
  };
  Kind kind = Kind::whole;
  std::uint64_t first = 0;   // Kind::range: the first byte
  std::uint64_t length = 0;  // Kind::range: how many bytes (at least 1, clipped to the end)
};

// `header`: the Range field's value, nullopt when the request has none. Understands
// "bytes=first-last", "bytes=first-" and "bytes=-suffix" (one range, no whitespace inside).
RangeRequest parse_range(std::optional<std::string_view> header, std::uint64_t size);

// The answer to a GET of the file `path` of `size` bytes (the caller knows it: the file must not
// change): 200 with all of it, 206 with the range asked for (Content-Range), or 416 (Content-Range:
// bytes */size). Each carries Accept-Ranges: bytes and `etag` (a quoted string, e.g. the
// content's hash) when not empty.
Response file_response(const std::filesystem::path& path, std::uint64_t size, std::optional<std::string_view> range,
                       std::string content_type, const std::string& etag);

}  // namespace kelvin::http
