#pragma once
// What the telemetry checks (telemetry_decoder.cpp) need to know of a payload, read from its JSON
// in one pass of nlohmann's SAX parser, without building a document: the gateway decodes every
// message it receives, and a document costs an allocation per node. The JSON is read as strictly
// as parse_strict_json reads it (strict_json.hpp): the full length, every member name once per
// object at any depth.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "strict_json.hpp"

namespace kelvin::proto::detail {

// A JSON value's type, with numbers as nlohmann's parser tells them apart: a non-negative integer
// that fits 64 bits is unsigned, a negative one that fits is negative, every other number floating.
enum class JsonKind : std::uint8_t {
  null,
  boolean,
  unsigned_integer,
  negative_integer,
  floating,
  string,
  object,
  array
};

struct JsonValueFacts {
  JsonKind kind = JsonKind::null;
  std::uint64_t unsigned_value = 0;  // kind unsigned_integer
  std::int64_t negative_value = 0;   // kind negative_integer
  double number = 0.0;               // any number, converted to double

  bool is_number() const {
    return kind == JsonKind::unsigned_integer || kind == JsonKind::negative_integer || kind == JsonKind::floating;
  }
  bool operator==(const JsonValueFacts&) const = default;
};

struct NamedValueFacts {
  std::string name;
  JsonValueFacts value;
  bool operator==(const NamedValueFacts&) const = default;
};

// One reading: the payload's root object, or an element of its batch (which may be any value).
struct ReadingFacts {
  JsonKind kind = JsonKind::object;
  // The member name other than seq, ts and values that sorts first (a root object's "batch" is
  // not one of them): the checks name the first unexpected member in name order.
  std::optional<std::string> first_unexpected;
  std::optional<JsonValueFacts> seq;
  std::optional<JsonValueFacts> ts;
  std::optional<JsonValueFacts> values;
  std::vector<NamedValueFacts> value_members;  // of `values` when it is an object, in payload order
  bool operator==(const ReadingFacts&) const = default;
};

struct PayloadFacts {
  JsonKind root_kind = JsonKind::null;
  std::size_t root_members = 0;              // when the root is an object
  std::optional<JsonValueFacts> batch;       // the root's member "batch"
  ReadingFacts root;                         // the root object read as a reading
  std::size_t batch_size = 0;                // elements of the batch array
  std::vector<ReadingFacts> batch_elements;  // the first max_batch_elements of them
  bool operator==(const PayloadFacts&) const = default;
};

// The facts of a payload of plain readings as devices send them (ASCII, objects of seq, ts and
// values, numbers only, alone or in a batch of at most max_batch_elements: plain_reading_facts.cpp),
// the same as read_telemetry_facts gives for it, in a fraction of the time; nullopt for any other
// text, which only read_telemetry_facts reads.
std::optional<PayloadFacts> read_plain_reading_facts(std::string_view text, std::size_t max_batch_elements);

// The facts, or why the text is not (strict) JSON: malformed_json or duplicate_member. Batch
// elements beyond max_batch_elements are counted and checked for well-formedness only: such a
// payload is refused as a whole.
std::variant<PayloadFacts, JsonRefusal> read_telemetry_facts(std::string_view text, std::size_t max_batch_elements);

}  // namespace kelvin::proto::detail
