#include "kelvin/pki/certificate_kind.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace kelvin::pki {
namespace {

TEST(CertificateKind, NamesRoundTripThroughParse) {
  std::set<std::string_view> names;
  for (auto kind : {CertificateKind::ca, CertificateKind::server, CertificateKind::service, CertificateKind::device}) {
    std::string_view name = to_string(kind);
    EXPECT_NE(name, "unknown");
    names.insert(name);
    auto parsed = parse_certificate_kind(name);
    ASSERT_TRUE(parsed.has_value()) << name;
    EXPECT_EQ(*parsed, kind);
  }
  EXPECT_EQ(names.size(), 4u);
  EXPECT_EQ(to_string(CertificateKind::device), "device");
  EXPECT_EQ(to_string(CertificateKind::service), "service");
}

TEST(CertificateKind, ParseRejectsUnknownNames) {
  for (std::string_view text : {"", "Device", "DEVICE", "client", "device ", "unknown"}) {
    EXPECT_FALSE(parse_certificate_kind(text).has_value()) << "'" << text << "'";
  }
}

}  // namespace
}  // namespace kelvin::pki
