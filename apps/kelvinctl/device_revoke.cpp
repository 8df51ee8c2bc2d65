// `kelvinctl device revoke ID` and `kelvinctl device remove ID [--purge]`: take a device's right
// to connect away (the CRL), and with remove also its registration and, if asked, its data.

#include <ctime>
#include <iostream>

#include "ca_access.hpp"
#include "device_actions.hpp"
#include "failure.hpp"
#include "gateway_stats.hpp"
#include "kelvin/core/time_arguments.hpp"
#include "kelvin/fleet/device_removal.hpp"
#include "user_accounts.hpp"

namespace kelvin::ctl {
namespace {

// Says what revoking `revoked` does to a running gateway.
void report_revoked(const std::vector<pki::IssuedCertificate>& revoked, const pki::CertificateAuthority& ca,
                    const DeviceOptions& options) {
  if (revoked.empty()) return;
  for (const auto& record : revoked) {
    std::cout << "Revoked device certificate " << record.common_name << " (serial " << record.serial << ")\n";
  }
  std::cout << "CRL updated: " << ca.paths().crl().string() << "\n";
  auto stats = read_gateway_stats(options.state.stats_file());
  if (stats && wall_clock_ms() - stats->written_ms <= kStaleStatsMs) {
    std::cout << "kelvin-gateway notices the new CRL within about a second and restarts its broker, which drops "
              << options.device_id << "'s live session; the broker refuses it from then on.\n";
  } else {
    std::cout << "kelvin-gateway does not seem to be running with state dir " << options.state.state_dir
              << "; its broker will refuse " << options.device_id << " when it starts.\n";
  }
}

}  // namespace

int run_device_revoke(const DeviceOptions& options) {
  const auto pki_dir = options.state.pki();
  auto ca = open_ca(pki_dir, options.state.passphrase_file);
  if (!ca) return report_failure(ca.error(), pki_dir);
  auto revoked = fleet::revoke_device(*ca, options.device_id, std::time(nullptr));
  if (!revoked) {
    if (revoked.error().code == Errc::not_found || revoked.error().code == Errc::conflict) {
      return report_failure(
          make_error(Errc::conflict, revoked.error().message + " (kelvinctl pki list shows every certificate)"));
    }
    return report_failure(revoked.error(), pki_dir);
  }
  report_revoked(*revoked, *ca, options);
  audit_host_action(options.state, "device_revoke", options.device_id, fleet::revoked_serials_detail(*revoked));
  return 0;
}

int run_device_remove(const DeviceOptions& options) {
  const std::string& id = options.device_id;
  const auto pki_dir = options.state.pki();
  auto ca = open_ca(pki_dir, options.state.passphrase_file);
  if (!ca) return report_failure(ca.error(), pki_dir);
  auto store = open_existing_store(options.state);
  if (!store) return report_failure(store.error(), options.state.state_dir);
  store::Store* existing = store->has_value() ? &**store : nullptr;

  auto removal = fleet::remove_device(*ca, existing, id, options.purge, std::time(nullptr));
  if (!removal) {
    if (removal.error().code == Errc::not_found) {
      return report_failure(make_error(Errc::not_found, removal.error().message + " (store " +
                                                            options.state.store_file().string() + ", PKI " +
                                                            pki_dir.string() +
                                                            "); kelvinctl device list --all "
                                                            "shows the devices"));
    }
    return report_failure(removal.error(), options.state.state_dir);
  }
  report_revoked(removal->revoked, *ca, options);
  if (removal->revoked.empty() && removal->had_certificates) {
    std::cout << "Its certificates were already revoked or expired.\n";
  }

  const auto& stored = removal->stored;
  const std::uint64_t readings = stored ? stored->readings_stored : 0;
  audit_host_action(options.state, "device_remove", options.device_id,
                    fleet::revoked_serials_detail(removal->revoked) + "; " + std::to_string(readings) +
                        (removal->purged ? " stored readings deleted (--purge)" : " stored readings kept"));
  if (!stored) {
    std::cout << "Device " << id << " had no registration or data in the store; nothing more to remove.\n";
  } else if (removal->purged) {
    std::cout << "Deleted device " << id << " and everything stored for it: its readings (" << stored->readings_stored
              << " received in total) with their rollups, " << stored->rejected_total << " rejection record(s), "
              << (stored->status ? "its last status " : "") << "and its ack (seq " << stored->acked_seq << ")\n";
  } else if (stored->readings_stored > 0 || stored->rejected_total > 0) {
    std::cout << "Removed the registration of device " << id << "; its " << stored->readings_stored
              << " stored reading(s) stay (kelvinctl device remove " << id << " --purge deletes them)\n";
  } else {
    std::cout << "Removed device " << id << " (it had no stored data)\n";
  }
  return 0;
}

}  // namespace kelvin::ctl
