#include "kelvin/gateway/release_routes.hpp"

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "kelvin/core/utc_time.hpp"
#include "kelvin/http/file_response.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/release/release_catalog.hpp"
#include "release_route_parts.hpp"
#include "route_checks.hpp"
#include "verified_releases.hpp"

namespace kelvin::gateway {
namespace {

using nlohmann::json;
using Sources = std::shared_ptr<const ReleaseSources>;

constexpr DeviceRouteWords kDownloadWords{"download a release", "only devices download releases",
                                          "a device downloads under its own id"};

json release_json(const proto::ReleaseManifest& m) {
  return {{"product", m.product},
          {"version", m.version.to_string()},
          {"security_version", m.security_version},
          {"size", m.size},
          {"sha256", m.sha256},
          {"created", m.created},
          {"notes", m.notes}};
}

json timestamp_json(const proto::ReleaseTimestamp& t) {
  return {{"product", t.product},
          {"version", t.version.to_string()},
          {"security_version", t.security_version},
          {"issued", format_utc_seconds(t.issued)},
          {"expires", format_utc_seconds(t.expires)}};
}

// Each product's release timestamp, for the products that have releases; an unreadable one is
// left out and logged.
json timestamps_json(const release::ReleaseCatalog& catalog, const std::vector<release::PublishedRelease>& releases) {
  json out = json::array();
  std::string last_product;
  for (const auto& published : releases) {
    const std::string& product = published.manifest.product;
    if (product == last_product) continue;
    last_product = product;
    auto stamp = catalog.timestamp(product);
    if (!stamp) {
      log::component("https").warn("the release timestamp of {} is not served: {}", product, stamp.error().message);
    } else if (*stamp) {
      out.push_back(timestamp_json((*stamp)->timestamp));
    }
  }
  return out;
}

http::Response list_answer(const ReleaseSources& sources) {
  auto catalog = open_release_catalog(sources.state_dir);
  if (!catalog) return release_catalog_error(catalog.error());
  json answer{{"release_key", nullptr}, {"releases", json::array()}, {"timestamps", json::array()}};
  if (!*catalog) return http::json_response(200, answer.dump());
  answer["release_key"] = std::string((*catalog)->key().key_id());
  std::vector<std::string> problems;
  auto releases = (*catalog)->list(&problems);
  if (!releases) return release_catalog_error(releases.error());
  for (const auto& problem : problems) log::component("https").warn("a release is not served: {}", problem);
  for (const auto& published : *releases) answer["releases"].push_back(release_json(published.manifest));
  answer["timestamps"] = timestamps_json(**catalog, *releases);
  return http::json_response(200, answer.dump());
}

// A device's request for its product's release timestamp: the signed bytes as published.
http::Response timestamp_answer(const ReleaseSources& sources, const std::string& product) {
  auto catalog = open_release_catalog(sources.state_dir);
  if (!catalog) return release_catalog_error(catalog.error());
  if (!*catalog) return release_key_missing();
  auto stamp = (*catalog)->timestamp(product);
  if (!stamp) return release_catalog_error(stamp.error());
  if (!*stamp) {
    return http::error_response(404, "timestamp_not_found", "no release timestamp is published for this product");
  }
  return http::json_response(200, (*stamp)->envelope);
}

using Release = std::shared_ptr<const release::PublishedRelease>;

http::Response manifest_answer(const release::PublishedRelease& release, const std::optional<std::string>&) {
  // The bytes the catalog verified, not a second read of the file.
  return http::json_response(200, release.envelope);
}

http::Response image_answer(const release::PublishedRelease& release, const std::optional<std::string>& range) {
  return http::file_response(release.image(), release.manifest.size, range, "application/octet-stream",
                             "\"" + release.manifest.sha256 + "\"");
}

using DeviceAnswer = http::Response (*)(const release::PublishedRelease&, const std::optional<std::string>&);

// A device's request for a release: answered at once from a release verified before
// (VerifiedReleases::recall), else after verifying it on a blocking thread.
http::Handler device_route(const Sources& sources, const std::shared_ptr<VerifiedReleases>& verified,
                           DeviceAnswer answer) {
  return [sources, verified, answer](http::Request request, http::Responder respond) {
    if (auto refused = refuse_unless_device(request, kDownloadWords)) return respond(std::move(*refused));
    if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
    auto name = release_name_of(request);
    if (auto* refused = std::get_if<http::Response>(&name)) return respond(std::move(*refused));
    std::optional<std::string> range;
    if (auto header = request.header("Range")) range = std::string(*header);
    const auto& release_name = std::get<ReleaseName>(name);
    if (Release known = verified->recall(release_name)) return respond(answer(*known, range));
    answer_blocking(sources->run_blocking, std::move(respond), [verified, answer, release_name, range] {
      auto found = verified->verify(release_name);
      if (auto* refused = std::get_if<http::Response>(&found)) return std::move(*refused);
      return answer(*std::get<Release>(found), range);
    });
  };
}

}  // namespace

void add_release_routes(http::Router& router, const RouteGuard& guard, ReleaseSources sources) {
  const auto shared = std::make_shared<const ReleaseSources>(std::move(sources));
  router.get("/api/v1/releases",
             guard.user(Role::viewer, [shared](Principal, http::Request request, http::Responder respond) {
               if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
               answer_blocking(shared->run_blocking, std::move(respond), [shared] { return list_answer(*shared); });
             }));
  const auto verified = std::make_shared<VerifiedReleases>(shared->state_dir);
  router.get("/api/v1/devices/{id}/releases/{product}/{version}/manifest",
             device_route(shared, verified, manifest_answer));
  router.get("/api/v1/devices/{id}/releases/{product}/{version}/image", device_route(shared, verified, image_answer));
  router.get(
      "/api/v1/devices/{id}/releases/{product}/timestamp", [shared](http::Request request, http::Responder respond) {
        if (auto refused = refuse_unless_device(request, kDownloadWords)) return respond(std::move(*refused));
        if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
        answer_blocking(
            shared->run_blocking, std::move(respond),
            [shared, product = std::string(request.param("product"))] { return timestamp_answer(*shared, product); });
      });
}

}  // namespace kelvin::gateway
