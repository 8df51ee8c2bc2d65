#include "kelvin/gateway/account_routes.hpp"

#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "kelvin/accounts/audit_json.hpp"
#include "kelvin/core/time_arguments.hpp"
#include "kelvin/gateway/query_parameters.hpp"
#include "kelvin/http/response_headers.hpp"
#include "kelvin/log/log.hpp"

namespace kelvin::gateway {

namespace {

using accounts::Accounts;
using accounts::SessionView;
using nlohmann::json;

constexpr std::size_t kMaxAuditPage = 1000;

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

http::Response json_answer(int status, const json& body) {
  return http::json_response(status, dump(body));
}

// The object a request's body holds, or the answer refusing it.
std::variant<json, http::Response> json_body(const http::Request& request) {
  const auto type = request.header("Content-Type");
  if (!type || !http::is_json_media_type(*type)) {
    return http::error_response(415, "unsupported_media_type", "send the body as application/json");
  }
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return http::error_response(400, "malformed_json", "the body must be one JSON object");
  }
  return body;
}

// A string member, or nullopt when it is missing or not a string.
std::optional<std::string> string_member(const json& body, const char* name) {
  auto found = body.find(name);
  if (found == body.end() || !found->is_string()) return std::nullopt;
  return found->get<std::string>();
}

http::Response missing(std::string_view name, std::string_view what) {
  return http::error_response(400, "invalid_request",
                              "\"" + std::string(name) + "\" must be a string: " + std::string(what));
}

// The answer for a failed accounts operation. Database failures are the gateway's problem (503);
// the others are the request's.
http::Response failure(const Error& error) {
  switch (error.code) {
    case Errc::not_found:
      return http::error_response(404, "user_not_found", error.message);
    case Errc::already_exists:
      return http::error_response(409, "user_exists", error.message);
    case Errc::conflict:
      return http::error_response(409, "conflict", error.message);
    case Errc::invalid_argument:
      return http::error_response(400, "invalid_request", error.message);
    case Errc::bad_credentials:
      return http::error_response(403, "bad_credentials", error.message);
    default:
      log::component("https").error("an accounts operation failed: {}", error.message);
      http::Response response = http::error_response(503, "unavailable", "the gateway cannot do this now");
      response.headers.emplace_back("Retry-After", "5");
      return response;
  }
}

json session_json(const SessionView& session) {
  return {{"user", session.user},
          {"role", to_string(session.role)},
          {"csrf_token", session.csrf_token},
          {"expires", format_utc_ms(session.expires_ms)},
          {"expires_ms", session.expires_ms},
          {"second_factor_enrolled", session.second_factor_enrolled},
          {"must_enrol_second_factor", session.must_enrol_second_factor}};
}

json user_json(const accounts::UserView& user) {
  return {{"name", user.name},
          {"role", to_string(user.role)},
          {"second_factor_enrolled", user.second_factor_enrolled},
          {"recovery_codes_left", user.recovery_codes_left},
          {"created", format_utc_ms(user.created_ms)},
          {"created_ms", user.created_ms},
          {"password_changed", format_utc_ms(user.password_changed_ms)},
          {"password_changed_ms", user.password_changed_ms}};
}

http::Response sign_in_refused(const accounts::SignInRefused& refused) {
  using accounts::SignInRefusal;
  switch (refused.reason) {
    case SignInRefusal::bad_credentials:
      return http::error_response(401, "bad_credentials", "wrong user name or password");
    case SignInRefusal::second_factor_required:
      return http::error_response(401, "second_factor_required",
                                  "enter the code of your authenticator app (or a recovery code)");
    case SignInRefusal::bad_second_factor:
      return http::error_response(401, "bad_second_factor",
                                  "that code is wrong or was used already: wait for the next one");
    case SignInRefusal::too_many_attempts: {
      const std::int64_t seconds = (refused.retry_after_ms + 999) / 1000;
      http::Response response = http::error_response(
          429, "too_many_attempts", "too many failed sign-ins: try again in " + std::to_string(seconds) + " s");
      response.headers.emplace_back("Retry-After", std::to_string(seconds));
      return response;
    }
  }
  return http::error_response(401, "bad_credentials", "wrong user name or password");
}

accounts::Actor actor_of(const Principal& principal, const http::Request& request) {
  return {principal.user, request.peer_address};
}

// Query parameter `name` as a non-negative integer; `fallback` when absent; nullopt when malformed.
std::optional<std::int64_t> integer_parameter(const QueryParameters& parameters, std::string_view name,
                                              std::int64_t fallback) {
  auto value = parameter(parameters, name);
  if (!value) return fallback;
  return whole_number(*value);
}

void add_session_routes(http::Router& router, const SessionGuard& guard, Accounts& accounts,
                        const BlockingExecutor& run_blocking, SignInCounters& sign_ins) {
  router.add(
      "POST", "/api/v1/session", [&accounts, run_blocking, &sign_ins](http::Request request, http::Responder respond) {
        if (request.client_common_name) {
          respond(
              http::error_response(403, "device_not_allowed", "devices do not sign in: they use their certificate"));
          return;
        }
        auto body = json_body(request);
        if (auto* refusal = std::get_if<http::Response>(&body)) {
          respond(std::move(*refusal));
          return;
        }
        const json& fields = std::get<json>(body);
        auto user = string_member(fields, "user");
        auto password = string_member(fields, "password");
        if (!user) return respond(missing("user", "the user name"));
        if (!password) return respond(missing("password", "the password"));
        const std::string code = string_member(fields, "code").value_or("");
        const std::string previous(session_cookie(request).value_or(""));
        answer_blocking(run_blocking, std::move(respond),
                        [&accounts, &sign_ins, user = std::move(*user), password = std::move(*password), code, previous,
                         address = request.peer_address]() -> http::Response {
                          auto outcome = accounts.sign_in(user, password, code, address);
                          if (!outcome) return failure(outcome.error());
                          if (auto* refused = std::get_if<accounts::SignInRefused>(&*outcome)) {
                            const auto reason = static_cast<std::size_t>(refused->reason);
                            if (reason < sign_ins.refused.size()) ++sign_ins.refused[reason];
                            return sign_in_refused(*refused);
                          }
                          ++sign_ins.signed_in;
                          auto& signed_in = std::get<accounts::SignedIn>(*outcome);
                          // A new session at every sign-in; one the browser still held is ended (no fixation).
                          if (!previous.empty()) (void)accounts.sign_out(previous, {user, address});
                          http::Response response = json_answer(200, session_json(signed_in.session));
                          response.headers.emplace_back("Set-Cookie", session_cookie_header(signed_in.token));
                          return response;
                        });
      });

  router.get("/api/v1/session", guard.signed_in([](SessionView session, http::Request, http::Responder respond) {
    respond(json_answer(200, session_json(session)));
  }));

  router.add("DELETE", "/api/v1/session",
             guard.signed_in([&accounts](SessionView session, http::Request request, http::Responder respond) {
               auto token = session_cookie(request);
               if (auto ended = accounts.sign_out(token.value_or(""), {session.user, request.peer_address}); !ended) {
                 return respond(failure(ended.error()));
               }
               http::Response response = http::no_content_response();
               response.headers.emplace_back("Set-Cookie", cleared_session_cookie_header());
               respond(std::move(response));
             }));

  router.add(
      "POST", "/api/v1/session/password",
      guard.signed_in([&accounts, run_blocking](SessionView session, http::Request request, http::Responder respond) {
        auto body = json_body(request);
        if (auto* refusal = std::get_if<http::Response>(&body)) return respond(std::move(*refusal));
        auto current = string_member(std::get<json>(body), "current");
        auto replacement = string_member(std::get<json>(body), "new");
        if (!current) return respond(missing("current", "the password in use"));
        if (!replacement) return respond(missing("new", "the new password"));
        answer_blocking(run_blocking, std::move(respond),
                        [&accounts, session, current = std::move(*current), replacement = std::move(*replacement),
                         address = request.peer_address] {
                          auto changed = accounts.change_password(session, current, replacement, address);
                          return changed ? http::no_content_response() : failure(changed.error());
                        });
      }));

  router.add("POST", "/api/v1/session/totp",
             guard.signed_in([&accounts](SessionView session, http::Request request, http::Responder respond) {
               auto enrolment = accounts.begin_totp_enrolment(session, request.peer_address);
               if (!enrolment) return respond(failure(enrolment.error()));
               respond(json_answer(200, {{"secret", enrolment->secret}, {"uri", enrolment->uri}}));
             }));

  router.add("POST", "/api/v1/session/totp/confirm",
             guard.signed_in([&accounts](SessionView session, http::Request request, http::Responder respond) {
               auto body = json_body(request);
               if (auto* refusal = std::get_if<http::Response>(&body)) return respond(std::move(*refusal));
               auto code = string_member(std::get<json>(body), "code");
               if (!code) return respond(missing("code", "the code the authenticator app shows"));
               auto recovery = accounts.confirm_totp_enrolment(session, *code, request.peer_address);
               if (!recovery) return respond(failure(recovery.error()));
               respond(json_answer(200, {{"recovery_codes", *recovery}}));
             }));
}

void add_user_routes(http::Router& router, const SessionGuard& guard, Accounts& accounts,
                     const BlockingExecutor& run_blocking) {
  router.get("/api/v1/users", guard.user(Role::admin, [&accounts](Principal, http::Request, http::Responder respond) {
    auto users = accounts.users();
    if (!users) return respond(failure(users.error()));
    json list = json::array();
    for (const auto& user : *users) list.push_back(user_json(user));
    respond(json_answer(200, {{"users", std::move(list)}}));
  }));

  router.add("POST", "/api/v1/users",
             guard.user(Role::admin, [&accounts, run_blocking](Principal principal, http::Request request,
                                                               http::Responder respond) {
               auto body = json_body(request);
               if (auto* refusal = std::get_if<http::Response>(&body)) return respond(std::move(*refusal));
               auto name = string_member(std::get<json>(body), "name");
               if (!name) return respond(missing("name", "the new user's name"));
               auto role = accounts::parse_role(string_member(std::get<json>(body), "role").value_or("viewer"));
               if (!role)
                 return respond(http::error_response(400, "invalid_request", "role is viewer, operator or admin"));
               answer_blocking(
                   run_blocking, std::move(respond),
                   [&accounts, name = std::move(*name), role = *role, actor = actor_of(principal, request)] {
                     auto password = accounts.add_user(name, role, actor);
                     if (!password) return failure(password.error());
                     return json_answer(201, {{"name", name}, {"role", to_string(role)}, {"password", *password}});
                   });
             }));

  router.add("PUT", "/api/v1/users/{name}/role",
             guard.user(Role::admin, [&accounts](Principal principal, http::Request request, http::Responder respond) {
               auto body = json_body(request);
               if (auto* refusal = std::get_if<http::Response>(&body)) return respond(std::move(*refusal));
               auto role = accounts::parse_role(string_member(std::get<json>(body), "role").value_or(""));
               if (!role)
                 return respond(http::error_response(400, "invalid_request", "role is viewer, operator or admin"));
               auto set = accounts.set_role(request.param("name"), *role, actor_of(principal, request));
               respond(set ? http::no_content_response() : failure(set.error()));
             }));

  router.add("DELETE", "/api/v1/users/{name}",
             guard.user(Role::admin, [&accounts](Principal principal, http::Request request, http::Responder respond) {
               auto removed = accounts.remove_user(request.param("name"), actor_of(principal, request));
               respond(removed ? http::no_content_response() : failure(removed.error()));
             }));

  router.add("POST", "/api/v1/users/{name}/password",
             guard.user(Role::admin,
                        [&accounts, run_blocking](Principal principal, http::Request request, http::Responder respond) {
                          answer_blocking(run_blocking, std::move(respond),
                                          [&accounts, name = std::string(request.param("name")),
                                           actor = actor_of(principal, request)] {
                                            auto password = accounts.reset_password(name, actor);
                                            if (!password) return failure(password.error());
                                            return json_answer(200, {{"name", name}, {"password", *password}});
                                          });
                        }));

  router.add("DELETE", "/api/v1/users/{name}/second-factor",
             guard.user(Role::admin, [&accounts](Principal principal, http::Request request, http::Responder respond) {
               auto reset = accounts.reset_second_factor(request.param("name"), actor_of(principal, request));
               respond(reset ? http::no_content_response() : failure(reset.error()));
             }));
}

// GET /api/v1/audit's page: entries after an id, oldest first, or before one, newest first.
struct AuditPage {
  bool newest_first = false;
  std::int64_t id = 0;
  std::size_t limit = 100;
};

std::optional<AuditPage> read_audit_page(const QueryParameters& parameters) {
  const auto limit = integer_parameter(parameters, "limit", 100);
  if (!limit || *limit == 0 || static_cast<std::size_t>(*limit) > kMaxAuditPage) return std::nullopt;
  AuditPage page{.limit = static_cast<std::size_t>(*limit)};
  if (const auto before = parameter(parameters, "before")) {
    if (parameter(parameters, "after")) return std::nullopt;
    page.newest_first = true;
    if (*before == "end") {
      page.id = std::numeric_limits<std::int64_t>::max();
      return page;
    }
    const auto id = integer_parameter(parameters, "before", 0);
    if (!id || *id < 1) return std::nullopt;
    page.id = *id;
    return page;
  }
  const auto after = integer_parameter(parameters, "after", 0);
  if (!after) return std::nullopt;
  page.id = *after;
  return page;
}

void add_security_routes(http::Router& router, const SessionGuard& guard, Accounts& accounts) {
  router.get("/api/v1/audit",
             guard.user(Role::admin, [&accounts](Principal, http::Request request, http::Responder respond) {
               static constexpr std::string_view kAllowed[] = {"after", "before", "limit"};
               auto read = read_query_parameters(request.query, kAllowed);
               if (auto* refusal = std::get_if<http::Response>(&read)) return respond(std::move(*refusal));
               const auto& parameters = std::get<QueryParameters>(read);
               const auto page = read_audit_page(parameters);
               if (!page) {
                 return respond(http::error_response(
                     400, "invalid_request",
                     "after is an entry id (0 for the start) or before one (end for the newest), not both; limit 1 "
                     "to " +
                         std::to_string(kMaxAuditPage)));
               }
               auto entries = page->newest_first ? accounts.audit_entries_before(page->id, page->limit)
                                                 : accounts.audit_entries(page->id, page->limit);
               if (!entries) return respond(failure(entries.error()));
               std::string body = "{\"entries\":[";
               for (std::size_t i = 0; i < entries->size(); ++i) {
                 if (i > 0) body += ',';
                 body += accounts::audit_entry_json((*entries)[i]);
               }
               respond(http::json_response(200, body + "]}"));
             }));

  router.get("/api/v1/settings/security",
             guard.user(Role::admin, [&accounts](Principal, http::Request, http::Responder respond) {
               auto required = accounts.second_factor_required();
               if (!required) return respond(failure(required.error()));
               respond(json_answer(200, {{"require_second_factor", *required}}));
             }));

  router.add(
      "PUT", "/api/v1/settings/security",
      guard.user(Role::admin, [&accounts](Principal principal, http::Request request, http::Responder respond) {
        auto body = json_body(request);
        if (auto* refusal = std::get_if<http::Response>(&body)) return respond(std::move(*refusal));
        auto found = std::get<json>(body).find("require_second_factor");
        if (found == std::get<json>(body).end() || !found->is_boolean()) {
          return respond(http::error_response(400, "invalid_request", "require_second_factor must be true or false"));
        }
        auto set = accounts.require_second_factor(found->get<bool>(), actor_of(principal, request));
        respond(set ? http::no_content_response() : failure(set.error()));
      }));
}

}  // namespace

void add_account_routes(http::Router& router, const SessionGuard& guard, accounts::Accounts& accounts,
                        BlockingExecutor run_blocking, SignInCounters& sign_ins) {
  add_session_routes(router, guard, accounts, run_blocking, sign_ins);
  add_user_routes(router, guard, accounts, run_blocking);
  add_security_routes(router, guard, accounts);
}

}  // namespace kelvin::gateway
