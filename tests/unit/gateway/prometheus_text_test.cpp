#include "kelvin/gateway/prometheus_text.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace kelvin::gateway {
namespace {

TEST(PrometheusText, WritesFamiliesWithHelpTypeAndEscapedLabels) {
  PrometheusText out;
  out.counter("kelvin_things_total", "Things counted.\nTwo lines, a \\ too.", 42);
  out.family("kelvin_widgets", PrometheusText::Type::gauge, "Widgets by kind.");
  out.sample(1.5, {{"kind", "a \"quoted\"\nname \\"}});
  out.sample(std::numeric_limits<double>::infinity(), {{"kind", "b"}, {"zone", "z"}});
  out.gauge("kelvin_ratio", "A ratio.", 0.25);
  EXPECT_EQ(out.text(),
            "# HELP kelvin_things_total Things counted.\\nTwo lines, a \\\\ too.\n"
            "# TYPE kelvin_things_total counter\n"
            "kelvin_things_total 42\n"
            "# HELP kelvin_widgets Widgets by kind.\n"
            "# TYPE kelvin_widgets gauge\n"
            "kelvin_widgets{kind=\"a \\\"quoted\\\"\\nname \\\\\"} 1.5\n"
            "kelvin_widgets{kind=\"b\",zone=\"z\"} +Inf\n"
            "# HELP kelvin_ratio A ratio.\n"
            "# TYPE kelvin_ratio gauge\n"
            "kelvin_ratio 0.25\n");
}

}  // namespace
}  // namespace kelvin::gateway
