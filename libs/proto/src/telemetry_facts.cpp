#include "telemetry_facts.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "kelvin/proto/telemetry.hpp"

namespace kelvin::proto::detail {
namespace {

using Json = nlohmann::json;

// What an open object or array is to the telemetry grammar.
enum class Role : std::uint8_t {
  reading,  // the root object or an object in the batch: its members are the reading's
  values,   // a reading's "values" object: its members are the reading's values
  batch,    // the root's "batch" array: its elements are readings
  other,    // anything else: only read for well-formedness and unique member names
};

constexpr std::size_t kRootReading = SIZE_MAX;  // Frame::reading of the root object

// Member names every reading object or values object may hold, as bits: a repeat of one is found
// without a lookup. Other names go to ObjectNames::others.
std::uint32_t known_name_bit(Role role, std::string_view name) {
  if (role == Role::reading) {
    if (name == "seq") return 1U << 0;
    if (name == "ts") return 1U << 1;
    if (name == "values") return 1U << 2;
    if (name == "batch") return 1U << 3;
  } else if (role == Role::values) {
    if (auto quantity = parse_quantity(name)) return 1U << static_cast<unsigned>(*quantity);
  }
  return 0;
}

// An open container. Kept small: a hostile payload may nest thousands deep.
struct Frame {
  bool is_object = false;
  Role role = Role::other;
  std::uint32_t known_names = 0;       // objects: known_name_bit of the names seen
  std::size_t reading = kRootReading;  // whose facts, for roles reading and values
  std::size_t members = 0;             // objects: how many so far
};

// What an open object remembers of its member names beyond Frame::known_names.
struct ObjectNames {
  std::set<std::string> others;  // names without a bit (empty: no allocation)
  std::string latest;            // the latest member name: the next value's
};

// nlohmann's SAX interface. A value event places the value where the grammar says it goes: the
// root, the next element of the innermost array, or the member whose name came last.
class FactsCollector {
 public:
  FactsCollector(PayloadFacts& facts, std::size_t max_batch_elements)
      : facts_(facts), max_batch_elements_(max_batch_elements) {}

  bool null() { return place(JsonValueFacts{JsonKind::null}); }
  bool boolean(bool /*value*/) { return place(JsonValueFacts{JsonKind::boolean}); }
  bool number_integer(Json::number_integer_t value) {
    return place(JsonValueFacts{JsonKind::negative_integer, 0, value, static_cast<double>(value)});
  }
  bool number_unsigned(Json::number_unsigned_t value) {
    return place(JsonValueFacts{JsonKind::unsigned_integer, value, 0, static_cast<double>(value)});
  }
  bool number_float(Json::number_float_t value, const Json::string_t& /*text*/) {
    return place(JsonValueFacts{JsonKind::floating, 0, 0, value});
  }
  bool string(Json::string_t& /*value*/) { return place(JsonValueFacts{JsonKind::string}); }
  bool binary(Json::binary_t& /*value*/) { return false; }  // JSON text has no binary values

  bool start_object(std::size_t /*size_hint*/) { return place(JsonValueFacts{JsonKind::object}); }
  bool start_array(std::size_t /*size_hint*/) { return place(JsonValueFacts{JsonKind::array}); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(Json::string_t& name) {
    Frame& object = open_.back();
    ObjectNames& names = object_names_.back();
    if (const std::uint32_t bit = known_name_bit(object.role, name)) {
      if ((object.known_names & bit) != 0) return refuse_duplicate(name);
      object.known_names |= bit;
    } else if (!names.others.insert(name).second) {
      return refuse_duplicate(name);
    }
    names.latest = name;
    ++object.members;
    return true;
  }

  bool parse_error(std::size_t /*position*/, const std::string& /*token*/, const nlohmann::detail::exception& /*e*/) {
    return false;
  }

  // The member name given twice, if the parse stopped at one.
  const std::optional<std::string>& duplicate() const { return duplicate_; }

 private:
  ReadingFacts& reading_at(std::size_t index) {
    return index == kRootReading ? facts_.root : facts_.batch_elements[index];
  }

  bool place(const JsonValueFacts& value) {
    Role opened = Role::other;  // the role of the container `value` opens, if it is one
    std::size_t reading = kRootReading;
    if (open_.empty()) {
      facts_.root_kind = value.kind;
      opened = Role::reading;
    } else if (Frame& parent = open_.back(); !parent.is_object) {
      if (parent.role == Role::batch && ++facts_.batch_size <= max_batch_elements_) {
        facts_.batch_elements.push_back(ReadingFacts{value.kind, {}, {}, {}, {}, {}});
        reading = facts_.batch_elements.size() - 1;
        opened = Role::reading;
      }
    } else if (parent.role == Role::reading) {
      reading = parent.reading;
      opened = place_reading_member(parent, value);
    } else if (parent.role == Role::values) {
      reading_at(parent.reading).value_members.push_back(NamedValueFacts{object_names_.back().latest, value});
    }
    if (value.kind == JsonKind::object || value.kind == JsonKind::array) {
      Frame frame;
      frame.is_object = value.kind == JsonKind::object;
      // A role only fits the container it is for: a reading or values that is an array, or a
      // batch that is an object, is read as `other` and refused by the checks.
      const bool fits = opened == Role::batch ? !frame.is_object : (opened == Role::other || frame.is_object);
      frame.role = fits ? opened : Role::other;
      frame.reading = reading;
      open_.push_back(frame);
      if (frame.is_object) object_names_.emplace_back();
    }
    return true;
  }

  // A member of a reading object; returns the role of the container the value opens.
  Role place_reading_member(const Frame& parent, const JsonValueFacts& value) {
    ReadingFacts& reading = reading_at(parent.reading);
    const std::string& name = object_names_.back().latest;
    if (name == "seq") {
      reading.seq = value;
    } else if (name == "ts") {
      reading.ts = value;
    } else if (name == "values") {
      reading.values = value;
      return Role::values;
    } else if (name == "batch" && parent.reading == kRootReading) {
      facts_.batch = value;
      return Role::batch;
    } else if (!reading.first_unexpected || name < *reading.first_unexpected) {
      reading.first_unexpected = name;
    }
    return Role::other;
  }

  bool close() {
    if (open_.back().is_object) {
      if (open_.size() == 1) facts_.root_members = open_.back().members;
      object_names_.pop_back();
    }
    open_.pop_back();
    return true;
  }

  bool refuse_duplicate(const std::string& name) {
    duplicate_ = name;
    return false;
  }

  PayloadFacts& facts_;
  std::size_t max_batch_elements_;
  std::vector<Frame> open_;                // the containers being read, innermost last
  std::vector<ObjectNames> object_names_;  // one per open object, innermost last
  std::optional<std::string> duplicate_;
};

}  // namespace

std::variant<PayloadFacts, JsonRefusal> read_telemetry_facts(std::string_view text, std::size_t max_batch_elements) {
  if (auto refusal = refuse_raw_nul(text)) return *std::move(refusal);
  PayloadFacts facts;
  FactsCollector collector(facts, max_batch_elements);
  if (!Json::sax_parse(text, &collector)) {
    if (const auto& name = collector.duplicate()) return duplicate_member_refusal(*name);
    return malformed_json_refusal();
  }
  return facts;
}

}  // namespace kelvin::proto::detail
