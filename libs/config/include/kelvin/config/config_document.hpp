#pragma once
// One config file being loaded: the parsed TOML, the problems found while reading it and which
// keys were read. See table_reader.hpp for the reading pattern.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/config/table_reader.hpp"
#include "kelvin/core/result.hpp"

namespace kelvin::config {

class ConfigDocument {
 public:
  // Reads and parses `path` (see load_toml_file for the errors). A syntax error stops here: the
  // rest of the file cannot be trusted, so nothing else is reported with it.
  static Result<ConfigDocument> load(const std::filesystem::path& path);
  // Parses `text` as if it were the file at `path` (names in messages, base of relative paths).
  static Result<ConfigDocument> parse(std::string_view text, const std::filesystem::path& path);
  // A document from one JSON object, read with the same TableReaders as a config file (the HTTPS
  // API takes an [[alerts.rule]] table as JSON, and checks it as the config file's would be).
  // Objects become tables, arrays arrays, strings, booleans and numbers TOML's own (an integer
  // stays an integer, so "for_s": 1.5 is the same type error as in a file). A null, or an integer
  // beyond 64-bit signed, is an issue of its key. Issues have no file or position in front:
  // "above: must be a number". Text that is not one JSON object is an invalid_argument Error.
  static Result<ConfigDocument> from_json(std::string_view json_text);

  ConfigDocument(ConfigDocument&&) noexcept;
  ConfigDocument& operator=(ConfigDocument&&) noexcept;
  ~ConfigDocument();

  const std::filesystem::path& path() const;
  // A reader over the whole document. Readers stay valid while this document lives (also across
  // a move of the document).
  TableReader root();

  // Records a problem that belongs to no key (e.g. "at least one [[sensor]] is required").
  void add_issue(std::string_view key_path, std::string_view message);
  // The issues so far, ordered by position in the file (those without one first).
  std::vector<std::string> issues() const;

  // Reports every key that no reader looked up as "unknown key" (typos never pass silently),
  // then returns ok if there were no issues at all, else an invalid_argument Error whose message
  // holds every issue, one per line, ordered by position. This is the one multi-line Error
  // message in kelvin: a file with three mistakes shows three lines at start-up.
  Result<void> finish();

 private:
  explicit ConfigDocument(std::unique_ptr<detail::DocumentState> state);
  std::unique_ptr<detail::DocumentState> state_;
};

}  // namespace kelvin::config
