#include "kelvin/log/json_lines_formatter.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "kelvin/core/utf8.hpp"
#include "kelvin/log/subject.hpp"

namespace kelvin::log {
namespace {

// The names a config uses (config's `warn`, not spdlog's `warning`).
std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

// "2026-12-05T17:40:02.113Z"
void append_utc_millis(std::chrono::system_clock::time_point time, std::string& out) {
  const auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(since_epoch / 1000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  const int length =
      std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1,
                    parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, static_cast<int>(since_epoch % 1000));
  out.append(text, static_cast<std::size_t>(length));
}

void append_field(std::string_view key, std::string_view value, std::string& out) {
  out += ",\"";
  out += key;
  out += "\":\"";
  append_json_escaped(value, out);
  out += '"';
}

}  // namespace

void append_json_escaped(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  while (!text.empty()) {
    const auto c = static_cast<unsigned char>(text.front());
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(text);
      if (length == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD for one ill-formed byte; the next byte starts afresh
        text.remove_prefix(1);
        continue;
      }
      out.append(text.data(), length);
      text.remove_prefix(length);
      continue;
    } else {
      out += static_cast<char>(c);
    }
    text.remove_prefix(1);
  }
}

namespace {

// The keys of the thread's subjects (subject.hpp), each once with its innermost value, in the order
// of SubjectKey; a device the logger's name gave is not written again.
void append_subjects(bool device_of_logger, std::string& line) {
  const auto& subjects = subjects_of_this_thread();
  for (std::size_t k = 0; k < kSubjectKeyCount && !subjects.empty(); ++k) {
    const auto key = static_cast<SubjectKey>(k);
    if (key == SubjectKey::device && device_of_logger) continue;
    for (auto it = subjects.rbegin(); it != subjects.rend(); ++it) {
      if (it->first != key) continue;
      append_field(to_string(key), it->second, line);
      break;
    }
  }
}

}  // namespace

void JsonLinesFormatter::format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& destination) {
  std::string line;
  line.reserve(96 + message.payload.size());
  line += "{\"time\":\"";
  append_utc_millis(message.time, line);
  line += '"';
  append_field("level", level_name(message.level), line);
  const std::string_view logger(message.logger_name.data(), message.logger_name.size());
  const std::size_t colon = logger.find(':');  // "component:device" (log::component)
  if (!logger.empty()) append_field("component", logger.substr(0, colon), line);
  const bool device_of_logger = colon != std::string_view::npos;
  if (device_of_logger) append_field("device", logger.substr(colon + 1), line);
  append_subjects(device_of_logger, line);
  append_field("message", std::string_view(message.payload.data(), message.payload.size()), line);
  line += "}\n";
  destination.append(line.data(), line.data() + line.size());
}

std::unique_ptr<spdlog::formatter> JsonLinesFormatter::clone() const {
  return std::make_unique<JsonLinesFormatter>();
}

}  // namespace kelvin::log
