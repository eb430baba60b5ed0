/* A historical topic as one deterministic stream, for replay.
 *
 * Every partition of the topic is assigned by hand (no group membership, no
 * commits) from a start offset (--from via offsets-for-times, --from-offsets,
 * or the beginning) to the high watermark captured at start, or to the first
 * message timed at or after --to. What poll returns is buffered per
 * partition, and messages are handed out in a merge by (timestamp,
 * partition, offset): the smallest pending one is taken only when every
 * unfinished partition has a message buffered, so the order never depends on
 * fetch timing or batch sizes. */
#ifndef CX_TOPIC_SOURCE_H
#define CX_TOPIC_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "config.h"
#include "err.h"

/* The merge, without Kafka: items in (timestamp, partition, offset) order. */
typedef struct cx_topic_merge_s cx_topic_merge_t;

typedef enum {
  CX_TOPIC_MERGE_ITEM, /* an item was taken */
  CX_TOPIC_MERGE_WAIT, /* an unfinished partition has nothing buffered: push more first */
  CX_TOPIC_MERGE_END,  /* every partition finished and drained */
} cx_topic_merge_status_t;

/* partitions: the partition numbers, one per index (copied). NULL when out of memory. */
cx_topic_merge_t *cx_topic_merge_new(const int32_t *partitions, size_t partition_count);
/* Frees the merge; free_item (may be NULL) is called on every item still buffered. */
void cx_topic_merge_destroy(cx_topic_merge_t *merge, void (*free_item)(void *item));
/* Buffers an item of partition index (in offset order per partition). -1 when out of memory. */
int cx_topic_merge_push(cx_topic_merge_t *merge, size_t index, int64_t timestamp, int64_t offset,
                        void *item);
/* No more items will be pushed for partition index. */
void cx_topic_merge_finish(cx_topic_merge_t *merge, size_t index);
bool cx_topic_merge_finished(const cx_topic_merge_t *merge, size_t index);
size_t cx_topic_merge_buffered(const cx_topic_merge_t *merge, size_t index);
/* Takes the smallest pending item when the order is certain. */
cx_topic_merge_status_t cx_topic_merge_next(cx_topic_merge_t *merge, void **item, size_t *index);

/* --from-offsets SPEC: "PARTITION:OFFSET[,PARTITION:OFFSET...]", e.g.
 * "0:100,1:250"; partitions and offsets are non-negative decimal numbers,
 * each partition at most once. */
typedef struct cx_partition_offset_s {
  int32_t partition;  /* partition number */
  int64_t offset;     /* first offset to read */
} cx_partition_offset_t;

cx_err_t cx_topic_source_parse_offsets(const char *spec, cx_partition_offset_t *entries,
                                       size_t capacity, size_t *count, char *errstr,
                                       size_t errstr_size);

typedef struct cx_topic_source_options_s {
  const char *topic;        /* the topic to read */
  const char *from_offsets; /* --from-offsets SPEC, or NULL (unlisted partitions: the beginning) */
  int64_t from_ms;          /* --from: start at the first message timed >= this; INT64_MIN = none */
  int64_t to_ms;            /* --to: a partition ends at its first message timed >= this */
  int64_t poll_batch;       /* messages polled before the merge is drained again (>= 1) */
  int64_t stall_timeout_ms; /* fail when no message arrives for this long while one is awaited */
} cx_topic_source_options_t;

typedef struct cx_topic_source_s cx_topic_source_t;

/* Looks the topic up (metadata), captures the end offsets, finds the start
 * offsets and assigns every partition. The consumer has a group.id of its
 * own ("<application.id>-replay-<pid>-<time>"), enable.auto.commit=false and
 * isolation.level=read_committed; it never commits. */
cx_err_t cx_topic_source_open(const cx_config_t *config, const cx_topic_source_options_t *options,
                              cx_topic_source_t **source, char *errstr, size_t errstr_size);
void cx_topic_source_destroy(cx_topic_source_t *source);

size_t cx_topic_source_partition_count(const cx_topic_source_t *source);
/* Messages between the start and the end offsets (the progress total). */
uint64_t cx_topic_source_total(const cx_topic_source_t *source);

/* The next message in merge order, with the index of its partition; *message
 * is NULL at the end. The caller destroys the message. */
cx_err_t cx_topic_source_next(cx_topic_source_t *source, rd_kafka_message_t **message,
                              size_t *index, char *errstr, size_t errstr_size);

#endif
