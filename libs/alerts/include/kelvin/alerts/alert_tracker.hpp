#pragma once
// The life of alerts between evaluations (docs/alerts.md): a condition that holds is pending until
// it has held for the rule's `for_ms`, then fires once; a firing alert resolves when its condition
// clears, when its subject is gone, or when its rule is removed. Each (rule, subject) fires at most
// once per episode, whatever the number of evaluations. No I/O and no clock: the time is the facts'.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kelvin/alerts/alert_conditions.hpp"
#include "kelvin/alerts/alert_rule.hpp"

namespace kelvin::alerts {

struct Transition {
  enum class Type { fired, resolved };
  Type type = Type::fired;
  std::string rule{};
  RuleKind kind = RuleKind::threshold;  // fired: the rule's kind; resolved by a removed rule: unknown, threshold
  std::string subject{};
  std::int64_t at_ms = 0;
  std::optional<double> value{};  // the observation that fired or cleared it; nullopt when gone
  std::string summary{};
  std::string resolution{};  // resolved: "condition cleared", "subject gone", "rule removed"
};

class AlertTracker {
 public:
  // An alert that fires already (read back from alerts.db after a restart): it resolves or stays by
  // the next evaluations, and never fires again while it lasts.
  void restore_firing(const std::string& rule, const std::string& subject);
  // Forgets (rule, subject): a firing that could not be recorded fires again at the next
  // evaluation that sees its condition (after the rule's for_ms anew).
  void forget(const std::string& rule, const std::string& subject);

  // Evaluates every rule against `facts` (observe()) and returns the transitions, in rule order:
  // alerts of rules no longer in `rules` resolve first. The time of every transition is
  // facts.now_ms.
  std::vector<Transition> evaluate(std::span<const AlertRule> rules, const Facts& facts);

  // How many alerts fire now, per rule name (rules with none left out).
  std::map<std::string, std::size_t> firing_by_rule() const;

 private:
  struct Tracked {
    bool firing = false;
    std::int64_t pending_since_ms = 0;  // not firing: since when the condition has held
  };
  using Key = std::pair<std::string, std::string>;  // rule, subject
  using TrackedMap = std::map<Key, Tracked>;

  void evaluate_rule(const AlertRule& rule, const Facts& facts, std::vector<Transition>& out);
  // Forgets `it`, resolving it with `resolution` if it fires; returns the next entry.
  TrackedMap::iterator forget(TrackedMap::iterator it, RuleKind kind, std::int64_t now_ms, const char* resolution,
                              std::vector<Transition>& out);

  TrackedMap tracked_;  // pending and firing only
};

}  // namespace kelvin::alerts
