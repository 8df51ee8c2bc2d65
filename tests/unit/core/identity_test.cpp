#include "kelvin/core/identity.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kelvin {
namespace {

TEST(Identity, AcceptsWellFormedIds) {
  for (const std::string& id :
       std::vector<std::string>{"a", "0", "sensor-01", "x_y", "a-b_c-9", "9lives", std::string(63, 'z')}) {
    EXPECT_TRUE(is_well_formed_identity(id)) << id;
    auto r = validate_device_id(id);
    EXPECT_TRUE(r.ok()) << id << ": " << (r.ok() ? "" : r.error().message);
  }
}

TEST(Identity, MaxLengthIsSixtyThree) {
  EXPECT_EQ(kMaxIdentityLength, 63u);
  EXPECT_TRUE(is_well_formed_identity(std::string(63, 'a')));
  EXPECT_FALSE(is_well_formed_identity(std::string(64, 'a')));
  auto r = validate_device_id(std::string(64, 'a'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
}

TEST(Identity, RejectsMalformedIds) {
  const std::string bad[] = {
      "",                      // empty
      "Sensor",                // uppercase
      "sensorA",               // uppercase inside
      "-sensor",               // leading '-'
      "_sensor",               // leading '_'
      "a/b",                   // MQTT level separator
      "a+b",                   // MQTT single-level wildcard
      "a#",                    // MQTT multi-level wildcard
      "+",                     // wildcard alone
      "a b",                   // space
      "a.b",                   // dot
      "a\tb",                  // tab
      "a\nb",                  // newline
      "caf\xc3\xa9",           // non-ASCII (UTF-8 e-acute)
      "\xff",                  // a byte above 0x7f alone
      std::string("a\0b", 3),  // embedded NUL
  };
  for (const auto& id : bad) {
    EXPECT_FALSE(is_well_formed_identity(id)) << id;
    auto r = validate_device_id(id);
    ASSERT_FALSE(r.ok()) << id;
    EXPECT_EQ(r.error().code, Errc::invalid_argument) << id;
    EXPECT_NE(r.error().message.find("invalid device id"), std::string::npos) << r.error().message;
  }
}

TEST(Identity, ErrorMessageNeverEchoesControlOrNonAsciiBytes) {
  auto r = validate_device_id("bad\n\xc3\xa9id");
  ASSERT_FALSE(r.ok());
  for (char c : r.error().message) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "unprintable byte " << static_cast<int>(static_cast<unsigned char>(c));
  }
}

TEST(Identity, DeviceIdInServiceNamespaceIsRefusedAsReserved) {
  for (const std::string& id : std::vector<std::string>{"svc-x", "svc-gateway", "svc-"}) {
    EXPECT_TRUE(is_well_formed_identity(id)) << id;
    auto r = validate_device_id(id);
    ASSERT_FALSE(r.ok()) << id;
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_NE(r.error().message.find("reserved"), std::string::npos) << r.error().message;
  }
  // Only the exact prefix is reserved.
  EXPECT_TRUE(validate_device_id("svc").ok());
  EXPECT_TRUE(validate_device_id("svcx-1").ok());
  EXPECT_TRUE(validate_device_id("my-svc-1").ok());
}

TEST(ServiceName, AcceptsSvcPrefixedNames) {
  for (const std::string& name :
       std::vector<std::string>{"svc-gateway", "svc-a", "svc-metrics_2", "svc-" + std::string(59, 'x')}) {
    auto r = validate_service_name(name);
    EXPECT_TRUE(r.ok()) << name << ": " << (r.ok() ? "" : r.error().message);
  }
}

TEST(ServiceName, RequiresSvcPrefix) {
  for (const std::string& name :
       std::vector<std::string>{"gateway", "svc", "svcgateway", "svc_gateway", "x-svc-gateway"}) {
    auto r = validate_service_name(name);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_NE(r.error().message.find("svc-"), std::string::npos) << r.error().message;
  }
}

TEST(ServiceName, PrefixAloneIsRefused) {
  auto r = validate_service_name("svc-");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
}

TEST(ServiceName, MustAlsoBeWellFormed) {
  for (const std::string& name :
       std::vector<std::string>{"svc-Gateway", "svc-a/b", "svc-#", "svc-a b", "svc-" + std::string(60, 'x'), "SVC-x"}) {
    auto r = validate_service_name(name);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
  }
}

TEST(Label, AcceptsTheGrammar) {
  for (const std::string& label : std::vector<std::string>{"a", "0", "greenhouse", "site-3", "eu.west_2", "v1.2.3",
                                                           "a.", std::string(kMaxLabelLength, 'z')}) {
    EXPECT_TRUE(is_well_formed_label(label)) << label;
    EXPECT_TRUE(validate_label(label).ok()) << label;
  }
}

TEST(Label, RefusesEverythingElseSayingWhy) {
  for (const std::string& label :
       std::vector<std::string>{"", "Greenhouse", ".hidden", "-x", "_x", "a b", "a/b", "a,b", "a+b", "a#",
                                "caf\xc3\xa9", "a\n", std::string(kMaxLabelLength + 1, 'z')}) {
    EXPECT_FALSE(is_well_formed_label(label)) << label;
    auto refused = validate_label(label);
    ASSERT_FALSE(refused.ok()) << label;
    EXPECT_EQ(refused.error().code, Errc::invalid_argument);
    EXPECT_NE(refused.error().message.find("1 to 64 characters"), std::string::npos) << refused.error().message;
    EXPECT_EQ(refused.error().message.find('\n'), std::string::npos) << "echoed input stays on one line";
  }
}

}  // namespace
}  // namespace kelvin
