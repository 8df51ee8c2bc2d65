// The rules in effect (alert_rule_book.hpp) on a real alerts.db: configured rules first and fixed,
// added ones after them in order; each change is stored, then told to the listener; the refusals
// (a taken name, the limit, a configured rule, a changed kind, an unknown rule); and what a restart
// reads back, including stored rules it cannot take.

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

  EXPECT_EQ(ok(book->remove(*db_, "hot")), RuleChange::done);
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
  EXPECT_EQ(ok(book->remove(*db_, "warm")), RuleChange::configured);
  EXPECT_EQ(ok(book->remove(*db_, "nope")), RuleChange::not_found);

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
  EXPECT_EQ(ok(book->remove(*db_, "rule-0")), RuleChange::done);
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
  EXPECT_EQ(ok(book->remove(*db_, "broken")), RuleChange::done);
  EXPECT_EQ(ok(book->add(*db_, threshold("broken", 40), "olaf", 1000)), RuleChange::done);
  EXPECT_EQ(names(book->rules()), (std::vector<std::string>{"device_offline", "warm", "hot", "broken"}));
}

}  // namespace
}  // namespace kelvin::gateway
