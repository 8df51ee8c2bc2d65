#pragma once
// A request's query string ("quantity=temperature&from=2026-11-22") read into named values for a
// route, checked strictly so that a mistake is answered instead of silently ignored.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "kelvin/http/message.hpp"

namespace kelvin::gateway {

// Parameter names to their values, percent-decoded ('+' stays '+': kelvin's values never hold a
// space). A name given without '=' has the value "".
using QueryParameters = std::map<std::string, std::string, std::less<>>;

// The parameters of `query` (http::Request::query), or the 400 answer refusing them:
//   unknown_parameter    a name not in `allowed` (a misspelt name would otherwise be ignored);
//   duplicate_parameter  a name given twice;
//   invalid_parameter    a bad percent-escape, or a value without a name ("=x").
// Empty pieces ("a=1&&b=2", a trailing '&') are skipped.
std::variant<QueryParameters, http::Response> read_query_parameters(std::string_view query,
                                                                    std::span<const std::string_view> allowed);

// The value of `name`, or nullopt when it is absent or empty ("from=" is as good as no from).
std::optional<std::string_view> parameter(const QueryParameters& parameters, std::string_view name);

// `text` as a whole number: decimal digits only (no sign, no space), fitting an int64; nullopt
// otherwise. What ids, limits and milliseconds in paths and parameters are read with.
std::optional<std::int64_t> whole_number(std::string_view text);

}  // namespace kelvin::gateway
