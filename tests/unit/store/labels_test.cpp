// Device labels: given at registration, added and removed, replaced, listed with the devices, found
// by label; the grammar and the limit per device; what removing a device does to them.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kelvin/core/identity.hpp"
#include "store_test_support.hpp"

namespace kelvin::store {
namespace {

using namespace kelvin::store::testing;
using Labels = std::vector<std::string>;

class LabelsTest : public StoreFixture {
 protected:
  Labels labels_of(const std::string& id) {
    auto found = store().device(id);
    EXPECT_TRUE(found.ok() && found->has_value()) << id;
    return found.ok() && found->has_value() ? (*found)->labels : Labels{};
  }

  Labels with_label(const std::string& label) {
    auto found = store().devices_with_label(label);
    EXPECT_TRUE(found.ok()) << found.error().message;
    return found.ok() ? *found : Labels{};
  }

  static Labels numbered_labels(std::size_t count) {
    Labels labels;
    for (std::size_t i = 0; i < count; ++i) labels.push_back("label-" + std::to_string(i));
    return labels;
  }
};

TEST_F(LabelsTest, RegistrationGivesTheLabelsSortedAndEachOnce) {
  ASSERT_TRUE(store().register_device("sensor-1", kT0, {"west", "greenhouse", "west"}).ok());
  EXPECT_EQ(labels_of("sensor-1"), (Labels{"greenhouse", "west"}));
  ASSERT_TRUE(store().register_device("sensor-2", kT0).ok());
  EXPECT_EQ(labels_of("sensor-2"), Labels{});
}

TEST_F(LabelsTest, RegistrationWithABadLabelRegistersNothing) {
  auto refused = store().register_device("sensor-1", kT0, {"ok", "Not-Ok"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
  EXPECT_NE(refused.error().message.find("Not-Ok"), std::string::npos) << refused.error().message;
  auto found = store().device("sensor-1");
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());

  auto too_many = store().register_device("sensor-1", kT0, numbered_labels(kMaxLabelsPerDevice + 1));
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, Errc::invalid_argument);
  EXPECT_FALSE(store().device("sensor-1")->has_value());
}

TEST_F(LabelsTest, RegisteringADeviceSeenBeforeKeepsItsLabels) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 2, kT0)), kT0);
  ASSERT_TRUE(store().change_device_labels("sensor-1", {"seen"}, {}).ok());
  ASSERT_TRUE(store().register_device("sensor-1", kT0 + kHour, {"registered"}).ok());
  EXPECT_EQ(labels_of("sensor-1"), (Labels{"registered", "seen"}));
  EXPECT_EQ(store().device("sensor-1").value()->acked_seq, 2u);
}

TEST_F(LabelsTest, AddAndRemoveInOneChange) {
  ASSERT_TRUE(store().register_device("sensor-1", kT0, {"a", "b"}).ok());
  auto changed = store().change_device_labels("sensor-1", {"c", "a"}, {"b", "never-held"});
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  EXPECT_EQ(*changed, (Labels{"a", "c"}));
  EXPECT_EQ(labels_of("sensor-1"), (Labels{"a", "c"}));
  auto nothing = store().change_device_labels("sensor-1", {}, {});
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(*nothing, (Labels{"a", "c"}));
}

TEST_F(LabelsTest, ALabelBothAddedAndRemovedIsRefused) {
  ASSERT_TRUE(store().register_device("sensor-1", kT0, {"a"}).ok());
  auto refused = store().change_device_labels("sensor-1", {"b"}, {"b"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
  EXPECT_EQ(labels_of("sensor-1"), Labels{"a"});
}

TEST_F(LabelsTest, BadLabelsAreRefusedAndChangeNothing) {
  ASSERT_TRUE(store().register_device("sensor-1", kT0, {"a"}).ok());
  for (const std::string& bad : {std::string(), std::string("UPPER"), std::string("a b"), std::string(".x"),
                                 std::string("a/b"), std::string(kMaxLabelLength + 1, 'x')}) {
    auto added = store().change_device_labels("sensor-1", {"fine", bad}, {});
    ASSERT_FALSE(added.ok()) << bad;
    EXPECT_EQ(added.error().code, Errc::invalid_argument) << bad;
    auto removed = store().change_device_labels("sensor-1", {}, {bad});
    ASSERT_FALSE(removed.ok()) << bad;
    auto set = store().set_device_labels("sensor-1", {bad});
    ASSERT_FALSE(set.ok()) << bad;
    auto found = store().devices_with_label(bad);
    ASSERT_FALSE(found.ok()) << bad;
    EXPECT_EQ(found.error().code, Errc::invalid_argument);
  }
  EXPECT_EQ(labels_of("sensor-1"), Labels{"a"});
}

TEST_F(LabelsTest, ADeviceCarriesAtMostTheLimit) {
  ASSERT_TRUE(store().register_device("sensor-1", kT0, numbered_labels(kMaxLabelsPerDevice - 1)).ok());
  auto last = store().change_device_labels("sensor-1", {"one-more"}, {});
  ASSERT_TRUE(last.ok()) << last.error().message;
  EXPECT_EQ(last->size(), kMaxLabelsPerDevice);
  auto over = store().change_device_labels("sensor-1", {"too-many"}, {});
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, Errc::invalid_argument);
  EXPECT_NE(over.error().message.find("at most 32"), std::string::npos) << over.error().message;
  EXPECT_EQ(labels_of("sensor-1").size(), kMaxLabelsPerDevice);
  // Swapping one for another stays within the limit.
  auto swapped = store().change_device_labels("sensor-1", {"too-many"}, {"one-more"});
  ASSERT_TRUE(swapped.ok()) << swapped.error().message;
  EXPECT_EQ(swapped->size(), kMaxLabelsPerDevice);
  auto set_over = store().set_device_labels("sensor-1", numbered_labels(kMaxLabelsPerDevice + 1));
  ASSERT_FALSE(set_over.ok());
  EXPECT_EQ(set_over.error().code, Errc::invalid_argument);
}

TEST_F(LabelsTest, SetReplacesEveryLabel) {
  ASSERT_TRUE(store().register_device("sensor-1", kT0, {"a", "b"}).ok());
  auto set = store().set_device_labels("sensor-1", {"c", "b", "c"});
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(*set, (Labels{"b", "c"}));
  EXPECT_EQ(labels_of("sensor-1"), (Labels{"b", "c"}));
  auto none = store().set_device_labels("sensor-1", {});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(labels_of("sensor-1"), Labels{});
}

TEST_F(LabelsTest, UnknownDevicesAreNotFound) {
  auto changed = store().change_device_labels("sensor-9", {"a"}, {});
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.error().code, Errc::not_found);
  EXPECT_NE(changed.error().message.find("sensor-9"), std::string::npos);
  auto set = store().set_device_labels("sensor-9", {"a"});
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().code, Errc::not_found);
  auto malformed = store().change_device_labels("svc-gateway", {"a"}, {});
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code, Errc::invalid_argument);
}

TEST_F(LabelsTest, DevicesWithALabelAreExactlyThoseCarryingIt) {
  ASSERT_TRUE(store().register_device("sensor-3", kT0, {"greenhouse"}).ok());
  ASSERT_TRUE(store().register_device("sensor-1", kT0, {"greenhouse", "west"}).ok());
  ASSERT_TRUE(store().register_device("sensor-2", kT0, {"west"}).ok());
  commit_ok(store(), batch_of("sensor-4", sequence(1, 1, kT0)), kT0);
  ASSERT_TRUE(store().change_device_labels("sensor-4", {"greenhouse"}, {}).ok());
  EXPECT_EQ(with_label("greenhouse"), (Labels{"sensor-1", "sensor-3", "sensor-4"}));
  EXPECT_EQ(with_label("west"), (Labels{"sensor-1", "sensor-2"}));
  EXPECT_EQ(with_label("nobody"), Labels{});
  EXPECT_EQ(with_label("greenhouse.west"), Labels{}) << "labels match whole, never as patterns";

  auto listed = store().list_devices();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 4u);
  EXPECT_EQ((*listed)[0].labels, (Labels{"greenhouse", "west"}));
  EXPECT_EQ((*listed)[1].labels, Labels{"west"});
  EXPECT_EQ((*listed)[2].labels, Labels{"greenhouse"});
  EXPECT_EQ((*listed)[3].labels, Labels{"greenhouse"});
}

TEST_F(LabelsTest, RemovingADeviceTakesItsLabels) {
  ASSERT_TRUE(store().register_device("with-data", kT0, {"greenhouse"}).ok());
  commit_ok(store(), batch_of("with-data", sequence(1, 2, kT0)), kT0);
  ASSERT_TRUE(store().register_device("without-data", kT0, {"greenhouse"}).ok());
  ASSERT_TRUE(store().remove_device("with-data", /*purge_data=*/false).ok());
  ASSERT_TRUE(store().remove_device("without-data", /*purge_data=*/false).ok());
  EXPECT_EQ(labels_of("with-data"), Labels{}) << "its data stays, its registration and labels go";
  EXPECT_EQ(with_label("greenhouse"), Labels{});

  ASSERT_TRUE(store().register_device("purged", kT0, {"greenhouse"}).ok());
  commit_ok(store(), batch_of("purged", sequence(1, 2, kT0)), kT0);
  ASSERT_TRUE(store().remove_device("purged", /*purge_data=*/true).ok());
  EXPECT_EQ(with_label("greenhouse"), Labels{});
  RawDatabase raw(path());
  EXPECT_EQ(raw.integer("SELECT count(*) FROM device_labels"), 0);
}

TEST_F(LabelsTest, TheDatabaseItselfRefusesAMalformedLabel) {
  ASSERT_TRUE(store().register_device("sensor-1", kT0).ok());
  for (const char* bad : {"''", "'UPPER'", "'.dot'", "'a b'", "'a/b'", "printf('%.65c', 'x')"}) {
    EXPECT_EQ(exec_code(path(), std::string("INSERT INTO device_labels VALUES (1, ") + bad + ")") & 0xff,
              SQLITE_CONSTRAINT)
        << bad;
  }
  EXPECT_EQ(exec_code(path(), "INSERT INTO device_labels VALUES (1, 'fine.label-2_x')"), SQLITE_OK);
}

}  // namespace
}  // namespace kelvin::store
