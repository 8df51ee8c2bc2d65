// The rules in effect (alert_rule_book.hpp) on a real alerts.db: configured rules first and fixed,
// added ones after them in order; each change is stored, then told to the listener; the refusals
// (a taken name, the limit, a configured rule, a changed kind, an unknown rule); what a restart
// reads back, including stored rules it cannot take; and the versions gateways of a share group
// exchange: each change here is one, and another gateway's is taken only when it supersedes.

#include "kelvin/gateway/alert_rule_book.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "alert_json.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::gateway {
namespace {

alerts::AlertRule threshold(const std::string& name, double above) {
  return {.name = name,
          .kind = alerts::RuleKind::threshold,
          .scope = {.devices = {"sensor-01"}},
          .level = {.above = true, .fire_at = above, .clear_at = above - 2}};
}

std::vector<std::string> names(const std::vector<alerts::AlertRule>& rules) {
  std::vector<std::string> out;
  for (const auto& rule : rules) out.push_back(rule.name);
  return out;
}

class AlertRuleBookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::AlertDb::open(dir_ / "alerts.db");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
  }

  // A book over the configured rules `device_offline` and `warm`, loaded from the file, telling
  // told_ of its changes.
  std::unique_ptr<AlertRuleBook> open_book() {
    auto book = std::make_unique<AlertRuleBook>(std::vector<alerts::AlertRule>{
        {.name = "device_offline", .kind = alerts::RuleKind::device_offline, .silent_ms = 600'000},
        threshold("warm", 30)});
    auto loaded = book->load(*db_);
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    book->on_change([this](std::vector<alerts::AlertRule> rules) { told_.push_back(names(rules)); });
    return book;
  }

  RuleChange ok(Result<RuleChange> outcome) {
    EXPECT_TRUE(outcome.ok()) << outcome.error().message;
    return outcome.ok() ? *outcome : RuleChange::done;
  }

  kelvin::testing::TempDir dir_;
  std::optional<store::AlertDb> db_;
  std::vector<std::vector<std::string>> told_;
};

TEST_F(AlertRuleBookTest, AddedRulesFollowTheConfiguredOnesAndEachChangeIsStoredThenTold) {
  auto book = open_book();
  EXPECT_EQ(names(book->rules()), (std::vector<std::string>{"device_offline", "warm"}));

  EXPECT_EQ(ok(book->add(*db_, threshold("hot", 40), "olaf", 1000)), RuleChange::done);
  EXPECT_EQ(ok(book->add(*db_, threshold("cold", -10), "vera", 2000)), RuleChange::done);
  EXPECT_EQ(names(book->rules()), (std::vector<std::string>{"device_offline", "warm", "hot", "cold"}));
  ASSERT_EQ(told_.size(), 2u);
  EXPECT_EQ(told_.back(), names(book->rules()));

  const auto hot = book->find("hot");
  ASSERT_TRUE(hot && hot->added);
  EXPECT_EQ(hot->added->created_by, "olaf");
  EXPECT_EQ(hot->added->created_ms, 1000);
  EXPECT_FALSE(book->find("warm")->added) << "configured";

  EXPECT_EQ(ok(book->change(*db_, threshold("hot", 45), "vera", 3000)), RuleChange::done);
  EXPECT_EQ(book->find("hot")->rule.level.fire_at, 45);
  EXPECT_EQ(book->find("hot")->added->updated_by, "vera");
  EXPECT_EQ(told_.size(), 3u);

  EXPECT_EQ(ok(book->remove(*db_, "hot", "ann", 3000)), RuleChange::done);
  EXPECT_EQ(names(book->rules()), (std::vector<std::string>{"device_offline", "warm", "cold"}));
  EXPECT_EQ(told_.back(), names(book->rules()));

  // A restart reads the added rules back as they were given.
  told_.clear();
  auto restarted = open_book();
  EXPECT_EQ(names(restarted->rules()), (std::vector<std::string>{"device_offline", "warm", "cold"}));
  EXPECT_EQ(rule_json(restarted->find("cold")->rule), rule_json(threshold("cold", -10)));
  EXPECT_TRUE(told_.empty()) << "loading is no change";
}

TEST_F(AlertRuleBookTest, RefusedChangesStoreNothingAndTellNobody) {
  auto book = open_book();
  ASSERT_EQ(ok(book->add(*db_, threshold("hot", 40), "olaf", 1000)), RuleChange::done);
  told_.clear();

  EXPECT_EQ(ok(book->add(*db_, threshold("warm", 10), "olaf", 1000)), RuleChange::name_taken) << "configured";
  EXPECT_EQ(ok(book->add(*db_, threshold("hot", 10), "olaf", 1000)), RuleChange::name_taken) << "added";
  EXPECT_EQ(ok(book->change(*db_, threshold("warm", 10), "olaf", 1000)), RuleChange::configured);
  EXPECT_EQ(ok(book->change(*db_, threshold("nope", 10), "olaf", 1000)), RuleChange::not_found);
  alerts::AlertRule offline{.name = "hot", .kind = alerts::RuleKind::device_offline, .silent_ms = 60'000};
  EXPECT_EQ(ok(book->change(*db_, offline, "olaf", 1000)), RuleChange::kind_changed);
  EXPECT_EQ(ok(book->remove(*db_, "warm", "ann", 3000)), RuleChange::configured);
  EXPECT_EQ(ok(book->remove(*db_, "nope", "ann", 3000)), RuleChange::not_found);

  EXPECT_TRUE(told_.empty());
  EXPECT_EQ(book->find("hot")->rule.level.fire_at, 40);
  EXPECT_EQ(db_->added_rules()->size(), 1u);
}

TEST_F(AlertRuleBookTest, AtMostTheLimitOfRulesCanBeAdded) {
  auto book = open_book();
  for (std::size_t i = 0; i < AlertRuleBook::kMaxAddedRules; ++i) {
    ASSERT_EQ(ok(book->add(*db_, threshold("rule-" + std::to_string(i), 40), "olaf", 1000)), RuleChange::done);
  }
  EXPECT_EQ(ok(book->add(*db_, threshold("one-more", 40), "olaf", 1000)), RuleChange::too_many);
  EXPECT_EQ(ok(book->remove(*db_, "rule-0", "ann", 3000)), RuleChange::done);
  EXPECT_EQ(ok(book->add(*db_, threshold("one-more", 40), "olaf", 1000)), RuleChange::done);
}

// A stored rule the book cannot take is left out, not judged, and can still be removed; one whose
// name the config file took since gives way to the configured rule.
TEST_F(AlertRuleBookTest, StoredRulesItCannotTakeAreLeftOutAndStayRemovable) {
  ASSERT_TRUE(*db_->add_rule({.name = "broken",
                              .definition = R"({"name":"broken","kind":"threshold"})",
                              .created_by = "olaf",
                              .created_ms = 1}));
  ASSERT_TRUE(*db_->add_rule(
      {.name = "warm", .definition = rule_json(threshold("warm", 99)).dump(), .created_by = "olaf", .created_ms = 2}));
  ASSERT_TRUE(*db_->add_rule(
      {.name = "hot", .definition = rule_json(threshold("hot", 40)).dump(), .created_by = "olaf", .created_ms = 3}));
  auto book = open_book();
  EXPECT_EQ(names(book->rules()), (std::vector<std::string>{"device_offline", "warm", "hot"}));
  EXPECT_EQ(book->find("warm")->rule.level.fire_at, 30) << "the configured rule wins";
  EXPECT_FALSE(book->find("broken"));

  EXPECT_EQ(ok(book->add(*db_, threshold("broken", 40), "olaf", 1000)), RuleChange::name_taken);
  EXPECT_EQ(ok(book->remove(*db_, "broken", "ann", 3000)), RuleChange::done);
  EXPECT_EQ(ok(book->add(*db_, threshold("broken", 40), "olaf", 1000)), RuleChange::done);
  EXPECT_EQ(names(book->rules()), (std::vector<std::string>{"device_offline", "warm", "hot", "broken"}));
}

proto::SharedRule shared(const alerts::AlertRule& rule, const std::string& by, std::int64_t at_ms) {
  return {.name = rule.name,
          .definition = rule_json(rule).dump(),
          .created_by = by,
          .created_ms = at_ms,
          .changed_by = by,
          .changed_ms = at_ms};
}

proto::SharedRule removal(const std::string& name, const std::string& by, std::int64_t at_ms) {
  return {.name = name, .changed_by = by, .changed_ms = at_ms};
}

TEST(SharedRuleVersions, TheLaterChangeSupersedesAndEveryGatewayBreaksATieTheSameWay) {
  const auto older = shared(threshold("hot", 40), "ann", 1000);
  const auto newer = shared(threshold("hot", 45), "bob", 2000);
  EXPECT_TRUE(supersedes(newer, older));
  EXPECT_FALSE(supersedes(older, newer));
  EXPECT_FALSE(supersedes(older, older)) << "the same version changes nothing";
  // At the same millisecond a removal wins, then the larger definition: never both ways.
  const auto removed = removal("hot", "ann", 1000);
  EXPECT_TRUE(supersedes(removed, older));
  EXPECT_FALSE(supersedes(older, removed));
  auto rival = shared(threshold("hot", 50), "cid", 1000);
  EXPECT_NE(supersedes(rival, older), supersedes(older, rival));
  EXPECT_NE(supersedes(removal("hot", "bob", 1000), removed), supersedes(removed, removal("hot", "bob", 1000)));
}

TEST_F(AlertRuleBookTest, EachChangeHereIsAVersionForTheOtherGateways) {
  auto book = open_book();
  std::vector<proto::SharedRule> versions;
  book->on_shared_change([&](const proto::SharedRule& version) { versions.push_back(version); });
  ASSERT_EQ(ok(book->add(*db_, threshold("hot", 40), "olaf", 1000)), RuleChange::done);
  ASSERT_EQ(ok(book->change(*db_, threshold("hot", 45), "vera", 2000)), RuleChange::done);
  ASSERT_EQ(ok(book->remove(*db_, "hot", "ann", 3000)), RuleChange::done);
  ASSERT_EQ(versions.size(), 3u);
  EXPECT_EQ(versions[0], shared(threshold("hot", 40), "olaf", 1000));
  auto changed = shared(threshold("hot", 45), "vera", 2000);
  changed.created_by = "olaf";
  changed.created_ms = 1000;
  EXPECT_EQ(versions[1], changed);
  EXPECT_EQ(versions[2], removal("hot", "ann", 3000));
  // The removal is kept: it is what this gateway tells a gateway that still has the rule.
  auto stored = AlertRuleBook::versions(*db_);
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(*stored, std::vector<proto::SharedRule>{removal("hot", "ann", 3000)});
  // Added again, even with a clock behind the removal's, the rule supersedes it.
  ASSERT_EQ(ok(book->add(*db_, threshold("hot", 40), "olaf", 2500)), RuleChange::done);
  EXPECT_EQ(versions.back().changed_ms, 3001);
  EXPECT_TRUE(supersedes(versions.back(), removal("hot", "ann", 3000)));
}

TEST_F(AlertRuleBookTest, AnotherGatewaysVersionIsTakenOnlyWhenItSupersedesTheOneStoredHere) {
  auto book = open_book();
  std::vector<proto::SharedRule> versions;
  book->on_shared_change([&](const proto::SharedRule& version) { versions.push_back(version); });
  auto merge = [&](const proto::SharedRule& version) {
    auto taken = book->merge(*db_, version);
    EXPECT_TRUE(taken.ok()) << taken.error().message;
    return taken.ok() && *taken;
  };
  EXPECT_TRUE(merge(shared(threshold("hot", 40), "olaf", 1000)));
  EXPECT_EQ(names(book->rules()), (std::vector<std::string>{"device_offline", "warm", "hot"}));
  EXPECT_EQ(told_.back(), names(book->rules())) << "the engine judges it";
  EXPECT_EQ(book->find("hot")->added->created_by, "olaf");
  EXPECT_FALSE(merge(shared(threshold("hot", 40), "olaf", 1000))) << "an echo";
  EXPECT_FALSE(merge(shared(threshold("hot", 30), "olaf", 900))) << "older";
  EXPECT_EQ(book->find("hot")->rule.level.fire_at, 40);
  EXPECT_TRUE(merge(shared(threshold("hot", 45), "vera", 2000)));
  EXPECT_EQ(book->find("hot")->rule.level.fire_at, 45);
  // A removal from elsewhere removes it; the rule of before the removal does not bring it back.
  EXPECT_TRUE(merge(removal("hot", "ann", 3000)));
  EXPECT_FALSE(book->find("hot"));
  EXPECT_FALSE(merge(shared(threshold("hot", 45), "vera", 2000)));
  EXPECT_FALSE(book->find("hot"));
  // A removal of a rule never heard of is kept, to pass it on.
  EXPECT_TRUE(merge(removal("never", "ann", 500)));
  // Every version taken is told, for this gateway to publish it under its own name.
  ASSERT_EQ(versions.size(), 4u);
  EXPECT_EQ(versions[3], removal("never", "ann", 500));
  // A change made here after another gateway's, stamped by a clock behind it, still supersedes it.
  EXPECT_TRUE(merge(shared(threshold("cold", -10), "vera", 10'000)));
  ASSERT_EQ(ok(book->change(*db_, threshold("cold", -12), "olaf", 9'000)), RuleChange::done);
  EXPECT_EQ(versions.back().changed_ms, 10'001);
}

TEST_F(AlertRuleBookTest, AVersionThisGatewayCannotReadIsRefusedAndAConfiguredNameIsStoredButNotJudged) {
  auto book = open_book();
  auto bad = shared(threshold("hot", 40), "olaf", 1000);
  bad.definition = R"({"name":"hot","kind":"sunspots"})";
  auto refused = book->merge(*db_, bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
  auto renamed = shared(threshold("other", 40), "olaf", 1000);
  renamed.name = "hot";
  EXPECT_FALSE(book->merge(*db_, renamed).ok()) << "a definition naming another rule";
  auto badly_named = shared(threshold("hot", 40), "olaf", 1000);
  badly_named.name = "Hot Rule";
  EXPECT_FALSE(book->merge(*db_, badly_named).ok());
  EXPECT_TRUE(AlertRuleBook::versions(*db_)->empty());

  auto taken = book->merge(*db_, shared(threshold("warm", 10), "olaf", 1000));
  ASSERT_TRUE(taken.ok() && *taken);
  EXPECT_EQ(book->find("warm")->rule.level.fire_at, 30) << "the config file's rule stays in effect";
  EXPECT_EQ(AlertRuleBook::versions(*db_)->size(), 1u);
}

}  // namespace
}  // namespace kelvin::gateway
