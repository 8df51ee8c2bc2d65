// The exporter's decisions with a real store and a scripted InfluxDB: what gets written, when the
// cursor moves, how refused points are isolated, and that failures are retried, not skipped.

#include "kelvin/gateway/influx_exporter.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "kelvin/gateway/influx_points.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::gateway {
namespace {

using kelvin::testing::TempDir;

constexpr std::int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

// Plays InfluxDB: records every body and answers from a script (then `written`). A body with a
// line containing `poison` is refused as bad data, like a field type conflict.
class ScriptedInflux {
 public:
  // Called from the exporter's thread once start()ed: the test reads the records only after stop()
  // (which joins it), or from inside `before_answer`, which runs on that thread.
  LineSink sink() {
    return [this](std::string_view body) {
      bodies.emplace_back(body);
      if (before_answer) before_answer(bodies.size());
      influx::WriteResult result = answer(body);
      answers.push_back(result.status);
      if (result.status == influx::WriteStatus::written) accepted_bodies.emplace_back(body);
      return result;
    };
  }

  std::deque<influx::WriteStatus> script;
  std::string poison;
  std::function<void(std::size_t writes)> before_answer;  // runs in the write, before it answers
  std::vector<std::string> bodies;
  std::vector<influx::WriteStatus> answers;  // of each body
  std::vector<std::string> accepted_bodies;  // in the order written
  std::set<std::string> accepted;            // distinct lines InfluxDB took

 private:
  influx::WriteResult answer(std::string_view body) {
    if (!script.empty()) {
      auto scripted = script.front();
      script.pop_front();
      if (scripted != influx::WriteStatus::written) return influx::WriteResult{scripted, 503, "scripted failure"};
    }
    if (!poison.empty() && body.find(poison) != std::string_view::npos) {
      return influx::WriteResult{influx::WriteStatus::bad_points, 400, "partial write: field type conflict"};
    }
    std::istringstream lines{std::string(body)};
    for (std::string line; std::getline(lines, line);) accepted.insert(line);
    return influx::WriteResult{influx::WriteStatus::written, 204, ""};
  }
};

// "<device>:<seq>" of every reading line of the bodies, in order.
std::vector<std::string> readings_in(const std::vector<std::string>& bodies) {
  std::vector<std::string> out;
  for (const auto& body : bodies) {
    std::istringstream lines{body};
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("kelvin_reading,", 0) != 0) continue;
      const auto device = line.find("device=") + 7;
      const auto seq = line.find("seq=") + 4;
      out.push_back(line.substr(device, line.find(' ', device) - device) + ":" +
                    line.substr(seq, line.find('i', seq) - seq));
    }
  }
  return out;
}

class InfluxExporterTest : public ::testing::Test {
 protected:
  store::Store open_store() {
    auto store = store::Store::open(tmp_ / "telemetry.db");
    EXPECT_TRUE(store.ok()) << store.error().message;
    return std::move(*store);
  }

  void store_readings(const std::string& device, std::uint64_t first, std::uint64_t last) {
    store::IngestBatch batch;
    for (std::uint64_t seq = first; seq <= last; ++seq) {
      proto::Reading reading;
      reading.seq = seq;
      reading.ts_ms = kT0 + static_cast<std::int64_t>(seq) * 1000;
      reading.set(proto::Quantity::temperature, 20.0 + static_cast<double>(seq) / 100.0);
      reading.set(proto::Quantity::humidity, 45.5);
      batch.readings.push_back({device, reading});
    }
    auto committed = writer_store_.commit(batch, kT0);
    ASSERT_TRUE(committed.ok()) << committed.error().message;
  }

  static ExporterOptions options(std::size_t batch_readings = 5000) {
    ExporterOptions options;
    options.batch_readings = batch_readings;
    return options;
  }

  // Not started: for step().
  std::unique_ptr<InfluxExporter> make_exporter(std::size_t batch_readings = 5000) {
    auto exporter = make_unstarted(options(batch_readings));
    EXPECT_TRUE(exporter->load_cursor().ok());
    return exporter;
  }

  std::unique_ptr<InfluxExporter> make_unstarted(const ExporterOptions& options) {
    return std::make_unique<InfluxExporter>(tmp_ / "telemetry.db", store::StoreOptions{}, influx_.sink(), options,
                                            [] { return kT0 + 60'000; });
  }

  // Options for a start()ed exporter that retries and polls at once, so tests do not sleep.
  static ExporterOptions fast_options(std::size_t batch_readings) {
    ExporterOptions options;
    options.batch_readings = batch_readings;
    options.poll_interval = std::chrono::milliseconds(1);
    options.retry_min = std::chrono::milliseconds(1);
    options.retry_max = std::chrono::milliseconds(2);
    return options;
  }

  // Waits until the running exporter's stats satisfy `done`; a generous bound only against hangs
  // (no timing is asserted).
  template <class Done>
  static bool wait_for_stats(const InfluxExporter& exporter, Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (done(exporter.stats())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }

  std::uint64_t saved_cursor() { return *writer_store_.export_cursor("influxdb"); }

  TempDir tmp_;
  store::Store writer_store_ = open_store();
  ScriptedInflux influx_;
};

TEST_F(InfluxExporterTest, WritesEveryReadingAsOneLineAndMovesTheCursor) {
  store_readings("sensor-01", 1, 3);
  auto exporter = make_exporter();
  ASSERT_EQ(exporter->step(), InfluxExporter::Step::exported);
  ASSERT_EQ(influx_.bodies.size(), 1u);
  EXPECT_EQ(influx_.bodies[0],
            "kelvin_reading,device=sensor-01 temperature=20.01,humidity=45.5,seq=1i 1767225601000\n"
            "kelvin_reading,device=sensor-01 temperature=20.02,humidity=45.5,seq=2i 1767225602000\n"
            "kelvin_reading,device=sensor-01 temperature=20.03,humidity=45.5,seq=3i 1767225603000\n");
  EXPECT_EQ(saved_cursor(), 3u);
  EXPECT_EQ(exporter->stats().readings_exported, 3u);
  EXPECT_EQ(exporter->stats().backlog_readings, 0u);
  EXPECT_EQ(exporter->step(), InfluxExporter::Step::idle);
  EXPECT_EQ(influx_.bodies.size(), 1u) << "nothing new, nothing written";
}

TEST_F(InfluxExporterTest, BatchesAreBoundedAndFollowEachOther) {
  store_readings("sensor-01", 1, 25);
  auto exporter = make_exporter(/*batch_readings=*/10);
  while (exporter->step() == InfluxExporter::Step::exported) {
  }
  ASSERT_EQ(influx_.bodies.size(), 3u);
  EXPECT_EQ(influx_.accepted.size(), 25u);
  EXPECT_EQ(saved_cursor(), 25u);
}

TEST_F(InfluxExporterTest, AFailedWriteKeepsTheCursorAndTheSameBatchIsRetried) {
  store_readings("sensor-01", 1, 4);
  influx_.script = {influx::WriteStatus::unavailable, influx::WriteStatus::unauthorized};
  auto exporter = make_exporter();
  EXPECT_EQ(exporter->step(), InfluxExporter::Step::failed);
  EXPECT_EQ(saved_cursor(), 0u);
  EXPECT_TRUE(exporter->stats().retrying);
  // While InfluxDB is away the backlog and the lag are what an operator watches: kept current.
  EXPECT_EQ(exporter->stats().backlog_readings, 4u);
  EXPECT_DOUBLE_EQ(exporter->stats().lag_s, 60.0);  // committed at kT0, the clock says kT0 + 60 s
  EXPECT_NE(exporter->stats().last_error.find("scripted failure"), std::string::npos);
  EXPECT_EQ(exporter->step(), InfluxExporter::Step::failed);
  EXPECT_EQ(exporter->step(), InfluxExporter::Step::exported);
  EXPECT_EQ(saved_cursor(), 4u);
  EXPECT_EQ(influx_.bodies[0], influx_.bodies[2]) << "the retry sends the same readings";
  EXPECT_FALSE(exporter->stats().retrying);
  EXPECT_EQ(exporter->stats().write_failures, 2u);
  EXPECT_EQ(exporter->stats().readings_exported, 4u);
}

TEST_F(InfluxExporterTest, ARefusedPointIsIsolatedSkippedAndCountedWhileTheRestIsWritten) {
  store_readings("sensor-01", 1, 9);
  store_readings("bad-device", 1, 1);
  store_readings("sensor-01", 10, 20);
  influx_.poison = "device=bad-device";
  auto exporter = make_exporter();
  EXPECT_EQ(exporter->step(), InfluxExporter::Step::exported);
  EXPECT_EQ(influx_.accepted.size(), 20u);
  for (const auto& line : influx_.accepted) EXPECT_EQ(line.find("bad-device"), std::string::npos) << line;
  EXPECT_EQ(exporter->stats().points_rejected, 1u);
  EXPECT_EQ(exporter->stats().readings_exported, 20u);
  EXPECT_EQ(saved_cursor(), 21u) << "the export goes on past the refused point";
  EXPECT_LE(influx_.bodies.size(), 12u) << "bisection needs about 2 log2(n) writes, not one per point";
}

TEST_F(InfluxExporterTest, AnOutageDuringBisectionRetriesTheWholeBatchLater) {
  store_readings("sensor-01", 1, 8);
  store_readings("bad-device", 1, 1);
  influx_.poison = "device=bad-device";
  // The whole batch is refused, then InfluxDB goes away while the halves are written.
  influx_.script = {influx::WriteStatus::written, influx::WriteStatus::unavailable};
  auto exporter = make_exporter();
  EXPECT_EQ(exporter->step(), InfluxExporter::Step::failed);
  EXPECT_EQ(saved_cursor(), 0u);
  EXPECT_EQ(exporter->step(), InfluxExporter::Step::exported);
  EXPECT_EQ(influx_.accepted.size(), 8u);
  EXPECT_EQ(saved_cursor(), 9u);
}

TEST_F(InfluxExporterTest, PointsRefusedBeforeAnOutageAreCountedOnceWhenTheBatchIsAccepted) {
  store_readings("bad-device", 1, 1);
  store_readings("sensor-01", 1, 8);
  influx_.poison = "device=bad-device";
  // Writes: the batch (refused), [0,4) (refused), [0,2) (refused), [0,1) the bad point alone
  // (refused: isolated), then [1,2) meets an outage; the whole batch is retried later.
  influx_.script = {influx::WriteStatus::written, influx::WriteStatus::written, influx::WriteStatus::written,
                    influx::WriteStatus::written, influx::WriteStatus::unavailable};
  auto exporter = make_exporter();
  EXPECT_EQ(exporter->step(), InfluxExporter::Step::failed);
  EXPECT_EQ(exporter->stats().points_rejected, 0u) << "nothing is counted for a batch not yet accepted";
  EXPECT_EQ(exporter->step(), InfluxExporter::Step::exported);
  EXPECT_EQ(exporter->stats().points_rejected, 1u);
  EXPECT_EQ(exporter->stats().readings_exported, 8u);
  EXPECT_EQ(influx_.accepted.size(), 8u);
  EXPECT_EQ(saved_cursor(), 9u);
}

TEST_F(InfluxExporterTest, ResumesFromTheSavedCursorAfterARestart) {
  store_readings("sensor-01", 1, 5);
  make_exporter()->step();
  store_readings("sensor-01", 6, 7);
  influx_.bodies.clear();
  auto restarted = make_exporter();
  EXPECT_EQ(restarted->step(), InfluxExporter::Step::exported);
  ASSERT_EQ(influx_.bodies.size(), 1u);
  EXPECT_EQ(influx_.bodies[0].find("seq=5i"), std::string::npos) << "exported readings are not sent again";
  EXPECT_NE(influx_.bodies[0].find("seq=6i"), std::string::npos);
}

TEST_F(InfluxExporterTest, BacklogAndLagDescribeWhatIsWaiting) {
  store_readings("sensor-01", 1, 6);  // committed at kT0; the exporter's clock says kT0 + 60 s
  auto exporter = make_exporter(/*batch_readings=*/4);
  ASSERT_EQ(exporter->step(), InfluxExporter::Step::exported);
  EXPECT_EQ(exporter->stats().cursor, 4u);
  EXPECT_EQ(exporter->stats().backlog_readings, 2u);
  EXPECT_DOUBLE_EQ(exporter->stats().lag_s, 60.0);
  ASSERT_EQ(exporter->step(), InfluxExporter::Step::exported);
  EXPECT_EQ(exporter->stats().backlog_readings, 0u);
  EXPECT_DOUBLE_EQ(exporter->stats().lag_s, 0.0);
}

TEST_F(InfluxExporterTest, DeviceStatusesAreWrittenWhenTheyChange) {
  ASSERT_TRUE(writer_store_.record_status("sensor-01", {"online", "1.4.2", 3, kT0 + 5000}).ok());
  auto exporter = make_exporter();
  EXPECT_EQ(exporter->step(), InfluxExporter::Step::idle);
  ASSERT_EQ(influx_.bodies.size(), 1u);
  EXPECT_EQ(influx_.bodies[0],
            "kelvin_device_status,device=sensor-01 online=1i,state=\"online\",firmware=\"1.4.2\",dropped=3i "
            "1767225605000\n");
  EXPECT_EQ(exporter->stats().statuses_exported, 1u);
}

// The start()ed exporter: batches read ahead by the reader thread, written in order by the export
// thread, with a failure retried and a refused point isolated on the way.
TEST_F(InfluxExporterTest, RunningExporterWritesEveryReadingOnceInOrderWithRetriesAndRefusedPoints) {
  store_readings("sensor-01", 1, 12);
  store_readings("bad-device", 1, 1);
  store_readings("sensor-01", 13, 45);
  ASSERT_TRUE(writer_store_.record_status("sensor-01", {"online", "1.4.2", 0, kT0}).ok());
  influx_.poison = "device=bad-device";
  influx_.script = {influx::WriteStatus::written,       // the status
                    influx::WriteStatus::written,       // batch 1
                    influx::WriteStatus::unavailable};  // batch 2, first try
  // Read-ahead: while the first batch is being written, the reader prepares the next ones. The
  // first write of readings (after the status) waits until they are ready; without read-ahead they
  // never would be, and the check below fails.
  bool read_ahead_seen = false;
  std::unique_ptr<InfluxExporter> exporter = make_unstarted(fast_options(/*batch_readings=*/10));
  influx_.before_answer = [&](std::size_t writes) {
    if (writes != 2) return;
    read_ahead_seen = wait_for_stats(
        *exporter, [](const ExporterStats& stats) { return stats.batches_ready == InfluxExporter::kReadAhead; });
  };
  ASSERT_TRUE(exporter->start().ok());
  ASSERT_TRUE(wait_for_stats(*exporter, [](const ExporterStats& stats) { return stats.cursor == 46; }));
  // Readings committed while it runs are picked up too.
  store_readings("sensor-01", 46, 50);
  ASSERT_TRUE(wait_for_stats(*exporter, [](const ExporterStats& stats) { return stats.cursor == 51; }));
  exporter->stop();

  EXPECT_TRUE(read_ahead_seen) << "the next batches were not read while the first was written";
  std::vector<std::string> expected;
  for (int seq = 1; seq <= 50; ++seq) expected.push_back("sensor-01:" + std::to_string(seq));
  EXPECT_EQ(readings_in(influx_.accepted_bodies), expected)
      << "every reading exactly once, in order, the refused one skipped";
  ASSERT_GE(influx_.answers.size(), 4u);
  EXPECT_EQ(influx_.answers[2], influx::WriteStatus::unavailable);
  EXPECT_EQ(influx_.bodies[2], influx_.bodies[3]) << "the failed batch is retried as it was, nothing skipped";
  EXPECT_EQ(saved_cursor(), 51u);
  const ExporterStats stats = exporter->stats();
  EXPECT_EQ(stats.readings_exported, 50u);
  EXPECT_EQ(stats.points_rejected, 1u);
  EXPECT_EQ(stats.write_failures, 1u);
  EXPECT_EQ(stats.statuses_exported, 1u);
  EXPECT_FALSE(stats.retrying);
  EXPECT_EQ(stats.backlog_readings, 0u);
  EXPECT_EQ(stats.batches_ready, 0u);
}

TEST_F(InfluxExporterTest, StopEndsABackoffAndTheRestartedExporterContinuesFromTheCursor) {
  store_readings("sensor-01", 1, 30);
  influx_.script = {influx::WriteStatus::written, influx::WriteStatus::unavailable};
  ExporterOptions options = fast_options(/*batch_readings=*/10);
  options.retry_min = std::chrono::hours(1);  // the test ends only if stop() cuts the backoff short
  options.retry_max = std::chrono::hours(1);
  auto exporter = make_unstarted(options);
  ASSERT_TRUE(exporter->start().ok());
  ASSERT_TRUE(wait_for_stats(*exporter, [](const ExporterStats& stats) { return stats.write_failures == 1; }));
  // While InfluxDB is away the backlog and the lag are kept current.
  ASSERT_TRUE(wait_for_stats(*exporter, [](const ExporterStats& stats) { return stats.backlog_readings == 20; }));
  EXPECT_TRUE(exporter->stats().retrying);
  EXPECT_DOUBLE_EQ(exporter->stats().lag_s, 60.0);
  exporter->stop();
  EXPECT_EQ(saved_cursor(), 10u) << "only the accepted batch moved the cursor";
  EXPECT_EQ(exporter->stats().batches_ready, 0u);

  ASSERT_TRUE(exporter->start().ok());  // InfluxDB is back (the script is spent)
  ASSERT_TRUE(wait_for_stats(*exporter, [](const ExporterStats& stats) { return stats.cursor == 30; }));
  exporter->stop();
  std::vector<std::string> expected;
  for (int seq = 1; seq <= 30; ++seq) expected.push_back("sensor-01:" + std::to_string(seq));
  EXPECT_EQ(readings_in(influx_.accepted_bodies), expected);
  EXPECT_EQ(saved_cursor(), 30u);
  EXPECT_EQ(exporter->stats().readings_exported, 30u);
}

TEST_F(InfluxExporterTest, StepWithoutTheCursorLoadedFailsAndAStoreThatCannotOpenStartsNothing) {
  auto exporter = make_unstarted(options());
  EXPECT_EQ(exporter->step(), InfluxExporter::Step::failed);
  InfluxExporter nowhere(tmp_ / "missing" / "telemetry.db", store::StoreOptions{}, influx_.sink(), options(),
                         [] { return kT0; });
  EXPECT_FALSE(nowhere.start().ok());
  EXPECT_FALSE(nowhere.load_cursor().ok());
}

TEST(InfluxPoints, EscapesWhatLineProtocolNeedsEscaped) {
  std::string out;
  store::ExportedReading exported{1, "dev,ice=1", {}};
  exported.reading.seq = 9;
  exported.reading.ts_ms = 1;
  exported.reading.set(proto::Quantity::humidity, 0.1);
  ASSERT_TRUE(append_reading_line(out, exported).ok());
  EXPECT_EQ(out, "kelvin_reading,device=dev\\,ice\\=1 humidity=0.1,seq=9i 1\n");
  store::ExportedReading empty{1, "sensor", {}};
  EXPECT_FALSE(append_reading_line(out, empty).ok());
}

}  // namespace
}  // namespace kelvin::gateway
