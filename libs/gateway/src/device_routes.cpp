#include "kelvin/gateway/device_routes.hpp"

#include <spdlog/spdlog.h>

#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "kelvin/core/time_format.hpp"
#include "kelvin/fleet/device_removal.hpp"
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
  switch (error.code) {
    case Errc::not_found:
      return http::error_response(404, "device_not_found", error.message);
    case Errc::conflict:
      return http::error_response(409, "nothing_to_revoke", error.message);
    case Errc::bad_credentials:
      spdlog::warn("https: cannot sign a CRL to revoke {}: {}", device_id, error.message);
      return http::error_response(503, "ca_key_unavailable",
                                  "the gateway cannot sign with the CA key (it is encrypted and kelvin-gateway was "
                                  "not given KELVIN_CA_PASSPHRASE): run kelvinctl device revoke or remove on the "
                                  "gateway's host");
    default:
      spdlog::error("https: taking device {} out failed: {}", device_id, error.message);
      return http::error_response(500, "device_action_failed",
                                  "the gateway could not change its certificate authority or store; its log says why");
  }
}

// Writes the audit entry; a failure to write is logged (the action itself happened or not).
void audit(const DeviceActionSources& sources, const accounts::Actor& actor, std::string_view action,
           const std::string& device_id, std::string_view result, const std::string& detail) {
  if (auto written = sources.accounts.audit(actor, action, device_id, result, detail); !written) {
    spdlog::error("https: writing the audit entry {} {} failed: {}", action, device_id, written.error().message);
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
  spdlog::info("https: {} revoked device {} ({})", actor.name, device_id, serials);
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
  spdlog::info("https: {} removed device {} ({})", actor.name, device_id, serials);
  return http::json_response(200, json{{"device", device_id},
                                       {"revoked", certificates_json(removal->revoked)},
                                       {"registration_removed", removal->stored && removal->stored->registered_ms != 0},
                                       {"readings_kept", kept}}
                                      .dump());
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

}  // namespace

void add_device_routes(http::Router& router, const RouteGuard& guard, DeviceActionSources sources) {
  const auto shared = std::make_shared<const DeviceActionSources>(std::move(sources));
  router.add("POST", "/api/v1/devices/{id}/revoke", operator_route(guard, shared, revoke_answer));
  router.add("DELETE", "/api/v1/devices/{id}", operator_route(guard, shared, remove_answer));
}

}  // namespace kelvin::gateway
