#pragma once
// The tests' independent gzip decoder: zlib's inflate in gzip mode (16 + MAX_WBITS), which checks
// the header, the CRC-32 and the length trailer, as InfluxDB's own gzip reader does.

#include <zlib.h>

#include <optional>
#include <string>

namespace kelvin::influx::testing {

// The content of exactly one gzip member that fills `compressed` completely; nullopt if it is
// not valid gzip or if bytes follow the member.
inline std::optional<std::string> gunzip(std::string compressed) {
  z_stream stream{};
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) return std::nullopt;
  std::string out;
  std::string chunk(64 * 1024, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(compressed.data());  // only read; zlib's API is not const
  stream.avail_in = static_cast<uInt>(compressed.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&stream, Z_NO_FLUSH);
    out.append(chunk.data(), chunk.size() - stream.avail_out);
  }
  const bool complete = rc == Z_STREAM_END && stream.avail_in == 0;
  inflateEnd(&stream);
  if (!complete) return std::nullopt;
  return out;
}

}  // namespace kelvin::influx::testing
