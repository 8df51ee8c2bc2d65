#include "kelvin/core/time_format.hpp"

namespace kelvin {
namespace {

std::string format(std::time_t t, const char* pattern) {
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "?";
  char buffer[32];
  std::size_t n = std::strftime(buffer, sizeof buffer, pattern, &tm);
  return std::string(buffer, n);
}

}  // namespace

std::string format_utc_date(std::time_t t) {
  return format(t, "%Y-%m-%d");
}
std::string format_utc_timestamp(std::time_t t) {
  return format(t, "%Y-%m-%dT%H:%M:%SZ");
}
std::string format_utc_compact(std::time_t t) {
  return format(t, "%Y%m%dT%H%M%SZ");
}

}  // namespace kelvin
