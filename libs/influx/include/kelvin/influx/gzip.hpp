#pragma once
// gzip (RFC 1952) compression of request bodies: InfluxDB accepts `Content-Encoding: gzip` on
// /write, and line protocol compresses about tenfold, which matters on a gateway's uplink.

#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"

namespace kelvin::influx {

// Compresses `data` into one gzip member (header, deflate stream, CRC-32 and length trailer).
// `level` is zlib's: 0 (store only) to 9 (smallest); 6 is zlib's own balance of speed and size.
// Errors: invalid_argument for a level outside 0..9; io when zlib fails (out of memory).
Result<std::string> gzip(std::string_view data, int level = 6);

}  // namespace kelvin::influx
