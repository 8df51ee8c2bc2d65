#pragma once
// Command-line checks shared by the commands: a malformed argument is a usage error (exit 2),
// reported by CLI11 before anything runs.

#include <CLI/CLI.hpp>

namespace kelvin::ctl {

// A device id (docs/pki.md, "Identities"): well-formed and not a reserved service name, so no
// device command can ever touch the gateway's own identity.
CLI::Validator device_id_check();

// A device label (docs/registry.md, "Labels"): 1 to 64 characters of a-z, 0-9, '.', '_', '-'.
CLI::Validator label_check();

}  // namespace kelvin::ctl
