/* The output producer's start-up (stream/kafka.c) on librdkafka's mock
 * cluster: cx_kafka_output_prepare asks for the output topics' metadata at
 * once, so the first message to a topic is delivered right away. Without
 * it, librdkafka 2.0 looks a topic first named by a produce call up only on
 * its 1 s timer: the first alerts of `run` (and so its first commit) waited
 * ~0.8 s after assignment. The bound below (600 ms) lies between the two. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "../stream/config.h"
#include "../stream/kafka.h"

typedef struct cluster_s {
  rd_kafka_t *host;                 /* owns the mock cluster */
  rd_kafka_mock_cluster_t *cluster; /* one broker */
  cx_config_t *config;              /* kafka.bootstrap.servers = the mock */
} cluster_t;

static void cluster_start(cluster_t *c) {
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  assert_int_equal(rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", errstr, sizeof(errstr)),
                   RD_KAFKA_CONF_OK);
  assert_int_equal(rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)),
                   RD_KAFKA_CONF_OK);
  c->host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  assert_non_null(c->host);
  c->cluster = rd_kafka_handle_mock_cluster(c->host);
  assert_non_null(c->cluster);
  assert_int_equal(rd_kafka_mock_topic_create(c->cluster, "out.alerts", 2, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(c->cluster, "out.state", 2, 1), 0);
  c->config = cx_config_new();
  assert_non_null(c->config);
  assert_int_equal(cx_config_set(c->config, "kafka.bootstrap.servers",
                                 rd_kafka_mock_cluster_bootstraps(c->cluster), errstr,
                                 sizeof(errstr)), CX_OK);
}

static void cluster_stop(cluster_t *c) {
  cx_config_destroy(c->config);
  rd_kafka_destroy(c->host);
}

static const char *const producer_defaults[] = {
  "linger.ms", "0",
  "log_level", "3",
  NULL,
};

/* The first message to each prepared topic (one by the partitioner, one to
 * an explicit partition, as state records go) is acknowledged well within
 * the second librdkafka would otherwise wait. */
static void test_prepared_topics_deliver_at_once(void **state) {
  (void)state;
  cluster_t c;
  cluster_start(&c);
  char errstr[512];
  cx_kafka_output_t output;
  assert_int_equal(cx_kafka_output_open(&output, c.config, producer_defaults, errstr,
                                        sizeof(errstr)), CX_OK);
  const char *topics[] = {"out.alerts", NULL, "", "out.state"};
  cx_kafka_output_prepare(&output, topics, 4, 5000);
  assert_int_equal(output.known_count, 2); /* NULL and "" skipped */

  cx_kafka_output_send(&output, "out.alerts", "c1", 2, "v", 1, 1000, NULL);
  cx_kafka_output_send_to(&output, "out.state", 1, "c1", 2, "s", 1, 1000, NULL);
  assert_int_equal(rd_kafka_flush(output.producer, 600), RD_KAFKA_RESP_ERR_NO_ERROR);
  assert_int_equal(output.delivery_failures, 0);
  cx_kafka_output_close(&output, 1000);
  cluster_stop(&c);
}

/* More topics than it keeps handles for: the rest are left to librdkafka. */
static void test_prepare_keeps_at_most_eight(void **state) {
  (void)state;
  cluster_t c;
  cluster_start(&c);
  char errstr[512];
  cx_kafka_output_t output;
  assert_int_equal(cx_kafka_output_open(&output, c.config, producer_defaults, errstr,
                                        sizeof(errstr)), CX_OK);
  const char *topics[10];
  for (int i = 0; i < 10; i++)
    topics[i] = "out.alerts";
  cx_kafka_output_prepare(&output, topics, 10, 5000);
  assert_int_equal(output.known_count, 8);
  cx_kafka_output_close(&output, 1000);
  assert_int_equal(output.known_count, 0);
  cluster_stop(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_prepared_topics_deliver_at_once),
    cmocka_unit_test(test_prepare_keeps_at_most_eight),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
