#include "kelvin/fleet/device_view.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "kelvin/pki/device_certificates.hpp"

namespace kelvin::fleet {
namespace {

bool is_removed(const DeviceView& view) {
  return !view.stored && view.certificate && view.certificate->state == pki::CertificateState::revoked;
}

}  // namespace

std::string device_state(const DeviceView& view) {
  if (!view.stored || !view.stored->last_seen_ms) return "never seen";
  if (view.stored->status) return view.stored->status->state;
  return "unknown";
}

std::string_view certificate_state(const DeviceView& view) {
  return view.certificate ? pki::state_name(view.certificate->state) : "none";
}

std::vector<DeviceView> device_views(std::vector<store::DeviceInfo> stored,
                                     const std::vector<pki::CertificateStatus>& certificates, bool include_removed) {
  // Grouped once, oldest first as listed: looking each device's certificates up in the whole list
  // would be quadratic in the size of the fleet.
  std::map<std::string, std::vector<pki::CertificateStatus>, std::less<>> certificates_by_id;
  for (const auto& status : certificates) {
    if (status.record.kind == pki::CertificateKind::device) {
      certificates_by_id[status.record.common_name].push_back(status);
    }
  }
  std::map<std::string, DeviceView, std::less<>> by_id;
  for (auto& info : stored) {
    std::string id = info.device_id;
    by_id[id] = DeviceView{id, std::move(info), {}, {}};
  }
  for (const auto& [id, device_certificates] : certificates_by_id) {
    DeviceView& view = by_id[id];
    view.id = id;
    view.certificate = pki::current_certificate(device_certificates);
  }
  std::vector<DeviceView> views;
  views.reserve(by_id.size());
  for (auto& [id, view] : by_id) {
    if (is_removed(view) && !include_removed) continue;
    views.push_back(std::move(view));
  }
  return views;
}

std::vector<DeviceView> carrying_label(std::vector<DeviceView> views, std::string_view label) {
  std::erase_if(views, [label](const DeviceView& view) {
    return !view.stored || !std::binary_search(view.stored->labels.begin(), view.stored->labels.end(), label);
  });
  return views;
}

std::optional<DeviceView> device_view(std::string_view id, std::optional<store::DeviceInfo> stored,
                                      const std::vector<pki::CertificateStatus>& certificates, bool include_removed) {
  DeviceView view{
      std::string(id), std::move(stored), pki::current_certificate(pki::device_certificates(certificates, id)), {}};
  if (!view.stored && !view.certificate) return std::nullopt;
  if (is_removed(view) && !include_removed) return std::nullopt;
  return view;
}

}  // namespace kelvin::fleet
