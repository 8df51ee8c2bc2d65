#include "kelvin/gateway/device_routes.hpp"

#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "kelvin/core/identity.hpp"
#include "kelvin/core/time_format.hpp"
#include "kelvin/fleet/device_removal.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/log/subject.hpp"
#include "route_checks.hpp"

namespace kelvin::gateway {
namespace {

using nlohmann::json;
using Sources = std::shared_ptr<const DeviceActionSources>;

json certificates_json(const std::vector<pki::IssuedCertificate>& certificates) {
  json out = json::array();
  for (const auto& record : certificates) {
    out.push_back({{"serial", record.serial},
                   {"expires", format_utc_timestamp(record.not_after)},
                   {"expires_ms", static_cast<std::int64_t>(record.not_after) * 1000}});
  }
  return out;
}

// A failure of the CA or the store as the client sees it; the details go to the log only.
http::Response failure_answer(const std::string& device_id, const Error& error) {
  const log::Subjects about{{log::SubjectKey::device, device_id}};
  switch (error.code) {
    case Errc::not_found:
      return http::error_response(404, "device_not_found", error.message);
    case Errc::conflict:
      return http::error_response(409, "nothing_to_revoke", error.message);
    case Errc::bad_credentials:
      log::component("https").warn("cannot sign a CRL to revoke {}: {}", device_id, error.message);
      return http::error_response(503, "ca_key_unavailable",
                                  "the gateway cannot sign with the CA key (it is encrypted and kelvin-gateway was "
                                  "not given KELVIN_CA_PASSPHRASE): run kelvinctl device revoke or remove on the "
                                  "gateway's host");
    default:
      log::component("https").error("changing device {} failed: {}", device_id, error.message);
      return http::error_response(500, "device_action_failed",
                                  "the gateway could not change its certificate authority or store; its log says why");
  }
}

// Writes the audit entry; a failure to write is logged (the action itself happened or not).
void audit(const DeviceActionSources& sources, const accounts::Actor& actor, std::string_view action,
           const std::string& device_id, std::string_view result, const std::string& detail) {
  if (auto written = sources.accounts.audit(actor, action, device_id, result, detail); !written) {
    const log::Subjects about{{log::SubjectKey::device, device_id},
                              {log::SubjectKey::user, actor.name},
                              {log::SubjectKey::client, actor.address}};
    log::component("https").error("writing the audit entry {} {} failed: {}", action, device_id,
                                  written.error().message);
  }
}

std::time_t seconds_now(const DeviceActionSources& sources) {
  return static_cast<std::time_t>(sources.now_ms() / 1000);
}

http::Response revoke_answer(const DeviceActionSources& sources, const std::string& device_id,
                             const accounts::Actor& actor) {
  auto ca = pki::CertificateAuthority::open(sources.pki_dir, sources.ca_passphrase);
  if (!ca) return failure_answer(device_id, ca.error());
  auto revoked = fleet::revoke_device(*ca, device_id, seconds_now(sources));
  if (!revoked) {
    audit(sources, actor, "device_revoke", device_id, "denied", revoked.error().message);
    return failure_answer(device_id, revoked.error());
  }
  const std::string serials = fleet::revoked_serials_detail(*revoked);
  audit(sources, actor, "device_revoke", device_id, "ok", serials);
  const log::Subjects about{{log::SubjectKey::device, device_id},
                            {log::SubjectKey::user, actor.name},
                            {log::SubjectKey::client, actor.address}};
  log::component("https").info("{} revoked device {} ({})", actor.name, device_id, serials);
  return http::json_response(200, json{{"device", device_id}, {"revoked", certificates_json(*revoked)}}.dump());
}

http::Response remove_answer(const DeviceActionSources& sources, const std::string& device_id,
                             const accounts::Actor& actor) {
  auto ca = pki::CertificateAuthority::open(sources.pki_dir, sources.ca_passphrase);
  if (!ca) return failure_answer(device_id, ca.error());
  auto store = sources.open_store();
  if (!store) return failure_answer(device_id, store.error());
  auto removal = fleet::remove_device(*ca, &*store, device_id, /*purge=*/false, seconds_now(sources));
  if (!removal) {
    audit(sources, actor, "device_remove", device_id, "denied", removal.error().message);
    return failure_answer(device_id, removal.error());
  }
  const std::uint64_t kept = removal->stored ? removal->stored->readings_stored : 0;
  const std::string serials = fleet::revoked_serials_detail(removal->revoked);
  audit(sources, actor, "device_remove", device_id, "ok",
        serials + "; " + std::to_string(kept) + " stored readings kept");
  const log::Subjects about{{log::SubjectKey::device, device_id},
                            {log::SubjectKey::user, actor.name},
                            {log::SubjectKey::client, actor.address}};
  log::component("https").info("{} removed device {} ({})", actor.name, device_id, serials);
  return http::json_response(200, json{{"device", device_id},
                                       {"revoked", certificates_json(removal->revoked)},
                                       {"registration_removed", removal->stored && removal->stored->registered_ms != 0},
                                       {"readings_kept", kept}}
                                      .dump());
}

std::string joined(const std::vector<std::string>& labels) {
  std::string text;
  for (const auto& label : labels) text += (text.empty() ? "" : ", ") + label;
  return text.empty() ? "none" : text;
}

// The labels of a PUT .../labels body ({"labels":["a","b"]}), checked, or the 400 answer.
std::variant<std::vector<std::string>, http::Response> labels_of(const http::Request& request) {
  const json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return http::error_response(400, "malformed_json", "the body must be one JSON object");
  }
  const auto invalid = http::error_response(
      400, "invalid_request", "the body is {\"labels\": [a list of labels]}, e.g. {\"labels\":[\"greenhouse\"]}");
  if (body.size() != 1 || !body.contains("labels") || !body["labels"].is_array()) return invalid;
  std::set<std::string> labels;
  for (const auto& label : body["labels"]) {
    if (!label.is_string()) return invalid;
    const auto& text = label.get_ref<const std::string&>();
    if (auto valid = validate_label(text); !valid)
      return http::error_response(400, "invalid_label", valid.error().message);
    labels.insert(text);
  }
  if (labels.size() > kMaxLabelsPerDevice) {
    return http::error_response(400, "too_many_labels",
                                "a device carries at most " + std::to_string(kMaxLabelsPerDevice) + " labels");
  }
  return std::vector<std::string>(labels.begin(), labels.end());
}

http::Response labels_answer(const DeviceActionSources& sources, const std::string& device_id,
                             const std::vector<std::string>& labels, const accounts::Actor& actor) {
  auto store = sources.open_store();
  if (!store) return failure_answer(device_id, store.error());
  auto before = store->device(device_id);
  if (!before) return failure_answer(device_id, before.error());
  auto set = store->set_device_labels(device_id, labels);
  if (!set) {
    audit(sources, actor, "device_label", device_id, "denied", set.error().message);
    if (set.error().code == Errc::invalid_argument) {
      return http::error_response(400, "invalid_label", set.error().message);
    }
    return failure_answer(device_id, set.error());
  }
  const std::string was = *before ? joined((*before)->labels) : "none";
  audit(sources, actor, "device_label", device_id, "ok", "labels " + joined(*set) + " (were " + was + ")");
  const log::Subjects about{{log::SubjectKey::device, device_id},
                            {log::SubjectKey::user, actor.name},
                            {log::SubjectKey::client, actor.address}};
  log::component("https").info("{} set the labels of {}: {}", actor.name, device_id, joined(*set));
  return http::json_response(200, json{{"device", device_id}, {"labels", *set}}.dump());
}

using Action = http::Response (*)(const DeviceActionSources&, const std::string&, const accounts::Actor&);

// An operator route that checks the id and the (absent) parameters on the I/O thread, then runs
// `action` through the executor.
http::Handler operator_route(const RouteGuard& guard, const Sources& sources, Action action) {
  return guard.user(
      Role::operator_, [sources, action](Principal principal, http::Request request, http::Responder respond) {
        auto id = device_id_of(request);
        if (auto* refused = std::get_if<http::Response>(&id)) return respond(std::move(*refused));
        if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
        // Nothing in a body would be read (no purge, say): better refused than silently ignored.
        if (!request.body.empty()) {
          return respond(http::error_response(400, "invalid_request", "this route takes no request body"));
        }
        answer_blocking(
            sources->run_blocking, std::move(respond),
            [sources, action, id = std::get<std::string>(std::move(id)),
             actor = accounts::Actor{principal.user, request.peer_address}] { return action(*sources, id, actor); });
      });
}

// PUT /api/v1/devices/{id}/labels: the id, parameters and body checked on the I/O thread, the
// store's write through the executor.
http::Handler labels_route(const RouteGuard& guard, const Sources& sources) {
  return guard.user(Role::operator_, [sources](Principal principal, http::Request request, http::Responder respond) {
    auto id = device_id_of(request);
    if (auto* refused = std::get_if<http::Response>(&id)) return respond(std::move(*refused));
    if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
    if (auto refused = refuse_unless_json(request, "labels are sent as application/json")) {
      return respond(std::move(*refused));
    }
    auto labels = labels_of(request);
    if (auto* refused = std::get_if<http::Response>(&labels)) return respond(std::move(*refused));
    answer_blocking(sources->run_blocking, std::move(respond),
                    [sources, id = std::get<std::string>(std::move(id)),
                     labels = std::get<std::vector<std::string>>(std::move(labels)),
                     actor = accounts::Actor{principal.user, request.peer_address}] {
                      return labels_answer(*sources, id, labels, actor);
                    });
  });
}

}  // namespace

void add_device_routes(http::Router& router, const RouteGuard& guard, DeviceActionSources sources) {
  const auto shared = std::make_shared<const DeviceActionSources>(std::move(sources));
  router.add("POST", "/api/v1/devices/{id}/revoke", operator_route(guard, shared, revoke_answer));
  router.add("DELETE", "/api/v1/devices/{id}", operator_route(guard, shared, remove_answer));
  router.add("PUT", "/api/v1/devices/{id}/labels", labels_route(guard, shared));
}

}  // namespace kelvin::gateway
