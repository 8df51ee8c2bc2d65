#pragma once
// The `kelvinctl device` commands (wired to the command line in device_command.cpp). Each returns
// the exit status: 0, 1 after one line on stderr saying what failed, 2 for a usage error.

#include <string>
#include <vector>

#include "kelvin/pki/certificate_authority.hpp"
#include "state_options.hpp"

namespace kelvin::ctl {

struct DeviceOptions {
  StateOptions state;
  std::string device_id;
  // add
  std::string out_dir;      // empty: ./<id>-bundle
  std::string broker_host;  // empty: this machine's host name (what `pki init` puts in the server certificate)
  int broker_port = 8883;
  int validity_days = pki::kLeafValidityDays;
  std::vector<std::string> labels;  // add: --label, each once
  // list
  bool json = false;
  bool all = false;   // also devices known only from revoked certificates (removed ones)
  std::string label;  // only the devices carrying it (empty: every device)
  // label
  std::vector<std::string> add_labels;
  std::vector<std::string> remove_labels;
  // remove
  bool purge = false;
};

int run_device_add(const DeviceOptions& options);
int run_device_list(const DeviceOptions& options);
int run_device_revoke(const DeviceOptions& options);
int run_device_remove(const DeviceOptions& options);
int run_device_label(const DeviceOptions& options);

// "greenhouse, west", or "none".
std::string labels_text(const std::vector<std::string>& labels);

}  // namespace kelvin::ctl
