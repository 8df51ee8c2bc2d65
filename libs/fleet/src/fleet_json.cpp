#include "kelvin/fleet/fleet_json.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "kelvin/core/time_arguments.hpp"
#include "kelvin/core/time_format.hpp"

namespace kelvin::fleet {
namespace {

using nlohmann::json;

template <class T>
json or_null(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

json time_or_null(const std::optional<std::int64_t>& ms) {
  return ms ? json(format_utc_ms(*ms)) : json(nullptr);
}

json reading_json(const proto::Reading& reading) {
  json out = {{"seq", reading.seq}, {"ts", format_utc_ms(reading.ts_ms)}, {"ts_ms", reading.ts_ms}};
  for (const auto& quantity : proto::kQuantities) {
    out[std::string(quantity.name)] = or_null(reading.value(quantity.quantity));
  }
  return out;
}

json reading_json(const std::optional<proto::Reading>& reading) {
  return reading ? reading_json(*reading) : json(nullptr);
}

json certificate_json(const DeviceView& view) {
  json out = {{"state", certificate_state(view)}, {"serial", nullptr}, {"expires", nullptr}, {"expires_ms", nullptr}};
  if (view.certificate) {
    out["serial"] = view.certificate->record.serial;
    out["expires"] = format_utc_timestamp(view.certificate->record.not_after);
    out["expires_ms"] = static_cast<std::int64_t>(view.certificate->record.not_after) * 1000;
  }
  return out;
}

json device_object(const DeviceView& view) {
  const store::DeviceInfo never_stored;
  const store::DeviceInfo& info = view.stored ? *view.stored : never_stored;
  const bool registered = info.registered_ms != 0;
  const bool has_firmware = info.status && !info.status->firmware.empty();
  const bool has_release_check = info.status && !info.status->release_check.empty();
  json out = {{"id", view.id},
              {"state", device_state(view)},
              {"registered", registered},
              {"registered_at", registered ? json(format_utc_ms(info.registered_ms)) : json(nullptr)},
              {"registered_at_ms", registered ? json(info.registered_ms) : json(nullptr)},
              {"last_seen", time_or_null(info.last_seen_ms)},
              {"last_seen_ms", or_null(info.last_seen_ms)},
              {"last_reading", reading_json(info.last_reading)},
              {"firmware", has_firmware ? json(info.status->firmware) : json(nullptr)},
              {"acked_seq", info.acked_seq},
              {"readings_stored", info.readings_stored},
              {"rejected", info.rejected_total},
              {"dropped", info.status ? json(info.status->dropped_total) : json(nullptr)},
              {"release_check", has_release_check ? json(info.status->release_check) : json(nullptr)},
              {"certificate", certificate_json(view)},
              {"labels", info.labels}};
  if (view.rejections_by_reason) {
    json by_reason = json::object();
    for (const auto& count : *view.rejections_by_reason) by_reason[count.reason] = count.count;
    out["rejected_by_reason"] = std::move(by_reason);
  }
  return out;
}

std::string dump(const json& value, int indent) {
  return value.dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string live_reading_json(std::string_view device_id, const proto::Reading& reading) {
  json out = reading_json(reading);
  out["device"] = device_id;
  return dump(out, -1);
}

std::string live_status_json(std::string_view device_id, const store::DeviceStatus& status) {
  return dump({{"device", device_id},
               {"state", status.state},
               {"firmware", status.firmware.empty() ? json(nullptr) : json(status.firmware)},
               {"dropped", status.dropped_total},
               {"release_check", status.release_check.empty() ? json(nullptr) : json(status.release_check)},
               {"at", format_utc_ms(status.at_ms)},
               {"at_ms", status.at_ms}},
              -1);
}

std::string live_ready_json(std::optional<std::string_view> device_id, bool resumed) {
  return dump({{"device", device_id ? json(*device_id) : json(nullptr)}, {"resumed", resumed}}, -1);
}

std::string device_json(const DeviceView& view, int indent) {
  return dump(device_object(view), indent);
}

std::string devices_json(const std::vector<DeviceView>& views, int indent) {
  json out = json::array();
  for (const auto& view : views) out.push_back(device_object(view));
  return dump(out, indent);
}

std::string series_json(const store::Query& query, const store::QueryResult& result, int indent) {
  const auto& quantity = proto::info(query.quantity);
  json buckets = json::array();
  for (const auto& bucket : result.buckets) {
    buckets.push_back({{"start", format_utc_ms(bucket.start_ms)},
                       {"start_ms", bucket.start_ms},
                       {"min", bucket.min},
                       {"mean", bucket.mean},
                       {"max", bucket.max},
                       {"count", bucket.count}});
  }
  const json out = {{"device", query.device_id},    {"quantity", quantity.name},
                    {"unit", quantity.unit},        {"from", format_utc_ms(query.from_ms)},
                    {"from_ms", query.from_ms},     {"to", format_utc_ms(query.to_ms)},
                    {"to_ms", query.to_ms},         {"step", format_step(query.step_ms)},
                    {"step_ms", query.step_ms},     {"resolution", store::to_string(result.resolution)},
                    {"buckets", std::move(buckets)}};
  return dump(out, indent);
}

std::string fleet_series_json(const store::FleetHoursQuery& query, const std::vector<store::DeviceBuckets>& fleet,
                              int indent) {
  constexpr std::int64_t kHourMs = 3'600'000;
  const auto& quantity = proto::info(query.quantity);
  const auto hours = static_cast<std::size_t>((query.to_ms - query.from_ms) / kHourMs);
  json devices = json::array();
  for (const auto& device : fleet) {
    json means(hours, nullptr);
    for (const auto& bucket : device.buckets) {
      const std::int64_t hour = (bucket.start_ms - query.from_ms) / kHourMs;
      if (hour >= 0 && static_cast<std::size_t>(hour) < hours) {
        means[static_cast<std::size_t>(hour)] = std::round(bucket.mean * 100.0) / 100.0;
      }
    }
    devices.push_back({{"id", device.device_id}, {"mean", std::move(means)}});
  }
  const json out = {{"quantity", quantity.name},
                    {"unit", quantity.unit},
                    {"from", format_utc_ms(query.from_ms)},
                    {"from_ms", query.from_ms},
                    {"to", format_utc_ms(query.to_ms)},
                    {"to_ms", query.to_ms},
                    {"step", format_step(kHourMs)},
                    {"step_ms", kHourMs},
                    {"devices", std::move(devices)}};
  return dump(out, indent);
}

}  // namespace kelvin::fleet
