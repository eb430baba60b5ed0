/* The state changelog: <application.id>-state, a compacted topic with the
 * input topic's partition count, holding one record per customer (key =
 * customer_id, value = operators/state_codec.h record, null = gone). `run`
 * writes the customers a batch changed together with the batch's outputs,
 * before its offsets are stored, and reads a partition's records back into
 * its processor when the partition is assigned, before its first event. */
#ifndef CX_CHANGELOG_H
#define CX_CHANGELOG_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "../operators/processor.h"
#include "config.h"
#include "err.h"
#include "buf.h"
#include "kafka.h"

typedef struct cx_changelog_s cx_changelog_t;

/* Creates the topic when missing (the one input topic's partition count,
 * cleanup.policy=compact) and a consumer for restores. producer is borrowed
 * for the admin request. */
cx_err_t cx_changelog_open(const cx_config_t *config, rd_kafka_t *producer,
                           cx_changelog_t **changelog, char *errstr, size_t errstr_size);
void cx_changelog_destroy(cx_changelog_t *changelog);
const char *cx_changelog_topic(const cx_changelog_t *changelog);

/* Reads the partition's records up to its end into processor. */
cx_err_t cx_changelog_restore(cx_changelog_t *changelog, int32_t partition,
                              cx_processor_t *processor, uint64_t *records, char *errstr,
                              size_t errstr_size);

/* State records kept back in memory, in the order they were taken. */
typedef struct cx_changelog_held_s {
  cx_buf_t bytes;  /* records, each a header, its key and its value */
  size_t count;    /* records held */
} cx_changelog_held_t;

/* Produces what the processor changed since the last call to partition. */
cx_err_t cx_changelog_write(cx_changelog_t *changelog, cx_kafka_output_t *output,
                            int32_t partition, cx_processor_t *processor, char *errstr,
                            size_t errstr_size);

/* The same records as cx_changelog_write, encoded now but kept in held
 * (appended) to be produced later by cx_changelog_send_held: at_least_once
 * holds a batch's records until the batch's outputs are acknowledged. */
cx_err_t cx_changelog_hold(cx_changelog_t *changelog, cx_changelog_held_t *held,
                           int32_t partition, cx_processor_t *processor, char *errstr,
                           size_t errstr_size);
/* Produces the held records in order without copying their values: held
 * must stay as it is until every one of them is acknowledged (or the
 * producer is destroyed); then cx_changelog_held_clear empties it. */
void cx_changelog_send_held(cx_changelog_t *changelog, cx_kafka_output_t *output,
                            cx_changelog_held_t *held);
/* Empties held, keeping its memory. */
void cx_changelog_held_clear(cx_changelog_held_t *held);
void cx_changelog_held_free(cx_changelog_held_t *held);

#endif
