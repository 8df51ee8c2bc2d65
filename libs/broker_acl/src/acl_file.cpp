#include "kelvin/broker_acl/acl_file.hpp"

#include <cstddef>

namespace kelvin::broker_acl {
namespace {

constexpr std::string_view kBlanks = " \t\r";

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kBlanks);
  return text.substr(first, last - first + 1);
}

// Splits off the first word (up to a blank) of `text`, leaving the rest in `text`.
std::string_view take_word(std::string_view& text) {
  text = trim(text);
  const auto end = text.find_first_of(kBlanks);
  const std::string_view word = text.substr(0, end);
  text = end == std::string_view::npos ? std::string_view() : trim(text.substr(end));
  return word;
}

// Calls visit(level, is_last) for each `/`-separated level of `text`, in order, while it returns
// true; whether every call did.
template <class Visit>
bool every_level(std::string_view text, Visit visit) {
  std::size_t start = 0;
  for (;;) {
    const auto slash = text.find('/', start);
    const bool last = slash == std::string_view::npos;
    if (!visit(text.substr(start, last ? slash : slash - start), last)) return false;
    if (last) return true;
    start = slash + 1;
  }
}

// Mosquitto's check of a subscription filter: `+` and `#` only as whole levels, `#` only last.
bool is_valid_filter(std::string_view filter) {
  return !filter.empty() && every_level(filter, [](std::string_view level, bool last) {
    if (level.find_first_of("+#") != std::string_view::npos && level.size() != 1) return false;
    return level != "#" || last;
  });
}

// `[access] <filter>` after `topic` or `pattern`; nullopt with `error` set when malformed.
std::optional<AclRule> read_rule(std::string_view rest, std::string& error) {
  std::string_view access = take_word(rest);
  std::string_view filter = rest;
  if (filter.empty()) {  // no access word: the filter alone, read and write
    filter = access;
    access = "readwrite";
  }
  AclRule rule;
  if (access == "read") {
    rule.read = true;
  } else if (access == "write") {
    rule.write = true;
  } else if (access == "readwrite") {
    rule.read = rule.write = true;
  } else if (access == "deny") {
    rule.deny = true;
  } else {
    error = "unknown access '" + std::string(access) + "' (read, write, readwrite or deny)";
    return std::nullopt;
  }
  if (!is_valid_filter(filter)) {
    error = "invalid topic filter '" + std::string(filter) + "'";
    return std::nullopt;
  }
  rule.filter = std::string(filter);
  return rule;
}

// As Mosquitto lists them: a deny rule goes to the front (the last one read is judged first), any
// other to the back.
void add_rule(std::vector<AclRule>& rules, AclRule rule) {
  if (rule.deny) {
    rules.insert(rules.begin(), std::move(rule));
  } else {
    rules.push_back(std::move(rule));
  }
}

bool grants(const AclRule& rule, Access access) {
  return access == Access::read ? rule.read : rule.write;
}

// The pattern with its whole `%u` and `%c` levels replaced, as Mosquitto substitutes them.
void substitute(std::string_view pattern, std::string_view username, std::string_view client_id, std::string& out) {
  out.clear();
  every_level(pattern, [&](std::string_view level, bool last) {
    out.append(level == "%u" ? username : level == "%c" ? client_id : level);
    if (!last) out.push_back('/');
    return true;
  });
}

}  // namespace

AclParse parse_acl_file(std::string_view text) {
  AclFile acl;
  std::vector<AclRule>* user = nullptr;  // the rules of the latest `user` line
  std::size_t number = 0;
  auto fail = [&number](const std::string& what) {
    return AclParse{std::nullopt, "line " + std::to_string(number) + ": " + what};
  };
  while (!text.empty()) {
    ++number;
    const auto end = text.find('\n');
    std::string_view line = trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (line.empty() || line.front() == '#') continue;
    const std::string_view keyword = take_word(line);
    if (keyword == "user") {
      if (line.empty()) return fail("'user' without a name");
      user = &acl.user_rules[std::string(line)];
    } else if (keyword == "topic" || keyword == "pattern") {
      std::string error;
      auto rule = read_rule(line, error);
      if (!rule) return fail(error);
      if (keyword == "pattern") {
        add_rule(acl.patterns, std::move(*rule));
      } else if (user) {
        add_rule(*user, std::move(*rule));
      } else {
        return fail("a 'topic' line before any 'user' line (rules for anonymous clients are not supported)");
      }
    } else {
      return fail("unknown keyword '" + std::string(keyword) + "' (user, topic or pattern)");
    }
  }
  return AclParse{std::move(acl), {}};
}

bool allows(const AclFile& acl, Access access, const char* topic, const char* username, const char* client_id,
            TopicMatcher matches) {
  if (!topic || !client_id) return false;
  const std::string_view topic_text(topic);
  if (username) {
    if (auto found = acl.user_rules.find(std::string_view(username)); found != acl.user_rules.end()) {
      for (const AclRule& rule : found->second) {
        // A `$` topic is matched only by a rule that starts with `$` too.
        if (topic_text.starts_with('$') && !rule.filter.starts_with('$')) continue;
        if (!matches(rule.filter.c_str(), topic)) continue;
        if (rule.deny) return false;
        if (grants(rule, access)) return true;
      }
    }
  }
  if (acl.patterns.empty()) return false;
  const std::string_view user_text = username ? std::string_view(username) : std::string_view();
  const std::string_view id_text(client_id);
  if (user_text.find_first_of("+#") != std::string_view::npos ||
      id_text.find_first_of("+#") != std::string_view::npos) {
    return false;
  }
  // The broker is single-threaded, but a buffer per thread keeps this safe for any caller.
  thread_local std::string filter;
  for (const AclRule& rule : acl.patterns) {
    if (!username && rule.filter.find("%u") != std::string::npos) continue;
    substitute(rule.filter, user_text, id_text, filter);
    if (!matches(filter.c_str(), topic)) continue;
    if (rule.deny) return false;
    if (grants(rule, access)) return true;
  }
  return false;
}

}  // namespace kelvin::broker_acl
