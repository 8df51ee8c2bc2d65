#pragma once
// The web dashboard's files (web/dist, built by `make web`, installed at `[http] web_root`) served
// by the HTTPS server beside the REST API (docs/dashboard.md):
//
//   GET /                       <root>/index.html
//   GET /<a>/<b>...             <root>/<a>/<b>... when it is a regular file under the root
//   GET /api/...  (no route)    404 {"error":{"code":"not_found",...}}, as the API answers
//   GET anything else missing   404, plain text
//
// Only GETs that no API route matches come here (http::Router::fallback_get), so add_static_routes
// never hides an API route, a 405 or the 404 of another method.
//
// Safe paths only: the server's target parser already refuses "." and ".." segments, encoded
// slashes and control characters (http/target.hpp); here a segment that starts with '.' (hidden
// files) or is empty is refused too, and the file's canonical path (symlinks resolved) must stay
// under the root's canonical path, so a symlink that leads out of the root is answered 404. The
// file is then opened without following a symlink and must be a regular file of at most
// max_file_bytes. The check and the open are two steps: the root must be writable only by whoever
// installs the dashboard (root, a package), as for any program's files.
//
// Files are read from disk at every request, on the I/O thread: they are few and small (the
// bundle is about 100 KiB) and stay in the page cache, and a dashboard rebuilt or upgraded in place
// is served at the next reload without restarting the gateway.
//
// Caching: files under assets/ have content-hashed names (the build guarantees it), so browsers
// may keep them a year ("public, max-age=31536000, immutable"); everything else, index.html
// first, is "no-cache" (revalidated each time), so a new build is picked up at once.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/http/router.hpp"

namespace kelvin::gateway {

struct StaticFilesOptions {
  std::filesystem::path root;  // served at "/"; need not exist (then every file is missing)
  // A bigger file is not served (500, logged): the dashboard's files are a few hundred KiB, so a
  // huge one there is a mistake, not something to hold in memory per request.
  std::uint64_t max_file_bytes = 4 * 1024 * 1024;
};

// The Content-Type for a file name, by its extension (case-insensitive): text types with
// "; charset=utf-8"; application/octet-stream for an unknown one (X-Content-Type-Options: nosniff
// keeps the browser from guessing).
std::string_view static_content_type(std::string_view file_name);

// The Cache-Control of the file at these decoded path segments (see above).
std::string_view static_cache_control(const std::vector<std::string>& segments);

struct StaticFile {
  std::string content_type;
  std::string cache_control;
  std::string body;
};

// The file the decoded path `segments` name under options.root (no segments: index.html).
// Errc::not_found for a missing file, a directory, a hidden or empty segment, or a path that
// resolves out of the root; Errc::invalid_argument for a file over max_file_bytes; Errc::io or
// permission_denied when it cannot be read.
Result<StaticFile> read_static_file(const StaticFilesOptions& options, const std::vector<std::string>& segments);

// The answer to a GET of `request` (see the table above); a failure other than not_found is
// logged and answered 500.
http::Response static_file_response(const StaticFilesOptions& options, const http::Request& request);

// Serves options.root through router.fallback_get. Logs a warning when the root has no
// index.html (the dashboard is not installed: the API still works).
void add_static_routes(http::Router& router, StaticFilesOptions options);

}  // namespace kelvin::gateway
