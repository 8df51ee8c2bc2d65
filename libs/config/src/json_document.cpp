// ConfigDocument::from_json (config_document.hpp): a JSON object as a TOML table, so the HTTPS API
// checks what it is given with the config file's own readers.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "document_state.hpp"
#include "kelvin/config/config_document.hpp"

namespace kelvin::config {
namespace {

using nlohmann::json;

// A key whose value has no TOML form, reported once the document exists.
struct Untranslatable {
  std::string key_path;
  std::string message;
};

// One TOML value: what a JSON value becomes.
using TomlValue = std::variant<toml::table, toml::array, std::string, bool, std::int64_t, double>;

class JsonToToml {
 public:
  toml::table table(const json& object, const std::string& prefix) {
    toml::table out;
    for (const auto& [key, value] : object.items()) {
      if (auto node = translate(value, detail::join_key(prefix, key))) {
        std::visit([&](auto&& translated) { out.insert(key, std::move(translated)); }, std::move(*node));
      }
    }
    return out;
  }

  std::vector<Untranslatable> untranslatable;

 private:
  // The value as TOML; nullopt (and an issue) when TOML has no such value.
  std::optional<TomlValue> translate(const json& value, const std::string& path) {
    switch (value.type()) {
      case json::value_t::object:
        return table(value, path);
      case json::value_t::array: {
        toml::array array;
        for (std::size_t i = 0; i < value.size(); ++i) {
          if (auto element = translate(value[i], detail::element_path(path, i))) {
            std::visit([&](auto&& translated) { array.push_back(std::move(translated)); }, std::move(*element));
          }
        }
        return array;
      }
      case json::value_t::string:
        return value.get<std::string>();
      case json::value_t::boolean:
        return value.get<bool>();
      case json::value_t::number_integer:
        return value.get<std::int64_t>();
      case json::value_t::number_unsigned: {
        const auto number = value.get<std::uint64_t>();
        if (number <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          return static_cast<std::int64_t>(number);
        }
        untranslatable.push_back({path, "a whole number beyond 64-bit integers"});
        return std::nullopt;
      }
      case json::value_t::number_float:
        return value.get<double>();
      default:  // null (a discarded or binary value cannot come from parsing text)
        untranslatable.push_back({path, "null is no value: leave the key out for its default"});
        return std::nullopt;
    }
  }
};

}  // namespace

Result<ConfigDocument> ConfigDocument::from_json(std::string_view json_text) {
  // The translation recurses once per level: a body nested a million levels deep must not take the
  // stack with it. Config tables nest a few levels; parsing itself does not recurse.
  constexpr int kMaxDepth = 32;
  int deepest = 0;
  const json parsed = json::parse(
      json_text,
      [&](int depth, json::parse_event_t, json&) {
        deepest = std::max(deepest, depth);
        return true;
      },
      false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return make_error(Errc::invalid_argument, "the body must be one JSON object");
  }
  if (deepest > kMaxDepth) {
    return make_error(Errc::invalid_argument, "the body nests deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  JsonToToml translator;
  toml::table table = translator.table(parsed, "");
  ConfigDocument document(std::make_unique<detail::DocumentState>(std::move(table), std::filesystem::path()));
  for (const auto& issue : translator.untranslatable) document.add_issue(issue.key_path, issue.message);
  return document;
}

}  // namespace kelvin::config
