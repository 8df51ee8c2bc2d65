#include "kelvin/influx/gzip.hpp"

#define ZLIB_CONST  // next_in is const: the input is never modified
#include <zlib.h>

#include <algorithm>
#include <cstddef>

namespace kelvin::influx {
namespace {

// zlib counts in uInt (32 bits): larger inputs and outputs are fed in slices of this size.
constexpr std::size_t kMaxSlice = std::size_t{1} << 30;
// 16 added to the window bits (15, the maximum) asks zlib for a gzip header and trailer.
constexpr int kGzipWindowBits = 15 + 16;
constexpr int kDefaultMemLevel = 8;

// Frees zlib's state on every path out of gzip().
class DeflateStream {
 public:
  DeflateStream() = default;
  DeflateStream(const DeflateStream&) = delete;
  DeflateStream& operator=(const DeflateStream&) = delete;
  ~DeflateStream() {
    if (initialised_) deflateEnd(&stream_);
  }
  int init(int level) {
    int rc = deflateInit2(&stream_, level, Z_DEFLATED, kGzipWindowBits, kDefaultMemLevel, Z_DEFAULT_STRATEGY);
    initialised_ = rc == Z_OK;
    return rc;
  }
  z_stream& get() { return stream_; }

 private:
  z_stream stream_{};
  bool initialised_ = false;
};

Error zlib_failure(std::string_view what, int rc, const z_stream& stream) {
  std::string message = "gzip: " + std::string(what) + " failed (zlib " + std::to_string(rc);
  if (stream.msg != nullptr) message += ": " + std::string(stream.msg);
  return make_error(Errc::io, message + ")");
}

}  // namespace

Result<std::string> gzip(std::string_view data, int level) {
  if (level < 0 || level > 9) {
    return make_error(Errc::invalid_argument, "gzip level " + std::to_string(level) + " is not in 0..9");
  }
  DeflateStream deflater;
  if (int rc = deflater.init(level); rc != Z_OK) return zlib_failure("initialisation", rc, deflater.get());
  z_stream& stream = deflater.get();

  std::string out;
  // deflateBound (which counts the gzip wrapper) is enough for a single pass in the usual case.
  out.resize(deflateBound(&stream, static_cast<uLong>(data.size())));
  std::size_t produced = 0;
  std::size_t consumed = 0;
  for (;;) {
    if (stream.avail_in == 0 && consumed < data.size()) {
      const std::size_t slice = std::min(data.size() - consumed, kMaxSlice);
      stream.next_in = reinterpret_cast<const Bytef*>(data.data() + consumed);
      stream.avail_in = static_cast<uInt>(slice);
      consumed += slice;
    }
    if (produced == out.size()) out.resize(out.size() * 2 + 64);
    const auto room = static_cast<uInt>(std::min(out.size() - produced, kMaxSlice));
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    stream.avail_out = room;
    // Z_FINISH only once zlib holds all the input; it may take several calls to flush it.
    const int rc = deflate(&stream, consumed == data.size() ? Z_FINISH : Z_NO_FLUSH);
    produced += room - stream.avail_out;
    if (rc == Z_STREAM_END) break;
    // Z_BUF_ERROR only means "no progress possible with this buffer": the loop grows it.
    if (rc != Z_OK && rc != Z_BUF_ERROR) return zlib_failure("compression", rc, stream);
  }
  out.resize(produced);
  return out;
}

}  // namespace kelvin::influx
