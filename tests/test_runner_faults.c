/* Faults that librdkafka's mock cluster can inject and a real broker cannot be
 * made to, thrown at the production loop cx_runner_run() (stream/runner.c):
 * a producer fenced mid-run, retriable errors on every request a transaction
 * and a group join make, an abortable transaction error (the runner rebuilds
 * in place), a produce error that is not retriable under at_least_once.
 * Each case
 * generates the same 1,603 events (300 customers, 2 days, seed 11) into 3
 * partitions of its own mock cluster (one broker: every leader and
 * coordinator, so the faults go on that broker's error stacks and the test
 * can check each one was answered), runs with batches of 50 (one
 * transaction each, so a run has dozens) and the state
 * changelog on, and compares the alerts on the alerts topic (alert_id, read
 * with read_committed, decoded with Avro-C) with a fault-free reference run.
 *
 * What librdkafka 2.0.2's mock cannot do, and what stands in for it here:
 * - CreateTopics: the mock names no controller, so rd_kafka_CreateTopics
 *   times out after 20 s, and cx_changelog_open() always asks for its topic
 *   (even when it exists). Every topic is created on the mock beforehand,
 *   <application.id>-state with 3 partitions (not compacted: the mock has no
 *   compaction, and nothing here needs it), and this file defines
 *   rd_kafka_CreateTopics and the two functions that read its result: the
 *   call becomes a request the mock answers (ListConsumerGroupOffsets), whose
 *   result then reads as "no topic errors".
 * - Transactional offsets: TxnOffsetCommit is answered but not stored, so a
 *   group's committed offsets never move under exactly_once. This file wraps
 *   send_offsets_to_transaction / commit_transaction / abort_transaction and
 *   keeps the offsets of the transactions whose commit succeeded (the
 *   "ledger": what a broker would hold); it also counts changelog restores
 *   (rd_kafka_query_watermark_offsets on the "-state" topic). A restarted
 *   or rebuilt exactly-once run starts from the earliest offset instead, and
 *   the changelog's progress records make it skip what was applied.
 * - Aborts and read_committed: the mock writes no transaction markers and
 *   hides nothing, so the outputs and state records of a failed or aborted
 *   transaction stay visible (the fenced and abortable cases say why they
 *   must still come out exact).
 * - A group's first join waits 3 s, and a join after a member left waits
 *   session.timeout.ms - 1 s (set to 4 s here; 45 s by default), so each
 *   run costs 3 to 5 s (10 s with the refused JoinGroup): about 45 s in
 *   all, also under ASan and valgrind (the time is spent waiting). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <cmocka.h>

#include <avro.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "../bench/journey.h"
#include "../stream/clock.h"
#include "../stream/config.h"
#include "../stream/log.h"
#include "../stream/produce.h"
#include "../stream/runner.h"

/* Kafka protocol ApiKeys (Debian does not install rdkafka_protocol.h). */
enum {
  API_PRODUCE = 0,
  API_JOIN_GROUP = 11,
  API_INIT_PRODUCER_ID = 22,
  API_ADD_OFFSETS_TO_TXN = 25,
  API_END_TXN = 26,
  API_TXN_OFFSET_COMMIT = 28,
};

#define PARTITIONS 3
#define BROKER 1          /* the one mock broker: every leader and coordinator */
#define IDLE_MS 15000     /* a run that stops receiving gives up after this */

/* --- stand-ins for what the mock lacks (see the top comment) ------------- */

static void *real_symbol(const char *name) {
  void *symbol = dlsym(RTLD_NEXT, name);
  if (!symbol) {
    fprintf(stderr, "test_runner_faults: %s not found in librdkafka\n", name);
    abort();
  }
  return symbol;
}
#define REAL(name) ((__typeof__(&name))real_symbol(#name))

static int create_topics_calls; /* cx_changelog_open asked for its topic */

void rd_kafka_CreateTopics(rd_kafka_t *rk, rd_kafka_NewTopic_t **new_topics,
                           size_t new_topic_cnt, const rd_kafka_AdminOptions_t *options,
                           rd_kafka_queue_t *rkqu) {
  (void)new_topics;
  (void)new_topic_cnt;
  (void)options;
  create_topics_calls++;
  rd_kafka_ListConsumerGroupOffsets_t *request =
      rd_kafka_ListConsumerGroupOffsets_new("test-runner-faults-create-topics", NULL);
  rd_kafka_ListConsumerGroupOffsets(rk, &request, 1, NULL, rkqu);
  rd_kafka_ListConsumerGroupOffsets_destroy(request);
}

static bool is_stand_in(const rd_kafka_event_t *event) {
  return rd_kafka_event_type(event) == RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT;
}

const rd_kafka_CreateTopics_result_t *rd_kafka_event_CreateTopics_result(rd_kafka_event_t *rkev) {
  if (is_stand_in(rkev))
    return rkev;
  return REAL(rd_kafka_event_CreateTopics_result)(rkev);
}

const rd_kafka_topic_result_t **rd_kafka_CreateTopics_result_topics(
    const rd_kafka_CreateTopics_result_t *result, size_t *cntp) {
  if (is_stand_in(result)) {
    *cntp = 0;
    return NULL;
  }
  return REAL(rd_kafka_CreateTopics_result_topics)(result, cntp);
}

/* Restores of a changelog partition: cx_changelog_restore() asks for its
 * watermarks first (nothing else queries a "-state" topic here). */
static int state_restores;

rd_kafka_resp_err_t rd_kafka_query_watermark_offsets(rd_kafka_t *rk, const char *topic,
                                                     int32_t partition, int64_t *low,
                                                     int64_t *high, int timeout_ms) {
  size_t length = strlen(topic);
  if (length > 6 && !strcmp(topic + length - 6, "-state"))
    state_restores++;
  return REAL(rd_kafka_query_watermark_offsets)(rk, topic, partition, low, high, timeout_ms);
}

/* The ledger: input offsets of committed transactions (one processing
 * thread, so no lock). */
typedef struct ledger_s {
  const char *topic;                /* the input topic */
  int64_t pending[PARTITIONS];      /* sent with the open transaction; -1 = none */
  int64_t committed[PARTITIONS];    /* of the last committed transaction that had any */
  int commits;                      /* commit_transaction calls that succeeded */
  int failures;                     /* send_offsets or commit calls that failed */
  int aborts;                       /* abort_transaction calls */
  const int64_t *stop_at;           /* raise SIGTERM once committed equals these, or NULL */
} ledger_t;

static ledger_t ledger;

static void ledger_reset(const char *topic) {
  ledger.topic = topic;
  for (int p = 0; p < PARTITIONS; p++)
    ledger.pending[p] = ledger.committed[p] = -1;
  ledger.commits = ledger.failures = ledger.aborts = 0;
  ledger.stop_at = NULL;
}

rd_kafka_error_t *rd_kafka_send_offsets_to_transaction(
    rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *offsets,
    const rd_kafka_consumer_group_metadata_t *cgmetadata, int timeout_ms) {
  rd_kafka_error_t *error =
      REAL(rd_kafka_send_offsets_to_transaction)(rk, offsets, cgmetadata, timeout_ms);
  if (error) {
    ledger.failures++;
    return error;
  }
  for (int i = 0; i < offsets->cnt; i++) {
    const rd_kafka_topic_partition_t *element = &offsets->elems[i];
    if (ledger.topic && !strcmp(element->topic, ledger.topic) && element->partition >= 0 &&
        element->partition < PARTITIONS)
      ledger.pending[element->partition] = element->offset;
  }
  return NULL;
}

rd_kafka_error_t *rd_kafka_commit_transaction(rd_kafka_t *rk, int timeout_ms) {
  rd_kafka_error_t *error = REAL(rd_kafka_commit_transaction)(rk, timeout_ms);
  if (error) {
    ledger.failures++;
  } else {
    ledger.commits++;
    bool at_end = ledger.stop_at != NULL;
    for (int p = 0; p < PARTITIONS; p++) {
      if (ledger.pending[p] >= 0)
        ledger.committed[p] = ledger.pending[p];
      at_end = at_end && ledger.committed[p] == ledger.stop_at[p];
    }
    /* The runner's own handler: it finishes the batch and leaves the group. */
    if (at_end)
      raise(SIGTERM);
  }
  for (int p = 0; p < PARTITIONS; p++)
    ledger.pending[p] = -1;
  return error;
}

rd_kafka_error_t *rd_kafka_abort_transaction(rd_kafka_t *rk, int timeout_ms) {
  ledger.aborts++;
  for (int p = 0; p < PARTITIONS; p++)
    ledger.pending[p] = -1;
  return REAL(rd_kafka_abort_transaction)(rk, timeout_ms);
}

/* --- one mock cluster per case ------------------------------------------- */

typedef struct mock_s {
  rd_kafka_t *host;                 /* owns the cluster */
  rd_kafka_mock_cluster_t *cluster; /* the in-process broker */
  char bootstraps[256];             /* its address */
  char app[64];                     /* application.id */
  char input[96], alerts[96], profiles[96], dlq[96], late[96], state[96]; /* topics */
  uint64_t produced;                /* input events */
  int64_t end[PARTITIONS];          /* input end offsets */
} mock_t;

static void mock_start(mock_t *mock, const char *name) {
  char errstr[512];
  memset(mock, 0, sizeof(*mock));
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  assert_int_equal(rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", errstr, sizeof(errstr)),
                   RD_KAFKA_CONF_OK);
  assert_int_equal(rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)),
                   RD_KAFKA_CONF_OK);
  mock->host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  assert_non_null(mock->host);
  mock->cluster = rd_kafka_handle_mock_cluster(mock->host);
  assert_non_null(mock->cluster);
  snprintf(mock->bootstraps, sizeof(mock->bootstraps), "%s",
           rd_kafka_mock_cluster_bootstraps(mock->cluster));
  snprintf(mock->app, sizeof(mock->app), "faults-%s", name);
  snprintf(mock->input, sizeof(mock->input), "%s.interactions", mock->app);
  snprintf(mock->alerts, sizeof(mock->alerts), "%s.alerts", mock->app);
  snprintf(mock->profiles, sizeof(mock->profiles), "%s.profiles", mock->app);
  snprintf(mock->dlq, sizeof(mock->dlq), "%s.dlq", mock->app);
  snprintf(mock->late, sizeof(mock->late), "%s.late", mock->app);
  snprintf(mock->state, sizeof(mock->state), "%s-state", mock->app);
  const char *topics[] = {mock->input, mock->alerts, mock->profiles, mock->dlq, mock->late,
                          mock->state};
  const int partitions[] = {PARTITIONS, PARTITIONS, PARTITIONS, 1, 1, PARTITIONS};
  for (int i = 0; i < 6; i++)
    assert_int_equal(rd_kafka_mock_topic_create(mock->cluster, topics[i], partitions[i], 1), 0);
  ledger_reset(mock->input);
  create_topics_calls = 0;
  state_restores = 0;
}

static void mock_stop(mock_t *mock) {
  rd_kafka_destroy(mock->host);
}

static cx_config_t *mock_config(const mock_t *mock, const char *guarantee) {
  enum { PAIRS = 16 };
  char pairs[PAIRS][384];
  int n = 0;
  snprintf(pairs[n++], sizeof(pairs[0]), "application.id=%s", mock->app);
  snprintf(pairs[n++], sizeof(pairs[0]), "input.topics=%s", mock->input);
  snprintf(pairs[n++], sizeof(pairs[0]), "output.alerts.topic=%s", mock->alerts);
  snprintf(pairs[n++], sizeof(pairs[0]), "output.profiles.topic=%s", mock->profiles);
  snprintf(pairs[n++], sizeof(pairs[0]), "output.dlq.topic=%s", mock->dlq);
  snprintf(pairs[n++], sizeof(pairs[0]), "output.late.topic=%s", mock->late);
  snprintf(pairs[n++], sizeof(pairs[0]), "kafka.bootstrap.servers=%s", mock->bootstraps);
  snprintf(pairs[n++], sizeof(pairs[0]), "processing.guarantee=%s", guarantee);
  snprintf(pairs[n++], sizeof(pairs[0]), "processing.batch.size=50");
  /* Batches of at most 50 messages or 1 ms, each its own transaction under
   * exactly_once (run() sets transaction_per_batch): dozens per run for the
   * faults to hit. */
  snprintf(pairs[n++], sizeof(pairs[0]), "commit.interval.ms=1");
  snprintf(pairs[n++], sizeof(pairs[0]), "metrics.listen=");
  snprintf(pairs[n++], sizeof(pairs[0]), "log.level=error");
  snprintf(pairs[n++], sizeof(pairs[0]), "state.changelog=true");
  snprintf(pairs[n++], sizeof(pairs[0]), "schema.dir=schemas");
  /* A member that left makes the mock rebalance for session.timeout.ms - 1 s
   * before a restarted member can join (45 s by default). */
  snprintf(pairs[n++], sizeof(pairs[0]), "kafka.session.timeout.ms=4000");
  snprintf(pairs[n++], sizeof(pairs[0]), "kafka.heartbeat.interval.ms=500");
  const char *list[PAIRS];
  for (int i = 0; i < n; i++)
    list[i] = pairs[i];
  cx_config_t *config = NULL;
  char errstr[512];
  if (cx_config_build(NULL, list, (size_t)n, &config, errstr, sizeof(errstr)))
    fail_msg("config: %s", errstr);
  return config;
}

/* The same events for every case: same seed, same keys, same partitions. */
static void produce_events(mock_t *mock, const cx_config_t *config) {
  char errstr[512];
  cx_journey_config_t journey_config;
  cx_journey_config_default(&journey_config);
  journey_config.customers = 300;
  journey_config.days = 2;
  journey_config.seed = 11;
  cx_journey_t *journey = NULL;
  assert_int_equal(cx_journey_new(&journey_config, &journey, errstr, sizeof(errstr)), CX_OK);
  cx_event_producer_t producer;
  if (cx_event_producer_open(&producer, config, mock->input, errstr, sizeof(errstr)))
    fail_msg("producer: %s", errstr);
  cx_event_t event;
  while (cx_journey_next(journey, &event))
    if (cx_event_producer_send(&producer, &event, errstr, sizeof(errstr)))
      fail_msg("produce: %s", errstr);
  mock->produced = producer.sent;
  cx_journey_destroy(journey);
  if (cx_event_producer_close(&producer, errstr, sizeof(errstr)))
    fail_msg("produce: %s", errstr);
  assert_true(mock->produced > 1000);

  /* End offsets, through a plain consumer. */
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", mock->bootstraps, NULL, 0);
  rd_kafka_conf_set(conf, "log_level", "3", NULL, 0);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  assert_non_null(rk);
  int64_t total = 0;
  for (int p = 0; p < PARTITIONS; p++) {
    int64_t low = 0;
    assert_int_equal(rd_kafka_query_watermark_offsets(rk, mock->input, p, &low, &mock->end[p],
                                                      10000), 0);
    assert_true(mock->end[p] > 0); /* every partition has events */
    total += mock->end[p];
  }
  assert_int_equal(total, (int64_t)mock->produced);
  rd_kafka_destroy(rk);
}

static int64_t run_ms; /* wall time of the last run */

static int run(const cx_config_t *config, uint64_t stop_after, cx_report_t *report) {
  /* One transaction per batch: a fast build would fit several full batches
   * in one commit.interval.ms, and the faults count transactions. */
  cx_runner_options_t options = {NULL, NULL, 0, NULL, stop_after, IDLE_MS, true};
  cx_report_start(report, false);
  int64_t started = cx_clock_mono_ms();
  int rc = cx_runner_run(config, &options, report);
  run_ms = cx_clock_mono_ms() - started;
  return rc;
}

/* Pushes errors onto the broker's stack for api: the next requests of that
 * kind get them in order (0 = answered normally, so a fault can wait for
 * the n-th request). */
static void push_errors(mock_t *mock, int16_t api, size_t count, const rd_kafka_resp_err_t *errors) {
  for (size_t i = 0; i < count; i++)
    assert_int_equal(rd_kafka_mock_broker_push_request_error_rtts(mock->cluster, BROKER, api, 1,
                                                                  errors[i], 0),
                     0);
}

/* Every pushed error was answered to some request. */
static void assert_errors_consumed(mock_t *mock, int16_t api) {
  size_t left = 99;
  assert_int_equal(rd_kafka_mock_broker_error_stack_cnt(mock->cluster, BROKER, api, &left), 0);
  if (left)
    fail_msg("%zu injected error(s) of ApiKey %d were never answered", left, (int)api);
}

/* --- reading results back ------------------------------------------------- */

typedef struct ids_s {
  char (*id)[33];     /* alert_ids, sorted */
  size_t count;       /* entries */
} ids_t;

static int compare_ids(const void *a, const void *b) {
  return strcmp((const char *)a, (const char *)b);
}

/* Every alert on the alerts topic, read_committed, decoded with Avro-C
 * (schemas/alert.avsc, schema id 2 of schemas/registry.properties). */
static ids_t read_alert_ids(const mock_t *mock) {
  char errstr[512];
  FILE *file = fopen("schemas/alert.avsc", "r");
  assert_non_null(file);
  static char json[16384];
  size_t json_len = fread(json, 1, sizeof(json) - 1, file);
  fclose(file);
  json[json_len] = '\0';
  avro_schema_t schema;
  if (avro_schema_from_json_length(json, json_len, &schema))
    fail_msg("alert.avsc: %s", avro_strerror());
  avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
  assert_non_null(iface);
  avro_value_t value;
  assert_int_equal(avro_generic_value_new(iface, &value), 0);

  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  char group[128];
  snprintf(group, sizeof(group), "%s-reader", mock->app);
  rd_kafka_conf_set(conf, "bootstrap.servers", mock->bootstraps, NULL, 0);
  rd_kafka_conf_set(conf, "group.id", group, NULL, 0);
  rd_kafka_conf_set(conf, "isolation.level", "read_committed", NULL, 0);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0);
  rd_kafka_conf_set(conf, "log_level", "3", NULL, 0);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  assert_non_null(rk);
  int64_t high[PARTITIONS], next[PARTITIONS], total = 0;
  rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(PARTITIONS);
  for (int p = 0; p < PARTITIONS; p++) {
    int64_t low = 0;
    assert_int_equal(rd_kafka_query_watermark_offsets(rk, mock->alerts, p, &low, &high[p], 10000),
                     0);
    next[p] = low;
    total += high[p] - low;
    rd_kafka_topic_partition_list_add(list, mock->alerts, p)->offset = low;
  }
  assert_int_equal(rd_kafka_assign(rk, list), 0);
  rd_kafka_topic_partition_list_destroy(list);

  ids_t ids = {calloc((size_t)total + 1, sizeof(*ids.id)), 0};
  assert_non_null(ids.id);
  int64_t give_up = cx_clock_mono_ms() + 20000;
  for (;;) {
    bool done = true;
    for (int p = 0; p < PARTITIONS; p++)
      done = done && next[p] >= high[p];
    if (done)
      break;
    if (cx_clock_mono_ms() > give_up)
      fail_msg("alerts: read %zu of %lld within 20 s", ids.count, (long long)total);
    rd_kafka_message_t *message = rd_kafka_consumer_poll(rk, 200);
    if (!message)
      continue;
    if (message->err) {
      rd_kafka_message_destroy(message);
      continue;
    }
    next[message->partition] = message->offset + 1;
    const uint8_t *bytes = message->payload;
    assert_true(message->len > 5);
    assert_int_equal(bytes[0], 0);
    int32_t schema_id = (int32_t)((uint32_t)bytes[1] << 24 | (uint32_t)bytes[2] << 16 |
                                  (uint32_t)bytes[3] << 8 | bytes[4]);
    assert_int_equal(schema_id, 2);
    avro_reader_t reader = avro_reader_memory((const char *)bytes + 5, (int64_t)message->len - 5);
    avro_value_reset(&value);
    if (avro_value_read(reader, &value))
      fail_msg("alert at %s [%d] offset %lld: %s", mock->alerts, (int)message->partition,
               (long long)message->offset, avro_strerror());
    avro_reader_free(reader);
    avro_value_t field;
    const char *text = NULL;
    size_t size = 0;
    assert_int_equal(avro_value_get_by_name(&value, "alert_id", &field, NULL), 0);
    assert_int_equal(avro_value_get_string(&field, &text, &size), 0);
    assert_int_equal(size, 33); /* 32 hex digits and the NUL */
    assert_true((int64_t)ids.count < total);
    memcpy(ids.id[ids.count++], text, 33);
    rd_kafka_message_destroy(message);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  avro_value_decref(&value);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
  qsort(ids.id, ids.count, sizeof(*ids.id), compare_ids);
  return ids;
}

static size_t distinct_count(const ids_t *ids) {
  size_t distinct = 0;
  for (size_t i = 0; i < ids->count; i++)
    if (i == 0 || strcmp(ids->id[i], ids->id[i - 1]))
      distinct++;
  return distinct;
}

static bool contains(const ids_t *ids, const char *id) {
  return bsearch(id, ids->id, ids->count, sizeof(*ids->id), compare_ids) != NULL;
}

/* Every id of want is in got (ignoring how often). Returns the missing count. */
static size_t missing_from(const ids_t *want, const ids_t *got) {
  size_t missing = 0;
  for (size_t i = 0; i < want->count; i++)
    if (!contains(got, want->id[i]))
      missing++;
  return missing;
}

static void assert_same_multiset(const ids_t *want, const ids_t *got) {
  if (got->count != want->count)
    fail_msg("%zu alerts instead of the reference's %zu (%zu of the reference's missing, %zu "
             "distinct)", got->count, want->count, missing_from(want, got), distinct_count(got));
  for (size_t i = 0; i < want->count; i++)
    if (strcmp(want->id[i], got->id[i]))
      fail_msg("alert %s differs from the reference's %s", got->id[i], want->id[i]);
}

/* The group's committed input offsets (at_least_once commits them for real). */
static void committed_offsets(const mock_t *mock, int64_t offsets[PARTITIONS]) {
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", mock->bootstraps, NULL, 0);
  rd_kafka_conf_set(conf, "group.id", mock->app, NULL, 0);
  rd_kafka_conf_set(conf, "log_level", "3", NULL, 0);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  assert_non_null(rk);
  rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(PARTITIONS);
  for (int p = 0; p < PARTITIONS; p++)
    rd_kafka_topic_partition_list_add(list, mock->input, p);
  assert_int_equal(rd_kafka_committed(rk, list, 10000), 0);
  for (int p = 0; p < PARTITIONS; p++) {
    assert_int_equal(list->elems[p].err, 0);
    offsets[p] = list->elems[p].offset; /* RD_KAFKA_OFFSET_INVALID (-1001) = none */
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy(rk);
}

static int64_t offset_sum(const int64_t offsets[PARTITIONS]) {
  int64_t sum = 0;
  for (int p = 0; p < PARTITIONS; p++)
    sum += offsets[p] > 0 ? offsets[p] : 0;
  return sum;
}

static void assert_offsets_at_end(const mock_t *mock, const int64_t offsets[PARTITIONS],
                                  const char *what) {
  for (int p = 0; p < PARTITIONS; p++)
    if (offsets[p] != mock->end[p])
      fail_msg("%s offset of partition %d: %lld, end %lld", what, p, (long long)offsets[p],
               (long long)mock->end[p]);
}

/* --- the cases ------------------------------------------------------------ */

static ids_t reference;

/* A fault-free exactly-once run: the alerts every other case must give. */
static void test_reference_run_without_faults(void **unused) {
  (void)unused;
  mock_t mock;
  mock_start(&mock, "reference");
  cx_config_t *config = mock_config(&mock, "exactly_once");
  produce_events(&mock, config);
  cx_report_t report;
  assert_int_equal(run(config, mock.produced, &report), 0);
  assert_int_equal(report.messages, mock.produced);
  assert_int_equal(create_topics_calls, 1); /* the stand-in really stood in */
  assert_int_equal(state_restores, PARTITIONS);
  assert_offsets_at_end(&mock, ledger.committed, "committed transaction");
  reference = read_alert_ids(&mock);
  fprintf(stderr, "reference: %llu events, %zu alerts (%zu distinct), %d transactions, %lld ms\n",
          (unsigned long long)mock.produced, reference.count, distinct_count(&reference),
          ledger.commits, (long long)run_ms);
  assert_true(reference.count > 20);
  assert_int_equal(reference.count, cx_report_alert_total(&report));
  assert_int_equal(distinct_count(&reference), reference.count); /* exactly once: no repeats */
  cx_config_destroy(config);
  mock_stop(&mock);
}

static void test_fenced_producer_stops_and_a_restart_completes_exactly(void **unused) {
  (void)unused;
  assert_true(reference.count > 0);
  mock_t mock;
  mock_start(&mock, "fenced");
  cx_config_t *config = mock_config(&mock, "exactly_once");
  produce_events(&mock, config);
  /* Three transactions commit, the fourth's EndTxn finds the producer fenced. */
  const rd_kafka_resp_err_t errors[] = {0, 0, 0, RD_KAFKA_RESP_ERR_PRODUCER_FENCED};
  push_errors(&mock, API_END_TXN, 4, errors);
  cx_report_t report;
  assert_int_equal(run(config, mock.produced, &report), 1);
  assert_errors_consumed(&mock, API_END_TXN);
  int64_t first_committed = offset_sum(ledger.committed);
  fprintf(stderr, "fenced: run 1 consumed %llu, %d transactions committed up to %lld of %llu "
          "events, %lld ms\n", (unsigned long long)report.messages, ledger.commits,
          (long long)first_committed, (unsigned long long)mock.produced, (long long)run_ms);
  assert_int_equal(ledger.commits, 3);
  assert_true(first_committed > 0 && first_committed < (int64_t)mock.produced);
  assert_true(report.messages < mock.produced); /* it stopped at the fence */
  ids_t after_fence = read_alert_ids(&mock);
  assert_true(after_fence.count < reference.count);
  assert_int_equal(missing_from(&after_fence, &reference), 0); /* nothing foreign */
  free(after_fence.id);

  /* The restart: a new producer epoch, state from the changelog. The mock
   * stored no offsets (TxnOffsetCommit), so it reads from the earliest
   * offset; the changelog's progress records (written in every
   * transaction, the fenced one included: the mock did not abort it) mark
   * what was applied, and those events only advance event time. The fenced
   * transaction's alerts stay visible on the mock, so exactly the reference
   * must come out: an event applied twice would repeat an alert, one
   * skipped wrongly would lose one. On a broker the fenced transaction is
   * aborted and hidden, its state records too, and the restart resumes from
   * the last committed offsets: again exactly the reference. */
  assert_int_equal(run(config, mock.produced, &report), 0);
  fprintf(stderr, "fenced: run 2 consumed %llu (%llu applied before), %lld ms\n",
          (unsigned long long)report.messages, (unsigned long long)report.duplicates,
          (long long)run_ms);
  assert_int_equal(report.messages, mock.produced);
  assert_true(report.duplicates > 0);
  assert_offsets_at_end(&mock, ledger.committed, "committed transaction");
  ids_t alerts = read_alert_ids(&mock);
  assert_same_multiset(&reference, &alerts);
  free(alerts.id);
  cx_config_destroy(config);
  mock_stop(&mock);
}

static void test_retriable_errors_under_exactly_once_change_nothing(void **unused) {
  (void)unused;
  assert_true(reference.count > 0);
  mock_t mock;
  mock_start(&mock, "retriable");
  cx_config_t *config = mock_config(&mock, "exactly_once");
  produce_events(&mock, config);
  /* Each refused JoinGroup costs a rejoin of ~2.5 s on the mock: one only. */
  const rd_kafka_resp_err_t join[] = {RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE};
  const rd_kafka_resp_err_t init[] = {RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS};
  const rd_kafka_resp_err_t produce[] = {0, 0, 0, 0, 0, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                         RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, 0, 0, 0,
                                         RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT};
  const rd_kafka_resp_err_t add_offsets[] = {0, 0, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
                                             RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS};
  const rd_kafka_resp_err_t txn_offsets[] = {0, 0, 0,
                                             RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
                                             RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE};
  const rd_kafka_resp_err_t end_txn[] = {0, 0, 0, 0, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
                                         RD_KAFKA_RESP_ERR_NOT_COORDINATOR};
  push_errors(&mock, API_JOIN_GROUP, 1, join);
  push_errors(&mock, API_INIT_PRODUCER_ID, 1, init);
  push_errors(&mock, API_PRODUCE, sizeof(produce) / sizeof(produce[0]), produce);
  push_errors(&mock, API_ADD_OFFSETS_TO_TXN, 4, add_offsets);
  push_errors(&mock, API_TXN_OFFSET_COMMIT, 5, txn_offsets);
  push_errors(&mock, API_END_TXN, 6, end_txn);
  cx_report_t report;
  int rc = run(config, mock.produced, &report);
  fprintf(stderr, "retriable: rc %d, consumed %llu, %d transactions, %lld ms\n", rc,
          (unsigned long long)report.messages, ledger.commits, (long long)run_ms);
  assert_int_equal(rc, 0);
  const int16_t apis[] = {API_JOIN_GROUP, API_INIT_PRODUCER_ID, API_PRODUCE,
                          API_ADD_OFFSETS_TO_TXN, API_TXN_OFFSET_COMMIT, API_END_TXN};
  for (int i = 0; i < 6; i++)
    assert_errors_consumed(&mock, apis[i]);
  assert_int_equal(report.messages, mock.produced);
  assert_int_equal(ledger.failures, 0);
  assert_offsets_at_end(&mock, ledger.committed, "committed transaction");
  ids_t alerts = read_alert_ids(&mock);
  assert_same_multiset(&reference, &alerts);
  free(alerts.id);
  cx_config_destroy(config);
  mock_stop(&mock);
}

static void test_at_least_once_undeliverable_output_stops_before_committing(void **unused) {
  (void)unused;
  assert_true(reference.count > 0);
  mock_t mock;
  mock_start(&mock, "undeliverable");
  cx_config_t *config = mock_config(&mock, "at_least_once");
  produce_events(&mock, config);
  /* Some produce requests succeed, then one is refused for good. */
  rd_kafka_resp_err_t produce[6] = {0};
  produce[5] = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
  push_errors(&mock, API_PRODUCE, 6, produce);
  cx_report_t report;
  assert_int_equal(run(config, mock.produced, &report), 1);
  assert_errors_consumed(&mock, API_PRODUCE);
  int64_t committed[PARTITIONS];
  committed_offsets(&mock, committed);
  int64_t first_committed = offset_sum(committed);
  fprintf(stderr, "undeliverable: run 1 consumed %llu, committed %lld of %llu, %lld ms\n",
          (unsigned long long)report.messages, (long long)first_committed,
          (unsigned long long)mock.produced, (long long)run_ms);
  assert_true(first_committed > 0);
  assert_true(first_committed < (int64_t)report.messages); /* the failed batch is not committed */
  ids_t after_failure = read_alert_ids(&mock);
  assert_int_equal(missing_from(&after_failure, &reference), 0); /* nothing foreign */
  free(after_failure.id);

  /* The restart resumes from the committed offsets. */
  assert_int_equal(run(config, mock.produced - (uint64_t)first_committed, &report), 0);
  fprintf(stderr, "undeliverable: run 2 consumed %llu (%llu applied before), %lld ms\n",
          (unsigned long long)report.messages, (unsigned long long)report.duplicates,
          (long long)run_ms);
  assert_int_equal(report.messages, mock.produced - (uint64_t)first_committed);
  committed_offsets(&mock, committed);
  assert_offsets_at_end(&mock, committed, "committed");
  ids_t alerts = read_alert_ids(&mock);
  size_t missing = missing_from(&reference, &alerts);
  size_t distinct = distinct_count(&alerts);
  fprintf(stderr, "undeliverable: %zu alerts, %zu distinct, %zu duplicate(s), %zu of the "
          "reference missing\n", alerts.count, distinct, alerts.count - distinct, missing);
  assert_int_equal(missing, 0);
  assert_int_equal(missing_from(&alerts, &reference), 0);
  free(alerts.id);
  cx_config_destroy(config);
  mock_stop(&mock);
}

/* exactly_once, an abortable error (ILLEGAL_GENERATION on TxnOffsetCommit:
 * the group moved on) aborts the transaction and the runner rebuilds its
 * partitions in place: state from the changelog, input from the committed
 * offsets. The run goes on (exit 0) and the alerts are exactly the
 * reference. On the mock the rebuild finds no committed offsets (they are
 * not stored) and reads the input again from the start, while the restored
 * progress (the aborted transaction's included: the mock hides nothing)
 * skips what was applied, and the aborted transaction's alerts stay
 * visible; on a broker they are hidden and the rebuild redoes that batch
 * alone. Either way an event applied twice or skipped wrongly shows. The
 * input is read more than once, so stop_after cannot end this run: the
 * ledger raises SIGTERM once the end offsets are committed. */
static void test_abortable_error_under_exactly_once_rebuilds_in_place(void **unused) {
  (void)unused;
  assert_true(reference.count > 0);
  mock_t mock;
  mock_start(&mock, "abortable");
  cx_config_t *config = mock_config(&mock, "exactly_once");
  produce_events(&mock, config);
  const rd_kafka_resp_err_t txn_offsets[] = {0, 0, 0, 0, 0, RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION};
  push_errors(&mock, API_TXN_OFFSET_COMMIT, 6, txn_offsets);
  ledger.stop_at = mock.end;
  cx_report_t report;
  int rc = run(config, 4 * mock.produced, &report); /* stops on SIGTERM, or idle at worst */
  fprintf(stderr, "abortable: rc %d, consumed %llu (%llu applied before), %d transactions, %d "
          "failed, %lld ms\n", rc, (unsigned long long)report.messages,
          (unsigned long long)report.duplicates, ledger.commits, ledger.failures,
          (long long)run_ms);
  assert_int_equal(rc, 0);
  assert_errors_consumed(&mock, API_TXN_OFFSET_COMMIT);
  assert_int_equal(ledger.failures, 1);
  assert_true(report.messages > mock.produced); /* went back after the abort */
  /* On the mock, a rebuild that kept the state (ahead of the offsets) would
   * give the same alerts; on a broker it would lose the aborted ones. */
  assert_int_equal(state_restores, 2 * PARTITIONS);
  assert_offsets_at_end(&mock, ledger.committed, "committed transaction");
  ids_t alerts = read_alert_ids(&mock);
  assert_same_multiset(&reference, &alerts);
  free(alerts.id);
  cx_config_destroy(config);
  mock_stop(&mock);
}

/* exactly_once, an abortable error that comes back every time (the group
 * lacks an authorization, say): the runner does not rebuild around it
 * forever; after MAX_ABORTS_IN_A_ROW (5) aborts without a commit between it
 * stops with 1, its transaction aborted, the committed offsets short of the
 * end. (Before: it rebuilt and re-read for as long as the error lasted.) */
static void test_abortable_error_every_time_stops_after_five_aborts(void **unused) {
  (void)unused;
  assert_true(reference.count > 0);
  mock_t mock;
  mock_start(&mock, "abortable-again");
  cx_config_t *config = mock_config(&mock, "exactly_once");
  produce_events(&mock, config);
  rd_kafka_resp_err_t txn_offsets[9] = {0};
  for (int i = 3; i < 9; i++)
    txn_offsets[i] = RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION;
  push_errors(&mock, API_TXN_OFFSET_COMMIT, 9, txn_offsets);
  ledger.stop_at = mock.end;
  cx_report_t report;
  int rc = run(config, 10 * mock.produced, &report);
  fprintf(stderr, "abortable-again: rc %d, consumed %llu, %d transactions, %d failed, %d aborts, "
          "%lld ms\n", rc, (unsigned long long)report.messages, ledger.commits, ledger.failures,
          ledger.aborts, (long long)run_ms);
  assert_int_equal(rc, 1);
  assert_errors_consumed(&mock, API_TXN_OFFSET_COMMIT);
  assert_int_equal(ledger.commits, 3);
  assert_int_equal(ledger.failures, 6);
  assert_int_equal(ledger.aborts, 6);
  assert_true(offset_sum(ledger.committed) < offset_sum(mock.end));
  cx_config_destroy(config);
  mock_stop(&mock);
}

/* exactly_once, an output refused for good (TOPIC_AUTHORIZATION_FAILED on
 * Produce) inside a transaction: the run stops with 1 and aborts that
 * transaction at once, instead of leaving it open (read_committed readers
 * would wait for transaction.timeout.ms) and trying to commit it again when
 * its partitions are revoked on the way out. */
static void test_undeliverable_output_under_exactly_once_aborts_and_stops(void **unused) {
  (void)unused;
  assert_true(reference.count > 0);
  mock_t mock;
  mock_start(&mock, "undeliverable-eos");
  cx_config_t *config = mock_config(&mock, "exactly_once");
  produce_events(&mock, config);
  rd_kafka_resp_err_t produce[6] = {0};
  produce[5] = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
  push_errors(&mock, API_PRODUCE, 6, produce);
  cx_report_t report;
  int rc = run(config, mock.produced, &report);
  fprintf(stderr, "undeliverable-eos: rc %d, consumed %llu, %d transactions, %d failed, %d "
          "aborts, %lld ms\n", rc, (unsigned long long)report.messages, ledger.commits,
          ledger.failures, ledger.aborts, (long long)run_ms);
  assert_int_equal(rc, 1);
  assert_errors_consumed(&mock, API_PRODUCE);
  assert_int_equal(ledger.aborts, 1);
  assert_int_equal(ledger.failures, 0); /* no commit attempt of the failed transaction */
  assert_true(offset_sum(ledger.committed) < offset_sum(mock.end));
  cx_config_destroy(config);
  mock_stop(&mock);
}

static int teardown(void **unused) {
  (void)unused;
  free(reference.id);
  return 0;
}

int main(void) {
  cx_log_set_level(CX_LOG_ERROR); /* before the first run sets log.level */
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_reference_run_without_faults),
    cmocka_unit_test(test_fenced_producer_stops_and_a_restart_completes_exactly),
    cmocka_unit_test(test_retriable_errors_under_exactly_once_change_nothing),
    cmocka_unit_test(test_at_least_once_undeliverable_output_stops_before_committing),
    cmocka_unit_test(test_abortable_error_under_exactly_once_rebuilds_in_place),
    cmocka_unit_test(test_abortable_error_every_time_stops_after_five_aborts),
    cmocka_unit_test(test_undeliverable_output_under_exactly_once_aborts_and_stops),
  };
  return cmocka_run_group_tests(tests, NULL, teardown);
}
