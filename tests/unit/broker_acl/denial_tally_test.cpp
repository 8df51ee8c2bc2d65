// The broker plugin's tally of ACL denials (kelvin/broker_acl/denial_tally.hpp): one line per client
// and access (in the order of their ids) with the count first and the last topic, a bounded number of lines and
// clients, and a topic that cannot break or forge a line.

#include "kelvin/broker_acl/denial_tally.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kelvin::broker_acl {
namespace {

using Lines = std::vector<std::string>;

TEST(DenialTally, CountsPerClientAndAccessNamingTheLastTopicAndStartsOverAfterAReport) {
  DenialTally tally;
  EXPECT_TRUE(tally.empty());
  tally.record("sensor-01", Access::write, "devices/sensor-02/telemetry");
  tally.record("sensor-01", Access::write, "devices/sensor-03/telemetry");
  tally.record("sensor-01", Access::read, "devices/sensor-02/ack");
  EXPECT_FALSE(tally.empty());
  EXPECT_EQ(tally.take_report(20),
            (Lines{"ACL denials: 1 (client 'sensor-01' may not receive from 'devices/sensor-02/ack')",
                   "ACL denials: 2 (client 'sensor-01' may not publish to 'devices/sensor-03/telemetry')"}));
  EXPECT_TRUE(tally.empty());
  EXPECT_EQ(tally.take_report(20), Lines{});
}

TEST(DenialTally, AHostileTopicCannotBreakALineOrForgeOne) {
  DenialTally tally;
  tally.record("sensor-01", Access::write, "x\n1796505080: ACL denials: 999 (client 'y' may not publish to 'z')");
  tally.record("sensor-\x01", Access::write, std::string("a'b\\c\xc3\xa9", 7));
  EXPECT_EQ(tally.take_report(20),
            (Lines{"ACL denials: 1 (client 'sensor-\\x01' may not publish to 'a\\x27b\\x5cc\\xc3\\xa9')",
                   "ACL denials: 1 (client 'sensor-01' may not publish to 'x\\x0a1796505080: ACL denials: 999 (client "
                   "\\x27y\\x27 may not publish to \\x27z\\x27)')"}));
  tally.record("sensor-01", Access::write, std::string(1000, 't'));
  EXPECT_EQ(tally.take_report(20).at(0), "ACL denials: 1 (client 'sensor-01' may not publish to '" +
                                             std::string(DenialTally::kMaxTopicBytes, 't') + "')");
}

TEST(DenialTally, ClientsBeyondTheLinesAndBeyondTheLimitAreSummedInOneLine) {
  DenialTally tally;
  for (int i = 0; i < 5; ++i) tally.record("sensor-0" + std::to_string(i), Access::write, "t");
  EXPECT_EQ(tally.take_report(2),
            (Lines{"ACL denials: 1 (client 'sensor-00' may not publish to 't')",
                   "ACL denials: 1 (client 'sensor-01' may not publish to 't')", "ACL denials: 3 (further clients)"}));
  for (std::size_t i = 0; i < DenialTally::kMaxClients + 7; ++i) tally.record(std::to_string(i), Access::read, "t");
  tally.record("0", Access::read, "t");  // one kept apart: still counted on its own line
  const Lines lines = tally.take_report(DenialTally::kMaxClients);
  ASSERT_EQ(lines.size(), DenialTally::kMaxClients + 1);
  EXPECT_EQ(lines.back(), "ACL denials: 7 (further clients)");
  EXPECT_EQ(lines.front(), "ACL denials: 2 (client '0' may not receive from 't')");
}

}  // namespace
}  // namespace kelvin::broker_acl
