#include "kelvin/gateway/influx_points.hpp"

#include <array>
#include <cstdint>

#include "kelvin/influx/line_protocol.hpp"

namespace kelvin::gateway {

Result<void> append_reading_line(std::string& out, const store::ExportedReading& exported) {
  const proto::Reading& reading = exported.reading;
  if (reading.seq > static_cast<std::uint64_t>(INT64_MAX)) {
    return make_error(Errc::invalid_argument,
                      "seq " + std::to_string(reading.seq) + " does not fit an InfluxDB integer");
  }
  std::array<influx::Field, proto::kQuantityCount + 1> fields{};
  std::size_t count = 0;
  for (const auto& quantity : proto::kQuantities) {
    if (auto value = reading.value(quantity.quantity)) fields[count++] = influx::Field{quantity.name, *value};
  }
  if (count == 0) return make_error(Errc::invalid_argument, "reading has no values to export");
  fields[count++] = influx::Field{"seq", static_cast<std::int64_t>(reading.seq)};
  const influx::Tag tags[] = {{"device", exported.device_id}};
  return influx::append_line(out, influx::Point{kReadingMeasurement, tags, {fields.data(), count}, reading.ts_ms});
}

Result<void> append_status_line(std::string& out, std::string_view device_id, const store::DeviceStatus& status) {
  if (status.dropped_total > static_cast<std::uint64_t>(INT64_MAX)) {
    return make_error(Errc::invalid_argument, "dropped count does not fit an InfluxDB integer");
  }
  const influx::Field fields[] = {
      {"online", std::int64_t{status.state == "online" ? 1 : 0}},
      {"state", std::string_view(status.state)},
      {"firmware", std::string_view(status.firmware)},
      {"dropped", static_cast<std::int64_t>(status.dropped_total)},
  };
  const influx::Tag tags[] = {{"device", device_id}};
  return influx::append_line(out, influx::Point{kStatusMeasurement, tags, fields, status.at_ms});
}

}  // namespace kelvin::gateway
