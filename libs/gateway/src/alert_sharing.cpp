#include "kelvin/gateway/alert_sharing.hpp"

#include <chrono>
#include <utility>

#include "kelvin/alerts/alert_conditions.hpp"
#include "kelvin/alerts/alert_rule.hpp"
#include "kelvin/core/identity.hpp"
#include "kelvin/gateway/notification_referee.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/log/subject.hpp"

namespace kelvin::gateway {

AlertSharing::AlertSharing(std::string self, AlertRuleBook& rules, SilenceBook& silences, store::AlertDb db,
                           Publish publish)
    : self_(std::move(self)), rules_(rules), silences_(silences), db_(std::move(db)), publish_(std::move(publish)) {
  rules_.on_shared_change([this](const proto::SharedRule& version) { publish_rule(version); });
  silences_.on_shared_change([this](const store::SilenceRecord& version) { publish_silence(version); });
}

void AlertSharing::publish_all() {
  auto rules = AlertRuleBook::versions(db_);
  if (!rules) {
    log::component("alerts").error("cannot read the added rules to share them with the other gateways: {}",
                                   rules.error().message);
  } else {
    for (const auto& version : *rules) publish_rule(version);
  }
  auto silences = db_.silence_versions();
  if (!silences) {
    log::component("alerts").error("cannot read the silences to share them with the other gateways: {}",
                                   silences.error().message);
  } else {
    for (const auto& version : *silences) publish_silence(version);
  }
}

bool AlertSharing::handle_message(std::string_view topic, std::string_view payload) {
  const auto parsed = proto::parse_gateway_topic(topic);
  if (!parsed || (parsed->topic != proto::GatewayTopic::rule && parsed->topic != proto::GatewayTopic::silence)) {
    return false;
  }
  // An empty retained message is how MQTT clears a retained one: nothing to take.
  if (payload.empty()) return true;
  // Every record about this message, the books' too, names the gateway that shared it.
  const log::Subjects from{{log::SubjectKey::gateway, parsed->gateway}};
  if (parsed->topic == proto::GatewayTopic::rule) {
    handle_rule(*parsed, payload);
  } else {
    handle_silence(*parsed, payload);
  }
  return true;
}

void AlertSharing::handle_rule(const proto::ParsedGatewayTopic& topic, std::string_view payload) {
  auto version = proto::decode_shared_rule(payload);
  if (!version) return refuse(Kind::rule, topic.gateway, version.error().message);
  if (version->name != topic.rule) {
    return refuse(Kind::rule, topic.gateway,
                  "published on the topic of rule '" + std::string(topic.rule) + "', it names another");
  }
  count(Kind::rule, &SharingCounters::versions_received);
  auto taken = rules_.merge(db_, *version);
  if (!taken) {
    if (taken.error().code == Errc::invalid_argument) return refuse(Kind::rule, topic.gateway, taken.error().message);
    // The version stays retained: it is taken again at the next connection.
    const log::Subjects about{{log::SubjectKey::rule, version->name}};
    log::component("alerts").error("cannot store the rule {} shared by gateway {}: {}", version->name, topic.gateway,
                                   taken.error().message);
    return;
  }
  if (!*taken) return;
  count(Kind::rule, &SharingCounters::versions_taken);
  const log::Subjects about{{log::SubjectKey::rule, version->name}, {log::SubjectKey::user, version->changed_by}};
  log::component("alerts").info("the alert rule {} was {} by {} on a gateway of the share group (shared by {})",
                                version->name, version->removed() ? "removed" : "added or changed", version->changed_by,
                                topic.gateway);
}

void AlertSharing::handle_silence(const proto::ParsedGatewayTopic& topic, std::string_view payload) {
  auto version = proto::decode_shared_silence(payload);
  if (!version) return refuse(Kind::silence, topic.gateway, version.error().message);
  if (version->rule != topic.rule || version->subject != topic.subject) {
    return refuse(Kind::silence, topic.gateway,
                  "published on the topic of rule '" + std::string(topic.rule) + "' and subject '" +
                      std::string(topic.subject) + "', it names others");
  }
  // As the API checks them: a silence holds back a rule's notifications for a subject.
  if (!alerts::is_valid_rule_name(version->rule) || !is_well_formed_identity(version->subject)) {
    return refuse(Kind::silence, topic.gateway, "its rule or subject is not a valid name");
  }
  // The subject "gateway" names each gateway itself (its disk, its export backlog, the events it
  // counted): silencing one gateway's disk alert says nothing of another's.
  if (!is_group_subject(version->subject)) {
    return refuse(Kind::silence, topic.gateway, "a silence of subject 'gateway' is about that gateway alone");
  }
  count(Kind::silence, &SharingCounters::versions_received);
  const store::SilenceRecord record{.rule = version->rule,
                                    .subject = version->subject,
                                    .until_ms = version->until_ms,
                                    .created_by = version->set_by,
                                    .created_ms = version->set_ms,
                                    .comment = version->comment};
  auto taken = silences_.merge(db_, record);
  const log::Subjects about{{log::SubjectKey::rule, record.rule},
                            {log::SubjectKey::subject, record.subject},
                            {log::SubjectKey::user, record.created_by}};
  if (!taken) {
    // The version stays retained: it is taken again at the next connection.
    log::component("alerts").error("cannot store the silence of {} {} shared by gateway {}: {}", record.rule,
                                   record.subject, topic.gateway, taken.error().message);
    return;
  }
  if (!*taken) return;
  count(Kind::silence, &SharingCounters::versions_taken);
  const bool lifted = record.until_ms <= record.created_ms;
  log::component("alerts").info("the silence of {} {} was {} by {} on a gateway of the share group (shared by {})",
                                record.rule, record.subject, lifted ? "lifted" : "set", record.created_by,
                                topic.gateway);
}

void AlertSharing::refuse(Kind kind, std::string_view gateway, const std::string& why) {
  count(kind, &SharingCounters::versions_rejected);
  const char* const what = kind == Kind::rule ? "rule" : "silence";
  if (auto suppressed = log_.admit(what, std::chrono::steady_clock::now())) {
    log::component("alerts").warn("a {} shared by gateway {} is refused: {} ({} similar suppressed)", what, gateway,
                                  why, *suppressed);
  }
}

void AlertSharing::count(Kind kind, std::uint64_t SharingCounters::*counter) {
  std::lock_guard lock(mutex_);
  SharingCounters& counters = kind == Kind::rule ? counters_.rules : counters_.silences;
  ++(counters.*counter);
}

void AlertSharing::publish_rule(const proto::SharedRule& version) {
  const bool sent = publish_(proto::rule_topic(self_, version.name), proto::encode_shared_rule(version), true);
  count(Kind::rule, sent ? &SharingCounters::versions_published : &SharingCounters::publish_failures);
}

void AlertSharing::publish_silence(const store::SilenceRecord& version) {
  if (!is_group_subject(version.subject)) return;
  const proto::SharedSilence shared{.rule = version.rule,
                                    .subject = version.subject,
                                    .until_ms = version.until_ms,
                                    .set_by = version.created_by,
                                    .set_ms = version.created_ms,
                                    .comment = version.comment};
  const bool sent =
      publish_(proto::silence_topic(self_, version.rule, version.subject), proto::encode_shared_silence(shared), true);
  count(Kind::silence, sent ? &SharingCounters::versions_published : &SharingCounters::publish_failures);
}

AlertSharingCounters AlertSharing::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

}  // namespace kelvin::gateway
