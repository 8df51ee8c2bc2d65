// The gateway's rollout engine (rollout_engine.hpp) on a real rollouts.db with a fake broker: the
// retained notices it publishes and clears, devices' reports queued from other threads, a failure
// halting the rollout (audited as the gateway), a device already on the version, notices published
// again after a failed publication and on reconnection, an abort made by another connection
// withdrawing the notices, and refused and unexpected reports counted.

#include "kelvin/gateway/rollout_engine.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fake_broker.hpp"
#include "kelvin/rollout/rollout_actions.hpp"
#include "kelvin/testing/background_process.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::gateway {
namespace {

using namespace std::chrono_literals;
using kelvin::testing::wait_until;
using store::DeviceRolloutState;
using store::RolloutState;

class RolloutEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::RolloutDb::open(dir_ / "rollouts.db");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
  }

  void TearDown() override { engine_.stop(); }

  // A running rollout of `product` 1.1.0 to `devices`, one wave each way: {50, 100} halves them.
  std::int64_t create(const std::string& product, const std::vector<std::string>& devices, std::vector<int> waves) {
    store::RolloutRecord record{.product = product, .version = "1.1.0", .waves = waves, .max_failure_percent = 20};
    const auto assigned = rollout::assign_waves(devices.size(), waves);
    std::vector<store::RolloutDeviceRecord> rows;
    for (std::size_t i = 0; i < devices.size(); ++i) rows.push_back({.device = devices[i], .wave = assigned[i]});
    auto id = db_->create(record, rows);
    EXPECT_TRUE(id.ok());
    engine_.wake();
    return id.ok() ? *id : 0;
  }

  DeviceRolloutState state_of(std::int64_t id, const std::string& device) {
    auto devices = db_->devices(id);
    if (!devices) return DeviceRolloutState::pending;
    for (const auto& d : *devices) {
      if (d.device == device) return d.state;
    }
    return DeviceRolloutState::pending;
  }

  RolloutState rollout_state(std::int64_t id) { return (**db_->rollout(id)).state; }

  static std::string report(const std::string& state, const std::string& product = "thermo") {
    return R"({"product":")" + product + R"(","version":"1.1.0","state":")" + state + "\"}";
  }

  static std::string notice(std::int64_t id, const std::string& product = "thermo") {
    return R"({"rollout":)" + std::to_string(id) + R"(,"product":")" + product + R"(","version":"1.1.0"})";
  }

  kelvin::testing::TempDir dir_;
  std::optional<store::RolloutDb> db_;
  FakeBroker broker_;
  std::map<std::string, std::string> firmware_;  // set before start()
  std::size_t audit_entries() {
    std::lock_guard lock(audit_mutex_);
    return audited_.size();
  }

  std::mutex audit_mutex_;
  std::vector<std::string> audited_;
  RolloutEngine engine_{
      dir_ / "rollouts.db",
      [this](const std::string& topic, const std::string& payload) { return broker_.publish(topic, payload); },
      [this](std::string_view device) -> std::optional<std::string> {
        auto found = firmware_.find(std::string(device));
        if (found == firmware_.end()) return std::nullopt;
        return found->second;
      },
      [this](std::string_view action, std::string_view target, std::string_view) {
        std::lock_guard lock(audit_mutex_);
        audited_.push_back(std::string(action) + " " + std::string(target));
      },
      RolloutEngineOptions{.interval = 50ms}};
};

TEST_F(RolloutEngineTest, NotifiesWavesAppliesReportsAndHaltsByItself) {
  ASSERT_TRUE(engine_.start().ok());
  const std::int64_t id = create("thermo", {"d1", "d2", "d3", "d4"}, {50, 100});
  ASSERT_TRUE(wait_until([&] { return broker_.retained("devices/d2/ota") == notice(id); }, 5s));
  EXPECT_EQ(broker_.retained("devices/d1/ota"), notice(id));
  EXPECT_EQ(broker_.retained("devices/d3/ota"), "") << "wave 2 waits";

  EXPECT_EQ(engine_.submit_report("d1", report("downloading")), RolloutEngine::Submitted::queued);
  ASSERT_TRUE(wait_until([&] { return state_of(id, "d1") == DeviceRolloutState::downloading; }, 5s));
  EXPECT_EQ(engine_.submit_report("d1", report("confirmed")), RolloutEngine::Submitted::queued);
  EXPECT_EQ(engine_.submit_report("d2", report("confirmed")), RolloutEngine::Submitted::queued);
  ASSERT_TRUE(wait_until([&] { return broker_.retained("devices/d4/ota") == notice(id); }, 5s)) << "wave 2 starts";
  EXPECT_EQ(broker_.retained("devices/d1/ota"), "") << "d1's part is over: its notice is cleared";

  // 1 of 4 started devices is 25 % > 20 %: halted, and said so in the audit log.
  EXPECT_EQ(engine_.submit_report("d3", report("failed")), RolloutEngine::Submitted::queued);
  ASSERT_TRUE(wait_until([&] { return rollout_state(id) == RolloutState::halted; }, 5s));
  EXPECT_EQ(broker_.retained("devices/d3/ota"), "");
  EXPECT_EQ(broker_.retained("devices/d4/ota"), notice(id)) << "devices already notified go on";
  // The engine audits right after it saved the change: wait for the entry, not only the state.
  ASSERT_TRUE(wait_until([&] { return audit_entries() > 0; }, 5s));
  std::lock_guard lock(audit_mutex_);
  EXPECT_THAT(audited_, ::testing::ElementsAre("rollout_halted rollout " + std::to_string(id)));
}

TEST_F(RolloutEngineTest, TheGaugesCountActiveRolloutsAndTheirDevicesByState) {
  ASSERT_TRUE(engine_.start().ok());
  const std::int64_t id = create("thermo", {"d1", "d2", "d3", "d4"}, {50, 100});
  auto devices_in = [&](DeviceRolloutState state) {
    return engine_.counters().active_rollout_devices[static_cast<std::size_t>(state)];
  };
  auto rollouts_in = [&](RolloutState state) {
    return engine_.counters().active_rollouts[static_cast<std::size_t>(state)];
  };
  ASSERT_TRUE(wait_until([&] { return devices_in(DeviceRolloutState::notified) == 2; }, 5s));
  EXPECT_EQ(devices_in(DeviceRolloutState::pending), 2u) << "wave 2 waits";
  EXPECT_EQ(rollouts_in(RolloutState::running), 1u);

  // d1 fails: 1 of 2 started is past 20 %, so the rollout halts, and a halted rollout is active.
  EXPECT_EQ(engine_.submit_report("d1", report("failed")), RolloutEngine::Submitted::queued);
  ASSERT_TRUE(wait_until([&] { return rollouts_in(RolloutState::halted) == 1; }, 5s));
  EXPECT_EQ(rollouts_in(RolloutState::running), 0u);
  EXPECT_EQ(devices_in(DeviceRolloutState::failed), 1u);
  EXPECT_EQ(devices_in(DeviceRolloutState::notified), 1u);

  // Aborted, it is no longer active: it leaves the gauges.
  ASSERT_TRUE(rollout::command_rollout(*db_, id, rollout::RolloutCommand::abort, 5).ok());
  engine_.wake();
  ASSERT_TRUE(wait_until([&] { return rollouts_in(RolloutState::halted) == 0; }, 5s));
  EXPECT_EQ(devices_in(DeviceRolloutState::failed), 0u);
}

TEST_F(RolloutEngineTest, RefusedAndUnexpectedReportsAreCountedAndChangeNothing) {
  ASSERT_TRUE(engine_.start().ok());
  const std::int64_t id = create("thermo", {"d1"}, {100});
  ASSERT_TRUE(wait_until([&] { return state_of(id, "d1") == DeviceRolloutState::notified; }, 5s));
  std::string why;
  EXPECT_EQ(engine_.submit_report("d1", R"({"state":"confirmed","extra":1})", &why), RolloutEngine::Submitted::refused);
  EXPECT_FALSE(why.empty());
  EXPECT_EQ(engine_.submit_report("d9", report("confirmed")), RolloutEngine::Submitted::queued);           // not in it
  EXPECT_EQ(engine_.submit_report("d1", report("confirmed", "hygro")), RolloutEngine::Submitted::queued);  // other
  ASSERT_TRUE(wait_until([&] { return engine_.counters().reports_unmatched == 2; }, 5s));
  EXPECT_EQ(engine_.counters().reports_refused, 1u);
  EXPECT_EQ(engine_.counters().reports_applied, 0u);
  EXPECT_EQ(state_of(id, "d1"), DeviceRolloutState::notified);
}

TEST_F(RolloutEngineTest, ADeviceOnTheVersionIsConfirmedAndTheRolloutCompletes) {
  firmware_["d1"] = "1.1.0";
  ASSERT_TRUE(engine_.start().ok());
  const std::int64_t id = create("thermo", {"d1"}, {100});
  ASSERT_TRUE(wait_until([&] { return rollout_state(id) == RolloutState::completed; }, 5s));
  EXPECT_EQ(state_of(id, "d1"), DeviceRolloutState::confirmed);
  EXPECT_EQ(broker_.publications(), 0u) << "no notice for a device that has it";
  ASSERT_TRUE(wait_until([&] { return audit_entries() > 0; }, 5s));
  std::lock_guard lock(audit_mutex_);
  EXPECT_THAT(audited_, ::testing::ElementsAre("rollout_completed rollout " + std::to_string(id)));
}

TEST_F(RolloutEngineTest, NoticesThatCouldNotBePublishedArePublishedAgainOnReconnection) {
  broker_.refuse = true;  // not connected
  ASSERT_TRUE(engine_.start().ok());
  const std::int64_t id = create("thermo", {"d1"}, {100});
  ASSERT_TRUE(wait_until([&] { return engine_.counters().publish_failures > 0; }, 5s));
  EXPECT_EQ(state_of(id, "d1"), DeviceRolloutState::notified) << "the state is kept; the notice follows";
  broker_.refuse = false;
  engine_.republish();  // what the gateway's on_connected does
  ASSERT_TRUE(wait_until([&] { return broker_.retained("devices/d1/ota") == notice(id); }, 5s));
}

TEST_F(RolloutEngineTest, AnAbortByAnotherProcessWithdrawsTheNoticesOnce) {
  ASSERT_TRUE(engine_.start().ok());
  const std::int64_t id = create("thermo", {"d1", "d2"}, {100});
  ASSERT_TRUE(wait_until([&] { return broker_.retained("devices/d2/ota") == notice(id); }, 5s));
  ASSERT_EQ(engine_.submit_report("d1", report("confirmed")), RolloutEngine::Submitted::queued);
  ASSERT_TRUE(wait_until([&] { return broker_.retained("devices/d1/ota").empty(); }, 5s));

  auto kelvinctl = store::RolloutDb::open(dir_ / "rollouts.db");  // kelvinctl's own connection
  ASSERT_TRUE(rollout::command_rollout(*kelvinctl, id, rollout::RolloutCommand::abort, 5).ok());
  ASSERT_TRUE(wait_until([&] { return broker_.retained("devices/d2/ota").empty(); }, 5s));
  ASSERT_TRUE(wait_until([&] { return (**db_->rollout(id)).notices_cleared; }, 5s));
  const std::size_t published = broker_.publications();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(broker_.publications(), published) << "once";
  EXPECT_EQ(state_of(id, "d2"), DeviceRolloutState::notified) << "its devices stay as they were";
}

}  // namespace
}  // namespace kelvin::gateway
