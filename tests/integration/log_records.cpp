#include "log_records.hpp"

#include <sstream>

namespace kelvin::testing {
namespace {

bool is_record(const nlohmann::json& line) {
  return line.is_object() && line.contains("time") && line["time"].is_string() && line.contains("level") &&
         line["level"].is_string() && line.contains("message") && line["message"].is_string();
}

}  // namespace

std::vector<nlohmann::json> log_records(const std::string& log) {
  std::vector<nlohmann::json> records;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    auto parsed = nlohmann::json::parse(line, nullptr, false);
    if (!parsed.is_discarded() && is_record(parsed)) records.push_back(std::move(parsed));
  }
  return records;
}

std::vector<std::string> lines_not_records(const std::string& log) {
  std::vector<std::string> lines;
  std::istringstream in(log);
  bool in_first_start_notice = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("kelvin-gateway: first start:", 0) == 0) in_first_start_notice = true;
    if (in_first_start_notice) {
      if (line.find("kelvinctl user passwd admin") != std::string::npos) in_first_start_notice = false;
      continue;
    }
    const auto parsed = nlohmann::json::parse(line, nullptr, false);
    if (parsed.is_discarded() || !is_record(parsed)) lines.push_back(line);
  }
  return lines;
}

bool has_log_record(const std::string& log, std::string_view level, std::string_view component, std::string_view part) {
  return has_log_record_about(log, level, component, {}, part);
}

bool has_log_record_about(const std::string& log, std::string_view level, std::string_view component,
                          std::initializer_list<std::pair<std::string_view, std::string_view>> subjects,
                          std::string_view part) {
  for (const auto& record : log_records(log)) {
    if (record["level"] != level || record.value("component", "") != component) continue;
    bool about = true;
    for (const auto& [key, value] : subjects) {
      const std::string name(key);
      about = about && record.contains(name) && record[name].is_string() && record[name].get<std::string>() == value;
    }
    if (about && record["message"].get<std::string>().find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace kelvin::testing
