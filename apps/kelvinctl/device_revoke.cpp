// `kelvinctl device revoke ID` and `kelvinctl device remove ID [--purge]`: take a device's right
// to connect away (the CRL), and with remove also its registration and, if asked, its data.

#include <ctime>
#include <iostream>

#include "ca_access.hpp"
#include "device_actions.hpp"
#include "failure.hpp"
#include "gateway_stats.hpp"
#include "kelvin/core/time_arguments.hpp"
#include "kelvin/pki/device_certificates.hpp"

namespace kelvin::ctl {
namespace {

// Revokes what is still usable and says what that does to a running gateway.
Result<bool> revoke_and_report(pki::CertificateAuthority& ca, const DeviceOptions& options) {
  auto revoked = pki::revoke_device_certificates(ca, options.device_id, std::time(nullptr));
  if (!revoked) return std::move(revoked).error();
  if (revoked->empty()) return false;
  for (const auto& record : *revoked) {
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
  return true;
}

}  // namespace

int run_device_revoke(const DeviceOptions& options) {
  const auto pki_dir = options.state.pki();
  auto ca = open_ca(pki_dir, options.state.passphrase_file);
  if (!ca) return report_failure(ca.error(), pki_dir);
  auto revoked = revoke_and_report(*ca, options);
  if (!revoked) return report_failure(revoked.error(), pki_dir);
  if (!*revoked) {
    const auto certificates = pki::device_certificates(ca->list(std::time(nullptr)), options.device_id);
    const std::string why =
        certificates.empty() ? "it has no certificate" : "its certificates are already revoked or expired";
    return report_failure(make_error(Errc::conflict, "nothing to revoke for device '" + options.device_id + "': " +
                                                         why + " (kelvinctl pki list shows every certificate)"));
  }
  return 0;
}

int run_device_remove(const DeviceOptions& options) {
  const std::string& id = options.device_id;
  const auto pki_dir = options.state.pki();
  auto ca = open_ca(pki_dir, options.state.passphrase_file);
  if (!ca) return report_failure(ca.error(), pki_dir);
  auto store = open_existing_store(options.state);
  if (!store) return report_failure(store.error(), options.state.state_dir);
  std::optional<store::DeviceInfo> stored;
  if (store->has_value()) {
    auto device = (*store)->device(id);
    if (!device) return report_failure(device.error(), options.state.state_dir);
    stored = std::move(*device);
  }
  const auto certificates = pki::device_certificates(ca->list(std::time(nullptr)), id);
  const auto current = pki::current_certificate(certificates);
  const bool has_usable_certificate = current && pki::is_usable(*current);
  if (!stored && !has_usable_certificate) {
    if (!certificates.empty()) {
      return report_failure(make_error(Errc::not_found, "device '" + id +
                                                            "' is already removed: it is not in the "
                                                            "store and its certificates are revoked or expired"));
    }
    return report_failure(make_error(
        Errc::not_found, "device '" + id + "' is not known to the store (" + options.state.store_file().string() +
                             ") or the PKI (" + pki_dir.string() + "); kelvinctl device list shows the devices"));
  }

  // Revoke first: if that fails (a wrong passphrase, say), nothing has changed yet.
  auto revoked = revoke_and_report(*ca, options);
  if (!revoked) return report_failure(revoked.error(), pki_dir);
  if (!*revoked && !certificates.empty()) std::cout << "Its certificates were already revoked or expired.\n";

  if (!stored) {
    std::cout << "Device " << id << " had no registration or data in the store; nothing more to remove.\n";
    return 0;
  }
  if (auto removed = (**store).remove_device(id, options.purge); !removed) {
    return report_failure(make_error(removed.error().code,
                                     "cannot remove device '" + id + "' from the store: " + removed.error().message +
                                         (*revoked ? " (its certificate is revoked already)" : "")),
                          options.state.state_dir);
  }
  if (options.purge) {
    std::cout << "Deleted device " << id << " and everything stored for it: its readings (" << stored->readings_stored
              << " received in total) with their minute and hour rollups, " << stored->rejected_total
              << " rejection record(s), " << (stored->status ? "its last status " : "") << "and its ack (seq "
              << stored->acked_seq << ")\n";
  } else if (stored->readings_stored > 0 || stored->rejected_total > 0) {
    std::cout << "Removed the registration of device " << id << "; its " << stored->readings_stored
              << " stored reading(s) stay (kelvinctl device remove " << id << " --purge deletes them)\n";
  } else {
    std::cout << "Removed device " << id << " (it had no stored data)\n";
  }
  return 0;
}

}  // namespace kelvin::ctl
