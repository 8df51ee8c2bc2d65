#include "kelvin/device/session.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "kelvin/device/memory_outbox_journal.hpp"
#include "kelvin/proto/ack.hpp"
#include "test_readings.hpp"

namespace kelvin::device {
namespace {

using testing::decoded_seqs;
using testing::kTs;
using testing::values;

constexpr std::string_view kDevice = "sensor-01";
constexpr std::string_view kTelemetry = "devices/sensor-01/telemetry";
constexpr std::string_view kAck = "devices/sensor-01/ack";
constexpr std::string_view kStatus = "devices/sensor-01/status";

struct Publish {
  std::string topic;
  std::string payload;
  bool retain;
};

// Records what the session publishes; can refuse like a disconnected or saturated client.
class FakeTransport final : public Transport {
 public:
  bool publish(std::string_view topic, std::string_view payload, bool retain) override {
    if (refusing || topic == refused_topic) return false;
    published.push_back({std::string(topic), std::string(payload), retain});
    return true;
  }

  // Telemetry publishes since the last call, as the seqs of each batch.
  std::vector<std::vector<std::uint64_t>> take_batches() {
    std::vector<std::vector<std::uint64_t>> batches;
    for (std::size_t i = seen_; i < published.size(); ++i) {
      if (published[i].topic == kTelemetry) batches.push_back(decoded_seqs(published[i].payload));
    }
    seen_ = published.size();
    return batches;
  }
  std::vector<std::string> status_payloads() const {
    std::vector<std::string> out;
    for (const auto& p : published) {
      if (p.topic == kStatus) out.push_back(p.payload);
    }
    return out;
  }

  std::vector<Publish> published;
  bool refusing = false;
  std::string refused_topic;  // refuse only this topic

 private:
  std::size_t seen_ = 0;
};

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> out(last - first + 1);
  std::iota(out.begin(), out.end(), first);
  return out;
}

std::vector<std::uint64_t> flatten(const std::vector<std::vector<std::uint64_t>>& batches) {
  std::vector<std::uint64_t> out;
  for (const auto& b : batches) out.insert(out.end(), b.begin(), b.end());
  return out;
}

SessionConfig config() {
  SessionConfig c;
  c.device_id = std::string(kDevice);
  c.fw_version = "1.2.0";
  return c;
}

// A device: journal, outbox, transport and session wired together, with its own clock.
struct Device {
  explicit Device(SessionConfig c = config(), std::size_t capacity = 10'000, const OutboxSnapshot& restored = {})
      : journal(restored),
        outbox(journal, restored, capacity),
        random(1),
        session(std::move(c), outbox, transport, random) {}

  void add(int count) {
    for (int i = 0; i < count; ++i) {
      auto seq = outbox.add(kTs + now, values(21.0, 40.0));
      ASSERT_TRUE(seq) << seq.error().message;
      session.on_reading_added(now);
    }
  }
  void receive_ack(std::uint64_t seq) { EXPECT_TRUE(session.on_message(kAck, proto::encode_ack(seq), now)); }

  std::int64_t now = 1'000'000;  // monotonic ms
  MemoryOutboxJournal journal;
  Outbox outbox;
  FakeTransport transport;
  SplitMix64Source random;
  Session session;
};

TEST(Session, UsesTheProtocolsTopics) {
  Device d;
  EXPECT_EQ(d.session.telemetry_topic(), kTelemetry);
  EXPECT_EQ(d.session.ack_topic(), kAck);
  EXPECT_EQ(d.session.status_topic(), kStatus);
  EXPECT_EQ(Session::last_will_json(), R"({"state":"offline"})");
}

TEST(Session, PublishesNothingBeforeConnecting) {
  Device d;
  d.add(5);
  d.session.poll(d.now + 60'000);
  EXPECT_TRUE(d.transport.published.empty());
  EXPECT_TRUE(d.session.connect_due(d.now));
}

TEST(Session, OnConnectPublishesRetainedStatusThenPendingReadings) {
  Device d;
  d.add(3);
  d.session.on_connected(d.now);
  ASSERT_EQ(d.transport.published.size(), 2U);
  EXPECT_EQ(d.transport.published[0].topic, kStatus);
  EXPECT_EQ(d.transport.published[0].payload, R"({"state":"online","fw":"1.2.0","dropped":0,"oldest_seq":1})");
  EXPECT_TRUE(d.transport.published[0].retain);
  EXPECT_EQ(d.transport.published[1].topic, kTelemetry);
  EXPECT_FALSE(d.transport.published[1].retain);
  EXPECT_EQ(decoded_seqs(d.transport.published[1].payload), range(1, 3));
  EXPECT_EQ(d.session.sent_up_to(), 3U);
  EXPECT_EQ(d.session.in_flight(), 3U);
  EXPECT_EQ(d.session.counters().sent_batches, 1U);
  EXPECT_EQ(d.session.counters().status_published, 1U);
}

TEST(Session, SendsEachNewReadingWhenConnected) {
  Device d;
  d.session.on_connected(d.now);
  d.add(1);
  d.add(1);
  EXPECT_EQ(d.transport.take_batches(), (std::vector<std::vector<std::uint64_t>>{{1}, {2}}));
}

TEST(Session, SplitsBacklogIntoBatchesOfTheConfiguredSize) {
  auto c = config();
  c.batch.max_readings = 10;
  Device d(c);
  d.add(25);
  d.session.on_connected(d.now);
  EXPECT_EQ(d.transport.take_batches(),
            (std::vector<std::vector<std::uint64_t>>{range(1, 10), range(11, 20), range(21, 25)}));
  EXPECT_EQ(d.session.counters().sent_readings, 25U);
}

TEST(Session, KeepsEveryPayloadWithinTheByteLimit) {
  auto c = config();
  c.batch.max_payload_bytes = 1000;
  Device d(c);
  d.add(100);
  d.session.on_connected(d.now);
  for (const auto& p : d.transport.published) EXPECT_LE(p.payload.size(), 1000U);
  EXPECT_EQ(flatten(d.transport.take_batches()), range(1, 100));
  EXPECT_GT(d.session.counters().sent_batches, 5U);
}

TEST(Session, KeepsAtMostTheWindowInFlightAndSendsMoreAsAcksArrive) {
  auto c = config();
  c.batch.max_readings = 20;
  c.max_in_flight_readings = 50;
  Device d(c);
  d.add(120);
  d.session.on_connected(d.now);
  EXPECT_EQ(d.transport.take_batches(),
            (std::vector<std::vector<std::uint64_t>>{range(1, 20), range(21, 40), range(41, 50)}));
  EXPECT_EQ(d.session.in_flight(), 50U);
  d.add(1);  // a new reading waits for room
  d.session.poll(d.now + 1000);
  EXPECT_TRUE(d.transport.take_batches().empty());

  d.receive_ack(30);
  EXPECT_EQ(d.outbox.acked_seq(), 30U);
  EXPECT_EQ(d.outbox.pending_count(), 91U);
  EXPECT_EQ(d.transport.take_batches(), (std::vector<std::vector<std::uint64_t>>{range(51, 70), range(71, 80)}));
  EXPECT_EQ(d.session.in_flight(), 50U);

  d.receive_ack(121);
  EXPECT_EQ(d.outbox.pending_count(), 0U);
  EXPECT_EQ(d.session.in_flight(), 0U);
}

TEST(Session, AckFreesTheOutboxAndIsRecorded) {
  Device d;
  d.session.on_connected(d.now);
  d.add(10);
  d.receive_ack(7);
  EXPECT_EQ(d.outbox.acked_seq(), 7U);
  EXPECT_EQ(d.outbox.pending_count(), 3U);
  EXPECT_EQ(d.journal.snapshot().acked_seq, 7U);
  EXPECT_EQ(d.session.counters().acks_advanced, 1U);
}

TEST(Session, DuplicateBogusAndMalformedAcksChangeNothing) {
  Device d;
  d.session.on_connected(d.now);
  d.add(10);
  d.receive_ack(5);
  d.receive_ack(5);
  d.receive_ack(3);
  d.receive_ack(11);  // never assigned
  EXPECT_TRUE(d.session.on_message(kAck, R"({"seq":"8"})", d.now));
  EXPECT_TRUE(d.session.on_message(kAck, R"({"seq":8,"x":1})", d.now));
  EXPECT_EQ(d.outbox.acked_seq(), 5U);
  EXPECT_EQ(d.outbox.pending_count(), 5U);
  EXPECT_EQ(d.session.counters().acks_duplicate, 2U);
  EXPECT_EQ(d.session.counters().acks_bogus, 1U);
  EXPECT_EQ(d.outbox.bogus_acks(), 1U);
  EXPECT_EQ(d.session.counters().acks_malformed, 2U);
}

TEST(Session, LeavesOtherTopicsToTheCaller) {
  Device d;
  d.session.on_connected(d.now);
  d.add(3);
  EXPECT_FALSE(d.session.on_message("devices/sensor-01/ota", R"({"seq":3})", d.now));
  EXPECT_FALSE(d.session.on_message("devices/sensor-02/ack", R"({"seq":3})", d.now));
  EXPECT_EQ(d.outbox.acked_seq(), 0U);
}

TEST(Session, ResendsEverythingUnacknowledgedAfterTheTimeout) {
  Device d;
  d.session.on_connected(d.now);
  d.add(10);
  d.transport.take_batches();
  d.receive_ack(4);  // progress at now
  d.session.poll(d.now + 29'999);
  EXPECT_TRUE(d.transport.take_batches().empty());
  EXPECT_EQ(d.session.counters().resends, 0U);
  d.session.poll(d.now + 30'000);
  EXPECT_EQ(d.transport.take_batches(), (std::vector<std::vector<std::uint64_t>>{range(5, 10)}));
  EXPECT_EQ(d.session.counters().resends, 1U);
  // The next resend waits a full timeout again.
  d.session.poll(d.now + 59'999);
  EXPECT_TRUE(d.transport.take_batches().empty());
  d.session.poll(d.now + 60'000);
  EXPECT_EQ(d.transport.take_batches(), (std::vector<std::vector<std::uint64_t>>{range(5, 10)}));
  EXPECT_EQ(d.session.counters().resends, 2U);
}

TEST(Session, AckProgressPostponesTheResend) {
  Device d;
  d.session.on_connected(d.now);
  d.add(10);
  d.transport.take_batches();
  d.now += 20'000;
  d.receive_ack(3);
  d.session.poll(d.now + 20'000);  // 40 s after the send, 20 s after the progress
  EXPECT_TRUE(d.transport.take_batches().empty());
  d.session.poll(d.now + 30'000);
  EXPECT_EQ(d.transport.take_batches(), (std::vector<std::vector<std::uint64_t>>{range(4, 10)}));
}

TEST(Session, NoResendWhenNothingIsInFlight) {
  Device d;
  d.session.on_connected(d.now);
  d.add(3);
  d.receive_ack(3);
  d.transport.take_batches();
  d.session.poll(d.now + 600'000);
  EXPECT_TRUE(d.transport.take_batches().empty());
  EXPECT_EQ(d.session.counters().resends, 0U);
  // The resend clock starts when a reading goes out after the quiet spell, not at the last ack.
  d.now += 600'000;
  d.add(1);
  d.session.poll(d.now + 1000);
  EXPECT_EQ(d.transport.take_batches(), (std::vector<std::vector<std::uint64_t>>{{4}}));
}

TEST(Session, ATimeGoingBackwardsDoesNotTriggerAResend) {
  Device d;
  d.session.on_connected(d.now);
  d.add(2);
  d.transport.take_batches();
  d.session.poll(d.now - 500'000);
  d.session.poll(d.now - 500'000 + 29'000);
  EXPECT_TRUE(d.transport.take_batches().empty());
  EXPECT_EQ(d.session.counters().resends, 0U);
  // The wait restarted at the jump: 30 s later on the new time line the resend comes.
  d.session.poll(d.now - 500'000 + 30'000);
  EXPECT_EQ(d.transport.take_batches(), (std::vector<std::vector<std::uint64_t>>{range(1, 2)}));
}

TEST(Session, DisconnectRewindsSoEverythingUnacknowledgedIsResentAfterReconnect) {
  Device d;
  d.session.on_connected(d.now);
  d.add(10);
  d.receive_ack(4);
  d.transport.take_batches();
  d.session.on_disconnected(d.now);
  EXPECT_FALSE(d.session.connected());
  EXPECT_EQ(d.session.sent_up_to(), 4U);
  EXPECT_EQ(d.session.in_flight(), 0U);
  d.add(2);  // taken while offline
  EXPECT_TRUE(d.transport.take_batches().empty());

  const std::int64_t at = d.session.reconnect_at_ms();
  EXPECT_GE(at, d.now + 500);
  EXPECT_LE(at, d.now + 1000);
  EXPECT_FALSE(d.session.connect_due(at - 1));
  EXPECT_TRUE(d.session.connect_due(at));

  const std::size_t before = d.transport.published.size();
  d.session.on_connected(at);
  EXPECT_EQ(d.transport.published[before].topic, kStatus);  // status first on every connection
  EXPECT_EQ(d.transport.take_batches(), (std::vector<std::vector<std::uint64_t>>{range(5, 12)}));
  EXPECT_EQ(d.session.counters().connects, 2U);
  EXPECT_EQ(d.session.counters().disconnects, 1U);
}

TEST(Session, AnAckForReadingsSentBeforeTheRewindIsNotResent) {
  Device d;
  d.session.on_connected(d.now);
  d.add(10);
  d.session.on_disconnected(d.now);
  d.transport.refusing = true;
  d.session.on_connected(d.now + 1000);  // nothing goes out yet
  EXPECT_EQ(d.session.sent_up_to(), 0U);
  d.transport.take_batches();
  // The gateway's commit of the first connection's send arrives late.
  d.receive_ack(10);
  EXPECT_EQ(d.session.sent_up_to(), 10U);
  EXPECT_EQ(d.session.in_flight(), 0U);
  d.transport.refusing = false;
  d.session.poll(d.now + 2000);
  d.add(1);
  EXPECT_EQ(d.transport.take_batches(), (std::vector<std::vector<std::uint64_t>>{{11}}));
}

TEST(Session, BackoffGrowsOverFailedAttemptsAndResetsAfterAStableConnection) {
  Device d;
  std::int64_t now = d.now;
  // Three failed attempts: delays in [500,1000], [1000,2000], [2000,4000].
  const std::int64_t lows[] = {500, 1000, 2000};
  for (std::int64_t low : lows) {
    d.session.on_disconnected(now);
    const std::int64_t delay = d.session.reconnect_at_ms() - now;
    EXPECT_GE(delay, low);
    EXPECT_LE(delay, 2 * low);
    now = d.session.reconnect_at_ms();
  }
  // A connection the broker drops after 5 s does not reset the backoff.
  d.session.on_connected(now);
  d.session.on_disconnected(now + 5'000);
  EXPECT_GE(d.session.reconnect_at_ms() - (now + 5'000), 4000);
  now = d.session.reconnect_at_ms();
  // One that lasted 30 s does.
  d.session.on_connected(now);
  d.session.on_disconnected(now + 30'000);
  const std::int64_t delay = d.session.reconnect_at_ms() - (now + 30'000);
  EXPECT_GE(delay, 500);
  EXPECT_LE(delay, 1000);
}

TEST(Session, BackoffIsCappedAtSixtySeconds) {
  Device d;
  std::int64_t now = d.now;
  for (int i = 0; i < 30; ++i) {
    d.session.on_disconnected(now);
    const std::int64_t delay = d.session.reconnect_at_ms() - now;
    ASSERT_GT(delay, 0);
    ASSERT_LE(delay, 60'000);
    if (i > 10) {
      ASSERT_GE(delay, 30'000);
    }
    now = d.session.reconnect_at_ms();
  }
}

TEST(Session, RetriesRefusedPublishesWithoutLosingReadings) {
  auto c = config();
  c.batch.max_readings = 5;
  Device d(c);
  d.session.on_connected(d.now);
  d.add(3);
  d.transport.refusing = true;  // the client's queue is full
  d.add(4);
  EXPECT_GT(d.session.counters().publish_refusals, 0U);
  EXPECT_EQ(d.session.sent_up_to(), 3U);
  d.transport.refusing = false;
  d.session.poll(d.now + 100);
  EXPECT_EQ(flatten(d.transport.take_batches()), range(1, 7));
}

TEST(Session, TelemetryWaitsUntilTheStatusWentOut) {
  Device d;
  d.add(2);
  d.transport.refused_topic = kStatus;
  d.session.on_connected(d.now);
  d.add(1);
  EXPECT_TRUE(d.transport.published.empty());
  EXPECT_EQ(d.session.sent_up_to(), 0U);
  d.transport.refused_topic.clear();
  d.session.poll(d.now + 100);
  ASSERT_EQ(d.transport.published.size(), 2U);
  EXPECT_EQ(d.transport.published[0].topic, kStatus);
  EXPECT_EQ(decoded_seqs(d.transport.published[1].payload), range(1, 3));
}

TEST(Session, ARefusedStatusRepublishDoesNotHoldUpTelemetry) {
  Device d(config(), /*capacity=*/2);
  d.session.on_connected(d.now);
  d.add(3);  // one drop: a status is due after the interval
  d.transport.take_batches();
  d.transport.refused_topic = kStatus;
  d.now += 60'000;
  d.add(1);
  EXPECT_EQ(d.transport.take_batches(), (std::vector<std::vector<std::uint64_t>>{{4}}));
  d.transport.refused_topic.clear();
  d.session.poll(d.now + 1);
  EXPECT_EQ(d.transport.status_payloads().back(), R"({"state":"online","fw":"1.2.0","dropped":2,"oldest_seq":3})");
}

TEST(Session, AConnectWithoutADisconnectStartsAFreshConnection) {
  // Some clients reconnect on their own and report only the new connection. The broker may have
  // published the last will meanwhile, so the status goes out again, and unacked data is resent.
  Device d;
  d.session.on_connected(d.now);
  d.add(3);
  d.transport.take_batches();
  const std::size_t statuses = d.transport.status_payloads().size();
  d.session.on_connected(d.now + 5000);
  EXPECT_EQ(d.transport.status_payloads().size(), statuses + 1);
  EXPECT_EQ(d.transport.take_batches(), (std::vector<std::vector<std::uint64_t>>{range(1, 3)}));
}

TEST(Session, DropsTheOldestWhenFullAndReportsItInTheStatusAtMostOncePerMinute) {
  Device d(config(), /*capacity=*/5);
  const std::int64_t t0 = d.now;
  d.session.on_connected(t0);
  d.add(7);  // 1 and 2 dropped
  EXPECT_EQ(d.outbox.dropped_total(), 2U);
  EXPECT_EQ(d.outbox.pending_count(), 5U);
  EXPECT_EQ(d.transport.status_payloads().size(), 1U);  // the change waits for the interval

  d.session.poll(t0 + 59'999);
  EXPECT_EQ(d.transport.status_payloads().size(), 1U);
  d.session.poll(t0 + 60'000);
  ASSERT_EQ(d.transport.status_payloads().size(), 2U);
  EXPECT_EQ(d.transport.status_payloads()[1], R"({"state":"online","fw":"1.2.0","dropped":2,"oldest_seq":3})");
  EXPECT_TRUE(d.transport.published.back().retain);

  d.now = t0 + 70'000;
  d.add(1);  // another drop
  d.session.poll(t0 + 100'000);
  EXPECT_EQ(d.transport.status_payloads().size(), 2U);
  d.session.poll(t0 + 120'000);
  ASSERT_EQ(d.transport.status_payloads().size(), 3U);
  EXPECT_EQ(d.transport.status_payloads()[2], R"({"state":"online","fw":"1.2.0","dropped":3,"oldest_seq":4})");
  // No change, no republish.
  d.session.poll(t0 + 600'000);
  EXPECT_EQ(d.transport.status_payloads().size(), 3U);
  EXPECT_EQ(d.journal.snapshot().dropped_total, 3U);
}

// Telemetry that cannot go out behind the status (HTTPS waits for the status's answer; here the
// transport refuses it): a reading taken meanwhile drops one that was never sent, which the status
// already out does not give up. The status goes again at once, not a minute later.
TEST(Session, AStatusMadeStaleByDropsOfUnsentReadingsGoesAgainAtOnce) {
  Device d(config(), /*capacity=*/3);
  d.add(3);
  d.transport.refused_topic = kTelemetry;
  d.session.on_connected(d.now);
  ASSERT_EQ(d.transport.status_payloads().size(), 1U);
  EXPECT_EQ(d.transport.status_payloads()[0], R"({"state":"online","fw":"1.2.0","dropped":0,"oldest_seq":1})");
  d.add(1);  // drops 1, never sent
  ASSERT_EQ(d.transport.status_payloads().size(), 2U);
  EXPECT_EQ(d.transport.status_payloads()[1], R"({"state":"online","fw":"1.2.0","dropped":1,"oldest_seq":2})");
  d.transport.refused_topic.clear();
  d.session.poll(d.now + 1);
  EXPECT_EQ(flatten(d.transport.take_batches()), range(2, 4));
  // Drops of readings already sent leave no gap: the status waits for its interval as before.
  d.add(2);
  EXPECT_EQ(d.transport.status_payloads().size(), 2U);
  EXPECT_EQ(flatten(d.transport.take_batches()), range(5, 6));
}

// The release check's verdict: a changed one goes out at the next pump, whatever the interval;
// an unchanged one publishes nothing.
TEST(Session, AChangedReleaseCheckIsPublishedAtOnceAndAnUnchangedOneNotAgain) {
  Device d;
  d.session.on_connected(d.now);
  ASSERT_EQ(d.transport.status_payloads().size(), 1U);
  EXPECT_EQ(d.transport.status_payloads()[0], R"({"state":"online","fw":"1.2.0","dropped":0,"oldest_seq":1})")
      << "no verdict yet: the member is left out";

  d.session.set_release_check("current");
  EXPECT_EQ(d.transport.status_payloads().size(), 1U) << "set_release_check publishes nothing itself";
  d.session.poll(d.now + 1);  // well within status_min_interval_ms of the first status
  ASSERT_EQ(d.transport.status_payloads().size(), 2U);
  EXPECT_EQ(d.transport.status_payloads()[1],
            R"({"state":"online","fw":"1.2.0","dropped":0,"oldest_seq":1,"release_check":"current"})");
  EXPECT_TRUE(d.transport.published.back().retain);

  d.session.set_release_check("current");
  d.session.poll(d.now + 2);
  d.add(1);
  d.session.poll(d.now + 600'000);
  EXPECT_EQ(d.transport.status_payloads().size(), 2U) << "an unchanged verdict is not published again";
  EXPECT_EQ(d.session.counters().status_published, 2U);

  d.session.set_release_check("timestamp_expired");
  d.add(1);  // a reading pumps too; the status goes before it
  ASSERT_EQ(d.transport.status_payloads().size(), 3U);
  EXPECT_EQ(d.transport.status_payloads()[2],
            R"({"state":"online","fw":"1.2.0","dropped":0,"oldest_seq":1,"release_check":"timestamp_expired"})");
  EXPECT_EQ(d.transport.published.back().topic, kTelemetry);

  // Back and forth before a pump: what the last status carried is what counts.
  d.session.set_release_check("current");
  d.session.set_release_check("timestamp_expired");
  d.session.poll(d.now + 600'001);
  EXPECT_EQ(d.transport.status_payloads().size(), 3U);
}

TEST(Session, TheReleaseCheckIsCarriedByEveryLaterStatus) {
  Device d(config(), /*capacity=*/2);
  d.session.set_release_check("clock_unknown");
  d.session.on_connected(d.now);
  ASSERT_EQ(d.transport.status_payloads().size(), 1U);
  EXPECT_EQ(d.transport.status_payloads()[0],
            R"({"state":"online","fw":"1.2.0","dropped":0,"oldest_seq":1,"release_check":"clock_unknown"})");
  d.add(3);  // one drop: the next status, a minute on, carries the same verdict
  d.session.poll(d.now + 60'000);
  ASSERT_EQ(d.transport.status_payloads().size(), 2U);
  EXPECT_EQ(d.transport.status_payloads()[1],
            R"({"state":"online","fw":"1.2.0","dropped":1,"oldest_seq":2,"release_check":"clock_unknown"})");
  // And every connection's first status.
  d.session.on_disconnected(d.now + 61'000);
  d.session.on_connected(d.now + 62'000);
  ASSERT_EQ(d.transport.status_payloads().size(), 3U);
  EXPECT_EQ(d.transport.status_payloads()[2], d.transport.status_payloads()[1]);
}

TEST(Session, ARefusedReleaseCheckStatusIsRetried) {
  Device d;
  d.session.on_connected(d.now);
  d.transport.refused_topic = kStatus;
  d.session.set_release_check("timestamp_rolled_back");
  d.session.poll(d.now + 1);
  EXPECT_EQ(d.transport.status_payloads().size(), 1U);
  d.transport.refused_topic.clear();
  d.session.poll(d.now + 2);
  ASSERT_EQ(d.transport.status_payloads().size(), 2U);
  EXPECT_NE(d.transport.status_payloads()[1].find(R"("release_check":"timestamp_rolled_back")"), std::string::npos);
}

TEST(Session, AnEmptyOrInvalidReleaseCheckIsNotReported) {
  Device d;
  d.session.set_release_check("current");
  d.session.on_connected(d.now);
  d.session.set_release_check("Not-A-Code");
  EXPECT_EQ(d.session.release_check(), "");
  d.session.poll(d.now + 1);
  ASSERT_EQ(d.transport.status_payloads().size(), 2U) << "the verdict went: that is a change too";
  EXPECT_EQ(d.transport.status_payloads()[1], R"({"state":"online","fw":"1.2.0","dropped":0,"oldest_seq":1})");
  d.session.set_release_check("");
  d.session.poll(d.now + 2);
  EXPECT_EQ(d.transport.status_payloads().size(), 2U);
}

TEST(Session, DroppedReadingsInFlightLeaveTheWindow) {
  auto c = config();
  c.max_in_flight_readings = 4;
  Device d(c, /*capacity=*/4);
  d.session.on_connected(d.now);
  d.add(4);
  EXPECT_EQ(d.session.in_flight(), 4U);
  d.add(2);  // drops 1 and 2, which were in flight; 5 and 6 can go
  EXPECT_EQ(d.outbox.dropped_total(), 2U);
  EXPECT_EQ(flatten(d.transport.take_batches()), range(1, 6));
  EXPECT_EQ(d.session.in_flight(), 4U);
}

TEST(Session, ARestartFromTheJournalResendsAndNeverReusesSeqs) {
  OutboxSnapshot durable;
  {
    Device first;
    first.session.on_connected(first.now);
    first.add(5);
    first.receive_ack(3);
    durable = first.journal.snapshot();
  }
  // The device reboots: a new outbox from what the journal replays.
  Device second(config(), 10'000, durable);
  EXPECT_EQ(second.outbox.acked_seq(), 3U);
  second.session.on_connected(second.now);
  EXPECT_EQ(second.transport.take_batches(), (std::vector<std::vector<std::uint64_t>>{range(4, 5)}));
  second.add(1);
  EXPECT_EQ(second.transport.take_batches(), (std::vector<std::vector<std::uint64_t>>{{6}}));
  second.receive_ack(6);
  EXPECT_EQ(second.outbox.pending_count(), 0U);

  // And again, with nothing pending: seqs continue.
  Device third(config(), 10'000, second.journal.snapshot());
  third.session.on_connected(third.now);
  third.add(1);
  EXPECT_EQ(third.transport.take_batches(), (std::vector<std::vector<std::uint64_t>>{{7}}));
}

}  // namespace
}  // namespace kelvin::device
