#include "kelvin/http/router.hpp"

#include <algorithm>
#include <stdexcept>

namespace kelvin::http {

namespace {

bool is_method_token(std::string_view method) {
  return !method.empty() && std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

}  // namespace

Router& Router::add(std::string method, std::string_view pattern, Handler handler) {
  return add(std::move(method), pattern, std::move(handler), nullptr);
}

Router& Router::add(std::string method, std::string_view pattern, Handler handler, AdmitBody admit) {
  const std::string where = method + " " + std::string(pattern);
  if (!is_method_token(method)) throw std::invalid_argument("route " + where + ": the method must be upper-case");
  if (pattern.empty() || pattern.front() != '/')
    throw std::invalid_argument("route " + where + ": must start with '/'");
  if (!handler) throw std::invalid_argument("route " + where + ": no handler");
  Route route{method, std::string(pattern), {}, std::move(handler), std::move(admit)};
  std::string_view rest = pattern.substr(1);
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view text = rest.substr(0, slash);
    if (text.empty() || text == "." || text == "..") {
      throw std::invalid_argument("route " + where + ": empty or dot segment");
    }
    const bool opens = text.front() == '{';
    const bool closes = text.back() == '}';
    if (opens != closes || (opens && text.size() < 3) ||
        text.substr(opens ? 1 : 0, text.size() - (opens ? 2 : 0)).find_first_of("{}") != std::string_view::npos) {
      throw std::invalid_argument("route " + where + ": malformed parameter segment '" + std::string(text) + "'");
    }
    route.segments.push_back(opens ? Segment{std::string(text.substr(1, text.size() - 2)), true}
                                   : Segment{std::string(text), false});
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
    if (rest.empty()) throw std::invalid_argument("route " + where + ": trailing '/'");
  }
  for (const Route& existing : routes_) {
    if (existing.method == route.method && existing.pattern == route.pattern) {
      throw std::invalid_argument("route " + where + " added twice");
    }
  }
  routes_.push_back(std::move(route));
  return *this;
}

Router& Router::fallback_get(Handler handler) {
  if (!handler) throw std::invalid_argument("fallback_get: no handler");
  if (get_fallback_) throw std::invalid_argument("fallback_get: set twice");
  get_fallback_ = std::move(handler);
  return *this;
}

bool Router::matches(const Route& route, const std::vector<std::string>& segments) {
  if (route.segments.size() != segments.size()) return false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const Segment& expected = route.segments[i];
    if (expected.parameter ? segments[i].empty() : segments[i] != expected.text) return false;
  }
  return true;
}

const Router::Route* Router::find(const std::string& method, const std::vector<std::string>& segments) const {
  for (const Route& route : routes_) {
    if (route.method == method && matches(route, segments)) return &route;
  }
  return nullptr;
}

void Router::fill_params(const Route& route, Request& request) {
  request.path_params.clear();
  for (std::size_t i = 0; i < route.segments.size(); ++i) {
    if (route.segments[i].parameter) request.path_params[route.segments[i].text] = request.segments[i];
  }
}

BodyAdmission Router::admit_body(const Request& head) const {
  // Most requests have no admission of their own: the head is copied (for its path_params) only
  // for a route that has one.
  const Route* route = find(head.method, head.segments);
  if (route == nullptr || !route->admit) return BodyInMemory{};
  Request with_params = head;
  fill_params(*route, with_params);
  return route->admit(with_params);
}

void Router::handle(Request request, Responder responder) const {
  if (const Route* route = find(request.method, request.segments)) {
    fill_params(*route, request);
    responder.observe([responses = route->responses](int status) {
      if (status >= 100 && status < 600) ++(*responses)[static_cast<std::size_t>(status / 100)];
    });
    route->handler(std::move(request), std::move(responder));
    return;
  }
  std::vector<std::string> allowed;
  for (const Route& route : routes_) {
    if (matches(route, request.segments) && std::find(allowed.begin(), allowed.end(), route.method) == allowed.end()) {
      allowed.push_back(route.method);
    }
  }
  if (allowed.empty() && get_fallback_ && request.method == "GET") {
    request.path_params.clear();
    get_fallback_(std::move(request), std::move(responder));
    return;
  }
  ++*unrouted_;
  if (allowed.empty()) {
    responder(error_response(404, "not_found", "no such resource: " + request.path));
    return;
  }
  // The server answers HEAD wherever GET is routed (server.cpp).
  if (std::find(allowed.begin(), allowed.end(), "GET") != allowed.end()) allowed.push_back("HEAD");
  std::sort(allowed.begin(), allowed.end());
  std::string allow;
  for (const auto& method : allowed) allow += (allow.empty() ? "" : ", ") + method;
  Response response =
      error_response(405, "method_not_allowed", request.method + " is not allowed here; allowed: " + allow);
  response.headers.emplace_back("Allow", allow);
  responder(std::move(response));
}

std::vector<Router::RouteUse> Router::route_uses() const {
  std::vector<RouteUse> uses;
  uses.reserve(routes_.size());
  for (const auto& route : routes_) {
    RouteUse use{route.method, route.pattern, {}};
    for (std::size_t i = 0; i < use.responses.size(); ++i) use.responses[i] = (*route.responses)[i].load();
    uses.push_back(std::move(use));
  }
  return uses;
}

std::vector<Router::RouteName> Router::routes() const {
  std::vector<RouteName> names;
  names.reserve(routes_.size());
  for (const auto& route : routes_) names.push_back({route.method, route.pattern});
  return names;
}

}  // namespace kelvin::http
