// The broker plugin's report of the certificates clients connect with
// (kelvin/broker_acl/client_certificate_report.hpp): one line per client, the latest serial
// winning, a bounded number of clients, an id that cannot break or forge a line, and the reader of
// those lines taking exactly what the report writes.

#include "kelvin/broker_acl/client_certificate_report.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kelvin::broker_acl {
namespace {

using Lines = std::vector<std::string>;

TEST(ClientCertificateReport, ALinePerClientAndCertificateInTheOrderOfTheirLatestConnectionThenStartsOver) {
  ClientCertificateReport report;
  EXPECT_TRUE(report.empty());
  report.record("sensor-02", "AA01");
  report.record("sensor-01", "5C0B2C9E6A7F41D2A8E3F0B1C4D5E6F7");
  report.record("sensor-02", "BB02");  // reconnected with another certificate within the second
  report.record("sensor-02", "AA01");  // and with the first again: its latest
  EXPECT_EQ(report.take_report(),
            (Lines{"Client certificate: 'sensor-01' serial 5C0B2C9E6A7F41D2A8E3F0B1C4D5E6F7",
                   "Client certificate: 'sensor-02' serial BB02", "Client certificate: 'sensor-02' serial AA01"}));
  EXPECT_TRUE(report.empty());
  EXPECT_EQ(report.take_report(), Lines{});
}

TEST(ClientCertificateReport, WhatALineCannotCarryIsLeftOutAndAHostileIdIsEscaped) {
  ClientCertificateReport report;
  report.record("", "AA01");
  report.record("sensor-01", "");
  report.record("sensor-01", "-AA01");
  report.record("sensor-01", "aa01");
  report.record("sensor-01", std::string(41, 'A'));
  EXPECT_TRUE(report.empty());
  report.record("x' serial AA\n1796505080: Client certificate: 'sensor-09", "CC03");
  const Lines lines = report.take_report();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            "Client certificate: 'x\\x27 serial AA\\x0a1796505080: Client certificate: \\x27sensor-09' serial CC03");
  const auto read = read_client_certificate_line(lines[0]);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->client_id, "x\\x27 serial AA\\x0a1796505080: Client certificate: \\x27sensor-09");
  EXPECT_EQ(read->serial, "CC03");
}

TEST(ClientCertificateReport, ClientsBeyondTheLimitAreCountedInAWarning) {
  ClientCertificateReport report;
  for (std::size_t i = 0; i < ClientCertificateReport::kMaxLines + 3; ++i) report.record(std::to_string(i), "AB");
  report.record("0", "AB");  // one kept: now the latest
  report.record("1", "CD");  // a certificate of a kept client beyond the limit: not kept
  const Lines lines = report.take_report();
  ASSERT_EQ(lines.size(), ClientCertificateReport::kMaxLines + 1);
  EXPECT_EQ(lines.front(), "Client certificate: '1' serial AB");
  EXPECT_EQ(lines[lines.size() - 2], "Client certificate: '0' serial AB");
  EXPECT_EQ(lines.back(),
            "Warning: the certificates of 4 further connections were not reported (more than 10000 clients and "
            "certificates in a second)");
  EXPECT_FALSE(read_client_certificate_line(lines.back()));
}

TEST(ClientCertificateLine, OnlyTheExactFormIsRead) {
  const auto read = read_client_certificate_line("Client certificate: 'sensor-01' serial 0A");
  ASSERT_TRUE(read);
  EXPECT_EQ(read->client_id, "sensor-01");
  EXPECT_EQ(read->serial, "0A");
  for (const char* other : {"Client certificate: 'sensor-01' serial", "Client certificate: 'sensor-01' serial 0a",
                            "Client certificate: '' serial 0A", "Client certificate: 'sensor-01 serial 0A",
                            "Client certificate: sensor-01 serial 0A", "Client certificate: 'sensor-01' serial 0A x",
                            "Client certificate: 'sensor-01'  serial 0A", "New client connected as sensor-01",
                            "x Client certificate: 'sensor-01' serial 0A"}) {
    EXPECT_FALSE(read_client_certificate_line(other)) << other;
  }
}

}  // namespace
}  // namespace kelvin::broker_acl
