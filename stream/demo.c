/* The embedded demo (see demo.h): generate -> produce -> consume -> detect,
 * all through the same code as production, then a summary. Topic and group
 * names are unique per run so a real broker's old data is never read. */
#include "demo.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../bench/journey.h"
#include "clock.h"
#include "kafka.h"
#include "log.h"
#include "produce.h"
#include "runner.h"

#define DEMO_PARTITIONS 4

static int set(cx_config_t *config, const char *name, const char *value) {
  char errstr[256];
  if (cx_config_set(config, name, value, errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream demo: %s\n", errstr);
    return -1;
  }
  return 0;
}

int cx_demo_main(cx_config_t *config) {
  char errstr[512], name[128], bootstraps[512];
  rd_kafka_t *cluster_host = NULL;
  bool real = cx_config_kafka_get(config, "bootstrap.servers") != NULL;
  int rc = 1;

  snprintf(name, sizeof(name), "cxstream-demo-%ld-%lld", (long)getpid(),
           (long long)(cx_clock_wall_ms() / 1000));
  const char *suffixes[] = {".interactions", ".alerts", ".dlq", ".late"};
  const char *keys[] = {"input.topics", "output.alerts.topic", "output.dlq.topic",
                        "output.late.topic"};
  char topics[4][160];
  const char *topic_names[4];
  for (int i = 0; i < 4; i++) {
    snprintf(topics[i], sizeof(topics[i]), "%s%s", name, suffixes[i]);
    topic_names[i] = topics[i];
    if (set(config, keys[i], topics[i]))
      return 2;
  }
  if (set(config, "application.id", name))
    return 2;
  /* A demo run starts from nothing: no state to keep between runs. */
  if (set(config, "state.changelog", "false"))
    return 2;

  if (!real) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "test.mock.num.brokers", "3", errstr, sizeof(errstr)) ||
        !(cluster_host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
      fprintf(stderr, "cxstream demo: cannot start the in-process Kafka cluster: %s\n", errstr);
      rd_kafka_conf_destroy(conf);
      return 1;
    }
    rd_kafka_mock_cluster_t *cluster = rd_kafka_handle_mock_cluster(cluster_host);
    for (int i = 0; i < 4; i++)
      rd_kafka_mock_topic_create(cluster, topic_names[i], i == 0 ? DEMO_PARTITIONS : 1, 1);
    snprintf(bootstraps, sizeof(bootstraps), "%s", rd_kafka_mock_cluster_bootstraps(cluster));
    if (set(config, "kafka.bootstrap.servers", bootstraps))
      goto done;
    fprintf(stderr, "demo: in-process Kafka cluster (3 brokers) at %s\n", bootstraps);
  } else {
    fprintf(stderr, "demo: using the broker at %s\n",
            cx_config_kafka_get(config, "bootstrap.servers"));
  }

  cx_journey_config_t journey_config;
  cx_journey_config_default(&journey_config);
  journey_config.customers = 5000;
  journey_config.days = 3;
  journey_config.seed = 42;
  cx_journey_t *journey = NULL;
  if (cx_journey_new(&journey_config, &journey, errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream demo: %s\n", errstr);
    goto done;
  }
  cx_event_producer_t producer;
  if (cx_event_producer_open(&producer, config, topic_names[0], errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream demo: %s\n", errstr);
    cx_journey_destroy(journey);
    goto done;
  }
  if (real && cx_kafka_create_topics(producer.rk, topic_names, 4, DEMO_PARTITIONS, errstr,
                                     sizeof(errstr))) {
    fprintf(stderr, "cxstream demo: %s\n", errstr);
    cx_event_producer_close(&producer, errstr, sizeof(errstr));
    cx_journey_destroy(journey);
    goto done;
  }
  cx_event_t event;
  cx_err_t err = CX_OK;
  while (!err && cx_journey_next(journey, &event))
    err = cx_event_producer_send(&producer, &event, errstr, sizeof(errstr));
  uint64_t produced = producer.sent;
  cx_journey_destroy(journey);
  if (err || cx_event_producer_close(&producer, errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream demo: %s\n", errstr);
    goto done;
  }
  fprintf(stderr, "demo: produced %llu events of %llu customers over %u days to %s; "
                  "consuming as group %s\n",
          (unsigned long long)produced, (unsigned long long)journey_config.customers,
          journey_config.days, topic_names[0], name);

  cx_runner_options_t options = {NULL, NULL, 0, stdout, produced, 30000, false};
  cx_report_t report;
  cx_report_start(&report, false);
  rc = cx_runner_run(config, &options, &report);
  cx_report_summary(&report, "demo", stderr);
  if (!rc && report.messages < produced) {
    fprintf(stderr, "cxstream demo: consumed %llu of %llu events\n",
            (unsigned long long)report.messages, (unsigned long long)produced);
    rc = 1;
  }
done:
  if (cluster_host)
    rd_kafka_destroy(cluster_host);
  return rc;
}
