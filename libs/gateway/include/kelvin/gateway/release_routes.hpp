#pragma once
// Firmware releases over HTTPS (docs/api.md, "Releases"; docs/ota.md):
//
//   GET /api/v1/releases                                            viewer: the releases the gateway
//                                                                   holds and the release key it trusts
//   GET /api/v1/devices/{id}/releases/{product}/{version}/manifest  device {id}: the signed manifest,
//                                                                   the bytes as published
//   GET /api/v1/devices/{id}/releases/{product}/{version}/image     device {id}: the image, whole or
//                                                                   the one byte range asked for
//
// The gateway only relays: a device checks the manifest's signature with the key it pinned and the
// image's SHA-256 itself, whatever the gateway says. The catalog is read from the state dir
// (kelvin/release/release_catalog.hpp), so a release `kelvinctl release publish` added, or a key
// `kelvinctl release trust` gave, is served at once without a restart; a release a device asked
// for is verified once and served from memory while its files stay the same
// (src/verified_releases.hpp), as a device asks for it once per 64 KiB range. Refusals: 404
// release_not_found, 503 release_key_missing (no key trusted yet), 500 release_catalog_error
// (details in the log). The work runs through the BlockingExecutor (files, signature checks); the
// image itself is read by the HTTPS server as the connection takes it.

#include <filesystem>

#include "kelvin/gateway/access.hpp"
#include "kelvin/gateway/blocking_answer.hpp"
#include "kelvin/http/router.hpp"

namespace kelvin::gateway {

struct ReleaseSources {
  BlockingExecutor run_blocking;
  std::filesystem::path state_dir;  // release.pub and releases/ (state_layout.hpp)
};

void add_release_routes(http::Router& router, const RouteGuard& guard, ReleaseSources sources);

}  // namespace kelvin::gateway
