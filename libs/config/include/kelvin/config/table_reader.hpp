#pragma once
// Typed, validating reads of one TOML table. A config loader fills its struct (whose members hold
// the defaults) key by key:
//
//   auto document = ConfigDocument::load(path);          // parse errors stop here
//   if (!document) return std::move(document).error();
//   TableReader root = document->root();
//   config.interval_s = root.integer("interval_s", config.interval_s, 1, 86400);
//   TableReader broker = root.table("broker");
//   config.broker.host = broker.required_string("host");
//   if (auto done = document->finish(); !done) return std::move(done).error();  // every problem at once
//
// No read ever stops the load: a missing required key, a wrong type or a value out of range is
// recorded as an issue ("<file>:<line>:<col>: <key.path>: <message>") and the read returns the
// fallback, so one load reports every mistake in the file. Every key a reader looks up counts as
// known; ConfigDocument::finish() reports all others, at any depth, as "unknown key".
//
// A TableReader refers to its document's shared state: it must not outlive the ConfigDocument.

#include <toml++/toml.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace kelvin::config {

namespace detail {
class DocumentState;
}

// The integer types a config member can have (bool is read with boolean()).
template <class Int>
concept ConfigInteger = std::integral<Int> && !std::same_as<Int, bool>;

class TableReader {
 public:
  // The dotted path of this table in the document: "" for the root, "broker", "sensor[1]".
  const std::string& key_path() const noexcept { return key_path_; }
  // False for a reader over a table that is not in the file: every read then returns its fallback
  // (required reads report the key as missing).
  bool present() const noexcept { return table_ != nullptr; }
  // Whether `key` is in the table (does not count as reading it).
  bool contains(std::string_view key) const;

  // Strings. required_string reports a missing or empty value and then returns "".
  std::optional<std::string> optional_string(std::string_view key);
  std::string string(std::string_view key, std::string fallback);
  std::string required_string(std::string_view key);
  // A string that must be one of `allowed` (reported with the list of choices otherwise).
  std::string one_of(std::string_view key, std::string fallback, std::initializer_list<std::string_view> allowed);
  std::string required_one_of(std::string_view key, std::initializer_list<std::string_view> allowed);
  // An array of strings.
  std::vector<std::string> strings(std::string_view key, std::vector<std::string> fallback);

  // A TOML integer in [min, max] (a float such as 10.0 is a type error, not rounded).
  // The bounds take the fallback's type, so `integer("port", config.port, 1, 65535)` works for
  // any integer member.
  template <ConfigInteger Int>
  Int integer(std::string_view key, Int fallback, std::type_identity_t<Int> min = std::numeric_limits<Int>::min(),
              std::type_identity_t<Int> max = std::numeric_limits<Int>::max()) {
    auto value = integer_in_range(key, clamp_to_int64(min), clamp_to_int64(max));
    return value ? static_cast<Int>(*value) : fallback;
  }
  // A number (TOML float or integer) in [min, max]; NaN and infinities are out of every range.
  double number(std::string_view key, double fallback, double min, double max);
  bool boolean(std::string_view key, bool fallback);

  // A file system path. Relative paths (including a relative `fallback`) resolve against the
  // directory of the config file, so a config and the files it names can move together. An empty
  // string is an issue.
  std::filesystem::path path(std::string_view key, const std::filesystem::path& fallback);
  std::filesystem::path required_path(std::string_view key);
  // `relative` resolved the way path() resolves a value from the file.
  std::filesystem::path resolve(const std::filesystem::path& relative) const;

  // A sub-table ([broker] or broker = { ... }). Missing: an absent reader (see present()).
  TableReader table(std::string_view key);
  // An array of tables ([[sensor]] ...), one reader per element, in file order. Missing: empty.
  std::vector<TableReader> tables(std::string_view key);

  // Records a problem found by the caller (e.g. a check across keys), at `key`'s position when
  // the key is present, else at the table's.
  void add_issue(std::string_view key, std::string_view message) const;
  // Records a problem with the table as a whole.
  void add_issue(std::string_view message) const;

 private:
  friend class ConfigDocument;
  TableReader(const toml::table* table, detail::DocumentState* document, std::string key_path,
              bool report_missing = true)
      : table_(table), document_(document), key_path_(std::move(key_path)), report_missing_(report_missing) {}

  // The node at `key`, marked as read; null when absent.
  const toml::node* lookup(std::string_view key);
  // Records "expected <what>, found <type of node>".
  void wrong_type(std::string_view key, const toml::node& node, std::string_view expected) const;
  void missing(std::string_view key) const;
  const toml::source_region* table_region() const;
  std::optional<std::int64_t> integer_in_range(std::string_view key, std::int64_t min, std::int64_t max);
  std::optional<std::filesystem::path> optional_path(std::string_view key);

  template <std::integral Int>
  static std::int64_t clamp_to_int64(Int value) {
    if (std::cmp_greater(value, std::numeric_limits<std::int64_t>::max())) {
      return std::numeric_limits<std::int64_t>::max();
    }
    if (std::cmp_less(value, std::numeric_limits<std::int64_t>::min())) {
      return std::numeric_limits<std::int64_t>::min();
    }
    return static_cast<std::int64_t>(value);
  }

  const toml::table* table_;
  detail::DocumentState* document_;
  std::string key_path_;
  // False under a key that is there but not a table: its type error was reported already, and
  // "missing" errors for everything inside would only bury it.
  bool report_missing_;
};

}  // namespace kelvin::config
