#pragma once
// Store and PKI facts in one line each, for the fleet view tests.

#include <ctime>
#include <optional>
#include <string>

#include "kelvin/pki/certificate_authority.hpp"
#include "kelvin/store/types.hpp"

namespace kelvin::fleet::testing {

inline constexpr std::int64_t kT0 = 1'795'341'600'000;   // 2026-11-22T10:00:00Z
inline constexpr std::time_t kNotAfter = 1'858'500'000;  // 2028-11-22T10:00:00Z

inline store::DeviceInfo stored_device(std::string id) {
  store::DeviceInfo info;
  info.device_id = std::move(id);
  info.registered_ms = kT0 - 60'000;
  info.last_seen_ms = kT0 + 5'000;
  info.acked_seq = 6;
  info.readings_stored = 5;
  info.rejected_total = 1;
  proto::Reading last;
  last.seq = 6;
  last.ts_ms = kT0 + 4'000;
  last.set(proto::Quantity::temperature, 21.5);
  info.last_reading = last;
  info.status = store::DeviceStatus{"online", "1.2.0", 3, kT0 + 1'000};
  return info;
}

inline pki::CertificateStatus device_certificate(std::string id, std::string serial,
                                                 pki::CertificateState state = pki::CertificateState::valid,
                                                 pki::CertificateKind kind = pki::CertificateKind::device) {
  pki::IssuedCertificate record;
  record.serial = std::move(serial);
  record.kind = kind;
  record.common_name = std::move(id);
  record.not_before = kNotAfter - 730 * 86'400;
  record.not_after = kNotAfter;
  if (state == pki::CertificateState::revoked) record.revoked_at = kNotAfter - 700 * 86'400;
  return pki::CertificateStatus{record, state, 700};
}

}  // namespace kelvin::fleet::testing
