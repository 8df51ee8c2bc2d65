// The rules of a rollout (kelvin/rollout/rollout_plan.hpp) on records in memory, with a fake clock:
// wave sizes, wave 1 at once and the next one only when the started ones are over, the threshold
// halting by itself, pause/resume/abort, devices' reports matched and applied, and a device
// already running the version confirmed without a notice.

#include "kelvin/rollout/rollout_plan.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>

namespace kelvin::rollout {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using DS = DeviceRolloutState;

TEST(Waves, AreCumulativePercentagesEndingAt100) {
  EXPECT_TRUE(check_waves({5, 25, 100}).ok());
  EXPECT_TRUE(check_waves({100}).ok());
  for (const auto& bad : std::vector<std::vector<int>>{
           {}, {5, 25}, {25, 5, 100}, {5, 5, 100}, {0, 100}, {50, 101}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100}}) {
    auto checked = check_waves(bad);
    ASSERT_FALSE(checked.ok()) << ::testing::PrintToString(bad);
    EXPECT_EQ(checked.error().code, Errc::invalid_argument);
  }
}

std::map<int, int> sizes(std::size_t count, const std::vector<int>& waves) {
  std::map<int, int> out;
  for (int wave : assign_waves(count, waves)) ++out[wave];
  return out;
}

TEST(Waves, RoundUpAndHoldAtLeastOneDeviceEach) {
  EXPECT_EQ(sizes(100, {5, 25, 100}), (std::map<int, int>{{1, 5}, {2, 20}, {3, 75}}));
  EXPECT_EQ(sizes(10, {5, 25, 100}), (std::map<int, int>{{1, 1}, {2, 2}, {3, 7}}));  // ceil(0.5), ceil(2.5)
  EXPECT_EQ(sizes(3, {5, 25, 100}), (std::map<int, int>{{1, 1}, {2, 1}, {3, 1}}));
  EXPECT_EQ(sizes(2, {5, 25, 100}), (std::map<int, int>{{1, 1}, {2, 1}}));  // fewer devices than waves
  EXPECT_EQ(sizes(1, {100}), (std::map<int, int>{{1, 1}}));
  EXPECT_THAT(assign_waves(4, {50, 100}), ElementsAre(1, 1, 2, 2));  // in the devices' order
}

class Tick : public ::testing::Test {
 protected:
  // A running rollout of thermo 1.1.0 to `count` devices d1..dN in waves `waves`.
  void make(std::size_t count, std::vector<int> waves = {5, 25, 100}, int max_failure_percent = 20) {
    rollout_ = RolloutRecord{
        .id = 7, .product = "thermo", .version = "1.1.0", .waves = waves, .max_failure_percent = max_failure_percent};
    devices_.clear();
    const auto assigned = assign_waves(count, waves);
    for (std::size_t i = 0; i < count; ++i) {
      devices_.push_back(RolloutDeviceRecord{.device = "d" + std::to_string(i + 1), .wave = assigned[i]});
    }
  }

  // One tick at the fake clock, the plan's changes applied to the records in memory.
  TickPlan tick() {
    now_ += 1000;
    TickPlan plan = plan_tick(rollout_, devices_, running_, now_);
    rollout_ = plan.rollout;
    for (const auto& changed : plan.changed) entry(changed.device) = changed;
    return plan;
  }

  RolloutDeviceRecord& entry(const std::string& device) {
    for (auto& d : devices_) {
      if (d.device == device) return d;
    }
    throw std::runtime_error("no device " + device);
  }

  // `device` reports `state`; returns whether it matched.
  bool report(const std::string& device, DS state, std::string reason = {}) {
    DeviceReport r{.rollout = 7,
                   .product = "thermo",
                   .version = "1.1.0",
                   .state = state,
                   .percent = 0,
                   .reason = std::move(reason),
                   .detail = "",
                   .running_version = "1.0.0"};
    if (!report_matches(rollout_, entry(device), r)) return false;
    apply_report(entry(device), r, now_);
    return true;
  }

  std::vector<std::string> in_state(DS state) const {
    std::vector<std::string> out;
    for (const auto& d : devices_) {
      if (d.state == state) out.push_back(d.device);
    }
    return out;
  }

  RolloutRecord rollout_;
  std::vector<RolloutDeviceRecord> devices_;
  std::int64_t now_ = 1'800'000'000'000;
  std::map<std::string, std::string> firmware_;
  RunningVersion running_ = [this](std::string_view device) -> std::optional<std::string> {
    auto found = firmware_.find(std::string(device));
    if (found == firmware_.end()) return std::nullopt;
    return found->second;
  };
};

TEST_F(Tick, WaveOneIsNotifiedAtOnceAndTheNextOnlyWhenEveryStartedDeviceIsDone) {
  make(10);  // waves of 1, 2 and 7 devices
  TickPlan first = tick();
  EXPECT_EQ(rollout_.current_wave, 1);
  EXPECT_THAT(first.notify, ElementsAre("d1"));
  EXPECT_EQ(entry("d1").state, DS::notified);
  EXPECT_EQ(entry("d1").updated_ms, now_);
  EXPECT_EQ(entry("d2").state, DS::pending);

  EXPECT_TRUE(tick().notify.empty()) << "d1 is not done";
  ASSERT_TRUE(report("d1", DS::downloading));
  ASSERT_TRUE(report("d1", DS::installed));
  EXPECT_TRUE(tick().notify.empty()) << "installed is not done yet";
  ASSERT_TRUE(report("d1", DS::confirmed));
  EXPECT_THAT(tick().notify, ElementsAre("d2", "d3"));
  EXPECT_EQ(rollout_.current_wave, 2);

  ASSERT_TRUE(report("d2", DS::confirmed));
  ASSERT_TRUE(report("d3", DS::confirmed));
  EXPECT_THAT(tick().notify, ElementsAre("d4", "d5", "d6", "d7", "d8", "d9", "d10"));
  for (const char* d : {"d4", "d5", "d6", "d7", "d8", "d9", "d10"}) ASSERT_TRUE(report(d, DS::confirmed));
  TickPlan last = tick();
  EXPECT_EQ(rollout_.state, RolloutState::completed);
  EXPECT_EQ(last.audit_action, "rollout_completed");
  EXPECT_EQ(last.audit_detail, "10 of 10 devices confirmed thermo 1.1.0");
  EXPECT_FALSE(tick().rollout_changed) << "a completed rollout stays as it is";
}

TEST_F(Tick, FailuresOverTheThresholdHaltTheRolloutByItself) {
  make(10, {20, 100}, 20);  // wave 1: d1, d2
  tick();
  ASSERT_TRUE(report("d1", DS::failed, "hash_mismatch"));
  EXPECT_EQ(entry("d1").reason, "hash_mismatch");
  ASSERT_TRUE(report("d2", DS::confirmed));
  // 1 of 2 started devices failed: 50 % > 20 %.
  TickPlan halted = tick();
  EXPECT_EQ(rollout_.state, RolloutState::halted);
  EXPECT_EQ(halted.audit_action, "rollout_halted");
  EXPECT_THAT(halted.notify, IsEmpty());
  EXPECT_EQ(rollout_.current_wave, 1);
  EXPECT_THAT(in_state(DS::pending), ::testing::SizeIs(8));
  EXPECT_FALSE(tick().rollout_changed) << "halted: no new wave";

  // Resuming accepts the failure so far: the next wave starts, and a new failure halts it again.
  auto resumed = apply_command(rollout_, devices_, RolloutCommand::resume, now_);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->failures_accepted, 1);
  rollout_ = *resumed;
  EXPECT_THAT(tick().notify, ::testing::SizeIs(8));
  ASSERT_TRUE(report("d3", DS::rolled_back));
  ASSERT_TRUE(report("d4", DS::rolled_back));
  EXPECT_FALSE(over_threshold(rollout_, devices_)) << "2 new of 10 is 20 %: not above";
  tick();
  EXPECT_EQ(rollout_.state, RolloutState::running);
  ASSERT_TRUE(report("d6", DS::failed));
  tick();
  EXPECT_EQ(rollout_.state, RolloutState::halted);
}

TEST_F(Tick, ThresholdCountsOnlyTheStartedWaves) {
  make(100, {5, 25, 100}, 20);
  tick();  // d1..d5
  ASSERT_TRUE(report("d1", DS::failed));
  EXPECT_FALSE(over_threshold(rollout_, devices_)) << "1 of 5 is 20 %";
  ASSERT_TRUE(report("d2", DS::failed));
  EXPECT_TRUE(over_threshold(rollout_, devices_)) << "2 of 5 is 40 %";
  make(100, {5, 25, 100}, 0);
  tick();
  EXPECT_FALSE(over_threshold(rollout_, devices_)) << "no failure is never over";
  ASSERT_TRUE(report("d3", DS::failed));
  EXPECT_TRUE(over_threshold(rollout_, devices_)) << "0 %: the first failure halts";
}

TEST_F(Tick, PauseStopsNewNoticesResumeGoesOnAbortClearsTheNotifiedOnes) {
  make(3);  // one device per wave
  tick();
  auto paused = apply_command(rollout_, devices_, RolloutCommand::pause, now_);
  ASSERT_TRUE(paused.ok());
  rollout_ = *paused;
  EXPECT_EQ(rollout_.state, RolloutState::paused);
  ASSERT_TRUE(report("d1", DS::confirmed)) << "devices already notified continue";
  EXPECT_FALSE(tick().rollout_changed);
  EXPECT_EQ(entry("d2").state, DS::pending);
  EXPECT_EQ(apply_command(rollout_, devices_, RolloutCommand::pause, now_).error().code, Errc::conflict);

  rollout_ = *apply_command(rollout_, devices_, RolloutCommand::resume, now_);
  EXPECT_THAT(tick().notify, ElementsAre("d2"));
  ASSERT_TRUE(report("d2", DS::downloading));

  rollout_ = *apply_command(rollout_, devices_, RolloutCommand::abort, now_);
  EXPECT_EQ(rollout_.state, RolloutState::aborted);
  TickPlan cleared = tick();
  EXPECT_THAT(cleared.clear, ElementsAre("d2")) << "d1 is done, d3 was never notified";
  EXPECT_TRUE(rollout_.notices_cleared);
  EXPECT_THAT(tick().clear, IsEmpty()) << "once";
  EXPECT_EQ(entry("d2").state, DS::downloading) << "its devices stay as they were";
  EXPECT_FALSE(report("d2", DS::confirmed)) << "an aborted rollout takes no more reports";
  for (auto command : {RolloutCommand::pause, RolloutCommand::resume, RolloutCommand::abort}) {
    EXPECT_EQ(apply_command(rollout_, devices_, command, now_).error().code, Errc::conflict);
  }
}

TEST_F(Tick, ADeviceAlreadyRunningTheVersionIsConfirmedWithoutANotice) {
  make(3);
  firmware_["d1"] = "1.1.0";
  firmware_["d2"] = "1.1.0";
  firmware_["d3"] = "1.0.0";
  TickPlan plan = tick();
  // d1 and d2 confirm at once, so the waves go on in the same tick up to d3.
  EXPECT_THAT(plan.notify, ElementsAre("d3"));
  EXPECT_EQ(entry("d1").state, DS::confirmed);
  EXPECT_EQ(entry("d1").detail, "already running 1.1.0");
  EXPECT_EQ(entry("d2").state, DS::confirmed);
  EXPECT_EQ(rollout_.current_wave, 3);
}

// A device that stays silent cannot hold its wave for ever: it fails as timed_out once its time is
// up, its notice is cleared, the threshold counts it, and the next wave goes on without it.
TEST_F(Tick, ADeviceSilentForItsTimeLimitFailsAndTheWaveGoesOn) {
  make(10, {20, 100}, 50);  // wave 1: d1, d2
  rollout_.device_timeout_ms = 3'600'000;
  tick();
  ASSERT_THAT(in_state(DS::notified), ElementsAre("d1", "d2"));
  ASSERT_TRUE(report("d1", DS::confirmed));
  now_ += 3'600'000 - 2'000;
  EXPECT_TRUE(tick().changed.empty()) << "not yet: d2 has a second left";
  ASSERT_TRUE(report("d2", DS::downloading));  // a report restarts its clock
  now_ += 3'600'000 - 1'000;
  TickPlan quiet = tick();
  EXPECT_THAT(quiet.clear, ElementsAre("d2"));
  EXPECT_EQ(entry("d2").state, DS::failed);
  EXPECT_EQ(entry("d2").reason, "timed_out");
  EXPECT_EQ(entry("d2").detail, "no report from the device for 1h (it was downloading)");
  EXPECT_EQ(rollout_.current_wave, 2) << "1 failure of 2 is not over 50 %: wave 2 starts";
  EXPECT_THAT(quiet.notify, ElementsAre("d3", "d4", "d5", "d6", "d7", "d8", "d9", "d10"));
}

TEST_F(Tick, SilentDevicesCountTowardsTheThresholdAndAPauseStopsTheirClocks) {
  make(4, {50, 100}, 20);  // wave 1: d1, d2
  rollout_.device_timeout_ms = 60'000;
  tick();
  rollout_ = *apply_command(rollout_, devices_, RolloutCommand::pause, now_);
  now_ += 600'000;
  EXPECT_TRUE(tick().changed.empty()) << "paused: nobody times out";
  rollout_ = *apply_command(rollout_, devices_, RolloutCommand::resume, now_);
  now_ += 30'000;
  EXPECT_TRUE(tick().changed.empty()) << "a resume gives every device its full time again";
  now_ += 30'000;
  TickPlan halted = tick();
  EXPECT_THAT(in_state(DS::failed), ElementsAre("d1", "d2"));
  EXPECT_EQ(rollout_.state, RolloutState::halted);
  EXPECT_EQ(halted.audit_detail, "2 of 2 devices in the started waves failed or rolled back (threshold 20 %)");

  make(2, {100});
  rollout_.device_timeout_ms = 0;  // no limit: a rollout started before there was one
  tick();
  now_ += 365LL * 24 * 3'600'000;
  EXPECT_TRUE(tick().changed.empty());
}

TEST_F(Tick, ReportsMatchTheDevicesEntryByIdOrByProductAndVersion) {
  make(3);
  tick();
  DeviceReport r{.rollout = 0, .product = "thermo", .version = "1.1.0", .state = DS::downloading, .percent = 42};
  EXPECT_TRUE(report_matches(rollout_, entry("d1"), r)) << "a device that restarted may not know the rollout";
  r.rollout = 8;
  EXPECT_FALSE(report_matches(rollout_, entry("d1"), r)) << "another rollout";
  r.rollout = 7;
  r.version = "1.2.0";
  EXPECT_FALSE(report_matches(rollout_, entry("d1"), r)) << "another version";
  r.version = "1.1.0";
  r.product = "other";
  EXPECT_FALSE(report_matches(rollout_, entry("d1"), r)) << "another product";
  r.product = "thermo";
  EXPECT_FALSE(report_matches(rollout_, entry("d2"), r)) << "never notified";

  EXPECT_FALSE(apply_report(entry("d1"), r, now_));
  EXPECT_EQ(entry("d1").state, DS::downloading);
  EXPECT_EQ(entry("d1").percent, 42);
  r.state = DS::failed;
  r.reason = "bad_signature";
  r.detail = "key 1234";
  EXPECT_TRUE(apply_report(entry("d1"), r, now_)) << "over: its notice is cleared";
  EXPECT_EQ(entry("d1").reason, "bad_signature");
  EXPECT_EQ(entry("d1").detail, "key 1234");
  EXPECT_FALSE(report_matches(rollout_, entry("d1"), r)) << "a device's part, once over, stays over";
  entry("d1").state = DS::installed;
  r.state = DS::rolled_back;
  r.reason = "not_confirmed";
  EXPECT_TRUE(apply_report(entry("d1"), r, now_));
  EXPECT_EQ(entry("d1").reason, "not_confirmed") << "a rolled-back device says why too";
  r.state = DS::confirmed;
  entry("d1").state = DS::installed;
  apply_report(entry("d1"), r, now_);
  EXPECT_EQ(entry("d1").reason, "") << "only failures carry a reason";

  rollout_.state = RolloutState::halted;
  r.state = DS::confirmed;
  entry("d1").state = DS::installed;
  EXPECT_TRUE(report_matches(rollout_, entry("d1"), r)) << "devices of a halted rollout continue";
}

}  // namespace
}  // namespace kelvin::rollout
