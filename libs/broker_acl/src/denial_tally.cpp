#include "kelvin/broker_acl/denial_tally.hpp"

namespace kelvin::broker_acl {

std::string escape_for_log(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '\'' && c != '\\') {
      out.push_back(c);
    } else {
      out.append("\\x");
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    }
  }
  return out;
}

void DenialTally::record(std::string_view client_id, Access access, std::string_view topic) {
  Key key{std::string(client_id), access};
  auto found = entries_.find(key);
  if (found == entries_.end()) {
    if (entries_.size() >= kMaxClients) {
      ++further_denials_;
      return;
    }
    found = entries_.emplace(std::move(key), Entry{}).first;
  }
  ++found->second.count;
  found->second.last_topic = escape_for_log(topic.substr(0, kMaxTopicBytes));
}

std::vector<std::string> DenialTally::take_report(std::size_t max_lines) {
  std::vector<std::string> lines;
  std::uint64_t further = further_denials_;
  for (const auto& [key, entry] : entries_) {
    if (lines.size() >= max_lines) {
      further += entry.count;
      continue;
    }
    const bool publish = key.access == Access::write;
    lines.push_back(std::string(kLinePrefix) + std::to_string(entry.count) + " (client '" +
                    escape_for_log(key.client_id) + (publish ? "' may not publish to '" : "' may not receive from '") +
                    entry.last_topic + "')");
  }
  if (further > 0) lines.push_back(std::string(kLinePrefix) + std::to_string(further) + " (further clients)");
  entries_.clear();
  further_denials_ = 0;
  return lines;
}

}  // namespace kelvin::broker_acl
