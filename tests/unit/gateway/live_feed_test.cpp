// LiveFeed (live_feed.hpp) with streams that record what they are sent: who gets which events,
// the coalescing for fleet followers, the bounds, keep-alives and the session recheck. flush() runs
// on the feed's thread every few milliseconds here; the tests wait for what it sends.

#include "kelvin/gateway/live_feed.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "kelvin/testing/background_process.hpp"

namespace kelvin::gateway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
using testing::wait_until;

constexpr std::int64_t kT0 = 1'796'000'000'000;

class RecordingStream final : public http::ResponseStream {
 public:
  explicit RecordingStream(std::size_t refuse_after_bytes = SIZE_MAX) : refuse_after_bytes_(refuse_after_bytes) {}

  bool send(std::string data) override {
    std::lock_guard lock(mutex_);
    if (!open_) return false;
    if (text_.size() + data.size() > refuse_after_bytes_) {
      open_ = false;  // as the server does for a reader past its bound
      return false;
    }
    text_ += data;
    return true;
  }
  void close() override {
    std::lock_guard lock(mutex_);
    open_ = false;
    closed_by_feed_ = true;
  }
  bool is_open() const override {
    std::lock_guard lock(mutex_);
    return open_;
  }

  void client_went_away() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  std::string text() const {
    std::lock_guard lock(mutex_);
    return text_;
  }
  bool closed_by_feed() const {
    std::lock_guard lock(mutex_);
    return closed_by_feed_;
  }
  // The data of every event named `name`, parsed.
  std::vector<nlohmann::json> events(const std::string& name) const {
    std::vector<nlohmann::json> out;
    const std::string text_now = text();
    const std::string marker = "event: " + name + "\ndata: ";
    for (auto at = text_now.find(marker); at != std::string::npos; at = text_now.find(marker, at + 1)) {
      const auto begin = at + marker.size();
      out.push_back(nlohmann::json::parse(text_now.substr(begin, text_now.find('\n', begin) - begin)));
    }
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::string text_;
  bool open_ = true;
  bool closed_by_feed_ = false;
  std::size_t refuse_after_bytes_;
};

store::DeviceReading reading(const std::string& device, std::uint64_t seq, std::int64_t ts_ms, double temperature) {
  store::DeviceReading item{device, {}};
  item.reading.seq = seq;
  item.reading.ts_ms = ts_ms;
  item.reading.set(proto::Quantity::temperature, temperature);
  return item;
}

// A commit that newly stored every reading of `batch` (a run per reading, the first copy of a
// device's seq only), except the seqs in `duplicates`.
struct Commit {
  store::IngestBatch batch;
  store::CommitSummary summary;
};

Commit commit_of(std::vector<store::DeviceReading> readings, std::vector<std::uint64_t> duplicates = {}) {
  Commit out;
  out.batch.readings = std::move(readings);
  for (const auto& item : out.batch.readings) {
    if (std::find(duplicates.begin(), duplicates.end(), item.reading.seq) != duplicates.end()) continue;
    auto ack = std::find_if(out.summary.acks.begin(), out.summary.acks.end(),
                            [&](const store::DeviceAck& a) { return a.device_id == item.device_id; });
    if (ack == out.summary.acks.end()) {
      out.summary.acks.push_back({item.device_id, 0, {}});
      ack = std::prev(out.summary.acks.end());
    }
    if (store::in_runs(ack->stored, item.reading.seq)) continue;  // a second copy: stored once
    ack->stored.push_back({item.reading.seq, item.reading.seq});
    ++out.summary.stored;
  }
  return out;
}

// The store's export log as a ReplaySource reads it: what the "store" holds, in position order.
class FakeExportLog {
 public:
  void add(std::uint64_t position, const store::DeviceReading& item) {
    std::lock_guard lock(mutex_);
    log_.push_back({position, item.device_id, item.reading});
  }
  LiveFeed::ReplaySource source() {
    return [this](std::uint64_t after, std::size_t max) -> Result<store::ExportBatch> {
      std::lock_guard lock(mutex_);
      ++reads_;
      store::ExportBatch batch;
      batch.end_position = after;
      for (const auto& r : log_) {
        if (r.position <= after || batch.readings.size() == max) continue;
        batch.readings.push_back(r);
        batch.end_position = r.position;
      }
      return batch;
    };
  }
  int reads() const {
    std::lock_guard lock(mutex_);
    return reads_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<store::ExportedReading> log_;
  int reads_ = 0;
};

class LiveFeedTest : public ::testing::Test {
 protected:
  LiveFeedOptions fast() {
    LiveFeedOptions options;
    options.flush_interval = 5ms;
    options.keepalive_interval = 1h;
    options.recheck_interval = 1h;
    return options;
  }

  void start(LiveFeedOptions options, std::uint64_t last_position = 0, LiveFeed::ReplaySource replay = nullptr) {
    feed_.emplace(options);
    feed_->start(last_position, std::move(replay));
    next_position_ = last_position;
  }

  // A stream resuming after `position` (the Last-Event-ID its client sent).
  std::shared_ptr<RecordingStream> resume(std::optional<std::string> device, std::uint64_t position) {
    auto stream = std::make_shared<RecordingStream>();
    EXPECT_EQ(feed_->subscribe(
                  stream, std::move(device), "session-1", [] { return true; }, position),
              LiveFeed::Admission::admitted);
    return stream;
  }

  // A stream of owner `owner` (a session) following `device`, or the fleet.
  std::shared_ptr<RecordingStream> subscribe(
      std::optional<std::string> device, LiveFeed::StillAllowed still_allowed = [] { return true; },
      const std::string& owner = "session-1") {
    auto stream = std::make_shared<RecordingStream>();
    EXPECT_EQ(feed_->subscribe(stream, std::move(device), owner, std::move(still_allowed)),
              LiveFeed::Admission::admitted);
    return stream;
  }

  // Hands the feed `c` as the store committed it: its stored readings take the next positions.
  void commit(Commit c) {
    if (c.summary.stored > 0) c.summary.last_position = next_position_ += c.summary.stored;
    feed_->on_commit(c.batch, c.summary);
  }

  std::optional<LiveFeed> feed_;
  std::uint64_t next_position_ = 0;
};

TEST_F(LiveFeedTest, AStreamStartsWithItsRetryAndAReadyEvent) {
  start(fast());
  auto fleet = subscribe(std::nullopt);
  auto one = subscribe("sensor-01");
  EXPECT_EQ(fleet->text().rfind("retry: 3000\n\n", 0), 0u) << fleet->text();
  ASSERT_EQ(fleet->events("ready").size(), 1u);
  EXPECT_TRUE(fleet->events("ready")[0]["device"].is_null());
  ASSERT_EQ(one->events("ready").size(), 1u);
  EXPECT_EQ(one->events("ready")[0]["device"], "sensor-01");
  EXPECT_EQ(feed_->counters().subscribers, 2u);
}

TEST_F(LiveFeedTest, ADeviceFollowerGetsEachNewReadingOfItsDeviceOnly) {
  start(fast());
  auto one = subscribe("sensor-01");
  commit(commit_of({reading("sensor-01", 1, kT0, 20.5), reading("sensor-02", 1, kT0, 30.0),
                    reading("sensor-01", 2, kT0 + 1000, 21.0)}));
  ASSERT_TRUE(wait_until([&] { return one->events("reading").size() == 2; }, 5s)) << one->text();
  const auto events = one->events("reading");
  EXPECT_EQ(events[0]["device"], "sensor-01");
  EXPECT_EQ(events[0]["seq"], 1);
  EXPECT_EQ(events[0]["temperature"], 20.5);
  EXPECT_EQ(events[0]["ts_ms"], kT0);
  EXPECT_EQ(events[1]["seq"], 2);
  EXPECT_THAT(one->text(), Not(HasSubstr("sensor-02")));
}

TEST_F(LiveFeedTest, ReadingsAlreadyStoredBeforeAreNotSentAgain) {
  start(fast());
  auto one = subscribe("sensor-01");
  commit(commit_of({reading("sensor-01", 1, kT0, 20.0), reading("sensor-01", 2, kT0 + 1000, 21.0)}, {1}));
  ASSERT_TRUE(wait_until([&] { return one->events("reading").size() == 1; }, 5s));
  std::this_thread::sleep_for(50ms);  // ten flushes: nothing more comes
  ASSERT_EQ(one->events("reading").size(), 1u);
  EXPECT_EQ(one->events("reading")[0]["seq"], 2);
}

TEST_F(LiveFeedTest, AFleetFollowerGetsTheLatestReadingOfEachDevicePerFlush) {
  LiveFeedOptions options = fast();
  options.flush_interval = 200ms;
  start(options);
  auto fleet = subscribe(std::nullopt);
  // One commit with three readings of one device, the newest in the middle (a resend came last).
  commit(commit_of({reading("sensor-01", 1, kT0, 20.0), reading("sensor-01", 3, kT0 + 2000, 22.0),
                    reading("sensor-01", 2, kT0 + 1000, 21.0), reading("sensor-02", 1, kT0, 30.0)}));
  ASSERT_TRUE(wait_until([&] { return fleet->events("reading").size() >= 2; }, 5s));
  std::this_thread::sleep_for(300ms);
  const auto events = fleet->events("reading");
  ASSERT_EQ(events.size(), 2u) << fleet->text();
  for (const auto& event : events) {
    if (event["device"] == "sensor-01") {
      EXPECT_EQ(event["seq"], 3);
    } else {
      EXPECT_EQ(event["device"], "sensor-02");
    }
  }
}

TEST_F(LiveFeedTest, StatusesReachTheFleetAndTheDevicesFollowersButNoOneElse) {
  start(fast());
  auto fleet = subscribe(std::nullopt);
  auto one = subscribe("sensor-01");
  auto two = subscribe("sensor-02");
  feed_->on_status("sensor-01", store::DeviceStatus{"offline", "1.4.2", 3, kT0});
  ASSERT_TRUE(wait_until([&] { return one->events("status").size() == 1 && fleet->events("status").size() == 1; }, 5s));
  const auto status = one->events("status")[0];
  EXPECT_EQ(status["device"], "sensor-01");
  EXPECT_EQ(status["state"], "offline");
  EXPECT_EQ(status["firmware"], "1.4.2");
  EXPECT_EQ(status["dropped"], 3);
  EXPECT_EQ(status["at_ms"], kT0);
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(two->events("status").empty());
}

TEST_F(LiveFeedTest, NothingIsQueuedWhileNobodyFollows) {
  start(fast());
  commit(commit_of({reading("sensor-01", 1, kT0, 20.0)}));
  std::this_thread::sleep_for(20ms);
  auto one = subscribe("sensor-01");  // comes after the commit: must not see it
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(one->events("reading").empty()) << one->text();
  EXPECT_EQ(feed_->counters().events_sent, 0u);
}

TEST_F(LiveFeedTest, PastTheQueueBoundReadingsAreSkippedCountedAndAGapIsSent) {
  LiveFeedOptions options = fast();
  options.flush_interval = 300ms;
  options.max_queued_readings = 3;
  start(options);
  auto one = subscribe("sensor-01");
  std::vector<store::DeviceReading> many;
  for (std::uint64_t seq = 1; seq <= 5; ++seq)
    many.push_back(reading("sensor-01", seq, kT0 + static_cast<std::int64_t>(seq), 20.0));
  commit(commit_of(many));
  ASSERT_TRUE(wait_until([&] { return !one->events("gap").empty(); }, 5s));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(one->events("gap")[0]["skipped"], 2);
  EXPECT_EQ(one->events("reading").size(), 3u);
  EXPECT_EQ(feed_->counters().readings_skipped, 2u);
}

TEST_F(LiveFeedTest, ASilentStreamGetsKeepAliveComments) {
  LiveFeedOptions options = fast();
  options.keepalive_interval = 20ms;
  start(options);
  auto one = subscribe("sensor-01");
  EXPECT_TRUE(wait_until([&] { return one->text().find(": keep-alive\n\n") != std::string::npos; }, 5s));
}

TEST_F(LiveFeedTest, AStreamWhoseSessionEndedIsClosedAndCounted) {
  LiveFeedOptions options = fast();
  options.recheck_interval = 20ms;
  start(options);
  std::atomic<bool> signed_in{true};
  auto one = subscribe("sensor-01", [&] { return signed_in.load(); });
  std::this_thread::sleep_for(60ms);
  EXPECT_TRUE(one->is_open());
  signed_in = false;
  ASSERT_TRUE(wait_until([&] { return one->closed_by_feed(); }, 5s));
  EXPECT_TRUE(wait_until([&] { return feed_->counters().subscribers == 0; }, 5s));
  EXPECT_EQ(feed_->counters().streams_closed_signed_out, 1u);
}

TEST_F(LiveFeedTest, StreamsThatEndedAreDroppedAndTheirDevicesNoLongerQueued) {
  start(fast());
  auto one = subscribe("sensor-01");
  auto slow = std::make_shared<RecordingStream>(200);  // refuses anything past 200 bytes
  ASSERT_EQ(feed_->subscribe(slow, "sensor-02", "session-2", [] { return true; }), LiveFeed::Admission::admitted);
  one->client_went_away();
  std::vector<store::DeviceReading> many;
  for (std::uint64_t seq = 1; seq <= 10; ++seq)
    many.push_back(reading("sensor-02", seq, kT0 + static_cast<std::int64_t>(seq), 20.0));
  commit(commit_of(many));
  ASSERT_TRUE(wait_until([&] { return feed_->counters().subscribers == 0; }, 5s));
  EXPECT_FALSE(slow->is_open());
}

TEST_F(LiveFeedTest, SubscribersPastTheLimitAreRefusedAndStopClosesEveryStream) {
  LiveFeedOptions options = fast();
  options.max_subscribers = 2;
  start(options);
  auto a = subscribe(
      std::nullopt, [] { return true; }, "session-1");
  auto b = subscribe(
      "sensor-01", [] { return true; }, "session-2");
  EXPECT_EQ(feed_->admission("session-3"), LiveFeed::Admission::feed_full);
  auto c = std::make_shared<RecordingStream>();
  EXPECT_EQ(feed_->subscribe(c, std::nullopt, "session-3", [] { return true; }), LiveFeed::Admission::feed_full);
  EXPECT_TRUE(c->text().empty());
  EXPECT_EQ(feed_->counters().subscriptions_refused, 1u);
  feed_->stop();
  EXPECT_TRUE(a->closed_by_feed());
  EXPECT_TRUE(b->closed_by_feed());
  EXPECT_EQ(feed_->subscribe(std::make_shared<RecordingStream>(), std::nullopt, "session-1", [] { return true; }),
            LiveFeed::Admission::stopped);
}

TEST_F(LiveFeedTest, OneOwnerCannotTakeEveryPlaceAndGetsItsPlacesBackWhenItsStreamsEnd) {
  LiveFeedOptions options = fast();
  options.max_per_owner = 2;
  start(options);
  auto first = subscribe(
      std::nullopt, [] { return true; }, "greedy");
  auto second = subscribe(
      "sensor-01", [] { return true; }, "greedy");
  EXPECT_EQ(feed_->admission("greedy"), LiveFeed::Admission::owner_full);
  EXPECT_EQ(feed_->subscribe(std::make_shared<RecordingStream>(), std::nullopt, "greedy", [] { return true; }),
            LiveFeed::Admission::owner_full);
  EXPECT_EQ(feed_->admission("someone-else"), LiveFeed::Admission::admitted);
  first->client_went_away();
  ASSERT_TRUE(wait_until([&] { return feed_->admission("greedy") == LiveFeed::Admission::admitted; }, 5s));
}

// The seqs of the reading events `stream` got, in order.
std::vector<std::uint64_t> seqs(const RecordingStream& stream) {
  std::vector<std::uint64_t> out;
  for (const auto& event : stream.events("reading")) out.push_back(event["seq"].get<std::uint64_t>());
  return out;
}

TEST_F(LiveFeedTest, EverySendEndsWithThePositionItsStreamHasEverythingThrough) {
  start(fast(), 100);
  auto one = subscribe("sensor-01");
  EXPECT_FALSE(one->events("ready")[0]["resumed"].get<bool>());
  // Positions 101..103, one of them a second copy in the batch that was not stored again.
  commit(commit_of({reading("sensor-01", 1, kT0, 20.0), reading("sensor-02", 1, kT0, 30.0),
                    reading("sensor-01", 1, kT0, 20.0), reading("sensor-01", 2, kT0 + 1000, 21.0)}));
  ASSERT_TRUE(wait_until([&] { return one->text().find("id: 103\n\n") != std::string::npos; }, 5s)) << one->text();
  EXPECT_EQ(seqs(*one), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(one->text().substr(one->text().size() - 9), "id: 103\n\n");
  // Another device's readings move the position on with the next send (here a keep-alive).
  commit(commit_of({reading("sensor-02", 2, kT0 + 1000, 31.0)}));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(one->text().find("id: 104"), std::string::npos) << "sent with something only";
}

TEST_F(LiveFeedTest, ANewStreamsIdCountsTheReadingsStoredWhileNobodyWatched) {
  LiveFeedOptions options = fast();
  options.keepalive_interval = 20ms;
  start(options, 10);
  commit(commit_of({reading("sensor-01", 1, kT0, 20.0), reading("sensor-02", 1, kT0, 30.0)}));  // 11, 12
  auto one = subscribe("sensor-01");
  ASSERT_TRUE(wait_until([&] { return one->text().find(": keep-alive\n\nid: 12\n\n") != std::string::npos; }, 5s))
      << one->text();
}

TEST_F(LiveFeedTest, AResumedDeviceStreamGetsWhatWasStoredSinceItsIdThenTheLiveReadingsEachOnce) {
  FakeExportLog log;
  LiveFeedOptions options = fast();
  options.flush_interval = 200ms;
  // The store holds positions 1..5; the feed heard of 1..3 so far (4 and 5 are being handed over).
  const std::vector<store::DeviceReading> stored{
      reading("sensor-01", 1, kT0, 20.0), reading("sensor-02", 1, kT0, 30.0), reading("sensor-01", 2, kT0 + 1000, 21.0),
      reading("sensor-01", 3, kT0 + 2000, 22.0), reading("sensor-02", 2, kT0 + 1000, 31.0)};
  for (std::uint64_t i = 0; i < stored.size(); ++i) log.add(i + 1, stored[i]);
  start(options, 3, log.source());
  auto one = resume("sensor-01", 1);  // the client had everything through position 1
  ASSERT_EQ(one->events("ready").size(), 1u);
  EXPECT_TRUE(one->events("ready")[0]["resumed"].get<bool>());
  commit(commit_of({stored[3], stored[4]}));  // positions 4 and 5, now live too
  ASSERT_TRUE(wait_until([&] { return one->text().find("id: 5\n\n") != std::string::npos; }, 5s)) << one->text();
  std::this_thread::sleep_for(250ms);
  EXPECT_EQ(seqs(*one), (std::vector<std::uint64_t>{2, 3})) << one->text();
  // Then live, after the replay.
  commit(commit_of({reading("sensor-01", 4, kT0 + 3000, 23.0)}));
  ASSERT_TRUE(wait_until([&] { return seqs(*one).size() == 3; }, 5s)) << one->text();
  EXPECT_EQ(seqs(*one).back(), 4u);
  EXPECT_THAT(one->text(), HasSubstr("id: 6\n\n"));
  EXPECT_TRUE(one->events("gap").empty());
  EXPECT_EQ(feed_->counters().streams_resumed, 1u);
  EXPECT_EQ(feed_->counters().readings_replayed, 2u);
}

TEST_F(LiveFeedTest, AResumedFleetStreamGetsTheLatestReadingOfEachDeviceStoredSinceItsId) {
  FakeExportLog log;
  log.add(1, reading("sensor-01", 1, kT0, 20.0));
  log.add(2, reading("sensor-01", 3, kT0 + 2000, 22.0));
  log.add(3, reading("sensor-01", 2, kT0 + 1000, 21.0));  // a resend: older than the one before
  log.add(4, reading("sensor-02", 1, kT0, 30.0));
  start(fast(), 4, log.source());
  auto fleet = resume(std::nullopt, 1);
  ASSERT_TRUE(wait_until([&] { return fleet->events("reading").size() == 2; }, 5s)) << fleet->text();
  const auto events = fleet->events("reading");
  EXPECT_EQ(events[0]["device"], "sensor-01");
  EXPECT_EQ(events[0]["seq"], 3);
  EXPECT_EQ(events[1]["device"], "sensor-02");
  EXPECT_THAT(fleet->text(), HasSubstr("id: 4\n\n"));
}

TEST_F(LiveFeedTest, AResumedStreamTheStoreCannotReplayGetsAGapAndGoesOnLive) {
  FakeExportLog log;
  for (std::uint64_t position = 1; position <= 30; ++position) {
    log.add(position, reading("sensor-01", position, kT0 + static_cast<std::int64_t>(position), 20.0));
  }
  LiveFeedOptions options = fast();
  options.max_replay_scan = 20;
  options.max_replay_events = 5;
  start(options, 30, log.source());
  auto unknown = resume("sensor-01", 31);   // never handed out by this store
  auto too_old = resume("sensor-01", 5);    // 25 stored since: more than the scan takes
  auto too_many = resume("sensor-01", 15);  // 15 of its own: more than the events allowed
  auto replayed = resume("sensor-01", 27);  // 3: replayed
  ASSERT_TRUE(wait_until([&] { return feed_->counters().replays_refused == 3; }, 5s));
  EXPECT_EQ(log.reads(), 2) << "a position too far back is refused without reading the store";
  EXPECT_EQ(unknown->events("gap").at(0)["skipped"], 0);
  EXPECT_EQ(too_old->events("gap").at(0)["skipped"], 25);
  EXPECT_EQ(too_many->events("gap").at(0)["skipped"], 15);
  for (const auto& stream : {unknown, too_old, too_many}) {
    EXPECT_TRUE(stream->events("reading").empty()) << stream->text();
    EXPECT_THAT(stream->text(), HasSubstr("id: 30\n\n"));
  }
  EXPECT_EQ(seqs(*replayed), (std::vector<std::uint64_t>{28, 29, 30}));
  EXPECT_TRUE(replayed->events("gap").empty());
  // Each goes on live.
  commit(commit_of({reading("sensor-01", 31, kT0 + 31, 20.0)}));
  ASSERT_TRUE(wait_until([&] { return seqs(*unknown).size() == 1 && seqs(*replayed).size() == 4; }, 5s));

  // Without a store to read, a resumed stream gets a gap too.
  start(fast(), 30);
  auto without_store = resume("sensor-01", 29);
  EXPECT_TRUE(wait_until([&] { return without_store->events("gap").size() == 1; }, 5s));
}

}  // namespace
}  // namespace kelvin::gateway
