#include "synthetic_fleet.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <numbers>

#include "kelvin/core/time_arguments.hpp"

namespace kelvin::bench {
namespace {

constexpr std::int64_t kYearMs = 365 * kDayMs + kDayMs / 4;

// splitmix64: a well-mixed 64-bit hash, so noise is reproducible from (device, minute) alone.
std::uint64_t mix(std::uint64_t x) {
  x += std::uint64_t{0x9e3779b97f4a7c15};
  x = (x ^ (x >> 30)) * std::uint64_t{0xbf58476d1ce4e5b9};
  x = (x ^ (x >> 27)) * std::uint64_t{0x94d049bb133111eb};
  return x ^ (x >> 31);
}

// A value in [0, 1) from a hash.
double unit(std::uint64_t hash) {
  return static_cast<double>(hash >> 11) * 0x1.0p-53;
}

std::uint64_t key(int device, std::int64_t minute, std::uint64_t salt) {
  constexpr std::uint64_t kPrime = 0x100000001b3;  // FNV's, to spread devices apart
  return mix((static_cast<std::uint64_t>(device) * kPrime) ^ static_cast<std::uint64_t>(minute) ^ salt);
}

// Where in a period of `period_ms` the time lies, as an angle.
double phase(std::int64_t ts_ms, std::int64_t period_ms) {
  return 2 * std::numbers::pi * static_cast<double>(ts_ms % period_ms) / static_cast<double>(period_ms);
}

double round_to(double value, double unit_size) {
  return std::round(value / unit_size) * unit_size;
}

// Rounds toward minus infinity: times before start_ms() give negative minutes.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

// Each device reads at its own second of the minute (a prime stride spreads them).
std::int64_t clock_phase_ms(int device) {
  return (static_cast<std::int64_t>(device) * 7919) % kMinuteMs;
}

}  // namespace

std::int64_t FleetShape::minutes() const {
  return static_cast<std::int64_t>(days) * (kDayMs / kMinuteMs);
}

std::int64_t FleetShape::start_ms() const {
  return end_ms - minutes() * kMinuteMs;
}

std::uint64_t FleetShape::readings() const {
  return static_cast<std::uint64_t>(devices) * static_cast<std::uint64_t>(minutes());
}

std::string device_name(int index) {
  char name[24];
  std::snprintf(name, sizeof name, "bench-%03d", index);
  return name;
}

std::int64_t reading_ts(const FleetShape& shape, int device, std::int64_t minute) {
  return shape.start_ms() + minute * kMinuteMs + clock_phase_ms(device);
}

proto::Reading make_reading(const FleetShape& shape, int device, std::int64_t minute) {
  proto::Reading reading;
  reading.seq = static_cast<std::uint64_t>(minute) + 1;
  reading.ts_ms = reading_ts(shape, device, minute);
  // Warmest in late July and at about 15:00 UTC; each device has its own place (offset).
  const double offset = 4.0 * unit(mix(static_cast<std::uint64_t>(device))) - 2.0;
  const double seasonal = 6.0 * std::sin(phase(reading.ts_ms, kYearMs) - 1.97);
  const double daily = 3.0 * std::sin(phase(reading.ts_ms, kDayMs) - 2.36);
  const double noise = 0.6 * unit(key(device, minute, 1)) - 0.3;
  const double temperature = 18.0 + offset + seasonal + daily + noise;
  const double humidity = 60.0 - 1.5 * (seasonal + daily) + 4.0 * unit(key(device, minute, 2)) - 2.0;
  reading.set(proto::Quantity::temperature, round_to(temperature, 0.01));
  reading.set(proto::Quantity::humidity, round_to(std::clamp(humidity, 5.0, 95.0), 0.1));
  return reading;
}

std::vector<std::int64_t> bucket_starts(const FleetShape& shape, int device, std::int64_t from_ms, std::int64_t to_ms,
                                        std::int64_t step_ms) {
  // The device's minutes whose reading lies in [from_ms, to_ms).
  const std::int64_t base = shape.start_ms() + clock_phase_ms(device);
  const std::int64_t first = std::max<std::int64_t>(0, floor_div(from_ms - base + kMinuteMs - 1, kMinuteMs));
  const std::int64_t last = std::min(shape.minutes() - 1, floor_div(to_ms - 1 - base, kMinuteMs));
  std::vector<std::int64_t> starts;
  for (std::int64_t minute = first; minute <= last; ++minute) {
    const std::int64_t start = floor_div(base + minute * kMinuteMs, step_ms) * step_ms;
    if (starts.empty() || starts.back() != start) starts.push_back(start);
  }
  return starts;
}

Result<FillRecord> read_fill_record(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return make_error(Errc::not_found, file.string() + ": no fill record");
  std::map<std::string, std::string> fields;
  for (std::string line; std::getline(in, line);) {
    const auto equals = line.find('=');
    if (equals != std::string::npos) fields[line.substr(0, equals)] = line.substr(equals + 1);
  }
  FillRecord record;
  try {
    record.shape.devices = std::stoi(fields.at("devices"));
    record.shape.days = std::stoi(fields.at("days"));
    record.shape.end_ms = std::stoll(fields.at("end_ms"));
    record.commit_readings = std::stoul(fields.at("commit_readings"));
    record.complete = fields.at("complete") == "1";
    record.fill_seconds = std::stod(fields.at("fill_seconds"));
  } catch (const std::exception&) {
    return make_error(Errc::corrupt, file.string() + ": not a fill record (remove the directory and fill again)");
  }
  return record;
}

Result<void> write_fill_record(const std::filesystem::path& file, const FillRecord& record) {
  const std::filesystem::path temporary = file.string() + ".new";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << "devices=" << record.shape.devices << "\ndays=" << record.shape.days << "\nend_ms=" << record.shape.end_ms
        << "\ncommit_readings=" << record.commit_readings << "\ncomplete=" << (record.complete ? 1 : 0)
        << "\nfill_seconds=" << record.fill_seconds << "\n";
    if (!out.flush()) return make_error(Errc::io, temporary.string() + ": cannot write the fill record");
  }
  std::error_code error;
  std::filesystem::rename(temporary, file, error);
  if (error) return make_error(Errc::io, file.string() + ": " + error.message());
  return {};
}

}  // namespace kelvin::bench
