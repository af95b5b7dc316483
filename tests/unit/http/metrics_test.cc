#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/metrics_snapshot.h"
#include "http/prometheus_writer.h"
#include "http_test_util.h"

namespace meshmq::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

MetricsSnapshot FullSnapshot() {
  MetricsSnapshot s;
  s.version = "0.1.0";
  s.node_id = "node \"a\"\\1";
  s.uptime_seconds = 12.5;
  s.broker.connections_current = 3;
  s.broker.connections_total = 10;
  s.broker.sessions = 5;
  s.broker.sessions_offline = 2;
  s.broker.messages_sent[2] = 7;
  s.broker.handoffs = 11;
  s.broker.dropped[static_cast<int>(broker::DropReason::kSlowConsumer)] = 4;
  s.broker.routes = 6;
  s.remote_routes = 9;
  ClusterMetrics c;
  c.peers = {{"n2", "alive", 11, 12, 3}, {"n3", "down", 0, 1, 0}};
  c.ready = true;
  c.last_route_lag_ms = 250;
  c.forward_latency_bounds_ms = {1, 2, 5, 10, 25, 50, 100, 250, 1000};
  c.forward_latency_buckets = {5, 0, 1, 0, 0, 0, 0, 0, 2, 1};
  c.discovery_lookups = 8;
  c.discovery_lookup_errors = 1;
  s.cluster = c;
  s.process = ReadProcessMetrics();
  return s;
}

TEST(Metrics, FullRenderPassesPromtool) {
  std::string text = RenderMetrics(FullSnapshot());
  testing::PromtoolResult check = testing::RunPromtool(text);
  EXPECT_EQ(check.exit_code, 0) << check.output << "\n" << text;
  EXPECT_EQ(check.output, "") << text;
}

TEST(Metrics, WithoutClusterPassesPromtoolAndOmitsClusterFamilies) {
  MetricsSnapshot s = FullSnapshot();
  s.cluster.reset();
  std::string text = RenderMetrics(s);
  EXPECT_THAT(text, Not(HasSubstr("meshmq_cluster_")));
  testing::PromtoolResult check = testing::RunPromtool(text);
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_EQ(check.output, "");
}

TEST(Metrics, RendersOverloadFamilies) {
  MetricsSnapshot s = FullSnapshot();
  using E = broker::OverloadEvent;
  s.broker.overload[static_cast<int>(E::kConnectionRefusedPerAddress)] = 2;
  s.broker.overload[static_cast<int>(E::kReadPausedPublishRate)] = 5;
  s.broker.overload[static_cast<int>(E::kSubscribeRefusedQuota)] = 3;
  s.broker.overload[static_cast<int>(E::kSlowConsumerDisconnect)] = 1;
  s.broker.dropped[static_cast<int>(broker::DropReason::kMemory)] = 6;
  s.broker.memory_accounted = 1000;
  s.broker.memory_high_water = 4096;
  s.broker.memory_overloaded = true;
  std::string text = RenderMetrics(s);
  EXPECT_THAT(text, HasSubstr("meshmq_connections_refused_total{reason=\"per_address\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_connections_refused_total{reason=\"memory\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_client_reads_paused_total{reason=\"publish_rate\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_subscriptions_refused_total{reason=\"quota\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_slow_consumer_disconnects_total 1\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_messages_dropped_total{reason=\"memory\"} 6\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_memory_accounted_bytes 1000\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_memory_high_water_bytes 4096\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_memory_overloaded 1\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_accept_paused_total 0\n"));
}

TEST(Metrics, PromtoolRejectsBrokenText) {
  // Guards the check itself: a counter without _total and a bad line must fail.
  testing::PromtoolResult check = testing::RunPromtool("# TYPE x counter\nx 1\nnot a metric\n");
  EXPECT_NE(check.exit_code, 0);
}

TEST(Metrics, RendersValuesAndLabels) {
  std::string text = RenderMetrics(FullSnapshot());
  EXPECT_THAT(text,
              HasSubstr("meshmq_build_info{version=\"0.1.0\",node=\"node \\\"a\\\"\\\\1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_uptime_seconds 12.5\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_connections_open{listener=\"mqtt\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_connections_total{listener=\"mqtt\"} 10\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_sessions{state=\"live\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_sessions{state=\"offline\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_messages_sent_total{qos=\"2\"} 7\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_shard_handoffs_total 11\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_messages_dropped_total{reason=\"slow_consumer\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_messages_dropped_total{reason=\"queue_full\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_routes{scope=\"remote\"} 9\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_cluster_nodes{state=\"alive\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_cluster_nodes{state=\"down\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_cluster_forwarded_messages_total{peer=\"n2\"} 11\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_cluster_forward_queue_messages{peer=\"n2\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_cluster_route_propagation_lag_seconds 0.25\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_discovery_lookup_errors_total 1\n"));
}

TEST(Metrics, HistogramBucketsAreCumulativeInSeconds) {
  std::string text = RenderMetrics(FullSnapshot());
  EXPECT_THAT(text, HasSubstr("meshmq_cluster_forward_latency_seconds_bucket{le=\"0.001\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_cluster_forward_latency_seconds_bucket{le=\"0.005\"} 6\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_cluster_forward_latency_seconds_bucket{le=\"1\"} 8\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_cluster_forward_latency_seconds_bucket{le=\"+Inf\"} 9\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_cluster_forward_latency_seconds_count 9\n"));
}

TEST(Metrics, EveryFamilyHasHelpAndType) {
  std::string text = RenderMetrics(FullSnapshot());
  size_t help = 0, type = 0;
  for (size_t pos = 0; (pos = text.find("# HELP ", pos)) != std::string::npos; ++pos) ++help;
  for (size_t pos = 0; (pos = text.find("# TYPE ", pos)) != std::string::npos; ++pos) ++type;
  EXPECT_EQ(help, type);
  EXPECT_GT(help, 40u);
}

TEST(ProcessMetrics, ReadsThisProcess) {
  ProcessMetrics p = ReadProcessMetrics();
  EXPECT_GT(p.resident_memory_bytes, 1 << 20);
  EXPECT_GE(p.virtual_memory_bytes, p.resident_memory_bytes);
  EXPECT_GE(p.open_fds, 3);  // stdin, stdout, stderr
  EXPECT_GT(p.max_fds, p.open_fds);
  EXPECT_GE(p.cpu_seconds, 0);
  EXPECT_GT(p.start_time_seconds, 1.5e9);  // after 2017
  EXPECT_LE(p.start_time_seconds, static_cast<double>(time(nullptr)) + 1);
}

TEST(PrometheusWriter, FormatsValues) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(123456789012), "123456789012");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace meshmq::http
