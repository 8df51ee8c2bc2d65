#pragma once
// For testing routes on their own, through an http::Router without a server: fake RouteGuards (the
// real one, SessionGuard, and the role each route asks for are walked by route_access_test), a
// request built from a target, and waiting for the answer from whichever thread gives it.

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "kelvin/gateway/access.hpp"
#include "kelvin/http/router.hpp"
#include "kelvin/http/target.hpp"

namespace kelvin::gateway::fakes {

// Admits every request as `principal`, and remembers the minimum role of each route it guards.
class AdmittingGuard final : public RouteGuard {
 public:
  explicit AdmittingGuard(Principal principal = {"vera", Role::viewer, "session-1"})
      : principal_(std::move(principal)) {}

  http::Handler user(Role minimum, UserHandler handler) const override {
    minimums.push_back(minimum);
    return [principal = principal_, handler = std::move(handler)](http::Request request, http::Responder respond) {
      handler(principal, std::move(request), std::move(respond));
    };
  }
  std::optional<http::Response> refusal(Role, const http::Request&) const override { return std::nullopt; }
  mutable std::vector<Role> minimums;

 private:
  Principal principal_;
};

// Refuses every request, as the real guard does without a session; keeps the handler and never
// calls it.
class RefusingGuard final : public RouteGuard {
 public:
  http::Handler user(Role, UserHandler handler) const override {
    handlers.push_back(std::move(handler));
    return [](http::Request, http::Responder respond) {
      respond(http::error_response(401, "not_signed_in", "the fake guard refuses"));
    };
  }
  std::optional<http::Response> refusal(Role, const http::Request&) const override {
    return http::error_response(401, "not_signed_in", "the fake guard refuses");
  }
  mutable std::vector<UserHandler> handlers;
};

// `method target` as the server would hand it over, from the address `peer`, with `body`.
inline http::Request route_request(const std::string& method, const std::string& target, std::string body = "",
                                   std::string peer = "192.0.2.7") {
  auto parsed = http::parse_target(target);
  EXPECT_TRUE(parsed.ok()) << target;
  http::Request request;
  request.method = method;
  request.target = target;
  request.peer_address = std::move(peer);
  request.body = std::move(body);
  if (parsed) {
    request.path = parsed->path;
    request.segments = parsed->segments;
    request.query = parsed->query;
  }
  return request;
}

// The response the router gives, from whichever thread answers; a 599 if none comes in 30 s.
inline http::Response route_call(const http::Router& router, http::Request request) {
  const std::string what = request.method + " " + request.target;
  auto answer = std::make_shared<std::promise<http::Response>>();
  auto future = answer->get_future();
  router.handle(std::move(request),
                http::Responder([answer](http::Response response) { answer->set_value(std::move(response)); }));
  if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    ADD_FAILURE() << "no answer to " << what;
    return http::error_response(599, "no_answer", "");
  }
  return future.get();
}

inline nlohmann::json body_of(const http::Response& response) {
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  EXPECT_FALSE(parsed.is_discarded()) << response.body;
  return parsed;
}

// The "code" of a JSON error answer.
inline std::string error_code(const http::Response& response) {
  return body_of(response)["error"]["code"].get<std::string>();
}

}  // namespace kelvin::gateway::fakes
