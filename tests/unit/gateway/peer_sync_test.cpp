// Gateways sharing a broker (peer_sync.hpp): the consumed notices' codec and validation, and the
// join protocol as a state machine over a fake broker (recorded publishes, scripted messages) and
// a real store.

#include "kelvin/gateway/peer_sync.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::gateway {
namespace {

using ::testing::HasSubstr;
using Clock = PeerSync::Clock;
using namespace std::chrono_literals;

constexpr std::int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

ConsumedNotice::Device device(std::string id, std::uint64_t through, std::vector<store::SeqRun> above = {}) {
  return ConsumedNotice::Device{std::move(id), through, std::move(above), {}};
}

TEST(ConsumedNoticeCodec, RoundTripsAndNamesTheRangesConsumed) {
  ConsumedNotice notice;
  notice.devices.push_back(device("sensor-01", 120, {{130, 140}, {150, 150}}));
  notice.devices.push_back(device("sensor-02", 0, {{5, 9}}));
  auto decoded = decode_notice(encode_notice(notice));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_FALSE(decoded->full);
  EXPECT_TRUE(decoded->last);
  ASSERT_EQ(decoded->devices.size(), 2u);
  EXPECT_EQ(decoded->devices[0].through, 120u);
  EXPECT_EQ(decoded->devices[0].above, (std::vector<store::SeqRun>{{130, 140}, {150, 150}}));

  auto ranges = consumed_ranges(*decoded, "svc-gateway-a", "svc-gateway-b");
  ASSERT_EQ(ranges.size(), 4u);
  EXPECT_EQ(ranges[0].device_id, "sensor-01");
  EXPECT_EQ(ranges[0].first_seq, 1u);
  EXPECT_EQ(ranges[0].last_seq, 120u);
  EXPECT_EQ(ranges[2].first_seq, 150u);
  EXPECT_EQ(ranges[3].device_id, "sensor-02");  // through 0 says nothing: no [1, 0] range
  EXPECT_EQ(ranges[3].first_seq, 5u);
}

TEST(ConsumedNoticeCodec, StoredRunsTravelAndMakeTheLaterIdentityGiveWay) {
  ConsumedNotice notice;
  notice.devices.push_back(device("sensor-01", 120));
  notice.devices[0].stored = {{1, 3}, {100, 120}};
  auto decoded = decode_notice(encode_notice(notice));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->devices[0].stored, (std::vector<store::SeqRun>{{1, 3}, {100, 120}}));

  // svc-gateway-b sorts after svc-gateway-a: b withdraws its copies of what a stored, a does not.
  auto at_b = consumed_ranges(*decoded, "svc-gateway-b", "svc-gateway-a");
  std::vector<store::SeqRun> withdrawn;
  for (const auto& range : at_b) {
    if (range.withdraw_own_copies) withdrawn.push_back({range.first_seq, range.last_seq});
  }
  EXPECT_EQ(withdrawn, (std::vector<store::SeqRun>{{1, 3}, {100, 120}}));
  for (const auto& range : consumed_ranges(*decoded, "svc-gateway-a", "svc-gateway-b")) {
    EXPECT_FALSE(range.withdraw_own_copies);
  }
  EXPECT_FALSE(decode_notice(R"({"full":false,"last":true,"devices":{"d1":{"through":5,"above":[],)"
                             R"("stored":[[3,6],[5,9]]}}})")
                   .ok())
      << "overlapping stored runs";
}

TEST(ConsumedNoticeCodec, RefusesAnythingMalformed) {
  const char* bad[] = {
      "not json",
      "[]",
      R"({"full":false,"devices":{}})",              // no "last"
      R"({"full":false,"last":true,"devices":[]})",  // devices not an object
      R"({"full":false,"last":true,"devices":{"Bad Id!":{"through":1,"above":[]}}})",
      R"({"full":false,"last":true,"devices":{"d1":{"through":-1,"above":[]}}})",
      R"({"full":false,"last":true,"devices":{"d1":{"through":1.5,"above":[]}}})",
      R"({"full":false,"last":true,"devices":{"d1":{"through":9223372036854775808,"above":[]}}})",
      R"({"full":false,"last":true,"devices":{"d1":{"through":5,"above":[[6,7]]}}})",            // touches through
      R"({"full":false,"last":true,"devices":{"d1":{"through":5,"above":[[9,8]]}}})",            // reversed
      R"({"full":false,"last":true,"devices":{"d1":{"through":5,"above":[[10,12],[11,14]]}}})",  // overlapping
      R"({"full":false,"last":true,"devices":{"d1":{"through":5,"above":[[10,12],[13,14]]}}})",  // adjacent
      R"({"full":false,"last":true,"devices":{"d1":{"through":5,"above":[[10]]}}})",
      R"({"full":false,"last":true,"devices":{"d1":{"above":[]}}})",
  };
  for (const char* payload : bad) {
    auto decoded = decode_notice(payload);
    EXPECT_FALSE(decoded.ok()) << payload;
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.error().code, Errc::invalid_argument);
    }
  }
  EXPECT_FALSE(decode_notice(std::string(kMaxNoticeBytes + 1, ' ')).ok());
  std::string many = R"({"full":false,"last":true,"devices":{"d1":{"through":0,"above":[)";
  for (std::size_t i = 0; i <= kMaxRunsPerDevice; ++i) {
    many += (i ? "," : "") + std::string("[") + std::to_string(10 + 3 * i) + "," + std::to_string(10 + 3 * i) + "]";
  }
  many += "]}}}";
  EXPECT_FALSE(decode_notice(many).ok());
}

TEST(ConsumedNoticeCodec, ASummaryIsSplitIntoPartsAndOnlyTheFinalOneIsLast) {
  std::vector<ConsumedNotice::Device> devices;
  for (int i = 0; i < 3000; ++i) devices.push_back(device("sensor-" + std::to_string(10000 + i), 100));
  auto parts = encode_summary(devices);
  ASSERT_GT(parts.size(), 1u);
  std::size_t seen = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    EXPECT_LE(parts[i].size(), kNoticeTargetBytes + 200);
    auto decoded = decode_notice(parts[i]);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_TRUE(decoded->full);
    EXPECT_EQ(decoded->last, i + 1 == parts.size());
    seen += decoded->devices.size();
  }
  EXPECT_EQ(seen, 3000u);
  auto empty = encode_summary({});
  ASSERT_EQ(empty.size(), 1u);
  auto decoded = decode_notice(empty[0]);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->full && decoded->last && decoded->devices.empty());
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
  EXPECT_EQ(notice.devices[0].above, (std::vector<store::SeqRun>{{7, 7}, {9, 10}, {12, 12}}));
  EXPECT_EQ(notice.devices[0].stored, (std::vector<store::SeqRun>{{3, 3}, {7, 7}, {9, 10}}));
  EXPECT_FALSE(notice.full);
  EXPECT_TRUE(decode_notice(encode_notice(notice)).ok());
}

TEST(GatewayTopics, PeersTopicsAreUnderKelvinGateways) {
  EXPECT_EQ(presence_topic("svc-gateway-b"), "kelvin/gateways/svc-gateway-b/presence");
  EXPECT_EQ(consumed_topic("svc-gateway-b"), "kelvin/gateways/svc-gateway-b/consumed");
  EXPECT_EQ(peer_presence_filter(), "kelvin/gateways/+/presence");
  EXPECT_EQ(peer_consumed_filter(), "kelvin/gateways/+/consumed");
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
      if (p.topic == presence_topic("svc-gateway-a")) return p.payload;
    }
    ADD_FAILURE() << "no presence published";
    return {};
  }
  static std::string online(const std::string& session) {
    return nlohmann::json{{"state", "online"}, {"session", session}}.dump();
  }
  std::vector<Published> summaries() const {
    std::vector<Published> out;
    for (const auto& p : published_) {
      if (p.topic == consumed_topic("svc-gateway-a") && p.payload.find("\"full\":true") != std::string::npos) {
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
  EXPECT_EQ(summary->devices[0].above, (std::vector<store::SeqRun>{{8, 9}}));
}

TEST_F(PeerSyncTest, AloneItIsReadyAsSoonAsItsOwnPresenceComesBack) {
  sync_->on_connected(t0_);
  EXPECT_FALSE(sync_->ready());
  sync_->poll(t0_ + 100ms);
  EXPECT_EQ(ready_calls_, 0) << "retained presences may still be on their way";
  EXPECT_TRUE(sync_->handle_message(presence_topic("svc-gateway-a"), own_presence(), false, t0_ + 100ms));
  EXPECT_TRUE(sync_->ready());
  EXPECT_EQ(ready_calls_, 1);
  sync_->poll(t0_ + 10s);
  EXPECT_EQ(ready_calls_, 1) << "ready fires once per connection";
}

TEST_F(PeerSyncTest, WaitsForTheSummaryOfEveryPeerOnlineThenAppliesIt) {
  sync_->on_connected(t0_);
  // The retained presence of a peer that was there before us arrives first.
  sync_->handle_message(presence_topic("svc-gateway-b"), online("b1"), /*retained=*/true, t0_);
  sync_->handle_message(presence_topic("svc-gateway-a"), own_presence(), false, t0_);
  EXPECT_FALSE(sync_->ready()) << "svc-gateway-b's consumption is not known yet";
  EXPECT_EQ(summaries().size(), 1u) << "a retained presence is no join: no extra summary";

  sync_->handle_message(consumed_topic("svc-gateway-b"), peer_summary(17), false, t0_ + 50ms);
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
  sync_->handle_message(presence_topic("svc-gateway-b"), online("b1"), true, t0_);
  sync_->handle_message(presence_topic("svc-gateway-a"), own_presence(), false, t0_);
  sync_->poll(t0_ + 4s);
  EXPECT_FALSE(sync_->ready());
  sync_->poll(t0_ + 5s);
  EXPECT_TRUE(sync_->ready());
  EXPECT_EQ(ready_calls_, 1);
}

TEST_F(PeerSyncTest, APeerGoingOfflineIsNoLongerWaitedFor) {
  sync_->on_connected(t0_);
  sync_->handle_message(presence_topic("svc-gateway-b"), online("b1"), true, t0_);
  sync_->handle_message(presence_topic("svc-gateway-a"), own_presence(), false, t0_);
  EXPECT_FALSE(sync_->ready());
  sync_->handle_message(presence_topic("svc-gateway-b"), offline_presence_payload(), false, t0_ + 10ms);
  EXPECT_TRUE(sync_->ready());
  EXPECT_EQ(sync_->counters().peers_online, 0u);
}

TEST_F(PeerSyncTest, APeerJoiningLaterGetsOurSummary) {
  sync_->on_connected(t0_);
  sync_->handle_message(presence_topic("svc-gateway-a"), own_presence(), false, t0_);
  ASSERT_TRUE(sync_->ready());
  const auto before = summaries().size();
  sync_->handle_message(presence_topic("svc-gateway-b"), online("b2"), /*retained=*/false, t0_ + 1s);
  EXPECT_EQ(summaries().size(), before + 1);
  EXPECT_TRUE(sync_->ready()) << "a newcomer does not stop this gateway's ingest";
}

TEST_F(PeerSyncTest, OurOwnNoticesAndMalformedOnesAreNotApplied) {
  sync_->on_connected(t0_);
  EXPECT_TRUE(sync_->handle_message(consumed_topic("svc-gateway-a"), peer_summary(30), false, t0_));
  EXPECT_TRUE(applied_.empty());
  EXPECT_TRUE(sync_->handle_message(consumed_topic("svc-gateway-b"), "{\"full\":1}", false, t0_));
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
  EXPECT_EQ(published_[0].topic, consumed_topic("svc-gateway-a"));
  auto notice = decode_notice(published_[0].payload);
  ASSERT_TRUE(notice.ok());
  EXPECT_FALSE(notice->full);
  ASSERT_EQ(notice->devices.size(), 1u);
  EXPECT_EQ(notice->devices[0].through, 4u);
  EXPECT_EQ(notice->devices[0].above, (std::vector<store::SeqRun>{{12, 12}}));
  EXPECT_EQ(notice->devices[0].stored, (std::vector<store::SeqRun>{{12, 12}}));
  EXPECT_EQ(sync_->counters().notices_sent, 1u);
}

TEST_F(PeerSyncTest, AReconnectStartsTheJoinAgain) {
  sync_->on_connected(t0_);
  sync_->handle_message(presence_topic("svc-gateway-a"), own_presence(), false, t0_);
  ASSERT_EQ(ready_calls_, 1);
  const std::string first_presence = own_presence();
  sync_->on_disconnected();
  EXPECT_FALSE(sync_->ready());
  published_.clear();
  sync_->on_connected(t0_ + 1min);
  EXPECT_NE(own_presence(), first_presence) << "a new session, so the echo of the old one is not taken for it";
  sync_->handle_message(presence_topic("svc-gateway-a"), first_presence, true, t0_ + 1min);
  EXPECT_FALSE(sync_->ready());
  sync_->handle_message(presence_topic("svc-gateway-a"), own_presence(), false, t0_ + 1min);
  EXPECT_EQ(ready_calls_, 2);
}

}  // namespace
}  // namespace kelvin::gateway
