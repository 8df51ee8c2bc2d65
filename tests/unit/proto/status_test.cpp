#include "kelvin/proto/status.hpp"

#include <gtest/gtest.h>

#include "mutations.hpp"

namespace kelvin::proto {
namespace {

TEST(StatusDecoder, OnlineStatusWithEveryField) {
  auto status = decode_status(R"({"state":"online","fw":"1.2.0","dropped":4,"oldest_seq":17,"extra":true})");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(status->online);
  EXPECT_EQ(status->firmware, "1.2.0");
  EXPECT_EQ(status->dropped, 4u);
  EXPECT_EQ(status->oldest_seq, 17u);
}

TEST(StatusDecoder, LastWillIsOfflineWithNothingElse) {
  auto status = decode_status(R"({"state":"offline"})");
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->online);
  EXPECT_EQ(status->firmware, "");
  EXPECT_FALSE(status->oldest_seq.has_value());
}

TEST(StatusDecoder, RefusesMalformedStatuses) {
  const std::string too_long_fw = R"({"state":"online","fw":")" + std::string(65, 'v') + R"("})";
  for (const std::string& payload :
       {std::string("not json"), std::string("[]"), std::string(R"({"fw":"1"})"), std::string(R"({"state":"busy"})"),
        std::string(R"({"state":1})"), std::string(R"({"state":"online","fw":7})"), too_long_fw,
        std::string("{\"state\":\"online\",\"fw\":\"a\\u0001\"}"), std::string(R"({"state":"online","dropped":-1})"),
        std::string(R"({"state":"online","oldest_seq":0})"), std::string(R"({"state":"online","oldest_seq":"5"})"),
        std::string("{\"state\":\"online\",\"fw\":\"\xff\"}"), std::string(2000, ' ')}) {
    auto status = decode_status(payload);
    EXPECT_FALSE(status.ok()) << payload;
    if (!status.ok()) {
      EXPECT_EQ(status.error().code, Errc::invalid_argument);
    }
  }
}

TEST(StatusDecoder, APayloadIsItsFullLengthAndEveryMemberNameIsGivenOnce) {
  const std::string nul(1, '\0');
  for (const std::string& payload : {
           R"({"state":"online"})" + nul + "garbage",
           R"({"state":"online"})" + nul,
           R"({"state":"online",)" + nul + R"("fw":"1"})",
           std::string(R"({"state":"online","state":"offline"})"),
           std::string(R"({"state":"online","fw":"1.2.0","fw":"1.3.0"})"),
           std::string(R"({"state":"online","dropped":1,"dropped":0})"),
           std::string(R"({"state":"online","oldest_seq":5,"oldest_seq":9})"),
           std::string(R"({"state":"online","extra":1,"extra":2})"),
           std::string(R"({"state":"online","extra":{"a":1,"a":2}})"),
           std::string(R"({"state":"online","":1,"":2})"),
       }) {
    auto status = decode_status(payload);
    EXPECT_FALSE(status.ok()) << payload;
    if (!status.ok()) {
      EXPECT_EQ(status.error().code, Errc::invalid_argument);
    }
  }
  auto duplicate = decode_status(R"({"state":"online","state":"offline"})");
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.error().message.find("'state'"), std::string::npos) << duplicate.error().message;
  EXPECT_TRUE(decode_status(R"({"state":"online","extra":{"a":1},"more":{"a":1}})").ok());
}

TEST(StatusDecoder, AnswersEveryPayloadNearAValidOneWithoutThrowing) {
  for (const std::string& payload :
       testing::mutations_of(R"({"state":"online","fw":"1.2.0","dropped":4,"oldest_seq":17,"extra":[1,{"a":true}]})")) {
    EXPECT_NO_THROW((void)decode_status(payload)) << payload;
  }
}

}  // namespace
}  // namespace kelvin::proto
