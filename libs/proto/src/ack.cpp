#include "kelvin/proto/ack.hpp"

#include <limits>
#include <optional>

#include "kelvin/proto/json_text.hpp"

namespace kelvin::proto {
namespace {

class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  void skip_whitespace() {
    while (pos_ < text_.size() && is_whitespace(text_[pos_])) ++pos_;
  }
  bool consume(std::string_view token) {
    if (text_.substr(pos_).starts_with(token)) {
      pos_ += token.size();
      return true;
    }
    return false;
  }
  std::optional<std::uint64_t> unsigned_integer() {
    const std::size_t start = pos_;
    std::uint64_t value = 0;
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const auto digit = static_cast<std::uint64_t>(text_[pos_] - '0');
      if (value > (kMax - digit) / 10) return std::nullopt;
      value = value * 10 + digit;
      ++pos_;
    }
    const std::size_t length = pos_ - start;
    if (length == 0) return std::nullopt;
    if (length > 1 && text_[start] == '0') return std::nullopt;  // JSON has no leading zeros
    return value;
  }
  bool at_end() const { return pos_ == text_.size(); }

 private:
  static bool is_whitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// A hand-written reader rather than a JSON library: the device core has none, and one fixed form
// is all an ack may be.
std::optional<std::uint64_t> read_ack(std::string_view payload) {
  Cursor in(payload);
  in.skip_whitespace();
  if (!in.consume("{")) return std::nullopt;
  in.skip_whitespace();
  if (!in.consume(R"("seq")")) return std::nullopt;
  in.skip_whitespace();
  if (!in.consume(":")) return std::nullopt;
  in.skip_whitespace();
  auto seq = in.unsigned_integer();
  if (!seq) return std::nullopt;
  in.skip_whitespace();
  if (!in.consume("}")) return std::nullopt;
  in.skip_whitespace();
  if (!in.at_end()) return std::nullopt;
  return seq;
}

}  // namespace

std::string encode_ack(std::uint64_t seq) {
  std::string out = R"({"seq":)";
  append_json_number(seq, out);
  out += '}';
  return out;
}

Result<std::uint64_t> decode_ack(std::string_view payload) {
  if (auto seq = read_ack(payload)) return *seq;
  return make_error(Errc::invalid_argument, R"(ack: not {"seq":N} with N an integer from 0 to 2^64-1)");
}

}  // namespace kelvin::proto
