#pragma once
// Payloads near a valid one, for checking that a decoder answers every one of them (accepts or
// refuses) without throwing: every truncation, and every byte replaced by one that matters to JSON
// or to the decoders (a raw NUL, quotes, brackets, digits, a sign, a non-UTF-8 byte).

#include <string>
#include <string_view>
#include <vector>

namespace kelvin::proto::testing {

inline std::vector<std::string> mutations_of(std::string_view valid) {
  static constexpr char kBytes[] = {'\0', '"', '{', '}', '[', ']',  ':', ',',   '0',
                                    '9',  '-', '.', 'e', ' ', '\\', 'x', '\xff'};
  std::vector<std::string> out;
  for (std::size_t length = 0; length < valid.size(); ++length) out.emplace_back(valid.substr(0, length));
  for (std::size_t i = 0; i < valid.size(); ++i) {
    for (char byte : kBytes) {
      std::string mutated(valid);
      mutated[i] = byte;
      out.push_back(std::move(mutated));
    }
  }
  return out;
}

}  // namespace kelvin::proto::testing
