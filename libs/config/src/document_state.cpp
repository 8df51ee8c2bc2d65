#include "document_state.hpp"

#include <system_error>
#include <utility>

namespace kelvin::config::detail {
namespace fs = std::filesystem;

namespace {

bool is_bare_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

fs::path directory_of(const fs::path& file) {
  std::error_code ignored;
  fs::path absolute = fs::absolute(file, ignored);
  return (absolute.empty() ? file : absolute).parent_path();
}

}  // namespace

DocumentState::DocumentState(toml::table table, fs::path file)
    : table_(std::move(table)), file_(std::move(file)), base_dir_(directory_of(file_)) {}

void DocumentState::add_issue(const toml::source_region* where, std::string_view key_path, std::string_view message) {
  Issue issue;
  issue.text = file_.string();
  if (where != nullptr && where->begin) {
    issue.line = where->begin.line;
    issue.column = where->begin.column;
    issue.text += ":" + std::to_string(issue.line) + ":" + std::to_string(issue.column);
  }
  if (!issue.text.empty()) issue.text += ": ";  // a document from JSON has no file
  if (!key_path.empty()) {
    issue.text += key_path;
    issue.text += ": ";
  }
  issue.text += message;
  issues_.push_back(std::move(issue));
}

std::string join_key(std::string_view prefix, std::string_view key) {
  std::string out(prefix);
  if (!out.empty()) out += '.';
  if (is_bare_key(key)) {
    out += key;
    return out;
  }
  out += '"';
  for (char c : key.substr(0, 64)) {
    const auto byte = static_cast<unsigned char>(c);
    out += (byte < 0x20 || byte == 0x7f || c == '"' || c == '\\') ? '?' : c;
  }
  if (key.size() > 64) out += "...";
  out += '"';
  return out;
}

std::string element_path(std::string_view prefix, std::size_t index) {
  return std::string(prefix) + "[" + std::to_string(index) + "]";
}

}  // namespace kelvin::config::detail
