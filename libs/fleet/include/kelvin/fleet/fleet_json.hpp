#pragma once
// The JSON kelvin shows its fleet in: one shape for kelvinctl's --json output and for the gateway's
// HTTPS API (docs/registry.md, docs/api.md). Keys are stable: new ones may be added, these keep their
// names and meaning. Times come twice, as ISO 8601 UTC ("ts") and Unix milliseconds ("ts_ms").
// `indent` as for nlohmann::json::dump: -1 compact, n >= 0 pretty with n spaces. Text that is not
// valid UTF-8 (a firmware string, say) is replaced, never a reason to fail.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/fleet/device_view.hpp"
#include "kelvin/store/types.hpp"

namespace kelvin::fleet {

// {"id", "state", "registered", "registered_at", "registered_at_ms", "last_seen", "last_seen_ms",
//  "last_reading", "firmware", "acked_seq", "readings_stored", "rejected", "dropped",
//  "release_check" (the code from the last status that carried one; null: never reported),
//  "certificate" ({"state", "serial", "expires", "expires_ms"}), "labels" (sorted; [] for none)}, and
// "rejected_by_reason" ({reason: count}) when the view has it.
std::string device_json(const DeviceView& view, int indent = -1);
// An array of device_json objects, in the order given.
std::string devices_json(const std::vector<DeviceView>& views, int indent = -1);

// A query's answer: {"device", "quantity", "unit", "from", "from_ms", "to", "to_ms", "step",
// "step_ms", "resolution", "buckets": [{"start", "start_ms", "min", "mean", "max", "count"}]}.
std::string series_json(const store::Query& query, const store::QueryResult& result, int indent = -1);

// Every device's hourly means (GET /api/v1/fleet/series): {"quantity", "unit", "from", "from_ms",
// "to", "to_ms", "step", "step_ms", "devices": [{"id", "mean": [one per hour of the range, rounded
// to two decimals, null for an hour without readings]}]}, devices in the order given.
std::string fleet_series_json(const store::FleetHoursQuery& query, const std::vector<store::DeviceBuckets>& fleet,
                              int indent = -1);

// The data of the gateway's live events (docs/api.md, "Live events"), one line each:
// a reading as in "last_reading", with "device": {"device", "seq", "ts", "ts_ms", <quantities>};
std::string live_reading_json(std::string_view device_id, const proto::Reading& reading);
// a status the device reported: {"device", "state", "firmware", "dropped", "release_check", "at",
// "at_ms"} ("firmware" and "release_check" null when the status did not carry them);
std::string live_status_json(std::string_view device_id, const store::DeviceStatus& status);
// the stream's first event: {"device": the device followed, or null for the whole fleet,
// "resumed": whether it replays what was stored since the client's Last-Event-ID}.
std::string live_ready_json(std::optional<std::string_view> device_id, bool resumed);

}  // namespace kelvin::fleet
