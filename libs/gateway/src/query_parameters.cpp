#include "kelvin/gateway/query_parameters.hpp"

#include <algorithm>
#include <charconv>

#include "kelvin/http/target.hpp"

namespace kelvin::gateway {
namespace {

http::Response bad_parameter(std::string_view code, std::string message) {
  return http::error_response(400, code, message);
}

}  // namespace

std::variant<QueryParameters, http::Response> read_query_parameters(std::string_view query,
                                                                    std::span<const std::string_view> allowed) {
  QueryParameters parameters;
  while (!query.empty()) {
    const std::size_t end = std::min(query.find('&'), query.size());
    const std::string_view piece = query.substr(0, end);
    query.remove_prefix(std::min(end + 1, query.size()));
    if (piece.empty()) continue;

    const std::size_t equals = piece.find('=');
    auto name = http::percent_decode(piece.substr(0, equals));
    auto value = http::percent_decode(equals == std::string_view::npos ? std::string_view() : piece.substr(equals + 1));
    if (!name || !value) return bad_parameter("invalid_parameter", "the query string holds a malformed %-escape");
    if (name->empty()) return bad_parameter("invalid_parameter", "the query string holds a value without a name");
    if (std::find(allowed.begin(), allowed.end(), *name) == allowed.end()) {
      std::string known;
      for (std::string_view one : allowed) known += (known.empty() ? "" : ", ") + std::string(one);
      return bad_parameter("unknown_parameter", "unknown parameter '" + *name + "'; this route takes " +
                                                    (known.empty() ? std::string("none") : known));
    }
    if (!parameters.try_emplace(*name, std::move(*value)).second) {
      return bad_parameter("duplicate_parameter", "parameter '" + *name + "' is given more than once");
    }
  }
  return parameters;
}

std::optional<std::string_view> parameter(const QueryParameters& parameters, std::string_view name) {
  auto found = parameters.find(name);
  if (found == parameters.end() || found->second.empty()) return std::nullopt;
  return std::string_view(found->second);
}

std::optional<std::int64_t> whole_number(std::string_view text) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || text.front() == '-' || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace kelvin::gateway
