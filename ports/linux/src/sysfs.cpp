#include "kelvin/linux_port/sysfs.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <system_error>
#include <utility>

#include "kelvin/core/files.hpp"

namespace kelvin::linux_port {
namespace fs = std::filesystem;

fs::path under_root(const fs::path& root, const fs::path& target) {
  return root / target.relative_path();
}

Result<std::string> read_attribute(const fs::path& path) {
  // sysfs reports 4096 bytes for every attribute; the real content is a line.
  auto text = files::read_file(path, 8192);
  if (!text) return text;
  std::string value = std::move(text).value();
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ' || value.back() == '\t')) value.pop_back();
  return value;
}

Result<double> read_milli_attribute(const fs::path& path) {
  auto text = read_attribute(path);
  if (!text) return std::move(text).error();
  const std::string& value = *text;
  std::int64_t milli = 0;
  const char* end = value.data() + value.size();
  auto [stop, ec] = std::from_chars(value.data(), end, milli);
  if (ec != std::errc() || stop != end || value.empty()) {
    std::string shown = value.substr(0, 32);
    for (char& c : shown) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    }
    return make_error(Errc::corrupt, path.string() + " holds '" + shown + "', not an integer");
  }
  return static_cast<double>(milli) / 1000.0;
}

std::vector<fs::path> numbered_entries(const fs::path& dir, std::string_view prefix, std::string_view suffix) {
  std::vector<std::pair<std::uint64_t, fs::path>> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(prefix) || !name.ends_with(suffix) || name.size() <= prefix.size() + suffix.size()) continue;
    std::string_view digits(name);
    digits.remove_prefix(prefix.size());
    digits.remove_suffix(suffix.size());
    std::uint64_t number = 0;
    auto [stop, parse_ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
    if (parse_ec != std::errc() || stop != digits.data() + digits.size()) continue;
    found.emplace_back(number, it->path());
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> paths;
  paths.reserve(found.size());
  for (auto& [number, path] : found) paths.push_back(std::move(path));
  return paths;
}

}  // namespace kelvin::linux_port
