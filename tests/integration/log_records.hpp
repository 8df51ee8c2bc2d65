#pragma once
// Reading the logs of kelvin's programs in tests: JSON lines ({"time","level","component",
// "device"?,"rule"?,"subject"?,"user"?,"message"}), so a check names the level, component and
// subjects it expects instead of matching a line's layout.

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kelvin::testing {

// Every line of `log` that is a JSON object, in order. Other lines are skipped: a log file also
// holds what a program printed on stdout (the first start's password) and what a killed child
// left behind.
std::vector<nlohmann::json> log_records(const std::string& log);

// The lines of `log` that are not JSON objects with string time, level and message: what would
// break a log collector. Empty when every line is a record. The one notice kelvin-gateway prints
// on stdout at its first start (the admin's password, from "kelvin-gateway: first start:" to its
// "kelvinctl user passwd admin" line) is left out: it is not a log line.
std::vector<std::string> lines_not_records(const std::string& log);

// True when a record of `log` has `level` and `component` and a message containing `part`.
bool has_log_record(const std::string& log, std::string_view level, std::string_view component, std::string_view part);

// The same, of a record that also carries each of `subjects` as a key with that value
// (e.g. {{"rule", "freezer_warm"}, {"subject", "sensor-01"}}).
bool has_log_record_about(const std::string& log, std::string_view level, std::string_view component,
                          std::initializer_list<std::pair<std::string_view, std::string_view>> subjects,
                          std::string_view part);

}  // namespace kelvin::testing
