// Each kind of alert condition (kelvin/alerts/alert_conditions.hpp) judged on made-up facts: the
// verdicts on both sides of a level and between its fire and clear levels, device scopes, silence
// and last wills, certificates and the gateway's own conditions.

#include "kelvin/alerts/alert_conditions.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace kelvin::alerts {
namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;

DeviceFacts device_with_temperatures(std::string id, double min, double max, std::vector<std::string> labels = {}) {
  DeviceFacts device{.id = std::move(id), .labels = std::move(labels), .last_seen_ms = kNow};
  device.window[static_cast<std::size_t>(proto::Quantity::temperature)] = Extremes{.min = min, .max = max};
  return device;
}

AlertRule freezer_warm() {
  return AlertRule{.name = "freezer_warm",
                   .kind = RuleKind::threshold,
                   .quantity = proto::Quantity::temperature,
                   .level = {.above = true, .fire_at = -15, .clear_at = -17}};
}

TEST(AlertConditions, AThresholdJudgesTheWindowsReadingFurthestOnTheFiringSide) {
  Facts facts{
      .now_ms = kNow,
      .devices = {device_with_temperatures("warm", -20, -14.5), device_with_temperatures("band", -19, -16),
                  device_with_temperatures("cold", -22, -17), DeviceFacts{.id = "quiet", .last_seen_ms = kNow}}};
  const auto seen = *observe(freezer_warm(), facts);
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].subject, "warm");
  EXPECT_EQ(seen[0].verdict, Verdict::breach);
  EXPECT_DOUBLE_EQ(*seen[0].value, -14.5);
  EXPECT_EQ(seen[0].summary, "temperature -14.5 °C (fires above -15 °C)");
  EXPECT_EQ(seen[1].verdict, Verdict::hold) << "between the clear and the fire level";
  EXPECT_EQ(seen[2].verdict, Verdict::clear) << "at the clear level counts as cleared";
  EXPECT_EQ(seen[3].verdict, Verdict::unknown) << "no reading in the window";
  EXPECT_FALSE(seen[3].value);
}

TEST(AlertConditions, ABelowThresholdJudgesTheLowestReading) {
  AlertRule dry{.name = "dry",
                .kind = RuleKind::threshold,
                .quantity = proto::Quantity::humidity,
                .level = {.above = false, .fire_at = 20, .clear_at = 25}};
  DeviceFacts device{.id = "d1"};
  device.window[static_cast<std::size_t>(proto::Quantity::humidity)] = Extremes{.min = 19.5, .max = 40};
  const auto seen = *observe(dry, Facts{.now_ms = kNow, .devices = {device}});
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].verdict, Verdict::breach);
  EXPECT_EQ(seen[0].summary, "humidity 19.5 %RH (fires below 20 %RH)");
}

TEST(AlertConditions, AScopeOfDevicesOrALabelLimitsWhoIsWatched) {
  Facts facts{.now_ms = kNow,
              .devices = {device_with_temperatures("a", 0, 0, {"freezer"}), device_with_temperatures("b", 0, 0),
                          device_with_temperatures("c", 0, 0, {"freezer", "shop"})}};
  AlertRule labelled = freezer_warm();
  labelled.scope.label = "freezer";
  auto seen = *observe(labelled, facts);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].subject, "a");
  EXPECT_EQ(seen[1].subject, "c");
  AlertRule listed = freezer_warm();
  listed.scope.devices = {"b"};
  seen = *observe(listed, facts);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].subject, "b");
  listed.scope.devices = {"a", "aa", "c", "d"};  // sorted, as the config reader keeps them
  seen = *observe(listed, facts);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].subject, "a");
  EXPECT_EQ(seen[1].subject, "c");
  EXPECT_EQ(observe(freezer_warm(), facts)->size(), 3u) << "no scope: every device";
}

TEST(AlertConditions, ADeviceIsOfflineByItsLastWillOrBySilence) {
  AlertRule offline{.name = "offline", .kind = RuleKind::device_offline, .silent_ms = 600'000};
  Facts facts{.now_ms = kNow,
              .devices = {DeviceFacts{.id = "will", .last_seen_ms = kNow - 1000, .last_will = true},
                          DeviceFacts{.id = "silent", .last_seen_ms = kNow - 600'000},
                          DeviceFacts{.id = "talking", .last_seen_ms = kNow - 599'000},
                          DeviceFacts{.id = "never", .known_since_ms = kNow - 700'000}}};
  const auto seen = *observe(offline, facts);
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].verdict, Verdict::breach);
  EXPECT_EQ(seen[0].summary, "offline: its last will arrived 1 s ago");
  EXPECT_EQ(seen[1].verdict, Verdict::breach);
  EXPECT_EQ(seen[1].summary, "nothing received for 600 s");
  EXPECT_EQ(seen[2].verdict, Verdict::clear);
  EXPECT_EQ(seen[3].verdict, Verdict::breach) << "a device that never sent anything is silent since it was known";
  EXPECT_DOUBLE_EQ(*seen[3].value, 700);
}

TEST(AlertConditions, CertificatesAreJudgedByTheDaysTheyHaveLeft) {
  AlertRule expiry{
      .name = "expiry", .kind = RuleKind::certificate_expiry, .level = {.above = false, .fire_at = 30, .clear_at = 30}};
  constexpr std::int64_t kDay = 86'400'000;
  Facts facts{.now_ms = kNow,
              .certificates = std::vector<CertificateFacts>{
                  {.name = "d1", .kind = "device", .not_after_ms = kNow + 12 * kDay + kDay / 2},
                  {.name = "gw.example", .kind = "server", .not_after_ms = kNow + 400 * kDay},
                  {.name = "old", .kind = "device", .not_after_ms = kNow - kDay}}};
  EXPECT_FALSE(observe(expiry, Facts{.now_ms = kNow})) << "certificates unknown: nothing to say";
  const auto seen = *observe(expiry, facts);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].verdict, Verdict::breach);
  EXPECT_EQ(seen[0].summary, "device certificate expires in 12.5 days (fires below 30 days)");
  EXPECT_EQ(seen[1].verdict, Verdict::clear);
  EXPECT_EQ(seen[2].verdict, Verdict::breach) << "an expired certificate in use";
  EXPECT_EQ(seen[2].summary, "device certificate expires in -1 day (fires below 30 days)");

  AlertRule at_one{
      .name = "one", .kind = RuleKind::certificate_expiry, .level = {.above = false, .fire_at = 1, .clear_at = 1}};
  Facts a_day_left{
      .now_ms = kNow,
      .certificates = std::vector<CertificateFacts>{{.name = "d1", .kind = "device", .not_after_ms = kNow + kDay}}};
  EXPECT_EQ((*observe(at_one, a_day_left))[0].summary,
            "device certificate expires in 1 day (clears at or above 1 day)");
}

TEST(AlertConditions, TheGatewaysOwnConditionsHaveTheGatewayAsSubject) {
  constexpr double kMiB = 1024.0 * 1024.0;
  AlertRule disk{.name = "disk",
                 .kind = RuleKind::disk_space,
                 .level = {.above = false, .fire_at = 100 * kMiB, .clear_at = 120 * kMiB}};
  Facts facts{.now_ms = kNow, .gateway = {.free_bytes = static_cast<std::uint64_t>(64 * kMiB)}};
  auto seen = *observe(disk, facts);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].subject, "gateway");
  EXPECT_EQ(seen[0].verdict, Verdict::breach);
  EXPECT_EQ(seen[0].summary, "free space 64 MiB (fires below 100 MiB)");
  facts.gateway.free_bytes = static_cast<std::uint64_t>(110 * kMiB);
  seen = *observe(disk, facts);
  EXPECT_EQ(seen[0].verdict, Verdict::hold);
  EXPECT_EQ(seen[0].summary, "free space 110 MiB (clears at or above 120 MiB)");
  facts.gateway.free_bytes.reset();
  EXPECT_EQ((*observe(disk, facts))[0].verdict, Verdict::unknown) << "the file system could not be asked";

  AlertRule backlog{
      .name = "backlog", .kind = RuleKind::export_backlog, .level = {.above = true, .fire_at = 1000, .clear_at = 10}};
  EXPECT_TRUE(observe(backlog, Facts{.now_ms = kNow})->empty()) << "no exporter: nothing to watch";
  seen = *observe(backlog, Facts{.now_ms = kNow, .gateway = {.export_backlog = 1001}});
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].verdict, Verdict::breach);

  AlertRule lag{.name = "lag", .kind = RuleKind::export_lag, .level = {.above = true, .fire_at = 900, .clear_at = 60}};
  EXPECT_TRUE(observe(lag, Facts{.now_ms = kNow})->empty()) << "no exporter: nothing to watch";
  seen = *observe(lag, Facts{.now_ms = kNow, .gateway = {.export_lag_s = 901.5}});
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].subject, "gateway");
  EXPECT_EQ(seen[0].verdict, Verdict::breach);
  EXPECT_EQ(seen[0].value, 901.5);
  EXPECT_EQ(seen[0].summary, "the oldest reading waiting for export waited 901.5 s (fires above 900 s)");
  EXPECT_EQ((*observe(lag, Facts{.now_ms = kNow, .gateway = {.export_lag_s = 300}}))[0].verdict, Verdict::hold);
  EXPECT_EQ((*observe(lag, Facts{.now_ms = kNow, .gateway = {.export_lag_s = 60}}))[0].verdict, Verdict::clear);

  AlertRule crl{.name = "crl", .kind = RuleKind::crl_expiry, .level = {.above = false, .fire_at = 24, .clear_at = 24}};
  seen = *observe(crl, Facts{.now_ms = kNow, .gateway = {.crl_next_update_ms = kNow + 5 * 3'600'000}});
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].verdict, Verdict::breach);
  EXPECT_EQ(seen[0].summary, "the CRL's next update is due in 5 h (fires below 24 h)");
}

TEST(AlertConditions, AnEventRateIsJudgedPerMinute) {
  AlertRule attack{.name = "attack",
                   .kind = RuleKind::event_rate,
                   .level = {.above = true, .fire_at = 30, .clear_at = 5},
                   .event = GatewayEvent::failed_sign_ins};
  Facts facts{.now_ms = kNow};
  auto seen = *observe(attack, facts);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].verdict, Verdict::unknown) << "no rate yet";
  facts.gateway.events_per_minute[static_cast<std::size_t>(GatewayEvent::failed_sign_ins)] = 42;
  seen = *observe(attack, facts);
  EXPECT_EQ(seen[0].verdict, Verdict::breach);
  EXPECT_EQ(seen[0].summary, "failed sign-ins 42 per minute (fires above 30 per minute)");
  facts.gateway.events_per_minute[static_cast<std::size_t>(GatewayEvent::failed_sign_ins)] = 10;
  EXPECT_EQ((*observe(attack, facts))[0].verdict, Verdict::hold);
}

TEST(AlertConditions, AFailedUpdateFiresForItsDeviceAndClearsForEveryOtherInScope) {
  const AlertRule rule{.name = "update_failed", .kind = RuleKind::update_failed, .scope = {.label = "shop"}};
  Facts facts{.now_ms = kNow,
              .devices = {DeviceFacts{.id = "a", .labels = {"shop"}}, DeviceFacts{.id = "b", .labels = {"shop"}},
                          DeviceFacts{.id = "c"}}};
  EXPECT_FALSE(observe(rule, facts)) << "rollouts unreadable: nothing is judged";
  facts.updates =
      UpdateFacts{.failed = {{.device = "a",
                              .rollout = 7,
                              .release = "sensor-fw 1.3.0",
                              .outcome = "rolled_back",
                              .reason = "not_confirmed"},
                             {.device = "c", .rollout = 7, .release = "sensor-fw 1.3.0", .outcome = "failed"}}};
  const auto seen = *observe(rule, facts);
  ASSERT_EQ(seen.size(), 2u) << "c is out of the rule's scope";
  EXPECT_EQ(seen[0].subject, "a");
  EXPECT_EQ(seen[0].verdict, Verdict::breach);
  EXPECT_EQ(seen[0].summary, "update to sensor-fw 1.3.0 in rollout 7 rolled back (not_confirmed)");
  EXPECT_EQ(seen[1].subject, "b");
  EXPECT_EQ(seen[1].verdict, Verdict::clear);
  const AlertRule everyone{.name = "update_failed", .kind = RuleKind::update_failed};
  EXPECT_EQ((*observe(everyone, facts))[2].summary, "update to sensor-fw 1.3.0 in rollout 7 failed");
}

TEST(AlertConditions, AHaltedRolloutFiresAndAnyOtherActiveOneClears) {
  const AlertRule rule{.name = "rollout_halted", .kind = RuleKind::rollout_halted};
  Facts facts{.now_ms = kNow};
  EXPECT_FALSE(observe(rule, facts));
  facts.updates =
      UpdateFacts{.rollouts = {{.id = 3, .release = "sensor-fw 1.3.0", .halted = true, .devices = 10, .failures = 3},
                               {.id = 4, .release = "probe-fw 2.0.0", .halted = false, .devices = 5, .failures = 0}}};
  const auto seen = *observe(rule, facts);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].subject, "rollout-3");
  EXPECT_EQ(seen[0].verdict, Verdict::breach);
  EXPECT_EQ(seen[0].summary, "rollout 3 of sensor-fw 1.3.0 halted: 3 of 10 devices failed or rolled back");
  EXPECT_EQ(seen[1].subject, "rollout-4");
  EXPECT_EQ(seen[1].verdict, Verdict::clear);
}

TEST(AlertConditions, OutboxDropsFireWhileTheCountGrewWithinTheQuietTime) {
  const AlertRule rule{.name = "outbox_drops", .kind = RuleKind::outbox_drops, .quiet_ms = 3'600'000};
  Facts facts{
      .now_ms = kNow,
      .devices = {DeviceFacts{.id = "recent", .drops = {.total = 37, .grew_ms = kNow - 40'000, .grew_by = 12}},
                  DeviceFacts{.id = "long_ago", .drops = {.total = 5, .grew_ms = kNow - 3'600'000, .grew_by = 5}},
                  DeviceFacts{.id = "never", .drops = {.total = 9}}}};
  const auto seen = *observe(rule, facts);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].verdict, Verdict::breach);
  EXPECT_EQ(seen[0].summary, "its outbox dropped 12 readings 40 s ago (37 in all)");
  EXPECT_DOUBLE_EQ(*seen[0].value, 37);
  EXPECT_EQ(seen[1].verdict, Verdict::clear) << "quiet for the whole quiet time";
  EXPECT_EQ(seen[1].summary, "no readings dropped for 3600 s");
  EXPECT_EQ(seen[2].verdict, Verdict::clear) << "a count the gateway never saw grow";
}

TEST(AlertConditions, ADevicesAclDenialsFireWhileTheyGrewWithinTheQuietTime) {
  const AlertRule rule{.name = "acl", .kind = RuleKind::device_acl_denials, .quiet_ms = 600'000};
  Facts facts{
      .now_ms = kNow,
      .devices = {DeviceFacts{.id = "taken", .acl_denials = {.total = 5, .grew_ms = kNow - 2'000, .grew_by = 3}},
                  DeviceFacts{.id = "calm", .acl_denials = {.total = 5, .grew_ms = kNow - 600'000, .grew_by = 2}},
                  DeviceFacts{.id = "clean"}}};
  const auto seen = *observe(rule, facts);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].verdict, Verdict::breach);
  EXPECT_EQ(seen[0].summary, "the broker's ACL refused 3 of its publishes or deliveries 2 s ago (5 in all)");
  EXPECT_EQ(seen[1].verdict, Verdict::clear);
  EXPECT_EQ(seen[1].summary, "no ACL denial for 600 s");
  EXPECT_EQ(seen[2].verdict, Verdict::clear);
  const AlertRule scoped{
      .name = "acl", .kind = RuleKind::device_acl_denials, .scope = {.label = "shop"}, .quiet_ms = 600'000};
  EXPECT_TRUE(observe(scoped, facts)->empty()) << "no device carries the label";
}

TEST(AlertConditions, ABrokerExitFiresTheDefaultRuleUntilAMinuteWithoutOne) {
  const auto rules = default_rules();
  const auto rule =
      std::find_if(rules.begin(), rules.end(), [](const AlertRule& r) { return r.name == "broker_exits"; });
  ASSERT_NE(rule, rules.end());
  Facts facts{.now_ms = kNow};
  facts.gateway.events_per_minute[static_cast<std::size_t>(GatewayEvent::broker_exits)] = 1;
  auto seen = *observe(*rule, facts);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].verdict, Verdict::breach);
  EXPECT_EQ(seen[0].summary, "broker exits 1 per minute (fires above 0 per minute)");
  facts.gateway.events_per_minute[static_cast<std::size_t>(GatewayEvent::broker_exits)] = 0;
  EXPECT_EQ((*observe(*rule, facts))[0].verdict, Verdict::clear);
}

TEST(AlertConditions, ADeviceConnectedWithASupersededCertificateFiresUntilItUsesItsNewest) {
  constexpr std::int64_t kDay = 86'400'000;
  const AlertRule rule{.name = "superseded_certificate", .kind = RuleKind::superseded_certificate, .quiet_ms = 600'000};
  Facts facts{.now_ms = kNow,
              .devices = {DeviceFacts{.id = "old", .connection_serial = "A1"},
                          DeviceFacts{.id = "new",
                                      .connection_serial = "B2",
                                      .connection_serials_seen_ms = {{"B1", kNow - 600'000}, {"B2", kNow - 1'000}}},
                          DeviceFacts{.id = "unseen"}, DeviceFacts{.id = "revoked", .connection_serial = "C1"},
                          DeviceFacts{.id = "expired", .connection_serial = "D1"},
                          // Its old key connected 30 s ago, between connections with its newest.
                          DeviceFacts{.id = "copied",
                                      .connection_serial = "F2",
                                      .connection_serials_seen_ms = {{"F1", kNow - 30'000}, {"F2", kNow - 1'000}}}},
              .certificates = std::vector<CertificateFacts>{
                  {.name = "old",
                   .kind = "device",
                   .not_after_ms = kNow + 700 * kDay,
                   .serial = "A2",
                   .superseded = {{.serial = "A0", .not_after_ms = kNow + kDay},
                                  {.serial = "A1", .not_after_ms = kNow + 20 * kDay}}},
                  {.name = "new",
                   .kind = "device",
                   .not_after_ms = kNow + 700 * kDay,
                   .serial = "B2",
                   .superseded = {{.serial = "B1", .not_after_ms = kNow + kDay}}},
                  {.name = "revoked", .kind = "device", .not_after_ms = kNow + 700 * kDay, .serial = "C2"},
                  {.name = "expired",
                   .kind = "device",
                   .not_after_ms = kNow + 700 * kDay,
                   .serial = "D2",
                   .superseded = {{.serial = "D1", .not_after_ms = kNow - 1}}},
                  {.name = "copied",
                   .kind = "device",
                   .not_after_ms = kNow + 700 * kDay,
                   .serial = "F2",
                   .superseded = {{.serial = "F1", .not_after_ms = kNow + 3 * kDay}}},
                  // A service of the same name is not the device's certificate.
                  {.name = "unseen", .kind = "service", .not_after_ms = kNow + kDay, .serial = "E1"}}};
  EXPECT_FALSE(observe(rule, Facts{.now_ms = kNow, .devices = facts.devices})) << "certificates unknown";
  const auto seen = *observe(rule, facts);
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[0].verdict, Verdict::breach);
  EXPECT_EQ(seen[0].summary, "connected with certificate A1, superseded by A2 (valid until revoked, or for 20 days)");
  EXPECT_EQ(seen[0].value, 20.0);
  EXPECT_EQ(seen[1].verdict, Verdict::clear);
  EXPECT_EQ(seen[1].summary, "connected with its newest certificate B2")
      << "its old one longer than the quiet time ago";
  EXPECT_EQ(seen[2].verdict, Verdict::unknown) << "never seen connecting since the gateway started";
  EXPECT_EQ(seen[3].verdict, Verdict::clear) << "a revoked certificate: the broker refuses it";
  EXPECT_EQ(seen[3].summary, "its certificate C1 is no longer valid");
  EXPECT_EQ(seen[4].verdict, Verdict::clear) << "an expired one likewise";
  EXPECT_EQ(seen[5].verdict, Verdict::breach) << "an old key in use within the quiet time";
  EXPECT_EQ(
      seen[5].summary,
      "connected with certificate F1 30 s ago (latest: F2), superseded by F2 (valid until revoked, or for 3 days)");

  const AlertRule scoped{.name = "s", .kind = RuleKind::superseded_certificate, .scope = {.devices = {"new"}}};
  ASSERT_EQ(observe(scoped, facts)->size(), 1u);
  EXPECT_EQ((*observe(scoped, facts))[0].subject, "new");
}

TEST(AlertConditions, RuleNamesAndKindsHaveOneSpelling) {
  EXPECT_TRUE(is_valid_rule_name("freezer-warm_2"));
  EXPECT_FALSE(is_valid_rule_name(""));
  EXPECT_FALSE(is_valid_rule_name("Freezer"));
  EXPECT_FALSE(is_valid_rule_name("a/b"));
  EXPECT_FALSE(is_valid_rule_name(std::string(65, 'a')));
  for (const auto& rule : default_rules()) {
    EXPECT_TRUE(is_valid_rule_name(rule.name));
    EXPECT_EQ(parse_rule_kind(to_string(rule.kind)), rule.kind);
    EXPECT_TRUE(rule.level.is_consistent()) << rule.name;
  }
  EXPECT_FALSE(parse_rule_kind("thresholds"));
  for (std::size_t i = 0; i < kGatewayEventCount; ++i) {
    const auto event = static_cast<GatewayEvent>(i);
    EXPECT_EQ(parse_gateway_event(to_string(event)), event);
  }
}

}  // namespace
}  // namespace kelvin::alerts
