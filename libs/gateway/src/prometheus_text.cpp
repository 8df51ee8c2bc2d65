#include "kelvin/gateway/prometheus_text.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>

namespace kelvin::gateway {
namespace {

// Checked only by assertions: names and labels are the gateway's own constants.
[[maybe_unused]] bool is_name(std::string_view name, bool colon_allowed) {
  auto first = [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_allowed && c == ':');
  };
  auto rest = [&](char c) { return first(c) || (c >= '0' && c <= '9'); };
  return !name.empty() && first(name[0]) && std::all_of(name.begin() + 1, name.end(), rest);
}

// HELP text: backslash and newline escaped. Label values: also the double quote.
void append_escaped(std::string_view text, bool quote_too, std::string& out) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote_too) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// A sample value or bucket bound: shortest round-trip form, or NaN, +Inf, -Inf.
std::string number_text(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, error == std::errc() ? end : buffer);
}

}  // namespace

PrometheusHistogram::PrometheusHistogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), in_bucket_(upper_bounds_.size(), 0) {
  assert(std::is_sorted(upper_bounds_.begin(), upper_bounds_.end()));
}

void PrometheusHistogram::observe(double value) {
  const auto bucket = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value);
  if (bucket != upper_bounds_.end()) ++in_bucket_[static_cast<std::size_t>(bucket - upper_bounds_.begin())];
  ++count_;
  sum_ += value;
}

std::uint64_t PrometheusHistogram::count_at_or_below(std::size_t i) const {
  std::uint64_t total = 0;
  for (std::size_t b = 0; b <= i && b < in_bucket_.size(); ++b) total += in_bucket_[b];
  return total;
}

void PrometheusText::family(std::string_view name, Type type, std::string_view help) {
  assert(is_name(name, true));
  assert(type != Type::counter || name.ends_with("_total"));
  assert(std::find(families_.begin(), families_.end(), name) == families_.end());
  current_ = std::string(name);
  families_.push_back(current_);
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  append_escaped(help, false, text_);
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += type == Type::counter ? " counter\n" : type == Type::gauge ? " gauge\n" : " histogram\n";
}

void PrometheusText::sample_prefix(const MetricLabels& labels, std::string_view suffix) {
  text_ += current_;
  text_ += suffix;
  if (labels.empty()) {
    text_ += ' ';
    return;
  }
  text_ += '{';
  for (std::size_t i = 0; i < labels.size(); ++i) {
    assert(is_name(labels[i].first, false));
    if (i > 0) text_ += ',';
    text_ += labels[i].first;
    text_ += "=\"";
    append_escaped(labels[i].second, true, text_);
    text_ += '"';
  }
  text_ += "} ";
}

void PrometheusText::sample(double value, const MetricLabels& labels) {
  sample_prefix(labels);
  text_ += number_text(value);
  text_ += '\n';
}

void PrometheusText::sample(std::uint64_t value, const MetricLabels& labels) {
  sample_prefix(labels);
  text_ += std::to_string(value);
  text_ += '\n';
}

void PrometheusText::counter(std::string_view name, std::string_view help, std::uint64_t value) {
  family(name, Type::counter, help);
  sample(value);
}

void PrometheusText::gauge(std::string_view name, std::string_view help, double value) {
  family(name, Type::gauge, help);
  sample(value);
}

void PrometheusText::histogram(std::string_view name, std::string_view help, const PrometheusHistogram& histogram) {
  assert(!name.ends_with("_total") && !name.ends_with("_bucket") && !name.ends_with("_count") &&
         !name.ends_with("_sum"));
  family(name, Type::histogram, help);
  for (std::size_t i = 0; i < histogram.upper_bounds().size(); ++i) {
    sample_prefix({{"le", number_text(histogram.upper_bounds()[i])}}, "_bucket");
    text_ += std::to_string(histogram.count_at_or_below(i));
    text_ += '\n';
  }
  sample_prefix({{"le", "+Inf"}}, "_bucket");
  text_ += std::to_string(histogram.count());
  text_ += '\n';
  sample_prefix({}, "_sum");
  text_ += number_text(histogram.sum());
  text_ += '\n';
  sample_prefix({}, "_count");
  text_ += std::to_string(histogram.count());
  text_ += '\n';
}

}  // namespace kelvin::gateway
