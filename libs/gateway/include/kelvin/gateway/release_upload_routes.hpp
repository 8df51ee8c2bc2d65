#pragma once
// Publishing a release over HTTPS, for operators and admins (docs/api.md, "Publishing a release";
// the dashboard's Releases page uploads through it), in two requests so that nothing large is
// taken in before its signature holds:
//
//   PUT /api/v1/releases/{product}/{version}/manifest   the signed manifest (kelvinctl release sign
//                                                        wrote it), checked against the trusted key
//                                                        and kept as the release's pending upload
//   PUT /api/v1/releases/{product}/{version}/image      the image as the body, exactly as many
//                                                        bytes as that manifest signs; written to a
//                                                        file as it arrives, then published as
//                                                        kelvinctl release publish does
//
// The image's head is checked before any of its body is read (http::AdmitBody): the session and
// role, a pending manifest, and a Content-Length equal to the signed size. Refusals: 401/403 as
// every user route; 400 malformed_manifest, 400 release_name_mismatch (the manifest names another
// release than the path), 422 bad_signature (not the trusted key's), 409 release_exists (another
// image under that product and version), 413 image_too_large (past max_image_bytes), 409
// manifest_missing (an image before its manifest), 411 length_required, 400 size_mismatch, 422
// image_mismatch (the bytes are not the signed image), 503 release_key_missing. Publishing and
// every refusal after a signed-in operator's request are in the audit log (release_publish).
// Pending manifests live in <releases>/.uploads/<product>/<version>/, which the catalog ignores.

#include <cstdint>
#include <filesystem>

#include "kelvin/accounts/accounts.hpp"
#include "kelvin/gateway/access.hpp"
#include "kelvin/gateway/blocking_answer.hpp"
#include "kelvin/http/router.hpp"

namespace kelvin::gateway {

struct ReleaseUploadSources {
  BlockingExecutor run_blocking;    // signature checks, the copy into the catalog
  std::filesystem::path state_dir;  // release.pub and releases/ (state_layout.hpp)
  accounts::Accounts& accounts;     // the audit log
  std::uint64_t max_image_bytes = 256ull << 20;
  // The image's body may take this long plus a second per min_upload_bytes_per_s bytes.
  std::chrono::milliseconds upload_base_timeout{30'000};
  std::uint64_t min_upload_bytes_per_s = 64 * 1024;
};

void add_release_upload_routes(http::Router& router, const RouteGuard& guard, ReleaseUploadSources sources);

}  // namespace kelvin::gateway
