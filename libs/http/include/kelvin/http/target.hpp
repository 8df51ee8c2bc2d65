#pragma once
// The request target (RFC 9112 origin-form: "/path?query") checked and split before any routing,
// so no handler ever sees a path that could climb out of where it serves from.

#include <string>
#include <string_view>
#include <vector>

#include "kelvin/core/result.hpp"

namespace kelvin::http {

struct Target {
  std::string path;                   // still percent-encoded
  std::vector<std::string> segments;  // percent-decoded; "/" has none, "/a/" has "a" and ""
  std::string query;                  // after the first '?', still percent-encoded; "" when none
};

// Splits and decodes `target`. Errc::invalid_argument (answered 400 "bad_request") when it:
//   - does not start with '/' (absolute-form, authority-form, "*"), or holds a '#';
//   - holds a control character (NUL included) or a space, raw or percent-encoded;
//   - has a '%' not followed by two hex digits, in the path or in the query;
//   - has a segment that is "." or ".." raw or once decoded ("%2e", "%2E%2e", ...);
//   - has a segment that decodes to something holding '/' or '\' ("..%2f", "%5c"), which would
//     change the path's structure after routing.
Result<Target> parse_target(std::string_view target);

// Percent-decodes `text` ('+' stays '+'). Errc::invalid_argument for a '%' not followed by two
// hex digits.
Result<std::string> percent_decode(std::string_view text);

}  // namespace kelvin::http
