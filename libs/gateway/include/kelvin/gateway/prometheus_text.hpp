#pragma once
// Prometheus's text exposition format (version 0.0.4), as kelvin-gateway's /metrics answers it
// (docs/metrics.md): families one after another, each with its # HELP and # TYPE lines, then its
// samples. Names follow Prometheus's conventions (kelvin_ prefix, base units, counters end in
// _total); the writer checks the grammar of names, escapes help texts and label values, and writes
// each family once, so what it produces passes `promtool check metrics`.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kelvin::gateway {

inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

using MetricLabels = std::vector<std::pair<std::string_view, std::string>>;

// Observations against fixed upper bounds, kept as a Prometheus histogram exposes them: how many
// were at or below each bound, their sum and their count, since the process started. Not
// thread-safe: its owner's lock guards it.
class PrometheusHistogram {
 public:
  // Precondition: `upper_bounds` ascending and finite (+Inf is implied).
  explicit PrometheusHistogram(std::vector<double> upper_bounds);

  void observe(double value);

  const std::vector<double>& upper_bounds() const noexcept { return upper_bounds_; }
  // Observations at or below upper_bounds()[i] (cumulative, as Prometheus's `le` buckets).
  std::uint64_t count_at_or_below(std::size_t i) const;
  std::uint64_t count() const noexcept { return count_; }
  double sum() const noexcept { return sum_; }

 private:
  std::vector<double> upper_bounds_;
  std::vector<std::uint64_t> in_bucket_;  // observations above the previous bound, at or below this one
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

class PrometheusText {
 public:
  enum class Type { counter, gauge, histogram };

  // Starts a family. Precondition: `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*, was not started
  // before, and ends in _total for a counter (checked in debug builds by assert).
  void family(std::string_view name, Type type, std::string_view help);
  // A sample of the family started last, with its labels (names [a-zA-Z_][a-zA-Z0-9_]*; values
  // escaped here).
  void sample(double value, const MetricLabels& labels = {});
  void sample(std::uint64_t value, const MetricLabels& labels = {});

  // A family of one sample, for the common case.
  void counter(std::string_view name, std::string_view help, std::uint64_t value);
  void gauge(std::string_view name, std::string_view help, double value);
  // A histogram family: name_bucket{le="..."} for each bound and +Inf, name_sum, name_count.
  void histogram(std::string_view name, std::string_view help, const PrometheusHistogram& histogram);

  const std::string& text() const noexcept { return text_; }

 private:
  // The family's name with `suffix` ("_bucket" ...), then its labels.
  void sample_prefix(const MetricLabels& labels, std::string_view suffix = {});

  std::string text_;
  std::string current_;  // the family started last
  std::vector<std::string> families_;
};

}  // namespace kelvin::gateway
