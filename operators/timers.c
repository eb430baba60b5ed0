/* Timer heap (see timers.h). */
#include "timers.h"

#include <stdlib.h>

struct cx_timers_s {
  cx_timer_t *heap;       /* heap[0] is the earliest */
  size_t count;           /* timers in the heap */
  size_t capacity;        /* allocated */
  uint64_t next_sequence; /* for the next push */
};

cx_timers_t *cx_timers_new(void) {
  return calloc(1, sizeof(cx_timers_t));
}

void cx_timers_destroy(cx_timers_t *timers) {
  if (!timers)
    return;
  free(timers->heap);
  free(timers);
}

static bool earlier(const cx_timer_t *a, const cx_timer_t *b) {
  return a->fire_ms < b->fire_ms || (a->fire_ms == b->fire_ms && a->sequence < b->sequence);
}

int cx_timers_push(cx_timers_t *timers, const cx_timer_t *timer) {
  if (timers->count == timers->capacity) {
    size_t capacity = timers->capacity ? timers->capacity * 2 : 64;
    cx_timer_t *heap = realloc(timers->heap, capacity * sizeof(*heap));
    if (!heap)
      return -1;
    timers->heap = heap;
    timers->capacity = capacity;
  }
  size_t i = timers->count++;
  cx_timer_t added = *timer;
  added.sequence = timers->next_sequence++;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!earlier(&added, &timers->heap[parent]))
      break;
    timers->heap[i] = timers->heap[parent];
    i = parent;
  }
  timers->heap[i] = added;
  return 0;
}

bool cx_timers_pop_due(cx_timers_t *timers, int64_t watermark_ms, cx_timer_t *out) {
  if (!timers->count || !(watermark_ms > timers->heap[0].fire_ms))
    return false;
  *out = timers->heap[0];
  cx_timer_t last = timers->heap[--timers->count];
  size_t i = 0;
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= timers->count)
      break;
    if (child + 1 < timers->count && earlier(&timers->heap[child + 1], &timers->heap[child]))
      child++;
    if (!earlier(&timers->heap[child], &last))
      break;
    timers->heap[i] = timers->heap[child];
    i = child;
  }
  if (timers->count)
    timers->heap[i] = last;
  return true;
}

int64_t cx_timers_next_fire_ms(const cx_timers_t *timers) {
  return timers->count ? timers->heap[0].fire_ms : INT64_MAX;
}

size_t cx_timers_count(const cx_timers_t *timers) {
  return timers->count;
}

size_t cx_timers_bytes(const cx_timers_t *timers) {
  return sizeof(*timers) + timers->capacity * sizeof(cx_timer_t);
}
