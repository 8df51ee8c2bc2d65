// alerts.db (kelvin/store/alert_db.hpp): created private, refusing other files, one firing alert
// per rule and subject across connections, resolving and acknowledging once, values as doubles,
// listing with filters and pages, counts by rule, retention, the webhooks' queue, silences, the
// upgrade of a version 1 file, and the invariants the file itself enforces.

#include "kelvin/store/alert_db.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <string>

#include "kelvin/store/rollout_db.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::store {
namespace {

AlertRecord alert(std::string rule, std::string subject, std::int64_t started_ms = 1000,
                  std::optional<double> value = 31.25, std::string summary = "temperature 31.25 above 30") {
  return AlertRecord{.rule = std::move(rule),
                     .kind = "threshold",
                     .subject = std::move(subject),
                     .started_ms = started_ms,
                     .value = value,
                     .summary = std::move(summary)};
}

std::vector<std::int64_t> ids(const std::vector<AlertRecord>& alerts) {
  std::vector<std::int64_t> out;
  for (const auto& a : alerts) out.push_back(a.id);
  return out;
}

// Runs `sql` on `path` with sqlite3 itself; "" on success, else SQLite's message.
std::string raw_exec(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open(path.c_str(), &db);
  char* message = nullptr;
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  std::string error = rc == SQLITE_OK ? "" : (message ? message : sqlite3_errmsg(db));
  sqlite3_free(message);
  sqlite3_close_v2(db);
  return error;
}

// The first column of the first row of `sql` on `path` as text ("NULL" for NULL, "" for no row).
std::string raw_value(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_stmt* statement = nullptr;
  std::string out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  } else if (sqlite3_step(statement) == SQLITE_ROW) {
    const auto* text = sqlite3_column_text(statement, 0);
    out = text ? std::string(reinterpret_cast<const char*>(text)) : std::string("NULL");
  }
  sqlite3_finalize(statement);
  sqlite3_close_v2(db);
  return out;
}

class AlertDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = AlertDb::open(path_);
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
  }

  std::int64_t fire(const AlertRecord& a) {
    auto fired = db_->fire(a);
    EXPECT_TRUE(fired.ok()) << fired.error().message;
    return fired.ok() ? fired->id : 0;
  }

  AlertRecord read(std::int64_t id) {
    auto found = db_->alert(id);
    EXPECT_TRUE(found.ok() && found->has_value()) << "alert " << id;
    return found.ok() && found->has_value() ? **found : AlertRecord{};
  }

  testing::TempDir dir_;
  std::filesystem::path path_ = dir_ / "alerts.db";
  std::optional<AlertDb> db_;
};

TEST_F(AlertDbTest, IsCreatedPrivateAndRefusesOtherFiles) {
  struct stat info {};
  ASSERT_EQ(::stat(path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  ASSERT_TRUE(RolloutDb::open(dir_ / "rollouts.db").ok());
  auto rollouts = AlertDb::open(dir_ / "rollouts.db");
  ASSERT_FALSE(rollouts.ok());
  EXPECT_EQ(rollouts.error().code, Errc::corrupt);
  auto alerts_as_rollouts = RolloutDb::open(path_);
  ASSERT_FALSE(alerts_as_rollouts.ok());
  EXPECT_EQ(alerts_as_rollouts.error().code, Errc::corrupt);

  const auto text_file = dir_ / "notes.txt";
  const std::string text(2048, 'x');
  std::ofstream(text_file) << text;
  auto not_sqlite = AlertDb::open(text_file);
  ASSERT_FALSE(not_sqlite.ok());
  EXPECT_EQ(not_sqlite.error().code, Errc::corrupt) << not_sqlite.error().message;
  EXPECT_EQ(kelvin::testing::read_text(text_file), text) << "left as it was";

  EXPECT_TRUE(AlertDb::open(path_).ok()) << "reopening its own file";
  EXPECT_EQ(raw_value(path_, "PRAGMA application_id"), std::to_string(0x4B4C5641));
  EXPECT_EQ(raw_value(path_, "PRAGMA user_version"), "5");
}

TEST_F(AlertDbTest, FiringTwiceReturnsTheFirstAlertAlsoThroughAnotherConnection) {
  auto first = db_->fire(alert("hot", "d1", 1000));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_GT(first->id, 0);
  EXPECT_EQ(first->state, AlertState::firing);
  EXPECT_EQ(first->ended_ms, std::nullopt);
  EXPECT_EQ(first->resolution, "");
  EXPECT_EQ(first->acknowledged_by, "");
  EXPECT_EQ(first->acknowledged_ms, std::nullopt);
  EXPECT_EQ(first->rule, "hot");
  EXPECT_EQ(first->kind, "threshold");
  EXPECT_EQ(first->subject, "d1");

  const std::int64_t other_subject = fire(alert("hot", "d2", 1100));
  const std::int64_t other_rule = fire(alert("cold", "d1", 1200));
  EXPECT_GT(other_subject, first->id);
  EXPECT_GT(other_rule, other_subject);

  auto again = db_->fire(alert("hot", "d1", 5000, 40.0, "temperature 40 above 30"));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(again->started_ms, 1000);
  EXPECT_EQ(again->summary, "temperature 31.25 above 30");
  EXPECT_EQ(again->value, 31.25);

  // A second engine, or the same one after a restart, on its own connection.
  auto second = AlertDb::open(path_);
  ASSERT_TRUE(second.ok()) << second.error().message;
  auto through_second = second->fire(alert("hot", "d1", 6000, 50.0, "temperature 50 above 30"));
  ASSERT_TRUE(through_second.ok()) << through_second.error().message;
  EXPECT_EQ(through_second->id, first->id);
  EXPECT_EQ(through_second->started_ms, 1000);
  EXPECT_EQ(through_second->summary, "temperature 31.25 above 30");
  auto new_on_second = second->fire(alert("hot", "d3", 7000));
  ASSERT_TRUE(new_on_second.ok());
  EXPECT_GT(new_on_second->id, other_rule);
  EXPECT_EQ(read(new_on_second->id).subject, "d3") << "seen by the first connection";

  auto firing = db_->firing();
  ASSERT_TRUE(firing.ok());
  EXPECT_EQ(ids(*firing), (std::vector<std::int64_t>{first->id, other_subject, other_rule, new_on_second->id}))
      << "each once, oldest first";
}

TEST_F(AlertDbTest, AResolvedAlertStaysResolvedAndFiringAgainStartsANewOne) {
  const std::int64_t id = fire(alert("hot", "d1", 1000));
  auto resolved = db_->resolve(id, 5000, "condition cleared");
  ASSERT_TRUE(resolved.ok()) << resolved.error().message;
  EXPECT_TRUE(*resolved);
  AlertRecord r = read(id);
  EXPECT_EQ(r.state, AlertState::resolved);
  EXPECT_EQ(r.ended_ms, 5000);
  EXPECT_EQ(r.resolution, "condition cleared");
  EXPECT_EQ(r.started_ms, 1000);

  EXPECT_FALSE(*db_->resolve(id, 6000, "rule removed")) << "already resolved";
  EXPECT_FALSE(*db_->resolve(999, 6000, "rule removed")) << "unknown";
  r = read(id);
  EXPECT_EQ(r.ended_ms, 5000);
  EXPECT_EQ(r.resolution, "condition cleared");
  EXPECT_EQ(r.value, 31.25);
  EXPECT_EQ(r.summary, "temperature 31.25 above 30");

  auto next = db_->fire(alert("hot", "d1", 8000, 32.5, "temperature 32.5 above 30"));
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_GT(next->id, id) << "a new episode";
  EXPECT_EQ(next->started_ms, 8000);
  EXPECT_EQ(read(id).state, AlertState::resolved);

  // The newest of each (rule, subject): what its retained MQTT message shows.
  const std::int64_t other = fire(alert("cold", "d2", 9000));
  auto latest = db_->latest_per_subject();
  ASSERT_TRUE(latest.ok()) << latest.error().message;
  ASSERT_EQ(latest->size(), 2u);
  EXPECT_EQ((*latest)[0].id, next->id);
  EXPECT_EQ((*latest)[0].state, AlertState::firing);
  EXPECT_EQ((*latest)[1].id, other);
}

TEST_F(AlertDbTest, TheValueIsADoubleOrNullAndNeverANaN) {
  const std::int64_t with_value = fire(alert("hot", "d1", 1000, 31.25));
  const std::int64_t without = fire(alert("last_will", "d1", 1000, std::nullopt, "d1 went away"));
  EXPECT_EQ(read(with_value).value, 31.25);
  EXPECT_EQ(read(without).value, std::nullopt);
  EXPECT_EQ(raw_value(path_, "SELECT typeof(value) FROM alerts WHERE id = " + std::to_string(with_value)), "real");
  EXPECT_EQ(raw_value(path_, "SELECT typeof(value) FROM alerts WHERE id = " + std::to_string(without)), "null");

  EXPECT_EQ(read(fire(alert("cold", "d1", 1000, -0.001))).value, -0.001);

  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto refused = db_->fire(alert("hot", "d2", 1000, nan));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
  EXPECT_EQ(raw_value(path_, "SELECT count(*) FROM alerts WHERE subject = 'd2'"), "0");
  auto infinite = db_->fire(alert("hot", "d3", 1000, std::numeric_limits<double>::infinity()));
  ASSERT_FALSE(infinite.ok());
  EXPECT_EQ(infinite.error().code, Errc::invalid_argument);
}

TEST_F(AlertDbTest, TheFirstAcknowledgementStays) {
  const std::int64_t id = fire(alert("hot", "d1"));
  auto first = db_->acknowledge(id, "ann", 2000);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*db_->acknowledge(id, "bob", 3000));
  AlertRecord r = read(id);
  EXPECT_EQ(r.acknowledged_by, "ann");
  EXPECT_EQ(r.acknowledged_ms, 2000);
  EXPECT_EQ(r.state, AlertState::firing) << "acknowledging does not resolve";
  EXPECT_FALSE(*db_->acknowledge(999, "ann", 2000));
  auto nobody = db_->acknowledge(id, "", 2000);
  ASSERT_FALSE(nobody.ok());
  EXPECT_EQ(nobody.error().code, Errc::invalid_argument);

  const std::int64_t resolved = fire(alert("hot", "d2"));
  ASSERT_TRUE(*db_->resolve(resolved, 4000, "condition cleared"));
  EXPECT_TRUE(*db_->acknowledge(resolved, "bob", 5000)) << "a resolved alert can be acknowledged";
  EXPECT_EQ(read(resolved).acknowledged_by, "bob");
  ASSERT_TRUE(*db_->resolve(id, 6000, "condition cleared"));
  EXPECT_EQ(read(id).acknowledged_by, "ann") << "resolving keeps the acknowledgement";
}

TEST_F(AlertDbTest, ListsNewestFirstByStateSubjectAndPage) {
  const std::int64_t a = fire(alert("hot", "d1"));
  const std::int64_t b = fire(alert("hot", "d2"));
  const std::int64_t c = fire(alert("cold", "d1"));
  const std::int64_t d = fire(alert("offline", "d3"));
  const std::int64_t e = fire(alert("offline", "d1"));
  ASSERT_TRUE(*db_->resolve(a, 2000, "condition cleared"));
  ASSERT_TRUE(*db_->resolve(d, 2000, "condition cleared"));

  EXPECT_EQ(ids(*db_->list()), (std::vector<std::int64_t>{e, d, c, b, a}));
  EXPECT_EQ(ids(*db_->list({.state = AlertState::firing})), (std::vector<std::int64_t>{e, c, b}));
  EXPECT_EQ(ids(*db_->list({.state = AlertState::resolved})), (std::vector<std::int64_t>{d, a}));
  EXPECT_EQ(ids(*db_->list({.subject = "d1"})), (std::vector<std::int64_t>{e, c, a}));
  EXPECT_EQ(ids(*db_->list({.state = AlertState::firing, .subject = "d1"})), (std::vector<std::int64_t>{e, c}));
  EXPECT_TRUE(db_->list({.subject = "d9"})->empty());

  // Paging: each page starts below the last id of the one before.
  auto page1 = db_->list({.limit = 2});
  ASSERT_TRUE(page1.ok());
  EXPECT_EQ(ids(*page1), (std::vector<std::int64_t>{e, d}));
  auto page2 = db_->list({.before_id = page1->back().id, .limit = 2});
  EXPECT_EQ(ids(*page2), (std::vector<std::int64_t>{c, b}));
  auto page3 = db_->list({.before_id = page2->back().id, .limit = 2});
  EXPECT_EQ(ids(*page3), (std::vector<std::int64_t>{a}));
  EXPECT_TRUE(db_->list({.before_id = a, .limit = 2})->empty());
  EXPECT_EQ(ids(*db_->list({.subject = "d1", .before_id = e, .limit = 1})), (std::vector<std::int64_t>{c}));

  const AlertRecord listed = db_->list({.subject = "d3"})->front();
  EXPECT_EQ(listed.rule, "offline");
  EXPECT_EQ(listed.state, AlertState::resolved);
  EXPECT_EQ(listed.ended_ms, 2000);

  for (std::size_t limit : {std::size_t{0}, std::size_t{1001}}) {
    auto refused = db_->list({.limit = limit});
    ASSERT_FALSE(refused.ok()) << limit;
    EXPECT_EQ(refused.error().code, Errc::invalid_argument);
  }
  EXPECT_EQ(db_->list({.limit = 1000})->size(), 5u);
  EXPECT_EQ(db_->list({.limit = 1})->size(), 1u);
}

TEST_F(AlertDbTest, CountsFiringByRuleAndForgetsOnlyResolvedAlertsEndedBeforeTheCutoff) {
  const std::int64_t old_resolved = fire(alert("hot", "d1", 100));
  const std::int64_t at_cutoff = fire(alert("hot", "d2", 100));
  const std::int64_t new_resolved = fire(alert("hot", "d3", 100));
  const std::int64_t old_firing = fire(alert("offline", "d1", 100));
  fire(alert("offline", "d2", 200));
  fire(alert("cold", "d1", 300));
  ASSERT_TRUE(*db_->resolve(old_resolved, 1000, "condition cleared"));
  ASSERT_TRUE(*db_->resolve(at_cutoff, 5000, "condition cleared"));
  ASSERT_TRUE(*db_->resolve(new_resolved, 9000, "condition cleared"));

  auto counts = db_->firing_by_rule();
  ASSERT_TRUE(counts.ok()) << counts.error().message;
  EXPECT_EQ(*counts, (std::vector<std::pair<std::string, std::uint64_t>>{{"cold", 1}, {"offline", 2}}))
      << "hot has none firing";

  auto forgotten = db_->forget_resolved(5000);
  ASSERT_TRUE(forgotten.ok()) << forgotten.error().message;
  EXPECT_EQ(*forgotten, 1u);
  EXPECT_FALSE(db_->alert(old_resolved)->has_value());
  EXPECT_TRUE(db_->alert(at_cutoff)->has_value()) << "ended at the cutoff, not before it";
  EXPECT_TRUE(db_->alert(new_resolved)->has_value());
  EXPECT_TRUE(db_->alert(old_firing)->has_value());

  auto all = db_->forget_resolved(std::numeric_limits<std::int64_t>::max());
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, 2u);
  EXPECT_EQ(db_->list()->size(), 3u) << "firing alerts are never forgotten, however old";
  EXPECT_EQ(db_->firing()->size(), 3u);
  EXPECT_EQ(*db_->forget_resolved(std::numeric_limits<std::int64_t>::max()), 0u);
}

TEST_F(AlertDbTest, TheFileItselfKeepsTheInvariants) {
  fire(alert("hot", "d1"));
  const std::string columns =
      "INSERT INTO alerts (rule, kind, subject, state, started_ms, ended_ms, value, summary, resolution,"
      " acknowledged_by, acknowledged_ms) VALUES ";
  EXPECT_NE(raw_exec(path_, columns + "('hot', 'threshold', 'd2', 'resolved', 1, NULL, NULL, '', '', '', NULL)"), "")
      << "resolved without an end";
  EXPECT_NE(raw_exec(path_, columns + "('hot', 'threshold', 'd2', 'firing', 1, 5, NULL, '', '', '', NULL)"), "")
      << "firing with an end";
  EXPECT_NE(raw_exec(path_, columns + "('hot', 'threshold', 'd2', 'silenced', 1, NULL, NULL, '', '', '', NULL)"), "")
      << "an unknown state";
  EXPECT_NE(raw_exec(path_, columns + "('hot', 'threshold', 'd1', 'firing', 1, NULL, NULL, '', '', '', NULL)"), "")
      << "a second firing alert of hot on d1";
  EXPECT_NE(raw_exec(path_, columns + "('hot', 'threshold', 'd2', 'firing', 1, NULL, NULL, '', '', 'ann', NULL)"), "")
      << "an acknowledgement without its time";
  EXPECT_NE(raw_exec(path_, columns + "('hot', 'threshold', 'd2', 'firing', 1, NULL, 'warm', '', '', '', NULL)"), "")
      << "a value that is not a number (STRICT)";
  EXPECT_EQ(raw_exec(path_, columns + "('hot', 'threshold', 'd1', 'resolved', 1, 5, NULL, '', '', '', NULL)"), "")
      << "any number of resolved ones";
  EXPECT_EQ(db_->list()->size(), 2u);
}

TEST(AlertDbMoved, AMovedFromDatabaseFailsInsteadOfCrashing) {
  testing::TempDir dir;
  auto db = AlertDb::open(dir / "alerts.db");
  ASSERT_TRUE(db.ok()) << db.error().message;
  AlertDb moved = std::move(*db);
  EXPECT_TRUE(moved.firing().ok());
  auto used = db->firing();  // NOLINT(bugprone-use-after-move): what this test is about
  ASSERT_FALSE(used.ok());
  EXPECT_EQ(used.error().code, Errc::invalid_argument);
}

// The webhooks' queue: a delivery per webhook is owed for each transition, written with it, never
// twice for one transition, and taken away with its alert by retention.
TEST_F(AlertDbTest, EachTransitionQueuesOneDeliveryPerWebhookWithItAndOnlyOnce) {
  const std::vector<std::string> webhooks{"ops", "pager"};
  auto fired = db_->fire(alert("hot", "d1", 1000), webhooks);
  ASSERT_TRUE(fired.ok()) << fired.error().message;
  auto again = db_->fire(alert("hot", "d1", 2000), webhooks);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, fired->id);
  auto due = db_->due_deliveries(1000, 10);
  ASSERT_TRUE(due.ok()) << due.error().message;
  ASSERT_EQ(due->size(), 2u) << "firing twice owes nothing more";
  EXPECT_EQ((*due)[0].webhook, "ops");
  EXPECT_EQ((*due)[0].event, "fired");
  EXPECT_EQ((*due)[0].alert.id, fired->id);
  EXPECT_EQ((*due)[1].webhook, "pager");
  EXPECT_TRUE(db_->due_deliveries(999, 10)->empty()) << "not due before the transition";

  ASSERT_TRUE(db_->delivered((*due)[0].id, 1100).ok());
  ASSERT_TRUE(db_->delivery_failed((*due)[1].id, "answered 500", 5000).ok());
  EXPECT_TRUE(db_->due_deliveries(4999, 10)->empty());
  due = db_->due_deliveries(5000, 10);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].attempts, 1);

  ASSERT_TRUE(*db_->resolve(fired->id, 6000, "condition cleared", webhooks));
  ASSERT_FALSE(*db_->resolve(fired->id, 7000, "condition cleared", webhooks)) << "resolved already";
  due = db_->due_deliveries(7000, 10);
  ASSERT_EQ(due->size(), 3u) << "the retried firing, and the resolution for each webhook";
  EXPECT_EQ((*due)[1].event, "resolved");
  EXPECT_EQ((*due)[1].alert.state, AlertState::resolved);
  ASSERT_TRUE(db_->delivery_failed((*due)[0].id, "gone", std::nullopt).ok());
  auto counts = db_->delivery_counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->pending, 2u);
  EXPECT_EQ(counts->dead, 1u);

  ASSERT_EQ(*db_->forget_resolved(10'000), 1u);
  counts = db_->delivery_counts();
  EXPECT_EQ(counts->pending, 0u) << "retention takes an alert's deliveries with it";
  EXPECT_EQ(counts->dead, 0u);
}

// Silences: one active per rule and subject, its end replaced by a second one; while it lasts the
// transitions of its rule and subject owe no delivery; lifted, they do again; retention forgets it.
TEST_F(AlertDbTest, ASilenceHoldsBackTheDeliveriesOfItsRuleAndSubjectUntilItEnds) {
  const std::vector<std::string> webhooks{"ops"};
  EXPECT_EQ(db_->silence({.rule = "hot", .subject = "d1", .until_ms = 1000, .created_by = "ann"}, 1000).error().code,
            Errc::invalid_argument)
      << "over before it starts";
  auto silenced =
      db_->silence({.rule = "hot", .subject = "d1", .until_ms = 5000, .created_by = "ann", .comment = "defrost"}, 1000);
  ASSERT_TRUE(silenced.ok()) << silenced.error().message;
  EXPECT_GT(silenced->id, 0);
  EXPECT_EQ(silenced->created_ms, 1000);
  auto longer = db_->silence({.rule = "hot", .subject = "d1", .until_ms = 8000, .created_by = "bob"}, 1500);
  ASSERT_TRUE(longer.ok());
  EXPECT_EQ(longer->id, silenced->id) << "the active silence is changed, not doubled";
  auto active = db_->active_silences(1500);
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].until_ms, 8000);
  EXPECT_EQ((*active)[0].created_by, "bob");

  auto fired = db_->fire(alert("hot", "d1", 2000), webhooks);
  ASSERT_TRUE(db_->fire(alert("hot", "d2", 2000), webhooks).ok());
  auto due = db_->due_deliveries(2000, 10);
  ASSERT_EQ(due->size(), 1u) << "d1's firing is silenced, d2's is not";
  EXPECT_EQ((*due)[0].alert.subject, "d2");
  ASSERT_TRUE(db_->delivered((*due)[0].id, 2000).ok());
  ASSERT_TRUE(*db_->resolve(fired->id, 3000, "condition cleared", webhooks));
  EXPECT_TRUE(db_->due_deliveries(3000, 10)->empty()) << "its resolution too";

  EXPECT_EQ(db_->lift_silence(silenced->id, "", 4000).error().code, Errc::invalid_argument) << "lifted by nobody";
  auto lifted = db_->lift_silence(silenced->id, "carl", 4000);
  ASSERT_TRUE(lifted.ok() && lifted->has_value());
  EXPECT_EQ((*lifted)->until_ms, 4000);
  EXPECT_EQ((*lifted)->created_by, "carl") << "a lift is the silence's newest change";
  EXPECT_EQ((*lifted)->created_ms, 4000);
  EXPECT_FALSE(db_->lift_silence(silenced->id, "carl", 4000)->has_value()) << "over already";
  EXPECT_FALSE(db_->lift_silence(999, "carl", 4000)->has_value());
  EXPECT_TRUE(db_->active_silences(4000)->empty());
  ASSERT_TRUE(db_->fire(alert("hot", "d1", 4500), webhooks).ok());
  EXPECT_EQ(db_->due_deliveries(4500, 10)->size(), 1u) << "lifted: notified again";

  ASSERT_TRUE(db_->silence({.rule = "hot", .subject = "d1", .until_ms = 9000, .created_by = "ann"}, 4600).ok());
  EXPECT_NE(db_->active_silences(4600)->front().id, silenced->id) << "a new silence after the lifted one";
  ASSERT_TRUE(db_->forget_resolved(8500).ok());
  EXPECT_EQ(db_->active_silences(0)->size(), 1u) << "the lifted one is forgotten, the lasting one kept";
}

// Versions of a silence from other gateways (docs/scaling.md): the later change wins, a lift
// beats the silence it ends at the same millisecond, and a change made here after a version from a
// clock ahead is stamped after it.
TEST_F(AlertDbTest, AnotherGatewaysSilenceIsTakenOnlyWhenItSupersedesTheOneHere) {
  const SilenceRecord set{.rule = "hot", .subject = "d1", .until_ms = 9000, .created_by = "ann", .created_ms = 1000};
  SilenceRecord lift = set;
  lift.until_ms = 1000;
  EXPECT_TRUE(supersedes(lift, set)) << "at the same millisecond the lift wins";
  EXPECT_FALSE(supersedes(set, lift));
  SilenceRecord later = set;
  later.created_ms = 1001;
  later.until_ms = 99'000;
  EXPECT_TRUE(supersedes(later, lift));
  SilenceRecord other_user = set;
  other_user.created_by = "bob";
  EXPECT_NE(supersedes(other_user, set), supersedes(set, other_user)) << "a tie is settled one way";
  EXPECT_FALSE(supersedes(set, set));

  EXPECT_EQ(db_->take_silence(SilenceRecord{.rule = "hot", .subject = "d1", .until_ms = 9000}).error().code,
            Errc::invalid_argument)
      << "set by nobody";
  ASSERT_TRUE(*db_->take_silence(set)) << "none here: added";
  auto active = db_->active_silences(2000);
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ(active->front().created_by, "ann");
  EXPECT_EQ(active->front().until_ms, 9000);
  EXPECT_FALSE(*db_->take_silence(set)) << "the same version again (an echo) changes nothing";
  SilenceRecord older = set;
  older.created_ms = 500;
  older.until_ms = 50'000;
  EXPECT_FALSE(*db_->take_silence(older));
  ASSERT_TRUE(*db_->take_silence(lift)) << "lifted on another gateway";
  EXPECT_TRUE(db_->active_silences(2000)->empty());
  EXPECT_FALSE(*db_->take_silence(set)) << "a lift is not undone by the version it ended";

  // A silence set here after a version stamped ahead of this clock is stamped after that version.
  ASSERT_TRUE(*db_->take_silence(
      {.rule = "hot", .subject = "d2", .until_ms = 20'000, .created_by = "bob", .created_ms = 10'000}));
  auto here = db_->silence({.rule = "hot", .subject = "d2", .until_ms = 30'000, .created_by = "ann"}, 3000);
  ASSERT_TRUE(here.ok()) << here.error().message;
  EXPECT_EQ(here->created_ms, 10'001);
  auto lifted_here = db_->lift_silence(here->id, "carl", 3500);
  ASSERT_TRUE(lifted_here.ok() && lifted_here->has_value());
  EXPECT_EQ((*lifted_here)->created_ms, 10'002);

  auto versions = db_->silence_versions();
  ASSERT_TRUE(versions.ok()) << versions.error().message;
  ASSERT_EQ(versions->size(), 2u) << "one per rule and subject, lasting or over";
  EXPECT_EQ((*versions)[0].subject, "d1");
  EXPECT_EQ((*versions)[0].until_ms, 1000);
  EXPECT_EQ((*versions)[1].subject, "d2");
  EXPECT_EQ((*versions)[1].created_by, "carl");
  EXPECT_EQ((*versions)[1].until_ms, 3500);
}

// A version 1 file (before silences) is upgraded in place and keeps its alerts.
TEST_F(AlertDbTest, AVersion1FileGainsSilencesAndAddedRulesAndKeepsItsAlerts) {
  ASSERT_TRUE(db_->fire(alert("hot", "d1", 1000)).ok());
  db_.reset();
  ASSERT_EQ(raw_exec(dir_ / "alerts.db",
                     "DROP TABLE silences; DROP TABLE added_rules; DROP TABLE removed_rules; PRAGMA user_version = 1;"),
            "");
  auto reopened = AlertDb::open(dir_ / "alerts.db");
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  EXPECT_EQ(reopened->firing()->size(), 1u);
  EXPECT_TRUE(reopened->silence({.rule = "hot", .subject = "d1", .until_ms = 5000, .created_by = "ann"}, 1000).ok());
  EXPECT_TRUE(reopened->add_rule({.name = "hot", .definition = "{}", .created_by = "ann", .created_ms = 1}).ok());
}

TEST_F(AlertDbTest, AVersion2FileGainsAddedRulesAndKeepsItsSilences) {
  ASSERT_TRUE(db_->silence({.rule = "hot", .subject = "d1", .until_ms = 5000, .created_by = "ann"}, 1000).ok());
  db_.reset();
  ASSERT_EQ(raw_exec(dir_ / "alerts.db", "DROP TABLE added_rules; DROP TABLE removed_rules; PRAGMA user_version = 2;"),
            "");
  auto reopened = AlertDb::open(dir_ / "alerts.db");
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  EXPECT_EQ(reopened->active_silences(1000)->size(), 1u);
  auto added = reopened->add_rule({.name = "hot", .definition = "{}", .created_by = "ann", .created_ms = 1});
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_TRUE(*added);
}

TEST_F(AlertDbTest, AVersion3FileGainsRemovalsAndKeepsItsAddedRules) {
  ASSERT_TRUE(*db_->add_rule({.name = "hot", .definition = "{}", .created_by = "ann", .created_ms = 1}));
  db_.reset();
  ASSERT_EQ(raw_exec(dir_ / "alerts.db", "DROP TABLE removed_rules; PRAGMA user_version = 3;"), "");
  auto reopened = AlertDb::open(dir_ / "alerts.db");
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  EXPECT_EQ(reopened->added_rules()->size(), 1u);
  auto removed = reopened->remove_rule({.name = "hot", .removed_by = "ann", .removed_ms = 2});
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_TRUE(*removed);
  EXPECT_EQ(reopened->removed_rules()->size(), 1u);
}

// A version 4 file's deliveries table is rebuilt to allow 'peer': its queue is kept as it was.
TEST_F(AlertDbTest, AVersion4FileKeepsItsQueueAndMayLeaveDeliveriesToPeers) {
  auto fired = db_->fire(alert("hot", "d1", 1000), std::vector<std::string>{"ops", "pager"});
  ASSERT_TRUE(fired.ok());
  ASSERT_TRUE(db_->delivery_failed(db_->due_deliveries(1000, 10)->at(1).id, "answered 500", 5000).ok());
  db_.reset();
  ASSERT_EQ(raw_exec(path_,
                     "DROP TABLE deliveries; CREATE TABLE deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, webhook "
                     "TEXT NOT NULL, alert INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE, event TEXT NOT "
                     "NULL CHECK (event IN ('fired', 'resolved')), state TEXT NOT NULL CHECK (state IN ('pending', "
                     "'delivered', 'dead')), attempts INTEGER NOT NULL CHECK (attempts >= 0), next_attempt_ms INTEGER "
                     "NOT NULL, last_error TEXT NOT NULL, created_ms INTEGER NOT NULL) STRICT;"
                     " INSERT INTO deliveries VALUES (7, 'ops', 1, 'fired', 'pending', 0, 1000, '', 1000),"
                     " (8, 'pager', 1, 'fired', 'pending', 1, 5000, 'answered 500', 1000);"
                     // Deliveries up to 20 were given; those above 8 are forgotten since.
                     " UPDATE sqlite_sequence SET seq = 20 WHERE name = 'deliveries';"
                     " PRAGMA user_version = 4;"),
            "");
  auto reopened = AlertDb::open(path_);
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  auto due = reopened->due_deliveries(5000, 10);
  ASSERT_TRUE(due.ok()) << due.error().message;
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].id, 7);
  EXPECT_EQ((*due)[1].id, 8);
  EXPECT_EQ((*due)[1].attempts, 1);
  EXPECT_EQ((*due)[1].alert.id, fired->id);
  ASSERT_TRUE(reopened->leave_delivery_to_peer(7, "svc-gateway-b", 5000).ok());
  EXPECT_EQ(raw_value(path_, "SELECT state || ' ' || last_error FROM deliveries WHERE id = 7"),
            "peer notified by gateway svc-gateway-b");
  EXPECT_EQ(raw_value(path_, "SELECT count(*) FROM pragma_index_list('deliveries')"), "2");
  // A new delivery's id was never given before: a receiver keeping the ids it saw takes it.
  ASSERT_TRUE(reopened->fire(alert("hot", "d2", 6000), std::vector<std::string>{"ops"}).ok());
  EXPECT_EQ(raw_value(path_, "SELECT max(id) FROM deliveries"), "21");
}

// The referee's two answers besides "send": wait (postponed, no attempt counted) and "a peer
// notifies it" (never due again, neither pending nor dead).
TEST_F(AlertDbTest, APostponedDeliveryWaitsAndOneLeftToAPeerIsNeverSent) {
  ASSERT_TRUE(db_->fire(alert("hot", "d1", 1000), std::vector<std::string>{"ops", "pager"}).ok());
  auto due = db_->due_deliveries(1000, 10);
  ASSERT_EQ(due->size(), 2u);
  ASSERT_TRUE(db_->postpone_delivery((*due)[0].id, 3000).ok());
  ASSERT_TRUE(db_->leave_delivery_to_peer((*due)[1].id, "svc-gateway-b", 1500).ok());
  EXPECT_TRUE(db_->due_deliveries(2999, 10)->empty());
  auto later = db_->due_deliveries(1'000'000, 10);
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ((*later)[0].id, (*due)[0].id);
  EXPECT_EQ((*later)[0].attempts, 0) << "waiting is no attempt";
  auto counts = db_->delivery_counts();
  EXPECT_EQ(counts->pending, 1u);
  EXPECT_EQ(counts->dead, 0u);
  // Neither answer changes a delivery that is no longer pending.
  ASSERT_TRUE(db_->postpone_delivery((*due)[1].id, 4000).ok());
  ASSERT_TRUE(db_->delivered((*due)[1].id, 4000).ok());
  EXPECT_EQ(raw_value(path_, "SELECT state FROM deliveries WHERE id = " + std::to_string((*due)[1].id)), "peer");
}

TEST_F(AlertDbTest, AddedRulesAreKeptInTheOrderTheyWereAddedChangedAndRemovedByName) {
  auto first = db_->add_rule({.name = "warm", .definition = R"({"a":1})", .created_by = "ann", .created_ms = 100});
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(*first);
  ASSERT_TRUE(*db_->add_rule({.name = "cold", .definition = R"({"b":2})", .created_by = "bob", .created_ms = 200}));
  // A name is taken once: the first definition stays.
  EXPECT_FALSE(*db_->add_rule({.name = "warm", .definition = R"({"c":3})", .created_by = "bob", .created_ms = 300}));

  EXPECT_TRUE(*db_->change_rule("warm", R"({"a":2})", "bob", 400));
  EXPECT_FALSE(*db_->change_rule("unknown", R"({"a":2})", "bob", 400));

  auto rules = db_->added_rules();
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  ASSERT_EQ(rules->size(), 2u);
  const AddedRuleRecord& warm = (*rules)[0];
  EXPECT_EQ(warm.name, "warm");
  EXPECT_EQ(warm.definition, R"({"a":2})");
  EXPECT_EQ(warm.created_by, "ann");
  EXPECT_EQ(warm.created_ms, 100);
  EXPECT_EQ(warm.updated_by, "bob");
  EXPECT_EQ(warm.updated_ms, 400);
  const AddedRuleRecord& cold = (*rules)[1];
  EXPECT_EQ(cold.name, "cold");
  EXPECT_EQ(cold.updated_by, "bob");  // as created
  EXPECT_EQ(cold.updated_ms, 200);

  EXPECT_TRUE(*db_->remove_rule({.name = "warm", .removed_by = "ann", .removed_ms = 500}));
  EXPECT_FALSE(*db_->remove_rule({.name = "warm", .removed_by = "bob", .removed_ms = 600}));
  rules = db_->added_rules();
  ASSERT_EQ(rules->size(), 1u);
  EXPECT_EQ(rules->front().name, "cold");
  // The removal is kept, the later one replacing the earlier.
  auto removed = db_->removed_rules();
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  ASSERT_EQ(removed->size(), 1u);
  EXPECT_EQ(removed->front().name, "warm");
  EXPECT_EQ(removed->front().removed_by, "bob");
  EXPECT_EQ(removed->front().removed_ms, 600);
  EXPECT_FALSE(db_->remove_rule({.name = "warm", .removed_by = "", .removed_ms = 700}).ok());

  // Nobody's rule and an empty definition are refused before they reach the file.
  EXPECT_FALSE(db_->add_rule({.name = "x", .definition = "{}", .created_by = "", .created_ms = 1}).ok());
  EXPECT_FALSE(db_->add_rule({.name = "x", .definition = "", .created_by = "ann", .created_ms = 1}).ok());
  EXPECT_FALSE(db_->change_rule("cold", "", "ann", 1).ok());
  EXPECT_FALSE(db_->change_rule("cold", "{}", "", 1).ok());
}

// Another gateway's version of a rule is stored as it is: in place of the rule of its name (which
// keeps its place), or after the others; adding or putting a rule forgets the removal of its name.
TEST_F(AlertDbTest, AnotherGatewaysVersionOfARuleReplacesItsNamesRuleOrRemoval) {
  ASSERT_TRUE(*db_->add_rule({.name = "first", .definition = R"({"a":1})", .created_by = "ann", .created_ms = 100}));
  ASSERT_TRUE(*db_->add_rule({.name = "second", .definition = R"({"b":1})", .created_by = "ann", .created_ms = 110}));
  ASSERT_TRUE(db_->put_rule({.name = "first",
                             .definition = R"({"a":2})",
                             .created_by = "bob",
                             .created_ms = 90,
                             .updated_by = "cid",
                             .updated_ms = 200})
                  .ok());
  ASSERT_FALSE(*db_->remove_rule({.name = "gone", .removed_by = "ann", .removed_ms = 150}));  // never there
  ASSERT_TRUE(db_->put_rule({.name = "gone",
                             .definition = R"({"c":1})",
                             .created_by = "dan",
                             .created_ms = 300,
                             .updated_by = "dan",
                             .updated_ms = 300})
                  .ok());
  auto rules = db_->added_rules();
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  ASSERT_EQ(rules->size(), 3u);
  EXPECT_EQ((*rules)[0].name, "first");
  EXPECT_EQ((*rules)[0].definition, R"({"a":2})");
  EXPECT_EQ((*rules)[0].created_by, "bob");
  EXPECT_EQ((*rules)[0].created_ms, 90);
  EXPECT_EQ((*rules)[0].updated_by, "cid");
  EXPECT_EQ((*rules)[0].updated_ms, 200);
  EXPECT_EQ((*rules)[1].name, "second");
  EXPECT_EQ((*rules)[2].name, "gone");
  EXPECT_TRUE(db_->removed_rules()->empty());

  ASSERT_TRUE(*db_->remove_rule({.name = "second", .removed_by = "ann", .removed_ms = 400}));
  ASSERT_TRUE(*db_->add_rule({.name = "second", .definition = R"({"b":2})", .created_by = "ann", .created_ms = 500}));
  EXPECT_TRUE(db_->removed_rules()->empty());
  EXPECT_FALSE(db_->put_rule({.name = "x", .definition = "{}", .created_by = "ann", .created_ms = 1}).ok());
}

}  // namespace
}  // namespace kelvin::store
