#include "kelvin/gateway/alert_routes.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "alert_json.hpp"
#include "kelvin/gateway/query_parameters.hpp"
#include "kelvin/store/alert_db.hpp"
#include "route_checks.hpp"

namespace kelvin::gateway {
namespace {

using nlohmann::json;

// The routes' shared state: their sources and one connection to alerts.db, opened at first use and
// taken by one request at a time (the mutex is a leaf).
struct Shared {
  explicit Shared(AlertSources s) : sources(std::move(s)) {}
  AlertSources sources;
  std::mutex mutex;
  std::optional<store::AlertDb> db;
};

http::Response db_error(const Error& error) {
  spdlog::error("https: an alerts operation failed: {}", error.message);
  return http::error_response(500, "alert_db_error", "the gateway could not read its alerts; its log says why");
}

// Runs `work(AlertDb&)` on the routes' connection; the answer when it cannot be opened.
template <class Work>
http::Response with_db(Shared& shared, Work&& work) {
  std::lock_guard lock(shared.mutex);
  if (!shared.db) {
    auto opened = store::AlertDb::open(shared.sources.db_file);
    if (!opened) return db_error(opened.error());
    shared.db.emplace(std::move(*opened));
  }
  return std::forward<Work>(work)(*shared.db);
}

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// A positive whole number (an alert's id, a limit), or nullopt.
std::optional<std::int64_t> positive_integer(std::string_view text) {
  const auto value = whole_number(text);
  return value && *value > 0 ? value : std::nullopt;
}

// GET /api/v1/alerts's parameters, or the 400 answer.
std::variant<store::AlertQuery, http::Response> alert_query_of(const http::Request& request) {
  static constexpr std::array<std::string_view, 4> kAllowed{"state", "subject", "before", "limit"};
  auto parameters = read_query_parameters(request.query, kAllowed);
  if (auto* refused = std::get_if<http::Response>(&parameters)) return std::move(*refused);
  const auto& given = std::get<QueryParameters>(parameters);
  store::AlertQuery query;
  if (auto state = parameter(given, "state")) {
    query.state = store::parse_alert_state(*state);
    if (!query.state) return http::error_response(400, "invalid_parameter", "state is firing or resolved");
  }
  if (auto subject = parameter(given, "subject")) query.subject = std::string(*subject);
  if (auto before = parameter(given, "before")) {
    query.before_id = positive_integer(*before);
    if (!query.before_id) return http::error_response(400, "invalid_parameter", "before is an alert's id");
  }
  if (auto limit = parameter(given, "limit")) {
    const auto value = positive_integer(*limit);
    if (!value || *value > 1000) return http::error_response(400, "invalid_parameter", "limit is from 1 to 1000");
    query.limit = static_cast<std::size_t>(*value);
  }
  return query;
}

http::Response list_answer(Shared& shared, const store::AlertQuery& query) {
  return with_db(shared, [&query](store::AlertDb& db) {
    auto alerts = db.list(query);
    if (!alerts) return db_error(alerts.error());
    json list = json::array();
    for (const auto& alert : *alerts) list.push_back(alert_json(alert));
    // A full page may have more after it: the next page is ?before=<the last id>.
    const bool full = alerts->size() == query.limit;
    json out{{"alerts", std::move(list)}, {"next_before", full ? json(alerts->back().id) : json(nullptr)}};
    return http::json_response(200, dump(out));
  });
}

http::Response acknowledge_answer(Shared& shared, std::int64_t id, const accounts::Actor& actor) {
  const std::string target = "alert " + std::to_string(id);
  const auto audit = [&](std::string_view result, std::string_view detail) {
    if (auto written = shared.sources.accounts.audit(actor, "alert_acknowledge", target, result, detail); !written) {
      spdlog::error("https: writing the audit entry alert_acknowledge {} failed: {}", target, written.error().message);
    }
  };
  return with_db(shared, [&](store::AlertDb& db) {
    auto acknowledged = db.acknowledge(id, actor.name, shared.sources.now_ms());
    if (!acknowledged) return db_error(acknowledged.error());
    auto alert = db.alert(id);
    if (!alert) return db_error(alert.error());
    if (!*alert) return http::error_response(404, "alert_not_found", "there is no alert " + std::to_string(id));
    const std::string what = (*alert)->rule + " " + (*alert)->subject;
    if (!*acknowledged) {
      audit("denied", what + ": acknowledged already by " + (*alert)->acknowledged_by);
      return http::error_response(
          409, "alert_acknowledged",
          "alert " + std::to_string(id) + " was acknowledged already by " + (*alert)->acknowledged_by);
    }
    audit("ok", what);
    spdlog::info("https: {} acknowledged alert {} ({})", actor.name, id, what);
    return http::json_response(200, dump(alert_json(**alert)));
  });
}

}  // namespace

void add_alert_routes(http::Router& router, const RouteGuard& guard, AlertSources sources) {
  const auto shared = std::make_shared<Shared>(std::move(sources));
  router.add("GET", "/api/v1/alerts",
             guard.user(Role::viewer, [shared](Principal, http::Request request, http::Responder respond) {
               auto query = alert_query_of(request);
               if (auto* refused = std::get_if<http::Response>(&query)) return respond(std::move(*refused));
               answer_blocking(
                   shared->sources.run_blocking, std::move(respond),
                   [shared, query = std::get<store::AlertQuery>(query)] { return list_answer(*shared, query); });
             }));
  router.add("POST", "/api/v1/alerts/{id}/acknowledge",
             guard.user(Role::operator_, [shared](Principal principal, http::Request request, http::Responder respond) {
               const auto id = positive_integer(request.param("id"));
               if (!id)
                 return respond(http::error_response(400, "invalid_alert_id", "an alert's id is a positive integer"));
               if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
               if (!request.body.empty() && json::parse(request.body, nullptr, false) != json::object()) {
                 return respond(http::error_response(400, "invalid_request", "this route takes no request body"));
               }
               answer_blocking(shared->sources.run_blocking, std::move(respond),
                               [shared, id = *id, actor = accounts::Actor{principal.user, request.peer_address}] {
                                 return acknowledge_answer(*shared, id, actor);
                               });
             }));
}

}  // namespace kelvin::gateway
