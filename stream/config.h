/* Configuration: one table of properties (name, type, range, default,
 * description) that both parses and documents, as librdkafka does. Sources
 * are a properties file (key=value, # comments, ${ENV} substitution) and
 * -X key=value overrides; keys under "kafka." go to librdkafka untouched.
 * Unknown keys and bad values are errors that name the key and what is wanted. */
#ifndef CX_CONFIG_H
#define CX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../operators/processor.h"
#include "err.h"

typedef enum { CX_GUARANTEE_AT_LEAST_ONCE, CX_GUARANTEE_EXACTLY_ONCE } cx_guarantee_t;
typedef enum { CX_INPUT_CONFLUENT, CX_INPUT_RAW } cx_input_format_t;

typedef struct cx_kafka_prop_s {
  char *name;   /* librdkafka property, without the "kafka." prefix */
  char *value;  /* its value */
} cx_kafka_prop_t;

typedef struct cx_config_s {
  char *application_id;        /* application.id: consumer group, internal topic prefix */
  char *input_topics;          /* input.topics: comma-separated */
  char *alerts_topic;          /* output.alerts.topic */
  char *profiles_topic;        /* output.profiles.topic */
  char *dlq_topic;             /* output.dlq.topic */
  char *late_topic;            /* output.late.topic */
  int processing_guarantee;    /* processing.guarantee: cx_guarantee_t */
  int64_t batch_size;          /* processing.batch.size: messages per batch */
  int64_t num_stream_threads;  /* num.stream.threads */
  int64_t commit_interval_ms;  /* commit.interval.ms */
  char *schema_dir;            /* schema.dir */
  char *schema_registry_url;   /* schema.registry.url */
  int input_format;            /* input.format: cx_input_format_t */
  char *input_writer_schema;   /* input.writer.schema: file, for input.format=raw */
  int64_t message_max_bytes;   /* input.message.max.bytes */
  int64_t max_future_ms;       /* input.max.future.ms */
  int64_t max_id_bytes;        /* input.max.id.bytes */
  char *metrics_listen;        /* metrics.listen */
  int64_t idle_timeout_ms;     /* idle.timeout.ms (0 = off) */
  bool state_changelog;        /* state.changelog: keep state in <application.id>-state */
  int log_level;               /* log.level: cx_log_level_t */
  int log_format;              /* log.format: cx_log_format_t */
  int64_t liveness_timeout_ms; /* metrics.liveness.timeout: /healthz limit, 0 = off */
  cx_processor_config_t processor; /* lateness.ms and rules.* */
  cx_kafka_prop_t *kafka;      /* kafka.* in the order given; later ones win */
  size_t kafka_count;          /* entries in kafka */
} cx_config_t;

/* Fills every key with its default. */
cx_config_t *cx_config_new(void);
void cx_config_destroy(cx_config_t *config);

/* Sets one key. Errors name the key and what is expected. */
cx_err_t cx_config_set(cx_config_t *config, const char *name, const char *value,
                       char *errstr, size_t errstr_size);
/* Applies "key=value" (as given to -X). */
cx_err_t cx_config_set_pair(cx_config_t *config, const char *pair, char *errstr,
                            size_t errstr_size);
/* Reads a properties file; errors carry file:line. */
cx_err_t cx_config_load_file(cx_config_t *config, const char *path, char *errstr,
                             size_t errstr_size);
/* Cross-key checks after everything is set. */
cx_err_t cx_config_validate(const cx_config_t *config, char *errstr, size_t errstr_size);

/* The whole config as a job sees it: defaults, then file (may be NULL),
 * then the key=value pairs in order, then cx_config_validate. On success the
 * caller owns *config. Used at start and again on SIGHUP. */
cx_err_t cx_config_build(const char *file, const char *const *pairs, size_t pair_count,
                         cx_config_t **config, char *errstr, size_t errstr_size);

/* A kafka.* value, or NULL. */
const char *cx_config_kafka_get(const cx_config_t *config, const char *name);

/* Parses "24h", "10m", "30s", "500ms", "2d" or plain milliseconds. */
cx_err_t cx_config_parse_duration(const char *text, int64_t *ms);

/* Prints the table of keys (name, default, description) for --help. */
void cx_config_print_help(FILE *out);

/* True for keys whose values are secrets (passwords, private keys, tokens,
 * the pseudonymisation key): never printed, masked in dumps and logs. */
bool cx_config_is_secret(const char *name);
/* Prints the effective config as a properties file: every key in table
 * order, then the kafka.* keys as given; secret values as "********". */
void cx_config_dump(const cx_config_t *config, FILE *out);
/* Gives every non-empty secret value to the logger, which then never prints it. */
void cx_config_register_secrets(const cx_config_t *config);
/* Visits every key of the table in order (for the man page and README). */
void cx_config_each_key(void (*visit)(const char *name, const char *default_value,
                                      const char *description, const char *values,
                                      void *opaque),
                        void *opaque);

#endif
