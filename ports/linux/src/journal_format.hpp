#pragma once
// The line format of the outbox journal (documented in file_outbox_journal.hpp) and the state a
// sequence of records builds. Private to ports/linux; replay and live appends both go through
// JournalState so they can never disagree about what a record means.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "kelvin/core/result.hpp"
#include "kelvin/device/outbox_journal.hpp"
#include "kelvin/proto/telemetry.hpp"

namespace kelvin::linux_port::journal {

inline constexpr std::string_view kMagic = "kelvin-outbox";
inline constexpr std::string_view kVersion = "1";

// CRC-32 (IEEE 802.3, reflected 0xEDB88320, as zlib's crc32()).
std::uint32_t crc32(std::string_view bytes);

struct Header {
  std::uint64_t next_seq = 1;
  std::uint64_t acked_seq = 0;
  std::uint64_t dropped_total = 0;
};
struct Ack {
  std::uint64_t acked_seq = 0;
};
struct Drop {
  std::uint64_t up_to_seq = 0;
  std::uint64_t dropped_total = 0;
};
using Record = std::variant<Header, proto::Reading, Ack, Drop>;

// One complete line, "\n" included.
std::string encode(const Record& record);

// A line without its "\n". nullopt: the checksum does not match (a torn or damaged line).
// Error (Errc::corrupt, message without position): the checksum matches but the content is not a
// valid record, which no torn write can produce.
Result<std::optional<Record>> decode(std::string_view line);

// What the records so far add up to.
class JournalState {
 public:
  void apply(const Header& header);
  void apply(const proto::Reading& reading);  // a repeat of the last seq replaces it
  void apply(const Ack& ack);
  void apply(const Drop& drop);

  std::uint64_t next_seq() const { return next_seq_; }
  std::uint64_t acked_seq() const { return acked_seq_; }
  std::uint64_t dropped_total() const { return dropped_total_; }
  std::uint64_t last_reading_seq() const { return last_reading_seq_; }
  const std::deque<proto::Reading>& pending() const { return pending_; }
  Header header() const { return Header{next_seq_, acked_seq_, dropped_total_}; }
  device::OutboxSnapshot snapshot() const;

 private:
  void forget_through(std::uint64_t seq);

  std::uint64_t next_seq_ = 1;
  std::uint64_t acked_seq_ = 0;
  std::uint64_t dropped_total_ = 0;
  std::uint64_t last_reading_seq_ = 0;  // highest seq of any reading record, 0 if none
  std::deque<proto::Reading> pending_;  // ascending seq, all > acked_seq_
};

}  // namespace kelvin::linux_port::journal
