// `kelvinctl device list`: every device the store or the PKI knows, one row each. The store says
// what a device did (last seen, last reading, acks); the PKI says whether it may connect. The
// merging and the JSON are kelvin::fleet's, which the gateway's HTTPS API answers too.

#include <cstdio>
#include <ctime>
#include <iostream>
#include <optional>

#include "ca_access.hpp"
#include "device_actions.hpp"
#include "failure.hpp"
#include "kelvin/core/time_arguments.hpp"
#include "kelvin/core/time_format.hpp"
#include "kelvin/fleet/device_view.hpp"
#include "kelvin/fleet/fleet_json.hpp"
#include "text_table.hpp"

namespace kelvin::ctl {
namespace {

std::string certificate_cell(const fleet::DeviceView& view) {
  const std::string_view state = fleet::certificate_state(view);
  if (state == "valid" || state == "not_yet_valid") return format_utc_date(view.certificate->record.not_after);
  return std::string(state);
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

// "greenhouse,west": commas without spaces keep the table's columns apart.
std::string labels_cell(const std::vector<std::string>& labels) {
  std::string text;
  for (const auto& label : labels) text += (text.empty() ? "" : ",") + label;
  return text;
}

void print_table(const std::vector<fleet::DeviceView>& views) {
  TextTable table({{"ID"},
                   {"STATE"},
                   {"LAST SEEN"},
                   {"LAST READING"},
                   {"FIRMWARE"},
                   {"ACKED SEQ", Align::right},
                   {"STORED", Align::right},
                   {"DROPPED", Align::right},
                   {"CERT EXPIRES"},
                   {"LABELS"}});
  for (const auto& view : views) {
    const store::DeviceInfo empty;
    const store::DeviceInfo& info = view.stored ? *view.stored : empty;
    table.add_row({view.id, fleet::device_state(view), info.last_seen_ms ? format_utc_ms(*info.last_seen_ms) : "-",
                   reading_cell(info.last_reading),
                   info.status && !info.status->firmware.empty() ? info.status->firmware : "-",
                   std::to_string(info.acked_seq), std::to_string(info.readings_stored),
                   info.status ? std::to_string(info.status->dropped_total) : "-", certificate_cell(view),
                   info.labels.empty() ? "-" : labels_cell(info.labels)});
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

  std::vector<store::DeviceInfo> stored;
  if (store->has_value()) {
    auto devices = (*store)->list_devices();
    if (!devices) return report_failure(devices.error(), options.state.state_dir);
    stored = std::move(*devices);
  }
  auto views = fleet::device_views(std::move(stored), ca->list(std::time(nullptr)), options.all);
  if (!options.label.empty()) views = fleet::carrying_label(std::move(views), options.label);

  if (options.json) {
    std::cout << fleet::devices_json(views, 2) << "\n";
  } else if (views.empty() && !options.label.empty()) {
    std::cout << "No device carries the label " << options.label << "\n";
  } else if (views.empty()) {
    std::cout << "No devices yet: add one with kelvinctl device add ID\n";
  } else {
    print_table(views);
  }
  return 0;
}

}  // namespace kelvin::ctl
