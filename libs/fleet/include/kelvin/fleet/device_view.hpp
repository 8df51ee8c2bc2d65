#pragma once
// One device as kelvin knows it, from its two sources: the gateway's store (what the device did:
// last seen, last reading, ack, last status) and the installation's PKI (whether it may connect).
// kelvinctl device list and the gateway's HTTPS API (GET /api/v1/devices) show the same views.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/pki/certificate_authority.hpp"
#include "kelvin/store/types.hpp"

namespace kelvin::fleet {

struct DeviceView {
  std::string id;
  std::optional<store::DeviceInfo> stored;            // nullopt: known only from its certificates
  std::optional<pki::CertificateStatus> certificate;  // the one that sums it up (pki::current_certificate)
  // Gathered for one device at a time only (Store::rejections_by_reason scans its records).
  std::optional<std::vector<store::RejectionCount>> rejections_by_reason;
};

// "online" / "offline": what the device last said on devices/{id}/status (or its last will);
// "unknown": it sent data but never a status; "never seen": nothing arrived from it.
std::string device_state(const DeviceView& view);

// valid, not_yet_valid, expired, revoked (pki::state_name of its certificate), or none.
std::string_view certificate_state(const DeviceView& view);

// Every device the store or the PKI knows, sorted by id. `stored` is Store::list_devices,
// `certificates` CertificateAuthority::list (only device certificates count). A device the store
// has forgotten and whose certificates are all revoked was removed (kelvinctl device remove): it
// is left out unless `include_removed`.
std::vector<DeviceView> device_views(std::vector<store::DeviceInfo> stored,
                                     const std::vector<pki::CertificateStatus>& certificates, bool include_removed);

// The views of the devices carrying `label`, in the order given (a device only the PKI knows
// carries none).
std::vector<DeviceView> carrying_label(std::vector<DeviceView> views, std::string_view label);

// The view of one device by the same rule: nullopt when neither source knows it, or when it was
// removed and not `include_removed`. So a device is found here exactly when device_views lists it.
std::optional<DeviceView> device_view(std::string_view id, std::optional<store::DeviceInfo> stored,
                                      const std::vector<pki::CertificateStatus>& certificates, bool include_removed);

}  // namespace kelvin::fleet
