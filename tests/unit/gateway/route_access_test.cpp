// Every route the gateway serves (gateway_routes.hpp), called by every kind of caller: nobody, a
// device, a device's certificate with an admin's session, and each role with and without the
// session's CSRF token. The access each route must have is declared here once, and the test fails
// for a route the gateway serves that this table does not name: a new route cannot go unchecked.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <regex>
#include <string>

#include "kelvin/gateway/blocking_work.hpp"
#include "kelvin/gateway/gateway_routes.hpp"
#include "kelvin/gateway/shared_store.hpp"
#include "kelvin/http/target.hpp"
#include "kelvin/store/store.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::gateway {
namespace {

struct Access {
  enum class Kind {
    everyone,   // answered to anyone
    people,     // anyone without a client certificate (signing in)
    device,     // the device {id}'s client certificate only
    signed_in,  // any session
    role,       // a session with at least `minimum`
    scraper,    // the metrics scrape token only: no device, session or nobody
  };
  Kind kind;
  Role minimum = Role::viewer;
};

const std::map<std::string, Access>& expected_access() {
  using K = Access::Kind;
  static const std::map<std::string, Access> table = {
      {"GET /api/v1/health", {K::everyone}},
      {"GET /metrics", {K::scraper}},
      {"POST /api/v1/devices/{id}/telemetry", {K::device}},
      {"PUT /api/v1/devices/{id}/status", {K::device}},
      {"POST /api/v1/session", {K::people}},
      {"GET /api/v1/session", {K::signed_in}},
      {"DELETE /api/v1/session", {K::signed_in}},
      {"POST /api/v1/session/password", {K::signed_in}},
      {"POST /api/v1/session/totp", {K::signed_in}},
      {"POST /api/v1/session/totp/confirm", {K::signed_in}},
      {"GET /api/v1/users", {K::role, Role::admin}},
      {"POST /api/v1/users", {K::role, Role::admin}},
      {"PUT /api/v1/users/{name}/role", {K::role, Role::admin}},
      {"DELETE /api/v1/users/{name}", {K::role, Role::admin}},
      {"POST /api/v1/users/{name}/password", {K::role, Role::admin}},
      {"DELETE /api/v1/users/{name}/second-factor", {K::role, Role::admin}},
      {"GET /api/v1/audit", {K::role, Role::admin}},
      {"GET /api/v1/settings/security", {K::role, Role::admin}},
      {"PUT /api/v1/settings/security", {K::role, Role::admin}},
      {"GET /api/v1/devices", {K::role, Role::viewer}},
      {"GET /api/v1/devices/{id}", {K::role, Role::viewer}},
      {"GET /api/v1/devices/{id}/series", {K::role, Role::viewer}},
      {"GET /api/v1/fleet/series", {K::role, Role::viewer}},
      {"POST /api/v1/devices/{id}/revoke", {K::role, Role::operator_}},
      {"DELETE /api/v1/devices/{id}", {K::role, Role::operator_}},
      {"PUT /api/v1/devices/{id}/labels", {K::role, Role::operator_}},
      {"GET /api/v1/gateway/status", {K::role, Role::viewer}},
      {"GET /api/v1/events", {K::role, Role::viewer}},
      {"GET /api/v1/releases", {K::role, Role::viewer}},
      {"PUT /api/v1/releases/{product}/{version}/manifest", {K::role, Role::operator_}},
      {"PUT /api/v1/releases/{product}/{version}/image", {K::role, Role::operator_}},
      {"GET /api/v1/devices/{id}/releases/{product}/{version}/manifest", {K::device}},
      {"GET /api/v1/devices/{id}/releases/{product}/timestamp", {K::device}},
      {"GET /api/v1/devices/{id}/releases/{product}/{version}/image", {K::device}},
      {"GET /api/v1/rollouts", {K::role, Role::viewer}},
      {"POST /api/v1/rollouts", {K::role, Role::operator_}},
      {"GET /api/v1/rollouts/{id}", {K::role, Role::viewer}},
      {"POST /api/v1/rollouts/{id}/pause", {K::role, Role::operator_}},
      {"POST /api/v1/rollouts/{id}/resume", {K::role, Role::operator_}},
      {"POST /api/v1/rollouts/{id}/abort", {K::role, Role::operator_}},
      {"GET /api/v1/alerts", {K::role, Role::viewer}},
      {"POST /api/v1/alerts/{id}/acknowledge", {K::role, Role::operator_}},
      {"POST /api/v1/alerts/{id}/silence", {K::role, Role::operator_}},
      {"POST /api/v1/silences", {K::role, Role::operator_}},
      {"GET /api/v1/silences", {K::role, Role::viewer}},
      {"GET /api/v1/alert-rules", {K::role, Role::viewer}},
      {"POST /api/v1/alert-rules", {K::role, Role::operator_}},
      {"PUT /api/v1/alert-rules/{name}", {K::role, Role::operator_}},
      {"DELETE /api/v1/alert-rules/{name}", {K::role, Role::operator_}},
      {"DELETE /api/v1/silences/{id}", {K::role, Role::operator_}},
      {"GET /api/v1/devices/{id}/update", {K::device}},
      {"POST /api/v1/devices/{id}/ota/status", {K::device}},
  };
  return table;
}

struct Caller {
  std::string name;
  std::optional<std::string> certificate;  // the client certificate's CN
  std::optional<Role> role;                // signed in with this role
  bool with_csrf = true;
};

struct Session {
  std::string token;
  std::string csrf;
};

class RouteAccess : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::Store::open(dir_ / "telemetry.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_.emplace(std::move(*store));
    ingest_ = std::make_unique<Ingest>(*store_, [](std::string_view, std::uint64_t) { return true; });
    ingest_->start();
    auto reads = store::Store::open(dir_ / "telemetry.db");
    ASSERT_TRUE(reads.ok());
    shared_ = std::make_unique<SharedStore>(std::move(*reads));
    auto accounts = accounts::Accounts::open(dir_ / "accounts.db");
    ASSERT_TRUE(accounts.ok()) << accounts.error().message;
    accounts_ = std::move(*accounts);
    guard_ = std::make_unique<SessionGuard>(*accounts_);
    for (Role role : {Role::viewer, Role::operator_, Role::admin}) {
      const std::string name(to_string(role));
      auto password = accounts_->add_user(name, role, {"test", "local"});
      ASSERT_TRUE(password.ok()) << password.error().message;
      passwords_[role] = *password;
      sessions_[role] = sign_in(role);
    }
    auto post = [this](std::function<void()> job) { return work_.post(std::move(job)); };
    add_gateway_routes(
        router_, GatewayRouteServices{
                     .ingest = *ingest_,
                     .client_records = client_records_,
                     .accounts = *accounts_,
                     .guard = *guard_,
                     .password_checks = post,
                     .sign_ins = sign_ins_,
                     .fleet = FleetSources{.run_blocking = post,
                                           .store = *shared_,
                                           .pki_dir = dir_ / "pki",
                                           .gateway_status = [] { return std::string("{}"); },
                                           .now_ms = system_now_ms},
                     .device_actions =
                         DeviceActionSources{.run_blocking = post,
                                             .pki_dir = dir_ / "pki",
                                             .ca_passphrase = std::nullopt,
                                             .open_store = [this] { return store::Store::open(dir_ / "telemetry.db"); },
                                             .accounts = *accounts_,
                                             .now_ms = system_now_ms},
                     .live = live_,
                     .releases = ReleaseSources{.run_blocking = post, .state_dir = dir_.path()},
                     .release_uploads =
                         ReleaseUploadSources{.run_blocking = post, .state_dir = dir_.path(), .accounts = *accounts_},
                     .rollouts = RolloutSources{.run_blocking = post,
                                                .state_dir = dir_.path(),
                                                .store = *shared_,
                                                .accounts = *accounts_,
                                                .engine = engine_,
                                                .now_ms = system_now_ms},
                     .alerts = AlertSources{.run_blocking = post,
                                            .db_file = dir_ / "alerts.db",
                                            .accounts = *accounts_,
                                            .now_ms = system_now_ms,
                                            .rules = alert_rules_,
                                            .silences = silences_},
                     .metrics = MetricsSources{.run_blocking = post,
                                               .token = std::string(40, 't'),
                                               .text = [](std::uint64_t) { return std::string("# metrics\n"); }},
                     .web_root = {},  // the dashboard's files are public: not walked here
                 });
  }

  void TearDown() override {
    work_.stop();
    if (ingest_) ingest_->stop();
  }

  Session sign_in(Role role) {
    auto outcome = accounts_->sign_in(to_string(role), passwords_[role], "", "192.0.2.1");
    EXPECT_TRUE(outcome.ok() && std::holds_alternative<accounts::SignedIn>(*outcome));
    const auto& signed_in = std::get<accounts::SignedIn>(*outcome);
    return {signed_in.token, signed_in.session.csrf_token};
  }

  http::Response call(const std::string& method, const std::string& pattern, const Caller& caller) {
    std::string path = std::regex_replace(pattern, std::regex("\\{id\\}"), "sensor-01");
    path = std::regex_replace(path, std::regex("\\{name\\}"), "nobody");
    path = std::regex_replace(path, std::regex("\\{product\\}"), "thermo");
    path = std::regex_replace(path, std::regex("\\{version\\}"), "1.0.0");
    auto target = http::parse_target(path);
    EXPECT_TRUE(target.ok()) << path;
    http::Request request;
    request.method = method;
    request.target = path;
    request.path = target->path;
    request.segments = target->segments;
    request.peer_address = "192.0.2.1";
    request.client_common_name = caller.certificate;
    if (method != "GET") {
      request.headers.emplace_back("Content-Type", "application/json");
      request.body = "{}";
    }
    if (caller.role) {
      const Session& session = sessions_[*caller.role];
      request.headers.emplace_back("Cookie", "theme=dark; " + std::string(kSessionCookie) + "=" + session.token);
      if (caller.with_csrf) request.headers.emplace_back(std::string(kCsrfHeader), session.csrf);
    }
    // As the server does: the route's admission sees the head first, and may refuse it unread.
    auto admission = router_.admit_body(request);
    if (auto* refusal = std::get_if<http::Response>(&admission)) return std::move(*refusal);
    if (auto* to_file = std::get_if<http::BodyToFile>(&admission)) {
      const auto file = to_file->directory / "body";
      std::ofstream(file) << request.body;
      request.body.clear();
      request.body_file = std::make_shared<http::BodyFile>(file);
    }
    std::promise<http::Response> answered;
    auto answer = answered.get_future();
    router_.handle(std::move(request),
                   http::Responder([&answered](http::Response response) { answered.set_value(std::move(response)); }));
    EXPECT_EQ(answer.wait_for(std::chrono::seconds(20)), std::future_status::ready) << method << " " << path;
    http::Response response = answer.get();
    // Signing out ended the caller's session: the next call gets a fresh one.
    if (caller.role && method == "DELETE" && pattern == "/api/v1/session" && response.status == 204) {
      sessions_[*caller.role] = sign_in(*caller.role);
    }
    return response;
  }

  testing::TempDir dir_;
  std::optional<store::Store> store_;
  std::unique_ptr<Ingest> ingest_;
  std::unique_ptr<SharedStore> shared_;
  std::unique_ptr<accounts::Accounts> accounts_;
  std::unique_ptr<SessionGuard> guard_;
  BlockingWork work_{1, 64};
  LiveFeed live_;
  // Not started: the routes hand it reports, which wait in its queue.
  RolloutEngine engine_{dir_ / "rollouts.db", [](const std::string&, const std::string&) { return true; }, nullptr,
                        [](std::string_view, std::string_view, std::string_view) {}};
  AlertRuleBook alert_rules_{alerts::default_rules()};
  SilenceBook silences_;
  SignInCounters sign_ins_;
  ClientRecords client_records_;
  http::Router router_;
  std::map<Role, std::string> passwords_;
  std::map<Role, Session> sessions_;
};

bool refused(const http::Response& response) {
  return response.status == 401 || response.status == 403;
}

std::string code_of(const http::Response& response) {
  std::smatch match;
  return std::regex_search(response.body, match, std::regex("\"code\":\"([a-z_]+)\"")) ? match[1].str() : "";
}

TEST_F(RouteAccess, TheTableNamesEveryRouteTheGatewayServes) {
  std::set<std::string> served;
  for (const auto& route : router_.routes()) served.insert(route.method + " " + route.pattern);
  std::set<std::string> declared;
  for (const auto& [route, access] : expected_access()) declared.insert(route);
  EXPECT_EQ(served, declared);
}

TEST_F(RouteAccess, EveryRouteAnswersEveryCallerAsItsAccessSays) {
  using K = Access::Kind;
  const std::vector<Caller> callers = {
      {"nobody", std::nullopt, std::nullopt},
      {"device sensor-01", "sensor-01", std::nullopt},
      {"device sensor-02", "sensor-02", std::nullopt},
      {"admin session on a device's connection", "sensor-01", Role::admin},
      {"viewer", std::nullopt, Role::viewer},
      {"operator", std::nullopt, Role::operator_},
      {"admin", std::nullopt, Role::admin},
      {"admin without the CSRF token", std::nullopt, Role::admin, false},
  };
  for (const auto& route : router_.routes()) {
    const auto found = expected_access().find(route.method + " " + route.pattern);
    ASSERT_NE(found, expected_access().end()) << route.method << " " << route.pattern;
    const Access access = found->second;
    const bool changes_state = route.method != "GET";
    for (const auto& caller : callers) {
      SCOPED_TRACE(route.method + " " + route.pattern + " as " + caller.name);
      const http::Response response = call(route.method, route.pattern, caller);
      const std::string code = code_of(response);
      switch (access.kind) {
        case K::everyone:
          EXPECT_FALSE(refused(response)) << response.body;
          break;
        case K::people:
          if (caller.certificate) {
            EXPECT_EQ(code, "device_not_allowed") << response.body;
          } else {
            EXPECT_FALSE(refused(response)) << response.body;
          }
          break;
        case K::device:
          if (caller.certificate == "sensor-01") {
            EXPECT_FALSE(refused(response)) << response.body;
          } else {
            EXPECT_TRUE(refused(response)) << response.body;
          }
          break;
        case K::scraper:
          EXPECT_EQ(response.status, 401) << response.body;
          break;
        case K::signed_in:
        case K::role:
          if (caller.certificate) {
            EXPECT_EQ(code, "device_not_allowed") << response.body;
          } else if (!caller.role) {
            EXPECT_EQ(code, "not_signed_in") << response.body;
          } else if (changes_state && !caller.with_csrf) {
            EXPECT_EQ(code, "csrf_token_invalid") << response.body;
          } else if (access.kind == K::role && *caller.role < access.minimum) {
            EXPECT_EQ(code, "forbidden") << response.body;
          } else {
            EXPECT_FALSE(refused(response)) << response.status << " " << response.body;
          }
          break;
      }
    }
  }
}

}  // namespace
}  // namespace kelvin::gateway
