#pragma once
// What a ConfigDocument and all TableReaders over it share: the parsed table, where the file is,
// the problems found so far and which nodes were read (to find unknown keys at the end).
// Private to libs/config.

#include <toml++/toml.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace kelvin::config::detail {

struct Issue {
  std::uint32_t line = 0;  // 0: no position (e.g. a key that is missing altogether)
  std::uint32_t column = 0;
  std::string text;  // the complete message, "<file>[:<line>:<col>]: <key path>: <message>"
};

class DocumentState {
 public:
  DocumentState(toml::table table, std::filesystem::path file);

  const toml::table& root() const { return table_; }
  const std::filesystem::path& file() const { return file_; }
  const std::filesystem::path& base_dir() const { return base_dir_; }

  // `where` may be null or unknown (line 0): the message then has no position.
  void add_issue(const toml::source_region* where, std::string_view key_path, std::string_view message);
  const std::vector<Issue>& issues() const { return issues_; }

  void mark_read(const toml::node* node) { read_.insert(node); }
  bool was_read(const toml::node* node) const { return read_.contains(node); }

  // True the first time only: unknown keys are reported once, however often finish() is called.
  bool begin_unknown_key_check() { return !std::exchange(unknown_keys_checked_, true); }

 private:
  toml::table table_;
  std::filesystem::path file_;
  std::filesystem::path base_dir_;  // relative paths in the file resolve against it
  std::vector<Issue> issues_;
  std::unordered_set<const toml::node*> read_;
  bool unknown_keys_checked_ = false;
};

// "broker" + "host" -> "broker.host"; keys that are not bare TOML keys are quoted, and anything
// unprintable is replaced, so an unknown key cannot garble the message it appears in.
std::string join_key(std::string_view prefix, std::string_view key);
// "sensor" + 2 -> "sensor[2]"
std::string element_path(std::string_view prefix, std::size_t index);

}  // namespace kelvin::config::detail
