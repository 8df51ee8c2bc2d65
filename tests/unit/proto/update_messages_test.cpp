#include "kelvin/proto/update_messages.hpp"

#include <gtest/gtest.h>

namespace kelvin::proto {
namespace {

TEST(UpdateNoticeTest, RoundTripsThroughItsJson) {
  const UpdateNotice notice{17, "thermo-linux", {1, 10, 0}};
  const std::string json = encode_update_notice(notice);
  EXPECT_EQ(json, R"({"rollout":17,"product":"thermo-linux","version":"1.10.0"})");
  auto decoded = decode_update_notice(json);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, notice);
}

TEST(UpdateNoticeTest, MembersMayComeInAnyOrder) {
  auto decoded = decode_update_notice(R"( {"version":"2.0.1", "product":"p", "rollout":0} )");
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->version, (FirmwareVersion{2, 0, 1}));
}

TEST(UpdateNoticeTest, RefusesAnythingButTheThreeMembersWithValidValues) {
  const char* refused[] = {
      "",
      "[]",
      R"({"rollout":1,"product":"p"})",
      R"({"rollout":1,"product":"p","version":"1.0.0","extra":1})",
      R"({"rollout":1,"product":"p","version":"1.0.0","version":"1.0.1"})",
      R"({"rollout":"1","product":"p","version":"1.0.0"})",
      R"({"rollout":-1,"product":"p","version":"1.0.0"})",
      R"({"rollout":1,"product":"P/../x","version":"1.0.0"})",
      R"({"rollout":1,"product":"p","version":"1.0"})",
      R"({"rollout":1,"product":"p","version":"01.0.0"})",
      R"({"rollout":1,"product":"p","version":"1.0.0"} x)",
  };
  for (const char* json : refused) {
    auto decoded = decode_update_notice(json);
    EXPECT_FALSE(decoded) << json;
    if (!decoded) {
      EXPECT_EQ(decoded.error().code, Errc::invalid_argument) << json;
    }
  }
}

TEST(UpdateStatusTest, EncodesEveryMember) {
  UpdateStatus status;
  status.rollout = 3;
  status.product = "thermo-linux";
  status.version = {1, 1, 0};
  status.state = UpdateState::failed;
  status.percent = 40;
  status.reason = "hash_mismatch";
  status.detail = "the image's SHA-256 is not the manifest's";
  status.running_version = {1, 0, 0};
  EXPECT_EQ(
      encode_update_status(status),
      R"({"rollout":3,"product":"thermo-linux","version":"1.1.0","state":"failed","percent":40,)"
      R"("reason":"hash_mismatch","detail":"the image's SHA-256 is not the manifest's","running_version":"1.0.0"})");
}

TEST(UpdateStatusTest, KeepsPercentInRangeAndDetailShortAndPrintable) {
  UpdateStatus status;
  status.product = "p";
  status.percent = 250;
  status.detail = std::string("line\nbreak\xff") + std::string(2000, 'x');
  const std::string json = encode_update_status(status);
  EXPECT_NE(json.find(R"("percent":100)"), std::string::npos);
  EXPECT_NE(json.find(R"("detail":"line?break?xxx)"), std::string::npos);
  EXPECT_LT(json.size(), kMaxUpdateDetailBytes + 200);
  EXPECT_EQ(json.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace kelvin::proto
