#include "kelvin/influx/line_protocol.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <type_traits>

#include "kelvin/core/utf8.hpp"

namespace kelvin::influx {
namespace {

// Characters a backslash escapes, per position (InfluxDB 1.x models/points.go).
constexpr std::string_view kMeasurementSpecials = ", ";
constexpr std::string_view kKeySpecials = ",= ";  // tag keys, tag values, field keys

// Why `text` cannot be written as a measurement, tag key, tag value or field key; nullptr if it can.
const char* name_problem(std::string_view text, bool is_measurement) {
  if (text.empty()) return "is empty";
  if (!is_valid_utf8(text)) return "is not valid UTF-8";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) return "contains a control character (a line break would end the line)";
    if (c != '\\') continue;
    // The 1.x parser treats a backslash as an escape of whatever follows it and only unescapes
    // some pairs, so these cannot be written unambiguously: reject rather than store another name.
    if (i + 1 == text.size()) return "ends with a backslash, which InfluxDB 1.x would read as an escape";
    const char next = text[i + 1];
    if (next == ',' || next == ' ' || next == '=' || next == '"') {
      return "has a backslash before a comma, space, equals sign or double quote, which InfluxDB 1.x would "
             "read as an escape";
    }
  }
  if (is_measurement && text.front() == '#') return "starts with '#', which InfluxDB reads as a comment line";
  return nullptr;
}

void append_escaped(std::string& out, std::string_view text, std::string_view specials) {
  for (char c : text) {
    if (specials.find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
}

void append_string_value(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

template <class Number>
void append_number(std::string& out, Number value) {
  std::array<char, 32> buffer{};  // the longest double in shortest form is 24 characters
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  (void)ec;  // cannot fail: the buffer fits every double and int64
  out.append(buffer.data(), end);
}

// Names the point in messages; used only once the measurement passed validation, so it is one clean line.
std::string where(const Point& point) {
  return "InfluxDB point of measurement \"" + std::string(point.measurement) + "\"";
}

Result<void> validate(const Point& point) {
  if (const char* problem = name_problem(point.measurement, true)) {
    return make_error(Errc::invalid_argument, std::string("InfluxDB point: the measurement name ") + problem);
  }
  for (std::size_t i = 0; i < point.tags.size(); ++i) {
    const Tag& tag = point.tags[i];
    if (const char* problem = name_problem(tag.key, false)) {
      return make_error(Errc::invalid_argument, where(point) + ": tag key #" + std::to_string(i + 1) + " " + problem);
    }
    if (tag.value.empty()) {
      return make_error(Errc::invalid_argument, where(point) + ": tag \"" + std::string(tag.key) +
                                                    "\" has an empty value, which InfluxDB would drop; omit the tag "
                                                    "or give it a value");
    }
    if (const char* problem = name_problem(tag.value, false)) {
      return make_error(Errc::invalid_argument,
                        where(point) + ": the value of tag \"" + std::string(tag.key) + "\" " + problem);
    }
  }
  if (point.fields.empty()) {
    return make_error(Errc::invalid_argument, where(point) + " has no fields; InfluxDB needs at least one");
  }
  for (std::size_t i = 0; i < point.fields.size(); ++i) {
    const Field& field = point.fields[i];
    if (const char* problem = name_problem(field.key, false)) {
      return make_error(Errc::invalid_argument, where(point) + ": field key #" + std::to_string(i + 1) + " " + problem);
    }
    if (const auto* number = std::get_if<double>(&field.value); number != nullptr && !std::isfinite(*number)) {
      return make_error(Errc::invalid_argument, where(point) + ": field \"" + std::string(field.key) +
                                                    "\" is NaN or infinite, which InfluxDB cannot store");
    }
    if (const auto* text = std::get_if<std::string_view>(&field.value)) {
      if (text->find('\n') != std::string_view::npos) {
        return make_error(Errc::invalid_argument,
                          where(point) + ": string field \"" + std::string(field.key) + "\" contains a newline");
      }
      if (!is_valid_utf8(*text)) {
        return make_error(Errc::invalid_argument,
                          where(point) + ": string field \"" + std::string(field.key) + "\" is not valid UTF-8");
      }
    }
  }
  if (point.ts_ms < kMinTimestampMs || point.ts_ms > kMaxTimestampMs) {
    return make_error(Errc::invalid_argument, where(point) + ": timestamp " + std::to_string(point.ts_ms) +
                                                  " ms is outside the range InfluxDB can store (years 1677..2262)");
  }
  return {};
}

}  // namespace

Result<void> append_line(std::string& out, const Point& point) {
  // Validating first keeps `out` untouched on error: a batch being built is never left with half a line.
  if (auto valid = validate(point); !valid) return valid;

  append_escaped(out, point.measurement, kMeasurementSpecials);
  for (const Tag& tag : point.tags) {
    out.push_back(',');
    append_escaped(out, tag.key, kKeySpecials);
    out.push_back('=');
    append_escaped(out, tag.value, kKeySpecials);
  }
  char separator = ' ';
  for (const Field& field : point.fields) {
    out.push_back(separator);
    separator = ',';
    append_escaped(out, field.key, kKeySpecials);
    out.push_back('=');
    std::visit(
        [&out](const auto& value) {
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, std::string_view>) {
            append_string_value(out, value);
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            append_number(out, value);
            out.push_back('i');
          } else {
            append_number(out, value);
          }
        },
        field.value);
  }
  out.push_back(' ');
  append_number(out, point.ts_ms);
  out.push_back('\n');
  return {};
}

}  // namespace kelvin::influx
