// The fleet's read routes (GET /api/v1/devices, /devices/{id}, /devices/{id}/series,
// /fleet/series, /gateway/status) through a Router, with a real store and a real PKI in a temp dir,
// the real BlockingWork, and fake RouteGuards (route_test_support.hpp).

#include "kelvin/gateway/fleet_routes.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "kelvin/fleet/device_view.hpp"
#include "kelvin/fleet/fleet_json.hpp"
#include "kelvin/gateway/blocking_work.hpp"
#include "kelvin/pki/certificate_authority.hpp"
#include "kelvin/store/store.hpp"
#include "kelvin/testing/temp_dir.hpp"
#include "route_test_support.hpp"

namespace kelvin::gateway {
namespace {

using nlohmann::json;

constexpr std::time_t kNow = 1'800'000'000;  // 2027-01-15T08:00:00Z
constexpr std::int64_t kNowMs = kNow * 1000LL;
constexpr std::int64_t kT0 = kNowMs - 2 * 3'600'000;  // 06:00:00Z, readings start here
constexpr std::int64_t kMinute = 60'000;

using fakes::AdmittingGuard;
using fakes::body_of;
using fakes::error_code;
using fakes::RefusingGuard;

proto::Reading reading(std::uint64_t seq, std::int64_t ts_ms, double temperature, std::optional<double> humidity) {
  proto::Reading r;
  r.seq = seq;
  r.ts_ms = ts_ms;
  r.set(proto::Quantity::temperature, temperature);
  if (humidity) r.set(proto::Quantity::humidity, *humidity);
  return r;
}

// GET `target`, answered.
http::Response call(const http::Router& router, std::string_view target) {
  return fakes::route_call(router, fakes::route_request("GET", std::string(target)));
}

class FleetRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki::InitOptions options;
    options.server_name = "gateway.test";
    options.server_alt_names = {"DNS:gateway.test"};
    auto ca = pki::CertificateAuthority::init(pki_dir(), options, kNow - 86'400);
    ASSERT_TRUE(ca.ok()) << ca.error().message;
    ca_.emplace(std::move(*ca));

    auto writer = store::Store::open(store_file());
    ASSERT_TRUE(writer.ok()) << writer.error().message;
    writer_.emplace(std::move(*writer));
    auto reader = store::Store::open(store_file());
    ASSERT_TRUE(reader.ok()) << reader.error().message;
    api_store_ = std::make_unique<SharedStore>(std::move(*reader));
  }

  void TearDown() override { work_.stop(); }

  std::filesystem::path pki_dir() const { return tmp_ / "pki"; }
  std::filesystem::path store_file() const { return tmp_ / "telemetry.db"; }
  store::Store& writer() { return *writer_; }

  FleetSources sources() {
    return FleetSources{
        .run_blocking =
            [this](std::function<void()> job) {
              ++jobs_;
              return work_.post(std::move(job));
            },
        .store = *api_store_,
        .pki_dir = pki_dir(),
        .gateway_status = [this] { return gateway_status_; },
        .now_ms = [] { return kNowMs; },
    };
  }

  http::Router& routes() {
    if (!routed_) {
      add_fleet_routes(router_, guard_, sources());
      routed_ = true;
    }
    return router_;
  }

  std::string issue(const std::string& device_id) {
    auto issued = ca_->issue(pki::CertificateKind::device, device_id, {}, kNow - 3'600);
    EXPECT_TRUE(issued.ok()) << issued.error().message;
    return issued ? issued->record.serial : "";
  }

  void revoke(const std::string& device_id) { ASSERT_TRUE(ca_->revoke(device_id, kNow - 1'800).ok()); }

  void commit(const store::IngestBatch& batch, std::int64_t now_ms) {
    auto committed = writer().commit(batch, now_ms);
    ASSERT_TRUE(committed.ok()) << committed.error().message;
  }

  // The fleet of most tests:
  //   alpha    registered, certificate, readings 1..60 (one a minute from kT0), rejections, status
  //   bravo    a certificate only: never seen
  //   charlie  readings only, no status, no certificate
  //   delta    removed: its only certificate revoked, nothing stored
  //   echo     registered, its certificate revoked
  void add_fleet() {
    alpha_serial_ = issue("alpha");
    issue("bravo");
    issue("delta");
    revoke("delta");
    issue("echo");
    revoke("echo");
    ASSERT_TRUE(writer().register_device("alpha", kT0 - kMinute).ok());
    ASSERT_TRUE(writer().register_device("echo", kT0 - kMinute).ok());
    store::IngestBatch batch;
    for (std::uint64_t seq = 1; seq <= 60; ++seq) {
      const double temperature = 20.0 + static_cast<double>(seq % 10) / 10.0;
      batch.readings.push_back(
          {"alpha", reading(seq, kT0 + static_cast<std::int64_t>(seq - 1) * kMinute, temperature, 40.0)});
    }
    batch.readings.push_back({"charlie", reading(1, kT0, 18.0, std::nullopt)});
    batch.rejected.push_back({"alpha", 61, proto::RejectReason::out_of_range, kT0 + 61 * kMinute});
    batch.rejected.push_back({"alpha", 62, proto::RejectReason::out_of_range, kT0 + 61 * kMinute});
    batch.rejected.push_back({"alpha", 63, proto::RejectReason::no_values, kT0 + 61 * kMinute});
    commit(batch, kT0 + 61 * kMinute);
    ASSERT_TRUE(writer()
                    .record_status("alpha", store::DeviceStatus{.state = "online",
                                                                .firmware = "1.4.2",
                                                                .dropped_total = 2,
                                                                .at_ms = kT0 + 62 * kMinute,
                                                                .release_check = "timestamp_expired"})
                    .ok());
  }

  kelvin::testing::TempDir tmp_;
  std::optional<pki::CertificateAuthority> ca_;
  std::optional<store::Store> writer_;
  std::unique_ptr<SharedStore> api_store_;
  BlockingWork work_{1, 8};
  int jobs_ = 0;  // work handed to run_blocking (on the test's thread: the Router calls handlers there)
  std::string gateway_status_ = R"({"time_ms":1800000000000,"connected":1,"readings_stored":61})";
  std::string alpha_serial_;
  AdmittingGuard guard_;
  http::Router router_;
  bool routed_ = false;
};

TEST_F(FleetRoutesTest, EveryRouteIsAViewerRoute) {
  routes();
  EXPECT_EQ(guard_.minimums, std::vector<Role>(5, Role::viewer));
}

TEST_F(FleetRoutesTest, TheListShowsWhatTheStoreAndThePkiSay) {
  add_fleet();
  auto response = call(routes(), "/api/v1/devices");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.content_type, "application/json");
  const json devices = body_of(response)["devices"];
  ASSERT_TRUE(devices.is_array());
  std::vector<std::string> ids;
  for (const auto& device : devices) ids.push_back(device["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"alpha", "bravo", "charlie", "echo"})) << "delta was removed";

  json alpha = json::parse(R"({
    "id": "alpha", "state": "online", "registered": true, "registered_at": "2027-01-15T05:59:00Z",
    "registered_at_ms": 1799992740000,
    "last_seen": "2027-01-15T07:02:00Z", "last_seen_ms": 1799996520000,
    "last_reading": {"seq": 60, "ts": "2027-01-15T06:59:00Z", "ts_ms": 1799996340000,
                     "temperature": 20.0, "humidity": 40.0},
    "firmware": "1.4.2", "acked_seq": 63, "readings_stored": 60, "rejected": 3, "dropped": 2,
    "release_check": "timestamp_expired",
    "certificate": {"state": "valid", "serial": "?", "expires": "2029-01-14T07:00:00Z",
                    "expires_ms": 1863068400000},
    "labels": []
  })");
  alpha["certificate"]["serial"] = alpha_serial_;
  EXPECT_EQ(devices[0], alpha);
  EXPECT_EQ(devices[1]["state"], "never seen");
  EXPECT_TRUE(devices[1]["release_check"].is_null()) << "never reported";
  EXPECT_EQ(devices[1]["certificate"]["state"], "valid");
  EXPECT_TRUE(devices[1]["last_reading"].is_null());
  EXPECT_EQ(devices[2]["state"], "unknown");
  EXPECT_EQ(devices[2]["registered"], false);
  EXPECT_EQ(devices[2]["last_reading"]["temperature"], 18.0);
  EXPECT_TRUE(devices[2]["last_reading"]["humidity"].is_null());
  EXPECT_EQ(devices[2]["certificate"]["state"], "none");
  EXPECT_EQ(devices[3]["certificate"]["state"], "revoked");
  EXPECT_FALSE(devices[0].contains("rejected_by_reason")) << "only for one device";
}

TEST_F(FleetRoutesTest, LabelsAreShownAndFilterTheList) {
  add_fleet();
  ASSERT_TRUE(writer().change_device_labels("alpha", {"greenhouse", "west"}, {}).ok());
  ASSERT_TRUE(writer().change_device_labels("charlie", {"greenhouse"}, {}).ok());
  const json all = body_of(call(routes(), "/api/v1/devices"))["devices"];
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0]["labels"], json({"greenhouse", "west"}));
  EXPECT_EQ(all[1]["labels"], json::array()) << "bravo, known from its certificate only";

  auto filtered = call(routes(), "/api/v1/devices?label=greenhouse");
  ASSERT_EQ(filtered.status, 200) << filtered.body;
  const json greenhouse = body_of(filtered)["devices"];
  std::vector<std::string> ids;
  for (const auto& device : greenhouse) ids.push_back(device["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"alpha", "charlie"}));
  EXPECT_EQ(body_of(call(routes(), "/api/v1/devices?label=nobody"))["devices"], json::array());

  auto detail = body_of(call(routes(), "/api/v1/devices/charlie"));
  EXPECT_EQ(detail["labels"], json({"greenhouse"}));

  for (const auto& [target, code] :
       {std::pair{"/api/v1/devices?label=Greenhouse", "invalid_label"},
        std::pair{"/api/v1/devices?label=", "invalid_label"}, std::pair{"/api/v1/devices?label=a%20b", "invalid_label"},
        std::pair{"/api/v1/devices?label=a&label=b", "duplicate_parameter"},
        std::pair{"/api/v1/devices?labels=a", "unknown_parameter"}}) {
    auto refused = call(routes(), target);
    EXPECT_EQ(refused.status, 400) << target << ": " << refused.body;
    EXPECT_EQ(error_code(refused), code) << target;
  }
}

TEST_F(FleetRoutesTest, ANewCertificateShowsAtOnce) {
  auto before = body_of(call(routes(), "/api/v1/devices"));
  EXPECT_EQ(before["devices"], json::array());
  issue("foxtrot");
  auto after = body_of(call(routes(), "/api/v1/devices"));
  ASSERT_EQ(after["devices"].size(), 1u);
  EXPECT_EQ(after["devices"][0]["id"], "foxtrot");
}

TEST_F(FleetRoutesTest, OneDeviceWithItsRejectionsByReason) {
  add_fleet();
  auto list = body_of(call(routes(), "/api/v1/devices"));
  auto response = call(routes(), "/api/v1/devices/alpha");
  ASSERT_EQ(response.status, 200) << response.body;
  json device = body_of(response);
  EXPECT_EQ(device["rejected_by_reason"], json::parse(R"({"no_values":1,"out_of_range":2})"));
  EXPECT_EQ(device["release_check"], "timestamp_expired");
  device.erase("rejected_by_reason");
  EXPECT_EQ(device, list["devices"][0]) << "the same facts as in the list";

  auto bravo = call(routes(), "/api/v1/devices/bravo");
  ASSERT_EQ(bravo.status, 200) << bravo.body;
  EXPECT_EQ(body_of(bravo)["state"], "never seen");
  EXPECT_TRUE(body_of(bravo)["release_check"].is_null());
  EXPECT_EQ(body_of(bravo)["rejected_by_reason"], json::object());
}

TEST_F(FleetRoutesTest, UnknownAndRemovedDevicesAreNotFound) {
  add_fleet();
  for (const char* id : {"nobody", "delta"}) {
    auto response = call(routes(), std::string("/api/v1/devices/") + id);
    EXPECT_EQ(response.status, 404) << id;
    EXPECT_EQ(error_code(response), "device_not_found") << id;
    EXPECT_NE(body_of(response)["error"]["message"].get<std::string>().find(id), std::string::npos);
    auto series = call(routes(), std::string("/api/v1/devices/") + id + "/series?quantity=temperature&from=-1h");
    EXPECT_EQ(series.status, 404) << id;
    EXPECT_EQ(error_code(series), "device_not_found") << id;
  }
}

TEST_F(FleetRoutesTest, AnInvalidDeviceIdIsABadRequest) {
  for (const char* target : {"/api/v1/devices/UPPER", "/api/v1/devices/svc-gateway",
                             "/api/v1/devices/a.b/series?quantity=temperature&from=-1h"}) {
    auto response = call(routes(), target);
    EXPECT_EQ(response.status, 400) << target;
    EXPECT_EQ(error_code(response), "invalid_device_id") << target;
  }
  EXPECT_EQ(jobs_, 0) << "refused on the I/O thread, before any store work";
}

TEST_F(FleetRoutesTest, ASeriesHasTheStoredReadingsInBuckets) {
  add_fleet();
  // Readings at 06:00..06:59, one a minute, temperature 20.1, 20.2, ..., 20.9, 20.0, 20.1, ...
  auto response = call(routes(),
                       "/api/v1/devices/alpha/series?quantity=temperature&from=2027-01-15T06:00:00Z&to=1799996400000"
                       "&step=1200000");
  ASSERT_EQ(response.status, 200) << response.body;
  const json series = body_of(response);
  EXPECT_EQ(series["device"], "alpha");
  EXPECT_EQ(series["quantity"], "temperature");
  EXPECT_EQ(series["unit"], "°C");
  EXPECT_EQ(series["from_ms"], kT0);
  EXPECT_EQ(series["to_ms"], kT0 + 60 * kMinute);
  EXPECT_EQ(series["step"], "20m");
  EXPECT_EQ(series["step_ms"], 20 * kMinute);
  EXPECT_EQ(series["resolution"], "minute");
  ASSERT_EQ(series["buckets"].size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const json& bucket = series["buckets"][i];
    EXPECT_EQ(bucket["start_ms"], kT0 + static_cast<std::int64_t>(i) * 20 * kMinute);
    EXPECT_EQ(bucket["count"], 20);
    EXPECT_DOUBLE_EQ(bucket["min"].get<double>(), 20.0);
    EXPECT_DOUBLE_EQ(bucket["max"].get<double>(), 20.9);
    EXPECT_NEAR(bucket["mean"].get<double>(), 20.45, 1e-9);
  }

  // Humidity, relative times, the default step (about 60 buckets: one minute over an hour).
  auto humidity = call(routes(), "/api/v1/devices/alpha/series?quantity=humidity&from=-2h&to=-1h");
  ASSERT_EQ(humidity.status, 200) << humidity.body;
  const json by_minute = body_of(humidity);
  EXPECT_EQ(by_minute["step_ms"], kMinute);
  EXPECT_EQ(by_minute["from_ms"], kT0);
  ASSERT_EQ(by_minute["buckets"].size(), 60u);
  EXPECT_EQ(by_minute["buckets"][59]["max"], 40.0);
  EXPECT_EQ(by_minute["buckets"][59]["count"], 1);
}

TEST_F(FleetRoutesTest, ADeviceThatNeverSentAnythingHasAnEmptySeries) {
  add_fleet();
  auto response = call(routes(), "/api/v1/devices/bravo/series?quantity=temperature&from=-1d");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(body_of(response)["buckets"], json::array());
}

TEST_F(FleetRoutesTest, BadSeriesParametersAreRefusedWithTheirCodes) {
  add_fleet();
  const std::string series = "/api/v1/devices/alpha/series";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "missing_parameter"},
      {"?from=-1h", "missing_parameter"},
      {"?quantity=temperature", "missing_parameter"},
      {"?quantity=temperature&from=", "missing_parameter"},
      {"?quantity=pressure&from=-1h", "invalid_quantity"},
      {"?quantity=temperature&from=yesterday", "invalid_time"},
      {"?quantity=temperature&from=-1h&to=2027-02-30", "invalid_time"},
      {"?quantity=temperature&from=-5", "invalid_time"},
      {"?quantity=temperature&from=99999999999999999999", "invalid_time"},
      {"?quantity=temperature&from=-1h&step=0", "invalid_step"},
      {"?quantity=temperature&from=-1h&step=-1m", "invalid_step"},
      {"?quantity=temperature&from=-1h&step=1w", "invalid_step"},
      {"?quantity=temperature&from=now", "invalid_range"},
      {"?quantity=temperature&from=-1h&to=-2h", "invalid_range"},
      {"?quantity=temperature&from=-1d&step=1s", "too_many_points"},
      {"?quantity=temperature&from=-1h&limit=5", "unknown_parameter"},
      {"?quantity=temperature&from=-1h&from=-2h", "duplicate_parameter"},
      {"?quantity=temperature&from=-1h&=x", "invalid_parameter"},
  };
  for (const auto& [query, code] : cases) {
    auto response = call(routes(), series + query);
    EXPECT_EQ(response.status, 400) << query << ": " << response.body;
    EXPECT_EQ(error_code(response), code) << query << ": " << response.body;
  }
  EXPECT_EQ(jobs_, 0) << "refused on the I/O thread, before any store work";
}

TEST_F(FleetRoutesTest, TheFleetSeriesHasEveryDevicesHourlyMeans) {
  add_fleet();
  // Now is 08:00:00Z: the default 24 hours end with the hour in progress, 08:00-09:00.
  auto response = call(routes(), "/api/v1/fleet/series?quantity=temperature");
  ASSERT_EQ(response.status, 200) << response.body;
  const json fleet = body_of(response);
  EXPECT_EQ(fleet["quantity"], "temperature");
  EXPECT_EQ(fleet["unit"], "°C");
  EXPECT_EQ(fleet["to_ms"], kNowMs + 3'600'000);
  EXPECT_EQ(fleet["from_ms"], kNowMs + 3'600'000 - 24 * 3'600'000LL);
  EXPECT_EQ(fleet["from"], "2027-01-14T09:00:00Z");
  EXPECT_EQ(fleet["step"], "1h");
  EXPECT_EQ(fleet["step_ms"], 3'600'000);
  ASSERT_EQ(fleet["devices"].size(), 2u) << "bravo never sent anything: " << fleet["devices"];
  // alpha's 60 readings and charlie's one are all in 06:00-07:00, the 22nd of the 24 hours.
  for (const auto& [index, id, mean] : {std::tuple{0u, "alpha", 20.45}, std::tuple{1u, "charlie", 18.0}}) {
    const json& device = fleet["devices"][index];
    EXPECT_EQ(device["id"], id);
    ASSERT_EQ(device["mean"].size(), 24u) << id;
    for (std::size_t hour = 0; hour < 24; ++hour) {
      if (hour == 21) {
        EXPECT_EQ(device["mean"][hour].get<double>(), mean) << id << ": rounded to two decimals";
      } else {
        EXPECT_TRUE(device["mean"][hour].is_null()) << id << " hour " << hour;
      }
    }
  }

  // The last two hours (07:00-09:00) hold no temperature; humidity only alpha sent.
  EXPECT_EQ(body_of(call(routes(), "/api/v1/fleet/series?quantity=temperature&hours=2"))["devices"], json::array());
  const json humidity = body_of(call(routes(), "/api/v1/fleet/series?quantity=humidity&hours=3"));
  ASSERT_EQ(humidity["devices"].size(), 1u);
  EXPECT_EQ(humidity["devices"][0]["mean"], json::parse("[40.0, null, null]"));
}

TEST_F(FleetRoutesTest, BadFleetSeriesParametersAreRefusedWithTheirCodes) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "missing_parameter"},
      {"?hours=24", "missing_parameter"},
      {"?quantity=pressure", "invalid_quantity"},
      {"?quantity=temperature&hours=0", "invalid_hours"},
      {"?quantity=temperature&hours=745", "invalid_hours"},
      {"?quantity=temperature&hours=-3", "invalid_hours"},
      {"?quantity=temperature&hours=1d", "invalid_hours"},
      {"?quantity=temperature&from=-1h", "unknown_parameter"},
      {"?quantity=temperature&quantity=humidity", "duplicate_parameter"},
  };
  for (const auto& [query, code] : cases) {
    auto response = call(routes(), "/api/v1/fleet/series" + query);
    EXPECT_EQ(response.status, 400) << query << ": " << response.body;
    EXPECT_EQ(error_code(response), code) << query << ": " << response.body;
  }
  EXPECT_EQ(jobs_, 0) << "refused on the I/O thread, before any store work";
  EXPECT_EQ(call(routes(), "/api/v1/fleet/series?quantity=humidity&hours=744").status, 200) << "a month fits";
}

TEST_F(FleetRoutesTest, TheMostPointsAnAnswerMayHold) {
  add_fleet();
  // 10,000 one-minute buckets fit, 10,001 do not.
  const std::int64_t to = kT0 + 10'000 * kMinute;
  auto fits = call(routes(), "/api/v1/devices/alpha/series?quantity=temperature&step=1m&from=" + std::to_string(kT0) +
                                 "&to=" + std::to_string(to));
  EXPECT_EQ(fits.status, 200) << fits.body;
  auto one_more =
      call(routes(), "/api/v1/devices/alpha/series?quantity=temperature&step=1m&from=" + std::to_string(kT0) +
                         "&to=" + std::to_string(to + 1));
  EXPECT_EQ(one_more.status, 400);
  EXPECT_EQ(error_code(one_more), "too_many_points");
}

TEST_F(FleetRoutesTest, RoutesWithoutParametersRefuseAny) {
  for (const char* target : {"/api/v1/devices?all=1", "/api/v1/devices/alpha?x", "/api/v1/gateway/status?v=2"}) {
    auto response = call(routes(), target);
    EXPECT_EQ(response.status, 400) << target;
    EXPECT_EQ(error_code(response), "unknown_parameter") << target;
  }
}

TEST_F(FleetRoutesTest, GatewayStatusIsTheGatewaysStatistics) {
  auto response = call(routes(), "/api/v1/gateway/status");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(body_of(response), json::parse(gateway_status_));

  gateway_status_ = "";
  auto starting = call(routes(), "/api/v1/gateway/status");
  EXPECT_EQ(starting.status, 503);
  EXPECT_EQ(error_code(starting), "unavailable");

  gateway_status_ = "not json";
  auto broken = call(routes(), "/api/v1/gateway/status");
  EXPECT_EQ(broken.status, 500);
  EXPECT_EQ(error_code(broken), "internal");
}

TEST_F(FleetRoutesTest, StoreAndPkiFailuresAnswerACodeAndNoDetails) {
  add_fleet();
  std::filesystem::rename(pki_dir() / "index.log", pki_dir() / "index.log.away");
  auto response = call(routes(), "/api/v1/devices");
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(error_code(response), "pki_error");
  EXPECT_EQ(response.body.find(tmp_.path().string()), std::string::npos) << "no file names: " << response.body;
}

TEST_F(FleetRoutesTest, AFullExecutorAnswersBusyAtOnce) {
  FleetSources refusing = sources();
  refusing.run_blocking = [](std::function<void()>) { return false; };
  add_fleet_routes(router_, guard_, std::move(refusing));
  routed_ = true;
  for (const char* target : {"/api/v1/devices", "/api/v1/devices/alpha",
                             "/api/v1/devices/alpha/series?quantity=humidity&from=-1h", "/api/v1/gateway/status"}) {
    auto response = call(router_, target);
    EXPECT_EQ(response.status, 503) << target;
    EXPECT_EQ(error_code(response), "busy") << target;
    ASSERT_EQ(response.headers.size(), 1u);
    EXPECT_EQ(response.headers[0], (std::pair<std::string, std::string>{"Retry-After", "1"}));
  }
}

TEST_F(FleetRoutesTest, ARefusingGuardLetsNoRequestReachAHandler) {
  add_fleet();
  RefusingGuard refusing;
  http::Router router;
  add_fleet_routes(router, refusing, sources());
  EXPECT_EQ(refusing.handlers.size(), 5u) << "every route went through the guard";
  for (const char* target :
       {"/api/v1/devices", "/api/v1/devices/alpha", "/api/v1/devices/alpha/series?quantity=humidity&from=-1h",
        "/api/v1/fleet/series?quantity=temperature", "/api/v1/gateway/status"}) {
    auto response = call(router, target);
    EXPECT_EQ(response.status, 401) << target;
    EXPECT_EQ(error_code(response), "not_signed_in") << target;
  }
  EXPECT_EQ(jobs_, 0) << "no handler ran: nothing was handed to the executor";
}

// Not an assertion on time (timing belongs to benchmarks): the list of a 1,000-device fleet, each
// with a reading and a certificate, measured once and printed. (A status per device would cost a
// commit each to set up, and nothing to list: it is a column of the device's row.)
TEST_F(FleetRoutesTest, AThousandDevices) {
  constexpr int kDevices = 1000;
  store::IngestBatch batch;
  auto index = pki::CertificateIndex::load(pki_dir() / "index.log");
  ASSERT_TRUE(index.ok()) << index.error().message;
  for (int i = 0; i < kDevices; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "sensor-%04d", i);
    batch.readings.push_back({id, reading(1, kT0 + i, 20.0, 50.0)});
    // Index records as issuing writes them (no key or certificate file: only the index is read).
    pki::IssuedCertificate record;
    record.serial = "F" + std::to_string(100000 + i);
    record.kind = pki::CertificateKind::device;
    record.common_name = id;
    record.not_before = kNow - 3'600;
    record.not_after = kNow + 730 * 86'400;
    ASSERT_TRUE(index->record_issue(record).ok());
  }
  commit(batch, kT0 + kMinute);
  for (int run = 1; run <= 3; ++run) {
    const auto start = std::chrono::steady_clock::now();
    auto response = call(routes(), "/api/v1/devices");
    const auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
    ASSERT_EQ(response.status, 200);
    EXPECT_EQ(body_of(response)["devices"].size(), static_cast<std::size_t>(kDevices));
    std::cout << "[ timing ] GET /api/v1/devices, " << kDevices << " devices, run " << run << ": " << elapsed.count()
              << " ms, " << response.body.size() << " bytes\n";
  }
  // Where the time goes: the store, the CA's index, merging, JSON.
  auto timed = [](const char* what, auto&& step) {
    const auto begin = std::chrono::steady_clock::now();
    auto result = step();
    std::cout << "[ timing ]   " << what << ": "
              << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count() << " ms\n";
    return result;
  };
  auto devices =
      timed("Store::list_devices", [&] { return api_store_->with([](auto& s) { return s.list_devices(); }); });
  ASSERT_TRUE(devices.ok());
  auto certificates = timed("CertificateAuthority::open + list", [&] {
    auto ca = pki::CertificateAuthority::open(pki_dir());
    return ca ? ca->list(kNow) : std::vector<pki::CertificateStatus>{};
  });
  auto views =
      timed("fleet::device_views", [&] { return fleet::device_views(std::move(*devices), certificates, false); });
  auto body = timed("fleet::devices_json", [&] { return fleet::devices_json(views); });
  EXPECT_EQ(views.size(), static_cast<std::size_t>(kDevices));

  const auto fleet_start = std::chrono::steady_clock::now();
  auto fleet = call(routes(), "/api/v1/fleet/series?quantity=temperature");
  const auto fleet_elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - fleet_start);
  ASSERT_EQ(fleet.status, 200);
  EXPECT_EQ(body_of(fleet)["devices"].size(), static_cast<std::size_t>(kDevices));
  std::cout << "[ timing ] GET /api/v1/fleet/series, " << kDevices << " devices: " << fleet_elapsed.count() << " ms, "
            << fleet.body.size() << " bytes\n";

  const auto start = std::chrono::steady_clock::now();
  auto one = call(routes(), "/api/v1/devices/sensor-0500");
  const auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  ASSERT_EQ(one.status, 200);
  std::cout << "[ timing ] GET /api/v1/devices/sensor-0500 among " << kDevices << ": " << elapsed.count() << " ms\n";
}

}  // namespace
}  // namespace kelvin::gateway
