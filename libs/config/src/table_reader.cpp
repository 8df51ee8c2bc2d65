#include "kelvin/config/table_reader.hpp"

#include <cmath>
#include <sstream>

#include "document_state.hpp"

namespace kelvin::config {
namespace fs = std::filesystem;
namespace {

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::string choices(std::initializer_list<std::string_view> allowed) {
  std::string out;
  for (std::string_view choice : allowed) {
    if (!out.empty()) out += ", ";
    out += '"';
    out += choice;
    out += '"';
  }
  return out;
}

// Numbers in messages: integers without a fraction, others in their shortest form.
std::string format_number(double value) {
  if (std::isfinite(value) && value == std::trunc(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<long long>(value));
  }
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

bool TableReader::contains(std::string_view key) const {
  return table_ != nullptr && table_->contains(key);
}

const toml::node* TableReader::lookup(std::string_view key) {
  if (table_ == nullptr) return nullptr;
  const toml::node* node = table_->get(key);
  if (node != nullptr) document_->mark_read(node);
  return node;
}

void TableReader::wrong_type(std::string_view key, const toml::node& node, std::string_view expected) const {
  std::string message = "expected ";
  message += expected;
  message += ", found ";
  message += type_name(node);
  document_->add_issue(&node.source(), detail::join_key(key_path_, key), message);
}

// Where this table starts in the file ([broker], { ... }); none for the root or an absent table.
const toml::source_region* TableReader::table_region() const {
  return (table_ != nullptr && !key_path_.empty()) ? &table_->source() : nullptr;
}

void TableReader::missing(std::string_view key) const {
  if (!report_missing_) return;
  document_->add_issue(table_region(), detail::join_key(key_path_, key), "required key is missing");
}

void TableReader::add_issue(std::string_view key, std::string_view message) const {
  const toml::node* node = table_ != nullptr ? table_->get(key) : nullptr;
  document_->add_issue(node != nullptr ? &node->source() : table_region(), detail::join_key(key_path_, key), message);
}

void TableReader::add_issue(std::string_view message) const {
  document_->add_issue(table_region(), key_path_, message);
}

std::optional<std::string> TableReader::optional_string(std::string_view key) {
  const toml::node* node = lookup(key);
  if (node == nullptr) return std::nullopt;
  if (const auto* value = node->as_string()) return value->get();
  wrong_type(key, *node, "a string");
  return std::nullopt;
}

std::string TableReader::string(std::string_view key, std::string fallback) {
  return optional_string(key).value_or(std::move(fallback));
}

std::string TableReader::required_string(std::string_view key) {
  auto value = optional_string(key);
  if (value && value->empty()) {
    add_issue(key, "must not be empty");
  } else if (!value && !contains(key)) {
    missing(key);
  }
  return value.value_or(std::string());
}

std::string TableReader::one_of(std::string_view key, std::string fallback,
                                std::initializer_list<std::string_view> allowed) {
  auto value = optional_string(key);
  if (!value) return fallback;
  for (std::string_view choice : allowed) {
    if (*value == choice) return std::move(*value);
  }
  add_issue(key, "must be one of " + choices(allowed));
  return fallback;
}

std::string TableReader::required_one_of(std::string_view key, std::initializer_list<std::string_view> allowed) {
  if (!contains(key)) {
    missing(key);
    return {};
  }
  return one_of(key, {}, allowed);
}

std::vector<std::string> TableReader::strings(std::string_view key, std::vector<std::string> fallback) {
  const toml::node* node = lookup(key);
  if (node == nullptr) return fallback;
  const auto* array = node->as_array();
  if (array == nullptr) {
    wrong_type(key, *node, "an array of strings");
    return fallback;
  }
  std::vector<std::string> values;
  bool ok = true;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    if (const auto* text = element.as_string()) {
      values.push_back(text->get());
    } else {
      document_->add_issue(&element.source(), detail::element_path(detail::join_key(key_path_, key), i),
                           std::string("expected a string, found ") + std::string(type_name(element)));
      ok = false;
    }
  }
  return ok ? values : fallback;
}

std::optional<std::int64_t> TableReader::integer_in_range(std::string_view key, std::int64_t min, std::int64_t max) {
  const toml::node* node = lookup(key);
  if (node == nullptr) return std::nullopt;
  const auto* value = node->as_integer();
  if (value == nullptr) {
    wrong_type(key, *node, "an integer");
    return std::nullopt;
  }
  const std::int64_t number = value->get();
  if (number < min || number > max) {
    add_issue(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", found " +
                       std::to_string(number));
    return std::nullopt;
  }
  return number;
}

double TableReader::number(std::string_view key, double fallback, double min, double max) {
  const toml::node* node = lookup(key);
  if (node == nullptr) return fallback;
  double number = 0;
  if (const auto* real = node->as_floating_point()) {
    number = real->get();
  } else if (const auto* integer = node->as_integer()) {
    number = static_cast<double>(integer->get());
  } else {
    wrong_type(key, *node, "a number");
    return fallback;
  }
  if (!(number >= min && number <= max)) {  // written so that NaN fails
    add_issue(key, "must be between " + format_number(min) + " and " + format_number(max) + ", found " +
                       format_number(number));
    return fallback;
  }
  return number;
}

bool TableReader::boolean(std::string_view key, bool fallback) {
  const toml::node* node = lookup(key);
  if (node == nullptr) return fallback;
  if (const auto* value = node->as_boolean()) return value->get();
  wrong_type(key, *node, "a boolean (true or false)");
  return fallback;
}

fs::path TableReader::resolve(const fs::path& relative) const {
  if (relative.empty() || relative.is_absolute()) return relative;
  return (document_->base_dir() / relative).lexically_normal();
}

std::optional<fs::path> TableReader::optional_path(std::string_view key) {
  auto text = optional_string(key);
  if (!text) return std::nullopt;
  if (text->empty()) {
    add_issue(key, "must not be empty");
    return std::nullopt;
  }
  return resolve(fs::path(*text));
}

fs::path TableReader::path(std::string_view key, const fs::path& fallback) {
  auto value = optional_path(key);
  return value ? *value : resolve(fallback);
}

fs::path TableReader::required_path(std::string_view key) {
  if (!contains(key)) {
    missing(key);
    return {};
  }
  return optional_path(key).value_or(fs::path());
}

TableReader TableReader::table(std::string_view key) {
  std::string child_path = detail::join_key(key_path_, key);
  const toml::node* node = lookup(key);
  if (node == nullptr) return TableReader(nullptr, document_, std::move(child_path));
  const auto* child = node->as_table();
  if (child == nullptr) wrong_type(key, *node, "a table");
  return TableReader(child, document_, std::move(child_path), child != nullptr);
}

std::vector<TableReader> TableReader::tables(std::string_view key) {
  std::vector<TableReader> readers;
  const toml::node* node = lookup(key);
  if (node == nullptr) return readers;
  const auto* array = node->as_array();
  if (array == nullptr) {
    wrong_type(key, *node, "an array of tables ([[" + std::string(key) + "]])");
    return readers;
  }
  const std::string array_path = detail::join_key(key_path_, key);
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    document_->mark_read(&element);
    if (const auto* child = element.as_table()) {
      readers.push_back(TableReader(child, document_, detail::element_path(array_path, i)));
    } else {
      document_->add_issue(&element.source(), detail::element_path(array_path, i),
                           std::string("expected a table, found ") + std::string(type_name(element)));
    }
  }
  return readers;
}

}  // namespace kelvin::config
