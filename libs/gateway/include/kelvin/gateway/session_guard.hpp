#pragma once
// The RouteGuard of people's sessions (access.hpp; docs/api.md, "Accounts and sessions"): the
// session is the `__Host-kelvin-session` cookie, looked up in the accounts database on every
// request (a user removed or a password changed with kelvinctl takes effect at once).
//
// A guarded handler is reached only when, in this order:
//   1. the connection has no client certificate      else 403 device_not_allowed
//   2. the request carries a session cookie          else 401 not_signed_in
//   3. the session exists and has not timed out      else 401 session_expired (cookie cleared)
//   4. a state-changing method (not GET/HEAD/OPTIONS) carries the session's CSRF token in
//      X-CSRF-Token                                   else 403 csrf_token_invalid
//   5. the user has a second factor, or the installation does not require one, or the route is
//      one that enrols it (signed_in())               else 403 second_factor_enrolment_required
//   6. the user's role is at least the route's       else 403 forbidden (audited)
// A failure of the accounts database answers 503 unavailable.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "kelvin/accounts/accounts.hpp"
#include "kelvin/gateway/access.hpp"

namespace kelvin::gateway {

inline constexpr std::string_view kSessionCookie = "__Host-kelvin-session";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

// The session cookie's value in a Cookie header ("a=1; __Host-kelvin-session=…"), if present.
std::optional<std::string_view> session_cookie(const http::Request& request);
// Set-Cookie values: the session for `token` (no Max-Age: it ends with the browser; the server
// enforces its timeouts), and the one that clears it.
std::string session_cookie_header(std::string_view token);
std::string cleared_session_cookie_header();

using SessionHandler = std::function<void(accounts::SessionView, http::Request, http::Responder)>;

class SessionGuard final : public RouteGuard {
 public:
  // `accounts` must outlive the guard and every handler it makes.
  explicit SessionGuard(accounts::Accounts& accounts) : accounts_(accounts) {}

  http::Handler user(Role minimum, UserHandler handler) const override;
  std::optional<http::Response> refusal(Role minimum, const http::Request& head) const override;
  // Checks 1–4 only, and hands over the whole session: for the routes about one's own session and
  // account (who am I, sign out, change password, enrol a second factor), which a session that
  // still has to enrol a second factor may use.
  http::Handler signed_in(SessionHandler handler) const;

 private:
  // The session, or the answer that refuses the request (checks 1–4).
  std::variant<accounts::SessionView, http::Response> check_session(const http::Request& request) const;
  // The principal, or the answer that refuses the request (checks 1–6; a role too low is audited).
  std::variant<Principal, http::Response> check_user(Role minimum, const http::Request& request) const;

  accounts::Accounts& accounts_;
};

}  // namespace kelvin::gateway
