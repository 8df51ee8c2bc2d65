#include "kelvin/gateway/alert_rule_book.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "alert_json.hpp"
#include "kelvin/gateway/alert_rule_config.hpp"
#include "kelvin/log/log.hpp"

namespace kelvin::gateway {
namespace {

// A stored definition is the rule's JSON as the API gives it (rule_json): every key the config
// reader takes back, so a rule reads back as it was given.
std::string definition_of(const alerts::AlertRule& rule) {
  return rule_json(rule).dump();
}

}  // namespace

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
  auto added = db.add_rule(store::AddedRuleRecord{
      .name = rule.name, .definition = definition_of(rule), .created_by = std::string(user), .created_ms = now_ms});
  if (!added) return std::move(added).error();
  // A stored rule the book left out at load holds the name.
  if (!*added) return RuleChange::name_taken;
  if (auto told = reload_and_tell(db); !told) return std::move(told).error();
  return RuleChange::done;
}

Result<RuleChange> AlertRuleBook::change(store::AlertDb& db, const alerts::AlertRule& rule, std::string_view user,
                                         std::int64_t now_ms) {
  std::lock_guard change_lock(change_mutex_);
  auto known = find(rule.name);
  if (!known) return RuleChange::not_found;
  if (!known->added) return RuleChange::configured;
  if (known->rule.kind != rule.kind) return RuleChange::kind_changed;
  auto changed = db.change_rule(rule.name, definition_of(rule), user, now_ms);
  if (!changed) return std::move(changed).error();
  if (!*changed) return RuleChange::not_found;  // removed through another connection
  if (auto told = reload_and_tell(db); !told) return std::move(told).error();
  return RuleChange::done;
}

Result<RuleChange> AlertRuleBook::remove(store::AlertDb& db, std::string_view name) {
  std::lock_guard change_lock(change_mutex_);
  if (is_configured(name)) return RuleChange::configured;
  auto removed = db.remove_rule(name);
  if (!removed) return std::move(removed).error();
  if (!*removed) return RuleChange::not_found;
  if (auto told = reload_and_tell(db); !told) return std::move(told).error();
  return RuleChange::done;
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
