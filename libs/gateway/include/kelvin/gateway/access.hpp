#pragma once
// Who may call which HTTPS route (docs/api.md, "Access"). Three kinds of route:
//   public   answered to anyone who completed the TLS handshake (health, login);
//   device   a connection with a verified device client certificate (telemetry, status);
//   user     a browser or API session with at least a role; state-changing methods also need the
//            session's CSRF token. A request with a client certificate is never a user's:
//            devices cannot use the user API, and sessions cannot post telemetry.
// Routes declare their kind where they are added; the RouteGuard enforces it before the handler
// runs, so a handler never sees a request it was not meant for.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "kelvin/accounts/role.hpp"
#include "kelvin/http/message.hpp"

namespace kelvin::gateway {

using accounts::parse_role;
using accounts::Role;
using accounts::to_string;

// The signed-in user a handler acts for.
struct Principal {
  std::string user;
  Role role = Role::viewer;
  std::string session_id;  // the server-side session's id (never its cookie secret)
};

using UserHandler = std::function<void(Principal, http::Request, http::Responder)>;

class RouteGuard {
 public:
  virtual ~RouteGuard() = default;
  // A handler that answers 401 (no valid session), 403 (a role below `minimum`, a client
  // certificate, or a state-changing request without the session's CSRF token) and otherwise
  // calls `handler` with the session's principal.
  virtual http::Handler user(Role minimum, UserHandler handler) const = 0;
  // The answer user(minimum, …) would refuse a request with this head with, or nullopt when it
  // would let it through: for refusing an upload before its body is read (http::AdmitBody). The
  // handler's own check still runs once the body is in.
  virtual std::optional<http::Response> refusal(Role minimum, const http::Request& head) const = 0;
};

}  // namespace kelvin::gateway
