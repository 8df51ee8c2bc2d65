// The broker plugin's reading of the ACL file (kelvin/broker_acl/acl_file.hpp): the file the gateway
// really writes (render_broker_acl) judged with Mosquitto's own topic matching, device by device and
// gateway by gateway, and the rules of Mosquitto's acl_file check the plugin repeats (deny first, `$`
// topics, wildcards in a client's name); a file outside the gateway's grammar is refused by line.

#include "kelvin/broker_acl/acl_file.hpp"

#include <gtest/gtest.h>
#include <mosquitto.h>

#include "kelvin/gateway/broker_config.hpp"

namespace kelvin::broker_acl {
namespace {

bool mosquitto_matches(const char* filter, const char* topic) {
  bool result = false;
  return mosquitto_topic_matches_sub(filter, topic, &result) == MOSQ_ERR_SUCCESS && result;
}

AclFile parsed(std::string_view text) {
  AclParse parse = parse_acl_file(text);
  EXPECT_TRUE(parse.acl.has_value()) << parse.error;
  return parse.acl.value_or(AclFile{});
}

// The ACL a gateway with a peer and an alert reader writes.
AclFile gateway_acl() {
  gateway::BrokerSettings settings;
  settings.gateway_identity = "svc-gateway";
  settings.peer_gateway_identities = {"svc-gateway-b"};
  settings.alert_readers = {"svc-homeassistant"};
  return parsed(gateway::render_broker_acl(settings));
}

bool client_may(const AclFile& acl, const char* client, Access access, const char* topic) {
  return allows(acl, access, topic, client, client, mosquitto_matches);
}

TEST(AclFile, ADeviceWritesAndReadsOnlyItsOwnTopics) {
  const AclFile acl = gateway_acl();
  for (const char* own : {"devices/sensor-01/telemetry", "devices/sensor-01/status", "devices/sensor-01/ota/status"}) {
    EXPECT_TRUE(client_may(acl, "sensor-01", Access::write, own)) << own;
    EXPECT_FALSE(client_may(acl, "sensor-01", Access::read, own)) << own;
  }
  for (const char* own : {"devices/sensor-01/ack", "devices/sensor-01/ota"}) {
    EXPECT_TRUE(client_may(acl, "sensor-01", Access::read, own)) << own;
    EXPECT_FALSE(client_may(acl, "sensor-01", Access::write, own)) << "a device cannot forge its own acks: " << own;
  }
  for (const char* foreign :
       {"devices/sensor-02/telemetry", "devices/sensor-02/ack", "devices/sensor-01", "devices/sensor-01/telemetry/more",
        "kelvin/gateways/svc-gateway/presence", "alerts/device_offline/sensor-01", "anything"}) {
    EXPECT_FALSE(client_may(acl, "sensor-01", Access::write, foreign)) << foreign;
    EXPECT_FALSE(client_may(acl, "sensor-01", Access::read, foreign)) << foreign;
  }
}

TEST(AclFile, EachGatewayHasAGatewaysRightsAndAnAlertReaderOnlyReadsAlerts) {
  const AclFile acl = gateway_acl();
  for (const char* gateway : {"svc-gateway", "svc-gateway-b"}) {
    EXPECT_TRUE(client_may(acl, gateway, Access::read, "devices/sensor-01/telemetry")) << gateway;
    EXPECT_TRUE(client_may(acl, gateway, Access::write, "devices/sensor-01/ack")) << gateway;
    EXPECT_TRUE(client_may(acl, gateway, Access::write, "devices/sensor-01/ota")) << gateway;
    EXPECT_TRUE(client_may(acl, gateway, Access::write, "alerts/device_offline/sensor-01")) << gateway;
    EXPECT_TRUE(client_may(acl, gateway, Access::read, "kelvin/gateways/svc-gateway/presence")) << gateway;
    EXPECT_FALSE(client_may(acl, gateway, Access::write, "devices/sensor-01/status")) << gateway;
  }
  EXPECT_TRUE(client_may(acl, "svc-gateway", Access::write, "kelvin/gateways/svc-gateway/presence"));
  EXPECT_FALSE(client_may(acl, "svc-gateway", Access::write, "kelvin/gateways/svc-gateway-b/presence"))
      << "a gateway speaks only for itself";
  EXPECT_TRUE(client_may(acl, "svc-homeassistant", Access::read, "alerts/device_offline/sensor-01"));
  EXPECT_FALSE(client_may(acl, "svc-homeassistant", Access::write, "alerts/device_offline/sensor-01"));
  EXPECT_FALSE(client_may(acl, "svc-homeassistant", Access::read, "devices/sensor-01/telemetry"));
}

TEST(AclFile, AClientNamedWithAWildcardIsRefusedEverythingAPatternWouldGrant) {
  const AclFile acl = gateway_acl();
  // Substituted into "devices/%u/telemetry", "+" would grant every device's topic.
  EXPECT_FALSE(client_may(acl, "+", Access::write, "devices/+/telemetry"));
  EXPECT_FALSE(client_may(acl, "+", Access::write, "devices/sensor-01/telemetry"));
  EXPECT_FALSE(client_may(acl, "#", Access::read, "devices/sensor-01/ack"));
  EXPECT_FALSE(allows(acl, Access::write, "devices/sensor-01/telemetry", "sensor-01", "sensor-#", mosquitto_matches));
}

TEST(AclFile, WithoutAUserNameNoPatternOfTheUserApplies) {
  const AclFile acl = parsed("pattern write devices/%u/telemetry\npattern write clients/%c/out\n");
  EXPECT_FALSE(allows(acl, Access::write, "devices/sensor-01/telemetry", nullptr, "sensor-01", mosquitto_matches));
  EXPECT_TRUE(allows(acl, Access::write, "clients/sensor-01/out", nullptr, "sensor-01", mosquitto_matches));
  EXPECT_FALSE(allows(acl, Access::write, "clients/sensor-01/out", nullptr, nullptr, mosquitto_matches));
}

TEST(AclFile, ADenyRuleIsJudgedBeforeTheRulesThatGrantWhereverItStands) {
  const AclFile acl = parsed(
      "user svc-a\n"
      "topic readwrite devices/#\n"
      "topic deny devices/secret/#\n"
      "pattern readwrite own/%u/#\n"
      "pattern deny own/%u/locked\n");
  EXPECT_TRUE(client_may(acl, "svc-a", Access::read, "devices/open/x"));
  EXPECT_FALSE(client_may(acl, "svc-a", Access::read, "devices/secret/x"));
  EXPECT_TRUE(client_may(acl, "svc-a", Access::write, "own/svc-a/x"));
  EXPECT_FALSE(client_may(acl, "svc-a", Access::write, "own/svc-a/locked"));
}

TEST(AclFile, ADollarTopicMatchesOnlyARuleThatStartsWithADollar) {
  const AclFile acl = parsed("user svc-a\ntopic read #\ntopic read $SYS/broker/uptime\n");
  EXPECT_TRUE(client_may(acl, "svc-a", Access::read, "devices/x"));
  EXPECT_FALSE(client_may(acl, "svc-a", Access::read, "$SYS/broker/clients"));
  EXPECT_TRUE(client_may(acl, "svc-a", Access::read, "$SYS/broker/uptime"));
}

TEST(AclFile, ARuleWithoutAnAccessWordGrantsReadAndWrite) {
  const AclFile acl = parsed("user svc-a\ntopic shared/#\n");
  EXPECT_TRUE(client_may(acl, "svc-a", Access::read, "shared/x"));
  EXPECT_TRUE(client_may(acl, "svc-a", Access::write, "shared/x"));
  EXPECT_FALSE(client_may(acl, "svc-b", Access::read, "shared/x")) << "another user has no rules";
}

TEST(AclFile, AFileOutsideTheGatewaysGrammarIsRefusedNamingTheLine) {
  const auto error_of = [](std::string_view text) { return parse_acl_file(text).error; };
  EXPECT_EQ(error_of("# comment\n\ntopic read x\n"),
            "line 3: a 'topic' line before any 'user' line (rules for anonymous clients are not supported)");
  EXPECT_EQ(error_of("user svc-a\ntopic readonly x\n"),
            "line 2: unknown access 'readonly' (read, write, readwrite or deny)");
  EXPECT_EQ(error_of("user svc-a\ntopic read a/#/b\n"), "line 2: invalid topic filter 'a/#/b'");
  EXPECT_EQ(error_of("user svc-a\ntopic read a/b+\n"), "line 2: invalid topic filter 'a/b+'");
  EXPECT_EQ(error_of("user\n"), "line 1: 'user' without a name");
  EXPECT_EQ(error_of("include_dir /etc\n"), "line 1: unknown keyword 'include_dir' (user, topic or pattern)");
  EXPECT_FALSE(parse_acl_file("user svc-a\n\ttopic   read   a/b  \r\n").error.size()) << "blanks around words";
}

}  // namespace
}  // namespace kelvin::broker_acl
