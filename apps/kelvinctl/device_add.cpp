// `kelvinctl device add ID`: register, issue, write the provisioning bundle. Either the device
// ends up registered with a certificate, or (when issuing fails) not registered at all, so a
// retry works; a bundle that cannot be written is reported with where its files are instead.

#include <ctime>
#include <iostream>
#include <set>

#include "ca_access.hpp"
#include "device_actions.hpp"
#include "failure.hpp"
#include "kelvin/core/time_arguments.hpp"
#include "kelvin/core/time_format.hpp"
#include "kelvin/pki/device_certificates.hpp"
#include "provisioning_bundle.hpp"
#include "server_names.hpp"

namespace kelvin::ctl {
namespace {

void warn_if_server_certificate_lacks(const pki::PkiPaths& paths, const std::string& host) {
  auto checked = check_server_names(paths, host);
  if (!checked) {
    std::cerr << "kelvinctl: warning: cannot check the broker host against the server certificate: "
              << checked.error().message << "\n";
    return;
  }
  if (checked->names_host) return;
  std::string names;
  for (const auto& name : checked->names) names += (names.empty() ? "" : ",") + name;
  std::cerr << "kelvinctl: warning: the gateway's server certificate does not name '" << host << "' (it names "
            << (names.empty() ? "nothing" : names)
            << "), so the device will refuse the broker; give one of its names with --broker-host, or renew it "
               "with kelvinctl pki issue server --renew --server-san ...\n";
}

}  // namespace

int run_device_add(const DeviceOptions& options) {
  const std::string& id = options.device_id;
  const std::filesystem::path bundle_dir =
      options.out_dir.empty() ? std::filesystem::path(id + "-bundle") : std::filesystem::path(options.out_dir);
  const std::string broker_host = options.broker_host.empty() ? pki::local_host_name() : options.broker_host;
  const std::filesystem::path pki_dir = options.state.pki();

  // Everything that can be checked without changing anything comes first.
  if (auto free = check_bundle_dir_free(bundle_dir); !free) return report_failure(free.error());
  auto ca = open_ca(pki_dir, options.state.passphrase_file);
  if (!ca) return report_failure(ca.error(), pki_dir);
  const std::time_t now = std::time(nullptr);
  auto existing = pki::current_certificate(pki::device_certificates(ca->list(now), id));
  if (existing && pki::is_usable(*existing)) {
    return report_failure(make_error(
        Errc::already_exists, "device '" + id + "' already holds a valid certificate (serial " +
                                  existing->record.serial + ", until " + format_utc_date(existing->record.not_after) +
                                  "); revoke it first with kelvinctl device revoke " + id + ", or choose another id"));
  }
  auto store = open_or_create_store(options.state);
  if (!store) return report_failure(store.error(), options.state.state_dir);

  if (auto registered = store->register_device(id, wall_clock_ms(), options.labels); !registered) {
    if (registered.error().code == Errc::already_exists) {
      return report_failure(
          make_error(Errc::already_exists, "device '" + id +
                                               "' is already registered (kelvinctl device list shows it); "
                                               "remove it first with kelvinctl device remove " +
                                               id + ", or choose another id"));
    }
    return report_failure(registered.error(), options.state.state_dir);
  }
  pki::IssueOptions issue;
  issue.validity_days = options.validity_days;
  auto issued = ca->issue(pki::CertificateKind::device, id, issue, now);
  if (!issued) {
    // Undo the registration so that a retry starts from scratch.
    if (auto undone = store->remove_device(id, /*purge_data=*/false); !undone) {
      return report_failure(
          make_error(issued.error().code, issued.error().message + "; and undoing the registration failed (" +
                                              undone.error().message + "): run kelvinctl device remove " + id +
                                              " before retrying"),
          pki_dir);
    }
    return report_failure(issued.error(), pki_dir);
  }

  std::cout << "Registered device " << id << " and issued its certificate (serial " << issued->record.serial
            << ", valid until " << format_utc_date(issued->record.not_after) << ")\n";
  if (!options.labels.empty()) {
    const std::set<std::string> labels(options.labels.begin(), options.labels.end());
    std::cout << "Labels: " << labels_text({labels.begin(), labels.end()}) << "\n";
  }
  BundleContents contents{
      id, broker_host, options.broker_port, ca->paths().ca_certificate(), issued->certificate_path, issued->key_path};
  auto written = write_bundle(bundle_dir, contents);
  if (!written) {
    return report_failure(make_error(
        written.error().code, "device " + id +
                                  " is registered and has its certificate, but writing the "
                                  "bundle failed: " +
                                  written.error().message + "; its files are in the PKI (" +
                                  issued->certificate_path.string() + ", " + issued->key_path.string() + ", " +
                                  ca->paths().ca_certificate().string() +
                                  "): copy them next to an agent.toml made from deploy/agent/agent.example.toml"));
  }
  std::cout << "Wrote the provisioning bundle " << bundle_dir.string() << "/ (0700):\n";
  for (const auto& file : *written) {
    std::cout << "  " << file.name << std::string(file.name.size() < 20 ? 20 - file.name.size() : 1, ' ')
              << file.description << "\n";
  }
  warn_if_server_certificate_lacks(ca->paths(), broker_host);
  std::cout << "Next: copy the bundle's files to the device (e.g. into /etc/kelvin-agent/, keeping the key's mode "
               "0600),\n"
            << "and run there: kelvin-agent run --config /etc/kelvin-agent/agent.toml\n"
            << "Delete the bundle here once it is copied: the key is also kept in " << issued->key_path.string()
            << "\n";
  return 0;
}

}  // namespace kelvin::ctl
