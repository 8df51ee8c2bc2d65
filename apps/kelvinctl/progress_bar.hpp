#pragma once
// A progress bar for kelvinctl's long work (copying a firmware image into the gateway's releases),
// drawn on stderr in place when stderr is a terminal; nothing otherwise, so scripts and logs get
// only the result line.
//
//   publishing thermo-linux 1.1.0  [##########··········]  52%  36.4 of 70.0 MB

#include <chrono>
#include <cstdint>
#include <string>

namespace kelvin::ctl {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();  // ends the line if one was drawn

  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Redraws at most every 100 ms, and always at the end (done == total).
  void update(std::uint64_t done, std::uint64_t total);

 private:
  std::string label_;
  bool terminal_ = false;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

// The line as update() draws it, without the carriage return; width: the bar's characters.
std::string render_progress(const std::string& label, std::uint64_t done, std::uint64_t total, int width = 20);

}  // namespace kelvin::ctl
