// Merging what the store and the PKI know about each device (kelvinctl device list, GET
// /api/v1/devices).

#include "kelvin/fleet/device_view.hpp"

#include <gtest/gtest.h>

#include "fleet_test_support.hpp"

namespace kelvin::fleet {
namespace {

using namespace kelvin::fleet::testing;
using pki::CertificateState;

std::vector<std::string> ids_of(const std::vector<DeviceView>& views) {
  std::vector<std::string> ids;
  for (const auto& view : views) ids.push_back(view.id);
  return ids;
}

TEST(DeviceViews, EveryDeviceOfEitherSourceOnceSortedById) {
  const std::vector<pki::CertificateStatus> certificates = {
      device_certificate("gw", "01", CertificateState::valid, pki::CertificateKind::server),
      device_certificate("charlie", "02"),
      device_certificate("alpha", "03"),
  };
  auto views = device_views({stored_device("bravo"), stored_device("alpha")}, certificates, false);
  EXPECT_EQ(ids_of(views), (std::vector<std::string>{"alpha", "bravo", "charlie"}));
  ASSERT_EQ(views.size(), 3u);
  EXPECT_TRUE(views[0].stored.has_value());
  ASSERT_TRUE(views[0].certificate.has_value());
  EXPECT_EQ(views[0].certificate->record.serial, "03");
  EXPECT_TRUE(views[1].stored.has_value());
  EXPECT_FALSE(views[1].certificate.has_value());
  EXPECT_FALSE(views[2].stored.has_value()) << "known from its certificate only";
  EXPECT_EQ(views[2].certificate->record.serial, "02");
}

TEST(DeviceViews, CarryingALabelKeepsExactlyTheDevicesWithIt) {
  store::DeviceInfo alpha = stored_device("alpha");
  alpha.labels = {"greenhouse", "west"};
  store::DeviceInfo bravo = stored_device("bravo");
  bravo.labels = {"greenhouse-2"};
  store::DeviceInfo delta = stored_device("delta");
  delta.labels = {"greenhouse"};
  auto views = device_views({alpha, bravo, delta}, {device_certificate("charlie", "02")}, false);
  EXPECT_EQ(ids_of(carrying_label(views, "greenhouse")), (std::vector<std::string>{"alpha", "delta"}));
  EXPECT_EQ(ids_of(carrying_label(views, "west")), std::vector<std::string>{"alpha"});
  EXPECT_TRUE(carrying_label(views, "green").empty()) << "a label matches whole";
}

TEST(DeviceViews, TheUsableCertificateSumsUpARenewedDevice) {
  const std::vector<pki::CertificateStatus> certificates = {
      device_certificate("alpha", "01"),
      device_certificate("alpha", "02", CertificateState::revoked),
  };
  auto views = device_views({}, certificates, false);
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].certificate->record.serial, "01");
}

TEST(DeviceViews, RemovedDevicesOnlyWhenAskedFor) {
  // Removed: the store forgot it and every certificate is revoked. Revoked but still stored is not.
  const std::vector<pki::CertificateStatus> certificates = {
      device_certificate("gone", "01", CertificateState::revoked),
      device_certificate("kept", "02", CertificateState::revoked),
  };
  EXPECT_EQ(ids_of(device_views({stored_device("kept")}, certificates, false)), (std::vector<std::string>{"kept"}));
  EXPECT_EQ(ids_of(device_views({stored_device("kept")}, certificates, true)),
            (std::vector<std::string>{"gone", "kept"}));

  EXPECT_FALSE(device_view("gone", std::nullopt, certificates, false).has_value());
  EXPECT_TRUE(device_view("gone", std::nullopt, certificates, true).has_value());
  EXPECT_TRUE(device_view("kept", stored_device("kept"), certificates, false).has_value());
}

TEST(DeviceViews, OneDeviceIsFoundExactlyWhenListed) {
  const std::vector<pki::CertificateStatus> certificates = {device_certificate("alpha", "01")};
  auto alpha = device_view("alpha", std::nullopt, certificates, false);
  ASSERT_TRUE(alpha.has_value());
  EXPECT_EQ(alpha->id, "alpha");
  EXPECT_EQ(alpha->certificate->record.serial, "01");
  EXPECT_FALSE(device_view("nobody", std::nullopt, certificates, false).has_value());
  auto bravo = device_view("bravo", stored_device("bravo"), certificates, false);
  ASSERT_TRUE(bravo.has_value());
  EXPECT_FALSE(bravo->certificate.has_value());
}

TEST(DeviceViews, StateSaysWhatTheDeviceLastSaid) {
  DeviceView view{"alpha", std::nullopt, std::nullopt, std::nullopt};
  EXPECT_EQ(device_state(view), "never seen");
  view.stored = stored_device("alpha");
  EXPECT_EQ(device_state(view), "online");
  view.stored->status->state = "offline";
  EXPECT_EQ(device_state(view), "offline");
  view.stored->status.reset();
  EXPECT_EQ(device_state(view), "unknown");
  view.stored->last_seen_ms.reset();
  EXPECT_EQ(device_state(view), "never seen");
}

TEST(DeviceViews, CertificateStateNames) {
  DeviceView view{"alpha", std::nullopt, std::nullopt, std::nullopt};
  EXPECT_EQ(certificate_state(view), "none");
  view.certificate = device_certificate("alpha", "01", CertificateState::not_yet_valid);
  EXPECT_EQ(certificate_state(view), "not_yet_valid");
  view.certificate = device_certificate("alpha", "01", CertificateState::expired);
  EXPECT_EQ(certificate_state(view), "expired");
}

}  // namespace
}  // namespace kelvin::fleet
