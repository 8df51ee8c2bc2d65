#include "device_command.hpp"

#include <memory>
#include <string>

#include "arguments.hpp"
#include "device_actions.hpp"

namespace kelvin::ctl {
namespace {

// A host name or an IP address: letters, digits, '.', '-' and ':' (IPv6). Also keeps agent.toml,
// where it is written as a TOML string, free of anything that would need escaping.
CLI::Validator broker_host_check() {
  return CLI::Validator(
      [](std::string& host) -> std::string {
        if (host.empty() || host.size() > 253) return "a host name has 1 to 253 characters";
        for (char c : host) {
          const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                               c == '-' || c == ':';
          if (!allowed) return "'" + host + "' is not a host name or IP address";
        }
        return {};
      },
      "HOST", "host name");
}

}  // namespace

void add_device_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<DeviceOptions>();
  CLI::App* device = app.add_subcommand("device", "The device registry: add, list, label, revoke, remove");
  device->require_subcommand(1);
  device->fallthrough();  // --state-dir and friends may follow the subcommand
  add_state_options(device, options->state, /*with_pki=*/true);

  auto run = [&exit_code, options](int (*command)(const DeviceOptions&)) {
    return [&exit_code, options, command]() { exit_code = command(*options); };
  };
  auto add_id = [options](CLI::App* command) {
    command->add_option("id", options->device_id, "Device id (the CN of its certificate)")
        ->required()
        ->check(device_id_check());
  };

  CLI::App* add = device->add_subcommand(
      "add", "Register a device, issue its certificate and write its provisioning bundle for kelvin-agent");
  add_id(add);
  add->add_option("--out", options->out_dir, "Bundle directory to create (default: ./ID-bundle)");
  add->add_option("--broker-host", options->broker_host,
                  "Broker host the device connects to; must be named by the server certificate "
                  "(default: this machine's host name)")
      ->check(broker_host_check());
  add->add_option("--broker-port", options->broker_port, "Broker port")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  add->add_option("--days", options->validity_days, "Certificate validity in days")
      ->check(CLI::Range(1, pki::kCaValidityDays))
      ->capture_default_str();
  add->add_option("--label", options->labels, "Give the device this label (repeat, or comma-separated, for more)")
      ->check(label_check())
      ->delimiter(',')
      ->allow_extra_args(false);
  add->callback(run(run_device_add));

  CLI::App* list = device->add_subcommand("list", "List every device the store or the PKI knows");
  list->add_flag("--json", options->json, "Print a JSON array instead of a table (keys: see docs/registry.md)");
  list->add_flag("--all", options->all, "Also list removed devices (not in the store, certificates revoked)");
  list->add_option("--label", options->label, "Only the devices carrying this label")->check(label_check());
  list->callback(run(run_device_list));

  CLI::App* label =
      device->add_subcommand("label", "Add labels to a device or remove them (without options: show its labels)");
  add_id(label);
  label->add_option("--add", options->add_labels, "Add this label (repeat, or comma-separated, for more)")
      ->check(label_check())
      ->delimiter(',')
      ->allow_extra_args(false);
  label->add_option("--remove", options->remove_labels, "Remove this label (repeat, or comma-separated, for more)")
      ->check(label_check())
      ->delimiter(',')
      ->allow_extra_args(false);
  label->callback(run(run_device_label));

  CLI::App* revoke = device->add_subcommand(
      "revoke", "Revoke a device's certificates; a running gateway drops its session within about a second");
  add_id(revoke);
  revoke->callback(run(run_device_revoke));

  CLI::App* remove = device->add_subcommand(
      "remove", "Revoke a device's certificates and remove its registration (its data stays unless --purge)");
  add_id(remove);
  remove->add_flag("--purge", options->purge, "Also delete everything stored for it (no confirmation)");
  remove->callback(run(run_device_remove));
}

}  // namespace kelvin::ctl
