#pragma once
// A Beast body (the BodyWriter concept) that serializes a FileSlice: `length` bytes from `offset`
// of an open file, read with pread in 64 KiB pieces as the connection takes them, so an image of
// any size costs one buffer per connection. Beast's own file_body serves whole files only.

#include <unistd.h>

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <cerrno>
#include <cstdint>
#include <system_error>
#include <utility>
#include <vector>

namespace kelvin::http {

struct FileSliceBody {
  // Owns the descriptor.
  class value_type {
   public:
    value_type() = default;
    value_type(int fd, std::uint64_t offset, std::uint64_t length) : fd_(fd), offset_(offset), length_(length) {}
    value_type(value_type&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)), offset_(other.offset_), length_(other.length_) {}
    value_type& operator=(value_type&& other) noexcept {
      if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
        offset_ = other.offset_;
        length_ = other.length_;
      }
      return *this;
    }
    value_type(const value_type&) = delete;
    value_type& operator=(const value_type&) = delete;
    ~value_type() { close(); }

    std::uint64_t length() const noexcept { return length_; }

   private:
    friend struct FileSliceBody;
    void close() noexcept {
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
    }
    int fd_ = -1;
    std::uint64_t offset_ = 0;
    std::uint64_t length_ = 0;
  };

  static std::uint64_t size(const value_type& body) { return body.length(); }

  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;

    template <bool isRequest, class Fields>
    writer(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(boost::beast::error_code& ec) {
      buffer_.resize(kChunkBytes);
      ec = {};
    }

    boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
      const std::uint64_t left = body_.length_ - sent_;
      if (left == 0) {
        ec = {};
        return boost::none;
      }
      const auto wanted = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer_.size()));
      ssize_t got = 0;
      do {
        got = ::pread(body_.fd_, buffer_.data(), wanted, static_cast<off_t>(body_.offset_ + sent_));
      } while (got < 0 && errno == EINTR);
      if (got < 0) {
        ec = boost::beast::error_code(errno, boost::system::system_category());
        return boost::none;
      }
      if (got == 0) {  // the file ended before the length promised in Content-Length
        ec = boost::beast::http::error::short_read;
        return boost::none;
      }
      sent_ += static_cast<std::uint64_t>(got);
      return {{const_buffers_type(buffer_.data(), static_cast<std::size_t>(got)), sent_ < body_.length_}};
    }

   private:
    static constexpr std::size_t kChunkBytes = 64 * 1024;
    value_type& body_;
    std::uint64_t sent_ = 0;
    std::vector<char> buffer_;
  };
};

}  // namespace kelvin::http
