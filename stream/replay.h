/* Replay of history through the production operators: an Avro OCF file
 * (and, later, a Kafka topic) in, JSON lines out. Deterministic: the same
 * input and config always give the same bytes. */
#ifndef CX_REPLAY_H
#define CX_REPLAY_H

#include <stdint.h>

#include "config.h"
#include "err.h"

typedef struct cx_replay_options_s {
  const char *input_file;   /* --input-file */
  const char *topic;        /* --topic (not available yet) */
  const char *out_file;     /* --out: JSON lines; "-" = stdout */
  const char *out_topic_prefix; /* --out-topic-prefix (not available yet) */
  int64_t from_ms;          /* --from, inclusive; INT64_MIN = none */
  int64_t to_ms;            /* --to, exclusive; INT64_MAX = none */
} cx_replay_options_t;

/* Returns 0 on success, an exit code otherwise (messages on stderr). */
int cx_replay_main(const cx_config_t *config, const cx_replay_options_t *options);

#endif
