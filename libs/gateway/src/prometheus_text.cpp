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

}  // namespace

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
  text_ += type == Type::counter ? " counter\n" : " gauge\n";
}

void PrometheusText::sample_prefix(const MetricLabels& labels) {
  text_ += current_;
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
  if (std::isnan(value)) {
    text_ += "NaN";
  } else if (std::isinf(value)) {
    text_ += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[32];
    const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
    text_.append(buffer, error == std::errc() ? end : buffer);
  }
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

}  // namespace kelvin::gateway
