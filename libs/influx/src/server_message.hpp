#pragma once
// Private to libs/influx: turning what a server or libcurl says into one log-safe line.

#include <cstddef>
#include <string>
#include <string_view>

namespace kelvin::influx::detail {

inline constexpr std::size_t kMaxMessageBytes = 300;

// The error text of an HTTP answer's body: the "error" member when the body is a simple JSON
// object of strings (InfluxDB: {"error":"..."}), else the raw body. Passed through one_line.
std::string server_message(std::string_view body, std::string_view secret);

// `text` as one line: control characters become spaces, runs of blanks collapse, the ends are
// trimmed, every occurrence of a non-empty `secret` is replaced by "***" (a server or proxy
// echoing the password must not put it into logs), and the result is cut to kMaxMessageBytes
// on a UTF-8 character boundary, marked with "...".
std::string one_line(std::string_view text, std::string_view secret);

}  // namespace kelvin::influx::detail
