#include "kelvin/core/result.hpp"

namespace kelvin {

const char* to_string(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_argument:
      return "invalid argument";
    case Errc::not_found:
      return "not found";
    case Errc::already_exists:
      return "already exists";
    case Errc::permission_denied:
      return "permission denied";
    case Errc::io:
      return "I/O error";
    case Errc::crypto:
      return "cryptographic error";
    case Errc::corrupt:
      return "corrupt data";
    case Errc::conflict:
      return "conflict";
    case Errc::bad_credentials:
      return "bad credentials";
    case Errc::timed_out:
      return "timed out";
  }
  return "unknown error";
}

}  // namespace kelvin
