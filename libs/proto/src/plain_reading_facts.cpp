// The fast path of read_telemetry_facts (telemetry_facts.hpp): readings as nearly every device
// sends them, {"seq":N,"ts":N,"values":{"temperature":X,...}} or a batch of such objects
// ({"batch":[...]}, as kelvin-agent sends even one reading), read in one pass over the bytes
// without a general JSON parser. It is a shortcut, never a second grammar: it answers only for
// text on which it agrees with the SAX reader by construction, and gives up (nullopt) on anything
// else, which the SAX reader then reads, accepting or refusing it exactly as before:
// - ASCII only, so the text is valid UTF-8 and every name is its own bytes (no escapes);
// - a reading object holds members named seq, ts and values only, each at most once; seq and ts
//   are numbers, values an object of numbers under distinct plain names;
// - the root is a reading object, or an object whose one member "batch" is an array of at most
//   max_batch_elements reading objects;
// - numbers as JSON writes them, converted as nlohmann converts them: an integer without fraction
//   or exponent that fits 64 bits is unsigned (or negative), anything else a correctly rounded
//   double; an integer that does not fit, or a double out of range, gives up.
// A test compares both readers on every payload near a valid one (telemetry_codec_test.cpp).

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "kelvin/proto/telemetry.hpp"
#include "telemetry_facts.hpp"

namespace kelvin::proto::detail {
namespace {

// Members of one `values` object the fast path reads; more are left to the SAX reader, and the
// checks refuse them (a reading holds at most one value per quantity).
constexpr std::size_t kMaxPlainValues = 2 * kQuantityCount;

class PlainReader {
 public:
  PlainReader(std::string_view text, std::size_t max_batch_elements)
      : at_(text.data()), end_(text.data() + text.size()), max_batch_elements_(max_batch_elements) {}

  std::optional<PayloadFacts> read() {
    PayloadFacts facts;
    facts.root_kind = JsonKind::object;
    if (!consume('{')) return std::nullopt;
    if (!consume('}')) {
      std::string_view name;
      if (!read_name(name) || !consume(':')) return std::nullopt;
      if (name == "batch") {
        if (!read_batch(facts) || !consume('}')) return std::nullopt;
        facts.root_members = 1;
      } else {
        if (!read_members_after(name, facts.root, facts.root_members)) return std::nullopt;
      }
    }
    skip_whitespace();
    if (at_ != end_) return std::nullopt;
    return facts;
  }

 private:
  bool read_batch(PayloadFacts& facts) {
    facts.batch = JsonValueFacts{JsonKind::array};
    if (!consume('[')) return false;
    if (consume(']')) return true;
    do {
      if (facts.batch_elements.size() == max_batch_elements_) return false;  // the SAX reader counts the rest
      ReadingFacts& reading = facts.batch_elements.emplace_back();
      std::string_view name;
      std::size_t members = 0;
      if (!consume('{')) return false;
      if (!consume('}') && (!read_name(name) || !consume(':') || !read_members_after(name, reading, members))) {
        return false;
      }
    } while (consume(','));
    facts.batch_size = facts.batch_elements.size();
    return consume(']');
  }

  // The members of a reading object whose first member's name (`first`) has been read, through its
  // closing brace; counts them in `members`.
  bool read_members_after(std::string_view first, ReadingFacts& reading, std::size_t& members) {
    std::string_view name = first;
    for (;;) {
      if (!read_reading_member(name, reading)) return false;
      ++members;
      if (!consume(',')) return consume('}');
      if (!read_name(name) || !consume(':')) return false;
    }
  }

  bool read_reading_member(std::string_view name, ReadingFacts& reading) {
    std::optional<JsonValueFacts>* slot = nullptr;
    if (name == "seq") {
      slot = &reading.seq;
    } else if (name == "ts") {
      slot = &reading.ts;
    } else if (name == "values") {
      if (reading.values) return false;  // a repeated name: the SAX reader refuses it
      reading.values = JsonValueFacts{JsonKind::object};
      return read_values(reading);
    } else {
      return false;  // an unexpected member (or a batch beside others): the SAX reader names it
    }
    if (*slot) return false;  // a repeated name: the SAX reader refuses it
    JsonValueFacts value;
    if (!read_number(value)) return false;
    *slot = value;
    return true;
  }

  bool read_values(ReadingFacts& reading) {
    if (!consume('{')) return false;
    if (consume('}')) return true;
    do {
      std::string_view name;
      JsonValueFacts value;
      if (!read_name(name) || !consume(':') || !read_number(value)) return false;
      // Names are compared pairwise, so their number is bounded; more are never valid anyway.
      if (reading.value_members.size() == kMaxPlainValues) return false;
      for (const auto& earlier : reading.value_members) {
        if (earlier.name == name) return false;
      }
      reading.value_members.push_back(NamedValueFacts{std::string(name), value});
    } while (consume(','));
    return consume('}');
  }

  // A member name of printable ASCII without escapes.
  bool read_name(std::string_view& name) {
    if (!consume('"')) return false;
    const char* start = at_;
    while (at_ != end_ && *at_ != '"') {
      const auto byte = static_cast<unsigned char>(*at_);
      if (byte < 0x20 || byte >= 0x7f || byte == '\\') return false;
      ++at_;
    }
    if (at_ == end_) return false;
    name = std::string_view(start, static_cast<std::size_t>(at_ - start));
    ++at_;
    return true;
  }

  // A JSON number (RFC 8259's grammar), classified and converted as nlohmann's lexer does.
  bool read_number(JsonValueFacts& value) {
    skip_whitespace();
    const char* start = at_;
    const bool negative = at_ != end_ && *at_ == '-';
    if (negative) ++at_;
    if (at_ == end_ || !is_digit(*at_)) return false;
    if (*at_ == '0') {
      ++at_;
    } else {
      skip_digits();
    }
    bool integer = true;
    if (at_ != end_ && *at_ == '.') {
      ++at_;
      if (at_ == end_ || !is_digit(*at_)) return false;
      skip_digits();
      integer = false;
    }
    if (at_ != end_ && (*at_ == 'e' || *at_ == 'E')) {
      ++at_;
      if (at_ != end_ && (*at_ == '+' || *at_ == '-')) ++at_;
      if (at_ == end_ || !is_digit(*at_)) return false;
      skip_digits();
      integer = false;
    }
    if (integer) return convert_integer(start, negative, value);
    double number = 0;
    const auto [end, error] = std::from_chars(start, at_, number);
    if (error != std::errc() || end != at_) return false;  // out of range: left to the SAX reader
    value = JsonValueFacts{JsonKind::floating, 0, 0, number};
    return true;
  }

  bool convert_integer(const char* start, bool negative, JsonValueFacts& value) const {
    if (negative) {
      std::int64_t number = 0;
      const auto [end, error] = std::from_chars(start, at_, number);
      if (error != std::errc() || end != at_) return false;
      value = JsonValueFacts{JsonKind::negative_integer, 0, number, static_cast<double>(number)};
      return true;
    }
    std::uint64_t number = 0;
    const auto [end, error] = std::from_chars(start, at_, number);
    if (error != std::errc() || end != at_) return false;
    value = JsonValueFacts{JsonKind::unsigned_integer, number, 0, static_cast<double>(number)};
    return true;
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  void skip_digits() {
    while (at_ != end_ && is_digit(*at_)) ++at_;
  }
  void skip_whitespace() {
    while (at_ != end_ && (*at_ == ' ' || *at_ == '\t' || *at_ == '\n' || *at_ == '\r')) ++at_;
  }
  bool consume(char token) {
    skip_whitespace();
    if (at_ == end_ || *at_ != token) return false;
    ++at_;
    return true;
  }

  const char* at_;
  const char* end_;
  std::size_t max_batch_elements_;
};

}  // namespace

std::optional<PayloadFacts> read_plain_reading_facts(std::string_view text, std::size_t max_batch_elements) {
  return PlainReader(text, max_batch_elements).read();
}

}  // namespace kelvin::proto::detail
