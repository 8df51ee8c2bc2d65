#include "kelvin/config/config_document.hpp"

#include <algorithm>
#include <utility>

#include "document_state.hpp"
#include "kelvin/config/toml_file.hpp"

namespace kelvin::config {
namespace fs = std::filesystem;
namespace {

void report_unread(detail::DocumentState& state, const toml::table& table, const std::string& prefix);

// An array was read; only its tables can hold keys, and only those the reader visited are
// checked inside (an element that was never read has already been reported with its array).
void report_unread_in_array(detail::DocumentState& state, const toml::array& array, const std::string& prefix) {
  for (std::size_t i = 0; i < array.size(); ++i) {
    const toml::node& element = *array.get(i);
    if (!state.was_read(&element)) continue;
    if (const auto* table = element.as_table()) report_unread(state, *table, detail::element_path(prefix, i));
  }
}

void report_unread(detail::DocumentState& state, const toml::table& table, const std::string& prefix) {
  for (const auto& [key, node] : table) {
    const std::string path = detail::join_key(prefix, key.str());
    if (!state.was_read(&node)) {
      // An unknown table is reported once, by its name, not key by key.
      state.add_issue(&key.source(), path, "unknown key");
    } else if (const auto* child = node.as_table()) {
      report_unread(state, *child, path);
    } else if (const auto* array = node.as_array()) {
      report_unread_in_array(state, *array, path);
    }
  }
}

std::vector<const detail::Issue*> ordered(const std::vector<detail::Issue>& issues) {
  std::vector<const detail::Issue*> sorted;
  for (const auto& issue : issues) sorted.push_back(&issue);
  std::stable_sort(sorted.begin(), sorted.end(), [](const detail::Issue* a, const detail::Issue* b) {
    return std::pair(a->line, a->column) < std::pair(b->line, b->column);
  });
  return sorted;
}

}  // namespace

ConfigDocument::ConfigDocument(std::unique_ptr<detail::DocumentState> state) : state_(std::move(state)) {}
ConfigDocument::ConfigDocument(ConfigDocument&&) noexcept = default;
ConfigDocument& ConfigDocument::operator=(ConfigDocument&&) noexcept = default;
ConfigDocument::~ConfigDocument() = default;

Result<ConfigDocument> ConfigDocument::load(const fs::path& path) {
  auto table = load_toml_file(path);
  if (!table) return std::move(table).error();
  return ConfigDocument(std::make_unique<detail::DocumentState>(std::move(table).value(), path));
}

Result<ConfigDocument> ConfigDocument::parse(std::string_view text, const fs::path& path) {
  auto table = parse_toml(text, path);
  if (!table) return std::move(table).error();
  return ConfigDocument(std::make_unique<detail::DocumentState>(std::move(table).value(), path));
}

const fs::path& ConfigDocument::path() const {
  return state_->file();
}

TableReader ConfigDocument::root() {
  return TableReader(&state_->root(), state_.get(), std::string());
}

void ConfigDocument::add_issue(std::string_view key_path, std::string_view message) {
  state_->add_issue(nullptr, key_path, message);
}

std::vector<std::string> ConfigDocument::issues() const {
  std::vector<std::string> texts;
  for (const detail::Issue* issue : ordered(state_->issues())) texts.push_back(issue->text);
  return texts;
}

Result<void> ConfigDocument::finish() {
  if (state_->begin_unknown_key_check()) report_unread(*state_, state_->root(), std::string());
  if (state_->issues().empty()) return {};
  std::string message;
  for (const detail::Issue* issue : ordered(state_->issues())) {
    if (!message.empty()) message += '\n';
    message += issue->text;
  }
  return make_error(Errc::invalid_argument, std::move(message));
}

}  // namespace kelvin::config
