// Reading a route's query string strictly: every mistake is answered, none ignored.

#include "kelvin/gateway/query_parameters.hpp"

#include <gtest/gtest.h>

#include <array>
#include <nlohmann/json.hpp>

namespace kelvin::gateway {
namespace {

constexpr std::array<std::string_view, 3> kAllowed = {"quantity", "from", "to"};

QueryParameters read_ok(std::string_view query) {
  auto read = read_query_parameters(query, kAllowed);
  if (auto* refused = std::get_if<http::Response>(&read)) {
    ADD_FAILURE() << query << ": " << refused->body;
    return {};
  }
  return std::get<QueryParameters>(read);
}

std::string refusal_code(std::string_view query, std::span<const std::string_view> allowed = kAllowed) {
  auto read = read_query_parameters(query, allowed);
  auto* refused = std::get_if<http::Response>(&read);
  if (refused == nullptr) {
    ADD_FAILURE() << query << " was accepted";
    return "";
  }
  EXPECT_EQ(refused->status, 400);
  return nlohmann::json::parse(refused->body)["error"]["code"].get<std::string>();
}

TEST(QueryParameters, NamesAndDecodedValues) {
  EXPECT_TRUE(read_ok("").empty());
  auto read = read_ok("quantity=temperature&from=2026-11-22T10%3A00Z&to");
  EXPECT_EQ(read, (QueryParameters{{"quantity", "temperature"}, {"from", "2026-11-22T10:00Z"}, {"to", ""}}));
  EXPECT_EQ(read_ok("&quantity=a+b&&"), (QueryParameters{{"quantity", "a+b"}})) << "empty pieces skipped, + kept";
  EXPECT_EQ(read_ok("fr%6Fm=1"), (QueryParameters{{"from", "1"}})) << "names are decoded too";
}

TEST(QueryParameters, EmptyValuesAreAbsent) {
  auto read = read_ok("quantity=&from=1");
  EXPECT_FALSE(parameter(read, "quantity").has_value());
  EXPECT_FALSE(parameter(read, "to").has_value());
  EXPECT_EQ(parameter(read, "from"), "1");
}

TEST(QueryParameters, MistakesAreRefusedWithStableCodes) {
  EXPECT_EQ(refusal_code("qantity=temperature"), "unknown_parameter");
  EXPECT_EQ(refusal_code("x=1", {}), "unknown_parameter");
  EXPECT_EQ(refusal_code("from=1&from=2"), "duplicate_parameter");
  EXPECT_EQ(refusal_code("from=1&fr%6Fm=2"), "duplicate_parameter");
  EXPECT_EQ(refusal_code("from=%zz"), "invalid_parameter");
  EXPECT_EQ(refusal_code("=1"), "invalid_parameter");
}

TEST(QueryParameters, TheRefusalNamesTheParametersTheRouteTakes) {
  auto read = read_query_parameters("step=1", kAllowed);
  auto message = nlohmann::json::parse(std::get<http::Response>(read).body)["error"]["message"].get<std::string>();
  EXPECT_NE(message.find("'step'"), std::string::npos) << message;
  EXPECT_NE(message.find("quantity, from, to"), std::string::npos) << message;
}

}  // namespace
}  // namespace kelvin::gateway
