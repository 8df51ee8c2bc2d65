// kelvin-agent simulate as the demo and the benchmarks use it, against the real gateway: its
// devices' outboxes kept in a state dir carry over to the next run, so a second run of the same
// devices goes on with the next seqs and is stored and acknowledged, and a clean stop leaves
// nothing unaccounted for.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "installation.hpp"
#include "kelvin/linux_port/file_outbox_journal.hpp"

namespace {

using kelvin::testing::Installation;
using kelvin::testing::project_binary;
using kelvin::testing::run_command;
using kelvin::testing::wait_until;
using namespace std::chrono_literals;

constexpr std::size_t kDevices = 3;

class Simulator : public ::testing::Test {
 protected:
  void SetUp() override {
    for (std::size_t i = 1; i <= kDevices; ++i) install_.issue_device(device(i));
    install_.start_gateway();
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- gateway log ----\n" << install_.gateway_log();
  }

  static std::string device(std::size_t i) { return "sim-0" + std::to_string(i); }
  std::filesystem::path state_dir() const { return install_.root() / "simulator"; }

  // One run of a few seconds; the simulator flushes and exits by itself.
  void run_simulation() {
    kelvin::testing::CommandOptions options;
    options.timeout = 60s;
    auto result = run_command({project_binary("kelvin-agent"),
                               "simulate",
                               "--devices",
                               std::to_string(kDevices),
                               "--interval",
                               "0.05",
                               "--coalesce-ms",
                               "0",
                               "--duration",
                               "3",
                               "--pki-dir",
                               install_.pki_dir().string(),
                               "--host",
                               "localhost",
                               "--port",
                               std::to_string(install_.port()),
                               "--prefix",
                               "sim-",
                               "--state-dir",
                               state_dir().string()},
                              options);
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }

  std::uint64_t acked(const std::string& id) {
    auto store = install_.open_store();
    auto seq = store.acked_seq(id);
    return seq ? *seq : 0;
  }

  // What the device's journal says it produced.
  std::uint64_t produced(const std::string& id) {
    auto journal = kelvin::linux_port::FileOutboxJournal::open(state_dir() / id);
    EXPECT_TRUE(journal.ok()) << journal.error().message;
    return journal ? journal->snapshot().next_seq - 1 : 0;
  }

  Installation install_;
};

TEST_F(Simulator, ASecondRunOfTheSameDevicesGoesOnWhereTheFirstStopped) {
  run_simulation();
  std::vector<std::uint64_t> first(kDevices + 1);
  for (std::size_t i = 1; i <= kDevices; ++i) {
    first[i] = produced(device(i));
    ASSERT_GT(first[i], 10u) << device(i) << " took too few readings";
    // A clean stop waits for the acks: everything produced is stored by now, or still in the outbox.
    ASSERT_TRUE(wait_until([&] { return acked(device(i)) == first[i]; }, 20s))
        << device(i) << ": acked " << acked(device(i)) << " of " << first[i];
  }
  run_simulation();
  for (std::size_t i = 1; i <= kDevices; ++i) {
    const std::uint64_t total = produced(device(i));
    EXPECT_GT(total, first[i]) << device(i) << " started its seqs again";
    EXPECT_TRUE(wait_until([&] { return acked(device(i)) == total; }, 20s))
        << device(i) << ": acked " << acked(device(i)) << " of " << total << " (first run: " << first[i] << ")";
  }
  EXPECT_EQ(install_.stats().value("duplicates", std::uint64_t{0}), 0u) << "a second run repeated seqs";
}

}  // namespace
