/* Replay on several processing threads with output identical to one thread.
 * Events arrive in the replay's deterministic order and get a sequence
 * number; each worker owns the processors of the partitions p with
 * p % threads == its index, applies its events in order and formats what
 * they cause as JSON lines, grouped by sequence number. After each batch the
 * caller's thread writes the groups back in sequence order, so the bytes do
 * not depend on the number of threads. Decoding stays on the caller's
 * thread (Avro-C is not thread-safe). */
#ifndef CX_PARALLEL_H
#define CX_PARALLEL_H

#include <stddef.h>
#include <stdio.h>

#include "../operators/event.h"
#include "../operators/processor.h"
#include "report.h"

typedef struct cx_parallel_s cx_parallel_t;

/* processors[0 .. partition_count) are borrowed; threads >= 1. NULL when out
 * of memory or when a thread cannot be started. */
cx_parallel_t *cx_parallel_new(size_t threads, cx_processor_t **processors,
                               size_t partition_count, FILE *out);
/* Copies the event and queues it for its partition; runs the batch when it
 * is full. Returns -1 on out of memory or a write error. */
int cx_parallel_submit(cx_parallel_t *parallel, size_t partition, const cx_event_t *event);
/* Runs what is queued and writes its output. */
int cx_parallel_flush(cx_parallel_t *parallel);
/* Adds the workers' counters (events, late, alerts, profiles) to report. */
void cx_parallel_add_counts(const cx_parallel_t *parallel, cx_report_t *report);
/* Stops the threads and frees everything (not the processors). */
void cx_parallel_destroy(cx_parallel_t *parallel);

#endif
