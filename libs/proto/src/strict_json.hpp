#pragma once
// The one way libs/proto reads JSON from the network. Stricter than nlohmann::json::parse:
// - A payload is its full length. nlohmann's lexer takes a raw NUL byte for the end of its input
//   and would ignore whatever follows; a raw NUL is never valid JSON (it is not whitespace, and a
//   control character in a string must be escaped), so one anywhere makes the payload malformed.
// - Every object's member names are unique. nlohmann keeps the last of a repeated name, which
//   would let one payload say two things ({"temperature":10,"temperature":30}).
// Never throws: the SAX parser reports errors to the handler, which does not throw either.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "kelvin/proto/telemetry_codec.hpp"

namespace kelvin::proto::detail {

struct JsonRefusal {
  RejectReason reason;  // malformed_json or duplicate_member
  std::string detail;   // one line for the log
};

std::variant<nlohmann::json, JsonRefusal> parse_strict_json(std::string_view text);

// The refusals of both readers (this one and telemetry_facts.hpp), so they say the same thing.
std::optional<JsonRefusal> refuse_raw_nul(std::string_view text);  // nullopt: there is none
JsonRefusal duplicate_member_refusal(std::string_view name);
JsonRefusal malformed_json_refusal();

}  // namespace kelvin::proto::detail
