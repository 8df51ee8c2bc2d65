// Which gateway of a share group notifies a transition (notification_referee.hpp): the rule
// against a model of the group's alert (the union of the gateways' episodes) for every arrangement
// of three gateways' episodes on a small clock; and the referee itself: what it publishes, what it
// takes from peers, and its verdicts (wait, send, leave to a peer) with a fake clock and peers.

#include "kelvin/gateway/notification_referee.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <vector>

namespace kelvin::gateway {
namespace {

using Kind = RefereeVerdict::Kind;

struct Closed {
  std::int64_t start = 0;
  std::int64_t end = 0;
};

// Every gateway judges each of its own transitions against the other gateways' alerts (all of
// them, as the referee keeps them); the group's alert is the union of every gateway's alerts,
// touching ones merged (one ending as another starts hands over). Each start of a union interval
// must be notified by exactly the gateway that started it (the first identity at a tie), each end
// by exactly the one that ended it (the last identity at a tie), and nothing else by anyone.
// `alerts[g]` are gateway g's alerts, disjoint and apart; gateway g is named names[g].
void expect_each_group_transition_notified_once(const std::vector<std::vector<Closed>>& alerts,
                                                const std::vector<std::string>& names, const std::string& arrangement) {
  std::vector<Closed> sorted;
  for (const auto& own : alerts) sorted.insert(sorted.end(), own.begin(), own.end());
  std::sort(sorted.begin(), sorted.end(), [](const Closed& x, const Closed& y) { return x.start < y.start; });
  std::vector<Closed> group;
  for (const Closed& e : sorted) {
    if (!group.empty() && e.start <= group.back().end) {
      group.back().end = std::max(group.back().end, e.end);
    } else {
      group.push_back(e);
    }
  }
  // Whether a peer of `self` keeps the group firing across `self`'s `event` at `at_ms`.
  auto left = [&](std::size_t self, TransitionEvent event, std::int64_t at_ms) {
    for (std::size_t peer = 0; peer < alerts.size(); ++peer) {
      if (peer == self) continue;
      for (const Closed& e : alerts[peer]) {
        if (keeps_group_firing({.started_ms = e.start, .ended_ms = e.end}, names[peer], names[self], event, at_ms)) {
          return true;
        }
      }
    }
    return false;
  };
  std::map<std::int64_t, std::vector<std::size_t>> fired_by;     // notified starts -> who
  std::map<std::int64_t, std::vector<std::size_t>> resolved_by;  // notified ends -> who
  for (std::size_t self = 0; self < alerts.size(); ++self) {
    for (const Closed& e : alerts[self]) {
      if (!left(self, TransitionEvent::fired, e.start)) fired_by[e.start].push_back(self);
      if (!left(self, TransitionEvent::resolved, e.end)) resolved_by[e.end].push_back(self);
    }
  }
  std::map<std::int64_t, std::vector<std::size_t>> starts;  // the group's starts -> who started then
  std::map<std::int64_t, std::vector<std::size_t>> ends;
  for (const Closed& interval : group) {
    starts[interval.start];
    ends[interval.end];
  }
  for (std::size_t g = 0; g < alerts.size(); ++g) {
    for (const Closed& e : alerts[g]) {
      if (starts.contains(e.start)) starts[e.start].push_back(g);
      if (ends.contains(e.end)) ends[e.end].push_back(g);
    }
  }
  ASSERT_EQ(fired_by.size(), starts.size()) << "starts notified, " << arrangement;
  ASSERT_EQ(resolved_by.size(), ends.size()) << "ends notified, " << arrangement;
  for (const auto& [at, who] : starts) {
    ASSERT_TRUE(fired_by.contains(at)) << "start " << at << " not notified, " << arrangement;
    ASSERT_EQ(fired_by[at].size(), 1u) << "start " << at << ", " << arrangement;
    EXPECT_EQ(fired_by[at][0], *std::min_element(who.begin(), who.end())) << arrangement;
  }
  for (const auto& [at, who] : ends) {
    ASSERT_TRUE(resolved_by.contains(at)) << "end " << at << " not notified, " << arrangement;
    ASSERT_EQ(resolved_by[at].size(), 1u) << "end " << at << ", " << arrangement;
    EXPECT_EQ(resolved_by[at][0], *std::max_element(who.begin(), who.end())) << arrangement;
  }
}

std::string describe(const std::vector<std::vector<Closed>>& alerts) {
  std::string out;
  for (const auto& own : alerts) {
    out += "{";
    for (const Closed& e : own) out += "[" + std::to_string(e.start) + "," + std::to_string(e.end) + "]";
    out += "} ";
  }
  return out;
}

TEST(KeepsGroupFiring, EveryTransitionOfTheGroupIsNotifiedOnceAndNoOtherForThreeGateways) {
  std::vector<Closed> shapes;
  for (std::int64_t start = 0; start <= 3; ++start) {
    for (std::int64_t end = start; end <= 4; ++end) shapes.push_back({start, end});
  }
  std::size_t arrangements = 0;
  for (const Closed& a : shapes) {
    for (const Closed& b : shapes) {
      for (const Closed& c : shapes) {
        const std::vector<std::vector<Closed>> alerts{{a}, {b}, {c}};
        expect_each_group_transition_notified_once(alerts, {"svc-a", "svc-b", "svc-c"}, describe(alerts));
        if (HasFatalFailure()) return;
        ++arrangements;
      }
    }
  }
  EXPECT_EQ(arrangements, 14u * 14u * 14u);
}

// A gateway's alert that resolved and fired again within the hold: the referee judges with all of
// a peer's alerts it received, not only the newest.
TEST(KeepsGroupFiring, EveryTransitionOfTheGroupIsNotifiedOnceWhenGatewaysAlertTwice) {
  std::vector<std::vector<Closed>> histories{{}};  // every gateway's possible alerts: none, one, two apart
  for (std::int64_t start = 0; start <= 5; ++start) {
    for (std::int64_t end = start; end <= 5; ++end) {
      histories.push_back({{start, end}});
      for (std::int64_t next = end + 1; next <= 5; ++next) {
        for (std::int64_t next_end = next; next_end <= 5; ++next_end)
          histories.push_back({{start, end}, {next, next_end}});
      }
    }
  }
  std::size_t arrangements = 0;
  for (const auto& a : histories) {
    for (const auto& b : histories) {
      const std::vector<std::vector<Closed>> alerts{a, b};
      expect_each_group_transition_notified_once(alerts, {"svc-a", "svc-b"}, describe(alerts));
      if (HasFatalFailure()) return;
      ++arrangements;
    }
  }
  EXPECT_GT(arrangements, 4000u);
}

TEST(KeepsGroupFiring, APeerStillFiringKeepsItAndOneThatEndedBeforeDoesNot) {
  const AlertEpisode firing{.started_ms = 100};
  EXPECT_TRUE(keeps_group_firing(firing, "svc-b", "svc-a", TransitionEvent::fired, 200));
  EXPECT_TRUE(keeps_group_firing(firing, "svc-b", "svc-a", TransitionEvent::resolved, 200));
  EXPECT_FALSE(keeps_group_firing(firing, "svc-b", "svc-a", TransitionEvent::fired, 50)) << "we came first";
  EXPECT_FALSE(keeps_group_firing(firing, "svc-b", "svc-a", TransitionEvent::resolved, 50)) << "it began after";
  const AlertEpisode ended{.started_ms = 100, .ended_ms = 150};
  EXPECT_FALSE(keeps_group_firing(ended, "svc-b", "svc-a", TransitionEvent::fired, 200));
  EXPECT_FALSE(keeps_group_firing(ended, "svc-b", "svc-a", TransitionEvent::resolved, 200));
}

TEST(GroupSubjects, AreDevicesCertificatesAndRolloutsButNotTheGatewayItself) {
  EXPECT_TRUE(is_group_subject("sensor-01"));
  EXPECT_TRUE(is_group_subject("svc-gateway"));
  EXPECT_TRUE(is_group_subject("rollout-3"));
  EXPECT_FALSE(is_group_subject("gateway"));
  EXPECT_FALSE(is_group_subject("a/b"));
  EXPECT_FALSE(is_group_subject(""));
}

class NotificationRefereeTest : public ::testing::Test {
 protected:
  NotificationRefereeTest()
      : referee_(
            {.self = "svc-gateway-b",
             .webhooks = {"ops"},
             .hold = std::chrono::milliseconds(2000),
             .max_wait = std::chrono::milliseconds(60'000)},
            [this](const std::string& topic, const std::string& payload, bool retain) {
              published_.push_back({topic, payload});
              EXPECT_TRUE(retain);
              return connected_;
            },
            [this] { return peers_; }) {}

  static store::Delivery delivery(std::string event, std::int64_t at_ms, std::string subject = "sensor-01",
                                  std::string webhook = "ops") {
    return {.id = 1,
            .webhook = std::move(webhook),
            .event = std::move(event),
            .alert = {.rule = "device_offline", .subject = std::move(subject)},
            .created_ms = at_ms};
  }

  void share(const std::string& gateway, const proto::SharedAlertState& state) {
    ASSERT_TRUE(referee_.handle_message(proto::alert_state_topic(gateway, state.rule, state.subject),
                                        proto::encode_shared_alert_state(state)));
  }

  std::vector<std::pair<std::string, std::string>> published_;
  bool connected_ = true;
  std::optional<std::set<std::string>> peers_ = std::set<std::string>{"svc-gateway-a"};
  NotificationReferee referee_;
};

TEST_F(NotificationRefereeTest, PublishesTheGroupsAlertsAndNotTheGatewaysOwn) {
  ASSERT_TRUE(referee_.publish_state(
      {.id = 4, .rule = "device_offline", .subject = "sensor-01", .started_ms = 1000, .ended_ms = 2000}));
  ASSERT_EQ(published_.size(), 1u);
  EXPECT_EQ(published_[0].first, "kelvin/gateways/svc-gateway-b/alerts/device_offline/sensor-01");
  auto state = proto::decode_shared_alert_state(published_[0].second);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(*state, (proto::SharedAlertState{.rule = "device_offline",
                                             .subject = "sensor-01",
                                             .started_ms = 1000,
                                             .ended_ms = 2000,
                                             .webhooks = {"ops"}}));
  EXPECT_TRUE(referee_.publish_state({.rule = "disk_space", .subject = "gateway", .started_ms = 1000}));
  EXPECT_EQ(published_.size(), 1u) << "the subject 'gateway' is each gateway's own";
  connected_ = false;
  EXPECT_FALSE(referee_.publish_state({.rule = "device_offline", .subject = "sensor-02", .started_ms = 1000}));
  EXPECT_EQ(referee_.counters().states_published, 1u);
  EXPECT_EQ(referee_.counters().publish_failures, 1u);
}

TEST_F(NotificationRefereeTest, WaitsOutTheHoldThenLeavesToAPeerWhoseAlertCameFirst) {
  share("svc-gateway-a", {.rule = "device_offline", .subject = "sensor-01", .started_ms = 900, .webhooks = {"ops"}});
  EXPECT_EQ(referee_.counters().states_received, 1u);
  const auto early = referee_.judge(delivery("fired", 1000), 2999);
  EXPECT_EQ(early.kind, Kind::wait);
  EXPECT_EQ(early.until_ms, 3000);
  const auto verdict = referee_.judge(delivery("fired", 1000), 3000);
  EXPECT_EQ(verdict.kind, Kind::leave_to_peer);
  EXPECT_EQ(verdict.peer, "svc-gateway-a");
  EXPECT_EQ(referee_.judge(delivery("resolved", 5000), 7000).kind, Kind::leave_to_peer) << "A still fires";

  // Sent: what A does not notify (another webhook), an alert A came after, A's ended alert, a
  // subject that is this gateway's own.
  EXPECT_EQ(referee_.judge(delivery("fired", 1000, "sensor-01", "chat"), 3000).kind, Kind::send);
  EXPECT_EQ(referee_.judge(delivery("fired", 800), 3000).kind, Kind::send);
  EXPECT_EQ(referee_.judge(delivery("fired", 1000, "gateway"), 1000).kind, Kind::send) << "no hold either";
  share("svc-gateway-a",
        {.rule = "device_offline", .subject = "sensor-01", .started_ms = 900, .ended_ms = 4000, .webhooks = {"ops"}});
  EXPECT_EQ(referee_.judge(delivery("resolved", 5000), 7000).kind, Kind::send) << "the last one to end";

  // A's alert resolved and a new one fired while this gateway held its resolution: A's earlier
  // alert, still firing at the transition, is the one that counts.
  share("svc-gateway-a", {.rule = "device_offline", .subject = "sensor-01", .started_ms = 5500, .webhooks = {"ops"}});
  EXPECT_EQ(referee_.judge(delivery("resolved", 3500), 5600).kind, Kind::leave_to_peer) << "A fired 900..4000";
  EXPECT_EQ(referee_.judge(delivery("resolved", 5000), 7000).kind, Kind::send) << "between A's two alerts";

  // An empty retained message clears A's alert.
  share("svc-gateway-a", {.rule = "device_offline", .subject = "sensor-02", .started_ms = 900, .webhooks = {"ops"}});
  ASSERT_TRUE(referee_.handle_message("kelvin/gateways/svc-gateway-a/alerts/device_offline/sensor-02", ""));
  EXPECT_EQ(referee_.judge(delivery("fired", 1000, "sensor-02"), 3000).kind, Kind::send);
}

TEST_F(NotificationRefereeTest, APeerAwayCountsForNothingAndUnknownPeersAreWaitedForUpToMaxWait) {
  share("svc-gateway-c", {.rule = "device_offline", .subject = "sensor-01", .started_ms = 900, .webhooks = {"ops"}});
  EXPECT_EQ(referee_.judge(delivery("fired", 1000), 3000).kind, Kind::send) << "C is not online";
  peers_ = std::nullopt;  // not connected, or still joining
  const auto waiting = referee_.judge(delivery("fired", 1000), 3000);
  EXPECT_EQ(waiting.kind, Kind::wait);
  EXPECT_EQ(waiting.until_ms, 4000);
  EXPECT_EQ(referee_.judge(delivery("fired", 1000), 60'500).until_ms, 61'000) << "not past max_wait";
  EXPECT_EQ(referee_.judge(delivery("fired", 1000), 61'000).kind, Kind::send) << "better twice than never";
}

TEST_F(NotificationRefereeTest, RefusesMalformedStatesAndIgnoresItsOwnEcho) {
  EXPECT_FALSE(referee_.handle_message("kelvin/gateways/svc-gateway-a/silences/hot/sensor-01", "{}"));
  EXPECT_FALSE(referee_.handle_message("devices/sensor-01/telemetry", "{}"));
  EXPECT_TRUE(referee_.handle_message("kelvin/gateways/svc-gateway-a/alerts/device_offline/sensor-01", "{"));
  share("svc-gateway-a", {.rule = "device_offline", .subject = "sensor-99", .started_ms = 1, .webhooks = {}});
  // On another alert's topic, of a subject that is each gateway's own, of a rule no rule may be named.
  const std::string state = proto::encode_shared_alert_state(
      {.rule = "device_offline", .subject = "sensor-01", .started_ms = 900, .webhooks = {"ops"}});
  EXPECT_TRUE(referee_.handle_message("kelvin/gateways/svc-gateway-a/alerts/device_offline/sensor-02", state));
  EXPECT_TRUE(referee_.handle_message(
      "kelvin/gateways/svc-gateway-a/alerts/disk_space/gateway",
      proto::encode_shared_alert_state({.rule = "disk_space", .subject = "gateway", .started_ms = 900})));
  EXPECT_TRUE(referee_.handle_message(
      "kelvin/gateways/svc-gateway-a/alerts/Hot/sensor-01",
      proto::encode_shared_alert_state({.rule = "Hot", .subject = "sensor-01", .started_ms = 900})));
  EXPECT_EQ(referee_.counters().states_rejected, 4u);
  EXPECT_EQ(referee_.counters().states_received, 1u);
  EXPECT_EQ(referee_.judge(delivery("fired", 1000, "sensor-02"), 3000).kind, Kind::send);

  peers_ = std::set<std::string>{"svc-gateway-a", "svc-gateway-b"};
  EXPECT_TRUE(referee_.handle_message("kelvin/gateways/svc-gateway-b/alerts/device_offline/sensor-01", state));
  EXPECT_EQ(referee_.counters().states_received, 1u) << "its own echo is not a peer's";
  EXPECT_EQ(referee_.judge(delivery("fired", 1000), 3000).kind, Kind::send);
}

}  // namespace
}  // namespace kelvin::gateway
