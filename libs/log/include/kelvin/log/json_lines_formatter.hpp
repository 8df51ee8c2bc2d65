#pragma once
// The spdlog formatter behind log::write_json_lines(): each message becomes one JSON object on its
// own line with the keys time (UTC, ms), level (trace, debug, info, warn, error, critical),
// component (the logger's name, left out for the unnamed default logger), device (when the name
// is "component:device"), the keys of the logging thread's subjects (subject.hpp: device, rule,
// subject, user) and message.
//
// A message may carry bytes from the network (a client id in the broker's log, a device's
// rejected value): quotes, backslashes and control characters are escaped, and bytes that are not
// well-formed UTF-8 become U+FFFD, so every line is valid JSON and no input can end a line early or
// forge another.

#include <spdlog/formatter.h>

#include <memory>
#include <string>
#include <string_view>

namespace kelvin::log {

class JsonLinesFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& destination) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// Appends `text` as the contents of a JSON string (without the quotes), as described above.
void append_json_escaped(std::string_view text, std::string& out);

}  // namespace kelvin::log
