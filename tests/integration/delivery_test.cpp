// The delivery guarantee end to end (docs/architecture.md): a real kelvin-agent produces readings
// continuously while, in turn, the broker, the gateway and the agent itself are killed with
// SIGKILL and restarted, and the gateway is away for a while. Afterwards the store must hold
// every seq the agent ever produced exactly once.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "installation.hpp"
#include "kelvin/linux_port/file_outbox_journal.hpp"

namespace {

namespace fs = std::filesystem;
using kelvin::testing::BackgroundProcess;
using kelvin::testing::Installation;
using kelvin::testing::project_binary;
using kelvin::testing::wait_until;
using namespace std::chrono_literals;

class Delivery : public ::testing::Test {
 protected:
  void SetUp() override { write_agent_config(100'000); }

  void write_agent_config(std::size_t outbox_capacity) {
    auto files = install_.device_files(kDevice);
    if (!fs::exists(files.cert)) files = install_.issue_device(kDevice);
    std::ofstream(config_file()) << "device_id = \"" << kDevice << "\"\n"
                                 << "interval_s = 0.1\n"
                                 << "[broker]\n"
                                 << "host = \"localhost\"\n"
                                 << "port = " << install_.port() << "\n"
                                 << "ca_file = \"" << files.ca.string() << "\"\n"
                                 << "cert_file = \"" << files.cert.string() << "\"\n"
                                 << "key_file = \"" << files.key.string() << "\"\n"
                                 << "[outbox]\n"
                                 << "dir = \"" << (install_.root() / "outbox").string() << "\"\n"
                                 << "capacity = " << outbox_capacity << "\n"
                                 << "[[sensor]]\n"
                                 << "type = \"sim\"\n"
                                 << "seed = 7\n";
  }

  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "---- gateway log ----\n" << install_.gateway_log();
      std::cerr << "---- agent log ----\n" << kelvin::testing::read_text(install_.root() / "agent.log");
    }
  }

  fs::path config_file() const { return install_.root() / "agent.toml"; }

  void start_agent() {
    agent_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{project_binary("kelvin-agent"), "run", "--config", config_file().string()},
        install_.root() / "agent.log");
  }

  std::uint64_t acked() {
    auto seq = install_.open_store().acked_seq(kDevice);
    return seq ? *seq : 0;
  }

  // Waits until the gateway has acknowledged `more` readings beyond what it had when called.
  void expect_progress(std::uint64_t more, const char* after) {
    const std::uint64_t from = acked();
    EXPECT_TRUE(wait_until([&] { return acked() >= from + more; }, 60s))
        << "no progress after " << after << ": ack stuck at " << acked();
  }

  static constexpr const char* kDevice = "sensor-07";
  Installation install_;
  std::unique_ptr<BackgroundProcess> agent_;
};

TEST_F(Delivery, EveryReadingIsStoredExactlyOnceAcrossCrashesAndOutages) {
  install_.start_gateway();
  start_agent();
  expect_progress(20, "start");

  // 1. The broker dies; the gateway restarts it; the agent reconnects and resends.
  auto broker = install_.broker_pid();
  ASSERT_TRUE(broker.has_value());
  ASSERT_EQ(::kill(*broker, SIGKILL), 0);
  expect_progress(20, "broker SIGKILL");

  // 2. The gateway dies (its broker follows it); a new one starts from the same state.
  install_.stop_gateway(SIGKILL);
  install_.start_gateway();
  expect_progress(20, "gateway SIGKILL");

  // 3. The agent dies mid-stream and starts again from its outbox.
  ASSERT_TRUE(agent_->stop(SIGKILL).has_value());
  start_agent();
  expect_progress(20, "agent SIGKILL");

  // 4. The broker is unreachable for a while: readings pile up in the outbox meanwhile.
  install_.stop_gateway(SIGTERM);
  std::this_thread::sleep_for(4s);
  install_.start_gateway();
  expect_progress(60, "an outage of 4 s");

  // The agent stops cleanly: it waits for the last acks before it exits.
  auto code = agent_->stop(SIGTERM, 30s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);

  auto journal = kelvin::linux_port::FileOutboxJournal::open(install_.root() / "outbox");
  ASSERT_TRUE(journal.ok()) << journal.error().message;
  const auto snapshot = journal->snapshot();
  const std::uint64_t produced = snapshot.next_seq - 1;
  ASSERT_GT(produced, 100u);  // five phases of at least 20 acknowledged readings each
  EXPECT_EQ(snapshot.dropped_total, 0u);
  // Readings still unacknowledged at the agent's exit would be sent at its next start; the
  // gateway may already have them. Either way everything produced must reach the store.
  ASSERT_TRUE(wait_until([&] { return acked() == produced; }, 20s))
      << "produced " << produced << ", acknowledged " << acked() << ", pending in outbox " << snapshot.pending.size();

  auto device = install_.open_store().device(kDevice);
  ASSERT_TRUE(device.ok() && device->has_value());
  // Stored rows are unique per (device, seq) and the ack says 1..produced are all there: together,
  // the stored set is exactly {1..produced}.
  EXPECT_EQ((*device)->readings_stored, produced);
  EXPECT_EQ((*device)->acked_seq, produced);
  EXPECT_EQ((*device)->rejected_total, 0u);
  EXPECT_EQ(install_.stats().value("readings_given_up", 1), 0);
}

TEST_F(Delivery, ReadingsDroppedByAFullOutboxAreReportedAndDoNotStallTheAck) {
  write_agent_config(10);
  start_agent();  // no gateway yet: the outbox keeps the newest 10 readings and drops the rest
  ASSERT_TRUE(wait_until([&] { return kelvin::testing::read_text(install_.root() / "agent.log").size() > 0; }, 5s));
  std::this_thread::sleep_for(4s);
  install_.start_gateway();
  // The device's status says which seq it still holds; the gateway gives up the ones below it
  // that never arrived, and the ack follows the live readings again.
  ASSERT_TRUE(wait_until([&] { return install_.stats().value("readings_given_up", 0) >= 15; }, 30s))
      << install_.stats().dump();
  expect_progress(20, "the outbox overflowed");

  ASSERT_TRUE(agent_->stop(SIGTERM, 30s).has_value());
  auto journal = kelvin::linux_port::FileOutboxJournal::open(install_.root() / "outbox");
  ASSERT_TRUE(journal.ok()) << journal.error().message;
  const std::uint64_t produced = journal->snapshot().next_seq - 1;
  const std::uint64_t dropped = journal->snapshot().dropped_total;
  EXPECT_GE(dropped, 15u);
  ASSERT_TRUE(wait_until([&] { return acked() == produced; }, 20s)) << "produced " << produced << ", acked " << acked();
  auto device = install_.open_store().device(kDevice);
  ASSERT_TRUE(device.ok() && device->has_value());
  // Every seq is either stored or given up, and the loss is on record. A dropped reading may
  // also have been delivered before the outbox let it go, so given up <= dropped; and the status
  // repeats the drop count at most once a minute, so it may lag the outbox.
  auto given_up_so_far = [&] { return install_.stats().value("readings_given_up", std::uint64_t{0}); };
  // The statistics file is rewritten every second: wait for the snapshot after the last commit.
  EXPECT_TRUE(wait_until([&] { return (*device)->readings_stored + given_up_so_far() == produced; }, 5s))
      << "stored " << (*device)->readings_stored << " + given up " << given_up_so_far() << " != produced " << produced;
  const auto given_up = given_up_so_far();
  EXPECT_GE(given_up, 15u);
  EXPECT_LE(given_up, dropped);
  ASSERT_TRUE((*device)->status.has_value());
  EXPECT_GE((*device)->status->dropped_total, 15u);
  EXPECT_LE((*device)->status->dropped_total, dropped);
}

}  // namespace
