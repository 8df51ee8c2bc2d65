#pragma once
// The gateways of a share group (docs/scaling.md) judge the same alert rules and keep the same
// silences. Each publishes the version of every rule operators added, changed or removed through
// its API on kelvin/gateways/{itself}/rules/{rule} (proto::SharedRule), and of every silence set or
// lifted on kelvin/gateways/{itself}/silences/{rule}/{subject} (proto::SharedSilence; not those of
// the subject "gateway", which names each gateway itself), retained, QoS 1; it takes every version
// it receives there that supersedes its own (AlertRuleBook::merge, SilenceBook::merge, which tell
// this object again, so the taker republishes it under its own name). A gateway that was away
// finds the versions retained by the broker when it subscribes, and publishes all of its own on
// every connection, so the newest version of each reaches every gateway, whichever gateways were
// online when it changed. Its own topics are read like the others': an echo changes nothing, and a
// version it lost (a restored alerts.db) comes back from what it published before.
//
// Threads: publish_all() and handle_message() on the MQTT thread, which alone uses the AlertDb
// connection given here; the books' shared listeners from whichever thread changed a rule or a
// silence.

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "kelvin/gateway/alert_rule_book.hpp"
#include "kelvin/gateway/rate_limited_log.hpp"
#include "kelvin/gateway/silence_book.hpp"
#include "kelvin/proto/gateway_messages.hpp"
#include "kelvin/store/alert_db.hpp"

namespace kelvin::gateway {

// The versions of one kind (rules or silences) this gateway exchanged.
struct SharingCounters {
  std::uint64_t versions_published = 0;
  std::uint64_t versions_received = 0;
  std::uint64_t versions_taken = 0;     // superseded the version stored here
  std::uint64_t versions_rejected = 0;  // malformed, or one this gateway cannot read: logged and ignored
  std::uint64_t publish_failures = 0;
};

struct AlertSharingCounters {
  SharingCounters rules;
  SharingCounters silences;
};

class AlertSharing {
 public:
  using Publish = std::function<bool(const std::string& topic, const std::string& payload, bool retain)>;

  // `db` is this object's own connection; `publish` sends on the gateway's MQTT connection. Makes
  // itself both books' shared listener: it must outlive their changes.
  AlertSharing(std::string self, AlertRuleBook& rules, SilenceBook& silences, store::AlertDb db, Publish publish);

  // MQTT thread, after proto::peer_rules_filter() and proto::peer_silences_filter() are subscribed
  // on a new connection: publishes the version of every rule and silence stored here.
  void publish_all();
  // MQTT thread: false when the topic is no rules or silences topic. A malformed version, or one
  // this gateway cannot read, is counted, logged (rate-limited) and otherwise ignored; never throws.
  bool handle_message(std::string_view topic, std::string_view payload);

  AlertSharingCounters counters() const;

 private:
  enum class Kind { rule, silence };

  void handle_rule(const proto::ParsedGatewayTopic& topic, std::string_view payload);
  void handle_silence(const proto::ParsedGatewayTopic& topic, std::string_view payload);
  // Counts and logs (rate-limited) a version of `kind` that `gateway` shared, refused for `why`.
  void refuse(Kind kind, std::string_view gateway, const std::string& why);
  // Adds one to `counter` of `kind`.
  void count(Kind kind, std::uint64_t SharingCounters::*counter);
  void publish_rule(const proto::SharedRule& version);
  void publish_silence(const store::SilenceRecord& version);

  const std::string self_;
  AlertRuleBook& rules_;
  SilenceBook& silences_;
  store::AlertDb db_;
  Publish publish_;
  RateLimitedLog log_;

  mutable std::mutex mutex_;  // guards counters_; a leaf
  AlertSharingCounters counters_;
};

}  // namespace kelvin::gateway
