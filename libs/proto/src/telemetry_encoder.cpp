// Encoding is portable (used by the device core): std::to_chars, no JSON library.

#include "kelvin/proto/json_text.hpp"
#include "kelvin/proto/telemetry_codec.hpp"

namespace kelvin::proto {

void append_reading_json(const Reading& reading, std::string& out) {
  out += R"({"seq":)";
  append_json_number(reading.seq, out);
  out += R"(,"ts":)";
  append_json_number(reading.ts_ms, out);
  out += R"(,"values":{)";
  bool first = true;
  for (const auto& q : kQuantities) {
    auto value = reading.value(q.quantity);
    if (!value) continue;
    if (!first) out += ',';
    first = false;
    out += '"';
    out += q.name;  // quantity names are plain ASCII: no escaping needed
    out += "\":";
    append_json_number(*value, out);
  }
  out += "}}";
}

void append_batch_json(std::span<const Reading> readings, std::string& out) {
  out += kBatchOpen;
  for (std::size_t i = 0; i < readings.size(); ++i) {
    if (i != 0) out += ',';
    append_reading_json(readings[i], out);
  }
  out += kBatchClose;
}

}  // namespace kelvin::proto
