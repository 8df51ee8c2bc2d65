#pragma once
// Dispatch by method and path pattern. Patterns are '/'-separated segments, each a literal or a
// "{name}" matching any one non-empty segment: "/api/v1/devices/{id}". Matching compares the
// request's decoded segments (parse_target), so "/api/v1/devices/a%2Db" reaches {id} = "a-b".

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

  // Answers through the matching route's handler with request.path_params filled in; 404
  // "not_found" when no pattern matches the path, 405 "method_not_allowed" with an Allow header
  // (the methods of every matching pattern) when patterns match but not with this method.
  // Exceptions from the handler propagate (the server catches them).
  void handle(Request request, Responder responder) const;

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
  };
  static bool matches(const Route& route, const std::vector<std::string>& segments);

  std::vector<Route> routes_;
};

}  // namespace kelvin::http
