#include "kelvin/gateway/alert_engine.hpp"

#include <algorithm>
#include <initializer_list>
#include <unordered_map>
#include <utility>

#include "alert_json.hpp"
#include "kelvin/core/thread_name.hpp"
#include "kelvin/gateway/ingest.hpp"
#include "kelvin/gateway/silence_book.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/log/subject.hpp"

namespace kelvin::gateway {
namespace {

constexpr std::int64_t kMsPerDay = 86'400'000;
// Retention of resolved alerts runs at most this often.
constexpr std::int64_t kForgetIntervalMs = 3'600'000;

void widen(std::optional<alerts::Extremes>& extremes, double value) {
  if (!extremes) {
    extremes = alerts::Extremes{.min = value, .max = value};
  } else {
    extremes->min = std::min(extremes->min, value);
    extremes->max = std::max(extremes->max, value);
  }
}

bool watches(const std::vector<alerts::AlertRule>& rules, std::initializer_list<alerts::RuleKind> kinds) {
  return std::any_of(rules.begin(), rules.end(), [&](const alerts::AlertRule& rule) {
    return std::find(kinds.begin(), kinds.end(), rule.kind) != kinds.end();
  });
}

}  // namespace

AlertEngine::AlertEngine(std::filesystem::path alerts_db, std::filesystem::path store_file,
                         store::StoreOptions store_options, AlertFactSources sources, RetainedPublisher publish,
                         AlertEngineOptions options, std::function<std::int64_t()> clock)
    : alerts_db_file_(std::move(alerts_db)),
      store_file_(std::move(store_file)),
      store_options_(std::move(store_options)),
      sources_(std::move(sources)),
      publish_(std::move(publish)),
      options_(std::move(options)),
      clock_(clock ? std::move(clock) : std::function<std::int64_t()>(system_now_ms)),
      judges_readings_(watches(options_.rules, {alerts::RuleKind::threshold})),
      rules_(std::make_shared<const std::vector<alerts::AlertRule>>(options_.rules)) {
  for (const auto& rule : *rules_) counters_.firing[rule.name] = 0;
}

AlertEngine::~AlertEngine() {
  stop();
}

Result<void> AlertEngine::start() {
  auto db = store::AlertDb::open(alerts_db_file_);
  if (!db) return make_error(db.error().code, "alerts: " + db.error().message);
  auto store = store::Store::open(store_file_, store_options_);
  if (!store) return make_error(store.error().code, "alerts: " + store.error().message);
  auto firing = db->firing();
  if (!firing) return make_error(firing.error().code, "alerts: " + firing.error().message);
  const std::int64_t now_ms = clock_();
  for (const auto& alert : *firing) {
    tracker_.restore_firing(alert.rule, alert.subject);
    firing_ids_[{alert.rule, alert.subject}] = alert.id;
    if (alert.kind == alerts::to_string(alerts::RuleKind::outbox_drops)) drops_[alert.subject].grew_ms = now_ms;
    if (alert.kind == alerts::to_string(alerts::RuleKind::device_acl_denials)) {
      acl_denials_[alert.subject].grew_ms = now_ms;
    }
  }
  db_.emplace(std::move(*db));
  store_.emplace(std::move(*store));
  thread_ = core::named_thread("alerts", [this] { run(); });
  return {};
}

void AlertEngine::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AlertEngine::on_commit(const store::IngestBatch& batch, const store::CommitSummary& summary) {
  if (!judges_readings_ || summary.stored == 0) return;
  std::unordered_map<std::string_view, const std::vector<store::SeqRun>*> stored;
  for (const auto& ack : summary.acks) {
    if (!ack.stored.empty()) stored.emplace(ack.device_id, &ack.stored);
  }
  std::lock_guard lock(mutex_);
  for (const auto& item : batch.readings) {
    const auto runs = stored.find(item.device_id);
    if (runs == stored.end() || !store::in_runs(*runs->second, item.reading.seq)) continue;  // not new
    auto window = windows_.find(item.device_id);
    if (window == windows_.end()) window = windows_.try_emplace(item.device_id).first;
    for (std::size_t q = 0; q < proto::kQuantityCount; ++q) {
      if (item.reading.values[q]) widen(window->second[q], *item.reading.values[q]);
    }
  }
}

void AlertEngine::use_rules(std::vector<alerts::AlertRule> rules) {
  {
    std::lock_guard lock(mutex_);
    judges_readings_ = watches(rules, {alerts::RuleKind::threshold});
    rules_ = std::make_shared<const std::vector<alerts::AlertRule>>(std::move(rules));
    rules_changed_ = true;
  }
  wake_.notify_all();
}

void AlertEngine::share_states_with(std::function<bool(const store::AlertRecord&)> share) {
  share_ = std::move(share);
}

void AlertEngine::republish() {
  {
    std::lock_guard lock(mutex_);
    republish_ = true;
  }
  wake_.notify_all();
}

std::string AlertEngine::topic(const std::string& rule, const std::string& subject) {
  std::string level = subject;
  for (char& c : level) {
    if (c == '/' || c == '+' || c == '#' || c == '\0') c = '_';
  }
  return "alerts/" + rule + "/" + level;
}

AlertEngineCounters AlertEngine::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

void AlertEngine::run() {
  for (;;) {
    evaluate();
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, options_.interval, [this] { return stopping_ || republish_ || rules_changed_; });
    if (stopping_) return;
  }
}

void AlertEngine::evaluate() {
  Windows windows;
  bool republish = false;
  Rules rules;
  {
    std::lock_guard lock(mutex_);
    windows.swap(windows_);
    std::swap(republish, republish_);
    rules = rules_;
    rules_changed_ = false;
  }
  auto facts = gather(*rules, std::move(windows));
  if (facts) {
    for (const auto& transition : tracker_.evaluate(*rules, *facts)) record(transition);
    forget_old_alerts(facts->now_ms);
  }
  publish_pending(republish);
  if (!facts) return;
  const auto firing = tracker_.firing_by_rule();
  std::lock_guard lock(mutex_);
  counters_.firing.clear();
  for (const auto& rule : *rules) counters_.firing[rule.name] = 0;
  for (const auto& [rule, count] : firing) counters_.firing[rule] = count;
  ++counters_.evaluations;
}

std::optional<alerts::Facts> AlertEngine::gather(const std::vector<alerts::AlertRule>& rules, Windows windows) {
  // Only what a rule watches is read: rollouts.db for the update rules, the devices' drop counts for
  // outbox_drops, what the broker said of the devices' connections for superseded_certificate and
  // device_acl_denials.
  const bool judges_updates = watches(rules, {alerts::RuleKind::update_failed, alerts::RuleKind::rollout_halted});
  const bool judges_drops = watches(rules, {alerts::RuleKind::outbox_drops});
  const bool judges_denials = watches(rules, {alerts::RuleKind::device_acl_denials});
  std::map<std::string, ClientRecord, std::less<>> clients;
  if (sources_.clients && (judges_denials || watches(rules, {alerts::RuleKind::superseded_certificate}))) {
    clients = sources_.clients();
  }
  auto devices = store_->list_devices();
  if (!devices) {
    // The readings of this window are lost to the rules; the next evaluation judges by newer ones.
    count_database_failure(devices.error());
    return std::nullopt;
  }
  alerts::Facts facts{.now_ms = clock_()};
  facts.devices.reserve(devices->size());
  for (auto& device : *devices) {
    alerts::DeviceFacts& out = facts.devices.emplace_back(alerts::DeviceFacts{
        .id = device.device_id,
        .labels = std::move(device.labels),
        .last_seen_ms = device.last_seen_ms,
        .known_since_ms = device.registered_ms,
        .last_will = device.status && device.status->state == "offline",
    });
    if (auto window = windows.find(out.id); window != windows.end()) out.window = window->second;
    const auto client = clients.find(out.id);
    if (client != clients.end()) {
      out.connection_serial = client->second.certificate_serial;
      out.connection_serials_seen_ms = client->second.certificates_seen_ms;
    }
    if (judges_drops) {
      // The count a device's status has when the engine first sees it is where it stands, not news.
      follow(drops_, out.id, device.status ? device.status->dropped_total : 0, std::nullopt, facts.now_ms, out.drops);
    }
    if (judges_denials) {
      // Denials count from the gateway's start: any at all are news.
      follow(acl_denials_, out.id, client != clients.end() ? client->second.acl_denials : 0, 0, facts.now_ms,
             out.acl_denials);
    }
  }
  for (auto* followed : {&drops_, &acl_denials_}) {
    std::erase_if(*followed, [&](const auto& watched) { return watched.second.seen_ms != facts.now_ms; });  // gone
  }
  if (sources_.certificates) facts.certificates = sources_.certificates();
  if (judges_updates && sources_.updates) {
    // Unreadable: the update rules judge nothing this time, and their alerts stay as they are.
    if (auto updates = sources_.updates()) {
      facts.updates = std::move(*updates);
    } else {
      count_database_failure(updates.error());
    }
  }
  if (sources_.gateway) facts.gateway = sources_.gateway();
  if (sources_.event_counts)
    facts.gateway.events_per_minute = event_rates_.sample(facts.now_ms, sources_.event_counts());
  return facts;
}

void AlertEngine::follow(std::map<std::string, GrowthWatch, std::less<>>& watches, const std::string& device,
                         std::uint64_t total, std::optional<std::uint64_t> first_baseline, std::int64_t now_ms,
                         alerts::CountGrowth& out) {
  auto watched = watches.find(device);
  if (watched == watches.end()) watched = watches.try_emplace(device, GrowthWatch{.total = first_baseline}).first;
  GrowthWatch& watch = watched->second;
  // A smaller count than before is one that started over (a device's outbox, the gateway's
  // counters): a new baseline.
  if (watch.total && total > *watch.total) {
    watch.grew_ms = now_ms;
    watch.grew_by = total - *watch.total;
  }
  watch.total = total;
  watch.seen_ms = now_ms;
  out = alerts::CountGrowth{.total = total, .grew_ms = watch.grew_ms, .grew_by = watch.grew_by};
}

void AlertEngine::record(const alerts::Transition& transition) {
  const std::pair<std::string, std::string> key{transition.rule, transition.subject};
  if (transition.type == alerts::Transition::Type::fired) {
    auto fired = db_->fire(store::AlertRecord{.rule = transition.rule,
                                              .kind = std::string(alerts::to_string(transition.kind)),
                                              .subject = transition.subject,
                                              .started_ms = transition.at_ms,
                                              .value = transition.value,
                                              .summary = transition.summary},
                           options_.webhooks);
    if (!fired) {
      tracker_.forget(transition.rule, transition.subject);  // fires again at the next evaluation
      return count_database_failure(fired.error());
    }
    firing_ids_[key] = fired->id;
    const log::Subjects about{{log::SubjectKey::rule, transition.rule}, {log::SubjectKey::subject, transition.subject}};
    log::component("alerts").warn("alert {} firing for {}: {}", transition.rule, transition.subject,
                                  transition.summary);
    {
      std::lock_guard lock(mutex_);
      ++counters_.fired;
    }
    publish(*fired);
    return;
  }
  const auto id = firing_ids_.find(key);
  if (id == firing_ids_.end()) return;  // its firing was never recorded (a failed write)
  const std::string why =
      transition.summary.empty() ? transition.resolution : transition.resolution + ": " + transition.summary;
  auto resolved = db_->resolve(id->second, transition.at_ms, why, options_.webhooks);
  if (!resolved) {
    tracker_.restore_firing(transition.rule, transition.subject);  // resolves again at the next evaluation
    return count_database_failure(resolved.error());
  }
  const std::int64_t resolved_id = id->second;
  firing_ids_.erase(id);
  const log::Subjects about{{log::SubjectKey::rule, transition.rule}, {log::SubjectKey::subject, transition.subject}};
  log::component("alerts").info("alert {} resolved for {}: {}", transition.rule, transition.subject, why);
  {
    std::lock_guard lock(mutex_);
    ++counters_.resolved;
  }
  if (!publish_) return;
  auto alert = db_->alert(resolved_id);
  if (!alert || !*alert) {
    unpublished_[key] = resolved_id;  // published at the next evaluation
    if (!alert) count_database_failure(alert.error());
    return;
  }
  publish(**alert);
}

bool AlertEngine::publish(const store::AlertRecord& alert) {
  if (!publish_) return true;
  const std::pair<std::string, std::string> key{alert.rule, alert.subject};
  if (publish_(topic(alert.rule, alert.subject),
               alert_json(alert).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) &&
      (!share_ || share_(alert))) {
    unpublished_.erase(key);
    return true;
  }
  unpublished_[key] = alert.id;
  std::lock_guard lock(mutex_);
  ++counters_.publish_failures;
  return false;
}

void AlertEngine::publish_pending(bool everything) {
  if (!publish_) return;
  if (everything) {
    auto latest = db_->latest_per_subject();
    if (!latest) return count_database_failure(latest.error());
    unpublished_.clear();
    for (const auto& alert : *latest) publish(alert);
    return;
  }
  // A copy: publish() changes the map.
  const auto pending = unpublished_;
  for (const auto& [key, id] : pending) {
    auto alert = db_->alert(id);
    if (!alert) return count_database_failure(alert.error());
    if (!*alert) {
      unpublished_.erase(key);  // forgotten by retention meanwhile
      continue;
    }
    if (!publish(**alert)) return;  // still not connected: the rest waits too
  }
}

void AlertEngine::forget_old_alerts(std::int64_t now_ms) {
  if (now_ms - last_forget_ms_ < kForgetIntervalMs) return;
  last_forget_ms_ = now_ms;
  // An ended silence (a lift too) is kept at least as long as a silence can last: a gateway of the
  // share group that was away since before the lift may still hold the silence as lasting (its
  // end at most kMaxSilenceMs after the change it holds), and only the lift kept here supersedes
  // that version when it comes back and publishes it.
  const std::int64_t cutoff_ms = now_ms - options_.history_days * kMsPerDay;
  auto forgotten = db_->forget_resolved(cutoff_ms, std::min(cutoff_ms, now_ms - kMaxSilenceMs));
  if (!forgotten) count_database_failure(forgotten.error());
}

void AlertEngine::count_database_failure(const Error& error) {
  {
    std::lock_guard lock(mutex_);
    ++counters_.database_failures;
  }
  if (auto suppressed = log_.admit("database", std::chrono::steady_clock::now())) {
    log::component("alerts").error("{} ({} similar suppressed)", error.message, *suppressed);
  }
}

}  // namespace kelvin::gateway
