#pragma once
// `kelvinctl pki ...`: the command-line face of kelvin::pki::CertificateAuthority.

#include <CLI/CLI.hpp>

namespace kelvin::ctl {

// Adds the `pki` subcommand tree to `app`. The selected command runs from the callback; it
// reports failures on stderr as one line and sets `exit_code` (0 on success, 1 on failure).
void add_pki_command(CLI::App& app, int& exit_code);

}  // namespace kelvin::ctl
