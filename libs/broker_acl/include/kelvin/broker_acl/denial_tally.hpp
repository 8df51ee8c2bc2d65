#pragma once
// What the broker plugin's ACL refused, summed per client and access between two reports, and the
// report as the log lines the gateway counts (kelvin/gateway/broker_log.hpp), one per client and
// access, naming the last topic refused:
//
//   ACL denials: 3 (client 'sensor-01' may not publish to 'devices/sensor-02/telemetry')
//   ACL denials: 12 (client 'sensor-01' may not receive from 'devices/sensor-02/ack')
//   ACL denials: 40 (further clients)
//
// The count comes first, so a reader needs nothing after it. Client id and topic are escaped
// (anything but printable ASCII, and the quote and backslash, as \xNN) and the topic cut at
// kMaxTopicBytes: a hostile topic can neither break a line nor forge one.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/broker_acl/acl_file.hpp"

namespace kelvin::broker_acl {

class DenialTally {
 public:
  // Clients kept apart in one report; the denials of any further ones are summed in one line, so a
  // flood of client ids cannot grow the broker's memory.
  static constexpr std::size_t kMaxClients = 1000;
  static constexpr std::size_t kMaxTopicBytes = 128;
  static constexpr std::string_view kLinePrefix = "ACL denials: ";

  void record(std::string_view client_id, Access access, std::string_view topic);
  bool empty() const { return entries_.empty() && further_denials_ == 0; }

  // The lines for what was recorded since the last report, at most `max_lines` naming a client (the
  // rest summed up in one more line), and starts over.
  std::vector<std::string> take_report(std::size_t max_lines);

 private:
  struct Key {
    std::string client_id;
    Access access = Access::write;
    auto operator<=>(const Key&) const = default;
  };
  struct Entry {
    std::uint64_t count = 0;
    std::string last_topic;  // escaped and cut
  };
  std::map<Key, Entry> entries_;
  std::uint64_t further_denials_ = 0;  // of clients beyond kMaxClients
};

// `text` with every byte outside printable ASCII, and `'` and `\`, written as \xNN.
std::string escape_for_log(std::string_view text);

}  // namespace kelvin::broker_acl
