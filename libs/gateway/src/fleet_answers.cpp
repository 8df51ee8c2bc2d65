#include "fleet_answers.hpp"

#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "kelvin/fleet/device_view.hpp"
#include "kelvin/fleet/fleet_json.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/pki/certificate_authority.hpp"

namespace kelvin::gateway {
namespace {

// Removed devices (kelvinctl device remove) are left out, as `kelvinctl device list` does.
constexpr bool kIncludeRemoved = false;

// The details (file names, SQLite's words) go to the log; the client gets a code to quote.
http::Response store_failure(const Error& error) {
  log::component("https").error("reading the store for the API failed: {}", error.message);
  return http::error_response(500, "store_error", "the gateway could not read its store; its log says why");
}

http::Response pki_failure(const Error& error) {
  log::component("https").error("reading the PKI for the API failed: {}", error.message);
  return http::error_response(500, "pki_error",
                              "the gateway could not read its certificate authority; its log says why");
}

http::Response device_not_found(const std::string& device_id) {
  return http::error_response(
      404, "device_not_found",
      "device '" + device_id +
          "' is not known to this gateway: it sent nothing and has no certificate, or was removed");
}

// Every certificate of the CA with its state now (CertificateAuthority::list). Opening the CA reads
// its index and certificate only, never its key.
Result<std::vector<pki::CertificateStatus>> certificates_now(const FleetSources& sources) {
  auto ca = pki::CertificateAuthority::open(sources.pki_dir);
  if (!ca) return std::move(ca).error();
  return ca->list(static_cast<std::time_t>(sources.now_ms() / 1000));
}

struct StoredDevice {
  std::optional<store::DeviceInfo> info;
  std::vector<store::RejectionCount> rejections;
};

struct StoredSeries {
  bool device_known = false;
  store::QueryResult result;
};

}  // namespace

http::Response devices_answer(const FleetSources& sources, const std::optional<std::string>& label) {
  auto devices = sources.store.with([](store::Store& store) { return store.list_devices(); });
  if (!devices) return store_failure(devices.error());
  auto certificates = certificates_now(sources);
  if (!certificates) return pki_failure(certificates.error());
  auto views = fleet::device_views(std::move(*devices), *certificates, kIncludeRemoved);
  if (label) views = fleet::carrying_label(std::move(views), *label);
  return http::json_response(200, "{\"devices\":" + fleet::devices_json(views) + "}");
}

http::Response device_answer(const FleetSources& sources, const std::string& device_id) {
  auto stored = sources.store.with([&device_id](store::Store& store) -> Result<StoredDevice> {
    StoredDevice found;
    auto info = store.device(device_id);
    if (!info) return std::move(info).error();
    found.info = std::move(*info);
    if (!found.info) return found;
    auto rejections = store.rejections_by_reason(device_id);
    if (!rejections) return std::move(rejections).error();
    found.rejections = std::move(*rejections);
    return found;
  });
  if (!stored) return store_failure(stored.error());
  auto certificates = certificates_now(sources);
  if (!certificates) return pki_failure(certificates.error());
  auto view = fleet::device_view(device_id, std::move(stored->info), *certificates, kIncludeRemoved);
  if (!view) return device_not_found(device_id);
  view->rejections_by_reason = std::move(stored->rejections);
  return http::json_response(200, fleet::device_json(*view));
}

http::Response series_answer(const FleetSources& sources, const store::Query& query) {
  auto stored = sources.store.with([&query](store::Store& store) -> Result<StoredSeries> {
    StoredSeries found;
    auto info = store.device(query.device_id);
    if (!info) return std::move(info).error();
    found.device_known = info->has_value();
    auto result = store.query(query);  // no buckets for a device the store does not know
    if (!result) return std::move(result).error();
    found.result = std::move(*result);
    return found;
  });
  if (!stored) {
    // read_series_request keeps queries within the store's limits, so this is not expected.
    if (stored.error().code == Errc::invalid_argument) {
      return http::error_response(400, "invalid_range", stored.error().message);
    }
    return store_failure(stored.error());
  }
  if (!stored->device_known) {
    // A device with a certificate that never sent anything has an empty series, not none.
    auto certificates = certificates_now(sources);
    if (!certificates) return pki_failure(certificates.error());
    if (!fleet::device_view(query.device_id, std::nullopt, *certificates, kIncludeRemoved)) {
      return device_not_found(query.device_id);
    }
  }
  return http::json_response(200, fleet::series_json(query, stored->result));
}

http::Response fleet_series_answer(const FleetSources& sources, const store::FleetHoursQuery& query) {
  auto fleet = sources.store.with([&query](store::Store& store) { return store.fleet_hours(query); });
  if (!fleet) {
    // read_fleet_series_request keeps the range within the store's limits, so this is not expected.
    if (fleet.error().code == Errc::invalid_argument) {
      return http::error_response(400, "invalid_range", fleet.error().message);
    }
    return store_failure(fleet.error());
  }
  return http::json_response(200, fleet::fleet_series_json(query, *fleet));
}

http::Response gateway_status_answer(const FleetSources& sources) {
  std::string status = sources.gateway_status();
  if (status.empty()) {
    http::Response starting =
        http::error_response(503, "unavailable", "the gateway is starting and has no statistics yet; try again");
    starting.headers.emplace_back("Retry-After", "1");
    return starting;
  }
  // The gateway builds it; a broken one is a bug to log, not something to hand on.
  const auto parsed = nlohmann::json::parse(status, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    log::component("https").error("the gateway's status is not a JSON object; not answered");
    return http::error_response(500, "internal", "the gateway could not report its status");
  }
  return http::json_response(200, std::move(status));
}

}  // namespace kelvin::gateway
