#pragma once
// Helpers for the outbox journal tests: the documented line format computed independently of the
// implementation, and raw file edits.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "kelvin/proto/telemetry.hpp"

namespace kelvin::linux_port::testing {

// CRC-32 as zlib computes it, bit by bit (the implementation uses a table).
inline std::uint32_t reference_crc32(const std::string& bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (char c : bytes) {
    crc ^= static_cast<unsigned char>(c);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// "<fields>\t<crc32 as 8 hex>\n"
inline std::string line_of(const std::string& fields) {
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(reference_crc32(fields)));
  return fields + "\t" + hex + "\n";
}

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void overwrite(const std::filesystem::path& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

inline void append_raw(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::app) << bytes;
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', start)) {
    lines.push_back(text.substr(start, at - start));
    start = at + 1;
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

inline proto::Reading reading(std::uint64_t seq, std::optional<double> temperature = 21.5,
                              std::optional<double> humidity = std::nullopt) {
  proto::Reading r;
  r.seq = seq;
  r.ts_ms = 1'732'200'000'000 + static_cast<std::int64_t>(seq) * 1000;
  r.values[static_cast<std::size_t>(proto::Quantity::temperature)] = temperature;
  r.values[static_cast<std::size_t>(proto::Quantity::humidity)] = humidity;
  return r;
}

}  // namespace kelvin::linux_port::testing
