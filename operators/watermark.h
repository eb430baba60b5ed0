/* Per-partition event-time watermark: the largest occurred_at seen minus the
 * allowed lateness. An event older than the watermark is late: it is counted
 * and routed aside by the caller, and does not change any window. */
#ifndef CX_WATERMARK_H
#define CX_WATERMARK_H

#include <stdbool.h>
#include <stdint.h>

#define CX_WATERMARK_NONE INT64_MIN

typedef struct cx_watermark_s {
  int64_t lateness_ms;  /* allowed lateness */
  int64_t max_seen_ms;  /* largest event time observed; CX_WATERMARK_NONE before any */
} cx_watermark_t;

void cx_watermark_init(cx_watermark_t *watermark, int64_t lateness_ms);

/* Event time below which events are late (CX_WATERMARK_NONE before any event). */
int64_t cx_watermark_current(const cx_watermark_t *watermark);

/* Observes an event time. Returns true when the event is late (older than
 * the watermark); a late event does not advance the watermark. */
bool cx_watermark_observe(cx_watermark_t *watermark, int64_t event_time_ms);

#endif
