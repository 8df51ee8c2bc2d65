#pragma once
// kelvin's programs log JSON lines: one object per line on standard error (the journal under
// systemd), written by spdlog with the formatter in json_lines_formatter.hpp:
//
//   {"time":"2026-12-05T17:40:02.113Z","level":"warn","component":"alerts","message":"..."}
//
// Each part of a program logs through its own named logger (`log::component("ingest")`), so the
// component is a field to filter on, not a prefix to parse. Messages are text for people; what a
// machine should read is in the metrics and the statistics file.

#include <spdlog/logger.h>

#include <string>
#include <string_view>

namespace kelvin::log {

// Makes every logger, present and future, write JSON lines to standard error at `info`. Call once,
// first thing in main, before any thread logs.
void write_json_lines();

// The least severe level written, by the name a config uses: trace, debug, info, warn or error.
// False (and nothing changed) for another name.
bool set_level(std::string_view name);

// The logger of one component of the program ("ingest", "https", "broker", ...), created on first
// use with the sinks, formatter and level of the default logger. With a `device` (a device id: no
// ':' in it), its lines also carry {"device": device}: the agent and the simulator log each device
// so. Thread-safe; the reference stays valid until the program ends.
spdlog::logger& component(std::string_view name, std::string_view device = {});

// Logs `message` as errors of `component`, one record per line: a config's problems come one per
// line, and each stays readable on its own.
void error_lines(std::string_view component, std::string_view message);

}  // namespace kelvin::log
