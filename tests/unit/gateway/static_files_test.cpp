// The dashboard's files served beside the API: content types, caching, index.html at "/", the API's
// JSON 404 under /api and a plain one elsewhere, and nothing outside the root: no traversal, no
// hidden files, no symlink that leads out, no file over the size cap.

#include "kelvin/gateway/static_files.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kelvin/http/response_headers.hpp"
#include "kelvin/http/target.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::gateway {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

http::Request get(std::string_view target, std::string method = "GET") {
  http::Request request;
  request.method = std::move(method);
  request.target = std::string(target);
  auto parsed = http::parse_target(target);
  EXPECT_TRUE(parsed.ok()) << target;
  if (parsed.ok()) {
    request.path = parsed->path;
    request.segments = parsed->segments;
    request.query = parsed->query;
  }
  return request;
}

std::optional<std::string> header(const http::Response& response, std::string_view name) {
  for (const auto& [field, value] : http::response_headers(response)) {
    if (http::field_name_equals(field, name)) return value;
  }
  return std::nullopt;
}

class StaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(root() / "index.html", "<!doctype html><title>kelvin</title>");
    write_file(root() / "favicon.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    write_file(root() / "assets" / "app-Q3F5ZK2A.js", "console.log(1);");
    write_file(root() / "assets" / "app-Q3F5ZK2A.css", "body{margin:0}");
    write_file(dir_ / "outside" / "secret.txt", "not for the web");
    options_.root = root();
  }

  fs::path root() const { return dir_ / "web"; }
  http::Response answer(std::string_view target) const { return static_file_response(options_, get(target)); }

  kelvin::testing::TempDir dir_;
  StaticFilesOptions options_;
};

TEST(StaticContentType, ByExtensionCaseInsensitivelyWithCharsetForText) {
  EXPECT_EQ(static_content_type("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(static_content_type("app-Q3F5ZK2A.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(static_content_type("APP.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(static_content_type("app.css"), "text/css; charset=utf-8");
  EXPECT_EQ(static_content_type("app.js.map"), "application/json");
  EXPECT_EQ(static_content_type("favicon.svg"), "image/svg+xml");
  EXPECT_EQ(static_content_type("logo.png"), "image/png");
  EXPECT_EQ(static_content_type("font.woff2"), "font/woff2");
  EXPECT_EQ(static_content_type("notes.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(static_content_type("archive.tar.gz"), "application/octet-stream");
  EXPECT_EQ(static_content_type("README"), "application/octet-stream");
  EXPECT_EQ(static_content_type("html"), "application/octet-stream");
}

TEST(StaticCacheControl, HashedAssetsForAYearEverythingElseRevalidated) {
  EXPECT_EQ(static_cache_control({"assets", "app-Q3F5ZK2A.js"}), "public, max-age=31536000, immutable");
  EXPECT_EQ(static_cache_control({}), "no-cache");
  EXPECT_EQ(static_cache_control({"index.html"}), "no-cache");
  EXPECT_EQ(static_cache_control({"favicon.svg"}), "no-cache");
  EXPECT_EQ(static_cache_control({"assets"}), "no-cache");
}

TEST_F(StaticFiles, RootServesIndexHtmlRevalidatedEachTime) {
  for (const char* target : {"/", "/index.html", "/?next=fleet"}) {
    SCOPED_TRACE(target);
    const http::Response response = answer(target);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "<!doctype html><title>kelvin</title>");
    EXPECT_EQ(response.content_type, "text/html; charset=utf-8");
    EXPECT_EQ(header(response, "Cache-Control"), "no-cache");
    // The server's security headers are added as for every answer.
    EXPECT_EQ(header(response, "Content-Security-Policy"), "default-src 'self'; frame-ancestors 'none'");
  }
}

TEST_F(StaticFiles, AssetsWithTheirTypeAndCachedForAYear) {
  const http::Response js = answer("/assets/app-Q3F5ZK2A.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log(1);");
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(header(js, "Cache-Control"), "public, max-age=31536000, immutable");
  const http::Response css = answer("/assets/app-Q3F5ZK2A.css");
  EXPECT_EQ(css.content_type, "text/css; charset=utf-8");
  EXPECT_EQ(css.body, "body{margin:0}");
  const http::Response icon = answer("/favicon.svg");
  EXPECT_EQ(icon.content_type, "image/svg+xml");
  EXPECT_EQ(header(icon, "Cache-Control"), "no-cache");
  // Percent-encoded names are decoded by the target parser like any path.
  write_file(root() / "assets" / "a b.txt", "spaced");
  EXPECT_EQ(answer("/assets/a%20b.txt").body, "spaced");
}

TEST_F(StaticFiles, MissingFilesArePlain404OutsideTheApiAndJson404UnderIt) {
  for (const char* target : {"/nothing.js", "/assets/app-OLD.js", "/assets", "/assets/", "/a//b", "/index.html/x"}) {
    SCOPED_TRACE(target);
    const http::Response response = answer(target);
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(response.content_type, "text/plain; charset=utf-8");
    EXPECT_EQ(response.body, "Not found.\n");
  }
  // Under /api the API's own answer, even for a file that exists at that path in the root.
  write_file(root() / "api" / "v1" / "devices", "a file");
  for (const char* target : {"/api", "/api/v1/devices", "/api/v1/nothing"}) {
    SCOPED_TRACE(target);
    const http::Response response = answer(target);
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(response.content_type, "application/json");
    auto body = nlohmann::json::parse(response.body, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << response.body;
    EXPECT_EQ(body["error"]["code"], "not_found");
  }
}

TEST_F(StaticFiles, TraversalAndHiddenFilesAreRefusedEvenIfTheParserLetThemThrough) {
  // parse_target refuses these targets before any route; read_static_file refuses the segments too.
  write_file(root() / ".hidden", "dot file");
  write_file(root() / "assets" / ".git" / "config", "dot dir");
  for (const auto& segments : std::vector<std::vector<std::string>>{{"..", "outside", "secret.txt"},
                                                                    {"assets", "..", "..", "outside", "secret.txt"},
                                                                    {".", "index.html"},
                                                                    {".hidden"},
                                                                    {"assets", ".git", "config"},
                                                                    {"assets/../../outside/secret.txt"},
                                                                    {"..\\outside\\secret.txt"},
                                                                    {""},
                                                                    {"assets", ""}}) {
    auto file = read_static_file(options_, segments);
    ASSERT_FALSE(file.ok()) << segments.front() << ": " << file->body;
    EXPECT_EQ(file.error().code, Errc::not_found);
  }
  EXPECT_EQ(answer("/.hidden").status, 404);
  EXPECT_FALSE(http::parse_target("/../outside/secret.txt").ok());
  EXPECT_FALSE(http::parse_target("/assets/..%2f..%2foutside/secret.txt").ok());
}

TEST_F(StaticFiles, SymlinksLeadingOutOfTheRootAreRefusedThoseInsideServed) {
  fs::create_symlink(dir_ / "outside" / "secret.txt", root() / "leak.txt");
  fs::create_directory_symlink(dir_ / "outside", root() / "assets" / "outside");
  fs::create_symlink("../outside/secret.txt", root() / "relative.txt");
  fs::create_symlink("/etc/passwd", root() / "passwd.txt");
  for (const char* target : {"/leak.txt", "/assets/outside/secret.txt", "/relative.txt", "/passwd.txt"}) {
    SCOPED_TRACE(target);
    const http::Response response = answer(target);
    EXPECT_EQ(response.status, 404);
    EXPECT_THAT(response.body, Not(HasSubstr("not for the web")));
  }
  // A link that stays inside the root is followed (packagers may link files between builds).
  fs::create_symlink("assets/app-Q3F5ZK2A.js", root() / "app.js");
  EXPECT_EQ(answer("/app.js").body, "console.log(1);");
  // The root itself may be a symlink (/usr/share/kelvin/web -> a versioned directory).
  fs::create_directory_symlink(root(), dir_ / "current");
  StaticFilesOptions linked{.root = dir_ / "current"};
  EXPECT_EQ(static_file_response(linked, get("/")).status, 200);
  EXPECT_EQ(static_file_response(linked, get("/leak.txt")).status, 404);
}

TEST_F(StaticFiles, AFileOverTheCapIs500WithoutItsContents) {
  write_file(root() / "assets" / "big-AAAAAAAA.js", std::string(2048, 'x'));
  options_.max_file_bytes = 1024;
  const http::Response response = answer("/assets/big-AAAAAAAA.js");
  EXPECT_EQ(response.status, 500);
  EXPECT_THAT(response.body, Not(HasSubstr("xxxx")));
  auto file = read_static_file(options_, {"assets", "big-AAAAAAAA.js"});
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code, Errc::invalid_argument);
  EXPECT_EQ(answer("/assets/app-Q3F5ZK2A.js").status, 200) << "smaller files are still served";
}

TEST_F(StaticFiles, AMissingRootServesNothingAndSaysTheDashboardIsNotInstalled) {
  StaticFilesOptions missing{.root = dir_ / "not-built"};
  const http::Response index = static_file_response(missing, get("/"));
  EXPECT_EQ(index.status, 404);
  EXPECT_THAT(index.body, HasSubstr("not installed"));
  EXPECT_EQ(static_file_response(missing, get("/assets/app-Q3F5ZK2A.js")).status, 404);
}

TEST_F(StaticFiles, RegisteredAsTheRoutersGetFallbackBehindTheApi) {
  http::Router router;
  router.get("/api/v1/health",
             [](http::Request, http::Responder respond) { respond(http::json_response(200, R"({"status":"ok"})")); });
  add_static_routes(router, options_);
  const auto route = [&router](http::Request request) {
    std::optional<http::Response> answered;
    router.handle(std::move(request), http::Responder([&answered](http::Response r) { answered = std::move(r); }));
    return answered.value_or(http::Response{});
  };
  EXPECT_EQ(route(get("/api/v1/health")).body, R"({"status":"ok"})");
  EXPECT_EQ(route(get("/")).body, "<!doctype html><title>kelvin</title>");
  EXPECT_EQ(route(get("/assets/app-Q3F5ZK2A.js")).status, 200);
  EXPECT_EQ(route(get("/api/v1/health", "POST")).status, 405) << "the API's 405 is unchanged";
  const http::Response post = route(get("/index.html", "POST"));
  EXPECT_EQ(post.status, 404) << "only GETs are served files";
  EXPECT_EQ(post.content_type, "application/json");
}

}  // namespace
}  // namespace kelvin::gateway
