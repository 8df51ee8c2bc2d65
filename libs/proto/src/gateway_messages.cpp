#include "kelvin/proto/gateway_messages.hpp"

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <variant>

#include "kelvin/core/identity.hpp"
#include "kelvin/proto/json_text.hpp"
#include "strict_json.hpp"

namespace kelvin::proto {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kPresenceLeaf = "presence";
constexpr std::string_view kConsumedLeaf = "consumed";
constexpr std::string_view kRulesLevel = "rules/";
constexpr std::string_view kSilencesLevel = "silences/";
constexpr std::string_view kAlertsLevel = "alerts/";
constexpr std::uint64_t kMaxSeq = 9'223'372'036'854'775'807ULL;  // SQLite's integers are signed

std::string gateway_topic(std::string_view gateway, std::string_view leaf) {
  std::string out(kGatewayTopicPrefix);
  out += gateway;
  out += '/';
  out += leaf;
  return out;
}

bool is_session_token(std::string_view session) {
  if (session.empty() || session.size() > kMaxSessionBytes) return false;
  for (char c : session) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

Json runs_json(const std::vector<SeqRun>& runs) {
  Json out = Json::array();
  for (const auto& run : runs) out.push_back(Json::array({run.first, run.last}));
  return out;
}

Json device_json(const ConsumedNotice::Device& device) {
  Json out{{"through", device.through}, {"above", runs_json(device.above)}};
  if (!device.stored.empty()) out["stored"] = runs_json(device.stored);
  return out;
}

std::optional<std::uint64_t> seq_of(const Json& value) {
  const auto* seq = value.get_ptr<const Json::number_unsigned_t*>();
  if (seq == nullptr || *seq > kMaxSeq) return std::nullopt;
  return *seq;
}

// The member `name` of `object` (an object), or nullptr.
const Json* member(const Json& object, std::string_view name) {
  const auto found = object.find(name);
  return found == object.end() ? nullptr : &*found;
}

// Runs must be ascending and neither overlap nor touch: the first starts at `min_first` or later,
// each next one at least two past the previous one's end. The reason when they are not.
std::optional<std::string> read_runs(const Json& runs, std::uint64_t min_first, std::vector<SeqRun>& out) {
  if (!runs.is_array() || runs.size() > kMaxRunsPerDevice) {
    return "runs must be an array of at most " + std::to_string(kMaxRunsPerDevice);
  }
  out.reserve(runs.size());
  for (const auto& run : runs) {
    if (!run.is_array() || run.size() != 2) return "a run is not [first, last]";
    const auto first = seq_of(run[0]);
    const auto last = seq_of(run[1]);
    if (!first || !last || *first > *last || *first < min_first) {
      return "runs must be ascending and disjoint, \"above\" ones beyond \"through\" + 1";
    }
    out.push_back(SeqRun{*first, *last});
    min_first = *last + 2;  // seqs stop at 2^63-1: no overflow
  }
  return std::nullopt;
}

// One device's entry of a notice; the reason when it is malformed.
std::optional<std::string> read_device(const Json& entry, ConsumedNotice::Device& device) {
  const Json* through = entry.is_object() ? member(entry, "through") : nullptr;
  const Json* above = entry.is_object() ? member(entry, "above") : nullptr;
  if (through == nullptr || above == nullptr) return "needs \"through\" and an array \"above\"";
  const auto watermark = seq_of(*through);
  if (!watermark) return "\"through\" is not a seq";
  device.through = *watermark;
  if (auto problem = read_runs(*above, device.through + 2, device.above)) return problem;
  if (const Json* stored = member(entry, "stored")) return read_runs(*stored, 1, device.stored);
  return std::nullopt;
}

// `payload` as a JSON object, read strictly (detail::parse_strict_json), or the reason it is not
// one: larger than `max_bytes`, not JSON, or another JSON value.
std::variant<Json, std::string> read_object(std::string_view payload, std::size_t max_bytes) {
  if (payload.size() > max_bytes) return "larger than " + std::to_string(max_bytes) + " bytes";
  auto parsed = detail::parse_strict_json(payload);
  if (auto* refusal = std::get_if<detail::JsonRefusal>(&parsed)) return std::move(refusal->detail);
  if (!std::get<Json>(parsed).is_object()) return std::string("not a JSON object");
  return std::move(std::get<Json>(parsed));
}

// Whether `value` is a time a shared message may carry: a whole number from 0 to kMaxSharedTimeMs.
bool is_shared_time(const Json* value) {
  return value != nullptr && value->is_number_integer() && value->get<std::int64_t>() >= 0 &&
         value->get<std::int64_t>() <= kMaxSharedTimeMs;
}

// Reads each named string member of `document` into its target; the name of the first one missing
// or not a string.
std::optional<std::string> read_strings(const Json& document,
                                        std::initializer_list<std::pair<const char*, std::string*>> members) {
  for (const auto& [name, text] : members) {
    const Json* value = member(document, name);
    if (value == nullptr || !value->is_string()) return name;
    *text = value->get<std::string>();
  }
  return std::nullopt;
}

// Appends the members "<what>_by" (a user) and "<what>_ms" (a time) of a shared version.
void append_change(std::string_view what, std::string_view user, std::int64_t ms, std::string& out) {
  out += ",\"";
  out += what;
  out += "_by\":";
  append_json_string(user, out);
  out += ",\"";
  out += what;
  out += "_ms\":" + std::to_string(ms);
}

// Reads the members "<what>_by" (a user of 1 to kMaxSharedUserBytes bytes) and "<what>_ms" (a time
// from 0 to kMaxSharedTimeMs) of `document`; false when either is missing or out of bounds.
bool read_change(const Json& document, std::string_view what, std::string& user, std::int64_t& ms) {
  const Json* by = member(document, std::string(what) + "_by");
  const Json* at = member(document, std::string(what) + "_ms");
  const auto* by_text = by == nullptr ? nullptr : by->get_ptr<const Json::string_t*>();
  if (by_text == nullptr || by_text->empty() || by_text->size() > kMaxSharedUserBytes) return false;
  if (!is_shared_time(at)) return false;
  user = *by_text;
  ms = at->get<std::int64_t>();
  return true;
}

// What read_change() asks of a change, for a refusal's message.
std::string change_requirement() {
  return " a user of 1 to " + std::to_string(kMaxSharedUserBytes) + " bytes and a time from 0 to " +
         std::to_string(kMaxSharedTimeMs);
}

// Whether `text` holds a control character (NUL, a line break, DEL ...).
bool has_control_characters(std::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return true;
  }
  return false;
}

}  // namespace

std::string presence_topic(std::string_view gateway) {
  return gateway_topic(gateway, kPresenceLeaf);
}
std::string consumed_topic(std::string_view gateway) {
  return gateway_topic(gateway, kConsumedLeaf);
}
std::string rule_topic(std::string_view gateway, std::string_view rule) {
  return gateway_topic(gateway, std::string(kRulesLevel) + std::string(rule));
}
std::string silence_topic(std::string_view gateway, std::string_view rule, std::string_view subject) {
  return gateway_topic(gateway, std::string(kSilencesLevel) + std::string(rule) + "/" + std::string(subject));
}
std::string alert_state_topic(std::string_view gateway, std::string_view rule, std::string_view subject) {
  return gateway_topic(gateway, std::string(kAlertsLevel) + std::string(rule) + "/" + std::string(subject));
}
std::string peer_presence_filter() {
  return gateway_topic("+", kPresenceLeaf);
}
std::string peer_consumed_filter() {
  return gateway_topic("+", kConsumedLeaf);
}
std::string peer_rules_filter() {
  return rule_topic("+", "+");
}
std::string peer_silences_filter() {
  return silence_topic("+", "+", "+");
}
std::string peer_alert_states_filter() {
  return alert_state_topic("+", "+", "+");
}

std::optional<ParsedGatewayTopic> parse_gateway_topic(std::string_view topic) {
  if (!topic.starts_with(kGatewayTopicPrefix)) return std::nullopt;
  topic.remove_prefix(kGatewayTopicPrefix.size());
  const auto slash = topic.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view gateway = topic.substr(0, slash);
  const std::string_view leaf = topic.substr(slash + 1);
  if (!validate_service_name(gateway)) return std::nullopt;
  if (leaf == kPresenceLeaf) return ParsedGatewayTopic{gateway, GatewayTopic::presence};
  if (leaf == kConsumedLeaf) return ParsedGatewayTopic{gateway, GatewayTopic::consumed};
  if (leaf.starts_with(kRulesLevel)) {
    const std::string_view rule = leaf.substr(kRulesLevel.size());
    if (rule.empty() || rule.find('/') != std::string_view::npos) return std::nullopt;
    return ParsedGatewayTopic{gateway, GatewayTopic::rule, rule};
  }
  for (const auto& [level, kind] :
       {std::pair{kSilencesLevel, GatewayTopic::silence}, std::pair{kAlertsLevel, GatewayTopic::alert}}) {
    if (!leaf.starts_with(level)) continue;
    const std::string_view levels = leaf.substr(level.size());
    const auto between = levels.find('/');
    if (between == std::string_view::npos) return std::nullopt;
    const std::string_view rule = levels.substr(0, between);
    const std::string_view subject = levels.substr(between + 1);
    if (rule.empty() || subject.empty() || subject.find('/') != std::string_view::npos) return std::nullopt;
    return ParsedGatewayTopic{gateway, kind, rule, subject};
  }
  return std::nullopt;
}

std::string encode_presence(const Presence& presence) {
  if (!presence.online) return R"({"state":"offline"})";
  std::string out = R"({"state":"online","session":)";
  append_json_string(presence.session, out);
  out += '}';
  return out;
}

std::string offline_presence_payload() {
  return encode_presence(Presence{});
}

Result<Presence> decode_presence(std::string_view payload) {
  auto refuse = [](const std::string& why) { return make_error(Errc::invalid_argument, "presence: " + why); };
  auto parsed = read_object(payload, kMaxPresenceBytes);
  if (auto* why = std::get_if<std::string>(&parsed)) return refuse(*why);
  const Json& document = std::get<Json>(parsed);
  const Json* state = member(document, "state");
  const auto* state_name = state == nullptr ? nullptr : state->get_ptr<const Json::string_t*>();
  if (state_name == nullptr || (*state_name != "online" && *state_name != "offline")) {
    return refuse("'state' must be \"online\" or \"offline\"");
  }
  Presence presence;
  presence.online = *state_name == "online";
  if (!presence.online) {
    if (document.size() != 1) return refuse("an offline presence has only 'state'");
    return presence;
  }
  const Json* session = member(document, "session");
  const auto* token = session == nullptr ? nullptr : session->get_ptr<const Json::string_t*>();
  if (token == nullptr || !is_session_token(*token)) {
    return refuse("'session' must be 1 to " + std::to_string(kMaxSessionBytes) + " lowercase letters or digits");
  }
  if (document.size() != 2) return refuse("an online presence has only 'state' and 'session'");
  presence.session = *token;
  return presence;
}

std::string encode_notice(const ConsumedNotice& notice) {
  Json devices = Json::object();
  for (const auto& device : notice.devices) devices[device.device_id] = device_json(device);
  return Json{{"full", notice.full}, {"last", notice.last}, {"devices", std::move(devices)}}.dump();
}

std::vector<std::string> encode_parts(std::vector<ConsumedNotice::Device> devices, bool full) {
  std::vector<std::string> parts;
  ConsumedNotice part;
  part.full = full;
  part.last = !full;  // only a summary has a final part; every commit notice is complete
  std::size_t part_bytes = 0;
  for (auto& device : devices) {
    const std::size_t bytes = device.device_id.size() + 40 + 24 * (device.above.size() + device.stored.size());
    if (!part.devices.empty() && part_bytes + bytes > kNoticeTargetBytes) {
      parts.push_back(encode_notice(part));
      part.devices.clear();
      part_bytes = 0;
    }
    part.devices.push_back(std::move(device));
    part_bytes += bytes;
  }
  part.last = true;
  parts.push_back(encode_notice(part));
  return parts;
}

std::vector<std::string> encode_summary(std::vector<ConsumedNotice::Device> devices) {
  return encode_parts(std::move(devices), true);
}

Result<ConsumedNotice> decode_notice(std::string_view payload) {
  auto refuse = [](const std::string& why) { return make_error(Errc::invalid_argument, "consumed notice: " + why); };
  auto parsed = read_object(payload, kMaxNoticeBytes);
  if (auto* why = std::get_if<std::string>(&parsed)) return refuse(*why);
  const Json& document = std::get<Json>(parsed);
  const Json* full = member(document, "full");
  const Json* last = member(document, "last");
  const Json* devices = member(document, "devices");
  const auto* full_flag = full == nullptr ? nullptr : full->get_ptr<const Json::boolean_t*>();
  const auto* last_flag = last == nullptr ? nullptr : last->get_ptr<const Json::boolean_t*>();
  const auto* entries = devices == nullptr ? nullptr : devices->get_ptr<const Json::object_t*>();
  if (full_flag == nullptr || last_flag == nullptr || entries == nullptr) {
    return refuse("needs boolean \"full\" and \"last\" and an object \"devices\"");
  }
  ConsumedNotice notice;
  notice.full = *full_flag;
  notice.last = *last_flag;
  notice.devices.reserve(entries->size());
  for (const auto& [device_id, entry] : *entries) {
    if (!validate_device_id(device_id)) return refuse("invalid device id");
    ConsumedNotice::Device device;
    device.device_id = device_id;
    if (auto problem = read_device(entry, device)) return refuse(device_id + ": " + *problem);
    notice.devices.push_back(std::move(device));
  }
  return notice;
}

std::string encode_shared_rule(const SharedRule& rule) {
  std::string out = R"({"name":)";
  append_json_string(rule.name, out);
  if (rule.removed()) {
    append_change("removed", rule.changed_by, rule.changed_ms, out);
  } else {
    out += R"(,"rule":)";
    out += *rule.definition;
    append_change("created", rule.created_by, rule.created_ms, out);
    append_change("updated", rule.changed_by, rule.changed_ms, out);
  }
  out += '}';
  return out;
}

Result<SharedRule> decode_shared_rule(std::string_view payload) {
  auto refuse = [](const std::string& why) { return make_error(Errc::invalid_argument, "shared rule: " + why); };
  auto parsed = read_object(payload, kMaxSharedRuleBytes);
  if (auto* why = std::get_if<std::string>(&parsed)) return refuse(*why);
  const Json& document = std::get<Json>(parsed);
  SharedRule rule;
  const Json* name = member(document, "name");
  if (name == nullptr || !name->is_string()) return refuse("needs a string \"name\"");
  rule.name = name->get<std::string>();
  const Json* definition = member(document, "rule");
  const std::string users = change_requirement();
  if (definition == nullptr) {
    if (!read_change(document, "removed", rule.changed_by, rule.changed_ms)) return refuse("a removal needs" + users);
    if (document.size() != 3) return refuse("a removal has only \"name\", \"removed_by\" and \"removed_ms\"");
    return rule;
  }
  if (!definition->is_object()) return refuse("\"rule\" is not a JSON object");
  if (!read_change(document, "created", rule.created_by, rule.created_ms) ||
      !read_change(document, "updated", rule.changed_by, rule.changed_ms)) {
    return refuse("a rule needs \"created_by\"/\"created_ms\" and \"updated_by\"/\"updated_ms\":" + users);
  }
  if (document.size() != 6) return refuse("a rule has only \"name\", \"rule\", \"created_*\" and \"updated_*\"");
  rule.definition = definition->dump();
  return rule;
}

std::string encode_shared_silence(const SharedSilence& silence) {
  std::string out = R"({"rule":)";
  append_json_string(silence.rule, out);
  out += R"(,"subject":)";
  append_json_string(silence.subject, out);
  out += R"(,"until_ms":)" + std::to_string(silence.until_ms);
  append_change("set", silence.set_by, silence.set_ms, out);
  out += R"(,"comment":)";
  append_json_string(silence.comment, out);
  out += '}';
  return out;
}

Result<SharedSilence> decode_shared_silence(std::string_view payload) {
  auto refuse = [](const std::string& why) { return make_error(Errc::invalid_argument, "shared silence: " + why); };
  auto parsed = read_object(payload, kMaxSharedSilenceBytes);
  if (auto* why = std::get_if<std::string>(&parsed)) return refuse(*why);
  const Json& document = std::get<Json>(parsed);
  if (document.size() != 6) {
    return refuse("a silence has exactly \"rule\", \"subject\", \"until_ms\", \"set_by\", \"set_ms\" and \"comment\"");
  }
  SharedSilence silence;
  if (auto missing = read_strings(
          document, {{"rule", &silence.rule}, {"subject", &silence.subject}, {"comment", &silence.comment}})) {
    return refuse("needs a string \"" + *missing + "\"");
  }
  if (silence.comment.size() > kMaxSharedCommentBytes || has_control_characters(silence.comment)) {
    return refuse("\"comment\" is one line of at most " + std::to_string(kMaxSharedCommentBytes) + " bytes");
  }
  const Json* until = member(document, "until_ms");
  if (!is_shared_time(until)) {
    return refuse("\"until_ms\" is a time from 0 to " + std::to_string(kMaxSharedTimeMs));
  }
  silence.until_ms = until->get<std::int64_t>();
  if (!read_change(document, "set", silence.set_by, silence.set_ms)) {
    return refuse("a silence needs" + change_requirement());
  }
  return silence;
}

std::string encode_shared_alert_state(const SharedAlertState& state) {
  std::string out = R"({"rule":)";
  append_json_string(state.rule, out);
  out += R"(,"subject":)";
  append_json_string(state.subject, out);
  out += R"(,"started_ms":)" + std::to_string(state.started_ms);
  out += R"(,"ended_ms":)" + (state.ended_ms ? std::to_string(*state.ended_ms) : std::string("null"));
  out += R"(,"webhooks":[)";
  for (std::size_t i = 0; i < state.webhooks.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(state.webhooks[i], out);
  }
  out += "]}";
  return out;
}

Result<SharedAlertState> decode_shared_alert_state(std::string_view payload) {
  auto refuse = [](const std::string& why) { return make_error(Errc::invalid_argument, "shared alert state: " + why); };
  auto parsed = read_object(payload, kMaxSharedAlertStateBytes);
  if (auto* why = std::get_if<std::string>(&parsed)) return refuse(*why);
  const Json& document = std::get<Json>(parsed);
  if (document.size() != 5) {
    return refuse("an alert state has exactly \"rule\", \"subject\", \"started_ms\", \"ended_ms\" and \"webhooks\"");
  }
  SharedAlertState state;
  if (auto missing = read_strings(document, {{"rule", &state.rule}, {"subject", &state.subject}})) {
    return refuse("needs a string \"" + *missing + "\"");
  }
  const Json* started = member(document, "started_ms");
  const Json* ended = member(document, "ended_ms");
  if (!is_shared_time(started) || ended == nullptr || (!ended->is_null() && !is_shared_time(ended))) {
    return refuse("\"started_ms\" is a time from 0 to " + std::to_string(kMaxSharedTimeMs) +
                  ", and \"ended_ms\" one or null");
  }
  state.started_ms = started->get<std::int64_t>();
  if (!ended->is_null()) state.ended_ms = ended->get<std::int64_t>();
  if (state.ended_ms && *state.ended_ms < state.started_ms) return refuse("it ends before it started");
  const Json* webhooks = member(document, "webhooks");
  if (webhooks == nullptr || !webhooks->is_array() || webhooks->size() > kMaxSharedWebhooks) {
    return refuse("\"webhooks\" is an array of at most " + std::to_string(kMaxSharedWebhooks) + " names");
  }
  for (const Json& name : *webhooks) {
    const auto* text = name.get_ptr<const Json::string_t*>();
    if (text == nullptr || text->empty() || text->size() > kMaxSharedWebhookNameBytes ||
        has_control_characters(*text)) {
      return refuse("a webhook's name is 1 to " + std::to_string(kMaxSharedWebhookNameBytes) + " bytes of one line");
    }
    state.webhooks.push_back(*text);
  }
  return state;
}

}  // namespace kelvin::proto
