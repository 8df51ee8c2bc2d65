#pragma once
// How kelvinctl commands fail: one line on stderr saying what failed and what to do, and an exit
// status (1: the operation failed; 2: the command line does not make sense).

#include <filesystem>
#include <string_view>

#include "kelvin/core/result.hpp"

namespace kelvin::ctl {

inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Prints "kelvinctl: <message>" plus a hint where one helps: a permission error names the user to
// run as (the owner of `owned_dir`, when given), a missing CA passphrase says how to give it.
// Returns kExitFailure.
int report_failure(const Error& error, const std::filesystem::path& owned_dir = {});

// Prints "kelvinctl: <message> (see kelvinctl <command> --help)". Returns kExitUsage.
int report_usage_error(std::string_view message, std::string_view command);

}  // namespace kelvin::ctl
