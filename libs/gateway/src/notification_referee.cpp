#include "kelvin/gateway/notification_referee.hpp"

#include <algorithm>
#include <utility>

#include "kelvin/alerts/alert_conditions.hpp"
#include "kelvin/alerts/alert_rule.hpp"
#include "kelvin/core/identity.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/log/subject.hpp"

namespace kelvin::gateway {
namespace {

// How often a delivery waiting for this gateway to know its peers is judged again.
constexpr std::int64_t kRejudgeMs = 1000;

std::optional<TransitionEvent> parse_event(std::string_view event) {
  if (event == "fired") return TransitionEvent::fired;
  if (event == "resolved") return TransitionEvent::resolved;
  return std::nullopt;
}

}  // namespace

bool is_group_subject(std::string_view subject) {
  return subject != alerts::kGatewaySubject && is_well_formed_identity(subject);
}

bool keeps_group_firing(const AlertEpisode& episode, std::string_view peer, std::string_view self,
                        TransitionEvent event, std::int64_t at_ms) {
  if (event == TransitionEvent::fired) {
    const bool started_first = episode.started_ms < at_ms || (episode.started_ms == at_ms && peer < self);
    return started_first && (!episode.ended_ms || *episode.ended_ms >= at_ms);
  }
  if (episode.started_ms > at_ms) return false;
  return !episode.ended_ms || *episode.ended_ms > at_ms || (*episode.ended_ms == at_ms && peer > self);
}

NotificationReferee::NotificationReferee(NotificationRefereeOptions options, Publish publish, OnlinePeers online_peers)
    : options_(std::move(options)), publish_(std::move(publish)), online_peers_(std::move(online_peers)) {}

bool NotificationReferee::publish_state(const store::AlertRecord& alert) {
  if (!is_group_subject(alert.subject)) return true;
  const proto::SharedAlertState state{.rule = alert.rule,
                                      .subject = alert.subject,
                                      .started_ms = alert.started_ms,
                                      .ended_ms = alert.ended_ms,
                                      .webhooks = options_.webhooks};
  const bool sent = publish_(proto::alert_state_topic(options_.self, alert.rule, alert.subject),
                             proto::encode_shared_alert_state(state), true);
  std::lock_guard lock(mutex_);
  ++(sent ? counters_.states_published : counters_.publish_failures);
  return sent;
}

bool NotificationReferee::handle_message(std::string_view topic, std::string_view payload) {
  const auto parsed = proto::parse_gateway_topic(topic);
  if (!parsed || parsed->topic != proto::GatewayTopic::alert) return false;
  if (parsed->gateway == options_.self) return true;  // our own, echoed back
  const Key key{std::string(parsed->gateway), std::string(parsed->rule), std::string(parsed->subject)};
  // An empty retained message is how MQTT clears a retained one: that alert is gone.
  if (payload.empty()) {
    std::lock_guard lock(mutex_);
    peers_alerts_.erase(key);
    return true;
  }
  auto state = proto::decode_shared_alert_state(payload);
  if (!state) {
    refuse(parsed->gateway, state.error().message);
    return true;
  }
  if (state->rule != parsed->rule || state->subject != parsed->subject) {
    refuse(parsed->gateway, "published on the topic of rule '" + std::string(parsed->rule) + "' and subject '" +
                                std::string(parsed->subject) + "', it names others");
    return true;
  }
  if (!alerts::is_valid_rule_name(state->rule) || !is_group_subject(state->subject)) {
    refuse(parsed->gateway, "its rule or subject is not one the gateways of a group share");
    return true;
  }
  std::lock_guard lock(mutex_);
  ++counters_.states_received;
  PeerAlerts& known = peers_alerts_[key];
  const AlertEpisode episode{.started_ms = state->started_ms, .ended_ms = state->ended_ms};
  // The same alert again (resolved now, or republished at a connection) replaces its earlier state;
  // a newer one joins the ones kept.
  const auto same = std::find_if(known.episodes.begin(), known.episodes.end(),
                                 [&](const AlertEpisode& kept) { return kept.started_ms == episode.started_ms; });
  if (same != known.episodes.end()) {
    *same = episode;
  } else {
    known.episodes.push_back(episode);
    std::sort(known.episodes.begin(), known.episodes.end(),
              [](const AlertEpisode& a, const AlertEpisode& b) { return a.started_ms < b.started_ms; });
    if (known.episodes.size() > kKeptEpisodes) known.episodes.erase(known.episodes.begin());
  }
  known.webhooks = {state->webhooks.begin(), state->webhooks.end()};
  return true;
}

RefereeVerdict NotificationReferee::judge(const store::Delivery& delivery, std::int64_t now_ms) const {
  using Kind = RefereeVerdict::Kind;
  const auto event = parse_event(delivery.event);
  if (!event || !is_group_subject(delivery.alert.subject)) return {};
  const std::int64_t at_ms = delivery.created_ms;
  const std::int64_t judged_ms = at_ms + options_.hold.count();
  if (now_ms < judged_ms) return {.kind = Kind::wait, .until_ms = judged_ms};
  const auto peers = online_peers_();
  if (!peers) {
    const std::int64_t given_up_ms = at_ms + options_.max_wait.count();
    if (now_ms >= given_up_ms) return {};
    return {.kind = Kind::wait, .until_ms = std::min(now_ms + kRejudgeMs, given_up_ms)};
  }
  std::lock_guard lock(mutex_);
  for (const std::string& peer : *peers) {
    const auto found = peers_alerts_.find(std::tie(peer, delivery.alert.rule, delivery.alert.subject));
    if (found == peers_alerts_.end() || !found->second.webhooks.contains(delivery.webhook)) continue;
    for (const AlertEpisode& episode : found->second.episodes) {
      if (keeps_group_firing(episode, peer, options_.self, *event, at_ms)) {
        return {.kind = Kind::leave_to_peer, .peer = peer};
      }
    }
  }
  return {};
}

RefereeCounters NotificationReferee::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

void NotificationReferee::refuse(std::string_view gateway, const std::string& why) {
  {
    std::lock_guard lock(mutex_);
    ++counters_.states_rejected;
  }
  if (auto suppressed = log_.admit("alert state", std::chrono::steady_clock::now())) {
    const log::Subjects about{{log::SubjectKey::gateway, gateway}};
    log::component("alerts").warn("an alert state shared by gateway {} is refused: {} ({} similar suppressed)", gateway,
                                  why, *suppressed);
  }
}

}  // namespace kelvin::gateway
