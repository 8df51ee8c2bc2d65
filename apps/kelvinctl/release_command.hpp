#pragma once
// `kelvinctl release keygen|sign|verify`: the release key and signed manifests (docs/ota.md).
// None of them needs the gateway: signing is meant to happen on a machine that holds the release
// key offline.

#include <CLI/CLI.hpp>

namespace kelvin::ctl {

void add_release_command(CLI::App& app, int& exit_code);

}  // namespace kelvin::ctl
