#pragma once
// RouteGuards for testing routes on their own: the real one (SessionGuard) and the role each route
// asks for are walked by route_access_test.

#include <utility>
#include <vector>

#include "kelvin/gateway/access.hpp"

namespace kelvin::gateway::fakes {

// Admits every request as `principal`, and remembers the minimum role of each route it guards.
class AdmittingGuard final : public RouteGuard {
 public:
  explicit AdmittingGuard(Principal principal = {"vera", Role::viewer, "session-1"}) : principal_(std::move(principal)) {}

  http::Handler user(Role minimum, UserHandler handler) const override {
    minimums.push_back(minimum);
    return [principal = principal_, handler = std::move(handler)](http::Request request, http::Responder respond) {
      handler(principal, std::move(request), std::move(respond));
    };
  }
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
  mutable std::vector<UserHandler> handlers;
};

}  // namespace kelvin::gateway::fakes
