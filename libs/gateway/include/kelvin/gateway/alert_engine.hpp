#pragma once
// The gateway's alerts (docs/alerts.md): every `interval` the engine gathers what the rules need
// (the devices from the store, the readings committed since its last look, the certificates in
// use, the gateway's free space and export backlog), evaluates the rules (libs/alerts), and writes
// each transition to alerts.db: an alert that fires is recorded once, and resolved once.
//
// Threads: one thread of its own owns the engine's connections (alerts.db and the telemetry store)
// and does every evaluation and write. The readings come from the ingest's commit listener
// (on_commit, the commit thread), which only folds them into per-device extremes under a leaf mutex:
// the ingest never waits for the engine.
//
// Each alert's latest state is also published retained on alerts/{rule}/{subject} (the alert's
// JSON, as the API gives it) for integrations the broker's ACL lets read it. A publication that
// fails (not connected) is tried again at each evaluation, and at each (re)connection the newest
// alert of every rule and subject is published again, so the broker ends up with every alert's
// latest state whatever was missed. In a share group the same publication also tells the other
// gateways of it (share_states_with, notification_referee.hpp).
//
// After a restart the engine reads the firing alerts back from alerts.db, so an alert that still
// holds is not raised again, and one whose condition ended meanwhile resolves at the first
// evaluation (one whose rule was removed from the configuration, at once).
//
// The rules can change while the engine runs (use_rules: an operator added, changed or removed one
// through the API). The next evaluation, which the change brings forward, judges by the new rules:
// a removed rule's firing alerts resolve ("rule removed"), and a changed rule's firing alerts are
// judged by its new definition.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kelvin/alerts/alert_conditions.hpp"
#include "kelvin/alerts/alert_rule.hpp"
#include "kelvin/alerts/alert_tracker.hpp"
#include "kelvin/alerts/event_rates.hpp"
#include "kelvin/core/result.hpp"
#include "kelvin/gateway/client_records.hpp"
#include "kelvin/gateway/rate_limited_log.hpp"
#include "kelvin/gateway/retained_publisher.hpp"
#include "kelvin/store/alert_db.hpp"
#include "kelvin/store/store.hpp"

namespace kelvin::gateway {

struct AlertEngineOptions {
  std::vector<alerts::AlertRule> rules = alerts::default_rules();  // at the start (see use_rules)
  std::chrono::milliseconds interval{10'000};                      // between evaluations
  int history_days = 90;                                           // resolved alerts older than this are forgotten
  std::vector<std::string> webhooks{};  // each transition queues a delivery to each (webhook_sender.hpp)
};

struct AlertEngineCounters {
  std::map<std::string, std::uint64_t> firing{};  // by rule (every rule), as the last evaluation left them
  std::uint64_t fired = 0;
  std::uint64_t resolved = 0;
  std::uint64_t evaluations = 0;
  std::uint64_t database_failures = 0;  // a transition or a read of the facts that failed
  std::uint64_t publish_failures = 0;   // retained alert messages that could not be queued (tried again)
};

// What the engine asks of the rest of the gateway at each evaluation, on its own thread: the
// certificates in use, the gateway's own figures (free space, export backlog, the CRL, the
// counters of refusals and broker exits), and the failed updates and active rollouts and the
// certificates devices connected with (asked only when a rule watches them).
struct AlertFactSources {
  std::function<std::optional<std::vector<alerts::CertificateFacts>>()> certificates{};  // nullopt: unreadable
  std::function<alerts::GatewayFacts()> gateway{};      // without the events' rates, which the engine keeps
  std::function<alerts::EventCounts()> event_counts{};  // the counters of events, since the start
  std::function<Result<alerts::UpdateFacts>()> updates{};
  // What the gateway learned of each client's connections (client_records.hpp); asked only when a
  // superseded_certificate or device_acl_denials rule exists.
  std::function<std::map<std::string, ClientRecord, std::less<>>()> clients{};
};

class AlertEngine {
 public:
  // `publish` may be empty: no MQTT publication.
  AlertEngine(std::filesystem::path alerts_db, std::filesystem::path store_file, store::StoreOptions store_options,
              AlertFactSources sources, RetainedPublisher publish, AlertEngineOptions options,
              std::function<std::int64_t()> clock = nullptr);
  ~AlertEngine();  // stop()s
  AlertEngine(const AlertEngine&) = delete;
  AlertEngine& operator=(const AlertEngine&) = delete;

  // Opens alerts.db (creating it) and the store, reads the firing alerts back, and starts the
  // thread, whose first evaluation is at once.
  Result<void> start();
  void stop();  // idempotent

  // The ingest's commit listener (commit thread): the newly stored readings join their device's
  // window until the next evaluation (only when a threshold rule will judge them).
  void on_commit(const store::IngestBatch& batch, const store::CommitSummary& summary);

  // Thread-safe: publish every alert's latest state again, at once (the gateway connected).
  void republish();

  // Before start(): each alert's latest state is also handed to `share` wherever it is published
  // (the gateways of a share group, notification_referee.hpp). false: tried again as a failed
  // publication is.
  void share_states_with(std::function<bool(const store::AlertRecord&)> share);

  // Thread-safe: judge by `rules` from now on, starting with an evaluation at once.
  void use_rules(std::vector<alerts::AlertRule> rules);

  AlertEngineCounters counters() const;

  // alerts/{rule}/{subject}; characters MQTT gives a meaning in a topic level ('/', '+', '#') or
  // forbids (NUL) in the subject become '_'.
  static std::string topic(const std::string& rule, const std::string& subject);

 private:
  using Windows =
      std::map<std::string, std::array<std::optional<alerts::Extremes>, proto::kQuantityCount>, std::less<>>;

  using Rules = std::shared_ptr<const std::vector<alerts::AlertRule>>;

  void run();
  void evaluate();
  // The facts `rules` need at this evaluation; nullopt when the store could not be read.
  std::optional<alerts::Facts> gather(const std::vector<alerts::AlertRule>& rules, Windows windows);
  // A device's count that only grows, as followed from one evaluation to the next.
  struct GrowthWatch {
    std::optional<std::uint64_t> total{};  // as last seen; nullopt: never
    std::optional<std::int64_t> grew_ms{};
    std::uint64_t grew_by = 0;
    std::int64_t seen_ms = 0;  // the evaluation that last listed the device
  };
  // Follows `device`'s `total` in `watches` into `out`. A device seen for the first time is compared
  // with `first_baseline` (nullopt: its first count is taken as it is, not as growth).
  static void follow(std::map<std::string, GrowthWatch, std::less<>>& watches, const std::string& device,
                     std::uint64_t total, std::optional<std::uint64_t> first_baseline, std::int64_t now_ms,
                     alerts::CountGrowth& out);
  void record(const alerts::Transition& transition);
  // Publishes `alert`'s state; false (remembered, tried again at the next evaluation) when it
  // could not be queued.
  bool publish(const store::AlertRecord& alert);
  void publish_pending(bool everything);
  void forget_old_alerts(std::int64_t now_ms);
  void count_database_failure(const Error& error);

  const std::filesystem::path alerts_db_file_;
  const std::filesystem::path store_file_;
  const store::StoreOptions store_options_;
  const AlertFactSources sources_;
  const RetainedPublisher publish_;
  std::function<bool(const store::AlertRecord&)> share_{};  // set before start()
  const AlertEngineOptions options_;
  const std::function<std::int64_t()> clock_;
  // Whether a rule judges readings (a threshold): without one the commit listener does nothing.
  // Set with rules_; read by the commit thread without the mutex.
  std::atomic<bool> judges_readings_{false};

  mutable std::mutex mutex_;  // guards the members below it; a leaf
  std::condition_variable wake_;
  Rules rules_;  // the rules in effect; evaluations take the current ones at their start
  bool stopping_ = false;
  bool republish_ = true;       // every alert's state is published at the first evaluation
  bool rules_changed_ = false;  // use_rules: evaluate at once
  Windows windows_;             // readings since the last evaluation
  AlertEngineCounters counters_;

  // The engine's thread only.
  std::optional<store::AlertDb> db_{};
  std::optional<store::Store> store_{};
  alerts::AlertTracker tracker_;
  alerts::EventRates event_rates_;
  std::map<std::pair<std::string, std::string>, std::int64_t> firing_ids_;   // (rule, subject) → alert id
  std::map<std::pair<std::string, std::string>, std::int64_t> unpublished_;  // (rule, subject) → alert id
  std::int64_t last_forget_ms_ = 0;
  // Each device's dropped count and ACL denials as last seen, and their latest growth. A device
  // whose outbox_drops or device_acl_denials alert fired before a restart counts as growing at the
  // start, so its alert lasts the rule's quiet time unless the count grows again.
  std::map<std::string, GrowthWatch, std::less<>> drops_;
  std::map<std::string, GrowthWatch, std::less<>> acl_denials_;
  RateLimitedLog log_;
  std::thread thread_;
};

}  // namespace kelvin::gateway
