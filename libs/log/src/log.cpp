#include "kelvin/log/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "kelvin/log/json_lines_formatter.hpp"

namespace kelvin::log {
namespace {

std::optional<spdlog::level::level_enum> level_named(std::string_view name) {
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  return std::nullopt;
}

}  // namespace

void write_json_lines() {
  // Unbuffered stderr (a line reaches the journal when it is logged), serialised by the sink's
  // mutex so lines from different threads never interleave.
  auto stderr_logger = std::make_shared<spdlog::logger>("", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  spdlog::set_default_logger(std::move(stderr_logger));
  spdlog::set_formatter(std::make_unique<JsonLinesFormatter>());
  spdlog::set_level(spdlog::level::info);
}

bool set_level(std::string_view name) {
  const auto level = level_named(name);
  if (!level) return false;
  spdlog::set_level(*level);  // every registered logger and those created later
  return true;
}

spdlog::logger& component(std::string_view name, std::string_view device) {
  // The logger's name is "component" or "component:device"; the formatter splits it again.
  std::string logger_name(name);
  if (!device.empty()) logger_name.append(":").append(device);
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
  std::lock_guard lock(mutex);
  if (auto found = loggers.find(logger_name); found != loggers.end()) return *found->second;
  const auto& sinks = spdlog::default_logger_raw()->sinks();
  auto logger = std::make_shared<spdlog::logger>(logger_name, sinks.begin(), sinks.end());
  spdlog::initialize_logger(logger);  // the registry's formatter and level, and registered for set_level
  return *loggers.emplace(std::move(logger_name), std::move(logger)).first->second;
}

void error_lines(std::string_view name, std::string_view message) {
  auto& logger = component(name);
  while (!message.empty()) {
    const std::size_t end = message.find('\n');
    const std::string_view line = message.substr(0, end);
    if (!line.empty()) logger.error("{}", line);
    if (end == std::string_view::npos) break;
    message.remove_prefix(end + 1);
  }
}

}  // namespace kelvin::log
