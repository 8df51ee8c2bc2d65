#include "journal_format.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <vector>

namespace kelvin::linux_port::journal {
namespace {

constexpr char kSeparator = '\t';
constexpr std::string_view kMissing = "-";

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1u) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto kCrcTable = make_crc_table();

std::string checksum_hex(std::string_view fields) {
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(crc32(fields)));
  return hex;
}

std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> parts;
  for (;;) {
    auto at = text.find(kSeparator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

template <class Number>
bool parse_number(std::string_view text, Number& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

template <class Number>
void append_number(std::string& out, Number value) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest round-trip form
  out.append(buffer, end);
}

struct Encoder {
  std::string fields;
  void operator()(const Header& h) {
    fields = kMagic;
    fields += kSeparator;
    fields += kVersion;
    for (std::uint64_t n : {h.next_seq, h.acked_seq, h.dropped_total}) {
      fields += kSeparator;
      append_number(fields, n);
    }
  }
  void operator()(const proto::Reading& r) {
    fields = "r";
    fields += kSeparator;
    append_number(fields, r.seq);
    fields += kSeparator;
    append_number(fields, r.ts_ms);
    for (const auto& value : r.values) {
      fields += kSeparator;
      if (value) {
        append_number(fields, *value);
      } else {
        fields += kMissing;
      }
    }
  }
  void operator()(const Ack& a) {
    fields = "a";
    fields += kSeparator;
    append_number(fields, a.acked_seq);
  }
  void operator()(const Drop& d) {
    fields = "d";
    fields += kSeparator;
    append_number(fields, d.up_to_seq);
    fields += kSeparator;
    append_number(fields, d.dropped_total);
  }
};

Error bad(std::string_view why) {
  return make_error(Errc::corrupt, std::string(why));
}

Result<std::optional<Record>> decode_fields(const std::vector<std::string_view>& parts) {
  const std::string_view kind = parts[0];
  if (kind == kMagic) {
    if (parts.size() != 5) return bad("malformed header");
    if (parts[1] != kVersion) return bad("format version " + std::string(parts[1]) + " is not supported");
    Header h;
    if (!parse_number(parts[2], h.next_seq) || !parse_number(parts[3], h.acked_seq) ||
        !parse_number(parts[4], h.dropped_total) || h.next_seq == 0) {
      return bad("malformed header");
    }
    return std::optional<Record>(h);
  }
  if (kind == "r") {
    if (parts.size() != 3 + proto::kQuantityCount) return bad("a reading record has the wrong number of fields");
    proto::Reading r;
    if (!parse_number(parts[1], r.seq) || r.seq == 0) return bad("invalid seq in a reading record");
    if (!parse_number(parts[2], r.ts_ms)) return bad("invalid timestamp in a reading record");
    for (std::size_t i = 0; i < proto::kQuantityCount; ++i) {
      if (parts[3 + i] == kMissing) continue;
      double value = 0;
      if (!parse_number(parts[3 + i], value)) return bad("invalid value in a reading record");
      r.values[i] = value;
    }
    return std::optional<Record>(r);
  }
  if (kind == "a") {
    Ack a;
    if (parts.size() != 2 || !parse_number(parts[1], a.acked_seq)) return bad("malformed ack record");
    return std::optional<Record>(a);
  }
  if (kind == "d") {
    Drop d;
    if (parts.size() != 3 || !parse_number(parts[1], d.up_to_seq) || !parse_number(parts[2], d.dropped_total)) {
      return bad("malformed drop record");
    }
    return std::optional<Record>(d);
  }
  return bad("unknown record type");
}

}  // namespace

std::uint32_t crc32(std::string_view bytes) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (char ch : bytes) c = kCrcTable[(c ^ static_cast<unsigned char>(ch)) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::string encode(const Record& record) {
  Encoder encoder;
  std::visit(encoder, record);
  std::string line = std::move(encoder.fields);
  const std::string sum = checksum_hex(line);
  line += kSeparator;
  line += sum;
  line += '\n';
  return line;
}

Result<std::optional<Record>> decode(std::string_view line) {
  auto at = line.rfind(kSeparator);
  if (at == std::string_view::npos) return std::optional<Record>();
  const std::string_view fields = line.substr(0, at);
  if (checksum_hex(fields) != line.substr(at + 1)) return std::optional<Record>();
  return decode_fields(split(fields));
}

void JournalState::apply(const Header& header) {
  next_seq_ = std::max(next_seq_, header.next_seq);
  acked_seq_ = std::max(acked_seq_, header.acked_seq);
  dropped_total_ = std::max(dropped_total_, header.dropped_total);
}

void JournalState::apply(const proto::Reading& reading) {
  // The outbox reuses a seq whose write failed; if that write reached the disk after all, the
  // later record is the one the outbox accepted.
  if (!pending_.empty() && pending_.back().seq == reading.seq) pending_.pop_back();
  if (reading.seq > acked_seq_) pending_.push_back(reading);
  last_reading_seq_ = std::max(last_reading_seq_, reading.seq);
  next_seq_ = std::max(next_seq_, reading.seq + 1);
}

void JournalState::apply(const Ack& ack) {
  acked_seq_ = std::max(acked_seq_, ack.acked_seq);
  forget_through(acked_seq_);
}

void JournalState::apply(const Drop& drop) {
  forget_through(drop.up_to_seq);
  dropped_total_ = std::max(dropped_total_, drop.dropped_total);
}

void JournalState::forget_through(std::uint64_t seq) {
  while (!pending_.empty() && pending_.front().seq <= seq) pending_.pop_front();
}

device::OutboxSnapshot JournalState::snapshot() const {
  device::OutboxSnapshot snapshot;
  snapshot.next_seq = next_seq_;
  snapshot.acked_seq = acked_seq_;
  snapshot.dropped_total = dropped_total_;
  snapshot.pending.assign(pending_.begin(), pending_.end());
  return snapshot;
}

}  // namespace kelvin::linux_port::journal
