/* Replay of history through the production operators: an Avro OCF file or
 * a Kafka topic in, JSON lines or prefixed topics out. Deterministic: the
 * same input and config always give the same bytes, whatever the batch size.
 * Replay never touches production: its consumer has a group id of its own
 * and never commits, and it writes production topics only when asked. */
#ifndef CX_REPLAY_H
#define CX_REPLAY_H

#include <stdint.h>

#include "config.h"
#include "err.h"

typedef struct cx_replay_options_s {
  const char *input_file;   /* --input-file */
  const char *topic;        /* --topic */
  const char *out_file;     /* --out: JSON lines; "-" = stdout */
  const char *out_topic_prefix; /* --out-topic-prefix: P + output.*.topic */
  int64_t from_ms;          /* --from, inclusive; INT64_MIN = none */
  int64_t to_ms;            /* --to, exclusive; INT64_MAX = none */
  const char *from_offsets; /* --from-offsets SPEC (topic only), or NULL */
  double pace;              /* --pace N: N times the event-time pace; 0 = as fast as possible */
  int write_production_topics; /* --write-production-topics: allow production topic names */
  int partitions;           /* --partitions N (file): replay as N topic partitions would; 0 = one stream */
  int exit_after;           /* the process exits once replay returns: its state is left to the
                             * exit instead of being freed (the command line sets it) */
} cx_replay_options_t;

/* Returns 0 on success, an exit code otherwise (messages on stderr). */
int cx_replay_main(const cx_config_t *config, const cx_replay_options_t *options);

#endif
