// The gateway's alert engine (alert_engine.hpp) on a real store and alerts.db with a fake broker:
// readings handed over as the ingest's commit listener hands them fire an alert once and resolve
// it, each state published retained; a publication refused while disconnected is made later and
// everything is published again on reconnection; a restarted engine keeps its firing alert and
// resolves the alerts of a rule no longer configured; a device's outbox drops and a failed update
// fire and resolve.

#include "kelvin/gateway/alert_engine.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fake_broker.hpp"
#include "kelvin/gateway/ingest.hpp"
#include "kelvin/testing/background_process.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::gateway {
namespace {

using namespace std::chrono_literals;
using kelvin::testing::wait_until;
using nlohmann::json;

constexpr const char* kTopic = "alerts/warm/d1";

std::vector<alerts::AlertRule> warm_rule() {
  return {
      {.name = "warm", .kind = alerts::RuleKind::threshold, .level = {.above = true, .fire_at = 30, .clear_at = 28}}};
}

class AlertEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::Store::open(dir_ / "telemetry.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_.emplace(std::move(*store));
  }

  std::unique_ptr<AlertEngine> start_engine(std::vector<alerts::AlertRule> rules, AlertFactSources sources = {},
                                            std::chrono::milliseconds interval = 20ms) {
    auto engine = std::make_unique<AlertEngine>(
        dir_ / "alerts.db", dir_ / "telemetry.db", store::StoreOptions{}, std::move(sources),
        [this](const std::string& topic, const std::string& payload) { return broker_.publish(topic, payload); },
        AlertEngineOptions{.rules = std::move(rules), .interval = interval});
    auto started = engine->start();
    EXPECT_TRUE(started.ok()) << started.error().message;
    return engine;
  }

  // Stores a temperature reading of d1 and hands the commit to `engine`, as the ingest does.
  void store_reading(AlertEngine& engine, double temperature) {
    store::IngestBatch batch;
    proto::Reading reading{.seq = ++seq_, .ts_ms = system_now_ms()};
    reading.set(proto::Quantity::temperature, temperature);
    batch.readings.push_back({.device_id = "d1", .reading = reading});
    auto summary = store_->commit(batch, system_now_ms());
    ASSERT_TRUE(summary.ok()) << summary.error().message;
    engine.on_commit(batch, *summary);
  }

  // Records d1's status with `dropped` readings dropped by its outbox, as the ingest does.
  void report_drops(std::uint64_t dropped) {
    auto recorded = store_->record_status(
        "d1", store::DeviceStatus{
                  .state = "online", .firmware = "1.0.0", .dropped_total = dropped, .at_ms = system_now_ms()});
    ASSERT_TRUE(recorded.ok()) << recorded.error().message;
  }

  // The retained alert message on `topic`; null when there is none.
  json retained(const std::string& topic = kTopic) {
    const json alert = json::parse(broker_.retained(topic), nullptr, false);
    return alert.is_object() ? alert : json();
  }
  std::string retained_state(const std::string& topic = kTopic) {
    const json alert = retained(topic);
    return alert.is_object() ? alert.value("state", "") : "";
  }

  bool await_retained_state(const std::string& state, const std::string& topic = kTopic) {
    return wait_until([&] { return retained_state(topic) == state; }, 10s);
  }

  // Waits for `count` more evaluations of `engine`.
  void await_evaluations(AlertEngine& engine, std::uint64_t count) {
    const auto from = engine.counters().evaluations;
    ASSERT_TRUE(wait_until([&] { return engine.counters().evaluations >= from + count; }, 10s));
  }

  std::vector<store::AlertRecord> alerts_in_db() {
    auto db = store::AlertDb::open(dir_ / "alerts.db");
    EXPECT_TRUE(db.ok());
    auto listed = db->list();
    EXPECT_TRUE(listed.ok());
    return listed.ok() ? *listed : std::vector<store::AlertRecord>{};
  }

  kelvin::testing::TempDir dir_;
  std::optional<store::Store> store_;
  FakeBroker broker_;
  std::uint64_t seq_ = 0;
};

TEST_F(AlertEngineTest, AReadingAboveTheLevelFiresOnceAndEachStateIsPublishedRetained) {
  auto engine = start_engine(warm_rule());
  store_reading(*engine, 20);
  await_evaluations(*engine, 2);
  EXPECT_EQ(retained_state(), "") << "nothing fired";
  EXPECT_EQ(engine->counters().firing.at("warm"), 0u);

  store_reading(*engine, 35);
  ASSERT_TRUE(await_retained_state("firing"));
  store_reading(*engine, 36);
  store_reading(*engine, 29);  // between the levels
  await_evaluations(*engine, 3);
  auto alerts = alerts_in_db();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, store::AlertState::firing);
  EXPECT_EQ(alerts[0].value, 35.0);
  EXPECT_EQ(engine->counters().fired, 1u);
  EXPECT_EQ(engine->counters().firing.at("warm"), 1u);

  store_reading(*engine, 27);
  ASSERT_TRUE(await_retained_state("resolved"));
  alerts = alerts_in_db();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, store::AlertState::resolved);
  EXPECT_EQ(engine->counters().resolved, 1u);
}

TEST_F(AlertEngineTest, APublicationRefusedWhileDisconnectedIsMadeLaterAndAllIsRepublishedOnReconnection) {
  auto engine = start_engine(warm_rule());
  broker_.refuse = true;
  store_reading(*engine, 35);
  ASSERT_TRUE(wait_until([&] { return engine->counters().publish_failures >= 2; }, 10s)) << "tried again";
  EXPECT_EQ(retained_state(), "");
  EXPECT_EQ(alerts_in_db().size(), 1u) << "recorded, whatever the broker";
  broker_.refuse = false;
  ASSERT_TRUE(await_retained_state("firing"));

  // A broker that lost its retained messages gets every alert's state again on reconnection.
  broker_.publish(kTopic, "");
  await_evaluations(*engine, 2);
  EXPECT_EQ(retained_state(), "") << "published once, not at every evaluation";
  engine->republish();
  EXPECT_TRUE(await_retained_state("firing"));
}

// In a share group every state published is also shared (notification_referee.hpp); a share that
// fails is tried again with the publication.
TEST_F(AlertEngineTest, EveryStatePublishedIsSharedAndAFailedShareIsTriedAgain) {
  std::mutex mutex;
  std::vector<std::string> shared;  // "<state> <rule> <subject>"
  std::atomic<bool> refuse{true};
  auto engine = std::make_unique<AlertEngine>(
      dir_ / "alerts.db", dir_ / "telemetry.db", store::StoreOptions{}, AlertFactSources{},
      [this](const std::string& topic, const std::string& payload) { return broker_.publish(topic, payload); },
      AlertEngineOptions{.rules = warm_rule(), .interval = 20ms});
  engine->share_states_with([&](const store::AlertRecord& alert) {
    if (refuse) return false;
    std::lock_guard lock(mutex);
    shared.push_back(std::string(store::to_string(alert.state)) + " " + alert.rule + " " + alert.subject);
    return true;
  });
  ASSERT_TRUE(engine->start().ok());
  store_reading(*engine, 35);
  ASSERT_TRUE(wait_until([&] { return engine->counters().publish_failures >= 2; }, 10s)) << "tried again";
  refuse = false;
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(mutex);
        return !shared.empty();
      },
      10s));
  store_reading(*engine, 20);
  ASSERT_TRUE(await_retained_state("resolved"));
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(mutex);
        return shared.size() >= 2;
      },
      10s));
  engine->stop();
  std::lock_guard lock(mutex);
  EXPECT_EQ(shared, (std::vector<std::string>{"firing warm d1", "resolved warm d1"}));
}

// Retention: resolved alerts go after history_days, ended silences (lifts too) not before a silence
// could have lasted (90 days), so a gateway of the group away since before a lift cannot bring the
// silence back with its stale version.
TEST_F(AlertEngineTest, RetentionKeepsEndedSilencesAsLongAsASilenceCanLast) {
  constexpr std::int64_t kDay = 86'400'000;
  const std::int64_t now_ms = system_now_ms();
  {
    auto db = store::AlertDb::open(dir_ / "alerts.db");
    ASSERT_TRUE(db.ok());
    auto fired = db->fire({.rule = "warm", .kind = "threshold", .subject = "d1", .started_ms = now_ms - 3 * kDay});
    ASSERT_TRUE(fired.ok());
    ASSERT_TRUE(*db->resolve(fired->id, now_ms - 2 * kDay, "condition cleared"));
    for (const auto& [subject, ended_ms] :
         {std::pair{"lifted-2-days-ago", now_ms - 2 * kDay}, std::pair{"ended-91-days-ago", now_ms - 91 * kDay}}) {
      ASSERT_TRUE(*db->take_silence(
          {.rule = "warm", .subject = subject, .until_ms = ended_ms, .created_by = "ann", .created_ms = ended_ms}));
    }
  }
  auto engine = std::make_unique<AlertEngine>(
      dir_ / "alerts.db", dir_ / "telemetry.db", store::StoreOptions{}, AlertFactSources{}, nullptr,
      AlertEngineOptions{.rules = warm_rule(), .interval = 20ms, .history_days = 1});
  ASSERT_TRUE(engine->start().ok());
  await_evaluations(*engine, 2);
  engine->stop();
  EXPECT_TRUE(alerts_in_db().empty()) << "resolved two days ago, kept one";
  auto db = store::AlertDb::open(dir_ / "alerts.db");
  auto kept = db->silence_versions();
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].subject, "lifted-2-days-ago");
}

TEST_F(AlertEngineTest, ARestartKeepsTheFiringAlertAndARemovedRuleResolvesIt) {
  auto engine = start_engine(warm_rule());
  store_reading(*engine, 35);
  ASSERT_TRUE(await_retained_state("firing"));
  engine->stop();

  engine = start_engine(warm_rule());
  store_reading(*engine, 40);
  await_evaluations(*engine, 3);
  auto alerts = alerts_in_db();
  ASSERT_EQ(alerts.size(), 1u) << "not raised again";
  EXPECT_EQ(alerts[0].state, store::AlertState::firing);
  EXPECT_EQ(engine->counters().fired, 0u);
  EXPECT_EQ(engine->counters().firing.at("warm"), 1u) << "restored";
  engine->stop();

  engine = start_engine({});
  ASSERT_TRUE(await_retained_state("resolved"));
  alerts = alerts_in_db();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, store::AlertState::resolved);
  EXPECT_EQ(alerts[0].resolution, "rule removed");
}

// Rules given while the engine runs are judged at once (an evaluation an hour away would otherwise
// be the next): a threshold rule added starts taking readings, a changed level judges the readings
// since, and the rule removed resolves its alert.
TEST_F(AlertEngineTest, RulesGivenWhileRunningAreJudgedAtOnce) {
  // An hour between evaluations: the only ones are the first and those use_rules() asks for, so
  // they are counted from the start (counting from after a call could miss one already done).
  auto engine = start_engine({}, {}, std::chrono::hours(1));
  auto await_evaluation = [&](std::uint64_t nth) {
    ASSERT_TRUE(wait_until([&] { return engine->counters().evaluations >= nth; }, 10s)) << "evaluation " << nth;
  };
  await_evaluation(1);
  store_reading(*engine, 35);  // no threshold rule yet: not taken

  engine->use_rules(warm_rule());
  await_evaluation(2);
  EXPECT_EQ(retained_state(), "") << "the reading before the rule was not judged by it";
  EXPECT_EQ(engine->counters().firing.at("warm"), 0u);

  // Judged by the rule as it is now: 31 is above the old level (30), not the new one (32).
  auto higher = warm_rule();
  higher[0].level = {.above = true, .fire_at = 32, .clear_at = 31};
  store_reading(*engine, 31);
  engine->use_rules(higher);
  await_evaluation(3);
  EXPECT_EQ(engine->counters().firing.at("warm"), 0u);
  store_reading(*engine, 33);
  engine->use_rules(higher);  // the same rules again: still an evaluation at once
  ASSERT_TRUE(await_retained_state("firing"));
  EXPECT_EQ(retained().value("value", 0.0), 33.0);

  engine->use_rules({});
  ASSERT_TRUE(await_retained_state("resolved"));
  const auto alerts = alerts_in_db();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].resolution, "rule removed");
  EXPECT_FALSE(engine->counters().firing.contains("warm")) << "a removed rule is no longer counted";
}

TEST_F(AlertEngineTest, ADropReportedAfterTheFirstLookFiresAndResolvesAfterTheQuietTime) {
  const std::string topic = "alerts/outbox_drops/d1";
  const std::vector<alerts::AlertRule> rules{
      {.name = "outbox_drops", .kind = alerts::RuleKind::outbox_drops, .quiet_ms = 3'600'000}};
  report_drops(5);  // dropped before the gateway watched: not news
  auto engine = start_engine(rules);
  await_evaluations(*engine, 2);
  EXPECT_EQ(retained_state(topic), "");
  report_drops(9);
  ASSERT_TRUE(await_retained_state("firing", topic));
  EXPECT_EQ(retained(topic).value("summary", ""), "its outbox dropped 4 readings 0 s ago (9 in all)");
  engine->stop();

  // Still firing after a restart, though the restarted engine never saw the count grow.
  engine = start_engine(rules);
  await_evaluations(*engine, 3);
  EXPECT_EQ(retained_state(topic), "firing");
  EXPECT_EQ(engine->counters().firing.at("outbox_drops"), 1u);
  engine->stop();

  auto short_quiet = rules;
  short_quiet[0].quiet_ms = 300;
  engine = start_engine(short_quiet);
  ASSERT_TRUE(await_retained_state("resolved", topic));
  EXPECT_EQ(alerts_in_db().at(0).resolution, "condition cleared: no readings dropped for 0.3 s");
}

// ACL denials count from the gateway's start: those before the engine's first look are news too.
TEST_F(AlertEngineTest, ADevicesAclDenialsFireEvenBeforeTheFirstLookAndResolveAfterTheQuietTime) {
  const std::string topic = "alerts/acl/d1";
  report_drops(0);  // d1 is known
  ClientRecords clients;
  clients.add_acl_denials("d1", 2);
  clients.add_acl_denials("svc-other", 7);  // not a device: judged by no device rule
  const std::vector<alerts::AlertRule> rules{
      {.name = "acl", .kind = alerts::RuleKind::device_acl_denials, .quiet_ms = 600'000}};
  auto engine = start_engine(rules, AlertFactSources{.clients = [&] { return clients.snapshot(); }});
  ASSERT_TRUE(await_retained_state("firing", topic));
  EXPECT_THAT(
      retained(topic).value("summary", ""),
      ::testing::MatchesRegex("the broker's ACL refused 2 of its publishes or deliveries .* s ago \\(2 in all\\)"));
  EXPECT_EQ(alerts_in_db().size(), 1u);
  engine->stop();

  auto short_quiet = rules;
  short_quiet[0].quiet_ms = 300;
  engine = start_engine(short_quiet, AlertFactSources{.clients = [&] { return clients.snapshot(); }});
  ASSERT_TRUE(await_retained_state("resolved", topic));
  EXPECT_EQ(alerts_in_db().at(0).resolution, "condition cleared: no ACL denial for 0.3 s");
}

TEST_F(AlertEngineTest, AFailedUpdateFiresAndUnreadableRolloutsChangeNothing) {
  const std::string topic = "alerts/update_failed/d1";
  report_drops(0);  // d1 is known
  std::mutex mutex;
  Result<alerts::UpdateFacts> updates = alerts::UpdateFacts{};
  std::atomic<int> reads{0};
  AlertFactSources sources{.updates = [&]() -> Result<alerts::UpdateFacts> {
    std::lock_guard lock(mutex);
    ++reads;
    return updates;
  }};
  const auto set_updates = [&](Result<alerts::UpdateFacts> next) {
    std::lock_guard lock(mutex);
    updates = std::move(next);
  };
  auto engine = start_engine({{.name = "update_failed", .kind = alerts::RuleKind::update_failed}}, sources);
  await_evaluations(*engine, 2);
  EXPECT_EQ(retained_state(topic), "");
  set_updates(alerts::UpdateFacts{
      .failed = {
          {.device = "d1", .rollout = 3, .release = "thermo 1.1.0", .outcome = "failed", .reason = "bad_signature"}}});
  ASSERT_TRUE(await_retained_state("firing", topic));
  EXPECT_EQ(retained(topic).value("summary", ""), "update to thermo 1.1.0 in rollout 3 failed (bad_signature)");

  set_updates(make_error(Errc::io, "rollouts.db is locked"));
  const auto failures = engine->counters().database_failures;
  await_evaluations(*engine, 3);
  EXPECT_GT(engine->counters().database_failures, failures);
  EXPECT_EQ(retained_state(topic), "firing") << "nothing known: the alert stays";

  set_updates(alerts::UpdateFacts{});
  ASSERT_TRUE(await_retained_state("resolved", topic));
  EXPECT_EQ(alerts_in_db().at(0).resolution, "condition cleared: no failed update");
  engine->stop();

  // Without a rule that watches updates, rollouts.db is never read.
  const int before = reads.load();
  engine = start_engine(warm_rule(), sources);
  await_evaluations(*engine, 2);
  EXPECT_EQ(reads.load(), before);
}

}  // namespace
}  // namespace kelvin::gateway
