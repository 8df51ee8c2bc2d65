// The rollout's messages with devices (kelvin/rollout/ota_messages.hpp): the notice as the device
// side expects it, and strict decoding of the status reports.

#include "kelvin/rollout/ota_messages.hpp"

#include <gtest/gtest.h>

namespace kelvin::rollout {
namespace {

TEST(OtaMessages, TheNoticeIsTheContractsObject) {
  EXPECT_EQ(encode_notice(17, "thermo-linux", "1.1.0"), R"({"rollout":17,"product":"thermo-linux","version":"1.1.0"})");
}

TEST(OtaMessages, AFullReportDecodes) {
  auto report =
      decode_report(R"({"rollout":17,"product":"thermo-linux","version":"1.1.0","state":"failed","percent":42,)"
                    R"("reason":"hash_mismatch","detail":"free text","running_version":"1.0.0"})");
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->rollout, 17);
  EXPECT_EQ(report->product, "thermo-linux");
  EXPECT_EQ(report->version, "1.1.0");
  EXPECT_EQ(report->state, store::DeviceRolloutState::failed);
  EXPECT_EQ(report->percent, 42);
  EXPECT_EQ(report->reason, "hash_mismatch");
  EXPECT_EQ(report->detail, "free text");
  EXPECT_EQ(report->running_version, "1.0.0");

  auto minimal = decode_report(R"({"product":"thermo-linux","version":"1.1.0","state":"rolled_back"})");
  ASSERT_TRUE(minimal.ok()) << minimal.error().message;
  EXPECT_EQ(minimal->rollout, 0) << "absent: the device does not know it";

  // What the device side's encoder sends (proto::encode_update_status): every member, reasons up
  // to 64 characters.
  const std::string reason(64, 'x');
  auto sent = decode_report(R"({"rollout":0,"product":"thermo-linux","version":"1.1.0","state":"failed","percent":0,)"
                            R"("reason":")" +
                            reason + R"(","detail":"","running_version":"1.0.0"})");
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ(sent->reason, reason);
  EXPECT_TRUE(
      decode_report(R"({"product":"thermo-linux","version":"1.1.0","state":"failed","reason":"tls-error_2"})").ok());
}

TEST(OtaMessages, AnythingElseIsRefused) {
  const char* refused[] = {
      "",
      "not json",
      "[]",
      R"({"product":"thermo-linux","version":"1.1.0"})",                                      // no state
      R"({"product":"thermo-linux","version":"1.1.0","state":"pending"})",                    // not a report's
      R"({"product":"thermo-linux","version":"1.1.0","state":"notified"})",                   //
      R"({"product":"thermo-linux","version":"1.1.0","state":"done"})",                       // unknown state
      R"({"product":"thermo-linux","version":"1.1.0","state":"installed","extra":1})",        // unknown member
      R"({"product":"thermo-linux","version":"1.1.0","state":"installed","percent":"4"})",    // wrong type
      R"({"product":"thermo-linux","version":"1.1.0","state":"installed","percent":101})",    // out of range
      R"({"product":"thermo-linux","version":"1.1.0","state":"installed","percent":4.5})",    // not an integer
      R"({"product":"thermo-linux","version":"1.1.0","state":"installed","rollout":-1})",     //
      R"({"product":"thermo-linux","version":"1.1","state":"installed"})",                    // not a version
      R"({"product":"Thermo Linux","version":"1.1.0","state":"installed"})",                  // not a product
      R"({"product":"thermo-linux","version":"1.1.0","state":"failed","reason":"Bad one"})",  // not a code
      R"({"product":"thermo-linux","version":"1.1.0","state":"failed","detail":7})",          //
  };
  for (const char* payload : refused) {
    auto report = decode_report(payload);
    EXPECT_FALSE(report.ok()) << payload;
    if (!report.ok()) {
      EXPECT_EQ(report.error().code, Errc::invalid_argument);
    }
  }
  const std::string long_detail =
      R"({"product":"thermo-linux","version":"1.1.0","state":"failed","detail":")" + std::string(2000, 'x') + "\"}";
  EXPECT_FALSE(decode_report(long_detail).ok());
  EXPECT_FALSE(decode_report(R"({"product":"thermo-linux","version":"1.1.0","state":"failed","reason":")" +
                             std::string(65, 'x') + "\"}")
                   .ok());
  EXPECT_FALSE(decode_report(std::string(5000, ' ') + "{}").ok()) << "too large";
}

}  // namespace
}  // namespace kelvin::rollout
