// What the gateways of a share group exchange about alerts (alert_sharing.hpp), on a real alerts.db
// with the MQTT connection replaced by a recorder: a silence set or lifted through the book is
// published on the gateway's own topic; another gateway's version is taken only when it supersedes
// the one stored here, and is then republished under this gateway's name; malformed versions and
// ones naming what no silence can are refused and counted; silences of the subject "gateway" (each
// gateway itself) are neither published nor taken; on a new connection everything stored is
// published again.

#include "kelvin/gateway/alert_sharing.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::gateway {
namespace {

constexpr const char* kSelf = "svc-gateway";
constexpr const char* kPeer = "svc-gateway-b";

struct Published {
  std::string topic;
  std::string payload;
  bool retain = false;
};

class AlertSharingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto routes_db = store::AlertDb::open(dir_ / "alerts.db");
    ASSERT_TRUE(routes_db.ok()) << routes_db.error().message;
    routes_db_.emplace(std::move(*routes_db));
    auto sharing_db = store::AlertDb::open(dir_ / "alerts.db");
    ASSERT_TRUE(sharing_db.ok()) << sharing_db.error().message;
    sharing_.emplace(kSelf, rules_, silences_, std::move(*sharing_db),
                     [this](const std::string& topic, const std::string& payload, bool retain) {
                       published_.push_back({topic, payload, retain});
                       return true;
                     });
  }

  // `version` as the peer publishes it.
  bool from_peer(const proto::SharedSilence& version) {
    return sharing_->handle_message(proto::silence_topic(kPeer, version.rule, version.subject),
                                    proto::encode_shared_silence(version));
  }

  std::vector<store::SilenceRecord> active(std::int64_t now_ms) {
    auto silences = routes_db_->active_silences(now_ms);
    EXPECT_TRUE(silences.ok()) << silences.error().message;
    return silences.ok() ? *silences : std::vector<store::SilenceRecord>{};
  }

  kelvin::testing::TempDir dir_;
  AlertRuleBook rules_{{}};
  SilenceBook silences_;
  std::optional<store::AlertDb> routes_db_;
  std::vector<Published> published_;
  std::optional<AlertSharing> sharing_;
};

TEST_F(AlertSharingTest, ASilenceSetOrLiftedHereIsPublishedRetainedOnThisGatewaysTopic) {
  auto set = silences_.set(*routes_db_,
                           {.rule = "device_offline",
                            .subject = "sensor-01",
                            .until_ms = 9000,
                            .created_by = "ann",
                            .comment = "on the bench"},
                           1000);
  ASSERT_TRUE(set.ok()) << set.error().message;
  ASSERT_EQ(published_.size(), 1u);
  EXPECT_EQ(published_[0].topic, "kelvin/gateways/svc-gateway/silences/device_offline/sensor-01");
  EXPECT_TRUE(published_[0].retain);
  auto decoded = proto::decode_shared_silence(published_[0].payload);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, (proto::SharedSilence{.rule = "device_offline",
                                            .subject = "sensor-01",
                                            .until_ms = 9000,
                                            .set_by = "ann",
                                            .set_ms = 1000,
                                            .comment = "on the bench"}));

  auto lifted = silences_.lift(*routes_db_, set->id, "bob", 2000);
  ASSERT_TRUE(lifted.ok() && lifted->has_value());
  ASSERT_EQ(published_.size(), 2u);
  auto lift = proto::decode_shared_silence(published_[1].payload);
  ASSERT_TRUE(lift.ok()) << lift.error().message;
  EXPECT_EQ(lift->until_ms, 2000);
  EXPECT_EQ(lift->set_by, "bob");
  EXPECT_EQ(lift->set_ms, 2000);
  EXPECT_EQ(sharing_->counters().silences.versions_published, 2u);

  EXPECT_FALSE(silences_.lift(*routes_db_, set->id, "bob", 2500)->has_value());
  EXPECT_EQ(published_.size(), 2u) << "nothing lifted, nothing published";

  // The subject "gateway" is each gateway itself (its disk, its backlog): its silences stay here.
  ASSERT_TRUE(
      silences_
          .set(*routes_db_, {.rule = "disk_space", .subject = "gateway", .until_ms = 9000, .created_by = "ann"}, 3000)
          .ok());
  EXPECT_EQ(active(3000).size(), 1u);
  EXPECT_EQ(published_.size(), 2u) << "a gateway's own silence is not shared";
}

TEST_F(AlertSharingTest, AnotherGatewaysSilenceIsTakenWhenNewerAndRepublishedUnderThisGatewaysName) {
  const proto::SharedSilence set{.rule = "hot",
                                 .subject = "sensor-02",
                                 .until_ms = 50'000,
                                 .set_by = "vera",
                                 .set_ms = 1000,
                                 .comment = "defrost"};
  EXPECT_TRUE(from_peer(set));
  auto now_active = active(2000);
  ASSERT_EQ(now_active.size(), 1u);
  EXPECT_EQ(now_active[0].created_by, "vera");
  EXPECT_EQ(now_active[0].comment, "defrost");
  ASSERT_EQ(published_.size(), 1u);
  EXPECT_EQ(published_[0].topic, "kelvin/gateways/svc-gateway/silences/hot/sensor-02");
  EXPECT_EQ(published_[0].payload, proto::encode_shared_silence(set));

  // The echo of its own republication, and an older version, change nothing.
  EXPECT_TRUE(sharing_->handle_message(published_[0].topic, published_[0].payload));
  proto::SharedSilence older = set;
  older.set_ms = 500;
  older.until_ms = 90'000;
  EXPECT_TRUE(from_peer(older));
  EXPECT_EQ(active(2000)[0].until_ms, 50'000);
  EXPECT_EQ(published_.size(), 1u);

  // Lifted on the peer: over here too.
  proto::SharedSilence lift = set;
  lift.until_ms = 3000;
  lift.set_ms = 3000;
  lift.set_by = "walt";
  EXPECT_TRUE(from_peer(lift));
  EXPECT_TRUE(active(3500).empty());
  EXPECT_EQ(published_.size(), 2u);

  const auto counters = sharing_->counters().silences;
  EXPECT_EQ(counters.versions_received, 4u);
  EXPECT_EQ(counters.versions_taken, 2u);
  EXPECT_EQ(counters.versions_rejected, 0u);
  EXPECT_EQ(sharing_->counters().rules.versions_received, 0u);
}

TEST_F(AlertSharingTest, MalformedVersionsAndOnesNamingNoPossibleSilenceAreRefusedAndCounted) {
  const std::string topic = proto::silence_topic(kPeer, "hot", "sensor-02");
  const proto::SharedSilence good{.rule = "hot", .subject = "sensor-02", .until_ms = 9000, .set_by = "v", .set_ms = 1};
  proto::SharedSilence other_subject = good;
  other_subject.subject = "sensor-03";
  proto::SharedSilence bad_rule = good;
  bad_rule.rule = "Hot Rule";
  proto::SharedSilence bad_subject = good;
  bad_subject.subject = "sensor 02";
  proto::SharedSilence peers_own = good;
  peers_own.subject = "gateway";
  EXPECT_TRUE(sharing_->handle_message(topic, "{"));
  EXPECT_TRUE(sharing_->handle_message(topic, R"({"rule":"hot"})"));
  EXPECT_TRUE(sharing_->handle_message(topic, proto::encode_shared_silence(other_subject)));
  EXPECT_TRUE(sharing_->handle_message(proto::silence_topic(kPeer, bad_rule.rule, bad_rule.subject),
                                       proto::encode_shared_silence(bad_rule)));
  EXPECT_TRUE(sharing_->handle_message(proto::silence_topic(kPeer, bad_subject.rule, bad_subject.subject),
                                       proto::encode_shared_silence(bad_subject)));
  EXPECT_TRUE(sharing_->handle_message(proto::silence_topic(kPeer, peers_own.rule, peers_own.subject),
                                       proto::encode_shared_silence(peers_own)))
      << "the peer's silence of its own alerts";
  EXPECT_TRUE(sharing_->handle_message(topic, "")) << "a cleared retained message is the sharing's, and ignored";
  EXPECT_EQ(sharing_->counters().silences.versions_rejected, 6u);
  EXPECT_EQ(sharing_->counters().silences.versions_received, 0u);
  EXPECT_TRUE(active(2000).empty());
  EXPECT_TRUE(published_.empty());

  EXPECT_FALSE(sharing_->handle_message("kelvin/gateways/svc-gateway-b/presence", R"({"state":"offline"})"));
  EXPECT_FALSE(sharing_->handle_message("devices/sensor-02/telemetry", "{}"));
  EXPECT_TRUE(from_peer(good)) << "and it goes on";
  EXPECT_EQ(active(2000).size(), 1u);
}

TEST_F(AlertSharingTest, OnANewConnectionEverySilenceKeptIsPublishedAgainLastingOrOver) {
  auto lasting =
      silences_.set(*routes_db_, {.rule = "hot", .subject = "sensor-01", .until_ms = 9000, .created_by = "a"}, 1000);
  ASSERT_TRUE(lasting.ok());
  auto over =
      silences_.set(*routes_db_, {.rule = "hot", .subject = "sensor-02", .until_ms = 9000, .created_by = "a"}, 1000);
  ASSERT_TRUE(over.ok());
  ASSERT_TRUE(silences_.lift(*routes_db_, over->id, "b", 2000)->has_value());
  published_.clear();
  sharing_->publish_all();
  ASSERT_EQ(published_.size(), 2u);
  EXPECT_EQ(published_[0].topic, "kelvin/gateways/svc-gateway/silences/hot/sensor-01");
  EXPECT_EQ(proto::decode_shared_silence(published_[0].payload)->until_ms, 9000);
  EXPECT_EQ(published_[1].topic, "kelvin/gateways/svc-gateway/silences/hot/sensor-02");
  EXPECT_EQ(proto::decode_shared_silence(published_[1].payload)->until_ms, 2000) << "the lift, so the peers end it too";
}

}  // namespace
}  // namespace kelvin::gateway
