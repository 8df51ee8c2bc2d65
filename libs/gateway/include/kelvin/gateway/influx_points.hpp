#pragma once
// How kelvin's data looks in InfluxDB (docs/influxdb.md is the user-facing description; change
// both together, and the Grafana dashboard in deploy/grafana with them).
//
//   kelvin_reading,device=<id> temperature=<°C>,humidity=<%RH>,seq=<n>i <reading ts, ms>
//     One point per stored reading; a field per quantity the reading has. The point's identity in
//     InfluxDB is (measurement, device, ts), so writing the same reading again replaces it with
//     itself: exports are idempotent. Two readings of one device with the same millisecond would
//     share a point (the later write wins); devices never send that unless their clock steps back.
//   kelvin_device_status,device=<id> online=<1|0>i,state="<state>",firmware="<fw>",dropped=<n>i <received, ms>
//     The device's current status, written when it changed since the exporter's last look (every
//     status_interval): a status replaced within that interval is not written.

#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"
#include "kelvin/store/types.hpp"

namespace kelvin::gateway {

inline constexpr std::string_view kReadingMeasurement = "kelvin_reading";
inline constexpr std::string_view kStatusMeasurement = "kelvin_device_status";

// Append one line protocol line (with its newline). Errc::invalid_argument for what line protocol
// cannot carry (a reading without values, a non-finite value), which the store never holds.
Result<void> append_reading_line(std::string& out, const store::ExportedReading& exported);
Result<void> append_status_line(std::string& out, std::string_view device_id, const store::DeviceStatus& status);

}  // namespace kelvin::gateway
