// The JSON shape kelvinctl --json and the HTTPS API share (docs/registry.md, docs/api.md).

#include "kelvin/fleet/fleet_json.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fleet_test_support.hpp"

namespace kelvin::fleet {
namespace {

using namespace kelvin::fleet::testing;
using nlohmann::json;

TEST(FleetJson, AStoredDeviceWithItsCertificate) {
  store::DeviceInfo info = stored_device("alpha");
  info.labels = {"greenhouse", "west"};
  info.status->release_check = "timestamp_expired";
  DeviceView view{"alpha", info, device_certificate("alpha", "0A1B"), std::nullopt};
  EXPECT_EQ(json::parse(device_json(view)), json::parse(R"({
    "id": "alpha", "state": "online", "registered": true, "registered_at": "2026-11-22T09:59:00Z",
    "registered_at_ms": 1795341540000,
    "last_seen": "2026-11-22T10:00:05Z", "last_seen_ms": 1795341605000,
    "last_reading": {"seq": 6, "ts": "2026-11-22T10:00:04Z", "ts_ms": 1795341604000,
                     "temperature": 21.5, "humidity": null},
    "firmware": "1.2.0", "acked_seq": 6, "readings_stored": 5, "rejected": 1, "dropped": 3,
    "release_check": "timestamp_expired",
    "certificate": {"state": "valid", "serial": "0A1B", "expires": "2028-11-22T10:00:00Z",
                    "expires_ms": 1858500000000},
    "labels": ["greenhouse", "west"]
  })"));
}

TEST(FleetJson, ADeviceKnownOnlyFromItsCertificateHasEveryKeyAsNullOrZero) {
  DeviceView view{"bravo", std::nullopt, device_certificate("bravo", "02"), std::nullopt};
  EXPECT_EQ(json::parse(device_json(view)), json::parse(R"({
    "id": "bravo", "state": "never seen", "registered": false, "registered_at": null, "registered_at_ms": null,
    "last_seen": null, "last_seen_ms": null, "last_reading": null, "firmware": null,
    "acked_seq": 0, "readings_stored": 0, "rejected": 0, "dropped": null, "release_check": null,
    "certificate": {"state": "valid", "serial": "02", "expires": "2028-11-22T10:00:00Z",
                    "expires_ms": 1858500000000},
    "labels": []
  })"));
}

TEST(FleetJson, NoCertificateAndNoStatus) {
  store::DeviceInfo info = stored_device("charlie");
  info.registered_ms = 0;
  info.status.reset();
  info.last_reading.reset();
  auto out = json::parse(device_json(DeviceView{"charlie", info, std::nullopt, std::nullopt}));
  EXPECT_EQ(out["state"], "unknown");
  EXPECT_EQ(out["registered"], false);
  EXPECT_TRUE(out["firmware"].is_null());
  EXPECT_TRUE(out["dropped"].is_null());
  ASSERT_TRUE(out.contains("release_check"));
  EXPECT_TRUE(out["release_check"].is_null());
  EXPECT_TRUE(out["last_reading"].is_null());
  EXPECT_EQ(out["certificate"], json::parse(R"({"state":"none","serial":null,"expires":null,"expires_ms":null})"));
  EXPECT_FALSE(out.contains("rejected_by_reason")) << "only when gathered";
}

TEST(FleetJson, AStatusWithoutAReleaseCheckShowsNull) {
  auto out = json::parse(device_json(DeviceView{"alpha", stored_device("alpha"), std::nullopt, std::nullopt}));
  EXPECT_EQ(out["firmware"], "1.2.0");
  ASSERT_TRUE(out.contains("release_check"));
  EXPECT_TRUE(out["release_check"].is_null()) << "never reported";
}

TEST(FleetJson, ALiveStatusCarriesItsReleaseCheckOrNull) {
  store::DeviceStatus status{"online", "1.2.0", 3, kT0};
  EXPECT_TRUE(json::parse(live_status_json("alpha", status))["release_check"].is_null());
  status.release_check = "current";
  EXPECT_EQ(json::parse(live_status_json("alpha", status))["release_check"], "current");
}

TEST(FleetJson, RejectionsByReasonWhenGathered) {
  DeviceView view{"alpha", stored_device("alpha"), std::nullopt,
                  std::vector<store::RejectionCount>{{"no_values", 1}, {"out_of_range", 2}}};
  EXPECT_EQ(json::parse(device_json(view))["rejected_by_reason"], json::parse(R"({"no_values":1,"out_of_range":2})"));
  view.rejections_by_reason.emplace();
  EXPECT_EQ(json::parse(device_json(view))["rejected_by_reason"], json::object());
}

TEST(FleetJson, DevicesInTheOrderGivenAndPrettyWhenAsked) {
  std::vector<DeviceView> views = {{"bravo", std::nullopt, device_certificate("bravo", "02"), std::nullopt},
                                   {"alpha", stored_device("alpha"), std::nullopt, std::nullopt}};
  auto out = json::parse(devices_json(views));
  ASSERT_TRUE(out.is_array());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["id"], "bravo");
  EXPECT_EQ(out[1]["id"], "alpha");
  EXPECT_EQ(devices_json({}), "[]");
  EXPECT_EQ(devices_json(views, 2).find("\n  {"), 1u) << devices_json(views, 2);
}

TEST(FleetJson, InvalidUtf8IsReplacedNotThrown) {
  store::DeviceInfo info = stored_device("alpha");
  info.status->firmware = "1.\xff";
  auto out = json::parse(device_json(DeviceView{"alpha", info, std::nullopt, std::nullopt}));
  EXPECT_EQ(out["firmware"], "1.\xEF\xBF\xBD");
}

TEST(FleetJson, ASeries) {
  store::Query query;
  query.device_id = "alpha";
  query.quantity = proto::Quantity::humidity;
  query.from_ms = kT0;
  query.to_ms = kT0 + 2 * 3'600'000;
  query.step_ms = 3'600'000;
  store::QueryResult result;
  result.resolution = store::Resolution::hour;
  result.buckets.push_back(store::Bucket{kT0, 40.0, 44.0, 42.0, 10, 43.0});
  EXPECT_EQ(json::parse(series_json(query, result)), json::parse(R"({
    "device": "alpha", "quantity": "humidity", "unit": "%RH",
    "from": "2026-11-22T10:00:00Z", "from_ms": 1795341600000,
    "to": "2026-11-22T12:00:00Z", "to_ms": 1795348800000, "step": "1h", "step_ms": 3600000,
    "resolution": "hour",
    "buckets": [{"start": "2026-11-22T10:00:00Z", "start_ms": 1795341600000,
                 "min": 40.0, "mean": 42.0, "max": 44.0, "count": 10}]
  })"));
}

}  // namespace
}  // namespace kelvin::fleet
