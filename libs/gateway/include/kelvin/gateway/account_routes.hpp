#pragma once
// The HTTPS routes of people's accounts (docs/api.md, "Accounts and sessions"):
//
//   POST   /api/v1/session                       public: sign in {"user","password","code"?}
//   GET    /api/v1/session                       signed in: who am I, and the CSRF token
//   DELETE /api/v1/session                       signed in: sign out
//   POST   /api/v1/session/password              signed in: {"current","new"}
//   POST   /api/v1/session/totp                  signed in: begin enrolling a second factor
//   POST   /api/v1/session/totp/confirm          signed in: {"code"} → recovery codes, once
//   GET    /api/v1/users                         admin
//   POST   /api/v1/users                         admin: {"name","role"} → generated password, once
//   PUT    /api/v1/users/{name}/role             admin: {"role"}
//   DELETE /api/v1/users/{name}                  admin
//   POST   /api/v1/users/{name}/password         admin: a new generated password, once
//   DELETE /api/v1/users/{name}/second-factor    admin: remove the user's second factor
//   GET    /api/v1/audit?after=ID&limit=N        admin: the audit log, oldest first
//   GET    /api/v1/settings/security             admin: {"require_second_factor":bool}
//   PUT    /api/v1/settings/security             admin
//
// Requests with a body take application/json only (415 otherwise): a cross-site form cannot send
// it, which is also what protects the sign-in, the one state-changing route without a session.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>

#include "kelvin/accounts/accounts.hpp"
#include "kelvin/gateway/blocking_answer.hpp"
#include "kelvin/gateway/session_guard.hpp"
#include "kelvin/http/router.hpp"

namespace kelvin::gateway {

// How sign-ins (POST /api/v1/session) ended, for the gateway's metrics: thread-safe counters.
struct SignInCounters {
  std::atomic<std::uint64_t> signed_in{0};
  // By accounts::SignInRefusal (bad_credentials, second_factor_required, bad_second_factor,
  // too_many_attempts).
  std::array<std::atomic<std::uint64_t>, 4> refused{};
};

// `accounts`, `guard` and `sign_ins` must outlive the router's use. `run_blocking` takes the
// password checks (Argon2id: 0.1–0.5 s and 64 MiB each).
void add_account_routes(http::Router& router, const SessionGuard& guard, accounts::Accounts& accounts,
                        BlockingExecutor run_blocking, SignInCounters& sign_ins);

}  // namespace kelvin::gateway
