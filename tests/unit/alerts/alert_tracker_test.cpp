// The life of alerts between evaluations (kelvin/alerts/alert_tracker.hpp), with a fake clock: a
// condition must hold for the rule's duration before it fires, fires once, resolves by its clear
// level (hysteresis), and resolves when its subject or its rule is gone; restored alerts never fire
// again.

#include "kelvin/alerts/alert_tracker.hpp"

#include <gtest/gtest.h>

namespace kelvin::alerts {
namespace {

constexpr std::int64_t kStart = 1'800'000'000'000;

AlertRule warm(std::int64_t for_ms = 0) {
  return AlertRule{.name = "warm",
                   .kind = RuleKind::threshold,
                   .for_ms = for_ms,
                   .level = {.above = true, .fire_at = 30, .clear_at = 28}};
}

// Facts at `now_ms` with one device "d1" whose window held `temperature` (none: no reading).
Facts at(std::int64_t now_ms, std::optional<double> temperature, std::string device = "d1") {
  DeviceFacts facts{.id = std::move(device), .last_seen_ms = now_ms};
  if (temperature) facts.window[0] = Extremes{.min = *temperature, .max = *temperature};
  return Facts{.now_ms = now_ms, .devices = {facts}};
}

TEST(AlertTracker, AConditionFiresOnceAfterHoldingForTheRulesDurationAndResolvesPastTheClearLevel) {
  AlertTracker tracker;
  const std::vector<AlertRule> rules{warm(60'000)};
  EXPECT_TRUE(tracker.evaluate(rules, at(kStart, 31)).empty()) << "pending";
  EXPECT_TRUE(tracker.evaluate(rules, at(kStart + 30'000, 32)).empty());
  EXPECT_TRUE(tracker.evaluate(rules, at(kStart + 45'000, std::nullopt)).empty()) << "no reading: still pending";
  auto fired = tracker.evaluate(rules, at(kStart + 60'000, 31.5));
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].type, Transition::Type::fired);
  EXPECT_EQ(fired[0].rule, "warm");
  EXPECT_EQ(fired[0].kind, RuleKind::threshold);
  EXPECT_EQ(fired[0].subject, "d1");
  EXPECT_EQ(fired[0].at_ms, kStart + 60'000);
  EXPECT_DOUBLE_EQ(*fired[0].value, 31.5);
  EXPECT_EQ(fired[0].summary, "temperature 31.5 °C (fires above 30 °C)");
  EXPECT_EQ(tracker.firing_by_rule(), (std::map<std::string, std::size_t>{{"warm", 1}}));

  EXPECT_TRUE(tracker.evaluate(rules, at(kStart + 70'000, 33)).empty()) << "fires once";
  EXPECT_TRUE(tracker.evaluate(rules, at(kStart + 80'000, 29)).empty()) << "between the levels: still firing";
  EXPECT_TRUE(tracker.evaluate(rules, at(kStart + 90'000, 30.5)).empty()) << "no second alert";
  auto resolved = tracker.evaluate(rules, at(kStart + 100'000, 28));
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].type, Transition::Type::resolved);
  EXPECT_EQ(resolved[0].resolution, "condition cleared");
  EXPECT_EQ(resolved[0].summary, "temperature 28 °C (clears at or below 28 °C)");
  EXPECT_TRUE(tracker.firing_by_rule().empty());
}

TEST(AlertTracker, APendingConditionThatLapsesStartsOver) {
  AlertTracker tracker;
  const std::vector<AlertRule> rules{warm(60'000)};
  EXPECT_TRUE(tracker.evaluate(rules, at(kStart, 31)).empty());
  EXPECT_TRUE(tracker.evaluate(rules, at(kStart + 30'000, 29)).empty()) << "below the fire level: pending ends";
  EXPECT_TRUE(tracker.evaluate(rules, at(kStart + 40'000, 31)).empty());
  EXPECT_TRUE(tracker.evaluate(rules, at(kStart + 90'000, 31)).empty()) << "50 s since it started over";
  EXPECT_EQ(tracker.evaluate(rules, at(kStart + 100'000, 31)).size(), 1u);
}

TEST(AlertTracker, WithoutADurationTheFirstBreachFires) {
  AlertTracker tracker;
  const std::vector<AlertRule> rules{warm()};
  EXPECT_EQ(tracker.evaluate(rules, at(kStart, 30.1)).size(), 1u);
}

TEST(AlertTracker, ARestoredAlertNeverFiresAgainAndResolvesByTheNextEvaluations) {
  AlertTracker tracker;
  tracker.restore_firing("warm", "d1");
  const std::vector<AlertRule> rules{warm()};
  EXPECT_TRUE(tracker.evaluate(rules, at(kStart, 35)).empty());
  auto resolved = tracker.evaluate(rules, at(kStart + 1000, 20));
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].type, Transition::Type::resolved);
}

TEST(AlertTracker, AnAlertResolvesWhenItsSubjectOrItsRuleIsGone) {
  AlertTracker tracker;
  std::vector<AlertRule> rules{warm()};
  ASSERT_EQ(tracker.evaluate(rules, at(kStart, 35, "d1")).size(), 1u);
  auto gone = tracker.evaluate(rules, at(kStart + 1000, 35, "d2"));
  ASSERT_EQ(gone.size(), 2u) << "d1 gone, d2 fires";
  EXPECT_EQ(gone[0].type, Transition::Type::fired);
  EXPECT_EQ(gone[0].subject, "d2");
  EXPECT_EQ(gone[1].type, Transition::Type::resolved);
  EXPECT_EQ(gone[1].subject, "d1");
  EXPECT_EQ(gone[1].resolution, "subject gone");

  tracker.restore_firing("old_rule", "gateway");
  auto removed = tracker.evaluate({}, at(kStart + 2000, 35, "d2"));
  ASSERT_EQ(removed.size(), 2u);
  for (const auto& transition : removed) {
    EXPECT_EQ(transition.type, Transition::Type::resolved);
    EXPECT_EQ(transition.resolution, "rule removed");
  }
  EXPECT_TRUE(tracker.firing_by_rule().empty());
}

TEST(AlertTracker, CertificatesThatCannotBeReadChangeNothing) {
  AlertTracker tracker;
  const std::vector<AlertRule> rules{{.name = "expiry",
                                      .kind = RuleKind::certificate_expiry,
                                      .level = {.above = false, .fire_at = 30, .clear_at = 30}}};
  Facts facts{.now_ms = kStart,
              .certificates = std::vector<CertificateFacts>{{.name = "d1", .kind = "device", .not_after_ms = kStart}}};
  ASSERT_EQ(tracker.evaluate(rules, facts).size(), 1u);
  facts.certificates.reset();
  EXPECT_TRUE(tracker.evaluate(rules, facts).empty()) << "unknown is not gone";
  facts.certificates = std::vector<CertificateFacts>{};
  auto gone = tracker.evaluate(rules, facts);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].resolution, "subject gone");
}

TEST(AlertTracker, EachDeviceHasItsOwnAlert) {
  AlertTracker tracker;
  const std::vector<AlertRule> rules{warm()};
  Facts facts = at(kStart, 35, "d1");
  facts.devices.push_back(at(kStart, 36, "d2").devices[0]);
  facts.devices.push_back(at(kStart, 20, "d3").devices[0]);
  auto fired = tracker.evaluate(rules, facts);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0].subject, "d1");
  EXPECT_EQ(fired[1].subject, "d2");
  EXPECT_EQ(tracker.firing_by_rule().at("warm"), 2u);
}

}  // namespace
}  // namespace kelvin::alerts
