// AlertDb: kelvin's alerts database (alert_db.hpp) on the shared small-database layer.

#include "kelvin/store/alert_db.hpp"

#include <array>
#include <cmath>
#include <optional>
#include <tuple>
#include <utility>

#include "small_db.hpp"

namespace kelvin::store {
namespace {

// "KLVA": tells kelvin's alerts database from any other SQLite file.
constexpr std::int64_t kApplicationId = 0x4B4C5641;
constexpr std::int64_t kSchemaVersion = 5;

// Deliveries are the webhooks' persistent queue: one row per (webhook, transition), written in the
// transition's own transaction, so a transition recorded is a notification owed, whatever happens
// to the process before it is sent. The alert's cascade takes them when retention forgets it.
//
// The partial unique index is the last word on "at most one firing alert per rule and subject":
// two engines, or a retried write, cannot both raise it. The CHECKs keep a row's state and its
// end, and an acknowledgement's user and time, together whoever writes the file. firing_alerts
// keeps firing() and list() of the firing ones from scanning every resolved alert kept.
constexpr const char* kSchemaSql = R"sql(
CREATE TABLE alerts (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  rule            TEXT NOT NULL,
  kind            TEXT NOT NULL,
  subject         TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
  started_ms      INTEGER NOT NULL,
  ended_ms        INTEGER,
  value           REAL,
  summary         TEXT NOT NULL,
  resolution      TEXT NOT NULL,
  acknowledged_by TEXT NOT NULL,
  acknowledged_ms INTEGER,
  CHECK ((state = 'resolved') = (ended_ms IS NOT NULL)),
  CHECK ((acknowledged_by = '') = (acknowledged_ms IS NULL))
) STRICT;
CREATE UNIQUE INDEX one_firing_alert_per_rule_and_subject ON alerts (rule, subject) WHERE state = 'firing';
CREATE INDEX alerts_by_subject ON alerts (subject, id);
CREATE INDEX firing_alerts ON alerts (id) WHERE state = 'firing';
CREATE INDEX resolved_alerts_by_end ON alerts (ended_ms) WHERE state = 'resolved';

CREATE TABLE deliveries (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  webhook         TEXT NOT NULL,
  alert           INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  event           TEXT NOT NULL CHECK (event IN ('fired', 'resolved')),
  state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts        INTEGER NOT NULL CHECK (attempts >= 0),
  next_attempt_ms INTEGER NOT NULL,
  last_error      TEXT NOT NULL,
  created_ms      INTEGER NOT NULL
) STRICT;
CREATE INDEX pending_deliveries ON deliveries (next_attempt_ms) WHERE state = 'pending';
CREATE INDEX deliveries_by_alert ON deliveries (alert);
)sql";

// Version 2: silences (docs/alerts.md, "Silences"): an operator holds back the notifications of
// a rule on a subject until a time. At most one per (rule, subject) is active at a time: silence()
// replaces the active one's end rather than adding another (one connection writes at a time).
constexpr sqlite::SmallDbMigration kMigrations[] = {
    {.from_version = 1,
     .sql = "CREATE TABLE silences ("
            "  id         INTEGER PRIMARY KEY AUTOINCREMENT,"
            "  rule       TEXT NOT NULL,"
            "  subject    TEXT NOT NULL,"
            "  until_ms   INTEGER NOT NULL,"
            "  created_by TEXT NOT NULL CHECK (created_by != ''),"
            "  created_ms INTEGER NOT NULL,"
            "  comment    TEXT NOT NULL"
            ") STRICT;"
            " CREATE INDEX silences_by_subject ON silences (rule, subject, until_ms);"
            " CREATE INDEX silences_by_end ON silences (until_ms)",
     .doing = "adding silences"},
    // Version 3: the rules operators added through the API (AddedRuleRecord).
    {.from_version = 2,
     .sql = "CREATE TABLE added_rules ("
            "  id         INTEGER PRIMARY KEY AUTOINCREMENT,"
            "  name       TEXT NOT NULL UNIQUE,"
            "  definition TEXT NOT NULL CHECK (definition != ''),"
            "  created_by TEXT NOT NULL CHECK (created_by != ''),"
            "  created_ms INTEGER NOT NULL,"
            "  updated_by TEXT NOT NULL CHECK (updated_by != ''),"
            "  updated_ms INTEGER NOT NULL"
            ") STRICT",
     .doing = "adding operators' rules"},
    // Version 4: the removal of each rule operators removed (RemovedRuleRecord), so the gateways
    // of a share group can tell a removal from a rule they have not heard of yet.
    {.from_version = 3,
     .sql = "CREATE TABLE removed_rules ("
            "  name       TEXT PRIMARY KEY,"
            "  removed_by TEXT NOT NULL CHECK (removed_by != ''),"
            "  removed_ms INTEGER NOT NULL"
            ") STRICT",
     .doing = "keeping removed rules' removals"},
    // Version 5: a delivery may be left to a peer ('peer'): another gateway of the share group
    // notifies its transition (AlertDb::leave_delivery_to_peer). SQLite changes a CHECK only by
    // rebuilding the table. The rebuilt table continues the old one's ids: a delivery's id is the
    // receiver's key against a repeat, so one given before (its row since forgotten) is never
    // given again.
    {.from_version = 4,
     .sql = "CREATE TABLE deliveries_v5 ("
            "  id              INTEGER PRIMARY KEY AUTOINCREMENT,"
            "  webhook         TEXT NOT NULL,"
            "  alert           INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,"
            "  event           TEXT NOT NULL CHECK (event IN ('fired', 'resolved')),"
            "  state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead', 'peer')),"
            "  attempts        INTEGER NOT NULL CHECK (attempts >= 0),"
            "  next_attempt_ms INTEGER NOT NULL,"
            "  last_error      TEXT NOT NULL,"
            "  created_ms      INTEGER NOT NULL"
            ") STRICT;"
            " INSERT INTO deliveries_v5 SELECT id, webhook, alert, event, state, attempts, next_attempt_ms,"
            " last_error, created_ms FROM deliveries;"
            " DELETE FROM sqlite_sequence WHERE name = 'deliveries_v5';"
            " INSERT INTO sqlite_sequence (name, seq) SELECT 'deliveries_v5', seq FROM sqlite_sequence"
            " WHERE name = 'deliveries';"
            " DROP TABLE deliveries;"
            " ALTER TABLE deliveries_v5 RENAME TO deliveries;"
            " CREATE INDEX pending_deliveries ON deliveries (next_attempt_ms) WHERE state = 'pending';"
            " CREATE INDEX deliveries_by_alert ON deliveries (alert)",
     .doing = "letting a peer gateway notify a transition"},
};

constexpr sqlite::SmallDbSchema kSchema{.application_id = kApplicationId,
                                        .version = kSchemaVersion,
                                        .sql = kSchemaSql,
                                        .what = "alerts database",
                                        .migrations = kMigrations};

constexpr std::array<std::string_view, 2> kAlertStateNames{"firing", "resolved"};

using sqlite::Statement;

constexpr const char* kAlertColumns =
    "SELECT id, rule, kind, subject, state, started_ms, ended_ms, value, summary, resolution, acknowledged_by,"
    " acknowledged_ms FROM alerts ";

AlertRecord read_alert(const Statement& row) {
  AlertRecord a;
  a.id = row.column_int64(0);
  a.rule = row.column_text(1);
  a.kind = row.column_text(2);
  a.subject = row.column_text(3);
  a.state = parse_alert_state(row.column_text(4)).value_or(AlertState::resolved);  // the schema checks it
  a.started_ms = row.column_int64(5);
  a.ended_ms = row.column_optional_int64(6);
  if (!row.column_is_null(7)) a.value = row.column_double(7);
  a.summary = row.column_text(8);
  a.resolution = row.column_text(9);
  a.acknowledged_by = row.column_text(10);
  a.acknowledged_ms = row.column_optional_int64(11);
  return a;
}

constexpr const char* kSilenceColumns =
    "SELECT id, rule, subject, until_ms, created_by, created_ms, comment FROM silences ";

SilenceRecord read_silence(const Statement& row) {
  return SilenceRecord{.id = row.column_int64(0),
                       .rule = row.column_text(1),
                       .subject = row.column_text(2),
                       .until_ms = row.column_int64(3),
                       .created_by = row.column_text(4),
                       .created_ms = row.column_int64(5),
                       .comment = row.column_text(6)};
}

AddedRuleRecord read_added_rule(const Statement& row) {
  return AddedRuleRecord{.name = row.column_text(0),
                         .definition = row.column_text(1),
                         .created_by = row.column_text(2),
                         .created_ms = row.column_int64(3),
                         .updated_by = row.column_text(4),
                         .updated_ms = row.column_int64(5)};
}

RemovedRuleRecord read_removed_rule(const Statement& row) {
  return RemovedRuleRecord{
      .name = row.column_text(0), .removed_by = row.column_text(1), .removed_ms = row.column_int64(2)};
}

// SQLite stores a NaN as NULL without a word, and an infinity is no observation either.
Result<void> check_value(std::optional<double> value) {
  if (value && !std::isfinite(*value)) {
    return make_error(Errc::invalid_argument, "an alert's value must be a finite number");
  }
  return {};
}

Error closed() {
  return make_error(Errc::invalid_argument, "alerts database used after it was moved from");
}

}  // namespace

std::string_view to_string(AlertState state) noexcept {
  return kAlertStateNames[static_cast<std::size_t>(state)];
}

std::optional<AlertState> parse_alert_state(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kAlertStateNames.size(); ++i) {
    if (kAlertStateNames[i] == name) return static_cast<AlertState>(i);
  }
  return std::nullopt;
}

class AlertDb::Impl : public sqlite::SmallDb {
 public:
  using SmallDb::SmallDb;

  // Every row `query` returns, in its order, as `read` makes it.
  template <class Read>
  static auto read_rows(Statement& query, Read read) -> Result<std::vector<decltype(read(query))>> {
    std::vector<decltype(read(query))> out;
    for (;;) {
      auto row = query.step();
      if (!row) return std::move(row).error();
      if (!*row) return out;
      out.push_back(read(query));
    }
  }

  // A pending delivery of `event` for each of `webhooks`, due at once, unless a silence of the
  // alert's rule and subject lasts past `at_ms`; inside the caller's transaction.
  Result<void> queue_deliveries(std::int64_t alert, std::string_view event, std::int64_t at_ms,
                                std::span<const std::string> webhooks) {
    if (webhooks.empty()) return {};
    auto silenced = statement(
        "SELECT 1 FROM silences s JOIN alerts a ON a.rule = s.rule AND a.subject = s.subject"
        " WHERE a.id = ? AND s.until_ms > ? LIMIT 1",
        alert, at_ms);
    if (!silenced) return std::move(silenced).error();
    auto row = silenced->step();
    if (!row) return std::move(row).error();
    if (*row) return {};
    for (const auto& webhook : webhooks) {
      auto added = change(
          "INSERT INTO deliveries (webhook, alert, event, state, attempts, next_attempt_ms, last_error, created_ms)"
          " VALUES (?, ?, ?, 'pending', 0, ?, '', ?)",
          webhook, alert, event, at_ms, at_ms);
      if (!added) return std::move(added).error();
    }
    return {};
  }

  // The newest silence of (rule, subject), lasting or over: its version (see SilenceRecord).
  Result<std::optional<SilenceRecord>> newest_silence(std::string_view rule, std::string_view subject) {
    auto rows = silence_rows("WHERE rule = ? AND subject = ? ORDER BY created_ms DESC, id DESC LIMIT 1", rule, subject);
    if (!rows) return std::move(rows).error();
    if (rows->empty()) return std::optional<SilenceRecord>();
    return std::optional<SilenceRecord>(std::move(rows->front()));
  }

  template <class... Args>
  Result<std::vector<SilenceRecord>> silence_rows(std::string_view condition, Args&&... args) {
    auto query = statement(std::string(kSilenceColumns) + std::string(condition), std::forward<Args>(args)...);
    if (!query) return std::move(query).error();
    return read_rows(*query, read_silence);
  }

  template <class... Args>
  Result<std::vector<AlertRecord>> alert_rows(std::string_view condition, Args&&... args) {
    auto query = statement(std::string(kAlertColumns) + std::string(condition), std::forward<Args>(args)...);
    if (!query) return std::move(query).error();
    return read_rows(*query, read_alert);
  }
};

Result<AlertDb> AlertDb::open(const std::filesystem::path& db_file, int busy_timeout_ms) {
  auto db = sqlite::open_small_db(db_file, busy_timeout_ms, kSchema);
  if (!db) return std::move(db).error();
  return AlertDb(std::make_unique<Impl>(std::move(*db)));
}

AlertDb::AlertDb(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AlertDb::AlertDb(AlertDb&&) noexcept = default;
AlertDb& AlertDb::operator=(AlertDb&&) noexcept = default;
AlertDb::~AlertDb() = default;

Result<AlertRecord> AlertDb::fire(const AlertRecord& alert, std::span<const std::string> webhooks) {
  if (!impl_) return closed();
  if (auto checked = check_value(alert.value); !checked) return std::move(checked).error();
  // Under the write lock, so another connection's fire() of the same (rule, subject) either came
  // before (and is returned) or waits for this one.
  auto transaction = sqlite::Transaction::begin(impl_->db());
  if (!transaction) return std::move(transaction).error();
  auto existing = impl_->alert_rows("WHERE rule = ? AND subject = ? AND state = 'firing'", alert.rule, alert.subject);
  if (!existing) return std::move(existing).error();
  if (!existing->empty()) {
    if (auto committed = transaction->commit(); !committed) return std::move(committed).error();
    return std::move(existing->front());
  }
  auto added = impl_->change(
      "INSERT INTO alerts (value, rule, kind, subject, state, started_ms, summary, resolution, acknowledged_by)"
      " VALUES (?, ?, ?, ?, 'firing', ?, ?, '', '')",
      alert.value, alert.rule, alert.kind, alert.subject, alert.started_ms, alert.summary);
  if (!added) return std::move(added).error();
  const std::int64_t id = sqlite3_last_insert_rowid(impl_->db());
  if (auto queued = impl_->queue_deliveries(id, "fired", alert.started_ms, webhooks); !queued) {
    return std::move(queued).error();
  }
  AlertRecord fired{.id = id,
                    .rule = alert.rule,
                    .kind = alert.kind,
                    .subject = alert.subject,
                    .state = AlertState::firing,
                    .started_ms = alert.started_ms,
                    .ended_ms = std::nullopt,
                    .value = alert.value,
                    .summary = alert.summary,
                    .resolution = {},
                    .acknowledged_by = {},
                    .acknowledged_ms = std::nullopt};
  if (auto committed = transaction->commit(); !committed) return std::move(committed).error();
  return fired;
}

Result<bool> AlertDb::resolve(std::int64_t id, std::int64_t ended_ms, std::string_view resolution,
                              std::span<const std::string> webhooks) {
  if (!impl_) return closed();
  auto transaction = sqlite::Transaction::begin(impl_->db());
  if (!transaction) return std::move(transaction).error();
  auto resolved = impl_->change(
      "UPDATE alerts SET state = 'resolved', ended_ms = ?, resolution = ? WHERE id = ? AND state = 'firing'", ended_ms,
      resolution, id);
  if (!resolved) return std::move(resolved).error();
  if (*resolved > 0) {
    if (auto queued = impl_->queue_deliveries(id, "resolved", ended_ms, webhooks); !queued) {
      return std::move(queued).error();
    }
  }
  if (auto committed = transaction->commit(); !committed) return std::move(committed).error();
  return *resolved > 0;
}

Result<std::vector<Delivery>> AlertDb::due_deliveries(std::int64_t now_ms, std::size_t limit) {
  if (!impl_) return closed();
  auto query = impl_->statement(
      "SELECT id, webhook, alert, event, attempts, created_ms FROM deliveries"
      " WHERE state = 'pending' AND next_attempt_ms <= ? ORDER BY next_attempt_ms, id LIMIT ?",
      now_ms, static_cast<std::int64_t>(limit));
  if (!query) return std::move(query).error();
  std::vector<Delivery> due;
  std::vector<std::int64_t> alert_ids;
  for (;;) {
    auto row = query->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    due.push_back(Delivery{.id = query->column_int64(0),
                           .webhook = query->column_text(1),
                           .event = query->column_text(3),
                           .attempts = query->column_int64(4),
                           .created_ms = query->column_int64(5)});
    alert_ids.push_back(query->column_int64(2));
  }
  for (std::size_t i = 0; i < due.size(); ++i) {
    auto found = alert(alert_ids[i]);
    if (!found) return std::move(found).error();
    if (*found) due[i].alert = std::move(**found);  // the cascade keeps them together otherwise
  }
  return due;
}

Result<void> AlertDb::delivered(std::int64_t delivery_id, std::int64_t at_ms) {
  if (!impl_) return closed();
  auto changed = impl_->change(
      "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, next_attempt_ms = ?, last_error = ''"
      " WHERE id = ? AND state = 'pending'",
      at_ms, delivery_id);
  if (!changed) return std::move(changed).error();
  return {};
}

Result<void> AlertDb::delivery_failed(std::int64_t delivery_id, std::string_view error,
                                      std::optional<std::int64_t> next_attempt_ms) {
  if (!impl_) return closed();
  auto changed = next_attempt_ms
                     ? impl_->change(
                           "UPDATE deliveries SET attempts = attempts + 1, next_attempt_ms = ?, last_error = ?"
                           " WHERE id = ? AND state = 'pending'",
                           *next_attempt_ms, error, delivery_id)
                     : impl_->change(
                           "UPDATE deliveries SET state = 'dead', attempts = attempts + 1, last_error = ?"
                           " WHERE id = ? AND state = 'pending'",
                           error, delivery_id);
  if (!changed) return std::move(changed).error();
  return {};
}

Result<void> AlertDb::postpone_delivery(std::int64_t delivery_id, std::int64_t until_ms) {
  if (!impl_) return closed();
  auto changed = impl_->change("UPDATE deliveries SET next_attempt_ms = ? WHERE id = ? AND state = 'pending'", until_ms,
                               delivery_id);
  if (!changed) return std::move(changed).error();
  return {};
}

Result<void> AlertDb::leave_delivery_to_peer(std::int64_t delivery_id, std::string_view peer, std::int64_t at_ms) {
  if (!impl_) return closed();
  auto changed = impl_->change(
      "UPDATE deliveries SET state = 'peer', next_attempt_ms = ?, last_error = ? WHERE id = ? AND state = 'pending'",
      at_ms, "notified by gateway " + std::string(peer), delivery_id);
  if (!changed) return std::move(changed).error();
  return {};
}

Result<DeliveryCounts> AlertDb::delivery_counts() {
  if (!impl_) return closed();
  auto query =
      impl_->statement("SELECT state, count(*) FROM deliveries WHERE state IN ('pending', 'dead') GROUP BY state");
  if (!query) return std::move(query).error();
  DeliveryCounts counts;
  for (;;) {
    auto row = query->step();
    if (!row) return std::move(row).error();
    if (!*row) return counts;
    const auto count = static_cast<std::uint64_t>(query->column_int64(1));
    (query->column_text(0) == "pending" ? counts.pending : counts.dead) = count;
  }
}

Result<bool> AlertDb::acknowledge(std::int64_t id, std::string_view user, std::int64_t at_ms) {
  if (!impl_) return closed();
  // The empty user is what "unacknowledged" is stored as.
  if (user.empty()) return make_error(Errc::invalid_argument, "an acknowledgement names its user");
  auto acknowledged =
      impl_->change("UPDATE alerts SET acknowledged_by = ?, acknowledged_ms = ? WHERE id = ? AND acknowledged_by = ''",
                    user, at_ms, id);
  if (!acknowledged) return std::move(acknowledged).error();
  return *acknowledged > 0;
}

Result<std::vector<AlertRecord>> AlertDb::list(const AlertQuery& query) {
  if (!impl_) return closed();
  if (query.limit == 0 || query.limit > 1000) {
    return make_error(Errc::invalid_argument,
                      "an alerts page has 1 to 1000 alerts, not " + std::to_string(query.limit));
  }
  std::string sql = kAlertColumns;
  bool first = true;
  const auto where = [&](const char* condition) {
    sql += first ? "WHERE " : " AND ";
    sql += condition;
    first = false;
  };
  if (query.state) where("state = ?");
  if (query.subject) where("subject = ?");
  if (query.before_id) where("id < ?");
  sql += " ORDER BY id DESC LIMIT ?";

  auto statement = impl_->statement(sql);
  if (!statement) return std::move(statement).error();
  int index = 1;
  if (query.state) statement->bind(index++, to_string(*query.state));
  if (query.subject) statement->bind(index++, std::string_view(*query.subject));
  if (query.before_id) statement->bind(index++, *query.before_id);
  statement->bind(index, static_cast<std::int64_t>(query.limit));
  return Impl::read_rows(*statement, read_alert);
}

Result<std::vector<AlertRecord>> AlertDb::firing() {
  if (!impl_) return closed();
  return impl_->alert_rows("WHERE state = 'firing' ORDER BY id");
}

Result<std::vector<AlertRecord>> AlertDb::latest_per_subject() {
  if (!impl_) return closed();
  return impl_->alert_rows("WHERE id IN (SELECT max(id) FROM alerts GROUP BY rule, subject) ORDER BY id");
}

Result<std::optional<AlertRecord>> AlertDb::alert(std::int64_t id) {
  if (!impl_) return closed();
  auto rows = impl_->alert_rows("WHERE id = ?", id);
  if (!rows) return std::move(rows).error();
  if (rows->empty()) return std::optional<AlertRecord>();
  return std::optional<AlertRecord>(std::move(rows->front()));
}

Result<std::vector<std::pair<std::string, std::uint64_t>>> AlertDb::firing_by_rule() {
  if (!impl_) return closed();
  auto query = impl_->statement("SELECT rule, count(*) FROM alerts WHERE state = 'firing' GROUP BY rule ORDER BY rule");
  if (!query) return std::move(query).error();
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (;;) {
    auto row = query->step();
    if (!row) return std::move(row).error();
    if (!*row) return out;
    out.emplace_back(query->column_text(0), sqlite::from_sql_unsigned(query->column_int64(1)));
  }
}

Result<std::uint64_t> AlertDb::forget_resolved(std::int64_t ended_before_ms,
                                               std::optional<std::int64_t> silences_ended_before_ms) {
  if (!impl_) return closed();
  auto transaction = sqlite::Transaction::begin(impl_->db());
  if (!transaction) return std::move(transaction).error();
  auto deleted = impl_->change("DELETE FROM alerts WHERE state = 'resolved' AND ended_ms < ?", ended_before_ms);
  if (!deleted) return std::move(deleted).error();
  auto silences =
      impl_->change("DELETE FROM silences WHERE until_ms < ?", silences_ended_before_ms.value_or(ended_before_ms));
  if (!silences) return std::move(silences).error();
  if (auto committed = transaction->commit(); !committed) return std::move(committed).error();
  return sqlite::from_sql_unsigned(*deleted);
}

bool supersedes(const SilenceRecord& a, const SilenceRecord& b) {
  if (a.created_ms != b.created_ms) return a.created_ms > b.created_ms;
  if (a.until_ms != b.until_ms) return a.until_ms < b.until_ms;
  return std::tie(a.created_by, a.comment) > std::tie(b.created_by, b.comment);
}

namespace {

// The time to stamp a change made at `now_ms` to a pair whose newest version is `newest`.
std::int64_t change_time(const std::optional<SilenceRecord>& newest, std::int64_t now_ms) {
  return newest && newest->created_ms >= now_ms ? newest->created_ms + 1 : now_ms;
}

}  // namespace

Result<SilenceRecord> AlertDb::silence(const SilenceRecord& silence, std::int64_t now_ms) {
  if (!impl_) return closed();
  if (silence.created_by.empty()) return make_error(Errc::invalid_argument, "a silence names its user");
  if (silence.until_ms <= now_ms) return make_error(Errc::invalid_argument, "a silence ends in the future");
  auto transaction = sqlite::Transaction::begin(impl_->db());
  if (!transaction) return std::move(transaction).error();
  auto newest = impl_->newest_silence(silence.rule, silence.subject);
  if (!newest) return std::move(newest).error();
  auto active = impl_->silence_rows("WHERE rule = ? AND subject = ? AND until_ms > ? ORDER BY id DESC LIMIT 1",
                                    silence.rule, silence.subject, now_ms);
  if (!active) return std::move(active).error();
  SilenceRecord out = silence;
  out.created_ms = change_time(*newest, now_ms);
  if (active->empty()) {
    auto added = impl_->change(
        "INSERT INTO silences (rule, subject, until_ms, created_by, created_ms, comment) VALUES (?, ?, ?, ?, ?, ?)",
        silence.rule, silence.subject, silence.until_ms, silence.created_by, out.created_ms, silence.comment);
    if (!added) return std::move(added).error();
    out.id = sqlite3_last_insert_rowid(impl_->db());
  } else {
    out.id = active->front().id;
    auto changed =
        impl_->change("UPDATE silences SET until_ms = ?, created_by = ?, created_ms = ?, comment = ? WHERE id = ?",
                      silence.until_ms, silence.created_by, out.created_ms, silence.comment, out.id);
    if (!changed) return std::move(changed).error();
  }
  if (auto committed = transaction->commit(); !committed) return std::move(committed).error();
  return out;
}

Result<std::vector<SilenceRecord>> AlertDb::active_silences(std::int64_t now_ms) {
  if (!impl_) return closed();
  return impl_->silence_rows("WHERE until_ms > ? ORDER BY rule, subject", now_ms);
}

Result<std::optional<SilenceRecord>> AlertDb::lift_silence(std::int64_t id, std::string_view user,
                                                           std::int64_t now_ms) {
  if (!impl_) return closed();
  if (user.empty()) return make_error(Errc::invalid_argument, "a lift names its user");
  auto transaction = sqlite::Transaction::begin(impl_->db());
  if (!transaction) return std::move(transaction).error();
  auto active = impl_->silence_rows("WHERE id = ? AND until_ms > ?", id, now_ms);
  if (!active) return std::move(active).error();
  if (active->empty()) return std::optional<SilenceRecord>();
  SilenceRecord lifted = std::move(active->front());
  auto newest = impl_->newest_silence(lifted.rule, lifted.subject);
  if (!newest) return std::move(newest).error();
  lifted.until_ms = now_ms;
  lifted.created_by = std::string(user);
  lifted.created_ms = change_time(*newest, now_ms);
  auto ended = impl_->change("UPDATE silences SET until_ms = ?, created_by = ?, created_ms = ? WHERE id = ?",
                             lifted.until_ms, lifted.created_by, lifted.created_ms, id);
  if (!ended) return std::move(ended).error();
  if (auto committed = transaction->commit(); !committed) return std::move(committed).error();
  return std::optional<SilenceRecord>(std::move(lifted));
}

Result<bool> AlertDb::take_silence(const SilenceRecord& version) {
  if (!impl_) return closed();
  if (version.created_by.empty()) return make_error(Errc::invalid_argument, "a silence names its user");
  // Under the write lock, so a change through this gateway's API either came before (and is
  // compared with) or waits for this one.
  auto transaction = sqlite::Transaction::begin(impl_->db());
  if (!transaction) return std::move(transaction).error();
  auto newest = impl_->newest_silence(version.rule, version.subject);
  if (!newest) return std::move(newest).error();
  if (*newest && !supersedes(version, **newest)) return false;
  auto stored =
      *newest
          ? impl_->change("UPDATE silences SET until_ms = ?, created_by = ?, created_ms = ?, comment = ? WHERE id = ?",
                          version.until_ms, version.created_by, version.created_ms, version.comment, (*newest)->id)
          : impl_->change(
                "INSERT INTO silences (rule, subject, until_ms, created_by, created_ms, comment)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                version.rule, version.subject, version.until_ms, version.created_by, version.created_ms,
                version.comment);
  if (!stored) return std::move(stored).error();
  if (auto committed = transaction->commit(); !committed) return std::move(committed).error();
  return true;
}

Result<std::vector<SilenceRecord>> AlertDb::silence_versions() {
  if (!impl_) return closed();
  return impl_->silence_rows(
      "AS s WHERE id = (SELECT id FROM silences WHERE rule = s.rule AND subject = s.subject"
      " ORDER BY created_ms DESC, id DESC LIMIT 1) ORDER BY rule, subject");
}

Result<std::vector<AddedRuleRecord>> AlertDb::added_rules() {
  if (!impl_) return closed();
  auto query = impl_->statement(
      "SELECT name, definition, created_by, created_ms, updated_by, updated_ms FROM added_rules ORDER BY id");
  if (!query) return std::move(query).error();
  return Impl::read_rows(*query, read_added_rule);
}

Result<bool> AlertDb::add_rule(const AddedRuleRecord& rule) {
  if (!impl_) return closed();
  if (rule.created_by.empty() || rule.definition.empty()) {
    return make_error(Errc::invalid_argument, "an added rule names its user and has a definition");
  }
  auto transaction = sqlite::Transaction::begin(impl_->db());
  if (!transaction) return std::move(transaction).error();
  auto added = impl_->change(
      "INSERT INTO added_rules (name, definition, created_by, created_ms, updated_by, updated_ms)"
      " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
      rule.name, rule.definition, rule.created_by, rule.created_ms, rule.created_by, rule.created_ms);
  if (!added) return std::move(added).error();
  if (*added == 0) return false;
  if (auto forgotten = impl_->change("DELETE FROM removed_rules WHERE name = ?", rule.name); !forgotten) {
    return std::move(forgotten).error();
  }
  if (auto committed = transaction->commit(); !committed) return std::move(committed).error();
  return true;
}

Result<bool> AlertDb::change_rule(std::string_view name, std::string_view definition, std::string_view user,
                                  std::int64_t at_ms) {
  if (!impl_) return closed();
  if (user.empty() || definition.empty()) {
    return make_error(Errc::invalid_argument, "a changed rule names its user and has a definition");
  }
  auto changed = impl_->change("UPDATE added_rules SET definition = ?, updated_by = ?, updated_ms = ? WHERE name = ?",
                               definition, user, at_ms, name);
  if (!changed) return std::move(changed).error();
  return *changed == 1;
}

Result<bool> AlertDb::remove_rule(const RemovedRuleRecord& removal) {
  if (!impl_) return closed();
  if (removal.removed_by.empty()) return make_error(Errc::invalid_argument, "a rule's removal names its user");
  auto transaction = sqlite::Transaction::begin(impl_->db());
  if (!transaction) return std::move(transaction).error();
  auto removed = impl_->change("DELETE FROM added_rules WHERE name = ?", removal.name);
  if (!removed) return std::move(removed).error();
  auto kept = impl_->change("INSERT OR REPLACE INTO removed_rules (name, removed_by, removed_ms) VALUES (?, ?, ?)",
                            removal.name, removal.removed_by, removal.removed_ms);
  if (!kept) return std::move(kept).error();
  if (auto committed = transaction->commit(); !committed) return std::move(committed).error();
  return *removed == 1;
}

Result<void> AlertDb::put_rule(const AddedRuleRecord& rule) {
  if (!impl_) return closed();
  if (rule.created_by.empty() || rule.updated_by.empty() || rule.definition.empty()) {
    return make_error(Errc::invalid_argument, "an added rule names its users and has a definition");
  }
  auto transaction = sqlite::Transaction::begin(impl_->db());
  if (!transaction) return std::move(transaction).error();
  auto put = impl_->change(
      "INSERT INTO added_rules (name, definition, created_by, created_ms, updated_by, updated_ms)"
      " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET definition = excluded.definition,"
      " created_by = excluded.created_by, created_ms = excluded.created_ms, updated_by = excluded.updated_by,"
      " updated_ms = excluded.updated_ms",
      rule.name, rule.definition, rule.created_by, rule.created_ms, rule.updated_by, rule.updated_ms);
  if (!put) return std::move(put).error();
  if (auto forgotten = impl_->change("DELETE FROM removed_rules WHERE name = ?", rule.name); !forgotten) {
    return std::move(forgotten).error();
  }
  return transaction->commit();
}

Result<std::vector<RemovedRuleRecord>> AlertDb::removed_rules() {
  if (!impl_) return closed();
  auto query = impl_->statement("SELECT name, removed_by, removed_ms FROM removed_rules ORDER BY name");
  if (!query) return std::move(query).error();
  return Impl::read_rows(*query, read_removed_rule);
}

}  // namespace kelvin::store
