// The device registry: registration, status, listing and removal.

#include <gtest/gtest.h>

#include "kelvin/testing/temp_dir.hpp"
#include "store_test_support.hpp"

namespace kelvin::store {
namespace {

using namespace kelvin::store::testing;

constexpr proto::Quantity kTemperature = proto::Quantity::temperature;
constexpr proto::Quantity kHumidity = proto::Quantity::humidity;

class DevicesTest : public StoreFixture {
 protected:
  std::optional<DeviceInfo> info(const std::string& id) {
    auto found = store().device(id);
    EXPECT_TRUE(found.ok()) << found.error().message;
    return found.ok() ? *found : std::nullopt;
  }

  std::size_t stored_buckets(const std::string& id) {
    auto result = store().query(query_of(id, kTemperature, kT0, kT0 + kDay, kHour, Resolution::raw));
    EXPECT_TRUE(result.ok());
    return result.ok() ? result->buckets.size() : 0;
  }
};

TEST_F(DevicesTest, RegisteringTwiceIsAlreadyExists) {
  ASSERT_TRUE(store().register_device("sensor-1", kT0).ok());
  auto again = store().register_device("sensor-1", kT0 + kDay);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::already_exists);
  EXPECT_NE(again.error().message.find("sensor-1"), std::string::npos);
  EXPECT_EQ(info("sensor-1")->registered_ms, kT0);  // the first registration stands
}

TEST_F(DevicesTest, DeviceSeenByTelemetryCanBeRegisteredLater) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 2, kT0)), kT0);
  EXPECT_EQ(info("sensor-1")->registered_ms, 0);
  ASSERT_TRUE(store().register_device("sensor-1", kT0 + kHour).ok());
  auto registered = info("sensor-1");
  EXPECT_EQ(registered->registered_ms, kT0 + kHour);
  EXPECT_EQ(registered->acked_seq, 2u);
}

TEST_F(DevicesTest, MalformedIdsAreRefused) {
  for (const char* id : {"", "UPPER", "a/b", "svc-gateway", "-leading-dash"}) {
    auto registered = store().register_device(id, kT0);
    ASSERT_FALSE(registered.ok()) << id;
    EXPECT_EQ(registered.error().code, Errc::invalid_argument) << id;
    auto status = store().record_status(id, DeviceStatus{"online", "1.0.0", 0, kT0});
    ASSERT_FALSE(status.ok()) << id;
    EXPECT_EQ(status.error().code, Errc::invalid_argument) << id;
  }
}

TEST_F(DevicesTest, ListShowsEveryDeviceSortedWithItsState) {
  // "zulu": telemetry (readings out of timestamp order), a rejection and a status.
  IngestBatch batch =
      batch_of("zulu", {reading(1, kT0 + 20 * kSecond, 21.0, 40.0), reading(2, kT0 + 10 * kSecond, 22.0),
                        reading(3, kT0 + 15 * kSecond, std::nullopt, 45.0)});
  batch.rejected.push_back(rejection("zulu", 4, kT0 + kMinute));
  commit_ok(store(), batch, kT0 + kMinute);
  ASSERT_TRUE(store().record_status("zulu", DeviceStatus{"online", "1.2.0", 7, kT0 + 2 * kMinute}).ok());
  // "alpha": registered only.
  ASSERT_TRUE(store().register_device("alpha", kT0 - kDay).ok());
  // "mike": status only.
  ASSERT_TRUE(store().record_status("mike", DeviceStatus{"offline", "", 0, kT0 + 5 * kMinute}).ok());

  auto devices = store().list_devices();
  ASSERT_TRUE(devices.ok()) << devices.error().message;
  ASSERT_EQ(devices->size(), 3u);
  EXPECT_EQ((*devices)[0].device_id, "alpha");
  EXPECT_EQ((*devices)[1].device_id, "mike");
  EXPECT_EQ((*devices)[2].device_id, "zulu");

  const DeviceInfo& alpha = (*devices)[0];
  EXPECT_EQ(alpha.registered_ms, kT0 - kDay);
  EXPECT_FALSE(alpha.last_seen_ms.has_value());
  EXPECT_FALSE(alpha.last_reading.has_value());
  EXPECT_FALSE(alpha.status.has_value());
  EXPECT_EQ(alpha.acked_seq, 0u);
  EXPECT_EQ(alpha.readings_stored, 0u);

  const DeviceInfo& mike = (*devices)[1];
  EXPECT_EQ(mike.registered_ms, 0);  // created by its status, never registered
  EXPECT_EQ(mike.last_seen_ms, kT0 + 5 * kMinute);
  ASSERT_TRUE(mike.status.has_value());
  EXPECT_EQ(mike.status->state, "offline");

  const DeviceInfo& zulu = (*devices)[2];
  EXPECT_EQ(zulu.registered_ms, 0);
  EXPECT_EQ(zulu.acked_seq, 4u);
  EXPECT_EQ(zulu.readings_stored, 3u);
  EXPECT_EQ(zulu.rejected_total, 1u);
  EXPECT_EQ(zulu.last_seen_ms, kT0 + 2 * kMinute);
  // The last reading is the one with the highest timestamp (seq 1), with all of its values.
  ASSERT_TRUE(zulu.last_reading.has_value());
  EXPECT_EQ(*zulu.last_reading, reading(1, kT0 + 20 * kSecond, 21.0, 40.0));
  ASSERT_TRUE(zulu.status.has_value());
  EXPECT_EQ(zulu.status->state, "online");
  EXPECT_EQ(zulu.status->firmware, "1.2.0");
  EXPECT_EQ(zulu.status->dropped_total, 7u);
  EXPECT_EQ(zulu.status->at_ms, kT0 + 2 * kMinute);

  auto single = store().device("zulu");
  ASSERT_TRUE(single.ok() && single->has_value());
  EXPECT_EQ((*single)->last_reading, zulu.last_reading);
  auto missing = store().device("nobody");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(DevicesTest, DevicesAreCountedByTheStateOfTheirLastStatus) {
  auto none = store().count_devices_by_status();
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_TRUE(none->empty());

  ASSERT_TRUE(store().register_device("never-reported", kT0).ok());
  commit_ok(store(), batch_of("only-readings", {reading(1, kT0, 21.0)}), kT0);
  ASSERT_TRUE(store().record_status("up-1", DeviceStatus{"online", "1.0.0", 0, kT0}).ok());
  ASSERT_TRUE(store().record_status("up-2", DeviceStatus{"online", "1.0.0", 0, kT0}).ok());
  // Online first, then its last will: the last status counts.
  ASSERT_TRUE(store().record_status("gone", DeviceStatus{"online", "1.0.0", 0, kT0}).ok());
  ASSERT_TRUE(store().record_status("gone", DeviceStatus{"offline", "", 0, kT0 + kMinute}).ok());

  auto counts = store().count_devices_by_status();
  ASSERT_TRUE(counts.ok()) << counts.error().message;
  ASSERT_EQ(counts->size(), 3u);
  EXPECT_EQ((*counts)[0].state, "");
  EXPECT_EQ((*counts)[0].devices, 2u);
  EXPECT_EQ((*counts)[1].state, "offline");
  EXPECT_EQ((*counts)[1].devices, 1u);
  EXPECT_EQ((*counts)[2].state, "online");
  EXPECT_EQ((*counts)[2].devices, 2u);
}

TEST_F(DevicesTest, LastSeenIsTheLatestArrivalOfAnything) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 1, kT0)), kT0 + 10 * kSecond);
  EXPECT_EQ(info("sensor-1")->last_seen_ms, kT0 + 10 * kSecond);
  ASSERT_TRUE(store().record_status("sensor-1", DeviceStatus{"online", "1.0.0", 0, kT0 + 20 * kSecond}).ok());
  EXPECT_EQ(info("sensor-1")->last_seen_ms, kT0 + 20 * kSecond);
  // A status stamped earlier replaces the status but does not move last_seen back.
  ASSERT_TRUE(store().record_status("sensor-1", DeviceStatus{"online", "1.0.1", 3, kT0 + 5 * kSecond}).ok());
  auto after = info("sensor-1");
  EXPECT_EQ(after->last_seen_ms, kT0 + 20 * kSecond);
  EXPECT_EQ(after->status->firmware, "1.0.1");
  EXPECT_EQ(after->status->dropped_total, 3u);
  // A commit of nothing but duplicates is still an arrival.
  commit_ok(store(), batch_of("sensor-1", sequence(1, 1, kT0)), kT0 + 30 * kSecond);
  EXPECT_EQ(info("sensor-1")->last_seen_ms, kT0 + 30 * kSecond);
}

TEST_F(DevicesTest, RemoveWithoutPurgeForgetsRegistrationAndStatusButKeepsDataAndAck) {
  ASSERT_TRUE(store().register_device("sensor-1", kT0).ok());
  commit_ok(store(), batch_of("sensor-1", sequence(1, 5, kT0)), kT0);
  ASSERT_TRUE(store().record_status("sensor-1", DeviceStatus{"online", "1.0.0", 0, kT0}).ok());

  ASSERT_TRUE(store().remove_device("sensor-1", false).ok());
  auto kept = info("sensor-1");
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->registered_ms, 0);
  EXPECT_FALSE(kept->status.has_value());
  EXPECT_EQ(kept->acked_seq, 5u);
  EXPECT_EQ(kept->readings_stored, 5u);
  EXPECT_EQ(stored_buckets("sensor-1"), 1u);
  // Resends stay duplicates, and the device can be registered again.
  auto resend = commit_ok(store(), batch_of("sensor-1", sequence(1, 5, kT0)), kT0);
  EXPECT_EQ(resend.duplicates, 5u);
  EXPECT_TRUE(store().register_device("sensor-1", kT0 + kDay).ok());
}

TEST_F(DevicesTest, RemoveWithoutPurgeOfADeviceWithoutDataRemovesItEntirely) {
  ASSERT_TRUE(store().register_device("sensor-1", kT0).ok());
  ASSERT_TRUE(store().remove_device("sensor-1", false).ok());
  EXPECT_FALSE(info("sensor-1").has_value());
  auto devices = store().list_devices();
  ASSERT_TRUE(devices.ok());
  EXPECT_TRUE(devices->empty());
}

TEST_F(DevicesTest, PurgeDeletesEverythingOfThatDeviceOnly) {
  IngestBatch batch = batch_of("sensor-1", {reading(1, kT0, 20.0, 50.0), reading(3, kT0 + kSecond, 21.0)});
  batch.rejected.push_back(rejection("sensor-1", 2, kT0));
  for (const auto& r : sequence(1, 4, kT0)) batch.readings.push_back(DeviceReading{"sensor-2", r});
  commit_ok(store(), batch, kT0);
  ASSERT_TRUE(store().register_device("sensor-1", kT0).ok());

  ASSERT_TRUE(store().remove_device("sensor-1", true).ok());
  EXPECT_FALSE(info("sensor-1").has_value());
  EXPECT_EQ(stored_buckets("sensor-1"), 0u);
  auto hour = store().query(query_of("sensor-1", kHumidity, kT0, kT0 + kDay, kHour, Resolution::hour));
  ASSERT_TRUE(hour.ok());
  EXPECT_TRUE(hour->buckets.empty());
  auto acked = store().acked_seq("sensor-1");
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(*acked, 0u);

  RawDatabase raw(path());
  EXPECT_EQ(raw.integer("SELECT count(*) FROM rejected"), 0);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM readings"), 4);  // sensor-2's
  EXPECT_EQ(raw.integer("SELECT count(*) FROM series"), 1);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM rollups"), 3);  // sensor-2: a minute, an hour and an 8-hour bucket
  EXPECT_EQ(info("sensor-2")->acked_seq, 4u);
  EXPECT_EQ(stored_buckets("sensor-2"), 1u);

  // A purged id that sends again starts from scratch.
  auto fresh = commit_ok(store(), batch_of("sensor-1", sequence(1, 1, kT0)), kT0 + kDay);
  EXPECT_EQ(fresh.stored, 1u);
  EXPECT_EQ(ack_of(fresh, "sensor-1"), 1u);
}

TEST_F(DevicesTest, RejectionsByReasonCountTheRecordsRetentionKeeps) {
  IngestBatch batch = batch_of("sensor-1", {reading(1, kT0, 20.0)});
  batch.rejected.push_back(rejection("sensor-1", 2, kT0, proto::RejectReason::out_of_range));
  batch.rejected.push_back(rejection("sensor-1", 3, kT0, proto::RejectReason::timestamp_too_old));
  batch.rejected.push_back(rejection("sensor-1", 4, kT0, proto::RejectReason::out_of_range));
  batch.rejected.push_back(rejection("sensor-2", 1, kT0, proto::RejectReason::no_values));
  commit_ok(store(), batch, kT0);
  IngestBatch recent;
  recent.rejected.push_back(rejection("sensor-1", 5, kT0 + 40 * kDay, proto::RejectReason::no_values));
  commit_ok(store(), recent, kT0 + 40 * kDay);

  auto counts = store().rejections_by_reason("sensor-1");
  ASSERT_TRUE(counts.ok()) << counts.error().message;
  EXPECT_EQ(*counts, (std::vector<RejectionCount>{{"no_values", 1}, {"out_of_range", 2}, {"timestamp_too_old", 1}}));

  // Retention (30 days of raw data) deletes the old records; the total is a counter and stays.
  ASSERT_TRUE(store().apply_retention(kT0 + 45 * kDay).ok());
  counts = store().rejections_by_reason("sensor-1");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, (std::vector<RejectionCount>{{"no_values", 1}}));
  EXPECT_EQ(info("sensor-1")->rejected_total, 4u);

  auto unknown = store().rejections_by_reason("nobody");
  ASSERT_TRUE(unknown.ok());
  EXPECT_TRUE(unknown->empty());
  auto malformed = store().rejections_by_reason("Not An Id");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code, Errc::invalid_argument);
}

TEST_F(DevicesTest, RemovingAnUnknownDeviceIsNotFound) {
  for (bool purge : {false, true}) {
    auto removed = store().remove_device("nobody", purge);
    ASSERT_FALSE(removed.ok());
    EXPECT_EQ(removed.error().code, Errc::not_found);
    EXPECT_NE(removed.error().message.find("nobody"), std::string::npos);
  }
}

}  // namespace
}  // namespace kelvin::store

namespace kelvin::store {
namespace {

TEST_F(DevicesTest, LastWillKeepsTheFirmwareAndDropCountLastReported) {
  ASSERT_TRUE(store().record_status("sensor-1", DeviceStatus{"online", "2.1.0", 4, kT0}).ok());
  ASSERT_TRUE(store().record_status("sensor-1", DeviceStatus{"offline", "", 0, kT0 + kMinute}).ok());
  auto info = store().device("sensor-1");
  ASSERT_TRUE(info.ok() && info->has_value());
  ASSERT_TRUE((*info)->status.has_value());
  EXPECT_EQ((*info)->status->state, "offline");
  EXPECT_EQ((*info)->status->firmware, "2.1.0");
  EXPECT_EQ((*info)->status->dropped_total, 4u);
  EXPECT_EQ((*info)->status->at_ms, kT0 + kMinute);
  // The next online status replaces both.
  ASSERT_TRUE(store().record_status("sensor-1", DeviceStatus{"online", "2.2.0", 0, kT0 + 2 * kMinute}).ok());
  EXPECT_EQ((*store().device("sensor-1"))->status->firmware, "2.2.0");
  EXPECT_EQ((*store().device("sensor-1"))->status->dropped_total, 0u);
}

DeviceStatus online_with_check(std::string firmware, std::string release_check, std::int64_t at_ms) {
  return DeviceStatus{.state = "online",
                      .firmware = std::move(firmware),
                      .dropped_total = 0,
                      .at_ms = at_ms,
                      .release_check = std::move(release_check)};
}

TEST_F(DevicesTest, TheReleaseCheckIsRecordedAndReadBackInTheListAndAlone) {
  ASSERT_TRUE(store().register_device("never-checked", kT0).ok());
  ASSERT_TRUE(store().record_status("no-check", DeviceStatus{"online", "1.0.0", 0, kT0}).ok());
  ASSERT_TRUE(store().record_status("sensor-1", online_with_check("2.1.0", "timestamp_expired", kT0)).ok());
  EXPECT_EQ(info("sensor-1")->status->release_check, "timestamp_expired");
  EXPECT_EQ(info("no-check")->status->release_check, "") << "a status without one: never reported";
  EXPECT_FALSE(info("never-checked")->status.has_value());

  ASSERT_TRUE(store().record_status("sensor-1", online_with_check("2.1.0", "current", kT0 + kMinute)).ok());
  auto devices = store().list_devices();
  ASSERT_TRUE(devices.ok()) << devices.error().message;
  ASSERT_EQ(devices->size(), 3u);
  EXPECT_EQ((*devices)[2].device_id, "sensor-1");
  ASSERT_TRUE((*devices)[2].status.has_value());
  EXPECT_EQ((*devices)[2].status->release_check, "current") << "the latest code replaces the one before";
  EXPECT_EQ((*devices)[1].status->release_check, "");

  // Any valid code is kept, known or not: devices may add codes later.
  ASSERT_TRUE(
      store().record_status("sensor-1", online_with_check("2.1.0", "some_future_code", kT0 + 2 * kMinute)).ok());
  EXPECT_EQ(info("sensor-1")->status->release_check, "some_future_code");
  RawDatabase raw(path());
  EXPECT_EQ(raw.text("SELECT status_release_check FROM devices WHERE name = 'sensor-1'"), "some_future_code");
  EXPECT_EQ(raw.integer("SELECT count(*) FROM devices WHERE status_release_check IS NULL"), 2);
}

TEST_F(DevicesTest, TheLastWillAndAStatusWithoutAReleaseCheckKeepTheOneLastReported) {
  ASSERT_TRUE(store().record_status("sensor-1", online_with_check("2.1.0", "timestamp_rolled_back", kT0)).ok());
  ASSERT_TRUE(store().record_status("sensor-1", DeviceStatus{"offline", "", 0, kT0 + kMinute}).ok());
  auto after_will = info("sensor-1");
  ASSERT_TRUE(after_will.has_value() && after_will->status.has_value());
  EXPECT_EQ(after_will->status->state, "offline");
  EXPECT_EQ(after_will->status->release_check, "timestamp_rolled_back");
  EXPECT_EQ(after_will->status->firmware, "2.1.0");
  // Back online, before its first check since it started: the verdict stays until a new one comes.
  ASSERT_TRUE(store().record_status("sensor-1", DeviceStatus{"online", "2.1.0", 0, kT0 + 2 * kMinute}).ok());
  EXPECT_EQ(info("sensor-1")->status->release_check, "timestamp_rolled_back");
  ASSERT_TRUE(store().record_status("sensor-1", online_with_check("2.1.0", "current", kT0 + 3 * kMinute)).ok());
  EXPECT_EQ(info("sensor-1")->status->release_check, "current");
}

TEST_F(DevicesTest, AReleaseCheckThatIsNotACodeIsRefusedAndChangesNothing) {
  ASSERT_TRUE(store().record_status("sensor-1", online_with_check("2.1.0", "current", kT0)).ok());
  for (const std::string& code : {std::string("Current"), std::string("time-stamp"), std::string(41, 'a')}) {
    auto refused = store().record_status("sensor-1", online_with_check("2.2.0", code, kT0 + kMinute));
    ASSERT_FALSE(refused.ok()) << code;
    EXPECT_EQ(refused.error().code, Errc::invalid_argument) << code;
  }
  EXPECT_EQ(info("sensor-1")->status->release_check, "current");
  EXPECT_EQ(info("sensor-1")->status->firmware, "2.1.0");
  // The database's CHECK is the last word, should the code ever let one through.
  EXPECT_EQ(exec_code(path(), "UPDATE devices SET status_release_check = 'Bad-Code'") & 0xff, SQLITE_CONSTRAINT);
  EXPECT_EQ(exec_code(path(), "UPDATE devices SET status_release_check = ''") & 0xff, SQLITE_CONSTRAINT);
}

TEST_F(DevicesTest, RemoveWithoutPurgeForgetsTheReleaseCheck) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 2, kT0)), kT0);
  ASSERT_TRUE(store().record_status("sensor-1", online_with_check("2.1.0", "timestamp_invalid", kT0)).ok());
  ASSERT_TRUE(store().remove_device("sensor-1", false).ok());
  ASSERT_TRUE(store().record_status("sensor-1", DeviceStatus{"online", "2.1.0", 0, kT0 + kMinute}).ok());
  EXPECT_EQ(info("sensor-1")->status->release_check, "") << "a removed device's verdict does not come back";
}

}  // namespace
}  // namespace kelvin::store
