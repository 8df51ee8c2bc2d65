// Gateways sharing a broker (peer_sync.hpp): what a notice makes consumed, the notice of a commit,
// and the join protocol as a state machine over a fake broker (recorded publishes, scripted
// messages) and a real store. The messages' codecs are tested in tests/unit/proto.

#include "kelvin/gateway/peer_sync.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::gateway {
namespace {

using proto::consumed_topic;
using proto::ConsumedNotice;
using proto::decode_notice;
using proto::encode_notice;
using proto::encode_summary;
using proto::SeqRun;
using ::testing::HasSubstr;
using Clock = PeerSync::Clock;
using namespace std::chrono_literals;

constexpr std::int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

ConsumedNotice::Device device(std::string id, std::uint64_t through, std::vector<SeqRun> above = {}) {
  return ConsumedNotice::Device{std::move(id), through, std::move(above), {}};
}

TEST(ConsumedRanges, ANoticeMakesItsWatermarkAndRunsConsumed) {
  ConsumedNotice notice;
  notice.devices.push_back(device("sensor-01", 120, {{130, 140}, {150, 150}}));
  notice.devices.push_back(device("sensor-02", 0, {{5, 9}}));
  auto ranges = consumed_ranges(notice, "svc-gateway-a", "svc-gateway-b");
  ASSERT_EQ(ranges.size(), 4u);
  EXPECT_EQ(ranges[0].device_id, "sensor-01");
  EXPECT_EQ(ranges[0].first_seq, 1u);
  EXPECT_EQ(ranges[0].last_seq, 120u);
  EXPECT_EQ(ranges[2].first_seq, 150u);
  EXPECT_EQ(ranges[3].device_id, "sensor-02");  // through 0 says nothing: no [1, 0] range
  EXPECT_EQ(ranges[3].first_seq, 5u);
}

TEST(ConsumedRanges, StoredRunsMakeTheLaterIdentityGiveWay) {
  ConsumedNotice notice;
  notice.devices.push_back(device("sensor-01", 120));
  notice.devices[0].stored = {{1, 3}, {100, 120}};
  // svc-gateway-b sorts after svc-gateway-a: b withdraws its copies of what a stored, a does not.
  auto at_b = consumed_ranges(notice, "svc-gateway-b", "svc-gateway-a");
  std::vector<SeqRun> withdrawn;
  for (const auto& range : at_b) {
    if (range.withdraw_own_copies) withdrawn.push_back({range.first_seq, range.last_seq});
  }
  EXPECT_EQ(withdrawn, (std::vector<SeqRun>{{1, 3}, {100, 120}}));
  for (const auto& range : consumed_ranges(notice, "svc-gateway-a", "svc-gateway-b")) {
    EXPECT_FALSE(range.withdraw_own_copies);
  }
}

TEST(CommitNotice, CarriesTheAckAndTheBatchsSeqsAboveItOnlyForDevicesHeardFrom) {
  store::IngestBatch batch;
  for (std::uint64_t seq : {7u, 9u, 10u, 3u}) {
    proto::Reading reading;
    reading.seq = seq;
    batch.readings.push_back({"sensor-01", reading});
  }
  batch.rejected.push_back({"sensor-01", 12, proto::RejectReason::out_of_range, kT0});
  batch.elsewhere.push_back({"sensor-02", 1, 50});
  store::CommitSummary summary;
  summary.acks = {{"sensor-01", 3, {{3, 3}, {7, 7}, {9, 10}}}, {"sensor-02", 50, {}}};
  auto notice = commit_notice(batch, summary);
  ASSERT_EQ(notice.devices.size(), 1u) << "sensor-02 came from a peer: not echoed back";
  EXPECT_EQ(notice.devices[0].device_id, "sensor-01");
  EXPECT_EQ(notice.devices[0].through, 3u);
  EXPECT_EQ(notice.devices[0].above, (std::vector<SeqRun>{{7, 7}, {9, 10}, {12, 12}}));
  EXPECT_EQ(notice.devices[0].stored, (std::vector<SeqRun>{{3, 3}, {7, 7}, {9, 10}}));
  EXPECT_FALSE(notice.full);
  EXPECT_TRUE(decode_notice(encode_notice(notice)).ok());
}

// ---- The join protocol ---------------------------------------------------------------------------

struct Published {
  std::string topic;
  std::string payload;
  bool retain;
};

class PeerSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::Store::open(tmp_ / "telemetry.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    // What this gateway holds: sensor-01 through 4, and 8-9 above a gap.
    store::IngestBatch batch;
    for (std::uint64_t seq : {1u, 2u, 3u, 4u, 8u, 9u}) {
      proto::Reading reading;
      reading.seq = seq;
      reading.ts_ms = kT0 + static_cast<std::int64_t>(seq) * 1000;
      reading.set(proto::Quantity::temperature, 20.0);
      batch.readings.push_back({"sensor-01", reading});
    }
    ASSERT_TRUE(store->commit(batch, kT0).ok());
    PeerSync::Options options;
    options.self = "svc-gateway-a";
    options.join_timeout = 5s;
    sync_ = std::make_unique<PeerSync>(
        options, std::move(*store),
        [this](const std::string& topic, const std::string& payload, bool retain) {
          published_.push_back({topic, payload, retain});
          return true;
        },
        [this](std::vector<store::ConsumedRange> ranges) {
          applied_.insert(applied_.end(), ranges.begin(), ranges.end());
        },
        [this] { ++ready_calls_; });
  }

  // What the broker would echo of our own presence.
  std::string own_presence() const {
    for (const auto& p : published_) {
      if (p.topic == proto::presence_topic("svc-gateway-a")) return p.payload;
    }
    ADD_FAILURE() << "no presence published";
    return {};
  }
  static std::string online(const std::string& session) { return proto::encode_presence({true, session}); }
  std::vector<Published> summaries() const {
    std::vector<Published> out;
    for (const auto& p : published_) {
      if (p.topic == proto::consumed_topic("svc-gateway-a") && p.payload.find("\"full\":true") != std::string::npos) {
        out.push_back(p);
      }
    }
    return out;
  }
  static std::string peer_summary(std::uint64_t through) {
    return encode_summary({device("sensor-01", through, {{20, 25}})}).front();
  }

  kelvin::testing::TempDir tmp_;
  std::unique_ptr<PeerSync> sync_;
  std::vector<Published> published_;
  std::vector<store::ConsumedRange> applied_;
  int ready_calls_ = 0;
  Clock::time_point t0_ = Clock::now();
};

TEST_F(PeerSyncTest, JoiningPublishesPresenceAndTheStoresSummary) {
  sync_->on_connected(t0_);
  ASSERT_GE(published_.size(), 2u);
  EXPECT_EQ(published_[0].topic, "kelvin/gateways/svc-gateway-a/presence");
  EXPECT_TRUE(published_[0].retain);
  EXPECT_THAT(published_[0].payload, HasSubstr("\"state\":\"online\""));
  auto parts = summaries();
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_FALSE(parts[0].retain);
  auto summary = decode_notice(parts[0].payload);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  ASSERT_EQ(summary->devices.size(), 1u);
  EXPECT_EQ(summary->devices[0].through, 4u);
  EXPECT_EQ(summary->devices[0].above, (std::vector<SeqRun>{{8, 9}}));
}

TEST_F(PeerSyncTest, AloneItIsReadyAsSoonAsItsOwnPresenceComesBack) {
  sync_->on_connected(t0_);
  EXPECT_FALSE(sync_->ready());
  sync_->poll(t0_ + 100ms);
  EXPECT_EQ(ready_calls_, 0) << "retained presences may still be on their way";
  EXPECT_TRUE(sync_->handle_message(proto::presence_topic("svc-gateway-a"), own_presence(), false, t0_ + 100ms));
  EXPECT_TRUE(sync_->ready());
  EXPECT_EQ(ready_calls_, 1);
  sync_->poll(t0_ + 10s);
  EXPECT_EQ(ready_calls_, 1) << "ready fires once per connection";
}

TEST_F(PeerSyncTest, WaitsForTheSummaryOfEveryPeerOnlineThenAppliesIt) {
  sync_->on_connected(t0_);
  // The retained presence of a peer that was there before us arrives first.
  sync_->handle_message(proto::presence_topic("svc-gateway-b"), online("b1"), /*retained=*/true, t0_);
  sync_->handle_message(proto::presence_topic("svc-gateway-a"), own_presence(), false, t0_);
  EXPECT_FALSE(sync_->ready()) << "svc-gateway-b's consumption is not known yet";
  EXPECT_EQ(summaries().size(), 1u) << "a retained presence is no join: no extra summary";

  sync_->handle_message(proto::consumed_topic("svc-gateway-b"), peer_summary(17), false, t0_ + 50ms);
  EXPECT_TRUE(sync_->ready());
  EXPECT_EQ(ready_calls_, 1);
  ASSERT_EQ(applied_.size(), 2u);
  EXPECT_EQ(applied_[0].device_id, "sensor-01");
  EXPECT_EQ(applied_[0].first_seq, 1u);
  EXPECT_EQ(applied_[0].last_seq, 17u);
  EXPECT_EQ(applied_[1].first_seq, 20u);
  EXPECT_EQ(applied_[1].last_seq, 25u);
}

TEST_F(PeerSyncTest, APeerThatNeverAnswersDelaysTelemetryOnlyUntilTheJoinTimeout) {
  sync_->on_connected(t0_);
  sync_->handle_message(proto::presence_topic("svc-gateway-b"), online("b1"), true, t0_);
  sync_->handle_message(proto::presence_topic("svc-gateway-a"), own_presence(), false, t0_);
  sync_->poll(t0_ + 4s);
  EXPECT_FALSE(sync_->ready());
  sync_->poll(t0_ + 5s);
  EXPECT_TRUE(sync_->ready());
  EXPECT_EQ(ready_calls_, 1);
}

TEST_F(PeerSyncTest, APeerGoingOfflineIsNoLongerWaitedFor) {
  sync_->on_connected(t0_);
  sync_->handle_message(proto::presence_topic("svc-gateway-b"), online("b1"), true, t0_);
  sync_->handle_message(proto::presence_topic("svc-gateway-a"), own_presence(), false, t0_);
  EXPECT_FALSE(sync_->ready());
  sync_->handle_message(proto::presence_topic("svc-gateway-b"), proto::offline_presence_payload(), false, t0_ + 10ms);
  EXPECT_TRUE(sync_->ready());
  EXPECT_EQ(sync_->counters().peers_online, 0u);
}

// A presence runs in libmosquitto's callback: whatever its payload, handling it must not throw.
TEST_F(PeerSyncTest, AMalformedPresenceIsRefusedAndChangesNothing) {
  sync_->on_connected(t0_);
  sync_->handle_message(proto::presence_topic("svc-gateway-b"), online("b1"), true, t0_);
  sync_->handle_message(proto::presence_topic("svc-gateway-a"), own_presence(), false, t0_);
  ASSERT_FALSE(sync_->ready());
  const auto summaries_before = summaries().size();
  for (const std::string payload : {R"({"state":"online","session":1})", R"({"state":1})", "[]", R"("x")",
                                    R"({"state":"online","session":"ab","state":"offline"})", "\x01garbage\xff"}) {
    bool handled = false;
    EXPECT_NO_THROW(handled = sync_->handle_message(proto::presence_topic("svc-gateway-b"), payload, false, t0_ + 10ms))
        << payload;
    EXPECT_TRUE(handled) << payload;
  }
  EXPECT_EQ(sync_->counters().presence_rejected, 6u);
  EXPECT_EQ(sync_->counters().peers_online, 1u) << "svc-gateway-b is still online: a refused presence says nothing";
  EXPECT_FALSE(sync_->ready());
  EXPECT_EQ(summaries().size(), summaries_before) << "a refused presence is no join to answer";
}

TEST_F(PeerSyncTest, ARetainedPresenceRemovedFromTheBrokerMeansThePeerIsGone) {
  sync_->on_connected(t0_);
  sync_->handle_message(proto::presence_topic("svc-gateway-b"), online("b1"), true, t0_);
  sync_->handle_message(proto::presence_topic("svc-gateway-a"), own_presence(), false, t0_);
  ASSERT_FALSE(sync_->ready());
  EXPECT_TRUE(sync_->handle_message(proto::presence_topic("svc-gateway-b"), "", true, t0_ + 10ms));
  EXPECT_EQ(sync_->counters().peers_online, 0u);
  EXPECT_EQ(sync_->counters().presence_rejected, 0u);
  EXPECT_TRUE(sync_->ready());
}

TEST_F(PeerSyncTest, APeerJoiningLaterGetsOurSummary) {
  sync_->on_connected(t0_);
  sync_->handle_message(proto::presence_topic("svc-gateway-a"), own_presence(), false, t0_);
  ASSERT_TRUE(sync_->ready());
  const auto before = summaries().size();
  sync_->handle_message(proto::presence_topic("svc-gateway-b"), online("b2"), /*retained=*/false, t0_ + 1s);
  EXPECT_EQ(summaries().size(), before + 1);
  EXPECT_TRUE(sync_->ready()) << "a newcomer does not stop this gateway's ingest";
}

TEST_F(PeerSyncTest, OurOwnNoticesAndMalformedOnesAreNotApplied) {
  sync_->on_connected(t0_);
  EXPECT_TRUE(sync_->handle_message(proto::consumed_topic("svc-gateway-a"), peer_summary(30), false, t0_));
  EXPECT_TRUE(applied_.empty());
  EXPECT_TRUE(sync_->handle_message(proto::consumed_topic("svc-gateway-b"), "{\"full\":1}", false, t0_));
  EXPECT_TRUE(applied_.empty());
  EXPECT_EQ(sync_->counters().notices_rejected, 1u);
  EXPECT_FALSE(sync_->handle_message("devices/sensor-01/telemetry", "{}", false, t0_)) << "not a peer topic";
  EXPECT_FALSE(sync_->handle_message("kelvin/gateways/Not A Name/consumed", peer_summary(3), false, t0_));
}

TEST_F(PeerSyncTest, ACommitIsAnnounced) {
  store::IngestBatch batch;
  proto::Reading reading;
  reading.seq = 12;
  batch.readings.push_back({"sensor-01", reading});
  store::CommitSummary summary;
  summary.acks = {{"sensor-01", 4, {{12, 12}}}};
  sync_->after_commit(batch, summary);
  ASSERT_EQ(published_.size(), 1u);
  EXPECT_EQ(published_[0].topic, proto::consumed_topic("svc-gateway-a"));
  auto notice = decode_notice(published_[0].payload);
  ASSERT_TRUE(notice.ok());
  EXPECT_FALSE(notice->full);
  ASSERT_EQ(notice->devices.size(), 1u);
  EXPECT_EQ(notice->devices[0].through, 4u);
  EXPECT_EQ(notice->devices[0].above, (std::vector<SeqRun>{{12, 12}}));
  EXPECT_EQ(notice->devices[0].stored, (std::vector<SeqRun>{{12, 12}}));
  EXPECT_EQ(sync_->counters().notices_sent, 1u);
}

TEST_F(PeerSyncTest, AReconnectStartsTheJoinAgain) {
  sync_->on_connected(t0_);
  sync_->handle_message(proto::presence_topic("svc-gateway-a"), own_presence(), false, t0_);
  ASSERT_EQ(ready_calls_, 1);
  const std::string first_presence = own_presence();
  sync_->on_disconnected();
  EXPECT_FALSE(sync_->ready());
  published_.clear();
  sync_->on_connected(t0_ + 1min);
  EXPECT_NE(own_presence(), first_presence) << "a new session, so the echo of the old one is not taken for it";
  sync_->handle_message(proto::presence_topic("svc-gateway-a"), first_presence, true, t0_ + 1min);
  EXPECT_FALSE(sync_->ready());
  sync_->handle_message(proto::presence_topic("svc-gateway-a"), own_presence(), false, t0_ + 1min);
  EXPECT_EQ(ready_calls_, 2);
}

}  // namespace
}  // namespace kelvin::gateway
