#pragma once
// The alert rules in effect (docs/alerts.md, "Rules"): the config file's (the defaults and the
// [[alerts.rule]] tables), fixed for the life of the process, followed by the rules operators added
// through the HTTPS API, which alerts.db keeps. The alert engine judges by the book's rules
// (AlertEngine::use_rules is told of every change); the rule routes list and change them here.
//
// Only added rules change through the book: a configured rule is changed in the config file, and
// an added rule cannot take a configured rule's name. Each gateway keeps its added rules in its own
// alerts.db; the gateways of a share group exchange them (alert_sharing.hpp): every change made here
// is a version of the rule (proto::SharedRule) the shared listener is told of, and merge() takes a
// version from another gateway when it supersedes the one stored here. A removal is kept as a
// version too, so a removed rule is not brought back by a gateway that has not heard of it yet.
//
// Threads: rules(), entries() and find() from any thread. Changes run one at a time: each holds the
// change mutex from its write to alerts.db to the listener's return, so listeners see the changes
// in the order they were stored. Lock order: the change mutex, then the book's state mutex (a
// leaf); the listener is called with the change mutex only.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "kelvin/alerts/alert_rule.hpp"
#include "kelvin/core/result.hpp"
#include "kelvin/proto/gateway_messages.hpp"
#include "kelvin/store/alert_db.hpp"

namespace kelvin::gateway {

struct RuleEntry {
  alerts::AlertRule rule{};
  std::optional<store::AddedRuleRecord> added{};  // nullopt: from the config file
};

// What a change did, or why it did nothing.
enum class RuleChange {
  done,
  name_taken,    // add: a rule of that name exists (configured or added)
  too_many,      // add: kMaxAddedRules are there already
  not_found,     // change, remove: no rule of that name
  configured,    // change, remove: the rule comes from the config file
  kind_changed,  // change: a rule keeps its kind (remove it and add another)
};

// Whether version `a` of a rule supersedes version `b` of it: the later change wins; at the same
// millisecond a removal wins, then the larger definition, so every gateway picks the same one.
// The gateways' clocks decide "later": they are expected to agree to within seconds (NTP).
bool supersedes(const proto::SharedRule& a, const proto::SharedRule& b);

class AlertRuleBook {
 public:
  // Added rules at most: each is judged against every device at every evaluation.
  static constexpr std::size_t kMaxAddedRules = 100;
  using Listener = std::function<void(std::vector<alerts::AlertRule>)>;
  using SharedListener = std::function<void(const proto::SharedRule&)>;

  explicit AlertRuleBook(std::vector<alerts::AlertRule> configured);

  // Reads the added rules from `db` (at start, before any change). A stored rule the book cannot
  // take is left out, logged as an error, and stays in alerts.db: one whose definition this version
  // refuses (remove() still removes it), or one whose name the config file took since (the
  // configured rule wins; the added one is taken again once the config file's rule is gone).
  Result<void> load(store::AlertDb& db);

  // Called with the new rules after each change is stored. Set it before the first change.
  void on_change(Listener listener);
  // Called with the new version of a rule after each change stored (added, changed, removed here,
  // or taken by merge()), after the listener. Set it before the first change.
  void on_shared_change(SharedListener listener);

  std::vector<alerts::AlertRule> rules() const;  // configured first, then added, in order
  std::vector<RuleEntry> entries() const;        // the same, with where each comes from
  std::optional<RuleEntry> find(std::string_view name) const;

  // A change made here is stamped `now_ms`, or just after the version of the rule's name already
  // stored if that is later (a version from a gateway whose clock is ahead), so it supersedes it.

  // Stores `rule` as added by `user`, then tells the listener.
  Result<RuleChange> add(store::AlertDb& db, const alerts::AlertRule& rule, std::string_view user, std::int64_t now_ms);
  // Replaces the added rule of `rule.name` with `rule`, then tells the listener.
  Result<RuleChange> change(store::AlertDb& db, const alerts::AlertRule& rule, std::string_view user,
                            std::int64_t now_ms);
  // Removes the added rule `name` as `user`, then tells the listener. A stored rule the book left
  // out at load is removed too (done).
  Result<RuleChange> remove(store::AlertDb& db, std::string_view name, std::string_view user, std::int64_t now_ms);

  // Stores `version`, another gateway's, when it supersedes the version of its name stored here (or
  // there is none), then tells both listeners; false when it does not. Errc::invalid_argument for a
  // rule this gateway cannot read (its name, or a definition refused as the API would refuse it).
  // A rule whose name the config file has is stored but not judged (see load()).
  Result<bool> merge(store::AlertDb& db, const proto::SharedRule& version);
  // The version of every rule name stored: the added rules, then the removals.
  static Result<std::vector<proto::SharedRule>> versions(store::AlertDb& db);

 private:
  // Reads the added rules back after a change, publishes them to readers and tells the listener.
  Result<void> reload_and_tell(store::AlertDb& db);
  enum class LogRefused { no, yes };
  // The stored rules the book takes (see load()); those it leaves out are logged when asked.
  std::vector<RuleEntry> read_added(const std::vector<store::AddedRuleRecord>& stored, LogRefused log_refused) const;
  bool is_configured(std::string_view name) const;
  // Tells the shared listener of `version`, now stored.
  void tell_shared(const proto::SharedRule& version) const;

  // The version of `name` stored, if any.
  static Result<std::optional<proto::SharedRule>> stored_version(store::AlertDb& db, std::string_view name);
  // The time to stamp a change made at `now_ms` to a rule whose stored version is `stored` (see above).
  static std::int64_t change_time(const std::optional<proto::SharedRule>& stored, std::int64_t now_ms);

  const std::vector<alerts::AlertRule> configured_;
  std::mutex change_mutex_;  // held by each change, from its write to the listener's return
  Listener listener_;
  SharedListener shared_listener_;

  mutable std::mutex mutex_;  // guards added_; a leaf
  std::vector<RuleEntry> added_;
};

}  // namespace kelvin::gateway
