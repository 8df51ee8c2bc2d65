#pragma once
// Alerts (docs/alerts.md): every alert the gateway raised, firing or resolved, in its own SQLite
// file (alerts.db, mode 0600, next to the telemetry store). Persistence only: which condition fires
// or resolves an alert is libs/alerts'; the gateway's alert engine is the only writer of
// transitions, the HTTPS routes acknowledge and read.
//
// An alert is one episode of one rule's condition on one subject (a device, a certificate's name,
// or "gateway"): it starts firing and, later, is resolved; a new episode is a new alert. At most
// one alert per (rule, subject) is firing at a time, enforced by a partial unique index, so a
// restart, a second engine or a retried write can never raise the same alert twice.
//
// Expected failures return Result; nothing throws. One connection: use from one thread at a time.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kelvin/core/result.hpp"

namespace kelvin::store {

enum class AlertState { firing, resolved };

// "firing", "resolved": the names the API and the database use.
std::string_view to_string(AlertState state) noexcept;
std::optional<AlertState> parse_alert_state(std::string_view name) noexcept;

struct AlertRecord {
  std::int64_t id = 0;    // assigned by fire(), increasing
  std::string rule{};     // the rule's name from the configuration
  std::string kind{};     // the rule's kind ("threshold", "device_offline", ...)
  std::string subject{};  // a device id, a certificate's name, or "gateway"
  AlertState state = AlertState::firing;
  std::int64_t started_ms = 0;
  std::optional<std::int64_t> ended_ms{};  // resolved: when
  // The observed value that fired it (a temperature, seconds of silence, days left, bytes free);
  // nullopt for a condition without one.
  std::optional<double> value{};
  std::string summary{};          // one line for people: "temperature 31.2 °C above 30 for 60 s"
  std::string resolution{};       // resolved: why ("condition cleared", "rule removed", "subject gone")
  std::string acknowledged_by{};  // a user; empty while unacknowledged
  std::optional<std::int64_t> acknowledged_ms{};
};

// One notification owed to a webhook (docs/alerts.md, "Webhooks"): an alert's transition, kept in
// alerts.db until it is delivered or given up.
struct Delivery {
  std::int64_t id = 0;  // increasing; the receiver's key against a repeat (X-Kelvin-Delivery)
  std::string webhook{};
  std::string event{};  // "fired", "resolved"
  AlertRecord alert{};  // as it is now (a resolved alert's "fired" delivery shows it resolved)
  std::int64_t attempts = 0;
  std::int64_t created_ms = 0;
};

struct DeliveryCounts {
  std::uint64_t pending = 0;
  std::uint64_t dead = 0;  // given up after their attempts
};

// An operator's silence (docs/alerts.md, "Silences"): the transitions of `rule` on `subject` queue
// no webhook delivery while it lasts (until `until_ms`). The alerts themselves fire and resolve as
// ever.
//
// The gateways of a share group keep the same silences (docs/scaling.md): the newest silence of a
// (rule, subject) here is its version, which another gateway's newer version replaces
// (take_silence). A lift is a version too: it ends the silence when it was lifted.
struct SilenceRecord {
  std::int64_t id = 0;  // assigned by silence(); each gateway numbers its own
  std::string rule{};
  std::string subject{};
  std::int64_t until_ms = 0;
  std::string created_by{};  // the user who set it, changed its end or lifted it last, and when
  std::int64_t created_ms = 0;
  std::string comment{};
};

// Whether version `a` of a (rule, subject)'s silence supersedes version `b` of it: the later change
// (created_ms) wins; at the same millisecond the earlier end (a lift beats the silence it ends),
// then the larger user and comment, so every gateway picks the same one. The gateways' clocks
// decide "later": they are expected to agree to within seconds (NTP).
bool supersedes(const SilenceRecord& a, const SilenceRecord& b);

// A rule an operator added through the HTTPS API (docs/alerts.md, "Rules"). The store keeps its
// definition as the rule's JSON object, as the API gives it, and does not read it: the gateway
// checks a definition before it is stored and again when it reads it back. Rules from the config
// file are never stored.
struct AddedRuleRecord {
  std::string name{};
  std::string definition{};
  std::string created_by{};
  std::int64_t created_ms = 0;
  std::string updated_by{};  // the user who last changed it (created_by until then)
  std::int64_t updated_ms = 0;
};

// The removal of a rule operators had added: kept so that gateways sharing their rules
// (docs/scaling.md) can tell a rule removed from one they have not heard of.
struct RemovedRuleRecord {
  std::string name{};
  std::string removed_by{};
  std::int64_t removed_ms = 0;
};

// Which alerts list() returns, newest first (by id).
struct AlertQuery {
  std::optional<AlertState> state{};        // nullopt: both
  std::optional<std::string> subject{};     // only this subject's
  std::optional<std::int64_t> before_id{};  // only ids below this (the next page)
  std::size_t limit = 100;                  // at most this many; 1..1000
};

class AlertDb {
 public:
  // Opens or creates `db_file` (0600). Errc::corrupt for a file that is not kelvin's alerts
  // database, Errc::conflict for a newer schema, io/permission_denied when it cannot be opened.
  static Result<AlertDb> open(const std::filesystem::path& db_file, int busy_timeout_ms = 5000);
  AlertDb(AlertDb&&) noexcept;
  AlertDb& operator=(AlertDb&&) noexcept;
  ~AlertDb();

  // Records a new firing alert (`alert.state`, `ended_ms`, `resolution` and the acknowledgement are
  // ignored), with a pending "fired" delivery for each of `webhooks` (none while a silence of its
  // rule and subject lasts), in one transaction, and
  // returns it with its id. When (rule, subject) already has a firing alert, that one is returned
  // unchanged instead, and nothing is queued: a firing alert is never duplicated.
  Result<AlertRecord> fire(const AlertRecord& alert, std::span<const std::string> webhooks = {});

  // Resolves a firing alert at `ended_ms` with `resolution`, with a pending "resolved" delivery for
  // each of `webhooks` (none while a silence lasts), in one transaction. false (nothing queued) when `id` is not
  // firing.
  Result<bool> resolve(std::int64_t id, std::int64_t ended_ms, std::string_view resolution,
                       std::span<const std::string> webhooks = {});

  // The webhooks' queue. Pending deliveries due at `now_ms`, the longest due first, at most `limit`.
  Result<std::vector<Delivery>> due_deliveries(std::int64_t now_ms, std::size_t limit);
  Result<void> delivered(std::int64_t delivery_id, std::int64_t at_ms);
  // A failed attempt: tried again at `next_attempt_ms`, or, nullopt, given up (dead) for good.
  Result<void> delivery_failed(std::int64_t delivery_id, std::string_view error,
                               std::optional<std::int64_t> next_attempt_ms);
  // A pending delivery not to be sent before `until_ms` (without counting an attempt): its
  // transition waits to be judged (gateway/notification_referee.hpp).
  Result<void> postpone_delivery(std::int64_t delivery_id, std::int64_t until_ms);
  // A pending delivery that another gateway of the share group, `peer`, notifies instead: it is
  // kept, in state 'peer', and never sent by this gateway.
  Result<void> leave_delivery_to_peer(std::int64_t delivery_id, std::string_view peer, std::int64_t at_ms);
  Result<DeliveryCounts> delivery_counts();

  // An operator's acknowledgement (firing or resolved); the first one stays. false when unknown or
  // already acknowledged.
  Result<bool> acknowledge(std::int64_t id, std::string_view user, std::int64_t at_ms);

  Result<std::vector<AlertRecord>> list(const AlertQuery& query = {});
  Result<std::vector<AlertRecord>> firing();  // every firing alert, oldest first
  // The newest alert of every (rule, subject), firing or resolved, oldest first: the state each
  // one's retained MQTT message should show.
  Result<std::vector<AlertRecord>> latest_per_subject();
  Result<std::optional<AlertRecord>> alert(std::int64_t id);
  // How many alerts are firing per rule, sorted by rule name.
  Result<std::vector<std::pair<std::string, std::uint64_t>>> firing_by_rule();

  // Silences (rule, subject) until `silence.until_ms`, as of `now_ms`: the active silence of the
  // pair, if any, gets the new end, user and comment; otherwise one is added. Returns it with its
  // id. It is stamped `now_ms`, or just after the pair's newest version if that is later (one from
  // a gateway whose clock is ahead), so it supersedes it. Errc::invalid_argument when it would end
  // by `now_ms` or names no user.
  Result<SilenceRecord> silence(const SilenceRecord& silence, std::int64_t now_ms);
  // The silences lasting past `now_ms`, by rule and subject.
  Result<std::vector<SilenceRecord>> active_silences(std::int64_t now_ms);
  // Ends silence `id` at `now_ms`, lifted by `user` (stamped as silence() stamps), and returns it as
  // it is now; nullopt when unknown or over already. Errc::invalid_argument when it names no user.
  Result<std::optional<SilenceRecord>> lift_silence(std::int64_t id, std::string_view user, std::int64_t now_ms);
  // Another gateway's version of a silence (its id is ignored): stored in place of the pair's newest
  // silence here when it supersedes it, or added when the pair has none; false when it does not
  // supersede. Errc::invalid_argument when it names no user.
  Result<bool> take_silence(const SilenceRecord& version);
  // The newest silence of every (rule, subject) kept, lasting or over: the versions to share.
  Result<std::vector<SilenceRecord>> silence_versions();

  // Added rules, in the order they were added.
  Result<std::vector<AddedRuleRecord>> added_rules();
  // Adds `rule` (its updated_* are set to its created_*) and forgets an earlier removal of its
  // name; false when a rule of its name exists. Errc::invalid_argument when it names no user or
  // has no definition.
  Result<bool> add_rule(const AddedRuleRecord& rule);
  // Gives rule `name` a new definition, changed by `user` at `at_ms`; false when there is none.
  Result<bool> change_rule(std::string_view name, std::string_view definition, std::string_view user,
                           std::int64_t at_ms);
  // Removes the rule `removal.name` and keeps the removal (replacing an earlier one of the name);
  // false when there was no such rule (the removal is kept all the same).
  Result<bool> remove_rule(const RemovedRuleRecord& removal);
  // Stores `rule` as it is, all its fields, in place of a rule of its name (which keeps its place
  // in the order) or after the others, and forgets an earlier removal of its name: another
  // gateway's version of the rule.
  Result<void> put_rule(const AddedRuleRecord& rule);
  // The removals kept, by name.
  Result<std::vector<RemovedRuleRecord>> removed_rules();

  // Retention: deletes resolved alerts that ended before `ended_before_ms`, and silences that ended
  // before `silences_ended_before_ms` (nullopt: the same time); returns how many alerts. Firing
  // alerts are never deleted.
  Result<std::uint64_t> forget_resolved(std::int64_t ended_before_ms,
                                        std::optional<std::int64_t> silences_ended_before_ms = std::nullopt);

  class Impl;

 private:
  explicit AlertDb(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kelvin::store
