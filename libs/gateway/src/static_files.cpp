#include "kelvin/gateway/static_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "kelvin/log/log.hpp"

namespace kelvin::gateway {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kIndex = "index.html";
constexpr std::string_view kImmutableDir = "assets";

char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Closes a descriptor when it goes out of scope.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

Error not_found(std::string_view what) {
  return make_error(Errc::not_found, "no such file: " + std::string(what));
}

// Whether `inner` is `outer` or lies below it; both canonical (absolute, no symlinks, no dots).
bool is_within(const fs::path& outer, const fs::path& inner) {
  return std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end()).first == outer.end();
}

// Reads the regular file at `path` (canonical, checked to be under the root) without following a
// symlink there, up to `max_bytes`.
Result<std::string> read_regular_file(const fs::path& path, std::uint64_t max_bytes) {
  const Descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    const int error = errno;
    if (error == ENOENT || error == ELOOP || error == ENOTDIR) return not_found(path.string());
    return make_error(error == EACCES ? Errc::permission_denied : Errc::io,
                      "cannot open " + path.string() + ": " + std::strerror(error));
  }
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) {
    return make_error(Errc::io, "cannot stat " + path.string() + ": " + std::strerror(errno));
  }
  if (!S_ISREG(status.st_mode)) return not_found(path.string());  // a directory, a FIFO, a device
  if (static_cast<std::uint64_t>(status.st_size) > max_bytes) {
    return make_error(Errc::invalid_argument, path.string() + " has " + std::to_string(status.st_size) +
                                                  " bytes, more than the " + std::to_string(max_bytes) +
                                                  " a dashboard file may have");
  }
  std::string body(static_cast<std::size_t>(status.st_size), '\0');
  std::size_t done = 0;
  while (done < body.size()) {
    const ssize_t got = ::read(fd.get(), body.data() + done, body.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return make_error(Errc::io, "cannot read " + path.string() + ": " + std::strerror(errno));
    if (got == 0) break;  // shrank while being read: serve what is there
    done += static_cast<std::size_t>(got);
  }
  body.resize(done);
  return body;
}

http::Response plain_response(int status, std::string body) {
  http::Response response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.headers.emplace_back("Cache-Control", "no-store");
  response.body = std::move(body);
  return response;
}

}  // namespace

std::string_view static_content_type(std::string_view file_name) {
  struct Type {
    std::string_view extension;  // lower case, with the dot
    std::string_view content_type;
  };
  static constexpr std::array<Type, 16> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".jpg", "image/jpeg"},
      {".webp", "image/webp"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
  }};
  const std::size_t dot = file_name.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  const std::string_view extension = file_name.substr(dot);
  for (const auto& type : kTypes) {
    if (type.extension.size() == extension.size() &&
        std::equal(extension.begin(), extension.end(), type.extension.begin(),
                   [](char a, char b) { return lower(a) == b; })) {
      return type.content_type;
    }
  }
  return "application/octet-stream";
}

std::string_view static_cache_control(const std::vector<std::string>& segments) {
  if (segments.size() >= 2 && segments.front() == kImmutableDir) return "public, max-age=31536000, immutable";
  return "no-cache";
}

Result<StaticFile> read_static_file(const StaticFilesOptions& options, const std::vector<std::string>& segments) {
  std::vector<std::string> names = segments;
  if (names.empty()) names.emplace_back(kIndex);
  fs::path wanted = options.root;
  for (const auto& name : names) {
    // parse_target refused "." and "..", '/', '\' and control characters already; hidden files
    // ("/.git/config") and empty segments ("/assets/", "/a//b") are never the dashboard's.
    if (name.empty() || name.front() == '.' || name.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos) {
      return not_found(name);
    }
    wanted /= name;
  }
  std::error_code ec;
  const fs::path root = fs::canonical(options.root, ec);
  if (ec) return not_found(options.root.string());
  const fs::path file = fs::canonical(wanted, ec);
  if (ec) return not_found(wanted.string());
  if (!is_within(root, file) || file == root) return not_found(wanted.string());
  auto body = read_regular_file(file, options.max_file_bytes);
  if (!body) return std::move(body).error();
  return StaticFile{std::string(static_content_type(names.back())), std::string(static_cache_control(segments)),
                    std::move(*body)};
}

http::Response static_file_response(const StaticFilesOptions& options, const http::Request& request) {
  if (!request.segments.empty() && request.segments.front() == "api") {
    return http::error_response(404, "not_found", "no such resource: " + request.path);
  }
  auto file = read_static_file(options, request.segments);
  if (!file) {
    if (file.error().code == Errc::not_found) {
      return plain_response(404, request.segments.empty()
                                     ? "The dashboard is not installed on this gateway (docs/dashboard.md).\n"
                                     : "Not found.\n");
    }
    log::component("https").error("cannot serve the dashboard's {}: {}", request.path, file.error().message);
    return plain_response(500, "The gateway could not read this file; its log says why.\n");
  }
  http::Response response;
  response.status = 200;
  response.content_type = std::move(file->content_type);
  response.headers.emplace_back("Cache-Control", std::move(file->cache_control));
  response.body = std::move(file->body);
  return response;
}

void add_static_routes(http::Router& router, StaticFilesOptions options) {
  std::error_code ec;
  if (!fs::is_regular_file(options.root / kIndex, ec)) {
    log::component("https").warn(
        "no dashboard at {} ([http] web_root has no index.html): the API is served, the dashboard "
        "is not; build it with `make web` and install web/dist there (docs/dashboard.md)",
        options.root.string());
  }
  router.fallback_get([options = std::move(options)](http::Request request, http::Responder respond) {
    respond(static_file_response(options, request));
  });
}

}  // namespace kelvin::gateway
