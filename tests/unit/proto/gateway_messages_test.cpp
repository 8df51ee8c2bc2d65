// The messages between gateways sharing a broker (gateway_messages.hpp): topics, presence and
// consumed notices, encoded and decoded.

#include "kelvin/proto/gateway_messages.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mutations.hpp"

namespace kelvin::proto {
namespace {

ConsumedNotice::Device device(std::string id, std::uint64_t through, std::vector<SeqRun> above = {},
                              std::vector<SeqRun> stored = {}) {
  return ConsumedNotice::Device{std::move(id), through, std::move(above), std::move(stored)};
}

void expect_refused(const Result<ConsumedNotice>& decoded, const std::string& payload) {
  EXPECT_FALSE(decoded.ok()) << payload;
  if (!decoded.ok()) {
    EXPECT_EQ(decoded.error().code, Errc::invalid_argument) << payload;
  }
}

TEST(GatewayTopics, PeersTopicsAreUnderKelvinGateways) {
  EXPECT_EQ(presence_topic("svc-gateway-b"), "kelvin/gateways/svc-gateway-b/presence");
  EXPECT_EQ(consumed_topic("svc-gateway-b"), "kelvin/gateways/svc-gateway-b/consumed");
  EXPECT_EQ(peer_presence_filter(), "kelvin/gateways/+/presence");
  EXPECT_EQ(peer_consumed_filter(), "kelvin/gateways/+/consumed");
  EXPECT_EQ(rule_topic("svc-gateway-b", "freezer_warm"), "kelvin/gateways/svc-gateway-b/rules/freezer_warm");
  EXPECT_EQ(peer_rules_filter(), "kelvin/gateways/+/rules/+");
  EXPECT_EQ(silence_topic("svc-gateway-b", "device_offline", "sensor-01"),
            "kelvin/gateways/svc-gateway-b/silences/device_offline/sensor-01");
  EXPECT_EQ(peer_silences_filter(), "kelvin/gateways/+/silences/+/+");
  EXPECT_EQ(alert_state_topic("svc-gateway-b", "device_offline", "sensor-01"),
            "kelvin/gateways/svc-gateway-b/alerts/device_offline/sensor-01");
  EXPECT_EQ(peer_alert_states_filter(), "kelvin/gateways/+/alerts/+/+");
}

TEST(GatewayTopics, ParsesOnlyAServiceNameFollowedByAKnownLeaf) {
  auto presence = parse_gateway_topic("kelvin/gateways/svc-gateway-b/presence");
  ASSERT_TRUE(presence);
  EXPECT_EQ(presence->gateway, "svc-gateway-b");
  EXPECT_EQ(presence->topic, GatewayTopic::presence);
  const std::string consumed_of_a = consumed_topic("svc-gateway-a");  // the parsed gateway is a view into it
  auto consumed = parse_gateway_topic(consumed_of_a);
  ASSERT_TRUE(consumed);
  EXPECT_EQ(consumed->gateway, "svc-gateway-a");
  EXPECT_EQ(consumed->topic, GatewayTopic::consumed);
  for (const char* topic : {"kelvin/gateways/sensor-01/presence",
                            "kelvin/gateways/Not A Name/consumed",
                            "kelvin/gateways/svc-gateway-b/other",
                            "kelvin/gateways/svc-gateway-b/presence/x",
                            "kelvin/gateways/svc-gateway-b",
                            "kelvin/gateways//presence",
                            "devices/sensor-01/telemetry",
                            "",
                            "kelvin/gateways/svc-gateway-b/rules",
                            "kelvin/gateways/svc-gateway-b/rules/",
                            "kelvin/gateways/svc-gateway-b/rules/hot/x",
                            "kelvin/gateways/sensor-01/rules/hot",
                            "kelvin/gateways/svc-gateway-b/silences/hot",
                            "kelvin/gateways/svc-gateway-b/silences/hot/",
                            "kelvin/gateways/svc-gateway-b/silences//sensor-01",
                            "kelvin/gateways/svc-gateway-b/silences/hot/sensor-01/x",
                            "kelvin/gateways/sensor-01/silences/hot/sensor-01",
                            "kelvin/gateways/svc-gateway-b/alerts/hot",
                            "kelvin/gateways/svc-gateway-b/alerts//sensor-01",
                            "kelvin/gateways/svc-gateway-b/alerts/hot/sensor-01/x"}) {
    EXPECT_FALSE(parse_gateway_topic(topic)) << topic;
  }
  const std::string hot = rule_topic("svc-gateway-b", "hot");
  auto rule = parse_gateway_topic(hot);
  ASSERT_TRUE(rule);
  EXPECT_EQ(rule->gateway, "svc-gateway-b");
  EXPECT_EQ(rule->topic, GatewayTopic::rule);
  EXPECT_EQ(rule->rule, "hot");
  const std::string silenced = silence_topic("svc-gateway-b", "hot", "sensor-01");
  auto silence = parse_gateway_topic(silenced);
  ASSERT_TRUE(silence);
  EXPECT_EQ(silence->gateway, "svc-gateway-b");
  EXPECT_EQ(silence->topic, GatewayTopic::silence);
  EXPECT_EQ(silence->rule, "hot");
  EXPECT_EQ(silence->subject, "sensor-01");
  const std::string alerted = alert_state_topic("svc-gateway-b", "hot", "sensor-02");
  auto alert = parse_gateway_topic(alerted);
  ASSERT_TRUE(alert);
  EXPECT_EQ(alert->gateway, "svc-gateway-b");
  EXPECT_EQ(alert->topic, GatewayTopic::alert);
  EXPECT_EQ(alert->rule, "hot");
  EXPECT_EQ(alert->subject, "sensor-02");
}

TEST(SharedRuleCodec, DecodesBothFormsToTheSameVersion) {
  const SharedRule added{.name = "hot",
                         .definition = R"({"above":40.0,"kind":"threshold","name":"hot","quantity":"temperature"})",
                         .created_by = "ann",
                         .created_ms = 1000,
                         .changed_by = "b\"ob",
                         .changed_ms = 2000};
  const std::string encoded = encode_shared_rule(added);
  EXPECT_EQ(encoded, R"({"name":"hot","rule":{"above":40.0,"kind":"threshold","name":"hot","quantity":"temperature"},)"
                     R"("created_by":"ann","created_ms":1000,"updated_by":"b\"ob","updated_ms":2000})");
  auto decoded = decode_shared_rule(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, added);
  const SharedRule removed{.name = "hot", .changed_by = "ann", .changed_ms = 3000};
  EXPECT_EQ(encode_shared_rule(removed), R"({"name":"hot","removed_by":"ann","removed_ms":3000})");
  auto back = decode_shared_rule(encode_shared_rule(removed));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, removed);
  EXPECT_TRUE(back->removed());
  const SharedRule last{.name = "hot", .changed_by = "ann", .changed_ms = kMaxSharedTimeMs};
  auto latest = decode_shared_rule(encode_shared_rule(last));
  ASSERT_TRUE(latest.ok()) << latest.error().message;
  EXPECT_EQ(*latest, last);
}

TEST(SharedRuleCodec, RefusesAnythingElseWithoutThrowing) {
  const std::string user_too_long(kMaxSharedUserBytes + 1, 'u');
  for (const std::string& payload : {
           std::string(""),
           std::string("[]"),
           std::string("{"),
           std::string("null"),
           std::string(R"({"removed_by":"ann","removed_ms":1})"),                 // no name
           std::string(R"({"name":7,"removed_by":"ann","removed_ms":1})"),        // not a string
           std::string(R"({"name":"hot","removed_by":"","removed_ms":1})"),       // nobody
           std::string(R"({"name":"hot","removed_by":"ann","removed_ms":-1})"),   // before 1970
           std::string(R"({"name":"hot","removed_by":"ann","removed_ms":1.5})"),  // not whole
           std::string(R"({"name":"hot","removed_by":"ann","removed_ms":18446744073709551615})"),
           std::string(R"({"name":"hot","removed_by":"ann","removed_ms":9223372036854775807})"),  // no time to follow
           std::string(R"({"name":"hot","removed_by":"ann","removed_ms":253402300800000})"),      // after 9999
           std::string(R"({"name":"hot","removed_by":"ann"})"),                                   // when?
           std::string(R"({"name":"hot","removed_by":"ann","removed_ms":1,"x":1})"),              // unknown member
           std::string(R"({"name":"hot","name":"cold","removed_by":"ann","removed_ms":1})"),
           R"({"name":"hot","removed_by":")" + user_too_long + R"(","removed_ms":1})",
           std::string(R"({"name":"hot","rule":[],"created_by":"a","created_ms":1,"updated_by":"a","updated_ms":1})"),
           std::string(R"({"name":"hot","rule":{},"created_by":"a","created_ms":1,"updated_by":"a"})"),
           std::string(R"({"name":"hot","rule":{},"created_by":"a","created_ms":1,"updated_by":"a","updated_ms":1,)"
                       R"("removed_by":"a"})"),
           std::string(R"({"name":"hot","rule":{},"created_by":"a","created_ms":1,"updated_by":"a","updated_ms":1})") +
               std::string(1, '\0'),
           std::string(R"({"name":"hot","rule":{"a":")") + std::string(kMaxSharedRuleBytes, 'x') +
               R"("},)"
               R"("created_by":"a","created_ms":1,"updated_by":"a","updated_ms":1})",
       }) {
    auto decoded = decode_shared_rule(payload);
    ASSERT_FALSE(decoded.ok()) << payload.substr(0, 200);
    EXPECT_EQ(decoded.error().code, kelvin::Errc::invalid_argument);
  }
}

TEST(SharedSilenceCodec, DecodesWhatItEncodesToTheSameVersion) {
  const SharedSilence set{.rule = "freezer_warm",
                          .subject = "sensor-01",
                          .until_ms = 5000,
                          .set_by = "ann",
                          .set_ms = 1000,
                          .comment = "défrost \"B\""};
  const std::string encoded = encode_shared_silence(set);
  EXPECT_EQ(encoded, R"({"rule":"freezer_warm","subject":"sensor-01","until_ms":5000,"set_by":"ann","set_ms":1000,)"
                     R"("comment":"défrost \"B\""})");
  auto decoded = decode_shared_silence(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, set);
  const SharedSilence lifted{
      .rule = "hot", .subject = "gateway", .until_ms = kMaxSharedTimeMs, .set_by = "bob", .set_ms = kMaxSharedTimeMs};
  auto back = decode_shared_silence(encode_shared_silence(lifted));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, lifted);
}

TEST(SharedSilenceCodec, RefusesAnythingElseWithoutThrowing) {
  const std::string valid = R"({"rule":"hot","subject":"s-1","until_ms":2,"set_by":"ann","set_ms":1,"comment":""})";
  ASSERT_TRUE(decode_shared_silence(valid).ok());
  auto with = [&](std::string_view from, std::string_view to) {
    std::string payload = valid;
    payload.replace(payload.find(from), from.size(), to);
    return payload;
  };
  for (const std::string& payload : {
           std::string(""),
           std::string("[]"),
           std::string("null"),
           with(R"("rule":"hot",)", ""),                                        // no rule
           with(R"("rule":"hot")", R"("rule":7)"),                              // not a string
           with(R"("subject":"s-1",)", R"("subject":"s-1","subject":"s-2",)"),  // twice
           with(R"("until_ms":2)", R"("until_ms":-2)"),                         // before 1970
           with(R"("until_ms":2)", R"("until_ms":2.5)"),                        // not whole
           with(R"("until_ms":2)", R"("until_ms":"2")"),
           with(R"("until_ms":2)", R"("until_ms":253402300800000)"),  // after 9999
           with(R"("until_ms":2)", R"("until_ms":18446744073709551615)"),
           with(R"("set_by":"ann")", R"("set_by":"")"),  // nobody
           with(R"("set_ms":1)", R"("set_ms":-1)"),
           with(R"("comment":"")", R"("comment":"a\nb")"),  // two lines
           with(R"("comment":"")", R"("comment":"a\u0000b")"),
           with(R"("comment":"")", R"("comment":")" + std::string(kMaxSharedCommentBytes + 1, 'x') + "\""),
           with(R"("set_by":"ann")", R"("set_by":")" + std::string(kMaxSharedUserBytes + 1, 'u') + "\""),
           with(R"(,"comment":"")", ""),                      // a member missing
           with(R"("comment":"")", R"("comment":"","x":1)"),  // unknown member
           valid + std::string(1, '\0'),
           valid.substr(0, valid.size() - 1),
       }) {
    auto decoded = decode_shared_silence(payload);
    ASSERT_FALSE(decoded.ok()) << payload.substr(0, 200);
    EXPECT_EQ(decoded.error().code, kelvin::Errc::invalid_argument);
  }
}

TEST(SharedAlertStateCodec, DecodesWhatItEncodesToTheSameState) {
  const SharedAlertState firing{
      .rule = "device_offline", .subject = "sensor-01", .started_ms = 1000, .webhooks = {"ops", "chat"}};
  const std::string encoded = encode_shared_alert_state(firing);
  EXPECT_EQ(encoded, R"({"rule":"device_offline","subject":"sensor-01","started_ms":1000,"ended_ms":null,)"
                     R"("webhooks":["ops","chat"]})");
  auto decoded = decode_shared_alert_state(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, firing);
  const SharedAlertState resolved{
      .rule = "hot", .subject = "s-1", .started_ms = 5, .ended_ms = kMaxSharedTimeMs, .webhooks = {}};
  auto back = decode_shared_alert_state(encode_shared_alert_state(resolved));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, resolved);
}

TEST(SharedAlertStateCodec, RefusesAnythingElseWithoutThrowing) {
  const std::string valid = R"({"rule":"hot","subject":"s-1","started_ms":2,"ended_ms":3,"webhooks":["ops"]})";
  ASSERT_TRUE(decode_shared_alert_state(valid).ok());
  auto with = [&](std::string_view from, std::string_view to) {
    std::string payload = valid;
    payload.replace(payload.find(from), from.size(), to);
    return payload;
  };
  std::string too_many = R"("webhooks":[)";
  for (std::size_t i = 0; i <= kMaxSharedWebhooks; ++i) too_many += (i > 0 ? ",\"w" : "\"w") + std::to_string(i) + "\"";
  too_many += "]";
  for (const std::string& payload : {
           std::string(""),
           std::string("{}"),
           std::string("[]"),
           with(R"("rule":"hot",)", ""),                                        // no rule
           with(R"("subject":"s-1")", R"("subject":1)"),                        // not a string
           with(R"("subject":"s-1",)", R"("subject":"s-1","subject":"s-2",)"),  // twice
           with(R"("started_ms":2)", R"("started_ms":-2)"),                     // before 1970
           with(R"("started_ms":2)", R"("started_ms":null)"),                   // never started
           with(R"("started_ms":2)", R"("started_ms":2.5)"),
           with(R"("ended_ms":3)", R"("ended_ms":1)"),                // ends before it started
           with(R"("ended_ms":3)", R"("ended_ms":253402300800000)"),  // after 9999
           with(R"("ended_ms":3)", R"("ended_ms":"3")"),
           with(R"(,"ended_ms":3)", ""),                             // a member missing
           with(R"("webhooks":["ops"])", R"("webhooks":"ops")"),     // not an array
           with(R"("webhooks":["ops"])", R"("webhooks":[""])"),      // an empty name
           with(R"("webhooks":["ops"])", R"("webhooks":[7])"),       // not a name
           with(R"("webhooks":["ops"])", R"("webhooks":["a\nb"])"),  // two lines
           with(R"("webhooks":["ops"])", R"("webhooks":[")" + std::string(kMaxSharedWebhookNameBytes + 1, 'w') + "\"]"),
           with(R"("webhooks":["ops"])", too_many),
           with(R"("webhooks":["ops"])", R"("webhooks":["ops"],"x":1)"),  // unknown member
           valid + std::string(1, '\0'),
           valid.substr(0, valid.size() - 1),
       }) {
    auto decoded = decode_shared_alert_state(payload);
    ASSERT_FALSE(decoded.ok()) << payload.substr(0, 200);
    EXPECT_EQ(decoded.error().code, kelvin::Errc::invalid_argument);
  }
}

TEST(Presence, EncodesBothFormsAndDecodesThemToTheSameValue) {
  EXPECT_EQ(encode_presence(Presence{true, "0123456789abcdef"}), R"({"state":"online","session":"0123456789abcdef"})");
  EXPECT_EQ(encode_presence(Presence{}), R"({"state":"offline"})");
  EXPECT_EQ(offline_presence_payload(), R"({"state":"offline"})");
  for (const Presence& presence : {Presence{true, "0123456789abcdef"}, Presence{true, "a"},
                                   Presence{true, std::string(kMaxSessionBytes, 'z')}, Presence{}}) {
    auto decoded = decode_presence(encode_presence(presence));
    ASSERT_TRUE(decoded.ok()) << encode_presence(presence) << ": " << decoded.error().message;
    EXPECT_EQ(*decoded, presence);
  }
  auto spaced = decode_presence(" { \"session\" : \"b1\" , \"state\" : \"online\" } ");
  ASSERT_TRUE(spaced.ok()) << spaced.error().message;
  EXPECT_EQ(*spaced, (Presence{true, "b1"}));
}

TEST(Presence, RefusesAnythingElseWithoutThrowing) {
  const std::string nul(1, '\0');
  for (const std::string& payload : {
           std::string(R"({"state":"online","session":1})"),
           std::string(R"({"state":1})"),
           std::string("[]"),
           std::string(R"("x")"),
           std::string(R"({"state":"online","session":"ab","state":"offline"})"),
           std::string("\x01garbage\xff"),
           std::string(""),
           std::string("null"),
           std::string("{}"),
           std::string(R"({"state":"away"})"),
           std::string(R"({"state":"online"})"),
           std::string(R"({"state":"online","session":""})"),
           std::string(R"({"state":"online","session":"AB"})"),
           std::string(R"({"state":"online","session":"a-b"})"),
           std::string(R"({"state":"online","session":null})"),
           std::string(R"({"state":"online","session":")") + std::string(kMaxSessionBytes + 1, 'a') + "\"}",
           std::string(R"({"state":"online","session":"ab","extra":1})"),
           std::string(R"({"state":"online","session":"ab","session":"cd"})"),
           std::string(R"({"state":"offline","session":"ab"})"),
           std::string(R"({"state":"offline","state":"offline"})"),
           R"({"state":"offline"})" + nul + "garbage",
           R"({"state":"online","session":"ab"})" + nul,
           std::string(R"({"state":"offline"} x)"),
           R"({"state":"offline",)" + std::string(kMaxPresenceBytes, ' ') + R"("x":1})",
       }) {
    Result<Presence> decoded = Presence{};
    EXPECT_NO_THROW(decoded = decode_presence(payload)) << payload;
    EXPECT_FALSE(decoded.ok()) << payload;
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.error().code, Errc::invalid_argument) << payload;
    }
  }
  for (const std::string& payload : testing::mutations_of(R"({"state":"online","session":"0123456789abcdef"})")) {
    EXPECT_NO_THROW((void)decode_presence(payload)) << payload;
  }
}

TEST(ConsumedNoticeCodec, DecodesWhatItEncodesToTheSameNotice) {
  ConsumedNotice notice;
  notice.devices.push_back(device("sensor-01", 120, {{130, 140}, {150, 150}}, {{1, 3}, {100, 120}}));
  notice.devices.push_back(device("sensor-02", 0, {{5, 9}}));
  notice.devices.push_back(device("sensor-03", 9'223'372'036'854'775'807ULL));
  for (bool full : {false, true}) {
    for (bool last : {false, true}) {
      notice.full = full;
      notice.last = last;
      auto decoded = decode_notice(encode_notice(notice));
      ASSERT_TRUE(decoded.ok()) << decoded.error().message;
      EXPECT_EQ(*decoded, notice);
    }
  }
  auto empty = decode_notice(encode_notice(ConsumedNotice{}));
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(*empty, ConsumedNotice{});
}

TEST(ConsumedNoticeCodec, RefusesAnythingMalformed) {
  const std::string nul(1, '\0');
  const std::string valid = R"({"full":false,"last":true,"devices":{"d1":{"through":5,"above":[[7,8]]}}})";
  for (const std::string& payload : {
           std::string("not json"),
           std::string("[]"),
           std::string(R"({"full":false,"devices":{}})"),              // no "last"
           std::string(R"({"full":false,"last":true,"devices":[]})"),  // devices not an object
           std::string(R"({"full":0,"last":true,"devices":{}})"),
           std::string(R"({"full":false,"last":true,"devices":{"Bad Id!":{"through":1,"above":[]}}})"),
           std::string(R"({"full":false,"last":true,"devices":{"svc-gateway":{"through":1,"above":[]}}})"),
           std::string(R"({"full":false,"last":true,"devices":{"d1":[]}})"),
           std::string(R"({"full":false,"last":true,"devices":{"d1":{"through":-1,"above":[]}}})"),
           std::string(R"({"full":false,"last":true,"devices":{"d1":{"through":1.5,"above":[]}}})"),
           std::string(R"({"full":false,"last":true,"devices":{"d1":{"through":"1","above":[]}}})"),
           std::string(R"({"full":false,"last":true,"devices":{"d1":{"through":9223372036854775808,"above":[]}}})"),
           std::string(R"({"full":false,"last":true,"devices":{"d1":{"through":5,"above":[[6,7]]}}})"),  // touches
           std::string(R"({"full":false,"last":true,"devices":{"d1":{"through":5,"above":[[9,8]]}}})"),  // reversed
           std::string(R"({"full":false,"last":true,"devices":{"d1":{"through":5,"above":[[10,12],[11,14]]}}})"),
           std::string(R"({"full":false,"last":true,"devices":{"d1":{"through":5,"above":[[10,12],[13,14]]}}})"),
           std::string(R"({"full":false,"last":true,"devices":{"d1":{"through":5,"above":[[10]]}}})"),
           std::string(R"({"full":false,"last":true,"devices":{"d1":{"through":5,"above":{}}}})"),
           std::string(R"({"full":false,"last":true,"devices":{"d1":{"through":5,"above":[],"stored":7}}})"),
           std::string(R"({"full":false,"last":true,"devices":{"d1":{"through":5,"above":[],)"
                       R"("stored":[[3,6],[5,9]]}}})"),  // overlapping stored runs
           std::string(R"({"full":false,"last":true,"devices":{"d1":{"above":[]}}})"),
           // A member given twice, at any depth: the last one must not win.
           std::string(R"({"full":false,"full":true,"last":true,"devices":{}})"),
           std::string(R"({"full":false,"last":true,"devices":{"d1":{"through":5,"above":[]},)"
                       R"("d1":{"through":9,"above":[]}}})"),
           std::string(R"({"full":false,"last":true,"devices":{"d1":{"through":5,"through":9,"above":[]}}})"),
           std::string(R"({"full":false,"last":true,"devices":{},"devices":{}})"),
           valid + nul,
           valid + nul + "garbage",
           valid + " x",
       }) {
    Result<ConsumedNotice> decoded = ConsumedNotice{};
    EXPECT_NO_THROW(decoded = decode_notice(payload)) << payload;
    expect_refused(decoded, payload);
  }
  ASSERT_TRUE(decode_notice(valid).ok());
  expect_refused(decode_notice(std::string(kMaxNoticeBytes + 1, ' ')), "more than kMaxNoticeBytes");
  std::string many = R"({"full":false,"last":true,"devices":{"d1":{"through":0,"above":[)";
  for (std::size_t i = 0; i <= kMaxRunsPerDevice; ++i) {
    many += (i ? "," : "") + std::string("[") + std::to_string(10 + 3 * i) + "," + std::to_string(10 + 3 * i) + "]";
  }
  many += "]}}}";
  expect_refused(decode_notice(many), "more than kMaxRunsPerDevice runs");
  for (const std::string& payload : testing::mutations_of(
           R"({"full":true,"last":false,"devices":{"d1":{"through":5,"above":[[7,8]],"stored":[[1,2]]}}})")) {
    EXPECT_NO_THROW((void)decode_notice(payload)) << payload;
  }
}

TEST(ConsumedNoticeCodec, ASummaryIsSplitIntoPartsAndOnlyTheFinalOneIsLast) {
  std::vector<ConsumedNotice::Device> devices;
  for (int i = 0; i < 3000; ++i) devices.push_back(device("sensor-" + std::to_string(10000 + i), 100));
  auto parts = encode_summary(devices);
  ASSERT_GT(parts.size(), 1u);
  std::vector<ConsumedNotice::Device> seen;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    EXPECT_LE(parts[i].size(), kNoticeTargetBytes + 200);
    auto decoded = decode_notice(parts[i]);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_TRUE(decoded->full);
    EXPECT_EQ(decoded->last, i + 1 == parts.size());
    seen.insert(seen.end(), decoded->devices.begin(), decoded->devices.end());
  }
  EXPECT_EQ(seen, devices);
  auto empty = encode_summary({});
  ASSERT_EQ(empty.size(), 1u);
  auto decoded = decode_notice(empty[0]);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->full && decoded->last && decoded->devices.empty());
}

TEST(ConsumedNoticeCodec, CommitNoticesAreEachCompleteParts) {
  std::vector<ConsumedNotice::Device> devices;
  for (int i = 0; i < 3000; ++i) devices.push_back(device("sensor-" + std::to_string(10000 + i), 7, {{9, 9}}));
  for (const auto& part : encode_parts(devices, false)) {
    auto decoded = decode_notice(part);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_FALSE(decoded->full);
    EXPECT_TRUE(decoded->last);
  }
}

}  // namespace
}  // namespace kelvin::proto
