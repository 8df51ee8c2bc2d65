#include "kelvin/gateway/session_guard.hpp"

#include "kelvin/crypto/digest.hpp"
#include "kelvin/http/response_headers.hpp"
#include "kelvin/log/log.hpp"

namespace kelvin::gateway {

namespace {

bool changes_state(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

http::Response unavailable(const Error& error) {
  log::component("https").error("the accounts database failed: {}", error.message);
  http::Response response = http::error_response(503, "unavailable", "the gateway cannot check sessions now");
  response.headers.emplace_back("Retry-After", "5");
  return response;
}

}  // namespace

std::optional<std::string_view> session_cookie(const http::Request& request) {
  for (const auto& [name, value] : request.headers) {
    if (!http::field_name_equals(name, "Cookie")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto end = rest.find(';');
      const std::string_view pair = trim(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      const auto equals = pair.find('=');
      if (equals != std::string_view::npos && pair.substr(0, equals) == kSessionCookie) {
        return pair.substr(equals + 1);
      }
    }
  }
  return std::nullopt;
}

std::string session_cookie_header(std::string_view token) {
  return std::string(kSessionCookie) + "=" + std::string(token) + "; Path=/; Secure; HttpOnly; SameSite=Strict";
}

std::string cleared_session_cookie_header() {
  return std::string(kSessionCookie) + "=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict";
}

std::variant<accounts::SessionView, http::Response> SessionGuard::check_session(const http::Request& request) const {
  if (request.client_common_name) {
    return http::error_response(403, "device_not_allowed",
                                "a connection with a client certificate is a device's: devices use only the device "
                                "routes (telemetry, status)");
  }
  const auto token = session_cookie(request);
  if (!token || token->empty())
    return http::error_response(401, "not_signed_in", "sign in first (POST /api/v1/session)");
  auto session = accounts_.session(*token);
  if (!session) return unavailable(session.error());
  if (!*session) {
    http::Response response = http::error_response(401, "session_expired", "the session has ended: sign in again");
    response.headers.emplace_back("Set-Cookie", cleared_session_cookie_header());
    return response;
  }
  if (changes_state(request.method)) {
    const auto csrf = request.header(kCsrfHeader);
    if (!csrf || !crypto::constant_time_equal(*csrf, (*session)->csrf_token)) {
      return http::error_response(403, "csrf_token_invalid",
                                  "a request that changes something must carry the session's CSRF token in " +
                                      std::string(kCsrfHeader) + " (GET /api/v1/session gives it)");
    }
  }
  return std::move(**session);
}

http::Handler SessionGuard::signed_in(SessionHandler handler) const {
  return [this, handler = std::move(handler)](http::Request request, http::Responder respond) {
    auto checked = check_session(request);
    if (auto* refusal = std::get_if<http::Response>(&checked)) {
      respond(std::move(*refusal));
      return;
    }
    handler(std::get<accounts::SessionView>(std::move(checked)), std::move(request), std::move(respond));
  };
}

std::variant<Principal, http::Response> SessionGuard::check_user(Role minimum, const http::Request& request) const {
  auto checked = check_session(request);
  if (auto* refusal = std::get_if<http::Response>(&checked)) return std::move(*refusal);
  auto session = std::get<accounts::SessionView>(std::move(checked));
  if (session.must_enrol_second_factor) {
    return http::error_response(403, "second_factor_enrolment_required",
                                "this installation requires a second factor: enrol one first "
                                "(POST /api/v1/session/totp)");
  }
  if (session.role < minimum) {
    const std::string route = request.method + " " + request.path;
    if (auto logged = accounts_.audit(
            {session.user, request.peer_address}, "permission_denied", route, "denied",
            "role " + std::string(to_string(session.role)) + ", needs " + std::string(to_string(minimum)));
        !logged) {
      log::component("https").error("cannot write the audit log: {}", logged.error().message);
    }
    return http::error_response(
        403, "forbidden",
        "this needs the " + std::string(to_string(minimum)) + " role; you are " + std::string(to_string(session.role)));
  }
  return Principal{session.user, session.role, session.session_id};
}

std::optional<http::Response> SessionGuard::refusal(Role minimum, const http::Request& head) const {
  auto checked = check_user(minimum, head);
  if (auto* refused = std::get_if<http::Response>(&checked)) return std::move(*refused);
  return std::nullopt;
}

http::Handler SessionGuard::user(Role minimum, UserHandler handler) const {
  return [this, minimum, handler = std::move(handler)](http::Request request, http::Responder respond) {
    auto checked = check_user(minimum, request);
    if (auto* refused = std::get_if<http::Response>(&checked)) {
      respond(std::move(*refused));
      return;
    }
    handler(std::get<Principal>(std::move(checked)), std::move(request), std::move(respond));
  };
}

}  // namespace kelvin::gateway
