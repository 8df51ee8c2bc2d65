#include "kelvin/gateway/alert_routes.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "alert_json.hpp"
#include "json_time.hpp"
#include "kelvin/alerts/alert_rule.hpp"
#include "kelvin/core/identity.hpp"
#include "kelvin/gateway/alert_rule_config.hpp"
#include "kelvin/gateway/query_parameters.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/log/subject.hpp"
#include "kelvin/store/alert_db.hpp"
#include "route_checks.hpp"

namespace kelvin::gateway {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxSilenceCommentCharacters = 200;

// Characters (code points) of UTF-8 text, as a browser's maxlength counts them for text outside
// the astral planes. The JSON parser has refused invalid UTF-8 already.
std::size_t characters(std::string_view utf8) {
  return static_cast<std::size_t>(
      std::count_if(utf8.begin(), utf8.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Whether `text` holds a control character (NUL, a line break, DEL ...): a comment is one line
// for people, shown on the dashboard and in the API.
bool has_control_characters(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

// The routes' shared state: their sources and one connection to alerts.db, opened at first use and
// taken by one request at a time. The mutex is held while auditing: it comes before
// accounts::Accounts' mutex (docs/architecture.md, "Locks and lock order").
struct Shared {
  explicit Shared(AlertSources s) : sources(std::move(s)) {}
  AlertSources sources;
  std::mutex mutex;
  std::optional<store::AlertDb> db;
};

http::Response db_error(const Error& error) {
  log::component("https").error("an alerts operation failed: {}", error.message);
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
  return with_db(shared, [&](store::AlertDb& db) {
    auto alerts = db.list(query);
    if (!alerts) return db_error(alerts.error());
    auto silences = db.active_silences(shared.sources.now_ms());
    if (!silences) return db_error(silences.error());
    std::map<std::pair<std::string_view, std::string_view>, const store::SilenceRecord*> silence_of;
    for (const auto& silence : *silences) silence_of[{silence.rule, silence.subject}] = &silence;
    json list = json::array();
    for (const auto& alert : *alerts) {
      json entry = alert_json(alert);
      const auto silence = silence_of.find({alert.rule, alert.subject});
      entry["silence"] = silence == silence_of.end() ? json(nullptr) : silence_json(*silence->second);
      list.push_back(std::move(entry));
    }
    // A full page may have more after it: the next page is ?before=<the last id>.
    const bool full = alerts->size() == query.limit;
    json out{{"alerts", std::move(list)}, {"next_before", full ? json(alerts->back().id) : json(nullptr)}};
    return http::json_response(200, dump(out));
  });
}

// The audit entry of an alert route's action; a failure to write it is logged.
void audit(Shared& shared, const accounts::Actor& actor, std::string_view action, const std::string& target,
           std::string_view result, std::string_view detail) {
  if (auto written = shared.sources.accounts.audit(actor, action, target, result, detail); !written) {
    log::component("https").error("writing the audit entry {} {} failed: {}", action, target, written.error().message);
  }
}

http::Response acknowledge_answer(Shared& shared, std::int64_t id, const accounts::Actor& actor) {
  const std::string target = "alert " + std::to_string(id);
  return with_db(shared, [&](store::AlertDb& db) {
    auto acknowledged = db.acknowledge(id, actor.name, shared.sources.now_ms());
    if (!acknowledged) return db_error(acknowledged.error());
    auto alert = db.alert(id);
    if (!alert) return db_error(alert.error());
    if (!*alert) return http::error_response(404, "alert_not_found", "there is no alert " + std::to_string(id));
    const std::string what = (*alert)->rule + " " + (*alert)->subject;
    if (!*acknowledged) {
      audit(shared, actor, "alert_acknowledge", target, "denied",
            what + ": acknowledged already by " + (*alert)->acknowledged_by);
      return http::error_response(
          409, "alert_acknowledged",
          "alert " + std::to_string(id) + " was acknowledged already by " + (*alert)->acknowledged_by);
    }
    audit(shared, actor, "alert_acknowledge", target, "ok", what);
    const log::Subjects about{{log::SubjectKey::rule, (*alert)->rule},
                              {log::SubjectKey::subject, (*alert)->subject},
                              {log::SubjectKey::user, actor.name},
                              {log::SubjectKey::client, actor.address}};
    log::component("https").info("{} acknowledged alert {} ({})", actor.name, id, what);
    return http::json_response(200, dump(alert_json(**alert)));
  });
}

struct SilenceRequest {
  std::int64_t until_ms = 0;
  std::string comment{};
  std::string rule{};     // set ahead of an alert (POST /api/v1/silences); else the alert's
  std::string subject{};  // likewise
};

// What a silence's body names besides its end: an alert's silence (POST /api/v1/alerts/{id}/silence)
// takes the alert's rule and subject, one set ahead (POST /api/v1/silences) names them.
enum class SilenceOf { alert, rule_and_subject };

// The body of either silence route, or the 400 answer. The end is checked against the clock, and
// the rule against the configured ones, by the answer.
std::variant<SilenceRequest, http::Response> silence_request_of(const http::Request& request, SilenceOf of) {
  const json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return http::error_response(400, "malformed_json", "the body must be one JSON object");
  }
  const bool names_target = of == SilenceOf::rule_and_subject;
  SilenceRequest silence;
  bool has_until = false;
  for (const auto& [name, value] : body.items()) {
    if (names_target && name == "rule" && value.is_string()) {
      silence.rule = value.get<std::string>();
      if (!alerts::is_valid_rule_name(silence.rule)) {
        return http::error_response(400, "invalid_silence",
                                    "\"rule\" is a rule's name: 1 to 64 characters of a-z, 0-9, '_' and '-'");
      }
    } else if (names_target && name == "subject" && value.is_string()) {
      silence.subject = value.get<std::string>();
      if (!is_well_formed_identity(silence.subject)) {
        return http::error_response(400, "invalid_silence",
                                    "\"subject\" is a device id, a certificate's or service's name, \"gateway\" or "
                                    "\"rollout-{id}\"");
      }
    } else if (name == "until_ms" && value.is_number_integer()) {
      silence.until_ms = value.get<std::int64_t>();
      has_until = true;
    } else if (name == "comment" && value.is_string()) {
      silence.comment = value.get<std::string>();
      if (characters(silence.comment) > kMaxSilenceCommentCharacters) {
        return http::error_response(400, "invalid_silence", "\"comment\" is at most 200 characters");
      }
      if (has_control_characters(silence.comment)) {
        return http::error_response(400, "invalid_silence", "\"comment\" is one line without control characters");
      }
    } else {
      return http::error_response(
          400, "invalid_request",
          "\"" + name + "\" is not a silence's key or not of its type: " +
              (names_target ? "\"rule\", \"subject\", \"until_ms\" (Unix ms)" : "\"until_ms\" (Unix ms)") +
              " and an optional \"comment\"");
    }
  }
  if (!has_until) return http::error_response(400, "invalid_silence", "\"until_ms\" says when the silence ends");
  if (names_target && (silence.rule.empty() || silence.subject.empty())) {
    return http::error_response(400, "invalid_silence", "\"rule\" and \"subject\" say what the silence holds back");
  }
  return silence;
}

// Records the silence of `rule` on `subject` asked for by `request` (its end already checked), and
// answers with it.
http::Response record_silence(Shared& shared, store::AlertDb& db, const std::string& rule, const std::string& subject,
                              const SilenceRequest& request, const accounts::Actor& actor, const std::string& target,
                              std::int64_t now_ms) {
  auto silenced = shared.sources.silences.set(db,
                                              store::SilenceRecord{.rule = rule,
                                                                   .subject = subject,
                                                                   .until_ms = request.until_ms,
                                                                   .created_by = actor.name,
                                                                   .comment = request.comment},
                                              now_ms);
  if (!silenced) return db_error(silenced.error());
  const json answer = silence_json(*silenced);
  const std::string what = silenced->rule + " " + silenced->subject + " until " + answer["until"].get<std::string>();
  audit(shared, actor, "alert_silence", target, "ok", what);
  const log::Subjects about{{log::SubjectKey::rule, silenced->rule},
                            {log::SubjectKey::subject, silenced->subject},
                            {log::SubjectKey::user, actor.name},
                            {log::SubjectKey::client, actor.address}};
  log::component("https").info("{} silenced {}", actor.name, what);
  return http::json_response(200, dump(answer));
}

// The 400 answer (audited) when the silence's end is not within the next 90 days.
std::optional<http::Response> refuse_end(Shared& shared, const SilenceRequest& request, const accounts::Actor& actor,
                                         const std::string& target, std::int64_t now_ms) {
  if (request.until_ms > now_ms && request.until_ms <= now_ms + kMaxSilenceMs) return std::nullopt;
  audit(shared, actor, "alert_silence", target, "denied", "its end is not within the next 90 days");
  return http::error_response(400, "invalid_silence", "\"until_ms\" must be in the next 90 days");
}

http::Response silence_answer(Shared& shared, std::int64_t id, const SilenceRequest& request,
                              const accounts::Actor& actor) {
  const std::string target = "alert " + std::to_string(id);
  const std::int64_t now_ms = shared.sources.now_ms();
  if (auto refused = refuse_end(shared, request, actor, target, now_ms)) return std::move(*refused);
  return with_db(shared, [&](store::AlertDb& db) {
    auto alert = db.alert(id);
    if (!alert) return db_error(alert.error());
    if (!*alert) return http::error_response(404, "alert_not_found", "there is no alert " + std::to_string(id));
    return record_silence(shared, db, (*alert)->rule, (*alert)->subject, request, actor, target, now_ms);
  });
}

// A silence set ahead of an alert: the rule must be configured; the subject need not have fired.
http::Response silence_ahead_answer(Shared& shared, const SilenceRequest& request, const accounts::Actor& actor) {
  const std::string target = "rule " + request.rule;
  const std::int64_t now_ms = shared.sources.now_ms();
  if (!shared.sources.rules.find(request.rule)) {
    audit(shared, actor, "alert_silence", target, "denied", "no such rule");
    return http::error_response(404, "rule_not_found", "there is no alert rule named \"" + request.rule + "\"");
  }
  if (auto refused = refuse_end(shared, request, actor, target, now_ms)) return std::move(*refused);
  return with_db(shared, [&](store::AlertDb& db) {
    return record_silence(shared, db, request.rule, request.subject, request, actor, target, now_ms);
  });
}

http::Response lift_answer(Shared& shared, std::int64_t id, const accounts::Actor& actor) {
  const std::string target = "silence " + std::to_string(id);
  return with_db(shared, [&](store::AlertDb& db) {
    auto lifted = shared.sources.silences.lift(db, id, actor.name, shared.sources.now_ms());
    if (!lifted) return db_error(lifted.error());
    if (!*lifted) {
      audit(shared, actor, "alert_silence_lift", target, "denied", "unknown or over");
      return http::error_response(404, "silence_not_found", "there is no silence " + std::to_string(id) + " lasting");
    }
    const std::string what = (*lifted)->rule + " " + (*lifted)->subject;
    audit(shared, actor, "alert_silence_lift", target, "ok", what);
    const log::Subjects about{{log::SubjectKey::rule, (*lifted)->rule},
                              {log::SubjectKey::subject, (*lifted)->subject},
                              {log::SubjectKey::user, actor.name},
                              {log::SubjectKey::client, actor.address}};
    log::component("https").info("{} lifted the silence of {}", actor.name, what);
    return http::no_content_response();
  });
}

http::Response silences_answer(Shared& shared) {
  return with_db(shared, [&](store::AlertDb& db) {
    auto silences = db.active_silences(shared.sources.now_ms());
    if (!silences) return db_error(silences.error());
    json list = json::array();
    for (const auto& silence : *silences) list.push_back(silence_json(silence));
    return http::json_response(200, dump(json{{"silences", std::move(list)}}));
  });
}

// ---- Rules (docs/alerts.md, "Rules") ----

// GET /api/v1/alert-rules: every rule in effect as its config table says it, then which of them
// operators added (by name: when and by whom), and how many may be added.
http::Response rules_answer(const AlertRuleBook& book) {
  json rules = json::array();
  json added = json::object();
  for (const auto& entry : book.entries()) {
    rules.push_back(rule_json(entry.rule));
    if (!entry.added) continue;
    json meta{{"created_by", entry.added->created_by}, {"updated_by", entry.added->updated_by}};
    add_time(meta, "created", entry.added->created_ms);
    add_time(meta, "updated", entry.added->updated_ms);
    added[entry.rule.name] = std::move(meta);
  }
  return http::json_response(200, dump(json{{"rules", std::move(rules)},
                                            {"added", std::move(added)},
                                            {"max_added", AlertRuleBook::kMaxAddedRules}}));
}

// Why a rule's body is refused (a 400 answer with this code and message).
struct RuleBodyRefusal {
  std::string code;
  std::string message;
};

// A rule's body (POST, PUT) as the rule, or why it is refused. PUT's `path_name` is the rule's name
// when the body leaves it out, and must be its name when the body gives one.
std::variant<alerts::AlertRule, RuleBodyRefusal> rule_request_of(const http::Request& request,
                                                                 std::optional<std::string_view> path_name) {
  // A rule's table nests two levels (a list of devices); a deeper body is refused before anything
  // recurses through it (dump() does).
  constexpr int kMaxDepth = 8;
  int deepest = 0;
  json body = json::parse(
      request.body,
      [&](int depth, json::parse_event_t, json&) {
        deepest = std::max(deepest, depth);
        return true;
      },
      false);
  if (body.is_discarded() || !body.is_object()) {
    return RuleBodyRefusal{"malformed_json", "the body must be one JSON object"};
  }
  if (deepest > kMaxDepth) return RuleBodyRefusal{"invalid_rule", "a rule is not nested this deep"};
  std::string with_name;  // the body with the path's name added, when it left the name out
  if (path_name) {
    const auto name = body.find("name");
    if (name == body.end()) {
      body["name"] = *path_name;
      with_name = body.dump();
    } else if (!name->is_string() || name->get<std::string>() != *path_name) {
      return RuleBodyRefusal{"invalid_rule", "name: the path names the rule; to rename it, remove it and add it anew"};
    }
  }
  auto rule = parse_alert_rule_json(with_name.empty() ? std::string_view(request.body) : std::string_view(with_name));
  if (!rule) {
    // One issue per line in the Error; one line in the answer.
    std::string issues = rule.error().message;
    for (std::size_t at = issues.find('\n'); at != std::string::npos; at = issues.find('\n', at)) {
      issues.replace(at, 1, "; ");
    }
    return RuleBodyRefusal{"invalid_rule", std::move(issues)};
  }
  return std::move(*rule);
}

// The answer to a rule change the book did not make, audited as denied.
http::Response refused_rule_change(Shared& shared, RuleChange outcome, std::string_view action, const std::string& name,
                                   const accounts::Actor& actor) {
  struct Refusal {
    int status;
    const char* code;
    std::string message;
  };
  const Refusal refusal = [&]() -> Refusal {
    switch (outcome) {
      case RuleChange::name_taken:
        return {409, "rule_exists", "a rule named \"" + name + "\" exists already"};
      case RuleChange::too_many:
        return {
            409, "too_many_rules",
            "operators added " + std::to_string(AlertRuleBook::kMaxAddedRules) + " rules already: remove one first"};
      case RuleChange::not_found:
        return {404, "rule_not_found", "there is no alert rule named \"" + name + "\""};
      case RuleChange::configured:
        return {409, "rule_configured",
                "the rule \"" + name + "\" comes from the gateway's config file: change it there"};
      case RuleChange::kind_changed:
        return {400, "invalid_rule", "kind: a rule keeps its kind; remove it and add a rule of the other kind"};
      case RuleChange::done:
        break;
    }
    return {500, "internal_error", "unexpected outcome"};
  }();
  audit(shared, actor, action, "rule " + name, "denied", refusal.message);
  return http::error_response(refusal.status, refusal.code, refusal.message);
}

enum class RuleAction { add, change };

std::string_view audit_action_of(RuleAction action) {
  return action == RuleAction::add ? "alert_rule_add" : "alert_rule_change";
}

// POST /api/v1/alert-rules (add) and PUT /api/v1/alert-rules/{name} (change), the rule checked.
http::Response rule_write_answer(Shared& shared, RuleAction action, const alerts::AlertRule& rule,
                                 const accounts::Actor& actor) {
  const std::string_view audit_action = audit_action_of(action);
  return with_db(shared, [&](store::AlertDb& db) {
    const std::int64_t now_ms = shared.sources.now_ms();
    auto outcome = action == RuleAction::add ? shared.sources.rules.add(db, rule, actor.name, now_ms)
                                             : shared.sources.rules.change(db, rule, actor.name, now_ms);
    if (!outcome) return db_error(outcome.error());
    if (*outcome != RuleChange::done) return refused_rule_change(shared, *outcome, audit_action, rule.name, actor);
    const std::string definition = dump(rule_json(rule));
    audit(shared, actor, audit_action, "rule " + rule.name, "ok", definition);
    const log::Subjects about{{log::SubjectKey::rule, rule.name},
                              {log::SubjectKey::user, actor.name},
                              {log::SubjectKey::client, actor.address}};
    log::component("https").info("{} {} the alert rule {}", actor.name, action == RuleAction::add ? "added" : "changed",
                                 definition);
    return http::json_response(action == RuleAction::add ? 201 : 200, definition);
  });
}

// Answers a rule's POST or PUT on the blocking executor: the rule written, or its body refused;
// both audited, like a refusal by the book. `target` names the rule in the audit entry of a
// refused body ("rule" alone when the body could not say which).
void answer_rule_write(const std::shared_ptr<Shared>& shared, RuleAction action,
                       std::variant<alerts::AlertRule, RuleBodyRefusal> rule, std::string target, accounts::Actor actor,
                       http::Responder respond) {
  answer_blocking(shared->sources.run_blocking, std::move(respond),
                  [shared, action, rule = std::move(rule), target = std::move(target), actor = std::move(actor)] {
                    if (const auto* refused = std::get_if<RuleBodyRefusal>(&rule)) {
                      audit(*shared, actor, audit_action_of(action), target, "denied", refused->message);
                      return http::error_response(400, refused->code, refused->message);
                    }
                    return rule_write_answer(*shared, action, std::get<alerts::AlertRule>(rule), actor);
                  });
}

http::Response rule_remove_answer(Shared& shared, const std::string& name, const accounts::Actor& actor) {
  return with_db(shared, [&](store::AlertDb& db) {
    auto outcome = shared.sources.rules.remove(db, name, actor.name, shared.sources.now_ms());
    if (!outcome) return db_error(outcome.error());
    if (*outcome != RuleChange::done) return refused_rule_change(shared, *outcome, "alert_rule_remove", name, actor);
    audit(shared, actor, "alert_rule_remove", "rule " + name, "ok", "");
    const log::Subjects about{
        {log::SubjectKey::rule, name}, {log::SubjectKey::user, actor.name}, {log::SubjectKey::client, actor.address}};
    log::component("https").info("{} removed the alert rule {}", actor.name, name);
    return http::no_content_response();
  });
}

// {name} as a rule's name, or the 400 answer.
std::variant<std::string, http::Response> rule_name_of(const http::Request& request) {
  std::string name(request.param("name"));
  if (!alerts::is_valid_rule_name(name)) {
    return http::error_response(400, "invalid_rule_name",
                                "a rule's name is 1 to 64 characters of a-z, 0-9, '_' and '-'");
  }
  return name;
}

// {id} as a positive whole number, or the 400 answer with `code`.
std::variant<std::int64_t, http::Response> id_of(const http::Request& request, std::string_view code,
                                                 std::string_view what) {
  const auto id = positive_integer(request.param("id"));
  if (!id) return http::error_response(400, std::string(code), std::string(what) + "'s id is a positive integer");
  return *id;
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
               const auto id = id_of(request, "invalid_alert_id", "an alert");
               if (auto* refused = std::get_if<http::Response>(&id)) return respond(std::move(*refused));
               if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
               if (!request.body.empty() && json::parse(request.body, nullptr, false) != json::object()) {
                 return respond(http::error_response(400, "invalid_request", "this route takes no request body"));
               }
               answer_blocking(shared->sources.run_blocking, std::move(respond),
                               [shared, id = std::get<std::int64_t>(id),
                                actor = accounts::Actor{principal.user, request.peer_address}] {
                                 return acknowledge_answer(*shared, id, actor);
                               });
             }));
  router.add("POST", "/api/v1/alerts/{id}/silence",
             guard.user(Role::operator_, [shared](Principal principal, http::Request request, http::Responder respond) {
               const auto id = id_of(request, "invalid_alert_id", "an alert");
               if (auto* refused = std::get_if<http::Response>(&id)) return respond(std::move(*refused));
               if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
               auto silence = silence_request_of(request, SilenceOf::alert);
               if (auto* refused = std::get_if<http::Response>(&silence)) return respond(std::move(*refused));
               answer_blocking(shared->sources.run_blocking, std::move(respond),
                               [shared, id = std::get<std::int64_t>(id), silence = std::get<SilenceRequest>(silence),
                                actor = accounts::Actor{principal.user, request.peer_address}] {
                                 return silence_answer(*shared, id, silence, actor);
                               });
             }));
  router.add("POST", "/api/v1/silences",
             guard.user(Role::operator_, [shared](Principal principal, http::Request request, http::Responder respond) {
               if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
               auto silence = silence_request_of(request, SilenceOf::rule_and_subject);
               if (auto* refused = std::get_if<http::Response>(&silence)) return respond(std::move(*refused));
               answer_blocking(shared->sources.run_blocking, std::move(respond),
                               [shared, silence = std::get<SilenceRequest>(silence),
                                actor = accounts::Actor{principal.user, request.peer_address}] {
                                 return silence_ahead_answer(*shared, silence, actor);
                               });
             }));
  router.add("GET", "/api/v1/alert-rules",
             guard.user(Role::viewer, [shared](Principal, http::Request request, http::Responder respond) {
               if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
               respond(rules_answer(shared->sources.rules));
             }));
  router.add("POST", "/api/v1/alert-rules",
             guard.user(Role::operator_, [shared](Principal principal, http::Request request, http::Responder respond) {
               if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
               answer_rule_write(shared, RuleAction::add, rule_request_of(request, std::nullopt), "rule",
                                 accounts::Actor{principal.user, request.peer_address}, std::move(respond));
             }));
  router.add("PUT", "/api/v1/alert-rules/{name}",
             guard.user(Role::operator_, [shared](Principal principal, http::Request request, http::Responder respond) {
               const auto name = rule_name_of(request);
               if (auto* refused = std::get_if<http::Response>(&name)) return respond(std::move(*refused));
               if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
               answer_rule_write(shared, RuleAction::change, rule_request_of(request, std::get<std::string>(name)),
                                 "rule " + std::get<std::string>(name),
                                 accounts::Actor{principal.user, request.peer_address}, std::move(respond));
             }));
  router.add("DELETE", "/api/v1/alert-rules/{name}",
             guard.user(Role::operator_, [shared](Principal principal, http::Request request, http::Responder respond) {
               const auto name = rule_name_of(request);
               if (auto* refused = std::get_if<http::Response>(&name)) return respond(std::move(*refused));
               if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
               answer_blocking(shared->sources.run_blocking, std::move(respond),
                               [shared, name = std::get<std::string>(name),
                                actor = accounts::Actor{principal.user, request.peer_address}] {
                                 return rule_remove_answer(*shared, name, actor);
                               });
             }));
  router.add("GET", "/api/v1/silences",
             guard.user(Role::viewer, [shared](Principal, http::Request request, http::Responder respond) {
               if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
               answer_blocking(shared->sources.run_blocking, std::move(respond),
                               [shared] { return silences_answer(*shared); });
             }));
  router.add("DELETE", "/api/v1/silences/{id}",
             guard.user(Role::operator_, [shared](Principal principal, http::Request request, http::Responder respond) {
               const auto id = id_of(request, "invalid_silence_id", "a silence");
               if (auto* refused = std::get_if<http::Response>(&id)) return respond(std::move(*refused));
               if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
               answer_blocking(shared->sources.run_blocking, std::move(respond),
                               [shared, id = std::get<std::int64_t>(id),
                                actor = accounts::Actor{principal.user, request.peer_address}] {
                                 return lift_answer(*shared, id, actor);
                               });
             }));
}

}  // namespace kelvin::gateway
