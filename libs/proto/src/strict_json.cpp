#include "strict_json.hpp"

#include <optional>
#include <utility>
#include <vector>

namespace kelvin::proto::detail {
namespace {

using Json = nlohmann::json;

// Builds the document from nlohmann's SAX events, as json::parse does, except that a member name
// already present in its object stops the parse. The object's own map tells (try_emplace), so
// uniqueness costs no extra allocation on the ingest path.
class StrictDomBuilder {
 public:
  explicit StrictDomBuilder(Json& root) : root_(root) {}

  bool null() { return put(nullptr); }
  bool boolean(bool value) { return put(value); }
  bool number_integer(Json::number_integer_t value) { return put(value); }
  bool number_unsigned(Json::number_unsigned_t value) { return put(value); }
  bool number_float(Json::number_float_t value, const Json::string_t& /*text*/) { return put(value); }
  bool string(Json::string_t& value) { return put(std::move(value)); }
  bool binary(Json::binary_t& value) { return put(std::move(value)); }

  bool start_object(std::size_t /*size_hint*/) { return open(Json::object()); }
  bool key(Json::string_t& name) {
    auto* members = open_.back()->get_ptr<Json::object_t*>();
    auto [member, inserted] = members->try_emplace(name);
    if (!inserted) {
      duplicate_ = name;
      return false;
    }
    slot_ = &member->second;
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t /*size_hint*/) { return open(Json::array()); }
  bool end_array() { return close(); }

  bool parse_error(std::size_t /*position*/, const std::string& /*token*/, const nlohmann::detail::exception& /*e*/) {
    return false;
  }

  // The member name given twice, if the parse stopped at one.
  const std::optional<std::string>& duplicate() const { return duplicate_; }

 private:
  // Places a value where the grammar says it goes: the root, the end of the innermost array, or
  // the member whose name came last. Returns where it went.
  template <class Value>
  Json* place(Value&& value) {
    if (open_.empty()) {
      root_ = Json(std::forward<Value>(value));
      return &root_;
    }
    if (auto* elements = open_.back()->get_ptr<Json::array_t*>()) {
      return &elements->emplace_back(std::forward<Value>(value));
    }
    *slot_ = Json(std::forward<Value>(value));
    return slot_;
  }
  template <class Value>
  bool put(Value&& value) {
    (void)place(std::forward<Value>(value));
    return true;
  }
  // A container's address stays valid while it is open: only the innermost one grows.
  bool open(Json container) {
    open_.push_back(place(std::move(container)));
    return true;
  }
  bool close() {
    open_.pop_back();
    return true;
  }

  Json& root_;
  std::vector<Json*> open_;  // the containers being filled, innermost last
  Json* slot_ = nullptr;     // the value of the innermost object's latest member
  std::optional<std::string> duplicate_;
};

}  // namespace

std::optional<JsonRefusal> refuse_raw_nul(std::string_view text) {
  if (text.find('\0') == std::string_view::npos) return std::nullopt;
  return JsonRefusal{RejectReason::malformed_json, "a raw NUL byte is not JSON"};
}

JsonRefusal duplicate_member_refusal(std::string_view name) {
  return JsonRefusal{RejectReason::duplicate_member, "member '" + std::string(name) + "' is given twice in one object"};
}

JsonRefusal malformed_json_refusal() {
  return JsonRefusal{RejectReason::malformed_json, "not well-formed JSON"};
}

std::variant<Json, JsonRefusal> parse_strict_json(std::string_view text) {
  if (auto refusal = refuse_raw_nul(text)) return *std::move(refusal);
  Json document;
  StrictDomBuilder builder(document);
  if (!Json::sax_parse(text, &builder)) {
    if (const auto& name = builder.duplicate()) return duplicate_member_refusal(*name);
    return malformed_json_refusal();
  }
  return document;
}

}  // namespace kelvin::proto::detail
