#pragma once
// Result<T>: the return type of every operation that can fail for an expected reason (bad input,
// I/O, OpenSSL/SQLite/mosquitto codes). Exceptions are kept for the edges (start-up, config
// load); this header itself never throws, so the portable device core can use it with
// -fno-exceptions.

#include <string>
#include <utility>
#include <variant>

namespace kelvin {

// What kind of failure happened: callers branch on this, humans read Error::message.
enum class Errc {
  invalid_argument,   // the caller's input is malformed or out of range
  not_found,          // a named thing (file, certificate, device) does not exist
  already_exists,     // creating something that is already there
  permission_denied,  // the OS refused access, or a secret file is readable by others
  io,                 // reading or writing a file failed
  crypto,             // an OpenSSL operation failed
  corrupt,            // stored data does not parse or fails its checksum
  conflict,           // the operation contradicts current state (e.g. revoking twice)
  bad_credentials,    // a passphrase or password is wrong or missing
  timed_out,          // a peer did not answer within its deadline
};

const char* to_string(Errc code) noexcept;

struct Error {
  Errc code;
  std::string message;  // one line: what failed and, where useful, what to do about it
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  // Precondition: ok().
  T& value() & { return *std::get_if<0>(&state_); }
  const T& value() const& { return *std::get_if<0>(&state_); }
  T&& value() && { return std::move(*std::get_if<0>(&state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // Precondition: !ok().
  const Error& error() const& { return *std::get_if<1>(&state_); }
  Error&& error() && { return std::move(*std::get_if<1>(&state_)); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }

  // Precondition: !ok().
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_{Errc::invalid_argument, {}};
  bool failed_ = false;
};

inline Error make_error(Errc code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace kelvin
