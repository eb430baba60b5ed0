/* cxstream-gen: writes the journey generator's events (bench/journey.h) to an
 * Avro object container file or to a Kafka topic (key = customer_id, value =
 * Confluent framing + Avro binary, message timestamp = occurred_at). The
 * same flags and seed give the same events, whatever the output. With
 * --labelled it writes a labelled set and its ground truth (--labels), one
 * JSON object per expected (customer, rule), for bench/quality. */
#include <avro.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../stream/event_avro.h"
#include "../stream/clock.h"
#include "../stream/frame.h"
#include "../stream/ocf.h"
#include "journey.h"

#ifndef CX_VERSION
#define CX_VERSION "0.0.0"
#endif

#define EXIT_USAGE 2
#define FLUSH_TIMEOUT_MS 60000
#define METADATA_TIMEOUT_MS 10000
#define MAX_KAFKA_PROPERTIES 64

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int signal_number) {
  (void)signal_number;
  stop_requested = 1;
}

/* Everything the command line sets. */
typedef struct options_s {
  cx_journey_config_t journey;   /* generator config */
  bool days_given;               /* --days was on the command line */
  const char *output_path;       /* -o FILE, or NULL */
  const char *topic;             /* --topic T, or NULL */
  const char *schema_dir;        /* --schema-dir DIR */
  int32_t schema_id;             /* --schema-id N */
  bool schema_id_given;          /* --schema-id was on the command line */
  const char *kafka_properties[MAX_KAFKA_PROPERTIES]; /* "<key>=<value>" of -X kafka.* */
  size_t kafka_count;            /* -X properties given */
  const char *labels_path;       /* --labels FILE, or NULL */
} options_t;

static const char usage_text[] =
  "usage: cxstream-gen [options] -o OUT.avro\n"
  "       cxstream-gen [options] --topic T [-X kafka.key=value ...] [--schema-id N]\n"
  "\n"
  "Generates synthetic omnichannel customer journeys (InteractionEvents) in\n"
  "event-time order, deterministic per seed.\n"
  "\n"
  "  --customers N      customers C000001.. (default 10000; 1..100000000)\n"
  "  --events N         stop after N events (default: every event of --days;\n"
  "                     with --events and no --days, as many days as it takes)\n"
  "  --days N           simulated days (default 7; 1..36500)\n"
  "  --seed N           random seed (default 1): same seed and flags, same events\n"
  "  --start T          first instant: ISO 8601 (2026-01-05, 2026-01-05T08:00:00Z,\n"
  "                     2026-01-05T10:00:00.000+02:00) or epoch milliseconds\n"
  "                     (digits only; default 2026-01-05T00:00:00Z)\n"
  "  --labelled         a labelled set instead: story customers whose scripted\n"
  "                     journeys must fire known rules, and ordinary customers\n"
  "                     who must fire none (default 60 days, at least 56; no\n"
  "                     --events); needs --labels\n"
  "  --labels FILE      with --labelled: write the ground truth, one JSON object a\n"
  "                     line: {\"customer_id\",\"rule\",\"story\",\"trigger_time\"}\n"
  "                     (epoch ms of the event, or timer deadline, at which the\n"
  "                     rule must first fire)\n"
  "  -o, --output FILE  write an Avro object container file\n"
  "  --topic T          produce to Kafka topic T: key customer_id, value Confluent\n"
  "                     framing + Avro binary, timestamp occurred_at, partitioner\n"
  "                     murmur2_random (as Java clients), idempotent\n"
  "  -X kafka.K=V       librdkafka property K (default bootstrap.servers=127.0.0.1:9092)\n"
  "  --schema-id N      schema id in the Confluent frame (default 1)\n"
  "  --schema-dir DIR   directory of interaction_event.avsc (default schemas)\n"
  "  -h, --help         show this help\n"
  "  --version          show the version\n"
  "\n"
  "Prints a one-line summary on stderr. Exit status: 0 success, 1 runtime\n"
  "error (I/O, Kafka delivery), 2 bad command line, 130 interrupted.\n";

/* Prints "cxstream-gen: <message> (see cxstream-gen --help)"; returns 2. */
__attribute__((format(printf, 1, 2)))
static int usage_error(const char *format, ...) {
  va_list args;
  va_start(args, format);
  fputs("cxstream-gen: ", stderr);
  vfprintf(stderr, format, args);
  fputs(" (see cxstream-gen --help)\n", stderr);
  va_end(args);
  return EXIT_USAGE;
}

/* Strict unsigned decimal in [min, max]; no sign, no spaces, no suffix. */
static bool parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out) {
  if (!text || *text < '0' || *text > '9')
    return false;
  errno = 0;
  char *end = NULL;
  unsigned long long value = strtoull(text, &end, 10);
  if (errno || *end || value < min || value > max)
    return false;
  *out = value;
  return true;
}

/* Returns -1 to go on, or an exit status (help, version, usage error). */
static int parse_options(int argc, char **argv, options_t *options) {
  cx_journey_config_default(&options->journey);
  options->schema_dir = "schemas";
  options->schema_id = 1;
  for (int k = 1; k < argc; k++) {
    const char *arg = argv[k];
    const char *value = NULL;
    char flag[64];
    /* --flag=value and --flag value */
    const char *equals = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    if (equals && (size_t)(equals - arg) < sizeof(flag)) {
      memcpy(flag, arg, (size_t)(equals - arg));
      flag[equals - arg] = '\0';
      value = equals + 1;
    } else {
      snprintf(flag, sizeof(flag), "%s", arg);
    }
    if (!strcmp(flag, "-h") || !strcmp(flag, "--help")) {
      fputs(usage_text, stdout);
      return 0;
    }
    if (!strcmp(flag, "--version")) {
      printf("cxstream-gen %s\n", CX_VERSION);
      return 0;
    }
    if (!strcmp(flag, "--labelled")) {
      if (value)
        return usage_error("--labelled takes no value");
      options->journey.labelled = true;
      continue;
    }
    static const char *const valued[] = {"--customers", "--events", "--days", "--seed",
                                         "--start", "-o", "--output", "--topic", "-X",
                                         "--schema-id", "--schema-dir", "--labels"};
    bool known = false;
    for (size_t v = 0; v < sizeof(valued) / sizeof(valued[0]); v++)
      known |= !strcmp(flag, valued[v]);
    if (!known)
      return usage_error("unknown option '%s'", arg);
    if (!value) {
      if (k + 1 >= argc)
        return usage_error("%s needs a value", flag);
      value = argv[++k];
    }
    uint64_t number;
    if (!strcmp(flag, "--customers")) {
      if (!parse_u64(value, 1, CX_JOURNEY_MAX_CUSTOMERS, &number))
        return usage_error("--customers: '%s': expected an integer from 1 to %llu", value,
                           (unsigned long long)CX_JOURNEY_MAX_CUSTOMERS);
      options->journey.customers = number;
    } else if (!strcmp(flag, "--events")) {
      if (!parse_u64(value, 1, UINT64_MAX, &number))
        return usage_error("--events: '%s': expected a positive integer such as 1000000",
                           value);
      options->journey.events = number;
    } else if (!strcmp(flag, "--days")) {
      if (!parse_u64(value, 1, CX_JOURNEY_MAX_DAYS, &number))
        return usage_error("--days: '%s': expected an integer from 1 to %u", value,
                           CX_JOURNEY_MAX_DAYS);
      options->journey.days = (uint32_t)number;
      options->days_given = true;
    } else if (!strcmp(flag, "--seed")) {
      if (!parse_u64(value, 0, UINT64_MAX, &number))
        return usage_error("--seed: '%s': expected an integer from 0 to %llu", value,
                           (unsigned long long)UINT64_MAX);
      options->journey.seed = number;
    } else if (!strcmp(flag, "--start")) {
      if (cx_clock_parse_time(value, &options->journey.start_ms) ||
          options->journey.start_ms > CX_JOURNEY_MAX_START_MS)
        return usage_error("--start: '%s': expected an ISO 8601 time such as "
                           "2026-01-05T00:00:00Z (1970 .. 9999), or epoch milliseconds",
                           value);
    } else if (!strcmp(flag, "-o") || !strcmp(flag, "--output")) {
      if (!*value)
        return usage_error("%s: expected a file name", flag);
      options->output_path = value;
    } else if (!strcmp(flag, "--topic")) {
      if (!*value)
        return usage_error("--topic: expected a topic name");
      options->topic = value;
    } else if (!strcmp(flag, "-X")) {
      const char *eq = strchr(value, '=');
      if (strncmp(value, "kafka.", 6) != 0 || !eq || eq == value + 6)
        return usage_error("-X '%s': expected kafka.<librdkafka property>=<value>, "
                           "e.g. -X kafka.bootstrap.servers=127.0.0.1:9092",
                           value);
      if (options->kafka_count == MAX_KAFKA_PROPERTIES)
        return usage_error("-X '%s': too many -X options (at most %d)", value,
                           MAX_KAFKA_PROPERTIES);
      options->kafka_properties[options->kafka_count++] = value + 6;
    } else if (!strcmp(flag, "--schema-id")) {
      if (!parse_u64(value, 0, INT32_MAX, &number))
        return usage_error("--schema-id: '%s': expected an integer from 0 to %d", value,
                           INT32_MAX);
      options->schema_id = (int32_t)number;
      options->schema_id_given = true;
    } else if (!strcmp(flag, "--schema-dir")) {
      if (!*value)
        return usage_error("--schema-dir: expected a directory");
      options->schema_dir = value;
    } else if (!strcmp(flag, "--labels")) {
      if (!*value)
        return usage_error("--labels: expected a file name");
      options->labels_path = value;
    }
  }
  if (!options->output_path == !options->topic)
    return usage_error("give exactly one output: -o OUT.avro or --topic T");
  if (options->output_path && options->kafka_count)
    return usage_error("-X kafka.* applies only with --topic");
  if (options->output_path && options->schema_id_given)
    return usage_error("--schema-id applies only with --topic");
  if (options->labels_path && !options->journey.labelled)
    return usage_error("--labels applies only with --labelled");
  if (options->journey.labelled && !options->labels_path)
    return usage_error("--labelled needs --labels FILE for the ground truth");
  if (options->journey.labelled && options->journey.events)
    return usage_error("--events does not apply with --labelled (the set is generated whole)");
  if (options->journey.labelled && !options->days_given)
    options->journey.days = CX_JOURNEY_LABELLED_DEFAULT_DAYS;
  if (options->journey.events && !options->days_given)
    options->journey.days = 0; /* until the events are there */
  return -1;
}

/* ---- Kafka output ---- */

/* Delivery results, filled by the delivery report callback. */
typedef struct delivery_s {
  uint64_t delivered;            /* acknowledged by the broker */
  uint64_t failed;               /* failed for good */
  char first_error[256];         /* the first failure, for the message */
} delivery_t;

typedef struct producer_s {
  rd_kafka_t *kafka;             /* the producer */
  rd_kafka_topic_t *topic;       /* the output topic */
  avro_schema_t schema;          /* InteractionEvent */
  avro_value_iface_t *iface;     /* generic class of schema */
  avro_value_t value;            /* reused record */
  avro_writer_t writer;          /* memory writer over buffer */
  uint8_t *buffer;               /* frame header + Avro body, reused */
  size_t buffer_size;            /* bytes allocated */
  int32_t schema_id;             /* in the frame header */
  uint64_t produced;             /* messages handed to librdkafka */
  delivery_t delivery;           /* what the broker said */
} producer_t;

static void on_delivery(rd_kafka_t *kafka, const rd_kafka_message_t *message, void *opaque) {
  (void)kafka;
  delivery_t *delivery = opaque;
  if (message->err) {
    if (delivery->failed++ == 0)
      snprintf(delivery->first_error, sizeof(delivery->first_error), "%s",
               rd_kafka_err2str(message->err));
  } else {
    delivery->delivered++;
  }
}

static void producer_destroy(producer_t *producer) {
  if (producer->topic)
    rd_kafka_topic_destroy(producer->topic);
  if (producer->kafka)
    rd_kafka_destroy(producer->kafka);
  if (producer->writer)
    avro_writer_free(producer->writer);
  if (producer->iface) {
    avro_value_decref(&producer->value);
    avro_value_iface_decref(producer->iface);
  }
  if (producer->schema)
    avro_schema_decref(producer->schema);
  free(producer->buffer);
}

/* Returns an exit status: 0, 1 (runtime) or 2 (bad -X). */
static int producer_open(producer_t *producer, const options_t *options) {
  char errstr[512];
  memset(producer, 0, sizeof(*producer));
  producer->schema_id = options->schema_id;
  if (cx_event_schema_load(options->schema_dir, &producer->schema, errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream-gen: %s (set --schema-dir)\n", errstr);
    return 1;
  }
  producer->iface = avro_generic_class_from_schema(producer->schema);
  if (!producer->iface || avro_generic_value_new(producer->iface, &producer->value)) {
    fprintf(stderr, "cxstream-gen: cannot make an Avro value: %s\n", avro_strerror());
    if (producer->iface)
      avro_value_iface_decref(producer->iface);
    producer->iface = NULL;
    return 1;
  }
  producer->buffer_size = 4096;
  producer->buffer = malloc(producer->buffer_size);
  if (producer->buffer)
    producer->writer =
        avro_writer_memory((const char *)producer->buffer + CX_FRAME_HEADER_BYTES,
                           (int64_t)(producer->buffer_size - CX_FRAME_HEADER_BYTES));
  if (!producer->buffer || !producer->writer) {
    fprintf(stderr, "cxstream-gen: out of memory\n");
    return 1;
  }

  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* Idempotence keeps each partition in produce order through retries (a
   * fresh topic answers the first batches with retriable errors), so every
   * customer's "seq" arrives in order; -X may override any of these. */
  if (rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:9092", errstr, sizeof(errstr)) ||
      rd_kafka_conf_set(conf, "partitioner", "murmur2_random", errstr, sizeof(errstr)) ||
      rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream-gen: librdkafka: %s\n", errstr);
    rd_kafka_conf_destroy(conf);
    return 1;
  }
  for (size_t k = 0; k < options->kafka_count; k++) {
    const char *property = options->kafka_properties[k];
    const char *eq = strchr(property, '=');
    char name[256];
    snprintf(name, sizeof(name), "%.*s", (int)(eq - property), property);
    if (rd_kafka_conf_set(conf, name, eq + 1, errstr, sizeof(errstr))) {
      fprintf(stderr, "cxstream-gen: -X kafka.%s: %s\n", property, errstr);
      rd_kafka_conf_destroy(conf);
      return EXIT_USAGE;
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, &producer->delivery);
  producer->kafka = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (!producer->kafka) {
    fprintf(stderr, "cxstream-gen: cannot create the Kafka producer: %s\n", errstr);
    rd_kafka_conf_destroy(conf);
    return 1;
  }
  producer->topic = rd_kafka_topic_new(producer->kafka, options->topic, NULL);
  if (!producer->topic) {
    fprintf(stderr, "cxstream-gen: --topic %s: %s\n", options->topic,
            rd_kafka_err2str(rd_kafka_last_error()));
    return 1;
  }
  /* Fail fast when the cluster or the topic is not there, rather than after
   * message.timeout.ms of queued messages. */
  const struct rd_kafka_metadata *metadata = NULL;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(producer->kafka, 0, producer->topic, &metadata, METADATA_TIMEOUT_MS);
  if (err) {
    fprintf(stderr, "cxstream-gen: cannot reach Kafka (bootstrap.servers; set -X "
                    "kafka.bootstrap.servers=HOST:PORT): %s\n",
            rd_kafka_err2str(err));
    return 1;
  }
  rd_kafka_resp_err_t topic_err =
      metadata->topic_cnt == 1 ? metadata->topics[0].err : RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_metadata_destroy(metadata);
  if (topic_err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
      topic_err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
    fprintf(stderr, "cxstream-gen: --topic %s: %s (create it first)\n", options->topic,
            rd_kafka_err2str(topic_err));
    return 1;
  }
  return 0;
}

/* Encodes the event into the reused buffer after the frame header, growing
 * the buffer when the record does not fit. Returns the message length or 0. */
static size_t producer_encode(producer_t *producer, const cx_event_t *event) {
  char errstr[256];
  if (cx_event_to_avro(event, &producer->value, errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream-gen: cannot encode event: %s\n", errstr);
    return 0;
  }
  avro_writer_reset(producer->writer);
  if (avro_value_write(producer->writer, &producer->value)) {
    size_t needed = 0;
    if (avro_value_sizeof(&producer->value, &needed)) {
      fprintf(stderr, "cxstream-gen: cannot size an Avro record: %s\n", avro_strerror());
      return 0;
    }
    size_t size = producer->buffer_size * 2;
    if (size < needed + CX_FRAME_HEADER_BYTES)
      size = needed + CX_FRAME_HEADER_BYTES;
    uint8_t *grown = realloc(producer->buffer, size);
    if (!grown) {
      fprintf(stderr, "cxstream-gen: out of memory\n");
      return 0;
    }
    producer->buffer = grown;
    producer->buffer_size = size;
    avro_writer_memory_set_dest(producer->writer, (const char *)grown + CX_FRAME_HEADER_BYTES,
                                (int64_t)(size - CX_FRAME_HEADER_BYTES));
    if (avro_value_write(producer->writer, &producer->value)) {
      fprintf(stderr, "cxstream-gen: cannot write an Avro record: %s\n", avro_strerror());
      return 0;
    }
  }
  cx_frame_write_header(producer->buffer, producer->schema_id);
  return CX_FRAME_HEADER_BYTES + (size_t)avro_writer_tell(producer->writer);
}

static bool producer_send(producer_t *producer, const cx_event_t *event) {
  size_t length = producer_encode(producer, event);
  if (!length)
    return false;
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer->kafka, RD_KAFKA_V_RKT(producer->topic),
        RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY((void *)event->customer_id.ptr, event->customer_id.len),
        RD_KAFKA_V_VALUE(producer->buffer, length),
        RD_KAFKA_V_TIMESTAMP(event->occurred_at_ms), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer->kafka, 100); /* let deliveries drain the queue */
      if (stop_requested)
        return false;
      continue;
    }
    if (err) {
      fprintf(stderr, "cxstream-gen: cannot produce to %s: %s\n",
              rd_kafka_topic_name(producer->topic), rd_kafka_err2str(err));
      return false;
    }
    break;
  }
  if ((++producer->produced & 1023) == 0)
    rd_kafka_poll(producer->kafka, 0);
  return true;
}

/* Flushes and reports undelivered messages; true when all were delivered. */
static bool producer_finish(producer_t *producer) {
  rd_kafka_flush(producer->kafka, FLUSH_TIMEOUT_MS);
  int left = rd_kafka_outq_len(producer->kafka);
  bool ok = true;
  if (left > 0) {
    fprintf(stderr, "cxstream-gen: %d messages still undelivered after %d s\n", left,
            FLUSH_TIMEOUT_MS / 1000);
    ok = false;
  }
  if (producer->delivery.failed) {
    fprintf(stderr, "cxstream-gen: %llu of %llu messages failed to deliver; first error: %s\n",
            (unsigned long long)producer->delivery.failed,
            (unsigned long long)producer->produced, producer->delivery.first_error);
    ok = false;
  }
  return ok;
}

/* ---- labels ---- */

/* Writes the labelled set's ground truth as JSON lines; counts labels and
 * story customers. Returns 0 or 1 (I/O error, reported). */
static int write_labels(cx_journey_t *journey, const char *path, uint64_t *labels,
                        uint64_t *customers) {
  FILE *out = fopen(path, "w");
  if (!out) {
    fprintf(stderr, "cxstream-gen: --labels %s: %s\n", path, strerror(errno));
    return 1;
  }
  cx_journey_label_t label;
  char previous[32] = "";
  *labels = *customers = 0;
  while (cx_journey_next_label(journey, &label)) {
    /* ids, rule and story names are [A-Za-z0-9_]: no JSON escaping needed */
    fprintf(out, "{\"customer_id\":\"%.*s\",\"rule\":\"%s\",\"story\":\"%s\","
                 "\"trigger_time\":%lld}\n",
            (int)label.customer_id.len, label.customer_id.ptr, label.rule, label.story,
            (long long)label.trigger_ms);
    (*labels)++;
    if (label.customer_id.len >= sizeof(previous) ||
        strncmp(previous, label.customer_id.ptr, label.customer_id.len) ||
        previous[label.customer_id.len]) {
      (*customers)++;
      snprintf(previous, sizeof(previous), "%.*s", (int)label.customer_id.len,
               label.customer_id.ptr);
    }
  }
  if (ferror(out) | fclose(out)) {
    fprintf(stderr, "cxstream-gen: --labels %s: write failed: %s\n", path, strerror(errno));
    return 1;
  }
  return 0;
}

/* ---- main ---- */

static double seconds_since(const struct timespec *start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int main(int argc, char **argv) {
  options_t options;
  memset(&options, 0, sizeof(options));
  int status = parse_options(argc, argv, &options);
  if (status >= 0)
    return status;

  char errstr[512];
  cx_journey_t *journey = NULL;
  cx_err_t err = cx_journey_new(&options.journey, &journey, errstr, sizeof(errstr));
  if (err) {
    fprintf(stderr, "cxstream-gen: %s\n", errstr);
    return err == CX_ERR_CONFIG ? EXIT_USAGE : 1;
  }

  cx_ocf_writer_t *ocf = NULL;
  producer_t producer;
  memset(&producer, 0, sizeof(producer));
  if (options.output_path) {
    if (cx_ocf_writer_open(options.output_path, options.schema_dir, &ocf, errstr,
                           sizeof(errstr))) {
      fprintf(stderr, "cxstream-gen: %s\n", errstr);
      cx_journey_destroy(journey);
      return 1;
    }
  } else {
    status = producer_open(&producer, &options);
    if (status) {
      producer_destroy(&producer);
      cx_journey_destroy(journey);
      return status;
    }
  }

  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  struct timespec started;
  clock_gettime(CLOCK_MONOTONIC, &started);
  status = 0;
  cx_event_t event;
  while (!stop_requested && cx_journey_next(journey, &event)) {
    if (ocf) {
      if (cx_ocf_writer_append(ocf, &event, errstr, sizeof(errstr))) {
        fprintf(stderr, "cxstream-gen: %s: %s\n", options.output_path, errstr);
        status = 1;
        break;
      }
    } else if (!producer_send(&producer, &event)) {
      status = 1;
      break;
    }
  }
  cx_journey_stats_t stats;
  cx_journey_stats(journey, &stats);
  if (stats.error) {
    fprintf(stderr, "cxstream-gen: generator stopped after %llu events: %s\n",
            (unsigned long long)stats.events, cx_err2str(stats.error));
    status = 1;
  }
  if (ocf) {
    if (cx_ocf_writer_close(ocf, errstr, sizeof(errstr))) {
      fprintf(stderr, "cxstream-gen: %s: %s\n", options.output_path, errstr);
      status = 1;
    }
  } else {
    if (!producer_finish(&producer))
      status = 1;
    producer_destroy(&producer);
  }
  uint64_t label_count = 0, story_customers = 0;
  if (options.labels_path && status == 0 &&
      write_labels(journey, options.labels_path, &label_count, &story_customers))
    status = 1;
  double seconds = seconds_since(&started);

  char first[64] = "-", last[64] = "-";
  if (stats.events) {
    cx_clock_format_utc(stats.first_ms, first, sizeof(first));
    cx_clock_format_utc(stats.last_ms, last, sizeof(last));
  }
  fprintf(stderr,
          "cxstream-gen: %llu events, %llu customers (%llu active), %s .. %s, %.2f s, "
          "%.0f events/s -> %s%s%s\n",
          (unsigned long long)stats.events, (unsigned long long)options.journey.customers,
          (unsigned long long)stats.active_customers, first, last, seconds,
          seconds > 0 ? (double)stats.events / seconds : 0.0,
          options.output_path ? options.output_path : "topic ",
          options.output_path ? "" : options.topic, stop_requested ? " (interrupted)" : "");
  if (options.labels_path && status == 0)
    fprintf(stderr, "cxstream-gen: %llu labels for %llu story customers -> %s\n",
            (unsigned long long)label_count, (unsigned long long)story_customers,
            options.labels_path);
  cx_journey_destroy(journey);
  if (stop_requested && status == 0)
    status = 130;
  return status;
}
