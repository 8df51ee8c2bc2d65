#pragma once
// InfluxDB 1.x line protocol: one point per line,
//   measurement[,tag_key=tag_value...] field_key=field_value[,...] timestamp\n
// with the timestamp in milliseconds (the writer posts with precision=ms).
//
// Escaping follows the InfluxDB 1.x parser: in the measurement a comma and a space are escaped
// with a backslash; in tag keys, tag values and field keys a comma, an equals sign and a space;
// string field values are double-quoted with '"' and '\' escaped. Any other byte (UTF-8 text
// included) is written as it is.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "kelvin/core/result.hpp"

namespace kelvin::influx {

struct Tag {
  std::string_view key;
  std::string_view value;
};

// A double is an InfluxDB float, an int64 an integer (`i` suffix), a string_view a string field.
// A field keeps its type per shard: writing another type under the same key is refused by
// InfluxDB ("field type conflict"), so a producer must always use the same alternative for a key.
struct Field {
  std::string_view key;
  std::variant<double, std::int64_t, std::string_view> value;
};

// Views only: the caller owns the bytes and keeps them alive while append_line runs.
struct Point {
  std::string_view measurement;
  std::span<const Tag> tags;      // written in this order; see append_line
  std::span<const Field> fields;  // at least one
  std::int64_t ts_ms = 0;         // Unix time in milliseconds
};

// Earliest and latest timestamps InfluxDB can store (its nanosecond range, years 1677..2262).
inline constexpr std::int64_t kMinTimestampMs = -9'223'372'036'854;
inline constexpr std::int64_t kMaxTimestampMs = 9'223'372'036'854;

// Appends one line for `point` (with its trailing '\n') to `out`.
//
// Tags are written in the order given: InfluxDB sorts them itself but works less when they
// arrive sorted by key (byte order), so callers should pass them sorted.
// Doubles are written in their shortest form that reads back as the same double (std::to_chars),
// e.g. 0.1 as "0.1" and -40.0 as "-40" (still a float: only the `i` suffix makes an integer).
//
// Checked preconditions (Errc::invalid_argument; `out` is then left exactly as it was):
// - at least one field, and every double finite (InfluxDB has no NaN or infinity);
// - the measurement, tag keys, tag values and field keys are non-empty (InfluxDB drops a tag
//   with an empty value and refuses empty names), contain no control characters (a newline
//   would end the line), and the measurement does not start with '#' (a comment line: the
//   point would be skipped silently);
// - a backslash in a name or tag value is neither its last character nor followed by a comma,
//   space, equals sign or double quote: the 1.x parser would read such a backslash as an escape
//   and write a different name, or misparse the line;
// - string field values contain no newline;
// - all text is valid UTF-8;
// - ts_ms is within [kMinTimestampMs, kMaxTimestampMs].
// Error messages name the measurement and the offending key, never a field's string value.
Result<void> append_line(std::string& out, const Point& point);

}  // namespace kelvin::influx
