// rollouts.db (kelvin/store/rollout_db.hpp): created private, refusing other files, one active
// rollout per product across connections, counts, the compare-and-set save, and what a device is
// offered.

#include "kelvin/store/rollout_db.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "kelvin/store/account_db.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::store {
namespace {

RolloutRecord thermo(std::string version = "1.1.0", std::string product = "thermo") {
  return RolloutRecord{.product = std::move(product),
                       .version = std::move(version),
                       .waves = {50, 100},
                       .max_failure_percent = 20,
                       .created_by = "ann",
                       .created_ms = 1000,
                       .updated_ms = 1000};
}

std::vector<RolloutDeviceRecord> two_devices() {
  return {{.device = "d1", .wave = 1, .updated_ms = 1000}, {.device = "d2", .wave = 2, .updated_ms = 1000}};
}

class RolloutDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = RolloutDb::open(dir_ / "rollouts.db");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
  }
  testing::TempDir dir_;
  std::optional<RolloutDb> db_;
};

TEST_F(RolloutDbTest, IsCreatedPrivateAndRefusesAnotherKelvinFile) {
  struct stat info {};
  ASSERT_EQ(::stat((dir_ / "rollouts.db").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_TRUE(AccountDb::open(dir_ / "accounts.db").ok());
  auto opened = RolloutDb::open(dir_ / "accounts.db");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::corrupt);
  EXPECT_EQ(AccountDb::open(dir_ / "rollouts.db").error().code, Errc::corrupt);
}

TEST_F(RolloutDbTest, CreatesReadsAndCountsNewestFirst) {
  auto first = db_->create(thermo(), two_devices());
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = db_->create(thermo("2.0.0", "hygro"), {{.device = "d3", .wave = 1, .updated_ms = 1000}});
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_GT(*second, *first);

  auto list = db_->rollouts();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].rollout.id, *second);
  const RolloutRecord& r = (*list)[1].rollout;
  EXPECT_EQ(r.product, "thermo");
  EXPECT_EQ(r.version, "1.1.0");
  EXPECT_EQ(r.state, RolloutState::running);
  EXPECT_EQ(r.waves, (std::vector<int>{50, 100}));
  EXPECT_EQ(r.max_failure_percent, 20);
  EXPECT_EQ(r.created_by, "ann");
  EXPECT_EQ((*list)[1].counts[static_cast<std::size_t>(DeviceRolloutState::pending)], 2u);

  auto devices = db_->devices(*first);
  ASSERT_TRUE(devices.ok());
  ASSERT_EQ(devices->size(), 2u);
  EXPECT_EQ((*devices)[0].device, "d1");
  EXPECT_EQ((*devices)[1].wave, 2);
  EXPECT_FALSE(db_->rollout(99)->has_value());
}

TEST_F(RolloutDbTest, OneActiveRolloutPerProductAcrossConnections) {
  ASSERT_TRUE(db_->create(thermo(), two_devices()).ok());
  auto other = RolloutDb::open(dir_ / "rollouts.db");
  ASSERT_TRUE(other.ok());
  auto refused = other->create(thermo("1.2.0"), two_devices());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::conflict);
  EXPECT_TRUE(other->create(thermo("1.0.0", "hygro"), two_devices()).ok()) << "another product";
}

TEST_F(RolloutDbTest, SaveChangesOnlyWhatItReadAndCountsTheDevicesStates) {
  const std::int64_t id = *db_->create(thermo(), two_devices());
  RolloutRecord next = **db_->rollout(id);
  next.current_wave = 1;
  next.updated_ms = 2000;
  RolloutDeviceRecord d1{.device = "d1",
                         .wave = 1,
                         .state = DeviceRolloutState::downloading,
                         .percent = 42,
                         .reason = "",
                         .detail = "slow link",
                         .updated_ms = 2000};
  ASSERT_TRUE(*db_->save(next, RolloutState::running, {d1}));
  EXPECT_EQ((**db_->rollout(id)).current_wave, 1);
  auto devices = *db_->devices(id);
  EXPECT_EQ(devices[0].state, DeviceRolloutState::downloading);
  EXPECT_EQ(devices[0].percent, 42);
  EXPECT_EQ(devices[0].detail, "slow link");

  // kelvinctl pauses on its connection; the engine's save, made on what it read before, changes nothing.
  auto kelvinctl = RolloutDb::open(dir_ / "rollouts.db");
  RolloutRecord paused = next;
  paused.state = RolloutState::paused;
  ASSERT_TRUE(*kelvinctl->save(paused, RolloutState::running));
  RolloutRecord halted = next;
  halted.state = RolloutState::halted;
  d1.state = DeviceRolloutState::failed;
  EXPECT_FALSE(*db_->save(halted, RolloutState::running, {d1}));
  EXPECT_EQ((**db_->rollout(id)).state, RolloutState::paused);
  EXPECT_EQ((*db_->devices(id))[0].state, DeviceRolloutState::downloading);
  EXPECT_EQ(db_->save(RolloutRecord{.id = 99}, RolloutState::running).error().code, Errc::not_found);

  auto unfinished = db_->rollouts(/*unfinished_only=*/true);
  ASSERT_EQ(unfinished->size(), 1u);
  EXPECT_EQ((*unfinished)[0].counts[static_cast<std::size_t>(DeviceRolloutState::downloading)], 1u);
  RolloutRecord aborted = paused;
  aborted.state = RolloutState::aborted;
  ASSERT_TRUE(*db_->save(aborted, RolloutState::paused));
  EXPECT_EQ(db_->rollouts(true)->size(), 1u) << "aborted, its notices not cleared yet";
  aborted.notices_cleared = true;
  ASSERT_TRUE(*db_->save(aborted, RolloutState::aborted));
  EXPECT_TRUE(db_->rollouts(true)->empty());
  EXPECT_TRUE(db_->create(thermo("1.2.0"), two_devices()).ok()) << "the product is free again";
}

TEST_F(RolloutDbTest, ADeviceIsOfferedWhatItWasNotifiedOfInARunningOrPausedRollout) {
  const std::int64_t id = *db_->create(thermo(), two_devices());
  EXPECT_FALSE(db_->offer_for("d1")->has_value()) << "pending";
  RolloutRecord rollout = **db_->rollout(id);
  ASSERT_TRUE(*db_->save(rollout, RolloutState::running,
                         {{.device = "d1", .wave = 1, .state = DeviceRolloutState::notified, .updated_ms = 2}}));
  auto offer = db_->offer_for("d1");
  ASSERT_TRUE(offer.ok() && offer->has_value());
  EXPECT_EQ((*offer)->id, id);
  EXPECT_EQ((*offer)->version, "1.1.0");
  EXPECT_FALSE(db_->offer_for("d2")->has_value());
  EXPECT_FALSE(db_->offer_for("d9")->has_value());
  rollout.state = RolloutState::paused;
  ASSERT_TRUE(*db_->save(rollout, RolloutState::running));
  EXPECT_TRUE(db_->offer_for("d1")->has_value()) << "paused: devices already notified continue";
  RolloutRecord aborted = rollout;
  aborted.state = RolloutState::aborted;
  ASSERT_TRUE(*db_->save(aborted, RolloutState::paused));
  EXPECT_FALSE(db_->offer_for("d1")->has_value());
}

}  // namespace
}  // namespace kelvin::store
