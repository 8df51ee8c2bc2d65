#include "kelvin/gateway/alert_rule_book.hpp"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>

#include "alert_json.hpp"
#include "kelvin/gateway/alert_rule_config.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/log/subject.hpp"

namespace kelvin::gateway {
namespace {

// A stored definition is the rule's JSON as the API gives it (rule_json): every key the config
// reader takes back, so a rule reads back as it was given.
std::string definition_of(const alerts::AlertRule& rule) {
  return rule_json(rule).dump();
}

proto::SharedRule version_of(const store::AddedRuleRecord& rule) {
  return proto::SharedRule{.name = rule.name,
                           .definition = rule.definition,
                           .created_by = rule.created_by,
                           .created_ms = rule.created_ms,
                           .changed_by = rule.updated_by,
                           .changed_ms = rule.updated_ms};
}

proto::SharedRule version_of(const store::RemovedRuleRecord& removal) {
  return proto::SharedRule{.name = removal.name, .changed_by = removal.removed_by, .changed_ms = removal.removed_ms};
}

}  // namespace

bool supersedes(const proto::SharedRule& a, const proto::SharedRule& b) {
  if (a.changed_ms != b.changed_ms) return a.changed_ms > b.changed_ms;
  if (a.removed() != b.removed()) return a.removed();
  const auto order = [](const proto::SharedRule& v) {
    return std::tie(*v.definition, v.changed_by, v.created_ms, v.created_by);
  };
  if (a.removed()) return a.changed_by > b.changed_by;
  return order(a) > order(b);
}

AlertRuleBook::AlertRuleBook(std::vector<alerts::AlertRule> configured) : configured_(std::move(configured)) {}

Result<void> AlertRuleBook::load(store::AlertDb& db) {
  auto stored = db.added_rules();
  if (!stored) return std::move(stored).error();
  auto added = read_added(*stored, LogRefused::yes);
  std::lock_guard lock(mutex_);
  added_ = std::move(added);
  return {};
}

void AlertRuleBook::on_change(Listener listener) {
  std::lock_guard lock(change_mutex_);
  listener_ = std::move(listener);
}

void AlertRuleBook::on_shared_change(SharedListener listener) {
  std::lock_guard lock(change_mutex_);
  shared_listener_ = std::move(listener);
}

std::vector<alerts::AlertRule> AlertRuleBook::rules() const {
  std::vector<alerts::AlertRule> rules = configured_;
  std::lock_guard lock(mutex_);
  for (const auto& entry : added_) rules.push_back(entry.rule);
  return rules;
}

std::vector<RuleEntry> AlertRuleBook::entries() const {
  std::vector<RuleEntry> entries;
  for (const auto& rule : configured_) entries.push_back(RuleEntry{rule, std::nullopt});
  std::lock_guard lock(mutex_);
  entries.insert(entries.end(), added_.begin(), added_.end());
  return entries;
}

std::optional<RuleEntry> AlertRuleBook::find(std::string_view name) const {
  for (const auto& rule : configured_) {
    if (rule.name == name) return RuleEntry{rule, std::nullopt};
  }
  std::lock_guard lock(mutex_);
  for (const auto& entry : added_) {
    if (entry.rule.name == name) return entry;
  }
  return std::nullopt;
}

Result<RuleChange> AlertRuleBook::add(store::AlertDb& db, const alerts::AlertRule& rule, std::string_view user,
                                      std::int64_t now_ms) {
  std::lock_guard change_lock(change_mutex_);
  if (find(rule.name)) return RuleChange::name_taken;
  {
    std::lock_guard lock(mutex_);
    if (added_.size() >= kMaxAddedRules) return RuleChange::too_many;
  }
  auto stored = stored_version(db, rule.name);  // a removal, or a rule the book left out at load
  if (!stored) return std::move(stored).error();
  const store::AddedRuleRecord record{.name = rule.name,
                                      .definition = definition_of(rule),
                                      .created_by = std::string(user),
                                      .created_ms = change_time(*stored, now_ms)};
  auto added = db.add_rule(record);
  if (!added) return std::move(added).error();
  // A stored rule the book left out at load holds the name.
  if (!*added) return RuleChange::name_taken;
  if (auto told = reload_and_tell(db); !told) return std::move(told).error();
  tell_shared(proto::SharedRule{.name = record.name,
                                .definition = record.definition,
                                .created_by = record.created_by,
                                .created_ms = record.created_ms,
                                .changed_by = record.created_by,
                                .changed_ms = record.created_ms});
  return RuleChange::done;
}

Result<RuleChange> AlertRuleBook::change(store::AlertDb& db, const alerts::AlertRule& rule, std::string_view user,
                                         std::int64_t now_ms) {
  std::lock_guard change_lock(change_mutex_);
  auto known = find(rule.name);
  if (!known) return RuleChange::not_found;
  if (!known->added) return RuleChange::configured;
  if (known->rule.kind != rule.kind) return RuleChange::kind_changed;
  auto stored = stored_version(db, rule.name);
  if (!stored) return std::move(stored).error();
  if (!*stored || (*stored)->removed()) return RuleChange::not_found;  // removed through another connection
  proto::SharedRule version = std::move(**stored);
  version.definition = definition_of(rule);
  version.changed_by = std::string(user);
  version.changed_ms = change_time(version, now_ms);
  auto changed = db.change_rule(rule.name, *version.definition, user, version.changed_ms);
  if (!changed) return std::move(changed).error();
  if (!*changed) return RuleChange::not_found;
  if (auto told = reload_and_tell(db); !told) return std::move(told).error();
  tell_shared(version);
  return RuleChange::done;
}

Result<RuleChange> AlertRuleBook::remove(store::AlertDb& db, std::string_view name, std::string_view user,
                                         std::int64_t now_ms) {
  std::lock_guard change_lock(change_mutex_);
  if (is_configured(name)) return RuleChange::configured;
  auto stored = stored_version(db, name);
  if (!stored) return std::move(stored).error();
  if (!*stored || (*stored)->removed()) return RuleChange::not_found;
  const store::RemovedRuleRecord removal{
      .name = std::string(name), .removed_by = std::string(user), .removed_ms = change_time(*stored, now_ms)};
  auto removed = db.remove_rule(removal);
  if (!removed) return std::move(removed).error();
  if (auto told = reload_and_tell(db); !told) return std::move(told).error();
  tell_shared(version_of(removal));
  return RuleChange::done;
}

Result<bool> AlertRuleBook::merge(store::AlertDb& db, const proto::SharedRule& version) {
  if (!alerts::is_valid_rule_name(version.name)) {
    return make_error(Errc::invalid_argument, "not a rule name: '" + version.name + "'");
  }
  if (!version.removed()) {
    auto rule = parse_alert_rule_json(*version.definition);
    if (!rule) return make_error(Errc::invalid_argument, "rule " + version.name + ": " + rule.error().message);
    if (rule->name != version.name) return make_error(Errc::invalid_argument, "the definition names another rule");
  }
  std::lock_guard change_lock(change_mutex_);
  auto stored = stored_version(db, version.name);
  if (!stored) return std::move(stored).error();
  if (*stored && !supersedes(version, **stored)) return false;
  if (version.removed()) {
    auto removed = db.remove_rule(store::RemovedRuleRecord{
        .name = version.name, .removed_by = version.changed_by, .removed_ms = version.changed_ms});
    if (!removed) return std::move(removed).error();
  } else {
    auto put = db.put_rule(store::AddedRuleRecord{.name = version.name,
                                                  .definition = *version.definition,
                                                  .created_by = version.created_by,
                                                  .created_ms = version.created_ms,
                                                  .updated_by = version.changed_by,
                                                  .updated_ms = version.changed_ms});
    if (!put) return std::move(put).error();
    if (is_configured(version.name)) {
      const log::Subjects about{{log::SubjectKey::rule, version.name}};
      log::component("alerts").warn(
          "the rule {} another gateway shares is not judged here: this gateway's config file has a rule of that name",
          version.name);
    }
  }
  if (auto told = reload_and_tell(db); !told) return std::move(told).error();
  tell_shared(version);
  return true;
}

Result<std::vector<proto::SharedRule>> AlertRuleBook::versions(store::AlertDb& db) {
  auto added = db.added_rules();
  if (!added) return std::move(added).error();
  auto removed = db.removed_rules();
  if (!removed) return std::move(removed).error();
  std::vector<proto::SharedRule> all;
  all.reserve(added->size() + removed->size());
  for (const auto& rule : *added) all.push_back(version_of(rule));
  for (const auto& removal : *removed) all.push_back(version_of(removal));
  return all;
}

Result<std::optional<proto::SharedRule>> AlertRuleBook::stored_version(store::AlertDb& db, std::string_view name) {
  auto all = versions(db);
  if (!all) return std::move(all).error();
  for (auto& version : *all) {
    if (version.name == name) return std::optional<proto::SharedRule>(std::move(version));
  }
  return std::optional<proto::SharedRule>();
}

std::int64_t AlertRuleBook::change_time(const std::optional<proto::SharedRule>& stored, std::int64_t now_ms) {
  return stored ? std::max(now_ms, stored->changed_ms + 1) : now_ms;
}

void AlertRuleBook::tell_shared(const proto::SharedRule& version) const {
  if (shared_listener_) shared_listener_(version);
}

Result<void> AlertRuleBook::reload_and_tell(store::AlertDb& db) {
  auto stored = db.added_rules();
  if (!stored) return std::move(stored).error();
  auto added = read_added(*stored, LogRefused::no);  // logged once, at load
  {
    std::lock_guard lock(mutex_);
    added_ = std::move(added);
  }
  if (listener_) listener_(rules());
  return {};
}

std::vector<RuleEntry> AlertRuleBook::read_added(const std::vector<store::AddedRuleRecord>& stored,
                                                 LogRefused log_refused) const {
  std::vector<RuleEntry> added;
  for (const auto& record : stored) {
    std::string refused;
    auto rule = parse_alert_rule_json(record.definition);
    if (is_configured(record.name)) {
      refused = "the config file has a rule of that name";
    } else if (!rule) {
      refused = "its stored definition is refused (" + rule.error().message + "); remove it and add it again";
    } else if (rule->name != record.name) {
      refused = "its stored definition names another rule; remove it and add it again";
    }
    if (refused.empty()) {
      added.push_back(RuleEntry{std::move(*rule), record});
    } else if (log_refused == LogRefused::yes) {
      const log::Subjects about{{log::SubjectKey::rule, record.name}};
      log::component("alerts").error("the rule {} added through the API is not judged: {}", record.name, refused);
    }
  }
  return added;
}

bool AlertRuleBook::is_configured(std::string_view name) const {
  return std::any_of(configured_.begin(), configured_.end(),
                     [&](const alerts::AlertRule& rule) { return rule.name == name; });
}

}  // namespace kelvin::gateway
