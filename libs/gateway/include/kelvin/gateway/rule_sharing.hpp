#pragma once
// The gateways of a share group (docs/scaling.md) judge the same alert rules: each publishes the
// version of every rule operators added, changed or removed through its API on
// kelvin/gateways/{itself}/rules/{rule} (retained, QoS 1; proto::SharedRule), and takes every
// version it receives there that supersedes its own (AlertRuleBook::merge, which tells this object
// again, so the taker republishes it under its own name). A gateway that was away finds the
// versions retained by the broker when it subscribes, and publishes all of its own on every
// connection, so the newest version of each rule reaches every gateway, whichever gateways were
// online when it changed. Its own topics are read like the others': an echo changes nothing, and a
// version it lost (a restored alerts.db) comes back from what it published before.
//
// Threads: publish_all() and handle_message() on the MQTT thread, which alone uses the AlertDb
// connection given here; publish() (the book's shared listener) from whichever thread changed a
// rule.

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "kelvin/gateway/alert_rule_book.hpp"
#include "kelvin/gateway/rate_limited_log.hpp"
#include "kelvin/proto/gateway_messages.hpp"
#include "kelvin/store/alert_db.hpp"

namespace kelvin::gateway {

struct RuleSharingCounters {
  std::uint64_t versions_published = 0;
  std::uint64_t versions_received = 0;
  std::uint64_t versions_taken = 0;     // superseded the version stored here
  std::uint64_t versions_rejected = 0;  // malformed, or a rule this gateway cannot read: logged and ignored
  std::uint64_t publish_failures = 0;
};

class RuleSharing {
 public:
  using Publish = std::function<bool(const std::string& topic, const std::string& payload, bool retain)>;

  // `db` is this object's own connection; `publish` sends on the gateway's MQTT connection. Makes
  // itself the book's shared listener: it must outlive the book's changes.
  RuleSharing(std::string self, AlertRuleBook& book, store::AlertDb db, Publish publish);

  // MQTT thread, after proto::peer_rules_filter() is subscribed on a new connection: publishes the
  // version of every rule stored here.
  void publish_all();
  // MQTT thread: false when the topic is no rules topic. A malformed version, or one for a rule
  // this gateway cannot read, is counted, logged (rate-limited) and otherwise ignored; never throws.
  bool handle_message(std::string_view topic, std::string_view payload);

  RuleSharingCounters counters() const;

 private:
  void publish(const proto::SharedRule& version);

  const std::string self_;
  AlertRuleBook& book_;
  store::AlertDb db_;
  Publish publish_;
  RateLimitedLog log_;

  mutable std::mutex mutex_;  // guards counters_; a leaf
  RuleSharingCounters counters_;
};

}  // namespace kelvin::gateway
