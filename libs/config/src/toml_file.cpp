#include "kelvin/config/toml_file.hpp"

#include <string>
#include <utility>

#include "kelvin/core/files.hpp"

namespace kelvin::config {

Result<toml::table> load_toml_file(const std::filesystem::path& path) {
  auto text = files::read_file(path, kMaxConfigBytes);
  if (!text) return std::move(text).error();
  return parse_toml(*text, path);
}

Result<toml::table> parse_toml(std::string_view text, const std::filesystem::path& source_name) {
  try {
    return toml::parse(text, source_name.string());
  } catch (const toml::parse_error& error) {
    const auto& where = error.source().begin;
    std::string message = source_name.string();
    if (where) message += ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
    message += ": ";
    message += error.description();
    return make_error(Errc::invalid_argument, std::move(message));
  }
}

}  // namespace kelvin::config
