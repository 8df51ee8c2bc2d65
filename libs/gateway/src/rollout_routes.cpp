#include "kelvin/gateway/rollout_routes.hpp"

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "json_time.hpp"
#include "kelvin/gateway/query_parameters.hpp"
#include "kelvin/gateway/state_layout.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/log/subject.hpp"
#include "kelvin/rollout/ota_messages.hpp"
#include "kelvin/rollout/rollout_actions.hpp"
#include "route_checks.hpp"

namespace kelvin::gateway {
namespace {

using nlohmann::json;
using rollout::RolloutCommand;
using store::RolloutDeviceRecord;
using store::RolloutRecord;

constexpr DeviceRouteWords kUpdateWords{"ask for an update", "only devices ask for their updates",
                                        "a device asks only for its own update"};
constexpr DeviceRouteWords kReportWords{"report an update's progress", "only devices report their updates",
                                        "a device reports only its own update"};

// The routes' shared state: their sources and one connection to rollouts.db, opened at first use
// and taken by one request at a time (like SharedStore; the mutex is a leaf).
struct Shared {
  explicit Shared(RolloutSources s) : sources(std::move(s)) {}
  RolloutSources sources;
  std::mutex mutex;
  std::optional<store::RolloutDb> db;
};

// Runs `work(RolloutDb&)` on the routes' connection; the answer when it cannot be opened.
template <class Work>
http::Response with_db(Shared& shared, Work&& work) {
  std::lock_guard lock(shared.mutex);
  if (!shared.db) {
    auto opened = store::RolloutDb::open(rollouts_path(shared.sources.state_dir));
    if (!opened) {
      log::component("https").error("cannot open the rollouts database: {}", opened.error().message);
      return http::error_response(500, "rollout_db_error", "the gateway could not read its rollouts; its log says why");
    }
    shared.db.emplace(std::move(*opened));
  }
  return std::forward<Work>(work)(*shared.db);
}

http::Response db_error(const Error& error) {
  log::component("https").error("a rollouts operation failed: {}", error.message);
  return http::error_response(500, "rollout_db_error", "the gateway could not read its rollouts; its log says why");
}

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// {"kind":"all"}, {"kind":"devices"}, {"kind":"label","label":"greenhouse"}, or null for a
// rollout started before kelvin recorded how its devices were chosen.
json target_json(const RolloutRecord& r) {
  if (r.target == store::RolloutTarget::unrecorded) return nullptr;
  json out{{"kind", store::to_string(r.target)}};
  if (r.target == store::RolloutTarget::label) out["label"] = r.target_label;
  return out;
}

json rollout_json(const store::RolloutSummary& summary) {
  const RolloutRecord& r = summary.rollout;
  json counts = json::object();
  std::size_t total = 0;
  for (std::size_t i = 0; i < summary.counts.size(); ++i) {
    counts[std::string(store::to_string(static_cast<store::DeviceRolloutState>(i)))] = summary.counts[i];
    total += summary.counts[i];
  }
  json out{{"id", r.id},
           {"product", r.product},
           {"version", r.version},
           {"state", store::to_string(r.state)},
           {"waves", r.waves},
           {"current_wave", r.current_wave},
           {"max_failure_percent", r.max_failure_percent},
           {"device_timeout_s", r.device_timeout_ms / 1000},
           {"target", target_json(r)},
           {"created_by", r.created_by},
           {"device_count", total},
           {"counts", std::move(counts)}};
  add_time(out, "created", r.created_ms);
  add_time(out, "updated", r.updated_ms);
  return out;
}

json device_json(const RolloutDeviceRecord& d) {
  json out{{"device", d.device},   {"wave", d.wave},     {"state", store::to_string(d.state)},
           {"percent", d.percent}, {"reason", d.reason}, {"detail", d.detail}};
  add_time(out, "updated", d.updated_ms);
  return out;
}

store::RolloutSummary summarise(RolloutRecord record, const std::vector<RolloutDeviceRecord>& devices) {
  store::RolloutSummary summary{.rollout = std::move(record), .counts = {}};
  for (const auto& d : devices) ++summary.counts[static_cast<std::size_t>(d.state)];
  return summary;
}

// The {id} of /api/v1/rollouts/{id}, or the 400 answer.
std::variant<std::int64_t, http::Response> rollout_id_of(const http::Request& request) {
  const auto id = whole_number(request.param("id"));
  if (!id || *id <= 0) return http::error_response(400, "invalid_rollout_id", "a rollout's id is a positive integer");
  return *id;
}

http::Response not_found(std::int64_t id) {
  return http::error_response(404, "rollout_not_found", "there is no rollout " + std::to_string(id));
}

void audit(const RolloutSources& sources, const accounts::Actor& actor, std::string_view action,
           std::string_view target, std::string_view result, const std::string& detail) {
  if (auto written = sources.accounts.audit(actor, action, target, result, detail); !written) {
    log::component("https").error("writing the audit entry {} {} failed: {}", action, target, written.error().message);
  }
}

http::Response list_answer(Shared& shared) {
  return with_db(shared, [](store::RolloutDb& db) {
    auto rollouts = db.rollouts();
    if (!rollouts) return db_error(rollouts.error());
    json list = json::array();
    for (const auto& summary : *rollouts) list.push_back(rollout_json(summary));
    return http::json_response(200, dump(json{{"rollouts", std::move(list)}}));
  });
}

http::Response detail_answer(Shared& shared, std::int64_t id) {
  return with_db(shared, [id](store::RolloutDb& db) {
    auto rollout = db.rollout(id);
    if (!rollout) return db_error(rollout.error());
    if (!*rollout) return not_found(id);
    auto devices = db.devices(id);
    if (!devices) return db_error(devices.error());
    json out = rollout_json(summarise(std::move(**rollout), *devices));
    json list = json::array();
    for (const auto& d : *devices) list.push_back(device_json(d));
    out["devices"] = std::move(list);
    return http::json_response(200, dump(out));
  });
}

// POST /api/v1/rollouts's body, or the 400 answer.
std::variant<rollout::StartRequest, http::Response> start_request_of(const http::Request& request) {
  auto invalid = [](const std::string& why) { return http::error_response(400, "invalid_request", why); };
  const json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return http::error_response(400, "malformed_json", "the body must be one JSON object");
  }
  rollout::StartRequest start;
  for (const auto& [name, value] : body.items()) {
    if (name == "product" && value.is_string()) {
      start.product = value.get<std::string>();
    } else if (name == "version" && value.is_string()) {
      start.version = value.get<std::string>();
    } else if (name == "all" && value.is_boolean()) {
      start.all = value.get<bool>();
    } else if (name == "devices" && value.is_array()) {
      for (const auto& device : value) {
        if (!device.is_string()) return invalid("\"devices\" must be a list of device ids");
        start.devices.push_back(device.get<std::string>());
      }
      if (start.devices.empty()) return invalid("\"devices\" names no device");
    } else if (name == "label" && value.is_string()) {
      start.label = value.get<std::string>();
      if (start.label.empty()) return http::error_response(400, "invalid_label", "\"label\" is empty");
    } else if (name == "waves" && value.is_array()) {
      start.waves.clear();
      for (const auto& wave : value) {
        if (!wave.is_number_integer() || wave.get<std::int64_t>() < 1 || wave.get<std::int64_t>() > 100) {
          return invalid("\"waves\" must be percentages from 1 to 100, e.g. [5,25,100]");
        }
        start.waves.push_back(wave.get<int>());
      }
    } else if (name == "max_failure_percent" && value.is_number_integer()) {
      const auto percent = value.get<std::int64_t>();
      if (percent < 0 || percent > 100) return invalid("\"max_failure_percent\" must be from 0 to 100");
      start.max_failure_percent = static_cast<int>(percent);
    } else if (name == "device_timeout_s" && value.is_number_integer()) {
      const auto seconds = value.get<std::int64_t>();
      constexpr std::int64_t kMin = rollout::kMinDeviceTimeoutMs / 1000, kMax = rollout::kMaxDeviceTimeoutMs / 1000;
      if (seconds != 0 && (seconds < kMin || seconds > kMax)) {
        return invalid("\"device_timeout_s\" must be 0 (none) or from 60 to 2592000 (30 days)");
      }
      start.device_timeout_ms = seconds * 1000;
    } else {
      return invalid("\"" + name +
                     "\" is not a member of a rollout, or not of its type: give \"product\", \"version\" (strings), "
                     "\"devices\" (a list of ids), \"label\" or \"all\": true, and optionally \"waves\", "
                     "\"max_failure_percent\" and \"device_timeout_s\"");
    }
  }
  if (start.product.empty() || start.version.empty()) return invalid("\"product\" and \"version\" are required");
  return start;
}

http::Response start_refusal(rollout::StartRefusal refusal, const Error& error) {
  switch (refusal) {
    case rollout::StartRefusal::invalid_request:
      return http::error_response(400, "invalid_request", error.message);
    case rollout::StartRefusal::invalid_label:
      return http::error_response(400, "invalid_label", error.message);
    case rollout::StartRefusal::label_not_found:
      return http::error_response(404, "label_not_found", error.message);
    case rollout::StartRefusal::release_key_missing:
      return http::error_response(503, "release_key_missing", error.message);
    case rollout::StartRefusal::release_not_found:
      return http::error_response(404, "release_not_found", error.message);
    case rollout::StartRefusal::device_not_found:
      return http::error_response(404, "device_not_found", error.message);
    case rollout::StartRefusal::rollout_active:
      return http::error_response(409, "rollout_active", error.message);
    case rollout::StartRefusal::failed:
      break;
  }
  return db_error(error);
}

http::Response start_answer(Shared& shared, const rollout::StartRequest& request, const accounts::Actor& actor) {
  const RolloutSources& sources = shared.sources;
  auto candidates =
      sources.store.with([&request](store::Store& store) { return rollout::candidates_for(store, request); });
  if (!candidates) return db_error(candidates.error());
  auto catalog =
      release::ReleaseCatalog::open(releases_path(sources.state_dir), release_public_key_path(sources.state_dir));
  if (!catalog) return db_error(catalog.error());
  const std::string what = request.product + " " + request.version;
  return with_db(shared, [&](store::RolloutDb& db) {
    rollout::StartRefusal refusal = rollout::StartRefusal::failed;
    auto started = rollout::start_rollout(db, *catalog, *candidates, request, sources.now_ms(), &refusal);
    if (!started) {
      if (refusal != rollout::StartRefusal::failed) {
        audit(sources, actor, "rollout_start", what, "denied", started.error().message);
      }
      return start_refusal(refusal, started.error());
    }
    auto devices = db.devices(started->id);
    if (!devices) return db_error(devices.error());
    audit(sources, actor, "rollout_start", "rollout " + std::to_string(started->id), "ok",
          rollout::describe_start(*started, devices->size()));
    const log::Subjects about{{log::SubjectKey::user, actor.name}, {log::SubjectKey::client, actor.address}};
    log::component("https").info("{} started rollout {}: {}", actor.name, started->id,
                                 rollout::describe_start(*started, devices->size()));
    sources.engine.wake();
    return http::json_response(201, dump(rollout_json(summarise(std::move(*started), *devices))));
  });
}

http::Response command_answer(Shared& shared, std::int64_t id, RolloutCommand command, const accounts::Actor& actor) {
  const RolloutSources& sources = shared.sources;
  const std::string action = "rollout_" + std::string(rollout::to_string(command));
  const std::string target = "rollout " + std::to_string(id);
  return with_db(shared, [&](store::RolloutDb& db) {
    auto changed = rollout::command_rollout(db, id, command, sources.now_ms());
    if (!changed) {
      if (changed.error().code == Errc::not_found) return not_found(id);
      if (changed.error().code != Errc::conflict) return db_error(changed.error());
      audit(sources, actor, action, target, "denied", changed.error().message);
      return http::error_response(409, "rollout_state", changed.error().message);
    }
    auto devices = db.devices(id);
    if (!devices) return db_error(devices.error());
    audit(sources, actor, action, target, "ok", changed->product + " " + changed->version);
    const log::Subjects about{{log::SubjectKey::user, actor.name}, {log::SubjectKey::client, actor.address}};
    log::component("https").info(
        "{} {} rollout {}", actor.name,
        command == RolloutCommand::abort ? "aborted" : std::string(rollout::to_string(command)) + "d", id);
    sources.engine.wake();
    return http::json_response(200, dump(rollout_json(summarise(std::move(*changed), *devices))));
  });
}

http::Response update_answer(Shared& shared, const std::string& device) {
  return with_db(shared, [&](store::RolloutDb& db) {
    auto offer = db.offer_for(device);
    if (!offer) return db_error(offer.error());
    if (!*offer) {
      http::Response none;
      none.status = 204;
      none.content_type.clear();
      return none;
    }
    return http::json_response(200, rollout::encode_notice((*offer)->id, (*offer)->product, (*offer)->version));
  });
}

http::Handler command_route(const RouteGuard& guard, const std::shared_ptr<Shared>& shared, RolloutCommand command) {
  return guard.user(
      Role::operator_, [shared, command](Principal principal, http::Request request, http::Responder respond) {
        auto id = rollout_id_of(request);
        if (auto* refused = std::get_if<http::Response>(&id)) return respond(std::move(*refused));
        if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
        // Nothing in a body would be read: an empty one, or an empty object (what a form sends).
        if (!request.body.empty() && json::parse(request.body, nullptr, false) != json::object()) {
          return respond(http::error_response(400, "invalid_request", "this route takes no request body"));
        }
        answer_blocking(shared->sources.run_blocking, std::move(respond),
                        [shared, command, id = std::get<std::int64_t>(id),
                         actor = accounts::Actor{principal.user, request.peer_address}] {
                          return command_answer(*shared, id, command, actor);
                        });
      });
}

}  // namespace

void add_rollout_routes(http::Router& router, const RouteGuard& guard, RolloutSources sources) {
  const auto shared = std::make_shared<Shared>(std::move(sources));
  router.get(
      "/api/v1/rollouts", guard.user(Role::viewer, [shared](Principal, http::Request request, http::Responder respond) {
        if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
        answer_blocking(shared->sources.run_blocking, std::move(respond), [shared] { return list_answer(*shared); });
      }));
  router.add("POST", "/api/v1/rollouts",
             guard.user(Role::operator_, [shared](Principal principal, http::Request request, http::Responder respond) {
               if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
               if (auto refused = refuse_unless_json(request, "a rollout is sent as application/json")) {
                 return respond(std::move(*refused));
               }
               auto start = start_request_of(request);
               if (auto* refused = std::get_if<http::Response>(&start)) return respond(std::move(*refused));
               auto& body = std::get<rollout::StartRequest>(start);
               body.created_by = principal.user;
               answer_blocking(
                   shared->sources.run_blocking, std::move(respond),
                   [shared, body = std::move(body), actor = accounts::Actor{principal.user, request.peer_address}] {
                     return start_answer(*shared, body, actor);
                   });
             }));
  router.get("/api/v1/rollouts/{id}",
             guard.user(Role::viewer, [shared](Principal, http::Request request, http::Responder respond) {
               auto id = rollout_id_of(request);
               if (auto* refused = std::get_if<http::Response>(&id)) return respond(std::move(*refused));
               if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
               answer_blocking(shared->sources.run_blocking, std::move(respond),
                               [shared, id = std::get<std::int64_t>(id)] { return detail_answer(*shared, id); });
             }));
  router.add("POST", "/api/v1/rollouts/{id}/pause", command_route(guard, shared, RolloutCommand::pause));
  router.add("POST", "/api/v1/rollouts/{id}/resume", command_route(guard, shared, RolloutCommand::resume));
  router.add("POST", "/api/v1/rollouts/{id}/abort", command_route(guard, shared, RolloutCommand::abort));

  router.get("/api/v1/devices/{id}/update", [shared](http::Request request, http::Responder respond) {
    if (auto refused = refuse_unless_device(request, kUpdateWords)) return respond(std::move(*refused));
    if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
    answer_blocking(shared->sources.run_blocking, std::move(respond),
                    [shared, device = std::string(request.param("id"))] { return update_answer(*shared, device); });
  });
  router.add("POST", "/api/v1/devices/{id}/ota/status", [shared](http::Request request, http::Responder respond) {
    if (auto refused = refuse_unless_device(request, kReportWords)) return respond(std::move(*refused));
    if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
    if (auto refused = refuse_unless_json(request, "an update's status is sent as application/json")) {
      return respond(std::move(*refused));
    }
    std::string refusal;
    switch (shared->sources.engine.submit_report(request.param("id"), request.body, &refusal)) {
      case RolloutEngine::Submitted::queued: {
        http::Response accepted;
        accepted.status = 204;
        accepted.content_type.clear();
        return respond(std::move(accepted));
      }
      case RolloutEngine::Submitted::refused:
        return respond(http::error_response(400, "invalid_status", refusal));
      case RolloutEngine::Submitted::busy: {
        http::Response busy = http::error_response(503, "busy", "the gateway has too many reports in hand");
        busy.headers.emplace_back("Retry-After", "1");
        return respond(std::move(busy));
      }
    }
  });
}

}  // namespace kelvin::gateway
