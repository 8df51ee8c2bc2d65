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

TEST(PrometheusText, AHistogramHasCumulativeBucketsUpToInfThenItsSumAndCount) {
  PrometheusHistogram latency({0.5, 1, 2.5});
  for (double value : {0.25, 0.5, 2.0, 7.0}) latency.observe(value);  // 0.5 is in its own bound's bucket
  PrometheusText out;
  out.histogram("kelvin_wait_seconds", "Waits.", latency);
  EXPECT_EQ(out.text(),
            "# HELP kelvin_wait_seconds Waits.\n"
            "# TYPE kelvin_wait_seconds histogram\n"
            "kelvin_wait_seconds_bucket{le=\"0.5\"} 2\n"
            "kelvin_wait_seconds_bucket{le=\"1\"} 2\n"
            "kelvin_wait_seconds_bucket{le=\"2.5\"} 3\n"
            "kelvin_wait_seconds_bucket{le=\"+Inf\"} 4\n"
            "kelvin_wait_seconds_sum 9.75\n"
            "kelvin_wait_seconds_count 4\n");
}

TEST(PrometheusText, AnEmptyHistogramHasEveryBucketAtZero) {
  PrometheusText out;
  out.histogram("kelvin_sizes", "Sizes.", PrometheusHistogram({10}));
  EXPECT_EQ(out.text(),
            "# HELP kelvin_sizes Sizes.\n"
            "# TYPE kelvin_sizes histogram\n"
            "kelvin_sizes_bucket{le=\"10\"} 0\n"
            "kelvin_sizes_bucket{le=\"+Inf\"} 0\n"
            "kelvin_sizes_sum 0\n"
            "kelvin_sizes_count 0\n");
}

}  // namespace
}  // namespace kelvin::gateway
