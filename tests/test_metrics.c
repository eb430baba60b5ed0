/* Metrics: per-thread shards summed when rendered, the Prometheus text
 * format, gauges of ended threads dropping out, histograms, consumer lag
 * from librdkafka statistics, health and readiness, and the HTTP endpoint. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../stream/http.h"
#include "../stream/metrics.h"

static char *render(cx_metrics_t *metrics) {
  cx_buf_t out = {0};
  assert_int_equal(cx_metrics_render(metrics, &out), 0);
  assert_int_equal(cx_buf_append(&out, "", 1), 0);
  return (char *)out.data;
}

static void test_metrics_counters_of_all_shards_are_summed_and_sorted_by_labels(void **unused) {
  (void)unused;
  cx_metrics_t *metrics = cx_metrics_new(0);
  cx_metrics_shard_t *a = cx_metrics_shard_new(metrics);
  cx_metrics_shard_t *b = cx_metrics_shard_new(metrics);
  cx_metrics_add(cx_metrics_series3(a, CX_METRIC_EVENTS, "in", "1", "PHONE"), 3);
  cx_metrics_add(cx_metrics_series3(b, CX_METRIC_EVENTS, "in", "1", "PHONE"), 4);
  cx_metrics_add(cx_metrics_series3(b, CX_METRIC_EVENTS, "in", "0", "CHAT"), 1);
  /* The same handle twice is the same series. */
  assert_ptr_equal(cx_metrics_series3(a, CX_METRIC_EVENTS, "in", "1", "PHONE"),
                   cx_metrics_series3(a, CX_METRIC_EVENTS, "in", "1", "PHONE"));
  char *text = render(metrics);
  assert_non_null(strstr(text, "# TYPE cxstream_events_total counter\n"
                               "cxstream_events_total{topic=\"in\",partition=\"0\",channel=\"CHAT\"} 1\n"
                               "cxstream_events_total{topic=\"in\",partition=\"1\",channel=\"PHONE\"} 7\n"));
  /* Families without labels show 0 before their first update. */
  assert_non_null(strstr(text, "\ncxstream_profiles_total 0\n"));
  assert_non_null(strstr(text, "cxstream_build_info{version=\""));
  const char *labels[] = {"in", "1", "PHONE"};
  assert_true(cx_metrics_value(metrics, CX_METRIC_EVENTS, labels) == 7);
  free(text);
  cx_metrics_destroy(metrics);
}

static void test_metrics_label_values_are_escaped(void **unused) {
  (void)unused;
  cx_metrics_t *metrics = cx_metrics_new(0);
  cx_metrics_shard_t *shard = cx_metrics_shard_new(metrics);
  cx_metrics_add(cx_metrics_series1(shard, CX_METRIC_DEAD_LETTERS, "a\"b\\c\nd"), 1);
  char *text = render(metrics);
  assert_non_null(strstr(text, "cxstream_dead_letters_total{reason=\"a\\\"b\\\\c\\nd\"} 1\n"));
  free(text);
  cx_metrics_destroy(metrics);
}

static void test_metrics_gauges_of_a_retired_shard_drop_out_and_its_counters_stay(void **unused) {
  (void)unused;
  cx_metrics_t *metrics = cx_metrics_new(0);
  cx_metrics_shard_t *a = cx_metrics_shard_new(metrics);
  cx_metrics_shard_t *b = cx_metrics_shard_new(metrics);
  cx_metrics_set(cx_metrics_series0(a, CX_METRIC_STATE_CUSTOMERS), 10);
  cx_metrics_set(cx_metrics_series0(b, CX_METRIC_STATE_CUSTOMERS), 5);
  cx_metrics_add(cx_metrics_series0(a, CX_METRIC_PROFILES), 2);
  assert_true(cx_metrics_value(metrics, CX_METRIC_STATE_CUSTOMERS, NULL) == 15);
  cx_metrics_shard_retire(a);
  assert_true(cx_metrics_value(metrics, CX_METRIC_STATE_CUSTOMERS, NULL) == 5);
  assert_true(cx_metrics_value(metrics, CX_METRIC_PROFILES, NULL) == 2);
  cx_metrics_destroy(metrics);
}

static void test_metrics_histogram_buckets_are_cumulative_with_sum_and_count(void **unused) {
  (void)unused;
  cx_metrics_t *metrics = cx_metrics_new(0);
  cx_metrics_shard_t *shard = cx_metrics_shard_new(metrics);
  cx_metric_series_t *latency = cx_metrics_series0(shard, CX_METRIC_COMMIT_LATENCY);
  cx_metrics_observe(latency, 0.001);  /* exactly at the first bound: in it */
  cx_metrics_observe(latency, 0.02);
  cx_metrics_observe(latency, 1000);   /* beyond every bound: +Inf only */
  cx_metrics_observe(latency, -1);     /* a clock step: counts as 0 */
  char *text = render(metrics);
  assert_non_null(strstr(text, "cxstream_commit_latency_seconds_bucket{le=\"0.001\"} 2\n"));
  assert_non_null(strstr(text, "cxstream_commit_latency_seconds_bucket{le=\"0.01\"} 2\n"));
  assert_non_null(strstr(text, "cxstream_commit_latency_seconds_bucket{le=\"0.025\"} 3\n"));
  assert_non_null(strstr(text, "cxstream_commit_latency_seconds_bucket{le=\"300\"} 3\n"));
  assert_non_null(strstr(text, "cxstream_commit_latency_seconds_bucket{le=\"+Inf\"} 4\n"));
  assert_non_null(strstr(text, "cxstream_commit_latency_seconds_sum 1000.021000000\n"));
  assert_non_null(strstr(text, "cxstream_commit_latency_seconds_count 4\n"));
  free(text);
  cx_metrics_destroy(metrics);
}

/* Observations kept in a cx_metrics_run_t and flushed render exactly as the
 * same observations one by one: bounds, 0, negatives, NaN, beyond the last
 * bound, runs in one bucket and alternations. */
static void test_metrics_run_adds_up_as_single_observations(void **unused) {
  (void)unused;
  static const double values[] = {0.001, 0.001, 0.0005, 0, -1, -0.5, 0.0011, 0.005, 1000, 4e9,
                                  0.3, 0.3, 0.25, 0.2500001, -2, 0.02, 300, 300.5, 7, 0.001,
                                  1e-12, 60, 0.049};
  cx_metrics_t *one = cx_metrics_new(0), *kept = cx_metrics_new(0);
  cx_metrics_shard_t *a = cx_metrics_shard_new(one), *b = cx_metrics_shard_new(kept);
  cx_metric_series_t *series = cx_metrics_series0(a, CX_METRIC_EVENT_LATENCY);
  cx_metrics_run_t run = {.series = cx_metrics_series0(b, CX_METRIC_EVENT_LATENCY)};
  uint64_t seed = 7;
  for (int i = 0; i < 5000; i++) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    double value = values[(seed >> 33) % (sizeof(values) / sizeof(values[0]))];
    if (i % 1000 == 999)
      value = 0.0 / 0.0; /* NaN counts as 0, as a negative does */
    cx_metrics_observe(series, value);
    cx_metrics_run_observe(&run, value);
    if (i % 777 == 0)
      cx_metrics_run_flush(&run);
  }
  cx_metrics_run_flush(&run);
  cx_metrics_run_flush(&run); /* twice: nothing more */
  char *expected = render(one), *got = render(kept);
  assert_string_equal(got, expected);
  assert_non_null(strstr(got, "cxstream_event_latency_seconds_count 5000\n"));
  free(expected);
  free(got);
  cx_metrics_run_t none = {0};
  cx_metrics_run_observe(&none, 1); /* no series: kept nowhere */
  cx_metrics_run_flush(&none);
  cx_metrics_destroy(one);
  cx_metrics_destroy(kept);
}

/* Shaped like librdkafka 2.0's statistics of a consumer (trimmed). */
static const char stats_two[] =
    "{\"name\":\"rdkafka#consumer-1\",\"type\":\"consumer\",\"brokers\":{\"127.0.0.1:9092/1\":"
    "{\"name\":\"127.0.0.1:9092/1\",\"toppars\":{\"in-0\":{\"topic\":\"in\",\"partition\":0}}}},"
    "\"topics\":{\"in\":{\"topic\":\"in\",\"age\":5,\"batchsize\":{\"min\":0,\"p99\":0},"
    "\"partitions\":{"
    "\"0\":{\"partition\":0,\"desired\":true,\"fetch_state\":\"active\",\"consumer_lag\":42,"
    "\"consumer_lag_stored\":50},"
    "\"1\":{\"partition\":1,\"desired\":true,\"consumer_lag\":0},"
    "\"2\":{\"partition\":2,\"desired\":false,\"consumer_lag\":7},"
    "\"-1\":{\"partition\":-1,\"desired\":false,\"consumer_lag\":-1}}}},"
    "\"cgrp\":{\"state\":\"up\",\"rebalance_cnt\":1}}";
static const char stats_one[] =
    "{\"topics\":{\"in\":{\"partitions\":{\"1\":{\"desired\":true,\"consumer_lag\":3},"
    "\"0\":{\"desired\":true,\"consumer_lag\":-1}}}}}";

static void test_metrics_consumer_lag_comes_from_librdkafka_statistics(void **unused) {
  (void)unused;
  cx_metrics_t *metrics = cx_metrics_new(0);
  cx_metrics_shard_t *shard = cx_metrics_shard_new(metrics);
  assert_int_equal(cx_metrics_consumer_stats(shard, stats_two, sizeof(stats_two) - 1), 0);
  char *text = render(metrics);
  assert_non_null(strstr(text, "cxstream_consumer_lag{topic=\"in\",partition=\"0\"} 42\n"
                               "cxstream_consumer_lag{topic=\"in\",partition=\"1\"} 0\n#"));
  free(text);
  /* Partition 0 no longer has a known lag: it drops out; 1 changes. */
  assert_int_equal(cx_metrics_consumer_stats(shard, stats_one, sizeof(stats_one) - 1), 0);
  text = render(metrics);
  assert_null(strstr(text, "partition=\"0\"} 42"));
  assert_non_null(strstr(text, "cxstream_consumer_lag{topic=\"in\",partition=\"1\"} 3\n#"));
  free(text);
  assert_int_equal(cx_metrics_consumer_stats(shard, "{\"topics\":{\"in\":", 16), -1);
  assert_int_equal(cx_metrics_consumer_stats(NULL, "x", 1), 0);
  cx_metrics_destroy(metrics);
}

static void test_metrics_ready_after_assignment_and_not_while_restoring(void **unused) {
  (void)unused;
  char why[256];
  cx_metrics_t *metrics = cx_metrics_new(0);
  assert_int_equal(cx_metrics_ready(metrics, why, sizeof(why)), 0);
  cx_metrics_shard_t *a = cx_metrics_shard_new(metrics);
  cx_metrics_shard_t *b = cx_metrics_shard_new(metrics);
  assert_int_equal(cx_metrics_ready(metrics, why, sizeof(why)), 0);
  assert_non_null(strstr(why, "first partition assignment"));
  cx_metrics_partitions_assigned(a, "assign", 2);
  assert_int_equal(cx_metrics_ready(metrics, why, sizeof(why)), 0);
  cx_metrics_partitions_assigned(b, "assign", 0); /* an empty assignment counts */
  assert_int_equal(cx_metrics_ready(metrics, why, sizeof(why)), 1);
  cx_metrics_restore_begin(a);
  cx_metrics_restore_begin(a);
  assert_int_equal(cx_metrics_ready(metrics, why, sizeof(why)), 0);
  assert_non_null(strstr(why, "restoring state (2 restore(s) open)"));
  cx_metrics_restore_end(a, "in", 0, 100);
  assert_int_equal(cx_metrics_ready(metrics, why, sizeof(why)), 0);
  cx_metrics_restore_end(a, "in", 1, 20);
  assert_int_equal(cx_metrics_ready(metrics, why, sizeof(why)), 1);
  const char *p0[] = {"in", "0"};
  assert_true(cx_metrics_value(metrics, CX_METRIC_RESTORE_RECORDS, p0) == 100);
  assert_true(cx_metrics_value(metrics, CX_METRIC_RESTORES, NULL) == 2);
  const char *assign[] = {"assign"};
  assert_true(cx_metrics_value(metrics, CX_METRIC_REBALANCES, assign) == 2);
  cx_metrics_set_stopping(metrics);
  assert_int_equal(cx_metrics_ready(metrics, why, sizeof(why)), 0);
  assert_string_equal(why, "stopping");
  cx_metrics_destroy(metrics);
}

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

static void test_metrics_unhealthy_when_a_loop_stops_beating(void **unused) {
  (void)unused;
  char why[256];
  cx_metrics_t *metrics = cx_metrics_new(100);
  cx_metrics_shard_t *shard = cx_metrics_shard_new(metrics);
  assert_int_equal(cx_metrics_healthy(metrics, why, sizeof(why)), 1); /* never beat: starting */
  cx_metrics_heartbeat(shard);
  assert_int_equal(cx_metrics_healthy(metrics, why, sizeof(why)), 1);
  sleep_ms(250);
  assert_int_equal(cx_metrics_healthy(metrics, why, sizeof(why)), 0);
  assert_non_null(strstr(why, "has not completed a loop"));
  cx_metrics_heartbeat(shard);
  assert_int_equal(cx_metrics_healthy(metrics, why, sizeof(why)), 1);
  cx_metrics_restore_begin(shard);
  sleep_ms(250);
  /* A long restore is not a stuck loop (readiness says not ready instead). */
  assert_int_equal(cx_metrics_healthy(metrics, why, sizeof(why)), 1);
  cx_metrics_restore_end(shard, NULL, 0, 0);
  cx_metrics_heartbeat(shard);
  sleep_ms(250);
  cx_metrics_shard_retire(shard); /* an ended thread is not a stuck one */
  assert_int_equal(cx_metrics_healthy(metrics, why, sizeof(why)), 1);
  cx_metrics_destroy(metrics);
}

typedef struct writer_s {
  cx_metrics_t *metrics;
  int id;
} writer_t;

static void *write_many(void *opaque) {
  writer_t *writer = opaque;
  cx_metrics_shard_t *shard = cx_metrics_shard_new(writer->metrics);
  char partition[16];
  for (int i = 0; i < 100000; i++) {
    /* New series now and then, while the renderer walks the tables. */
    snprintf(partition, sizeof(partition), "%d", i % 50);
    cx_metrics_add(cx_metrics_series3(shard, CX_METRIC_EVENTS, "in", partition, "WEB"), 1);
    cx_metrics_observe(cx_metrics_series0(shard, CX_METRIC_EVENT_LATENCY), 0.002);
  }
  cx_metrics_shard_retire(shard);
  return NULL;
}

static void test_metrics_threads_write_while_rendering_and_nothing_is_lost(void **unused) {
  (void)unused;
  cx_metrics_t *metrics = cx_metrics_new(0);
  pthread_t threads[4];
  writer_t writers[4];
  for (int t = 0; t < 4; t++) {
    writers[t] = (writer_t){metrics, t};
    pthread_create(&threads[t], NULL, write_many, &writers[t]);
  }
  for (int r = 0; r < 20; r++)
    free(render(metrics));
  for (int t = 0; t < 4; t++)
    pthread_join(threads[t], NULL);
  double total = 0;
  for (int p = 0; p < 50; p++) {
    char partition[16];
    snprintf(partition, sizeof(partition), "%d", p);
    const char *labels[] = {"in", partition, "WEB"};
    total += cx_metrics_value(metrics, CX_METRIC_EVENTS, labels);
  }
  assert_true(total == 400000);
  assert_true(cx_metrics_value(metrics, CX_METRIC_EVENT_LATENCY, NULL) == 400000);
  cx_metrics_destroy(metrics);
}

/* A plain HTTP/1.0 GET; returns the status and the body in body. */
static int http_get(int port, const char *path, char *body, size_t body_size) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = {0};
  address.sin_family = AF_INET;
  address.sin_port = htons((uint16_t)port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&address, sizeof(address)), 0);
  char request[256];
  int len = snprintf(request, sizeof(request), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
  assert_int_equal(write(fd, request, (size_t)len), len);
  static char response[65536];
  size_t used = 0;
  ssize_t n;
  while ((n = read(fd, response + used, sizeof(response) - 1 - used)) > 0)
    used += (size_t)n;
  response[used] = '\0';
  close(fd);
  int status = 0;
  sscanf(response, "HTTP/1.%*d %d", &status);
  const char *start = strstr(response, "\r\n\r\n");
  snprintf(body, body_size, "%s", start ? start + 4 : "");
  return status;
}

static void test_http_serves_metrics_health_and_readiness(void **unused) {
  (void)unused;
  char errstr[256], body[65536];
  cx_metrics_t *metrics = cx_metrics_new(0);
  cx_metrics_shard_t *shard = cx_metrics_shard_new(metrics);
  cx_metrics_add(cx_metrics_series2(shard, CX_METRIC_ALERTS, "long_wait", "high"), 5);
  cx_http_t *http = NULL;
  assert_int_equal(cx_http_start(metrics, "127.0.0.1:0", &http, errstr, sizeof(errstr)), CX_OK);
  int port = cx_http_port(http);
  assert_true(port > 0);
  assert_int_equal(http_get(port, "/metrics", body, sizeof(body)), 200);
  assert_non_null(strstr(body, "cxstream_alerts_total{rule=\"long_wait\",severity=\"high\"} 5\n"));
  assert_int_equal(http_get(port, "/healthz", body, sizeof(body)), 200);
  assert_int_equal(http_get(port, "/readyz", body, sizeof(body)), 503);
  assert_non_null(strstr(body, "not ok: waiting for the first partition assignment"));
  cx_metrics_partitions_assigned(shard, "assign", 1);
  assert_int_equal(http_get(port, "/readyz", body, sizeof(body)), 200);
  assert_int_equal(http_get(port, "/nothing", body, sizeof(body)), 404);
  /* The same port twice: the second cannot listen. */
  char listen[64];
  snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
  cx_http_t *second = NULL;
  assert_int_equal(cx_http_start(metrics, listen, &second, errstr, sizeof(errstr)), CX_ERR_IO);
  assert_non_null(strstr(errstr, listen));
  cx_http_stop(http);
  cx_metrics_destroy(metrics);
}

static void test_http_listen_address_must_be_host_and_port(void **unused) {
  (void)unused;
  char host[64], errstr[256];
  int port;
  assert_int_equal(cx_http_parse_listen("127.0.0.1:9464", host, sizeof(host), &port), 0);
  assert_string_equal(host, "127.0.0.1");
  assert_int_equal(port, 9464);
  assert_int_equal(cx_http_parse_listen("[::1]:80", host, sizeof(host), &port), 0);
  assert_string_equal(host, "::1");
  assert_int_equal(cx_http_parse_listen("9464", host, sizeof(host), &port), -1);
  assert_int_equal(cx_http_parse_listen(":9464", host, sizeof(host), &port), -1);
  assert_int_equal(cx_http_parse_listen("h:70000", host, sizeof(host), &port), -1);
  assert_int_equal(cx_http_parse_listen("h:", host, sizeof(host), &port), -1);
  cx_http_t *http = NULL;
  assert_int_equal(cx_http_start(NULL, "localhost", &http, errstr, sizeof(errstr)), CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, "expected HOST:PORT"));
}

static void test_metrics_null_shard_records_nothing(void **unused) {
  (void)unused;
  assert_null(cx_metrics_shard_new(NULL));
  assert_null(cx_metrics_series0(NULL, CX_METRIC_PROFILES));
  cx_metrics_add(NULL, 1);
  cx_metrics_set(NULL, 1);
  cx_metrics_observe(NULL, 1);
  cx_metrics_heartbeat(NULL);
  cx_metrics_partitions_assigned(NULL, "assign", 1);
  cx_metrics_restore_begin(NULL);
  cx_metrics_restore_end(NULL, "t", 0, 1);
  cx_metrics_shard_retire(NULL);
  cx_metrics_destroy(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_metrics_counters_of_all_shards_are_summed_and_sorted_by_labels),
    cmocka_unit_test(test_metrics_label_values_are_escaped),
    cmocka_unit_test(test_metrics_gauges_of_a_retired_shard_drop_out_and_its_counters_stay),
    cmocka_unit_test(test_metrics_histogram_buckets_are_cumulative_with_sum_and_count),
    cmocka_unit_test(test_metrics_run_adds_up_as_single_observations),
    cmocka_unit_test(test_metrics_consumer_lag_comes_from_librdkafka_statistics),
    cmocka_unit_test(test_metrics_ready_after_assignment_and_not_while_restoring),
    cmocka_unit_test(test_metrics_unhealthy_when_a_loop_stops_beating),
    cmocka_unit_test(test_metrics_threads_write_while_rendering_and_nothing_is_lost),
    cmocka_unit_test(test_http_serves_metrics_health_and_readiness),
    cmocka_unit_test(test_http_listen_address_must_be_host_and_port),
    cmocka_unit_test(test_metrics_null_shard_records_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
