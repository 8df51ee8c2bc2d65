#pragma once
// Human-readable UTC times for messages, tables and file names.

#include <ctime>
#include <string>

namespace kelvin {

// "2026-11-22"
std::string format_utc_date(std::time_t t);
// "2026-11-22T10:04:05Z" (ISO 8601)
std::string format_utc_timestamp(std::time_t t);
// "20261122T100405Z" (safe in file names)
std::string format_utc_compact(std::time_t t);

}  // namespace kelvin
