/* The batches of `run` at least once that are sealed but not yet safe: the
 * order in which their state records go out and their offsets are stored.
 *
 * A batch's outputs are produced while it is processed; when it ends it is
 * sealed with its offsets and its changed customers' state records (held,
 * not produced). Then, in batch order:
 *   1. its state records are produced once all its outputs are acknowledged
 *      and every earlier batch's records were produced (so a record on the
 *      changelog means its customer's outputs are safe);
 *   2. it is done (the caller stores its offsets) once its records are
 *      acknowledged too and every earlier batch is done.
 * A failed delivery in any sealed batch stops everything: nothing later is
 * produced or stored. No Kafka calls here: the caller's hooks do them, and
 * the tallies are counted by the producer's delivery reports (kafka.h). */
#ifndef CX_INFLIGHT_H
#define CX_INFLIGHT_H

#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "changelog.h"
#include "kafka.h"

/* Batches in flight at once, the open one included. */
#define CX_INFLIGHT_MAX 8

typedef struct cx_inflight_batch_s {
  cx_kafka_tally_t outputs;    /* alerts, profiles, dead letters, late events of the batch */
  cx_kafka_tally_t records;    /* its state records, once produced */
  cx_changelog_held_t held;    /* its state records, held until its outputs are acknowledged,
                                  then borrowed by the producer until they are too */
  rd_kafka_topic_partition_list_t *offsets; /* owned: to store when done, or NULL */
  bool records_sent;           /* held records produced */
  int64_t sealed_ms;           /* when the batch ended */
  int64_t messages;            /* messages of the batch */
} cx_inflight_batch_t;

typedef struct cx_inflight_hooks_s {
  /* Produces batch->held, counting each record in batch->records. */
  void (*send_records)(cx_inflight_batch_t *batch, void *opaque);
  /* The batch's outputs and records are acknowledged: store its offsets. */
  void (*done)(cx_inflight_batch_t *batch, void *opaque);
  void *opaque;
} cx_inflight_hooks_t;

typedef struct cx_inflight_s {
  cx_inflight_batch_t batches[CX_INFLIGHT_MAX]; /* a ring */
  int first;                   /* index of the oldest sealed batch */
  int sealed;                  /* sealed batches not yet done */
} cx_inflight_t;

/* The batch after the sealed ones, emptied (counters zero, no records, no
 * offsets), or NULL when CX_INFLIGHT_MAX are sealed (advance first). */
cx_inflight_batch_t *cx_inflight_open(cx_inflight_t *inflight);
/* The open batch (cx_inflight_open) joins the sealed ones. */
void cx_inflight_seal(cx_inflight_t *inflight);
/* Moves the sealed batches on as far as their tallies allow (see above);
 * returns -1, moving nothing, when one of them had a failed delivery. */
int cx_inflight_advance(cx_inflight_t *inflight, const cx_inflight_hooks_t *hooks);
/* Frees every batch's records and offsets. */
void cx_inflight_free(cx_inflight_t *inflight);

#endif
