/* Event-time timers of one partition, fired in order of fire time, then of
 * the order they were set, so equal times fire in a fixed order (a binary
 * min-heap, with the timers set for a day's last millisecond kept apart in
 * one FIFO queue per day: see timers.c). A timer is due when the watermark
 * has passed its time (watermark > fire_ms): from then on no on-time event
 * at or before fire_ms can still arrive. */
#ifndef CX_TIMERS_H
#define CX_TIMERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One pending timer as set and as fired. Stored as 32 bytes in the heap
 * (with its set order, the tie-break, kept there only) and as 12 bytes in a
 * day's queue (about one per customer with digital activity). */
typedef struct cx_timer_s {
  int64_t fire_ms;     /* event time it fires at */
  uint64_t payload;    /* the detector's own value */
  uint32_t record;     /* customer record index (cx_state_index_of) */
  uint32_t generation; /* the record's generation when set */
  uint8_t rule;        /* cx_rule_t of the detector that set it */
} cx_timer_t;

/* Timers in one block of a day's queue (a block is about 16 KiB). */
#define CX_TIMERS_QUEUE_BLOCK 1364

typedef struct cx_timers_s cx_timers_t;

cx_timers_t *cx_timers_new(void);
void cx_timers_destroy(cx_timers_t *timers);

/* Adds a timer. Returns -1 when out of memory (nothing added). */
int cx_timers_push(cx_timers_t *timers, const cx_timer_t *timer);

/* Removes and returns the earliest timer if it is due at watermark_ms. */
bool cx_timers_pop_due(cx_timers_t *timers, int64_t watermark_ms, cx_timer_t *out);

/* The earliest timer's fire_ms, or INT64_MAX when there is none. */
int64_t cx_timers_next_fire_ms(const cx_timers_t *timers);
size_t cx_timers_count(const cx_timers_t *timers);
/* Heap bytes held: the heap array at its capacity, the queues and their
 * blocks. */
size_t cx_timers_bytes(const cx_timers_t *timers);

#endif
