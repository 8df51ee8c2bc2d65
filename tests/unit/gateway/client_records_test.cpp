// What the gateway keeps of each client's connections (kelvin/gateway/client_records.hpp): the
// latest certificate and when each one was last used, the newest few per client; ACL denials summed;
// clients beyond the limit counted, not kept.

#include "kelvin/gateway/client_records.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kelvin::gateway {
namespace {

TEST(ClientRecords, KeepTheLatestCertificateAndWhenEachWasLastUsed) {
  ClientRecords records;
  records.record_certificate("sensor-01", "A1", 1'000);
  records.record_certificate("sensor-01", "B2", 2'000);
  records.record_certificate("sensor-01", "A1", 3'000);
  records.record_certificate("sensor-01", "B2", 4'000);
  records.add_acl_denials("sensor-01", 2);
  records.add_acl_denials("sensor-01", 3);
  const ClientRecord record = records.snapshot().at("sensor-01");
  EXPECT_EQ(record.certificate_serial, "B2");
  EXPECT_EQ(record.certificates_seen_ms,
            (std::map<std::string, std::int64_t, std::less<>>{{"A1", 3'000}, {"B2", 4'000}}));
  EXPECT_EQ(record.acl_denials, 5u);

  // Only the newest few certificates of a client are kept: the least recently used goes.
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(ClientRecords::kMaxCertificatesPerClient); ++i) {
    records.record_certificate("sensor-01", "C" + std::to_string(i), 5'000 + i);
  }
  const auto seen = records.snapshot().at("sensor-01").certificates_seen_ms;
  EXPECT_EQ(seen.size(), ClientRecords::kMaxCertificatesPerClient);
  EXPECT_FALSE(seen.contains("A1"));
  EXPECT_FALSE(seen.contains("B2"));
}

TEST(ClientRecords, ClientsBeyondTheLimitAreCountedNotKept) {
  ClientRecords records;
  for (std::size_t i = 0; i < ClientRecords::kMaxClients; ++i) records.add_acl_denials(std::to_string(i), 1);
  records.record_certificate("one-too-many", "A1", 1);
  records.add_acl_denials("one-too-many", 1);
  records.add_acl_denials("0", 1);  // one kept: still counted
  const auto snapshot = records.snapshot();
  EXPECT_EQ(snapshot.size(), ClientRecords::kMaxClients);
  EXPECT_FALSE(snapshot.contains("one-too-many"));
  EXPECT_EQ(snapshot.at("0").acl_denials, 2u);
  EXPECT_EQ(records.not_kept(), 2u);
}

}  // namespace
}  // namespace kelvin::gateway
