#pragma once
// The managed broker's ACL file, read and judged as Mosquitto 2.0.11 judges it (its acl_file
// check), for the broker plugin that counts what the ACL refuses (docs/gateway.md, "ACL denials").
//
// Only the grammar kelvin-gateway writes (broker_config.hpp, render_broker_acl) is accepted:
// comments, blank lines, `user <name>`, `topic [read|write|readwrite|deny] <filter>` under a user,
// and `pattern [read|write|readwrite|deny] <filter>`. Anything else is an error naming the line, so
// the plugin never judges by a file it reads differently from the broker.
//
// Standard C++ only, so the plugin (a shared object loaded into the broker) carries no other kelvin
// library.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kelvin::broker_acl {

enum class Access { read, write };

struct AclRule {
  bool deny = false;  // `deny`: refuses any access, judged before the rules that grant
  bool read = false;
  bool write = false;
  std::string filter;  // an MQTT topic filter; in a pattern, levels `%u` and `%c` are substituted
};

struct AclFile {
  std::map<std::string, std::vector<AclRule>, std::less<>> user_rules;  // `topic` lines by user
  std::vector<AclRule> patterns;                                        // `pattern` lines
};

struct AclParse {
  std::optional<AclFile> acl;
  std::string error;  // when !acl: "line N: ..."
};

AclParse parse_acl_file(std::string_view text);

// Whether `filter` matches `topic` by MQTT's rules: the broker's own mosquitto_topic_matches_sub in
// the plugin, so both judge alike.
using TopicMatcher = bool (*)(const char* filter, const char* topic);

// Mosquitto's decision for a client publishing (write) to or receiving (read) a message on `topic`:
// the user's rules, deny first, then the patterns (refused outright for a user name or client id
// holding `+` or `#`, which would turn a substitution into a wildcard); nothing matching refuses.
// `username` may be null (no pattern with `%u` applies then).
bool allows(const AclFile& acl, Access access, const char* topic, const char* username, const char* client_id,
            TopicMatcher matches);

}  // namespace kelvin::broker_acl
