// `kelvinctl device label ID [--add L]... [--remove L]...`: the labels a device carries in the
// gateway's store (docs/registry.md, "Labels"), changed in one transaction and audited; without
// options, shown.

#include <algorithm>
#include <iostream>

#include "device_actions.hpp"
#include "failure.hpp"
#include "user_accounts.hpp"

namespace kelvin::ctl {
namespace {

std::string joined(const std::vector<std::string>& labels) {
  std::string text;
  for (const auto& label : labels) text += (text.empty() ? "" : ", ") + label;
  return text;
}

}  // namespace

std::string labels_text(const std::vector<std::string>& labels) {
  return labels.empty() ? "none" : joined(labels);
}

int run_device_label(const DeviceOptions& options) {
  const std::string& id = options.device_id;
  for (const auto& label : options.add_labels) {
    if (std::find(options.remove_labels.begin(), options.remove_labels.end(), label) != options.remove_labels.end()) {
      return report_usage_error("label " + label + " is both added and removed: say which", "device label");
    }
  }
  auto store = open_existing_store(options.state);
  if (!store) return report_failure(store.error(), options.state.state_dir);
  if (!store->has_value()) {
    return report_failure(make_error(Errc::not_found, "device '" + id + "' is not known: there is no store at " +
                                                          options.state.store_file().string() +
                                                          " (kelvinctl device add registers devices)"));
  }
  const bool changing = !options.add_labels.empty() || !options.remove_labels.empty();
  if (!changing) {
    auto found = (*store)->device(id);
    if (!found) return report_failure(found.error(), options.state.state_dir);
    if (!*found) {
      return report_failure(make_error(Errc::not_found, "device '" + id +
                                                            "' is not in the gateway's store (kelvinctl device list "
                                                            "shows the devices)"));
    }
    std::cout << "Device " << id << " carries the labels: " << labels_text((*found)->labels) << "\n";
    return 0;
  }

  auto labels = (*store)->change_device_labels(id, options.add_labels, options.remove_labels);
  if (!labels) return report_failure(labels.error(), options.state.state_dir);
  std::string detail;
  if (!options.add_labels.empty()) detail += "added " + joined(options.add_labels);
  if (!options.remove_labels.empty())
    detail += std::string(detail.empty() ? "" : "; ") + "removed " + joined(options.remove_labels);
  audit_host_action(options.state, "device_label", id, detail + "; now " + labels_text(*labels));
  std::cout << "Device " << id << " now carries the labels: " << labels_text(*labels) << "\n";
  return 0;
}

}  // namespace kelvin::ctl
