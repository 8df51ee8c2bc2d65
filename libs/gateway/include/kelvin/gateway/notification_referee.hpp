#pragma once
// Which gateway of a share group notifies an alert's transition (docs/alerts.md, "Several
// gateways"). Every gateway of a group sees the devices' statuses and the certificates alike, so
// each raises its own alert when a device goes offline or a certificate nears its end, and each
// queues a webhook delivery for it. The receiver should hear of each transition of the group's
// alert once: when the first gateway's alert starts firing, and when the last one's ends.
//
// So each gateway publishes its newest alert of every (rule, subject), retained, on
// kelvin/gateways/{itself}/alerts/{rule}/{subject} (proto::SharedAlertState: when it started and
// ended, and which webhooks it notifies), and its webhook sender asks this referee about each
// delivery of a shared subject before the first attempt. The referee waits `hold` after the
// transition (the peers' alerts of the same moment arrive meanwhile), then leaves the delivery to
// a peer whose alert kept the group's alert firing across it (keeps_group_firing): for a "fired",
// a peer whose alert started earlier and was still firing; for a "resolved", one whose alert was
// still firing. Ties go by identity, so of two gateways judging the same pair of alerts exactly
// one sends. Only peers online now count: a peer that is away judges nothing, and its alerts would
// otherwise hold the group's alert firing for as long as it is away.
//
// The referee keeps each peer's last few alerts of a pair as they arrived, not only the newest: a
// peer whose alert resolved and fired again within `hold` after a transition here must still count
// with the alert that was firing at the transition.
//
// What it does not promise: a peer that comes back, or one the broker cut off, judges without the
// others and may notify a transition they notified already (at least once, never lost by it); so
// does one that missed a peer's alert that started and ended while it was away.
//
// Threads: handle_message() on the MQTT thread, publish_state() on the alert engine's, judge() on
// the webhook sender's; the peers' alerts and the counters are under a leaf mutex.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "kelvin/gateway/rate_limited_log.hpp"
#include "kelvin/proto/gateway_messages.hpp"
#include "kelvin/store/alert_db.hpp"

namespace kelvin::gateway {

// Whether the alerts of `subject` are the group's, judged alike by every gateway of a share group
// (a device, a certificate, a rollout), rather than one gateway's own ("gateway": its disk, its
// export, the events it counted). A subject that is no identity (a certificate of a display name:
// the CA's, the server's host name) is not shared either: it could not name a topic level safely.
bool is_group_subject(std::string_view subject);

// One alert of a gateway on a rule and subject, as the referee knows it.
struct AlertEpisode {
  std::int64_t started_ms = 0;
  std::optional<std::int64_t> ended_ms{};  // nullopt: still firing
};

enum class TransitionEvent { fired, resolved };

// Whether `peer`'s `episode` keeps the group's alert firing across `self`'s `event` at `at_ms`,
// which then is no transition of the group's:
// - fired: the peer's alert started before (at the same millisecond: the peer's identity sorts
//   first) and had not ended before `at_ms` (one ending at `at_ms` hands over);
// - resolved: the peer's alert started by `at_ms` and had not ended by then (ending at the same
//   millisecond: the peer's identity sorts after, so the last of them in order sends).
// For two gateways judging the same pair of alerts, exactly one of them finds the other keeping it.
bool keeps_group_firing(const AlertEpisode& episode, std::string_view peer, std::string_view self,
                        TransitionEvent event, std::int64_t at_ms);

struct RefereeVerdict {
  enum class Kind { send, wait, leave_to_peer };
  Kind kind = Kind::send;
  std::int64_t until_ms = 0;  // wait: judge again then
  std::string peer{};         // leave_to_peer: the gateway whose alert keeps the group's firing
};

struct NotificationRefereeOptions {
  std::string self;                     // this gateway's service identity
  std::vector<std::string> webhooks{};  // the names of the webhooks this gateway notifies
  // How long after its transition a delivery is judged: the peers' alerts of the same moment are
  // published within milliseconds of being recorded.
  std::chrono::milliseconds hold{2000};
  // A delivery still not judged this long after its transition (the peers unknown: the broker
  // away, or this gateway still joining) is sent: better twice than never.
  std::chrono::milliseconds max_wait{60'000};
};

struct RefereeCounters {
  std::uint64_t states_published = 0;
  std::uint64_t states_received = 0;
  std::uint64_t states_rejected = 0;  // malformed, or on the wrong topic: logged and ignored
  std::uint64_t publish_failures = 0;
};

class NotificationReferee {
 public:
  using Publish = std::function<bool(const std::string& topic, const std::string& payload, bool retain)>;
  // The peers online now; nullopt while this gateway does not know them (PeerSync::online_peers).
  using OnlinePeers = std::function<std::optional<std::set<std::string>>()>;

  NotificationReferee(NotificationRefereeOptions options, Publish publish, OnlinePeers online_peers);

  // The alert engine, after it recorded a transition and at each (re)connection: publishes
  // `alert`'s state for the peers. True when there is nothing to publish (a subject of this
  // gateway's own); false when it could not be queued (the engine tries again).
  bool publish_state(const store::AlertRecord& alert);
  // MQTT thread, after proto::peer_alert_states_filter() is subscribed: false when the topic is no
  // alerts topic. A malformed state is counted, logged (rate-limited) and ignored; never throws.
  bool handle_message(std::string_view topic, std::string_view payload);
  // The webhook sender, before a delivery's attempt.
  RefereeVerdict judge(const store::Delivery& delivery, std::int64_t now_ms) const;

  RefereeCounters counters() const;

 private:
  // A peer's alerts of one rule and subject, as received.
  struct PeerAlerts {
    std::vector<AlertEpisode> episodes;           // by start, the newest last; at most kKeptEpisodes
    std::set<std::string, std::less<>> webhooks;  // as its newest state named them
  };
  // More than a pair can have within `hold`: an engine records at most one transition of a pair
  // per evaluation (interval_s >= 1).
  static constexpr std::size_t kKeptEpisodes = 8;
  using Key = std::tuple<std::string, std::string, std::string>;  // (gateway, rule, subject)

  void refuse(std::string_view gateway, const std::string& why);

  const NotificationRefereeOptions options_;
  const Publish publish_;
  const OnlinePeers online_peers_;
  RateLimitedLog log_;  // thread-safe

  mutable std::mutex mutex_;  // guards the members below it; a leaf
  std::map<Key, PeerAlerts, std::less<>> peers_alerts_;
  RefereeCounters counters_;
};

}  // namespace kelvin::gateway
