// `kelvinctl device list`: every device the store or the PKI knows, one row each. The store says
// what a device did (last seen, last reading, acks); the PKI says whether it may connect.

#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "ca_access.hpp"
#include "device_actions.hpp"
#include "device_certificates.hpp"
#include "failure.hpp"
#include "kelvin/core/time_format.hpp"
#include "text_table.hpp"
#include "time_arguments.hpp"

namespace kelvin::ctl {
namespace {

struct DeviceRow {
  std::string id;
  std::optional<store::DeviceInfo> stored;  // nullopt: known only to the PKI
  std::optional<pki::CertificateStatus> certificate;
};

// "online"/"offline" as the device last said (its status or its last will), "unknown" when it sent
// data but never a status, "never seen" when nothing arrived from it.
std::string state_of(const DeviceRow& row) {
  if (!row.stored || !row.stored->last_seen_ms) return "never seen";
  if (row.stored->status) return row.stored->status->state;
  return "unknown";
}

// Stable names for the JSON output: valid, not_yet_valid, expired, revoked, none.
std::string certificate_state(const DeviceRow& row) {
  if (!row.certificate) return "none";
  switch (row.certificate->state) {
    case pki::CertificateState::valid:
      return "valid";
    case pki::CertificateState::not_yet_valid:
      return "not_yet_valid";
    case pki::CertificateState::expired:
      return "expired";
    case pki::CertificateState::revoked:
      return "revoked";
  }
  return "none";
}

std::string certificate_cell(const DeviceRow& row) {
  const std::string state = certificate_state(row);
  if (state == "valid" || state == "not_yet_valid") return format_utc_date(row.certificate->record.not_after);
  return state;
}

std::string number(const char* format, double value) {
  char text[32];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

// "21.50 °C 40.2 %RH at 2026-11-22T10:04:05Z"
std::string reading_cell(const std::optional<proto::Reading>& reading) {
  if (!reading) return "-";
  std::string text;
  for (const auto& quantity : proto::kQuantities) {
    auto value = reading->value(quantity.quantity);
    if (!value) continue;
    const char* format = quantity.quantity == proto::Quantity::temperature ? "%.2f" : "%.1f";
    text += number(format, *value) + " " + std::string(quantity.unit) + " ";
  }
  return text + "at " + format_utc_ms(reading->ts_ms);
}

template <class T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json row_json(const DeviceRow& row) {
  const store::DeviceInfo empty;
  const store::DeviceInfo& info = row.stored ? *row.stored : empty;
  nlohmann::json reading = nullptr;
  if (info.last_reading) {
    reading = {{"seq", info.last_reading->seq},
               {"ts", format_utc_ms(info.last_reading->ts_ms)},
               {"ts_ms", info.last_reading->ts_ms}};
    for (const auto& quantity : proto::kQuantities) {
      reading[std::string(quantity.name)] = or_null(info.last_reading->value(quantity.quantity));
    }
  }
  nlohmann::json certificate = {{"state", certificate_state(row)}, {"serial", nullptr}, {"expires", nullptr}};
  if (row.certificate) {
    certificate["serial"] = row.certificate->record.serial;
    certificate["expires"] = format_utc_timestamp(row.certificate->record.not_after);
  }
  const bool registered = info.registered_ms != 0;
  return {
      {"id", row.id},
      {"state", state_of(row)},
      {"registered", registered},
      {"registered_at", registered ? nlohmann::json(format_utc_ms(info.registered_ms)) : nlohmann::json(nullptr)},
      {"last_seen", info.last_seen_ms ? nlohmann::json(format_utc_ms(*info.last_seen_ms)) : nlohmann::json(nullptr)},
      {"last_seen_ms", or_null(info.last_seen_ms)},
      {"last_reading", reading},
      {"firmware",
       info.status && !info.status->firmware.empty() ? nlohmann::json(info.status->firmware) : nlohmann::json(nullptr)},
      {"acked_seq", info.acked_seq},
      {"readings_stored", info.readings_stored},
      {"rejected", info.rejected_total},
      {"dropped", info.status ? nlohmann::json(info.status->dropped_total) : nlohmann::json(nullptr)},
      {"certificate", certificate}};
}

void print_table(const std::vector<DeviceRow>& rows) {
  TextTable table({{"ID"},
                   {"STATE"},
                   {"LAST SEEN"},
                   {"LAST READING"},
                   {"FIRMWARE"},
                   {"ACKED SEQ", Align::right},
                   {"STORED", Align::right},
                   {"DROPPED", Align::right},
                   {"CERT EXPIRES"}});
  for (const auto& row : rows) {
    const store::DeviceInfo empty;
    const store::DeviceInfo& info = row.stored ? *row.stored : empty;
    table.add_row({row.id, state_of(row), info.last_seen_ms ? format_utc_ms(*info.last_seen_ms) : "-",
                   reading_cell(info.last_reading),
                   info.status && !info.status->firmware.empty() ? info.status->firmware : "-",
                   std::to_string(info.acked_seq), std::to_string(info.readings_stored),
                   info.status ? std::to_string(info.status->dropped_total) : "-", certificate_cell(row)});
  }
  table.print(std::cout);
}

}  // namespace

int run_device_list(const DeviceOptions& options) {
  const auto pki_dir = options.state.pki();
  auto ca = pki::CertificateAuthority::open(pki_dir);  // reads only: no passphrase
  if (!ca) return report_failure(ca.error(), pki_dir);
  auto store = open_existing_store(options.state);
  if (!store) return report_failure(store.error(), options.state.state_dir);

  std::map<std::string, DeviceRow> rows;  // sorted by id
  if (store->has_value()) {
    auto devices = (*store)->list_devices();
    if (!devices) return report_failure(devices.error(), options.state.state_dir);
    for (auto& device : *devices) {
      const std::string id = device.device_id;
      rows[id] = DeviceRow{id, std::move(device), {}};
    }
  }
  const auto certificates = ca->list(std::time(nullptr));
  for (const auto& status : certificates) {
    if (status.record.kind != pki::CertificateKind::device) continue;
    rows[status.record.common_name].id = status.record.common_name;
  }
  std::vector<DeviceRow> ordered;
  for (auto& [id, row] : rows) {
    row.certificate = current_certificate(device_certificates(certificates, id));
    // A device the store has forgotten and whose certificates are all revoked was removed
    // (kelvinctl device remove): listed only when asked for.
    const bool removed = !row.stored && row.certificate && row.certificate->state == pki::CertificateState::revoked;
    if (removed && !options.all) continue;
    ordered.push_back(std::move(row));
  }

  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& row : ordered) out.push_back(row_json(row));
    std::cout << out.dump(2) << "\n";
  } else if (ordered.empty()) {
    std::cout << "No devices yet: add one with kelvinctl device add ID\n";
  } else {
    print_table(ordered);
  }
  return 0;
}

}  // namespace kelvin::ctl
