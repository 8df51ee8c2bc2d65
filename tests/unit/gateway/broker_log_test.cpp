// The managed broker's log (kelvin/gateway/broker_log.hpp): Mosquitto's lines as it writes them
// (taken from a real run: a foreign certificate, none at all, the gateway's readiness probe) judged
// as warnings or not and as refused handshakes or not, the ACL plugin's reports counted, and the
// pipe read line by line, also a line split across writes; closing the log returns though a line is
// left unterminated.

#include "kelvin/gateway/broker_log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "kelvin/testing/background_process.hpp"

namespace kelvin::gateway {
namespace {

using namespace std::chrono_literals;

TEST(BrokerLine, TheFirstOpenSslErrorOfAHandshakeIsARefusal) {
  const BrokerLine foreign =
      read_broker_line("1796505080: OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed");
  EXPECT_EQ(foreign.text, "OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed");
  EXPECT_TRUE(foreign.tls_refusal);
  EXPECT_TRUE(foreign.warning);
  EXPECT_TRUE(
      read_broker_line("1796505080: OpenSSL Error[0]: error:0A0000C7:SSL routines::peer did not return a certificate")
          .tls_refusal);
  const BrokerLine cause = read_broker_line("1796505080: OpenSSL Error[1]: error:0A000086:SSL routines::more");
  EXPECT_FALSE(cause.tls_refusal) << "one handshake, one refusal";
  EXPECT_TRUE(cause.warning);
  const BrokerLine probe = read_broker_line(
      "1796505074: Client connection from 127.0.0.1 failed: error:0A000126:SSL routines::unexpected eof while "
      "reading.");
  EXPECT_FALSE(probe.tls_refusal) << "closed before any handshake: a port probe";
  const BrokerLine connected = read_broker_line(
      "1796505080: New client connected from 127.0.0.1:49152 as sensor-01 (p2, c1, k60, u'sensor-01').");
  EXPECT_FALSE(connected.warning);
  EXPECT_EQ(connected.text, "New client connected from 127.0.0.1:49152 as sensor-01 (p2, c1, k60, u'sensor-01').");
  EXPECT_TRUE(read_broker_line("1796505074: Warning: Mosquitto should not be run as root/administrator.").warning);
  EXPECT_EQ(read_broker_line("no time: as it came").text, "no time: as it came");
}

TEST(BrokerLine, TheAclPluginsReportIsAWarningCountingItsDenials) {
  const BrokerLine report = read_broker_line(
      "1796505080: ACL denials: 12 (client 'sensor-01' may not publish to 'devices/sensor-02/telemetry')");
  EXPECT_EQ(report.acl_denials, 12u);
  EXPECT_TRUE(report.warning);
  EXPECT_FALSE(report.tls_refusal);
  EXPECT_EQ(report.acl_denials_client, "sensor-01");
  EXPECT_EQ(read_broker_line("1: ACL denials: 40 (further clients)").acl_denials, 40u);
  EXPECT_FALSE(read_broker_line("1: ACL denials: 40 (further clients)").acl_denials_client);
  EXPECT_EQ(read_broker_line("1: ACL denials: 2 (client 'a\\x27b' may not receive from 'c')").acl_denials_client,
            "a\\x27b");
  EXPECT_FALSE(read_broker_line("1: ACL denials: 2 (client '' may not receive from 'c')").acl_denials_client);
  EXPECT_FALSE(read_broker_line("1: ACL denials: 2 (client 'x").acl_denials_client);
  for (const char* other :
       {"1: ACL denials: (x)", "1: ACL denials: 12", "1: ACL denials: 12x (x)",
        "1: ACL denials: 99999999999999999999999 (x)", "1: New client connected as ACL denials: 5 (x)"}) {
    EXPECT_EQ(read_broker_line(other).acl_denials, 0u) << other;
  }
}

TEST(BrokerLine, TheAclPluginsCertificateLineNamesTheClientAndSerial) {
  const BrokerLine line = read_broker_line("1796505080: Client certificate: 'sensor-01' serial 5C0B2C9E");
  ASSERT_TRUE(line.client_certificate);
  EXPECT_EQ(line.client_certificate->client_id, "sensor-01");
  EXPECT_EQ(line.client_certificate->serial, "5C0B2C9E");
  EXPECT_FALSE(line.warning);
  EXPECT_FALSE(
      read_broker_line("1796505080: New client connected as Client certificate: 'a' serial 1").client_certificate);
}

TEST(BrokerLog, ReadsEveryLineFromThePipeAndCountsTheRefusals) {
  auto log = BrokerLog::open();
  ASSERT_TRUE(log.ok()) << log.error().message;
  const auto write = [&](const std::string& text) {
    ASSERT_EQ(::write((*log)->write_fd(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
  };
  write("1: OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed\n1: Client <unknown> dis");
  write("connected: Protocol error.\n1: OpenSSL Error[0]: error:0A0000C7:SSL routines::peer did not");
  ASSERT_TRUE(kelvin::testing::wait_until([&] { return (*log)->lines() == 2; }, 5s));
  EXPECT_EQ((*log)->tls_refusals(), 1u) << "the second is not a whole line yet";
  write(" return a certificate\n");
  ASSERT_TRUE(kelvin::testing::wait_until([&] { return (*log)->tls_refusals() == 2; }, 5s));
  EXPECT_EQ((*log)->lines(), 3u);
  write("2: ACL denials: 3 (client 'a' may not publish to 'b')\n2: ACL denials: 4 (further clients)\n");
  ASSERT_TRUE(kelvin::testing::wait_until([&] { return (*log)->acl_denials() == 7; }, 5s));
  EXPECT_EQ((*log)->lines(), 5u);
  // Closing reads what is left and returns, an unterminated line and all (or this test hangs).
  write("1: the last words, unterminated");
  log->reset();
}

}  // namespace
}  // namespace kelvin::gateway

namespace kelvin::gateway {
namespace {

using namespace std::chrono_literals;

TEST(BrokerLog, HandsEachLineAboutOneClientToItsListener) {
  std::mutex mutex;
  std::vector<std::string> seen;
  auto log = BrokerLog::open([&](const BrokerLine& line) {
    std::lock_guard lock(mutex);
    seen.push_back(line.client_certificate ? line.client_certificate->client_id + " " + line.client_certificate->serial
                                           : *line.acl_denials_client + " " + std::to_string(line.acl_denials));
  });
  ASSERT_TRUE(log.ok()) << log.error().message;
  const std::string text =
      "1: Client certificate: 'sensor-01' serial AA01\n1: Client certificate: 'sensor-01' serial\n"
      "1: ACL denials: 3 (client 'sensor-02' may not publish to 'b')\n1: ACL denials: 4 (further clients)\n"
      "1: Client certificate: 'sensor-02' serial BB02\n";
  ASSERT_EQ(::write((*log)->write_fd(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ASSERT_TRUE(kelvin::testing::wait_until([&] { return (*log)->lines() == 5; }, 5s));
  log->reset();
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen, (std::vector<std::string>{"sensor-01 AA01", "sensor-02 3", "sensor-02 BB02"}));
}

}  // namespace
}  // namespace kelvin::gateway
