#include "kelvin/gateway/rule_sharing.hpp"

#include <chrono>
#include <utility>

#include "kelvin/log/log.hpp"
#include "kelvin/log/subject.hpp"

namespace kelvin::gateway {

RuleSharing::RuleSharing(std::string self, AlertRuleBook& book, store::AlertDb db, Publish publish)
    : self_(std::move(self)), book_(book), db_(std::move(db)), publish_(std::move(publish)) {
  book_.on_shared_change([this](const proto::SharedRule& version) { this->publish(version); });
}

void RuleSharing::publish_all() {
  auto versions = AlertRuleBook::versions(db_);
  if (!versions) {
    log::component("alerts").error("cannot read the added rules to share them with the other gateways: {}",
                                   versions.error().message);
    return;
  }
  for (const auto& version : *versions) publish(version);
}

bool RuleSharing::handle_message(std::string_view topic, std::string_view payload) {
  const auto parsed = proto::parse_gateway_topic(topic);
  if (!parsed || parsed->topic != proto::GatewayTopic::rule) return false;
  // An empty retained message is how MQTT clears a retained one: nothing to take.
  if (payload.empty()) return true;
  // Every record about this message, the rule book's too, names the gateway that shared it.
  const log::Subjects from{{log::SubjectKey::gateway, parsed->gateway}};
  const auto now = std::chrono::steady_clock::now();
  auto refuse = [&](const std::string& why) {
    {
      std::lock_guard lock(mutex_);
      ++counters_.versions_rejected;
    }
    if (auto suppressed = log_.admit("rule", now)) {
      log::component("alerts").warn("a rule shared by gateway {} is refused: {} ({} similar suppressed)",
                                    parsed->gateway, why, *suppressed);
    }
  };
  auto version = proto::decode_shared_rule(payload);
  if (!version) {
    refuse(version.error().message);
    return true;
  }
  if (version->name != parsed->rule) {
    refuse("published on the topic of rule '" + std::string(parsed->rule) + "', it names another");
    return true;
  }
  {
    std::lock_guard lock(mutex_);
    ++counters_.versions_received;
  }
  auto taken = book_.merge(db_, *version);
  if (!taken) {
    if (taken.error().code == Errc::invalid_argument) {
      refuse(taken.error().message);
    } else {
      // The version stays retained: it is taken again at the next connection.
      const log::Subjects about{{log::SubjectKey::rule, version->name}};
      log::component("alerts").error("cannot store the rule {} shared by gateway {}: {}", version->name,
                                     parsed->gateway, taken.error().message);
    }
    return true;
  }
  if (*taken) {
    {
      std::lock_guard lock(mutex_);
      ++counters_.versions_taken;
    }
    const log::Subjects about{{log::SubjectKey::rule, version->name}, {log::SubjectKey::user, version->changed_by}};
    log::component("alerts").info("the alert rule {} was {} by {} on a gateway of the share group (shared by {})",
                                  version->name, version->removed() ? "removed" : "added or changed",
                                  version->changed_by, parsed->gateway);
  }
  return true;
}

void RuleSharing::publish(const proto::SharedRule& version) {
  const bool sent = publish_(proto::rule_topic(self_, version.name), proto::encode_shared_rule(version), true);
  std::lock_guard lock(mutex_);
  ++(sent ? counters_.versions_published : counters_.publish_failures);
}

RuleSharingCounters RuleSharing::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

}  // namespace kelvin::gateway
