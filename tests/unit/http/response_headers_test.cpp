// response_headers: the security headers on every response, which a handler cannot remove,
// override or smuggle others past.

#include "kelvin/http/response_headers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

namespace kelvin::http {
namespace {

using ::testing::Contains;
using ::testing::Not;
using ::testing::Pair;

std::multimap<std::string, std::string> headers_of(const Response& response) {
  std::multimap<std::string, std::string> out;
  for (const auto& [name, value] : response_headers(response)) out.emplace(name, value);
  return out;
}

void expect_security_headers(const std::multimap<std::string, std::string>& headers) {
  EXPECT_THAT(headers, Contains(Pair("Strict-Transport-Security", "max-age=31536000")));
  EXPECT_THAT(headers, Contains(Pair("X-Content-Type-Options", "nosniff")));
  EXPECT_THAT(headers, Contains(Pair("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")));
  EXPECT_THAT(headers, Contains(Pair("Referrer-Policy", "no-referrer")));
  EXPECT_EQ(headers.count("Strict-Transport-Security"), 1u);
  EXPECT_EQ(headers.count("Content-Security-Policy"), 1u);
}

TEST(ResponseHeaders, JsonGetsSecurityHeadersAndNoStore) {
  const auto headers = headers_of(json_response(200, "{}"));
  expect_security_headers(headers);
  EXPECT_THAT(headers, Contains(Pair("Content-Type", "application/json")));
  EXPECT_THAT(headers, Contains(Pair("Cache-Control", "no-store")));
}

TEST(ResponseHeaders, ErrorsAndOtherTypesGetSecurityHeadersToo) {
  expect_security_headers(headers_of(error_response(404, "not_found", "x")));
  Response text;
  text.content_type = "text/plain";
  const auto headers = headers_of(text);
  expect_security_headers(headers);
  EXPECT_EQ(headers.count("Cache-Control"), 0u) << "no-store is for JSON";
  EXPECT_THAT(headers_of(Response{200, "application/json; charset=utf-8", {}, "", std::nullopt}),
              Contains(Pair("Cache-Control", "no-store")));
}

TEST(ResponseHeaders, HandlerHeadersCannotOverrideOrInject) {
  Response response = json_response(200, "{}");
  response.headers = {{"content-security-policy", "default-src *"},
                      {"Cache-Control", "max-age=3600"},
                      {"Content-Length", "0"},
                      {"Connection", "keep-alive"},
                      {"X-Evil", "a\r\nSet-Cookie: x=y"},
                      {"X-Bad\nName", "v"},
                      {"Location", "/next"}};
  const auto headers = headers_of(response);
  expect_security_headers(headers);
  EXPECT_THAT(headers, Not(Contains(Pair("content-security-policy", "default-src *"))));
  EXPECT_THAT(headers, Not(Contains(Pair("Cache-Control", "max-age=3600"))));
  EXPECT_EQ(headers.count("Content-Length"), 0u);
  EXPECT_EQ(headers.count("Connection"), 0u);
  EXPECT_EQ(headers.count("X-Evil"), 0u);
  EXPECT_EQ(headers.count("X-Bad\nName"), 0u);
  EXPECT_THAT(headers, Contains(Pair("Location", "/next")));
}

TEST(ErrorResponse, HasTheStableShape) {
  const Response response = error_response(400, "bad_request", "quote \" and \\ and \x01");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, R"({"error":{"code":"bad_request","message":"quote \" and \\ and \u0001"}})");
}

TEST(IsJsonMediaType, AcceptsParametersAndAnyCaseOnly) {
  EXPECT_TRUE(is_json_media_type("application/json"));
  EXPECT_TRUE(is_json_media_type("Application/JSON; charset=utf-8"));
  EXPECT_TRUE(is_json_media_type("application/json ;charset=utf-8"));
  EXPECT_FALSE(is_json_media_type("application/x-www-form-urlencoded"));
  EXPECT_FALSE(is_json_media_type("text/plain"));
  EXPECT_FALSE(is_json_media_type("application/jsonp"));
  EXPECT_FALSE(is_json_media_type(""));
}

}  // namespace
}  // namespace kelvin::http
