#pragma once
// Dispatch by method and path pattern. Patterns are '/'-separated segments, each a literal or a
// "{name}" matching any one non-empty segment: "/api/v1/devices/{id}". Matching compares the
// request's decoded segments (parse_target), so "/api/v1/devices/a%2Db" reaches {id} = "a-b".

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/http/message.hpp"

namespace kelvin::http {

class Router {
 public:
  // Adds a route. Routes are tried in the order added; the first whose pattern matches and whose
  // method equals the request's wins. Throws std::invalid_argument for a pattern that does not
  // start with '/', has an empty, "." or ".." segment or a malformed "{...}", and for a method and
  // pattern added twice: mistakes in the program, found when it starts.
  Router& add(std::string method, std::string_view pattern, Handler handler);
  Router& get(std::string_view pattern, Handler handler) { return add("GET", pattern, std::move(handler)); }
  // A route whose requests' bodies `admit` places (message.hpp, BodyAdmission): an upload.
  Router& add(std::string method, std::string_view pattern, Handler handler, AdmitBody admit);

  // Where the body of a request with this head goes (for ServerOptions::admit_body): the
  // matching route's AdmitBody, called with path_params filled in; BodyInMemory for a route
  // without one and for a request no route takes (the handler answers those as usual).
  BodyAdmission admit_body(const Request& head) const;

  // The handler for a GET whose path no route's pattern matches, in place of the 404: how the
  // gateway serves the dashboard's files (kelvin/gateway/static_files.hpp) beside the API without
  // a wildcard pattern. Only for GET and only when no pattern matches the path at all, so a path a
  // route has with other methods is still answered 405, and other methods still 404. It sees the
  // request as routes do, with no path_params; it answers for every path (its own 404s included).
  // Throws std::invalid_argument for an empty handler, and when one is set already.
  Router& fallback_get(Handler handler);

  // Answers through the matching route's handler with request.path_params filled in; 404
  // "not_found" when no pattern matches the path (a GET goes to the fallback_get handler instead,
  // when there is one), 405 "method_not_allowed" with an Allow header (the methods of every
  // matching pattern, and HEAD with GET: the server answers HEAD as GET) when patterns match but
  // not with this method.
  // Exceptions from the handler propagate (the server catches them).
  void handle(Request request, Responder responder) const;

  struct RouteName {
    std::string method;
    std::string pattern;
  };
  // Every route added, in order: for tests that must cover all of them.
  std::vector<RouteName> routes() const;

  // How a route was answered since it was added: responses by status class (index 1 for 1xx …
  // 5 for 5xx; 0 is unused). `unrouted` counts requests no route took (404, 405; the fallback's
  // answers are not counted).
  struct RouteUse {
    std::string method;
    std::string pattern;
    std::array<std::uint64_t, 6> responses{};
  };
  std::vector<RouteUse> route_uses() const;
  std::uint64_t unrouted() const noexcept { return unrouted_->load(); }

 private:
  struct Segment {
    std::string text;  // the literal, or the parameter's name
    bool parameter = false;
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
    AdmitBody admit;  // empty: bodies in memory
    // Shared with the answers' observers, which may outlive a move of routes_.
    std::shared_ptr<std::array<std::atomic<std::uint64_t>, 6>> responses =
        std::make_shared<std::array<std::atomic<std::uint64_t>, 6>>();
  };
  // The first route for this method whose pattern matches these segments; nullptr when none.
  const Route* find(const std::string& method, const std::vector<std::string>& segments) const;
  // `request`'s path_params: the values of `route`'s {param} segments.
  static void fill_params(const Route& route, Request& request);
  static bool matches(const Route& route, const std::vector<std::string>& segments);

  std::vector<Route> routes_;
  Handler get_fallback_;  // empty: none
  std::shared_ptr<std::atomic<std::uint64_t>> unrouted_ = std::make_shared<std::atomic<std::uint64_t>>(0);
};

}  // namespace kelvin::http
