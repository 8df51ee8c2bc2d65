// Operators revoking, removing and labelling devices over HTTPS (POST /api/v1/devices/{id}/revoke,
// DELETE /api/v1/devices/{id}, PUT /api/v1/devices/{id}/labels) through a Router, with a real CA,
// store and accounts database in a temp dir, the real BlockingWork, and a fake guard (the roles
// are route_access_test's).

#include "kelvin/gateway/device_routes.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "kelvin/core/files.hpp"
#include "kelvin/core/identity.hpp"
#include "kelvin/gateway/blocking_work.hpp"
#include "kelvin/pki/device_certificates.hpp"
#include "kelvin/testing/temp_dir.hpp"
#include "route_test_support.hpp"

namespace kelvin::gateway {
namespace {

using nlohmann::json;

constexpr std::time_t kNow = 1'800'000'000;  // 2027-01-15T08:00:00Z
constexpr std::int64_t kNowMs = kNow * 1000LL;

http::Response call(const http::Router& router, const std::string& method, const std::string& target,
                    std::string body = "") {
  return fakes::route_call(router, fakes::route_request(method, target, std::move(body), "192.0.2.7"));
}

using fakes::body_of;
using fakes::error_code;

class DeviceRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override { init_ca(ca_key_passphrase()); }

  // The passphrase the CA key is encrypted with; kelvin-gateway is never given it here.
  virtual std::optional<std::string> ca_key_passphrase() const { return std::nullopt; }

  void init_ca(std::optional<std::string> passphrase) {
    pki::InitOptions options;
    options.server_name = "gateway.test";
    options.server_alt_names = {"DNS:gateway.test"};
    options.passphrase = passphrase;
    auto ca = pki::CertificateAuthority::init(tmp_ / "pki", options, kNow - 86'400);
    ASSERT_TRUE(ca.ok()) << ca.error().message;
    ca_.emplace(std::move(*ca));
    auto accounts = accounts::Accounts::open(tmp_ / "accounts.db");
    ASSERT_TRUE(accounts.ok()) << accounts.error().message;
    accounts_ = std::move(*accounts);
  }

  std::optional<store::Store> open_store() {
    auto store = store::Store::open(tmp_ / "telemetry.db");
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store ? std::optional<store::Store>(std::move(*store)) : std::nullopt;
  }

  http::Router& routes() {
    if (!routed_) {
      add_device_routes(router_, guard_,
                        DeviceActionSources{
                            .run_blocking =
                                [this](std::function<void()> job) {
                                  ++jobs_;
                                  return work_.post(std::move(job));
                                },
                            .pki_dir = tmp_ / "pki",
                            .ca_passphrase = std::nullopt,
                            .open_store = [this] { return store::Store::open(tmp_ / "telemetry.db"); },
                            .accounts = *accounts_,
                            .now_ms = [] { return kNowMs; },
                        });
      routed_ = true;
    }
    return router_;
  }

  std::string issue(const std::string& device_id) {
    auto issued = ca_->issue(pki::CertificateKind::device, device_id, {}, kNow - 3'600);
    EXPECT_TRUE(issued.ok()) << issued.error().message;
    return issued ? issued->record.serial : "";
  }

  // The device's certificate states now, as a fresh look at the CA's index gives them.
  std::vector<std::string> certificate_states(const std::string& device_id) {
    auto ca = pki::CertificateAuthority::open(tmp_ / "pki");
    EXPECT_TRUE(ca.ok());
    std::vector<std::string> states;
    for (const auto& status : pki::device_certificates(ca->list(kNow), device_id)) {
      states.emplace_back(pki::state_name(status.state));
    }
    return states;
  }

  // The audit entries written by the routes, oldest first.
  std::vector<store::AuditEntry> audit() {
    auto entries = accounts_->audit_entries(0, 100);
    EXPECT_TRUE(entries.ok());
    return entries ? *entries : std::vector<store::AuditEntry>{};
  }

  kelvin::testing::TempDir tmp_;
  std::optional<pki::CertificateAuthority> ca_;
  std::unique_ptr<accounts::Accounts> accounts_;
  BlockingWork work_{1, 8};
  int jobs_ = 0;
  fakes::AdmittingGuard guard_{Principal{"otto", Role::operator_, "session-9"}};
  http::Router router_;
  bool routed_ = false;
};

TEST_F(DeviceRoutesTest, EveryRouteIsForOperators) {
  routes();
  EXPECT_EQ(guard_.minimums, std::vector<Role>(3, Role::operator_));
}

TEST_F(DeviceRoutesTest, RevokingRefusesTheCertificatesAndIsAudited) {
  const std::string serial = issue("alpha");
  auto crl_before = files::read_file(ca_->paths().crl());
  ASSERT_TRUE(crl_before.ok());

  auto response = call(routes(), "POST", "/api/v1/devices/alpha/revoke");
  ASSERT_EQ(response.status, 200) << response.body;
  const json body = body_of(response);
  EXPECT_EQ(body["device"], "alpha");
  ASSERT_EQ(body["revoked"].size(), 1u);
  EXPECT_EQ(body["revoked"][0]["serial"], serial);
  EXPECT_EQ(body["revoked"][0]["expires_ms"].get<std::int64_t>() % 1000, 0);
  EXPECT_EQ(certificate_states("alpha"), std::vector<std::string>{"revoked"});
  auto crl_after = files::read_file(ca_->paths().crl());
  ASSERT_TRUE(crl_after.ok());
  EXPECT_NE(*crl_after, *crl_before) << "a new CRL was signed";

  // Again: nothing left to revoke.
  auto again = call(routes(), "POST", "/api/v1/devices/alpha/revoke");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(error_code(again), "nothing_to_revoke");
  // A device without any certificate.
  auto unknown = call(routes(), "POST", "/api/v1/devices/nobody/revoke");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(error_code(unknown), "device_not_found");

  const auto entries = audit();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].actor, "otto");
  EXPECT_EQ(entries[0].address, "192.0.2.7");
  EXPECT_EQ(entries[0].action, "device_revoke");
  EXPECT_EQ(entries[0].target, "alpha");
  EXPECT_EQ(entries[0].result, "ok");
  EXPECT_EQ(entries[0].detail, "serials " + serial);
  EXPECT_EQ(entries[1].result, "denied");
  EXPECT_EQ(entries[2].target, "nobody");
  EXPECT_EQ(entries[2].result, "denied");
}

TEST_F(DeviceRoutesTest, RemovingRevokesAndForgetsTheRegistrationButKeepsTheReadings) {
  issue("alpha");
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->register_device("alpha", kNowMs - 60'000).ok());
    store::IngestBatch batch;
    for (std::uint64_t seq = 1; seq <= 3; ++seq) {
      proto::Reading reading;
      reading.seq = seq;
      reading.ts_ms = kNowMs - 10'000 + static_cast<std::int64_t>(seq);
      reading.set(proto::Quantity::temperature, 20.0);
      batch.readings.push_back({"alpha", reading});
    }
    ASSERT_TRUE(store->commit(batch, kNowMs).ok());
  }

  auto response = call(routes(), "DELETE", "/api/v1/devices/alpha");
  ASSERT_EQ(response.status, 200) << response.body;
  const json body = body_of(response);
  EXPECT_EQ(body["revoked"].size(), 1u);
  EXPECT_EQ(body["registration_removed"], true);
  EXPECT_EQ(body["readings_kept"], 3);
  EXPECT_EQ(certificate_states("alpha"), std::vector<std::string>{"revoked"});
  auto store = open_store();
  ASSERT_TRUE(store);
  auto device = store->device("alpha");
  ASSERT_TRUE(device.ok() && device->has_value());
  EXPECT_EQ((*device)->registered_ms, 0) << "no longer registered";
  EXPECT_EQ((*device)->readings_stored, 3u) << "its readings stay";
  EXPECT_EQ(audit().back().action, "device_remove");
  EXPECT_EQ(audit().back().detail,
            "serials " + body["revoked"][0]["serial"].get<std::string>() + "; 3 stored readings kept");

  // Removing it again changes nothing and says so; the data is still there.
  auto again = call(routes(), "DELETE", "/api/v1/devices/alpha");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(body_of(again)["revoked"], json::array());
  EXPECT_EQ(body_of(again)["registration_removed"], false);
}

TEST_F(DeviceRoutesTest, ADeviceWithOnlyACertificateIsRemovedOnceThenNotFound) {
  issue("bravo");
  auto response = call(routes(), "DELETE", "/api/v1/devices/bravo");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(body_of(response)["registration_removed"], false);
  EXPECT_EQ(body_of(response)["readings_kept"], 0);
  EXPECT_EQ(certificate_states("bravo"), std::vector<std::string>{"revoked"});

  for (const char* id : {"bravo", "nobody"}) {
    auto gone = call(routes(), "DELETE", std::string("/api/v1/devices/") + id);
    EXPECT_EQ(gone.status, 404) << id << ": " << gone.body;
    EXPECT_EQ(error_code(gone), "device_not_found") << id;
  }
  EXPECT_NE(body_of(call(routes(), "DELETE", "/api/v1/devices/bravo"))["error"]["message"].get<std::string>().find(
                "already removed"),
            std::string::npos);
}

class DeviceRoutesWithAnEncryptedCaKeyTest : public DeviceRoutesTest {
 protected:
  std::optional<std::string> ca_key_passphrase() const override { return "a long enough passphrase"; }
};

TEST_F(DeviceRoutesWithAnEncryptedCaKeyTest, WithoutThePassphraseNothingChanges) {
  const std::string serial = issue("alpha");
  for (const auto& [method, target] :
       {std::pair{"POST", "/api/v1/devices/alpha/revoke"}, std::pair{"DELETE", "/api/v1/devices/alpha"}}) {
    auto response = call(routes(), method, target);
    EXPECT_EQ(response.status, 503) << target << ": " << response.body;
    EXPECT_EQ(error_code(response), "ca_key_unavailable") << target;
    EXPECT_EQ(response.body.find("passphrase a long"), std::string::npos);
  }
  EXPECT_EQ(certificate_states("alpha"), std::vector<std::string>{"valid"});
}

TEST_F(DeviceRoutesTest, BadRequestsAreRefusedBeforeAnyWork) {
  issue("alpha");
  for (const auto& [method, target, code] :
       {std::tuple{"POST", "/api/v1/devices/Alpha/revoke", "invalid_device_id"},
        std::tuple{"DELETE", "/api/v1/devices/svc-gateway", "invalid_device_id"},
        std::tuple{"DELETE", "/api/v1/devices/alpha?purge=true", "unknown_parameter"},
        std::tuple{"POST", "/api/v1/devices/alpha/revoke?now", "unknown_parameter"}}) {
    auto response = call(routes(), method, target);
    EXPECT_EQ(response.status, 400) << target << ": " << response.body;
    EXPECT_EQ(error_code(response), code) << target;
  }
  auto with_body = call(routes(), "DELETE", "/api/v1/devices/alpha", R"({"purge":true})");
  EXPECT_EQ(with_body.status, 400) << with_body.body;
  EXPECT_EQ(error_code(with_body), "invalid_request");
  EXPECT_EQ(jobs_, 0);
  EXPECT_EQ(certificate_states("alpha"), std::vector<std::string>{"valid"});
  EXPECT_TRUE(audit().empty());
}

http::Response put_labels(http::Router& router, const std::string& target, std::string body) {
  auto request = fakes::route_request("PUT", target, std::move(body), "192.0.2.7");
  request.headers.emplace_back("Content-Type", "application/json");
  return fakes::route_call(router, std::move(request));
}

TEST_F(DeviceRoutesTest, LabelsAreReplacedAndAudited) {
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->register_device("alpha", kNowMs, {"old"}).ok());
  }
  auto set = put_labels(routes(), "/api/v1/devices/alpha/labels", R"({"labels":["west","greenhouse","west"]})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(body_of(set), (json{{"device", "alpha"}, {"labels", {"greenhouse", "west"}}}));
  EXPECT_EQ(open_store()->device("alpha").value()->labels, (std::vector<std::string>{"greenhouse", "west"}));
  auto cleared = put_labels(routes(), "/api/v1/devices/alpha/labels", R"({"labels":[]})");
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_TRUE(open_store()->device("alpha").value()->labels.empty());

  const auto entries = audit();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].actor, "otto");
  EXPECT_EQ(entries[0].action, "device_label");
  EXPECT_EQ(entries[0].target, "alpha");
  EXPECT_EQ(entries[0].result, "ok");
  EXPECT_EQ(entries[0].detail, "labels greenhouse, west (were old)");
  EXPECT_EQ(entries[1].detail, "labels none (were greenhouse, west)");
}

TEST_F(DeviceRoutesTest, BadLabelsAreRefusedWithAStableCodeAndChangeNothing) {
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->register_device("alpha", kNowMs, {"old"}).ok());
  }
  std::string too_many = R"({"labels":[)";
  for (std::size_t i = 0; i <= kMaxLabelsPerDevice; ++i) too_many += (i ? ",\"l" : "\"l") + std::to_string(i) + "\"";
  too_many += "]}";
  for (const auto& [body, code] : {std::pair<std::string, std::string>{R"({"labels":["Greenhouse"]})", "invalid_label"},
                                   {R"({"labels":["ok","a b"]})", "invalid_label"},
                                   {R"({"labels":[""]})", "invalid_label"},
                                   {R"({"labels":["x.", ".x"]})", "invalid_label"},
                                   {too_many, "too_many_labels"},
                                   {R"({"labels":"greenhouse"})", "invalid_request"},
                                   {R"({"labels":[1]})", "invalid_request"},
                                   {R"({"labels":[],"add":["x"]})", "invalid_request"},
                                   {R"({})", "invalid_request"},
                                   {R"(["greenhouse"])", "malformed_json"},
                                   {R"({"labels":)", "malformed_json"}}) {
    auto refused = put_labels(routes(), "/api/v1/devices/alpha/labels", body);
    EXPECT_EQ(refused.status, 400) << body << ": " << refused.body;
    EXPECT_EQ(error_code(refused), code) << body;
  }
  auto bad_id = put_labels(routes(), "/api/v1/devices/Alpha/labels", R"({"labels":[]})");
  EXPECT_EQ(error_code(bad_id), "invalid_device_id");
  auto parameter = put_labels(routes(), "/api/v1/devices/alpha/labels?add=x", R"({"labels":[]})");
  EXPECT_EQ(error_code(parameter), "unknown_parameter");
  auto not_json = call(routes(), "PUT", "/api/v1/devices/alpha/labels", R"({"labels":[]})");
  EXPECT_EQ(not_json.status, 415) << not_json.body;
  EXPECT_EQ(jobs_, 0);
  EXPECT_EQ(open_store()->device("alpha").value()->labels, std::vector<std::string>{"old"});
  EXPECT_TRUE(audit().empty());
}

TEST_F(DeviceRoutesTest, LabellingADeviceTheStoreDoesNotKnowIsNotFound) {
  issue("alpha");  // a certificate only: never connected, never registered
  auto refused = put_labels(routes(), "/api/v1/devices/alpha/labels", R"({"labels":["greenhouse"]})");
  EXPECT_EQ(refused.status, 404) << refused.body;
  EXPECT_EQ(error_code(refused), "device_not_found");
  ASSERT_EQ(audit().size(), 1u);
  EXPECT_EQ(audit()[0].result, "denied");
}

}  // namespace
}  // namespace kelvin::gateway
