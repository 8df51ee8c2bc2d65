// Router: matching by method and pattern, {param} values, 404 and 405 with Allow, error bodies.

#include "kelvin/http/router.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

#include "kelvin/http/target.hpp"

namespace kelvin::http {
namespace {

using ::testing::HasSubstr;

Request request(std::string method, std::string_view target) {
  Request r;
  r.method = std::move(method);
  r.target = std::string(target);
  auto parsed = parse_target(target);
  EXPECT_TRUE(parsed.ok()) << target;
  if (parsed.ok()) {
    r.path = parsed->path;
    r.segments = parsed->segments;
    r.query = parsed->query;
  }
  return r;
}

// Routes `r` and returns what was answered (the router answers synchronously here).
Response route(const Router& router, Request r) {
  std::optional<Response> answer;
  router.handle(std::move(r), Responder([&answer](Response response) { answer = std::move(response); }));
  EXPECT_TRUE(answer.has_value());
  return answer.value_or(Response{});
}

std::string error_code_of(const Response& response) {
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (json.is_discarded() || !json.contains("error")) return "<not an error body: " + response.body + ">";
  EXPECT_TRUE(json["error"]["message"].is_string()) << response.body;
  return json["error"]["code"].get<std::string>();
}

Handler answer_with(std::string body) {
  return [body = std::move(body)](const Request& r, Responder respond) {
    std::string text = body;
    for (const auto& [name, value] : r.path_params) text += " " + name + "=" + value;
    respond(json_response(200, "\"" + text + "\""));
  };
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.get("/api/v1/health", answer_with("health"));
    router_.get("/api/v1/devices/{id}", answer_with("device"));
    router_.add("DELETE", "/api/v1/devices/{id}", answer_with("delete"));
    router_.get("/api/v1/devices/{id}/series/{quantity}", answer_with("series"));
  }
  Router router_;
};

TEST_F(RouterTest, ExactPathAndMethodReachTheirHandler) {
  const Response response = route(router_, request("GET", "/api/v1/health"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "\"health\"");
}

TEST_F(RouterTest, ParametersAreFilledWithDecodedSegments) {
  EXPECT_EQ(route(router_, request("GET", "/api/v1/devices/sensor-01")).body, "\"device id=sensor-01\"");
  EXPECT_EQ(route(router_, request("GET", "/api/v1/devices/a%2Db/series/temperature")).body,
            "\"series id=a-b quantity=temperature\"");
  EXPECT_EQ(route(router_, request("DELETE", "/api/v1/devices/x")).body, "\"delete id=x\"");
}

TEST_F(RouterTest, ABodyGoesWhereItsRoutesAdmissionSaysWithTheRoutesParameters) {
  router_.add("PUT", "/api/v1/devices/{id}/upload", answer_with("upload"), [](const Request& head) -> BodyAdmission {
    if (head.param("id") == "refused") return error_response(403, "refused", "not this one");
    return BodyToFile{"/uploads/" + std::string(head.param("id")), 42, std::chrono::milliseconds(7)};
  });
  const BodyAdmission upload = router_.admit_body(request("PUT", "/api/v1/devices/d%2D1/upload"));
  ASSERT_TRUE(std::holds_alternative<BodyToFile>(upload));
  EXPECT_EQ(std::get<BodyToFile>(upload).directory, "/uploads/d-1");
  EXPECT_EQ(std::get<BodyToFile>(upload).max_bytes, 42u);
  const BodyAdmission refused = router_.admit_body(request("PUT", "/api/v1/devices/refused/upload"));
  ASSERT_TRUE(std::holds_alternative<Response>(refused));
  EXPECT_EQ(std::get<Response>(refused).status, 403);
  // Routes without an admission, other methods on the path and unknown paths: in memory, and
  // the handler (or the 404/405) answers as before.
  EXPECT_TRUE(std::holds_alternative<BodyInMemory>(router_.admit_body(request("DELETE", "/api/v1/devices/x"))));
  EXPECT_TRUE(std::holds_alternative<BodyInMemory>(router_.admit_body(request("POST", "/api/v1/devices/x/upload"))));
  EXPECT_TRUE(std::holds_alternative<BodyInMemory>(router_.admit_body(request("PUT", "/nowhere"))));
  EXPECT_EQ(route(router_, request("PUT", "/api/v1/devices/x/upload")).body, "\"upload id=x\"");
  EXPECT_EQ(route(router_, request("POST", "/api/v1/devices/x/upload")).status, 405);
}

// Each route counts its answers by status class, a dropped Responder's 500 included; requests no
// route takes are counted apart.
TEST_F(RouterTest, EachRouteCountsItsAnswersByStatusClass) {
  router_.get("/api/v1/forgets", [](const Request&, Responder) {});  // answers nothing: 500
  route(router_, request("GET", "/api/v1/devices/a"));
  route(router_, request("GET", "/api/v1/devices/b"));
  route(router_, request("DELETE", "/api/v1/devices/a"));
  route(router_, request("GET", "/api/v1/forgets"));
  route(router_, request("GET", "/nowhere"));
  route(router_, request("PUT", "/api/v1/devices/a"));
  std::map<std::string, std::array<std::uint64_t, 6>> by_route;
  for (const auto& use : router_.route_uses()) by_route[use.method + " " + use.pattern] = use.responses;
  EXPECT_EQ(by_route["GET /api/v1/devices/{id}"], (std::array<std::uint64_t, 6>{0, 0, 2, 0, 0, 0}));
  EXPECT_EQ(by_route["DELETE /api/v1/devices/{id}"], (std::array<std::uint64_t, 6>{0, 0, 1, 0, 0, 0}));
  EXPECT_EQ(by_route["GET /api/v1/forgets"], (std::array<std::uint64_t, 6>{0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(by_route["GET /api/v1/health"], (std::array<std::uint64_t, 6>{}));
  EXPECT_EQ(router_.unrouted(), 2u) << "the 404 and the 405";
}

TEST_F(RouterTest, UnknownPathIs404NotFound) {
  for (const char* target : {"/", "/api", "/api/v1", "/api/v1/health/", "/api/v1/healthz", "/API/v1/health",
                             "/api/v1/devices", "/api/v1/devices/", "/api/v1/devices/x/series"}) {
    SCOPED_TRACE(target);
    const Response response = route(router_, request("GET", target));
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(error_code_of(response), "not_found");
    EXPECT_EQ(response.content_type, "application/json");
  }
}

TEST_F(RouterTest, KnownPathWithAnotherMethodIs405WithAllow) {
  const Response health = route(router_, request("POST", "/api/v1/health"));
  EXPECT_EQ(health.status, 405);
  EXPECT_EQ(error_code_of(health), "method_not_allowed");
  ASSERT_EQ(health.headers.size(), 1u);
  EXPECT_EQ(health.headers[0].first, "Allow");
  EXPECT_EQ(health.headers[0].second, "GET, HEAD") << "the server answers HEAD as GET";

  const Response device = route(router_, request("PUT", "/api/v1/devices/sensor-01"));
  EXPECT_EQ(device.status, 405);
  ASSERT_EQ(device.headers.size(), 1u);
  EXPECT_EQ(device.headers[0].second, "DELETE, GET, HEAD");
  EXPECT_THAT(nlohmann::json::parse(device.body)["error"]["message"].get<std::string>(), HasSubstr("PUT"));
}

TEST_F(RouterTest, MethodsAreCaseSensitive) {
  EXPECT_EQ(route(router_, request("get", "/api/v1/health")).status, 405);
}

TEST_F(RouterTest, AHandlerThatDropsItsResponderAnswers500) {
  router_.get("/dropped", [](const Request&, Responder) {});
  const Response response = route(router_, request("GET", "/dropped"));
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(error_code_of(response), "internal");
}

TEST_F(RouterTest, AHandlerThatThrowsPropagatesAndItsResponderAnswers500) {
  router_.get("/throws", [](const Request&, Responder) { throw std::runtime_error("boom"); });
  std::optional<Response> answer;
  EXPECT_THROW(router_.handle(request("GET", "/throws"), Responder([&](Response r) { answer = std::move(r); })),
               std::runtime_error);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 500);
}

// The GET fallback (how the gateway serves the dashboard's files beside the API) takes only GETs
// whose path no pattern matches: the API's 404 for other methods and its 405s are unchanged.
TEST_F(RouterTest, TheGetFallbackTakesOnlyGetsNoPatternMatches) {
  router_.fallback_get([](const Request& r, Responder respond) {
    EXPECT_TRUE(r.path_params.empty());
    respond(json_response(200, "\"fallback " + r.path + "\""));
  });
  for (const char* target : {"/", "/index.html", "/assets/app-1234.js", "/api/v1/devices", "/api/v1/nothing"}) {
    SCOPED_TRACE(target);
    EXPECT_EQ(route(router_, request("GET", target)).body, "\"fallback " + std::string(target) + "\"");
  }
  // Routes still win, whatever the order they were added in.
  router_.get("/later", answer_with("later"));
  EXPECT_EQ(route(router_, request("GET", "/later")).body, "\"later\"");
  EXPECT_EQ(route(router_, request("GET", "/api/v1/devices/x")).body, "\"device id=x\"");
  // Another method on a path no pattern matches: 404 as without a fallback.
  const Response post = route(router_, request("POST", "/index.html"));
  EXPECT_EQ(post.status, 404);
  EXPECT_EQ(error_code_of(post), "not_found");
  // A path a pattern matches with other methods: 405, not the fallback.
  const Response health = route(router_, request("POST", "/api/v1/health"));
  EXPECT_EQ(health.status, 405);
  const Response lower_get = route(router_, request("get", "/index.html"));
  EXPECT_EQ(lower_get.status, 404) << "methods are case-sensitive: only GET reaches the fallback";
}

TEST(RouterPatterns, AFallbackIsSetOnceWithAHandler) {
  Router router;
  EXPECT_THROW(router.fallback_get(Handler()), std::invalid_argument);
  router.fallback_get([](const Request&, Responder respond) { respond(json_response(200, "{}")); });
  EXPECT_THROW(router.fallback_get([](const Request&, Responder respond) { respond(json_response(200, "{}")); }),
               std::invalid_argument);
}

TEST(RouterPatterns, MalformedOrDuplicateRoutesAreRefusedAtStart) {
  Router router;
  auto handler = [](const Request&, Responder respond) { respond(json_response(200, "{}")); };
  EXPECT_THROW(router.get("api", handler), std::invalid_argument);
  EXPECT_THROW(router.get("/a//b", handler), std::invalid_argument);
  EXPECT_THROW(router.get("/a/../b", handler), std::invalid_argument);
  EXPECT_THROW(router.get("/a/{id", handler), std::invalid_argument);
  EXPECT_THROW(router.get("/a/{}", handler), std::invalid_argument);
  EXPECT_THROW(router.get("/a/", handler), std::invalid_argument);
  EXPECT_THROW(router.add("get", "/a", handler), std::invalid_argument);
  router.get("/a/{id}", handler);
  EXPECT_THROW(router.get("/a/{id}", handler), std::invalid_argument);
}

}  // namespace
}  // namespace kelvin::http
