#pragma once
// Messages between gateways sharing one broker (docs/scaling.md), on topics only gateways may use:
//
//   kelvin/gateways/{gateway}/presence   retained; {"state":"online","session":"<token>"}, and the
//                                        last will {"state":"offline"}
//   kelvin/gateways/{gateway}/consumed   QoS 1; per device: the sender's watermark ("through"),
//                                        the seqs above it it consumed ("above") and, after a
//                                        commit, the seqs the commit stored ("stored"); a full
//                                        summary of a store comes in parts ("full", the final part
//                                        "last")
//   kelvin/gateways/{gateway}/rules/{rule}
//                                        retained, QoS 1; the latest version the sender knows of
//                                        an alert rule operators added through the API: its
//                                        definition, who added and last changed it and when, or
//                                        who removed it and when
//   kelvin/gateways/{gateway}/silences/{rule}/{subject}
//                                        retained, QoS 1; the latest version the sender knows of
//                                        an operator's silence of a rule on a subject: until when,
//                                        who set or lifted it last and when, and why
//   kelvin/gateways/{gateway}/alerts/{rule}/{subject}
//                                        retained, QoS 1; the sender's newest alert of a rule on a
//                                        subject: when it started firing and ended, and which
//                                        webhooks the sender notifies (so that one gateway of the
//                                        group notifies each transition)
//
// {gateway} is the sender's service identity. These messages are internal: the gateways of one
// group run the same kelvin version, so the decoders hold them to exactly what the encoders write
// and never throw, whatever arrives.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/core/result.hpp"

namespace kelvin::proto {

inline constexpr std::string_view kGatewayTopicPrefix = "kelvin/gateways/";

enum class GatewayTopic { presence, consumed, rule, silence, alert };

// "kelvin/gateways/{gateway}/presence" and ".../consumed". Precondition: `gateway` is a service name.
std::string presence_topic(std::string_view gateway);
std::string consumed_topic(std::string_view gateway);
// "kelvin/gateways/{gateway}/rules/{rule}". Precondition: `rule` is a rule name (1 to 64 of a-z,
// 0-9, '_' and '-', kelvin/alerts/alert_rule.hpp).
std::string rule_topic(std::string_view gateway, std::string_view rule);
// "kelvin/gateways/{gateway}/silences/{rule}/{subject}". Preconditions: `rule` is a rule name, and
// `subject` a well-formed identity (kelvin/core/identity.hpp): neither holds '/', '+' or '#'.
std::string silence_topic(std::string_view gateway, std::string_view rule, std::string_view subject);
// "kelvin/gateways/{gateway}/alerts/{rule}/{subject}", with the preconditions of silence_topic().
std::string alert_state_topic(std::string_view gateway, std::string_view rule, std::string_view subject);
// The peers' topics, for subscribing: "kelvin/gateways/+/presence", "kelvin/gateways/+/consumed",
// "kelvin/gateways/+/rules/+", "kelvin/gateways/+/silences/+/+" and "kelvin/gateways/+/alerts/+/+".
std::string peer_presence_filter();
std::string peer_consumed_filter();
std::string peer_rules_filter();
std::string peer_silences_filter();
std::string peer_alert_states_filter();

struct ParsedGatewayTopic {
  std::string_view gateway;  // a view into the parsed topic
  GatewayTopic topic;
  // GatewayTopic::rule, ::silence and ::alert: the rule's name as the topic has it (checked by the reader)
  std::string_view rule{};
  // GatewayTopic::silence and ::alert: the subject as the topic has it (checked by the reader)
  std::string_view subject{};
};
// Splits a topic of the form above; nullopt for anything else, including a gateway that is not a
// service name (kelvin/core/identity.hpp), a rules topic without exactly one non-empty level after
// "rules/", and a silences or alerts topic without exactly two after "silences/" or "alerts/".
std::optional<ParsedGatewayTopic> parse_gateway_topic(std::string_view topic);

// ---- Presence ------------------------------------------------------------------------------------

inline constexpr std::size_t kMaxPresenceBytes = 256;
inline constexpr std::size_t kMaxSessionBytes = 64;

// A gateway's presence. `session` tells one connection of a gateway from its previous ones: an
// opaque token of 1 to kMaxSessionBytes lowercase letters and digits, present exactly when online.
struct Presence {
  bool online = false;
  std::string session;
  bool operator==(const Presence&) const = default;
};

// {"state":"online","session":"..."} or {"state":"offline"}. Precondition: an online presence's
// session is a token as above; an offline one has none.
std::string encode_presence(const Presence& presence);
// The offline presence, the gateway's last will (retained).
std::string offline_presence_payload();
// Errc::invalid_argument for anything but one of the two forms above: more than kMaxPresenceBytes,
// not JSON (a raw NUL included), a member given twice, another member, wrong types or values.
Result<Presence> decode_presence(std::string_view payload);

// ---- Consumed notices ----------------------------------------------------------------------------

// Seqs first..last, both included.
struct SeqRun {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  bool operator==(const SeqRun&) const = default;
};

struct ConsumedNotice {
  struct Device {
    std::string device_id;
    std::uint64_t through = 0;  // the sender's watermark: every seq up to it is consumed
    std::vector<SeqRun> above;  // consumed runs above it, ascending
    // Commit notices only: the seqs the commit stored (at or below "through" too), ascending. A
    // receiver that stored one of them as well gives its copy up if its identity sorts after the
    // sender's (a resend raced the original to both), so the reading stays stored once.
    std::vector<SeqRun> stored;
    bool operator==(const Device&) const = default;
  };
  bool full = false;  // a part of the sender's full summary
  bool last = true;   // the final part of a full summary (always true for a commit notice)
  std::vector<Device> devices;
  bool operator==(const ConsumedNotice&) const = default;
};

// Limits of a notice (the broker's message_size_limit is larger): a receiver refuses more.
inline constexpr std::size_t kMaxNoticeBytes = 256 * 1024;
inline constexpr std::size_t kNoticeTargetBytes = 32 * 1024;  // a summary is split into parts of about this size
inline constexpr std::size_t kMaxRunsPerDevice = 1000;

// Precondition: device ids are valid and distinct. Decoding gives the devices in id order.
std::string encode_notice(const ConsumedNotice& notice);
// Splits notices into parts of about kNoticeTargetBytes, in device order. A full summary has
// full = true on each part and last = true on the final one only (an empty summary is one empty
// final part); commit notices (full = false) are each complete, last = true.
std::vector<std::string> encode_parts(std::vector<ConsumedNotice::Device> devices, bool full);
std::vector<std::string> encode_summary(std::vector<ConsumedNotice::Device> devices);
// Errc::invalid_argument with the reason for anything but a well-formed notice: size, not JSON (a
// raw NUL included), a member given twice (a device among them), JSON shape, device ids (the device
// id grammar), seqs above 2^63-1, runs not ascending and disjoint above `through`, more than
// kMaxRunsPerDevice runs.
Result<ConsumedNotice> decode_notice(std::string_view payload);

// ---- Shared alert rules --------------------------------------------------------------------------

inline constexpr std::size_t kMaxSharedRuleBytes = 128 * 1024;  // a rule names at most 1,000 devices
inline constexpr std::size_t kMaxSharedUserBytes = 256;
// The latest time a version may carry: the end of year 9999 UTC, in Unix ms. A receiver stamps its
// own next change after the version's time; the bound keeps that sum far from overflowing.
inline constexpr std::int64_t kMaxSharedTimeMs = 253'402'300'799'999;

// One version of a rule operators added through a gateway's API (docs/scaling.md, "Alert rules"):
// either the rule as it stands, or the fact that it was removed. The gateways of a share group each
// keep the newest version of every rule name (gateway/alert_rule_book.hpp says which is newest).
struct SharedRule {
  std::string name{};
  // The rule's definition: a compact JSON object, as the API gives the rule (it holds the name
  // too). nullopt: the rule was removed.
  std::optional<std::string> definition{};
  std::string created_by{};  // an added rule: who added it first, and when
  std::int64_t created_ms = 0;
  std::string changed_by{};  // who added, changed or removed it last, and when
  std::int64_t changed_ms = 0;
  bool removed() const { return !definition.has_value(); }
  bool operator==(const SharedRule&) const = default;
};

// {"name":..,"rule":{definition},"created_by":..,"created_ms":..,"updated_by":..,"updated_ms":..}
// or {"name":..,"removed_by":..,"removed_ms":..}. Precondition: the definition is a JSON object's
// text, users are 1 to kMaxSharedUserBytes bytes, times are 0 to kMaxSharedTimeMs.
std::string encode_shared_rule(const SharedRule& rule);
// Errc::invalid_argument with the reason for anything but one of the two forms: size, not JSON, a
// member given twice or missing or unknown, a "rule" that is not an object, an empty or too long
// user, a time outside 0 to kMaxSharedTimeMs. The rule's name and definition are the reader's to check.
Result<SharedRule> decode_shared_rule(std::string_view payload);

// ---- Shared silences -----------------------------------------------------------------------------

inline constexpr std::size_t kMaxSharedSilenceBytes = 4 * 1024;
inline constexpr std::size_t kMaxSharedCommentBytes = 800;  // the API's 200 characters, 4 bytes each at most

// One version of an operator's silence (docs/alerts.md, "Silences"): the notifications of `rule` on
// `subject` are held back until `until_ms`. A lift is a version too, whose end is the time it was
// lifted. The gateways of a share group each keep the newest version of every (rule, subject)
// (store::supersedes says which is newest).
struct SharedSilence {
  std::string rule{};
  std::string subject{};
  std::int64_t until_ms = 0;
  std::string set_by{};  // who set it, changed its end or lifted it last, and when
  std::int64_t set_ms = 0;
  std::string comment{};  // why; may be empty
  bool operator==(const SharedSilence&) const = default;
};

// {"rule":..,"subject":..,"until_ms":..,"set_by":..,"set_ms":..,"comment":..}. Precondition: the
// user is 1 to kMaxSharedUserBytes bytes, times are 0 to kMaxSharedTimeMs, the comment at most
// kMaxSharedCommentBytes of one line.
std::string encode_shared_silence(const SharedSilence& silence);
// Errc::invalid_argument with the reason for anything but that form: size, not JSON, a member given
// twice or missing or unknown, an empty or too long user, a time outside 0 to kMaxSharedTimeMs, a
// comment too long or holding a control character. The rule and subject are the reader's to check.
Result<SharedSilence> decode_shared_silence(std::string_view payload);

// ---- Shared alert states -------------------------------------------------------------------------

inline constexpr std::size_t kMaxSharedAlertStateBytes = 8 * 1024;
inline constexpr std::size_t kMaxSharedWebhooks = 32;
inline constexpr std::size_t kMaxSharedWebhookNameBytes = 64;

// A gateway's newest alert of a rule on a subject (docs/alerts.md, "Several gateways"): the
// gateways of a share group each raise their own alerts of the conditions they all see (a device
// offline, a certificate expiring); with these, the one whose alert started the group's firing
// notifies it, and the one whose alert ended it notifies that (gateway/notification_referee.hpp).
struct SharedAlertState {
  std::string rule{};
  std::string subject{};
  std::int64_t started_ms = 0;
  std::optional<std::int64_t> ended_ms{};  // nullopt: still firing
  std::vector<std::string> webhooks{};     // the names of the webhooks the sender notifies
  bool operator==(const SharedAlertState&) const = default;
};

// {"rule":..,"subject":..,"started_ms":..,"ended_ms":..|null,"webhooks":[..]}. Preconditions:
// times from 0 to kMaxSharedTimeMs, an end not before the start, at most kMaxSharedWebhooks names
// of 1 to kMaxSharedWebhookNameBytes bytes.
std::string encode_shared_alert_state(const SharedAlertState& state);
// Errc::invalid_argument with the reason for anything but that form: size, not JSON, a member given
// twice or missing or unknown, a time outside 0 to kMaxSharedTimeMs, an end before the start, too
// many or malformed webhook names. The rule and subject are the reader's to check.
Result<SharedAlertState> decode_shared_alert_state(std::string_view payload);

}  // namespace kelvin::proto
