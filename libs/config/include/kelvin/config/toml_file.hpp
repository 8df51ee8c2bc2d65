#pragma once
// Parsing a TOML document into a toml::table, with parse errors turned into Results. This is the
// one place where toml++ throws (toml::parse_error); nothing else in kelvin sees that exception.

#include <toml++/toml.h>

#include <cstddef>
#include <filesystem>
#include <string_view>

#include "kelvin/core/result.hpp"

namespace kelvin::config {

// Config files are small; anything larger is a mistake (a log or a binary named by accident).
inline constexpr std::size_t kMaxConfigBytes = 1u << 20;

// Reads and parses `path`. Errors: not_found/permission_denied/io from reading the file;
// invalid_argument for a syntax error, as "<path>:<line>:<column>: <what toml++ says>".
Result<toml::table> load_toml_file(const std::filesystem::path& path);

// Parses `text`; `source_name` appears in error messages and node source regions.
Result<toml::table> parse_toml(std::string_view text, const std::filesystem::path& source_name);

}  // namespace kelvin::config
