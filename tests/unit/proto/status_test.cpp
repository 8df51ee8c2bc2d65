#include <gtest/gtest.h>

#include "kelvin/proto/status.hpp"

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

}  // namespace
}  // namespace kelvin::proto
