// The gateway's Ingest with a real store in a temp dir, a recording ack sink and a fixed clock:
// acks only after the commit, backpressure, retries after failed commits, and stopping while the
// network thread is blocked. Commits are made to fail the way they fail in the field: another
// connection holds the database's write lock (SQLITE_BUSY), as a full disk or a stuck tool would.

#include "kelvin/gateway/ingest.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kelvin/gateway/state_layout.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::gateway {
namespace {

using namespace std::chrono_literals;
using kelvin::testing::TempDir;

constexpr std::int64_t kNowMs = 1'767'225'600'000;  // 2026-01-01T00:00:00Z, the fixed clock

// The store's ack watermark of `device`, 0 when it cannot be read.
std::uint64_t acked_seq(store::Store& store, std::string_view device) {
  auto seq = store.acked_seq(device);
  return seq ? *seq : 0;
}

std::string reading(std::uint64_t seq) {
  return R"({"seq":)" + std::to_string(seq) + R"(,"ts":)" +
         std::to_string(kNowMs - 1000 + static_cast<std::int64_t>(seq)) + R"(,"values":{"temperature":21.5}})";
}

// Records every ack; the store's own view is checked at the moment each ack is published.
class RecordingAcks {
 public:
  struct Ack {
    std::string device_id;
    std::uint64_t seq = 0;
    std::uint64_t stored_when_acked = 0;  // the store's watermark seen from another connection
  };

  explicit RecordingAcks(std::filesystem::path db) : db_(std::move(db)) {}

  AckSink sink() {
    return [this](std::string_view device_id, std::uint64_t seq) {
      auto observer = store::Store::open(db_);
      std::uint64_t stored = 0;
      if (observer) stored = acked_seq(*observer, device_id);
      std::lock_guard lock(mutex_);
      acks_.push_back({std::string(device_id), seq, stored});
      return true;
    };
  }

  std::vector<Ack> acks() const {
    std::lock_guard lock(mutex_);
    return acks_;
  }

 private:
  std::filesystem::path db_;
  mutable std::mutex mutex_;
  std::vector<Ack> acks_;
};

// Holds the database's write lock from a connection of its own while it lives.
class WriteLockHolder {
 public:
  explicit WriteLockHolder(const std::filesystem::path& db) {
    EXPECT_EQ(sqlite3_open(db.c_str(), &db_), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  ~WriteLockHolder() { release(); }
  void release() {
    if (db_ == nullptr) return;
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
  }

 private:
  sqlite3* db_ = nullptr;
};

class IngestTest : public ::testing::Test {
 protected:
  IngestTest() : db_(store_path(dir_.path())), acks_(db_) {
    store::StoreOptions store_options;
    store_options.busy_timeout_ms = 0;  // a locked database fails the commit at once
    auto opened = store::Store::open(db_, store_options);
    EXPECT_TRUE(opened) << opened.error().message;
    store_.emplace(std::move(*opened));
    options_.batch_max_delay = 5ms;
    options_.commit_retry_delay = 20ms;
  }

  void make_ingest() {
    ingest_ = std::make_unique<Ingest>(*store_, acks_.sink(), options_, [] { return kNowMs; });
    ingest_->start();
  }

  // An ingest whose batches of fewer than `min_readings` wait longer than any test does: only
  // reaching that many readings (or an HTTPS request) commits them.
  void make_ingest_with_a_long_quiet_delay(std::size_t min_readings) {
    options_.batch_min_readings = min_readings;
    options_.batch_quiet_delay = 20s;
    make_ingest();
  }

  std::chrono::steady_clock::duration time_to_commit_a_lone_reading(std::size_t min_readings,
                                                                    std::chrono::milliseconds quiet_delay);

  // Waits until `done` holds, for at most `limit`.
  template <typename Condition>
  bool eventually(Condition done, std::chrono::milliseconds limit = 10s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (done()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return done();
  }

  TempDir dir_;
  std::filesystem::path db_;
  RecordingAcks acks_;
  std::optional<store::Store> store_;
  IngestOptions options_;
  std::unique_ptr<Ingest> ingest_;
};

TEST_F(IngestTest, AcknowledgesOnlyWhatIsCommitted) {
  make_ingest();
  for (std::uint64_t seq = 1; seq <= 3; ++seq) ingest_->handle_message("devices/d1/telemetry", reading(seq));
  ASSERT_TRUE(eventually([&] { return ingest_->counters().readings_stored == 3; }));
  ingest_->stop();
  const auto acks = acks_.acks();
  ASSERT_FALSE(acks.empty());
  EXPECT_EQ(acks.back().device_id, "d1");
  EXPECT_EQ(acks.back().seq, 3u);
  for (const auto& ack : acks) EXPECT_LE(ack.seq, ack.stored_when_acked) << "an ack ran ahead of the store";
}

// With the clock fixed, a reading stamped 1000 - seq ms before "now" arrives and is committed that
// late; a commit itself takes real time, well under a second here.
TEST_F(IngestTest, ReportsWhereTheLatencyGoes) {
  make_ingest();
  EXPECT_EQ(ingest_->counters().latency_p99_ms, 0) << "no reading yet";
  for (std::uint64_t seq = 1; seq <= 4; ++seq) ingest_->handle_message("devices/d1/telemetry", reading(seq));
  ASSERT_TRUE(eventually([&] { return ingest_->counters().readings_stored == 4; }));
  const IngestCounters c = ingest_->counters();
  EXPECT_EQ(c.arrival_latency_p50_ms, 997);  // seqs 1..4: 999, 998, 997, 996; the 2nd smallest
  EXPECT_EQ(c.arrival_latency_p99_ms, 999);
  EXPECT_EQ(c.latency_p50_ms, 997);
  EXPECT_EQ(c.latency_p99_ms, 999);
  EXPECT_GE(c.commit_duration_p99_ms, c.commit_duration_p50_ms);
  EXPECT_LT(c.commit_duration_p99_ms, 1000);
}

TEST_F(IngestTest, RetriesAFailedCommitAndAcknowledgesAfterIt) {
  WriteLockHolder lock(db_);
  make_ingest();
  ingest_->handle_message("devices/d1/telemetry", reading(1));
  ASSERT_TRUE(eventually([&] { return ingest_->counters().commit_failures >= 2; }));
  EXPECT_TRUE(acks_.acks().empty()) << "acknowledged while nothing could be stored";
  EXPECT_EQ(ingest_->counters().readings_stored, 0u);
  lock.release();
  ASSERT_TRUE(eventually([&] { return ingest_->counters().readings_stored == 1; }));
  ingest_->stop();
  ASSERT_FALSE(acks_.acks().empty());
  EXPECT_EQ(acks_.acks().back().seq, 1u);
  EXPECT_EQ(acked_seq(*store_, "d1"), 1u);
}

TEST_F(IngestTest, BlocksTheSenderWhileTheStoreFallsBehind) {
  options_.max_waiting_readings = 2;
  options_.batch_max_readings = 2;
  WriteLockHolder lock(db_);
  make_ingest();
  // The commit thread takes the first two and keeps failing with them; two more fill the queue.
  for (std::uint64_t seq = 1; seq <= 4; ++seq) ingest_->handle_message("devices/d1/telemetry", reading(seq));
  std::atomic<bool> returned{false};
  std::thread sender([&] {
    ingest_->handle_message("devices/d1/telemetry", reading(5));
    returned = true;
  });
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(returned.load()) << "the sender was not held back while the store could not keep up";
  lock.release();
  ASSERT_TRUE(eventually([&] { return returned.load(); }));
  sender.join();
  ASSERT_TRUE(eventually([&] { return ingest_->counters().readings_stored == 5; }));
  ingest_->stop();
  EXPECT_EQ(acked_seq(*store_, "d1"), 5u);
}

TEST_F(IngestTest, StopFreesASenderBlockedByFailingCommits) {
  options_.max_waiting_readings = 1;
  options_.batch_max_readings = 1;
  WriteLockHolder lock(db_);
  make_ingest();
  ingest_->handle_message("devices/d1/telemetry", reading(1));
  ingest_->handle_message("devices/d1/telemetry", reading(2));
  auto blocked = std::async(std::launch::async, [&] { ingest_->handle_message("devices/d1/telemetry", reading(3)); });
  ASSERT_EQ(blocked.wait_for(200ms), std::future_status::timeout) << "the sender should be waiting for room";
  auto stopped = std::async(std::launch::async, [&] { ingest_->stop(); });
  ASSERT_EQ(stopped.wait_for(10s), std::future_status::ready) << "stop() hangs while commits fail";
  ASSERT_EQ(blocked.wait_for(10s), std::future_status::ready) << "the blocked sender was never released";
  EXPECT_TRUE(acks_.acks().empty()) << "nothing was stored, so nothing may be acknowledged";
  // Whatever arrives after stop() is refused, not queued for a commit that will never come.
  ingest_->handle_message("devices/d1/telemetry", reading(4));
  EXPECT_GE(ingest_->counters().refused_while_stopping, 2u);
  lock.release();
  EXPECT_EQ(acked_seq(*store_, "d1"), 0u);
}

// A batch of a quiet moment waits for batch_min_readings until batch_quiet_delay: the fixed cost of
// a commit (an fsync, the WAL pages) is shared by a few readings instead of paid by each.
TEST_F(IngestTest, AFewReadingsWaitPastTheMaxDelayForEnoughToShareACommit) {
  make_ingest_with_a_long_quiet_delay(3);
  const auto start = std::chrono::steady_clock::now();
  ingest_->handle_message("devices/d1/telemetry", reading(1));
  std::this_thread::sleep_for(100ms);  // twenty times batch_max_delay
  EXPECT_EQ(ingest_->counters().readings_stored, 0u) << "one reading was committed alone after batch_max_delay";
  ingest_->handle_message("devices/d1/telemetry", reading(2));
  ingest_->handle_message("devices/d1/telemetry", reading(3));
  ASSERT_TRUE(eventually([&] { return ingest_->counters().readings_stored == 3; }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "the batch waited for its quiet delay";
  EXPECT_EQ(ingest_->counters().commits, 1u);
  ingest_->stop();
  EXPECT_EQ(acked_seq(*store_, "d1"), 3u);
}

// A lone reading's time from arrival to its commit, with the given batch bounds; fails the test
// (returning the time waited) if it is not stored within 10 s.
std::chrono::steady_clock::duration IngestTest::time_to_commit_a_lone_reading(std::size_t min_readings,
                                                                              std::chrono::milliseconds quiet_delay) {
  options_.batch_min_readings = min_readings;
  options_.batch_quiet_delay = quiet_delay;
  make_ingest();
  const auto start = std::chrono::steady_clock::now();
  ingest_->handle_message("devices/d1/telemetry", reading(1));
  EXPECT_TRUE(eventually([&] { return ingest_->counters().readings_stored == 1; }));
  const auto waited = std::chrono::steady_clock::now() - start;
  ingest_->stop();
  EXPECT_EQ(acked_seq(*store_, "d1"), 1u);
  return waited;
}

TEST_F(IngestTest, AQuietBatchIsCommittedAtTheQuietDelay) {
  EXPECT_GE(time_to_commit_a_lone_reading(16, 300ms), 300ms);
}

TEST_F(IngestTest, WithAMinimumOfOneReadingABatchIsCommittedAfterTheMaxDelay) {
  EXPECT_LT(time_to_commit_a_lone_reading(1, 20s), 10s) << "the batch waited for its quiet delay";
}

TEST_F(IngestTest, StopCommitsWhatWasTakenBeforeIt) {
  options_.batch_max_delay = 10s;  // only stop() ends the batch
  options_.batch_max_readings = 1000;
  make_ingest();
  for (std::uint64_t seq = 1; seq <= 10; ++seq) ingest_->handle_message("devices/d1/telemetry", reading(seq));
  ingest_->stop();
  EXPECT_EQ(ingest_->counters().readings_stored, 10u);
  ASSERT_FALSE(acks_.acks().empty());
  EXPECT_EQ(acks_.acks().back().seq, 10u);
}

// The answers to requests that do not come through the broker (HTTPS: submit_telemetry,
// submit_status). Each completion is recorded with the store's watermark seen from another
// connection at the moment it is told. A completion shares what it records, so one told after its
// test gave up (when the fixture stops the ingest) still records into something that exists.
template <class Outcome>
class SubmittedAnswers {
 public:
  struct Told {
    Outcome outcome;
    std::uint64_t stored_when_told = 0;
  };

  explicit SubmittedAnswers(std::filesystem::path db) : state_(std::make_shared<State>()) {
    state_->db = std::move(db);
  }

  std::function<void(Outcome)> completion(std::string device_id) {
    return [state = state_, device_id](Outcome outcome) {
      auto observer = store::Store::open(state->db);
      const std::uint64_t stored = observer ? acked_seq(*observer, device_id) : 0;
      std::lock_guard lock(state->mutex);
      state->told.push_back({std::move(outcome), stored});
    };
  }

  std::vector<Told> told() const {
    std::lock_guard lock(state_->mutex);
    return state_->told;
  }

 private:
  struct State {
    std::filesystem::path db;
    std::mutex mutex;
    std::vector<Told> told;
  };
  std::shared_ptr<State> state_;
};
using SubmittedTelemetry = SubmittedAnswers<TelemetryOutcome>;
using SubmittedStatuses = SubmittedAnswers<StatusOutcome>;

std::string batch_of(const std::vector<std::string>& readings) {
  std::string out = R"({"batch":[)";
  for (const auto& r : readings) out += (out.back() == '[' ? "" : ",") + r;
  return out + "]}";
}

TEST_F(IngestTest, SubmittedTelemetryIsToldItsAckOnlyAfterTheCommit) {
  SubmittedTelemetry submitted(db_);
  make_ingest();
  ingest_->submit_telemetry("d1", batch_of({reading(1), reading(2), reading(3)}), submitted.completion("d1"));
  ASSERT_TRUE(eventually([&] { return submitted.told().size() == 1; }));
  const auto told = submitted.told().front();
  EXPECT_EQ(told.outcome.status, TelemetryOutcome::Status::stored);
  EXPECT_EQ(told.outcome.accepted, 3u);
  EXPECT_EQ(told.outcome.acked_seq, 3u);
  EXPECT_TRUE(told.outcome.rejected.empty());
  EXPECT_GE(told.stored_when_told, 3u) << "told before the readings were committed";
  // The answer carries the ack: none is published on MQTT, where nobody waits for it.
  EXPECT_TRUE(acks_.acks().empty());
}

// An HTTPS client holds its connection open until the answer: its batch does not wait for more.
TEST_F(IngestTest, AReadingPostedOverHttpsIsAnsweredWithoutWaitingForTheQuietDelay) {
  SubmittedTelemetry submitted(db_);
  make_ingest_with_a_long_quiet_delay(16);
  const auto start = std::chrono::steady_clock::now();
  ingest_->submit_telemetry("d1", batch_of({reading(1)}), submitted.completion("d1"));
  ASSERT_TRUE(eventually([&] { return submitted.told().size() == 1; }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "the request waited for the quiet delay";
  EXPECT_EQ(submitted.told().front().outcome.acked_seq, 1u);
}

// In one commit: a device heard over MQTT, one over HTTPS, one over both. Only those ever heard
// over MQTT get their ack published there; every HTTPS request gets it in its answer.
TEST_F(IngestTest, AcksArePublishedOnMqttOnlyForDevicesHeardOverMqtt) {
  options_.batch_max_delay = 300ms;  // all of it in one batch
  SubmittedTelemetry submitted(db_);
  make_ingest();
  ingest_->submit_telemetry("over-https", batch_of({reading(1), reading(2)}), submitted.completion("over-https"));
  ingest_->handle_message("devices/over-mqtt/telemetry", reading(1));
  ingest_->submit_telemetry("over-both", batch_of({reading(1)}), submitted.completion("over-both"));
  ingest_->handle_message("devices/over-both/telemetry", reading(2));
  ingest_->handle_message("devices/status-over-mqtt/status", R"({"state":"online","fw":"1.0.0"})");
  ASSERT_TRUE(eventually([&] { return submitted.told().size() == 2; }));
  for (const auto& told : submitted.told()) EXPECT_EQ(told.outcome.acked_seq, 2u);
  ASSERT_TRUE(eventually([&] { return acks_.acks().size() >= 2; }));
  std::map<std::string, std::uint64_t> published;
  for (const auto& ack : acks_.acks()) published[ack.device_id] = ack.seq;
  EXPECT_EQ(published, (std::map<std::string, std::uint64_t>{{"over-both", 2}, {"over-mqtt", 1}}));
  EXPECT_EQ(ingest_->counters().commits, 1u) << "the test meant one batch";
}

// Readings first..last of one device, as one batch payload: taken by the ingest all at once, so
// the commit thread judges the whole batch, never a part of it.
std::string batch_of_seqs(std::uint64_t first, std::uint64_t last) {
  std::vector<std::string> readings;
  for (std::uint64_t seq = first; seq <= last; ++seq) readings.push_back(reading(seq));
  return batch_of(readings);
}

// The dense rule (IngestOptions::batch_dense_delay): a batch of few devices waits past the max
// delay for more of their readings; the tests give it a delay longer than any of them waits.
class DenseBatchTest : public IngestTest {
 protected:
  DenseBatchTest() {
    options_.batch_min_readings = 1;  // only the dense rule can hold a batch past batch_max_delay
    options_.batch_dense_delay = 20s;
  }
};

TEST_F(DenseBatchTest, ABatchOfEightReadingsPerDeviceWaitsPastTheMaxDelayForMore) {
  options_.batch_max_readings = 12;
  make_ingest();
  ingest_->handle_message("devices/d1/telemetry", batch_of_seqs(1, Ingest::kDenseBatchReadingsPerDevice));
  std::this_thread::sleep_for(200ms);  // forty times batch_max_delay
  EXPECT_EQ(ingest_->counters().readings_stored, 0u) << "a dense batch was committed at batch_max_delay";
  EXPECT_EQ(ingest_->counters().dense_batches, 1u);
  // Its devices' next readings join it; reaching batch_max_readings commits it at once.
  ingest_->handle_message("devices/d1/telemetry", batch_of_seqs(Ingest::kDenseBatchReadingsPerDevice + 1, 12));
  ASSERT_TRUE(eventually([&] { return ingest_->counters().readings_stored == 12; }));
  EXPECT_EQ(ingest_->counters().commits, 1u);
  ingest_->stop();
  EXPECT_EQ(acked_seq(*store_, "d1"), 12u);
}

TEST_F(DenseBatchTest, ABatchOfFewerReadingsPerDeviceIsCommittedAtTheMaxDelay) {
  make_ingest();
  ingest_->handle_message("devices/d1/telemetry", batch_of_seqs(1, Ingest::kDenseBatchReadingsPerDevice - 1));
  ASSERT_TRUE(eventually([&] { return ingest_->counters().readings_stored == 7u; }));
  EXPECT_EQ(ingest_->counters().dense_batches, 0u);
}

// A fleet's batch, a reading from each of many devices, gains nothing from waiting: however many
// readings it holds, and whenever the commit thread looks at it, it is not dense.
TEST_F(DenseBatchTest, ABatchOfManyDevicesIsCommittedAtTheMaxDelay) {
  make_ingest();
  constexpr std::uint64_t kDevices = 40;
  for (std::uint64_t device = 0; device < kDevices; ++device) {
    ingest_->handle_message("devices/d" + std::to_string(device) + "/telemetry", reading(1));
  }
  ASSERT_TRUE(eventually([&] { return ingest_->counters().readings_stored == kDevices; }));
  EXPECT_EQ(ingest_->counters().dense_batches, 0u);
}

TEST_F(DenseBatchTest, StopCommitsADenseBatchAtOnce) {
  make_ingest();
  ingest_->handle_message("devices/d1/telemetry", batch_of_seqs(1, 10));
  ASSERT_TRUE(eventually([&] { return ingest_->counters().dense_batches == 1; }));
  const auto start = std::chrono::steady_clock::now();
  ingest_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "stop() waited out the dense delay";
  EXPECT_EQ(acked_seq(*store_, "d1"), 10u);
}

// An HTTPS client holds its connection open until the answer: a request ends the dense wait of
// the batch it joins.
TEST_F(DenseBatchTest, AReadingPostedOverHttpsEndsTheDenseWait) {
  SubmittedTelemetry submitted(db_);
  make_ingest();
  ingest_->handle_message("devices/d1/telemetry", batch_of_seqs(1, 10));
  ASSERT_TRUE(eventually([&] { return ingest_->counters().dense_batches == 1; }));
  EXPECT_EQ(ingest_->counters().readings_stored, 0u);
  ingest_->submit_telemetry("d2", batch_of({reading(1)}), submitted.completion("d2"));
  ASSERT_TRUE(eventually([&] { return submitted.told().size() == 1; }));
  EXPECT_EQ(submitted.told().front().outcome.acked_seq, 1u);
  EXPECT_EQ(ingest_->counters().readings_stored, 11u);
}

TEST_F(IngestTest, SubmittedTelemetryNamesRefusedReadingsAndAPayloadRefusedWhole) {
  SubmittedTelemetry submitted(db_);
  make_ingest();
  const std::string too_hot = R"({"seq":2,"ts":)" + std::to_string(kNowMs - 500) + R"(,"values":{"temperature":900}})";
  ingest_->submit_telemetry("d1", batch_of({reading(1), too_hot}), submitted.completion("d1"));
  ASSERT_TRUE(eventually([&] { return submitted.told().size() == 1; }));
  ingest_->submit_telemetry("d1", R"({"seq":3,"ts":)", submitted.completion("d1"));
  ASSERT_TRUE(eventually([&] { return submitted.told().size() == 2; }));
  const auto told = submitted.told();
  EXPECT_EQ(told[0].outcome.status, TelemetryOutcome::Status::stored);
  EXPECT_EQ(told[0].outcome.accepted, 1u);
  ASSERT_EQ(told[0].outcome.rejected.size(), 1u);
  EXPECT_EQ(told[0].outcome.rejected[0].reason, proto::RejectReason::out_of_range);
  EXPECT_EQ(told[0].outcome.acked_seq, 2u) << "a refused reading with a seq is consumed";
  EXPECT_EQ(told[1].outcome.status, TelemetryOutcome::Status::refused);
  ASSERT_TRUE(told[1].outcome.payload_rejection.has_value());
  EXPECT_EQ(told[1].outcome.payload_rejection->reason, proto::RejectReason::malformed_json);
  EXPECT_EQ(told[1].outcome.acked_seq, 2u) << "a refused payload still learns where the device stands";
}

TEST_F(IngestTest, SubmittedTelemetryIsRefusedAtOnceWhileTheStoreIsBehind) {
  options_.max_waiting_readings = 2;
  options_.batch_max_readings = 2;
  SubmittedTelemetry submitted(db_);
  WriteLockHolder lock(db_);
  make_ingest();
  // The commit thread takes the first two and keeps failing with them; two more fill the queue.
  ingest_->submit_telemetry("d1", batch_of({reading(1), reading(2)}), submitted.completion("d1"));
  ASSERT_TRUE(eventually([&] { return ingest_->counters().commit_failures >= 1; }));
  ingest_->submit_telemetry("d1", batch_of({reading(3), reading(4)}), submitted.completion("d1"));
  // Full: told at once, on this thread, and nothing taken.
  ingest_->submit_telemetry("d1", batch_of({reading(5)}), submitted.completion("d1"));
  ASSERT_EQ(submitted.told().size(), 1u);
  EXPECT_EQ(submitted.told()[0].outcome.status, TelemetryOutcome::Status::unavailable);
  EXPECT_EQ(ingest_->counters().refused_while_full, 1u);
  lock.release();
  ASSERT_TRUE(eventually([&] { return submitted.told().size() == 3; }));
  ingest_->stop();
  const auto told = submitted.told();
  EXPECT_EQ(told[1].outcome.status, TelemetryOutcome::Status::stored);
  EXPECT_EQ(told[2].outcome.status, TelemetryOutcome::Status::stored);
  EXPECT_EQ(told[2].outcome.acked_seq, 4u);
  EXPECT_EQ(acked_seq(*store_, "d1"), 4u);
}

TEST_F(IngestTest, SubmittedTelemetryLeftUncommittedByStopIsToldUnavailable) {
  SubmittedTelemetry submitted(db_);
  WriteLockHolder lock(db_);
  make_ingest();
  ingest_->submit_telemetry("d1", batch_of({reading(1)}), submitted.completion("d1"));
  ASSERT_TRUE(eventually([&] { return ingest_->counters().commit_failures >= 1; }));
  ingest_->stop();
  ingest_->submit_telemetry("d1", batch_of({reading(2)}), submitted.completion("d1"));
  const auto told = submitted.told();
  ASSERT_EQ(told.size(), 2u) << "every submission is told, also when nothing could be stored";
  EXPECT_EQ(told[0].outcome.status, TelemetryOutcome::Status::unavailable);
  EXPECT_EQ(told[1].outcome.status, TelemetryOutcome::Status::unavailable);
  EXPECT_GE(ingest_->counters().refused_while_stopping, 1u);
}

std::optional<store::DeviceStatus> recorded_status(store::Store& store, std::string_view device) {
  auto info = store.device(device);
  if (!info || !info->has_value()) return std::nullopt;
  return (*info)->status;
}

TEST_F(IngestTest, ASubmittedStatusIsRecordedAndToldTheAckAfterTheCommitItsFloorWasIn) {
  SubmittedStatuses submitted(db_);
  make_ingest();
  // Seqs 4 and 5 were dropped by the device's full outbox: the ack waits at the gap.
  for (std::uint64_t seq : std::vector<std::uint64_t>{1, 2, 3, 6, 7})
    ingest_->handle_message("devices/d1/telemetry", reading(seq));
  ASSERT_TRUE(eventually([&] { return ingest_->counters().readings_stored == 5; }));
  EXPECT_EQ(acked_seq(*store_, "d1"), 3u);

  ingest_->submit_status("d1", R"({"state":"online","fw":"2.1.0","dropped":2,"oldest_seq":6})",
                         submitted.completion("d1"));
  ASSERT_TRUE(eventually([&] { return submitted.told().size() == 1; }));
  const auto told = submitted.told().front();
  EXPECT_EQ(told.outcome.status, StatusOutcome::Status::recorded);
  EXPECT_EQ(told.outcome.acked_seq, 7u) << "the floor gave up 4 and 5, so the ack passes the gap";
  EXPECT_GE(told.stored_when_told, 7u) << "told before the floor was committed";
  EXPECT_TRUE(told.outcome.refusal.empty());
  auto status = recorded_status(*store_, "d1");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->state, "online");
  EXPECT_EQ(status->firmware, "2.1.0");
  EXPECT_EQ(status->dropped_total, 2u);
  EXPECT_EQ(ingest_->counters().status_updates, 1u);
  EXPECT_EQ(ingest_->counters().readings_given_up, 2u);
  // The device's ack goes out on MQTT as well.
  ASSERT_FALSE(acks_.acks().empty());
  EXPECT_EQ(acks_.acks().back().seq, 7u);
}

TEST_F(IngestTest, AStatusPostedOverHttpsEndsTheQuietDelayOfTheReadingsWaitingBeforeIt) {
  SubmittedStatuses submitted(db_);
  make_ingest_with_a_long_quiet_delay(16);
  const auto start = std::chrono::steady_clock::now();
  ingest_->handle_message("devices/d1/telemetry", reading(1));
  std::this_thread::sleep_for(100ms);  // twenty times batch_max_delay: the commit thread waits out the quiet delay
  ASSERT_EQ(ingest_->counters().readings_stored, 0u) << "one reading was committed alone after batch_max_delay";
  ingest_->submit_status("d2", R"({"state":"online","fw":"2.1.0"})", submitted.completion("d2"));
  ASSERT_TRUE(eventually([&] { return submitted.told().size() == 1; }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "the request waited for the quiet delay";
  EXPECT_EQ(submitted.told().front().outcome.status, StatusOutcome::Status::recorded);
  EXPECT_EQ(ingest_->counters().readings_stored, 1u) << "the waiting reading shares the request's commit";
  EXPECT_EQ(ingest_->counters().commits, 1u);
}

// The release check's verdict, over MQTT and over HTTPS: recorded as reported, kept by the last
// will and by a status without one.
TEST_F(IngestTest, AStatusRecordsItsReleaseCheckAndTheLastWillKeepsIt) {
  SubmittedStatuses submitted(db_);
  make_ingest();
  auto observer = store::Store::open(db_);  // a connection of the test's own
  ASSERT_TRUE(observer.ok()) << observer.error().message;
  auto release_check_of = [&](std::string_view device) -> std::optional<std::string> {
    auto status = recorded_status(*observer, device);
    return status ? std::optional<std::string>(status->release_check) : std::nullopt;
  };

  ingest_->handle_message("devices/d1/status",
                          R"({"state":"online","fw":"2.1.0","release_check":"timestamp_expired"})");
  ASSERT_TRUE(eventually([&] { return release_check_of("d1") == "timestamp_expired"; }));
  ingest_->handle_message("devices/d1/status", R"({"state":"offline"})");
  ASSERT_TRUE(eventually([&] {
    auto status = recorded_status(*observer, "d1");
    return status && status->state == "offline";
  }));
  EXPECT_EQ(release_check_of("d1"), "timestamp_expired") << "the last will keeps it";

  ingest_->submit_status("d2", R"({"state":"online","fw":"2.1.0","oldest_seq":1,"release_check":"clock_unknown"})",
                         submitted.completion("d2"));
  ASSERT_TRUE(eventually([&] { return submitted.told().size() == 1; }));
  EXPECT_EQ(submitted.told()[0].outcome.status, StatusOutcome::Status::recorded);
  EXPECT_EQ(release_check_of("d2"), "clock_unknown");
  ingest_->submit_status("d2", R"({"state":"online","fw":"2.1.0","oldest_seq":1})", submitted.completion("d2"));
  ASSERT_TRUE(eventually([&] { return submitted.told().size() == 2; }));
  EXPECT_EQ(release_check_of("d2"), "clock_unknown") << "a status without one keeps it";
  ingest_->submit_status("d2", R"({"state":"online","fw":"2.1.0","release_check":"current"})",
                         submitted.completion("d2"));
  ASSERT_TRUE(eventually([&] { return submitted.told().size() == 3; }));
  EXPECT_EQ(release_check_of("d2"), "current");
  ingest_->submit_status("d2", R"({"state":"online","fw":"2.1.0","release_check":"Not A Code"})",
                         submitted.completion("d2"));
  ASSERT_TRUE(eventually([&] { return submitted.told().size() == 4; }));
  EXPECT_EQ(submitted.told()[3].outcome.status, StatusOutcome::Status::refused);
  EXPECT_NE(submitted.told()[3].outcome.refusal.find("release_check"), std::string::npos)
      << submitted.told()[3].outcome.refusal;
  EXPECT_EQ(release_check_of("d2"), "current");
}

TEST_F(IngestTest, ASubmittedStatusWithoutOldestSeqIsToldTheStoresAck) {
  SubmittedStatuses submitted(db_);
  make_ingest();
  ingest_->handle_message("devices/d1/telemetry", reading(1));
  ASSERT_TRUE(eventually([&] { return ingest_->counters().readings_stored == 1; }));
  ingest_->submit_status("d1", R"({"state":"offline"})", submitted.completion("d1"));
  ASSERT_TRUE(eventually([&] { return submitted.told().size() == 1; }));
  EXPECT_EQ(submitted.told()[0].outcome.status, StatusOutcome::Status::recorded);
  EXPECT_EQ(submitted.told()[0].outcome.acked_seq, 1u);
  auto status = recorded_status(*store_, "d1");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->state, "offline");
}

TEST_F(IngestTest, ARefusedStatusIsToldWhyAndTheAckAsItStandsAndNothingIsRecorded) {
  SubmittedStatuses submitted(db_);
  make_ingest();
  ingest_->handle_message("devices/d1/telemetry", reading(1));
  ingest_->handle_message("devices/d1/telemetry", reading(2));
  ASSERT_TRUE(eventually([&] { return ingest_->counters().readings_stored == 2; }));

  ingest_->submit_status("d1", R"({"state":"online","dropped":"many"})", submitted.completion("d1"));
  ingest_->submit_status("d1", R"({"state":"online","fw":")" + std::string(2000, 'x') + R"("})",
                         submitted.completion("d1"));
  ASSERT_TRUE(eventually([&] { return submitted.told().size() == 2; }));
  const auto told = submitted.told();
  EXPECT_EQ(told[0].outcome.status, StatusOutcome::Status::refused);
  EXPECT_FALSE(told[0].outcome.too_large);
  EXPECT_FALSE(told[0].outcome.refusal.empty());
  EXPECT_EQ(told[0].outcome.acked_seq, 2u) << "a refused status still learns where the device stands";
  EXPECT_EQ(told[1].outcome.status, StatusOutcome::Status::refused);
  EXPECT_TRUE(told[1].outcome.too_large);
  EXPECT_EQ(told[1].outcome.acked_seq, 2u);
  EXPECT_EQ(ingest_->counters().status_rejected, 2u);
  EXPECT_EQ(ingest_->counters().status_updates, 0u);
  EXPECT_FALSE(recorded_status(*store_, "d1").has_value()) << "a refused status was recorded";
}

TEST_F(IngestTest, AStatusThatCannotBeRecordedIsToldUnavailable) {
  SubmittedStatuses submitted(db_);
  WriteLockHolder lock(db_);
  make_ingest();
  ingest_->submit_status("d1", R"({"state":"online","oldest_seq":1})", submitted.completion("d1"));
  ASSERT_TRUE(eventually([&] { return submitted.told().size() == 1; }));
  EXPECT_EQ(submitted.told()[0].outcome.status, StatusOutcome::Status::unavailable);
  lock.release();
  ingest_->stop();
  EXPECT_FALSE(recorded_status(*store_, "d1").has_value());
}

TEST_F(IngestTest, ASubmittedStatusIsRefusedAtOnceWhileTheStoreIsBehindOrTheIngestStops) {
  options_.max_waiting_readings = 2;
  options_.batch_max_readings = 2;
  SubmittedStatuses submitted(db_);
  WriteLockHolder lock(db_);
  make_ingest();
  // The commit thread takes the first two and keeps failing with them; two more fill the queue.
  ingest_->handle_message("devices/d1/telemetry", reading(1));
  ingest_->handle_message("devices/d1/telemetry", reading(2));
  ASSERT_TRUE(eventually([&] { return ingest_->counters().commit_failures >= 1; }));
  ingest_->handle_message("devices/d1/telemetry", reading(3));
  ingest_->handle_message("devices/d1/telemetry", reading(4));
  // Full: told at once, on this thread, and nothing taken.
  ingest_->submit_status("d1", R"({"state":"online","oldest_seq":1})", submitted.completion("d1"));
  ASSERT_EQ(submitted.told().size(), 1u);
  EXPECT_EQ(submitted.told()[0].outcome.status, StatusOutcome::Status::unavailable);
  EXPECT_EQ(ingest_->counters().refused_while_full, 1u);
  EXPECT_EQ(ingest_->counters().status_updates, 0u);
  lock.release();
  ASSERT_TRUE(eventually([&] { return ingest_->counters().readings_stored == 4; }));

  ingest_->stop();
  ingest_->submit_status("d1", R"({"state":"online","oldest_seq":1})", submitted.completion("d1"));
  ASSERT_EQ(submitted.told().size(), 2u);
  EXPECT_EQ(submitted.told()[1].outcome.status, StatusOutcome::Status::unavailable);
  EXPECT_GE(ingest_->counters().refused_while_stopping, 1u);
  EXPECT_FALSE(recorded_status(*store_, "d1").has_value());
}

}  // namespace
}  // namespace kelvin::gateway
