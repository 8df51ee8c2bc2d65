// The agent's HTTPS client (https_client.hpp) against kelvin's real HTTPS server on an ephemeral
// loopback port, with a PKI made by libs/pki in a temp dir: what goes over the wire (method,
// body, client certificate), what comes back (status, body, Retry-After), connection reuse,
// timeouts, verification, and that poll() never waits longer than it is told.

#include "kelvin/linux_port/https_client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "kelvin/http/router.hpp"
#include "kelvin/http/server.hpp"
#include "kelvin/pki/certificate_authority.hpp"
#include "kelvin/testing/background_process.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::linux_port {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class HttpsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = make_ca(dir_ / "pki");
    device_ = issue(*ca_, "sensor-01");

    router_.add("POST", "/echo", [](http::Request request, http::Responder respond) {
      nlohmann::json body = {{"method", request.method},
                             {"cn", request.client_common_name.value_or("")},
                             {"content_type", std::string(request.header("Content-Type").value_or(""))},
                             {"body", request.body}};
      respond(http::json_response(200, body.dump()));
    });
    router_.add("PUT", "/echo", [](http::Request request, http::Responder respond) {
      respond(http::json_response(201, nlohmann::json{{"method", request.method}, {"body", request.body}}.dump()));
    });
    // What a GET brought: its method, its Range header, and whether a body came with it.
    router_.get("/seen", [](http::Request request, http::Responder respond) {
      respond(http::json_response(
          206, nlohmann::json{{"method", request.method},
                              {"range", std::string(request.header("Range").value_or(""))},
                              {"body_bytes", request.body.size()},
                              {"content_length", std::string(request.header("Content-Length").value_or(""))}}
                   .dump()));
    });
    router_.add("POST", "/busy", [](http::Request, http::Responder respond) {
      http::Response response = http::error_response(503, "unavailable", "later");
      response.headers.emplace_back("Retry-After", "7");
      respond(std::move(response));
    });
    router_.add("POST", "/late", [this](http::Request, http::Responder respond) {
      std::lock_guard lock(mutex_);
      parked_.emplace(std::move(respond));
      arrived_.notify_all();
    });
  }

  void TearDown() override {
    release_parked();
    if (server_) server_->stop();
  }

  static std::optional<pki::CertificateAuthority> make_ca(const fs::path& dir) {
    pki::InitOptions init;
    init.ca_name = "kelvin agent https test CA";
    init.server_name = "localhost";
    init.server_alt_names = {"DNS:localhost", "IP:127.0.0.1"};
    auto ca = pki::CertificateAuthority::init(dir, init, std::time(nullptr));
    EXPECT_TRUE(ca.ok()) << ca.error().message;
    if (!ca) return std::nullopt;
    return std::move(*ca);
  }

  static pki::IssuedIdentity issue(pki::CertificateAuthority& ca, const std::string& id) {
    auto issued = ca.issue(pki::CertificateKind::device, id, {}, std::time(nullptr));
    EXPECT_TRUE(issued.ok()) << issued.error().message;
    return *issued;
  }

  void start_server(const std::string& bind_address = "127.0.0.1") {
    const pki::PkiPaths paths(dir_ / "pki");
    http::ServerOptions options;
    options.bind_address = bind_address;
    options.port = 0;
    options.certificate_file = paths.identity_certificate(pki::CertificateKind::server, "server");
    options.private_key_file = paths.identity_key(pki::CertificateKind::server, "server");
    options.client_ca_file = paths.ca_certificate();
    options.client_crl_file = paths.crl();
    options.stop_grace = 200ms;
    auto server = http::Server::start(std::move(options), [this](http::Request request, http::Responder respond) {
      router_.handle(std::move(request), std::move(respond));
    });
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
  }

  HttpsClientOptions options(int port) const {
    HttpsClientOptions o;
    o.host = "localhost";
    o.port = static_cast<std::uint16_t>(port);
    o.ca_file = pki::PkiPaths(dir_ / "pki").ca_certificate();
    o.cert_file = device_.certificate_path;
    o.key_file = device_.key_path;
    return o;
  }

  std::unique_ptr<HttpsClient> client(HttpsClientOptions o) {
    auto created = HttpsClient::create(std::move(o));
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created ? std::move(*created) : nullptr;
  }
  std::unique_ptr<HttpsClient> client() { return client(options(server_->port())); }

  // Drives one exchange to its end (bounded).
  static Result<HttpsAnswer> exchange(HttpsChannel& channel, HttpsRequest request) {
    if (auto started = channel.start(std::move(request)); !started) return std::move(started).error();
    const auto until = Clock::now() + 30s;
    while (Clock::now() < until) {
      if (auto answer = channel.poll(100)) return std::move(*answer);
    }
    return make_error(Errc::timed_out, "the test gave up waiting");
  }

  bool wait_for_parked() {
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, 10s, [this] { return parked_.has_value(); });
  }
  void release_parked() {
    std::lock_guard lock(mutex_);
    if (parked_) (*parked_)(http::json_response(200, R"({"late":true})"));
    parked_.reset();
  }

  testing::TempDir dir_;
  std::optional<pki::CertificateAuthority> ca_;
  pki::IssuedIdentity device_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::optional<http::Responder> parked_;
};

TEST_F(HttpsClientTest, SendsTheBodyAsJsonWithTheDeviceCertificateAndReturnsTheAnswer) {
  start_server();
  auto c = client();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->base_url(), "https://localhost:" + std::to_string(server_->port()));
  auto posted = exchange(*c, {"POST", "/echo", R"({"seq":1})"});
  ASSERT_TRUE(posted.ok()) << posted.error().message;
  EXPECT_EQ(posted->status, 200);
  auto body = nlohmann::json::parse(posted->body);
  EXPECT_EQ(body["method"], "POST");
  EXPECT_EQ(body["cn"], "sensor-01") << "the client certificate was not presented";
  EXPECT_EQ(body["content_type"], "application/json");
  EXPECT_EQ(body["body"], R"({"seq":1})");
  EXPECT_FALSE(posted->retry_after_s.has_value());

  auto put = exchange(*c, {"PUT", "/echo", R"({"state":"online"})"});
  ASSERT_TRUE(put.ok()) << put.error().message;
  EXPECT_EQ(put->status, 201);
  EXPECT_EQ(nlohmann::json::parse(put->body)["method"], "PUT");
  EXPECT_EQ(nlohmann::json::parse(put->body)["body"], R"({"state":"online"})");

  auto busy = exchange(*c, {"POST", "/busy", "{}"});
  ASSERT_TRUE(busy.ok()) << busy.error().message;
  EXPECT_EQ(busy->status, 503);
  EXPECT_EQ(busy->retry_after_s, 7);
  EXPECT_THAT(busy->body, HasSubstr("unavailable"));

  // Every answer on one kept-alive connection.
  EXPECT_EQ(server_->counters().connections_accepted, 1u);
  EXPECT_FALSE(c->busy());
}

// Images are fetched in ranges (update_gateway.hpp): a GET sends no body and its Range, and the
// POST after it on the same connection is a POST with its body again.
TEST_F(HttpsClientTest, AGetAsksForItsRangeWithoutABodyAndThePostAfterItIsAPost) {
  start_server();
  auto c = client();
  ASSERT_TRUE(c);
  auto got = exchange(*c, {"GET", "/seen", "", "65536-131071"});
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->status, 206);
  auto seen = nlohmann::json::parse(got->body);
  EXPECT_EQ(seen["method"], "GET");
  EXPECT_EQ(seen["range"], "bytes=65536-131071");
  EXPECT_EQ(seen["body_bytes"], 0);
  EXPECT_EQ(seen["content_length"], "") << "a GET carries no body at all";

  auto posted = exchange(*c, {"POST", "/echo", R"({"seq":2})"});
  ASSERT_TRUE(posted.ok()) << posted.error().message;
  EXPECT_EQ(nlohmann::json::parse(posted->body)["method"], "POST");
  EXPECT_EQ(nlohmann::json::parse(posted->body)["body"], R"({"seq":2})");
  auto plain = exchange(*c, {"GET", "/seen", "", ""});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(nlohmann::json::parse(plain->body)["range"], "") << "a range is asked for once, not kept";
  EXPECT_EQ(server_->counters().connections_accepted, 1u);
}

TEST_F(HttpsClientTest, PollWaitsNoLongerThanItIsToldAndTheAnswerComesWhenReady) {
  start_server();
  auto c = client();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->start({"POST", "/late", "{}"}).ok());
  EXPECT_TRUE(c->busy());
  EXPECT_FALSE(c->start({"POST", "/echo", "{}"}).ok()) << "a second request while one runs";
  // Drive the request until the handler holds it.
  const auto until = Clock::now() + 10s;
  bool parked = false;
  while (!parked && Clock::now() < until) {
    EXPECT_FALSE(c->poll(20).has_value());
    std::lock_guard lock(mutex_);
    parked = parked_.has_value();
  }
  ASSERT_TRUE(parked);
  const auto before = Clock::now();
  EXPECT_FALSE(c->poll(0).has_value());
  EXPECT_FALSE(c->poll(100).has_value());
  const auto waited = Clock::now() - before;
  EXPECT_LT(waited, 1s) << "poll blocked";
  release_parked();
  std::optional<Result<HttpsAnswer>> answer;
  while (!answer && Clock::now() < until) answer = c->poll(100);
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(answer->ok()) << answer->error().message;
  EXPECT_EQ((*answer)->body, R"({"late":true})");
  EXPECT_FALSE(c->busy());
}

TEST_F(HttpsClientTest, ARequestWithoutAnAnswerTimesOut) {
  start_server();
  auto o = options(server_->port());
  o.request_timeout = 500ms;
  auto c = client(o);
  ASSERT_TRUE(c);
  const auto before = Clock::now();
  auto answer = exchange(*c, {"POST", "/late", "{}"});
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().code, Errc::timed_out) << answer.error().message;
  EXPECT_LT(Clock::now() - before, 10s);
  release_parked();
  // The next request gets a connection of its own and its answer.
  auto next = exchange(*c, {"POST", "/echo", "{}"});
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->status, 200);
}

TEST_F(HttpsClientTest, AnAbandonedRequestLeavesTheClientReadyForTheNext) {
  start_server();
  auto c = client();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->start({"POST", "/late", "{}"}).ok());
  const auto until = Clock::now() + 10s;
  bool parked = false;
  while (!parked && Clock::now() < until) {
    (void)c->poll(20);
    std::lock_guard lock(mutex_);
    parked = parked_.has_value();
  }
  ASSERT_TRUE(parked);
  c->abandon();
  EXPECT_FALSE(c->busy());
  auto next = exchange(*c, {"POST", "/echo", R"({"n":2})"});
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(nlohmann::json::parse(next->body)["body"], R"({"n":2})");
}

TEST_F(HttpsClientTest, NobodyListeningIsAnErrorAtOnce) {
  const int port = testing::free_tcp_port();
  auto c = client(options(port));
  ASSERT_TRUE(c);
  const auto before = Clock::now();
  auto answer = exchange(*c, {"POST", "/echo", "{}"});
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().code, Errc::io) << answer.error().message;
  EXPECT_LT(Clock::now() - before, 5s);
}

TEST_F(HttpsClientTest, AServerTheCaDidNotCertifyIsRefused) {
  start_server();
  auto stranger = make_ca(dir_ / "other-pki");
  ASSERT_TRUE(stranger.has_value());
  auto o = options(server_->port());
  o.ca_file = pki::PkiPaths(dir_ / "other-pki").ca_certificate();  // trusts only another CA
  auto c = client(o);
  ASSERT_TRUE(c);
  auto answer = exchange(*c, {"POST", "/echo", "{}"});
  ASSERT_FALSE(answer.ok()) << "verification is off: answered " << answer->status;
  EXPECT_EQ(answer.error().code, Errc::crypto) << answer.error().message;
  EXPECT_EQ(server_->counters().requests, 0u);
}

TEST_F(HttpsClientTest, AServerWhoseCertificateNamesAnotherHostIsRefused) {
  start_server("127.0.0.2");  // the server's certificate names localhost and 127.0.0.1 only
  auto o = options(server_->port());
  o.host = "127.0.0.2";
  auto c = client(o);
  ASSERT_TRUE(c);
  auto answer = exchange(*c, {"POST", "/echo", "{}"});
  ASSERT_FALSE(answer.ok()) << "the host name was not checked: answered " << answer->status;
  EXPECT_EQ(answer.error().code, Errc::crypto) << answer.error().message;
  EXPECT_EQ(server_->counters().requests, 0u);
}

TEST_F(HttpsClientTest, ARevokedClientCertificateGetsNoAnswer) {
  ASSERT_TRUE(ca_->revoke("sensor-01", std::time(nullptr)).ok());
  start_server();
  auto c = client();
  ASSERT_TRUE(c);
  auto answer = exchange(*c, {"POST", "/echo", "{}"});
  ASSERT_FALSE(answer.ok()) << "answered " << answer->status;
  EXPECT_THAT(answer.error().message, HasSubstr("revoked"));
  EXPECT_EQ(server_->counters().requests, 0u);
}

TEST_F(HttpsClientTest, CreateChecksItsOptions) {
  auto o = options(8443);
  o.cert_file = dir_ / "absent.crt";
  auto missing = HttpsClient::create(o);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_THAT(missing.error().message, HasSubstr("absent.crt"));
  o = options(8443);
  o.host.clear();
  EXPECT_EQ(HttpsClient::create(o).error().code, Errc::invalid_argument);
  o = options(8443);
  o.request_timeout = 0ms;
  EXPECT_EQ(HttpsClient::create(o).error().code, Errc::invalid_argument);
}

}  // namespace
}  // namespace kelvin::linux_port
