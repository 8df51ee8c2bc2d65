#include "kelvin/alerts/alert_tracker.hpp"

#include <set>

namespace kelvin::alerts {

void AlertTracker::restore_firing(const std::string& rule, const std::string& subject) {
  tracked_[{rule, subject}] = Tracked{.firing = true};
}

void AlertTracker::forget(const std::string& rule, const std::string& subject) {
  tracked_.erase({rule, subject});
}

std::vector<Transition> AlertTracker::evaluate(std::span<const AlertRule> rules, const Facts& facts) {
  std::vector<Transition> out;
  std::set<std::string, std::less<>> names;
  for (const AlertRule& rule : rules) names.insert(rule.name);
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    if (names.contains(it->first.first)) {
      ++it;
      continue;
    }
    it = forget(it, RuleKind::threshold, facts.now_ms, "rule removed", out);
  }
  for (const AlertRule& rule : rules) evaluate_rule(rule, facts, out);
  return out;
}

void AlertTracker::evaluate_rule(const AlertRule& rule, const Facts& facts, std::vector<Transition>& out) {
  const auto transition = [&](Transition::Type type, const Observation& observation, std::string resolution) {
    out.push_back({.type = type,
                   .rule = rule.name,
                   .kind = rule.kind,
                   .subject = observation.subject,
                   .at_ms = facts.now_ms,
                   .value = observation.value,
                   .summary = observation.summary,
                   .resolution = std::move(resolution)});
  };
  const auto observations = observe(rule, facts);
  if (!observations) return;  // nothing known: every alert of the rule stays as it is
  std::set<std::string, std::less<>> observed;
  for (const Observation& observation : *observations) {
    observed.insert(observation.subject);
    const Key key{rule.name, observation.subject};
    auto found = tracked_.find(key);
    if (found != tracked_.end() && found->second.firing) {
      if (observation.verdict == Verdict::clear) {
        transition(Transition::Type::resolved, observation, "condition cleared");
        tracked_.erase(found);
      }
      continue;
    }
    switch (observation.verdict) {
      case Verdict::breach: {
        if (found == tracked_.end()) found = tracked_.emplace(key, Tracked{.pending_since_ms = facts.now_ms}).first;
        if (facts.now_ms - found->second.pending_since_ms >= rule.for_ms) {
          found->second.firing = true;
          transition(Transition::Type::fired, observation, "");
        }
        break;
      }
      case Verdict::hold:
      case Verdict::clear:
        if (found != tracked_.end()) tracked_.erase(found);
        break;
      case Verdict::unknown:
        break;
    }
  }
  // A subject the rule no longer watches (a device removed or out of its scope, a certificate
  // reissued under another name): its alert resolves, its pending condition is forgotten.
  for (auto it = tracked_.lower_bound({rule.name, ""}); it != tracked_.end() && it->first.first == rule.name;) {
    if (observed.contains(it->first.second)) {
      ++it;
      continue;
    }
    it = forget(it, rule.kind, facts.now_ms, "subject gone", out);
  }
}

AlertTracker::TrackedMap::iterator AlertTracker::forget(TrackedMap::iterator it, RuleKind kind, std::int64_t now_ms,
                                                        const char* resolution, std::vector<Transition>& out) {
  if (it->second.firing) {
    out.push_back({.type = Transition::Type::resolved,
                   .rule = it->first.first,
                   .kind = kind,
                   .subject = it->first.second,
                   .at_ms = now_ms,
                   .resolution = resolution});
  }
  return tracked_.erase(it);
}

std::map<std::string, std::size_t> AlertTracker::firing_by_rule() const {
  std::map<std::string, std::size_t> counts;
  for (const auto& [key, tracked] : tracked_) {
    if (tracked.firing) ++counts[key.first];
  }
  return counts;
}

}  // namespace kelvin::alerts
