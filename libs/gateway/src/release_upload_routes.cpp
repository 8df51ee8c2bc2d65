#include "kelvin/gateway/release_upload_routes.hpp"

#include <charconv>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>
#include <variant>

#include "kelvin/core/files.hpp"
#include "kelvin/gateway/state_layout.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/log/subject.hpp"
#include "kelvin/proto/signed_envelope.hpp"
#include "release_route_parts.hpp"
#include "route_checks.hpp"

namespace kelvin::gateway {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Sources = std::shared_ptr<const ReleaseUploadSources>;

// Where a release's upload waits for its image: its signed manifest, and the image's body file
// while it arrives. The leading dot keeps the catalog from taking it for a product.
fs::path pending_dir(const fs::path& state_dir, const ReleaseName& name) {
  return releases_path(state_dir) / ".uploads" / name.product / name.version.to_string();
}
fs::path pending_manifest(const fs::path& state_dir, const ReleaseName& name) {
  return pending_dir(state_dir, name) / "manifest";
}

void audit(const ReleaseUploadSources& sources, const accounts::Actor& actor, const ReleaseName& name,
           std::string_view result, const std::string& detail) {
  if (auto written = sources.accounts.audit(actor, "release_publish", name.text(), result, detail); !written) {
    log::component("https").error("writing the audit entry release_publish {} failed: {}", name.text(),
                                  written.error().message);
  }
}

// The answer to a refusal of the catalog (ReleaseCatalog::check_manifest, publish).
http::Response refusal_of(const Error& error) {
  switch (error.code) {
    case Errc::bad_credentials:
      return http::error_response(422, "bad_signature", "refused: " + error.message);
    case Errc::invalid_argument:
      return http::error_response(400, "malformed_manifest", "refused: " + error.message);
    case Errc::conflict:
      return http::error_response(409, "release_exists", error.message);
    case Errc::corrupt:
      return http::error_response(422, "image_mismatch", error.message);
    default:
      return release_catalog_error(error);
  }
}

std::string state_json(std::string_view state, const proto::ReleaseManifest& manifest) {
  return json{{"state", state},
              {"product", manifest.product},
              {"version", manifest.version.to_string()},
              {"size", manifest.size},
              {"sha256", manifest.sha256}}
      .dump();
}

http::Response manifest_answer(const ReleaseUploadSources& sources, const ReleaseName& name,
                               const std::string& envelope, const accounts::Actor& actor) {
  auto catalog = open_release_catalog(sources.state_dir);
  if (!catalog) return release_catalog_error(catalog.error());
  if (!*catalog) return release_key_missing();
  auto checked = (*catalog)->check_manifest(envelope);
  if (!checked) {
    audit(sources, actor, name, "refused", checked.error().message);
    return refusal_of(checked.error());
  }
  const auto& manifest = checked->manifest;
  if (manifest.product != name.product || manifest.version != name.version) {
    return http::error_response(
        400, "release_name_mismatch",
        "the manifest signs " + manifest.product + " " + manifest.version.to_string() + ", not " + name.text());
  }
  if (checked->published) return http::json_response(200, state_json("published", manifest));
  if (manifest.size > sources.max_image_bytes) {
    return http::error_response(413, "image_too_large",
                                "the manifest signs an image of " + std::to_string(manifest.size) +
                                    " bytes; this gateway takes images up to " +
                                    std::to_string(sources.max_image_bytes) + " bytes");
  }
  if (auto made = files::ensure_private_dir(pending_dir(sources.state_dir, name)); !made) {
    return release_catalog_error(made.error());
  }
  if (auto written =
          files::write_file_atomic(pending_manifest(sources.state_dir, name), envelope, files::kPrivateFileMode);
      !written) {
    return release_catalog_error(written.error());
  }
  return http::json_response(200, state_json("awaiting_image", manifest));
}

// The image's head, before its body is read: the session and role, the pending manifest, and a
// Content-Length that is the signed size. Reads release.pub and the manifest (small files) on
// the I/O thread.
http::BodyAdmission admit_image(const ReleaseUploadSources& sources, const RouteGuard& guard,
                                const http::Request& head) {
  if (auto refused = guard.refusal(Role::operator_, head)) return std::move(*refused);
  if (auto refused = refuse_parameters(head)) return std::move(*refused);
  auto name = release_name_of(head);
  if (auto* refused = std::get_if<http::Response>(&name)) return std::move(*refused);
  const auto& release = std::get<ReleaseName>(name);
  auto catalog = open_release_catalog(sources.state_dir);
  if (!catalog) return release_catalog_error(catalog.error());
  if (!*catalog) return release_key_missing();
  auto envelope = files::read_file(pending_manifest(sources.state_dir, release), proto::kMaxEnvelopeBytes);
  if (!envelope) {
    if (envelope.error().code != Errc::not_found) return release_catalog_error(envelope.error());
    return http::error_response(409, "manifest_missing",
                                "no upload of " + release.text() +
                                    " is waiting for its image: PUT its signed manifest to "
                                    "/api/v1/releases/{product}/{version}/manifest first");
  }
  auto manifest = proto::open_release_envelope(*envelope, (*catalog)->key());
  if (!manifest) return refusal_of(manifest.error());  // the trusted key changed meanwhile
  const auto length_text = head.header("Content-Length");
  if (!length_text) {
    return http::error_response(
        411, "length_required",
        "send the image with a Content-Length of its " + std::to_string(manifest->size) + " bytes");
  }
  std::uint64_t length = 0;
  const auto [end, parsed] = std::from_chars(length_text->data(), length_text->data() + length_text->size(), length);
  if (parsed != std::errc() || end != length_text->data() + length_text->size() || length != manifest->size) {
    return http::error_response(400, "size_mismatch",
                                "the manifest signs an image of " + std::to_string(manifest->size) +
                                    " bytes; this body has " + std::string(*length_text));
  }
  const auto timeout =
      sources.upload_base_timeout +
      std::chrono::seconds(manifest->size / std::max<std::uint64_t>(1, sources.min_upload_bytes_per_s));
  return http::BodyToFile{pending_dir(sources.state_dir, release), manifest->size,
                          std::chrono::duration_cast<std::chrono::milliseconds>(timeout)};
}

http::Response image_answer(const ReleaseUploadSources& sources, const ReleaseName& name, const http::BodyFile& image,
                            const accounts::Actor& actor) {
  auto catalog = open_release_catalog(sources.state_dir);
  if (!catalog) return release_catalog_error(catalog.error());
  if (!*catalog) return release_key_missing();
  auto envelope = files::read_file(pending_manifest(sources.state_dir, name), proto::kMaxEnvelopeBytes);
  if (!envelope) {
    // Another upload of the same release finished meanwhile and took its manifest.
    return http::error_response(409, "manifest_missing", "the upload of " + name.text() + " is no longer waiting");
  }
  auto published = (*catalog)->publish(image.path(), *envelope);
  if (!published) {
    audit(sources, actor, name, "refused", published.error().message);
    return refusal_of(published.error());
  }
  std::error_code ignored;
  fs::remove_all(pending_dir(sources.state_dir, name), ignored);
  const auto& manifest = published->release.manifest;
  if (published->already_published) return http::json_response(200, state_json("published", manifest));
  audit(sources, actor, name, "ok",
        "sha256 " + manifest.sha256 + ", security version " + std::to_string(manifest.security_version) + ", uploaded");
  const log::Subjects about{{log::SubjectKey::user, actor.name}, {log::SubjectKey::client, actor.address}};
  log::component("https").info("{} published {} ({} bytes)", actor.name, name.text(), manifest.size);
  return http::json_response(201, state_json("published", manifest));
}

}  // namespace

void add_release_upload_routes(http::Router& router, const RouteGuard& guard, ReleaseUploadSources sources) {
  const auto shared = std::make_shared<const ReleaseUploadSources>(std::move(sources));
  router.add("PUT", "/api/v1/releases/{product}/{version}/manifest",
             guard.user(Role::operator_, [shared](Principal principal, http::Request request, http::Responder respond) {
               if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
               if (auto refused = refuse_unless_json(request, "a signed manifest is sent as application/json")) {
                 return respond(std::move(*refused));
               }
               auto name = release_name_of(request);
               if (auto* refused = std::get_if<http::Response>(&name)) return respond(std::move(*refused));
               answer_blocking(
                   shared->run_blocking, std::move(respond),
                   [shared, name = std::get<ReleaseName>(std::move(name)), envelope = std::move(request.body),
                    actor = accounts::Actor{principal.user, request.peer_address}] {
                     return manifest_answer(*shared, name, envelope, actor);
                   });
             }));
  router.add("PUT", "/api/v1/releases/{product}/{version}/image",
             guard.user(Role::operator_,
                        [shared](Principal principal, http::Request request, http::Responder respond) {
                          auto name = release_name_of(request);
                          if (auto* refused = std::get_if<http::Response>(&name)) return respond(std::move(*refused));
                          if (!request.body_file) {  // admit_image always sends the body to a file
                            return respond(http::error_response(500, "internal", "the image did not arrive as a file"));
                          }
                          answer_blocking(shared->run_blocking, std::move(respond),
                                          [shared, name = std::get<ReleaseName>(std::move(name)),
                                           image = std::move(request.body_file),
                                           actor = accounts::Actor{principal.user, request.peer_address}] {
                                            return image_answer(*shared, name, *image, actor);
                                          });
                        }),
             [shared, &guard](const http::Request& head) { return admit_image(*shared, guard, head); });
}

}  // namespace kelvin::gateway
