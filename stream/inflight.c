/* Sealed at-least-once batches in order (see inflight.h). */
#include "inflight.h"

static cx_inflight_batch_t *at(cx_inflight_t *inflight, int k) {
  return &inflight->batches[(inflight->first + k) % CX_INFLIGHT_MAX];
}

/* The largest held buffer of the other free slots (batches done, whose
 * records were all acknowledged: the producer borrowed them until then)
 * goes to the batch being opened: a batch's records then go into memory
 * already touched, as the ring's buffers would each be otherwise (new pages
 * to fault in and zero for the first CX_INFLIGHT_MAX batches, and whenever
 * a later batch is larger). */
static void take_largest_buffer(cx_inflight_t *inflight, cx_inflight_batch_t *batch) {
  cx_inflight_batch_t *largest = NULL;
  for (int k = inflight->sealed + 1; k < CX_INFLIGHT_MAX; k++) {
    cx_inflight_batch_t *other = at(inflight, k);
    if (other->held.bytes.capacity > (largest ? largest->held.bytes.capacity
                                              : batch->held.bytes.capacity))
      largest = other;
  }
  if (largest) {
    cx_changelog_held_t swap = batch->held;
    batch->held = largest->held;
    largest->held = swap;
  }
}

cx_inflight_batch_t *cx_inflight_open(cx_inflight_t *inflight) {
  if (inflight->sealed >= CX_INFLIGHT_MAX)
    return NULL;
  cx_inflight_batch_t *batch = at(inflight, inflight->sealed);
  cx_changelog_held_clear(&batch->held);
  take_largest_buffer(inflight, batch);
  batch->outputs = (cx_kafka_tally_t){0, 0};
  batch->records = (cx_kafka_tally_t){0, 0};
  if (batch->offsets)
    rd_kafka_topic_partition_list_destroy(batch->offsets);
  batch->offsets = NULL;
  batch->records_sent = false;
  batch->sealed_ms = 0;
  batch->messages = 0;
  return batch;
}

void cx_inflight_seal(cx_inflight_t *inflight) {
  if (inflight->sealed < CX_INFLIGHT_MAX)
    inflight->sealed++;
}

int cx_inflight_advance(cx_inflight_t *inflight, const cx_inflight_hooks_t *hooks) {
  for (int k = 0; k < inflight->sealed; k++) {
    cx_inflight_batch_t *batch = at(inflight, k);
    if (batch->outputs.failed || batch->records.failed)
      return -1;
  }
  for (int k = 0; k < inflight->sealed; k++) {
    cx_inflight_batch_t *batch = at(inflight, k);
    if (batch->records_sent)
      continue;
    if (batch->outputs.pending)
      break; /* later batches' records wait for this one's */
    hooks->send_records(batch, hooks->opaque);
    batch->records_sent = true;
    if (batch->records.failed)
      return -1; /* refused at once */
  }
  while (inflight->sealed) {
    cx_inflight_batch_t *batch = at(inflight, 0);
    if (!batch->records_sent || batch->records.pending)
      break;
    if (batch->records.failed)
      return -1;
    hooks->done(batch, hooks->opaque);
    cx_changelog_held_clear(&batch->held); /* its records are acknowledged */
    if (batch->offsets)
      rd_kafka_topic_partition_list_destroy(batch->offsets);
    batch->offsets = NULL;
    inflight->first = (inflight->first + 1) % CX_INFLIGHT_MAX;
    inflight->sealed--;
  }
  return 0;
}

void cx_inflight_free(cx_inflight_t *inflight) {
  for (int k = 0; k < CX_INFLIGHT_MAX; k++) {
    cx_changelog_held_free(&inflight->batches[k].held);
    if (inflight->batches[k].offsets)
      rd_kafka_topic_partition_list_destroy(inflight->batches[k].offsets);
    inflight->batches[k].offsets = NULL;
  }
  inflight->first = 0;
  inflight->sealed = 0;
}
