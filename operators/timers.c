/* Event-time timers (see timers.h): a binary min-heap, and FIFO queues for
 * the timers set for the last millisecond of a UTC day (engagement_drop's
 * checks: about one per digital customer a day, all at the same few
 * times). A day-end time lives only in its queue and any other time only in
 * the heap; a queue's timers share their fire time and arrive in sequence
 * order, so its head is its earliest, and the earliest timer of all is the
 * heap's top or the head of the queue of the earliest day end: the order is
 * exactly the one heap's. A queue entry is 24 bytes (no fire time), a push
 * onto it O(1) and a pop O(1) instead of sifting through a heap of one
 * timer per customer. */
#include "timers.h"

#include <stdlib.h>
#include <string.h>

#include "window.h"

/* A timer in a queue: cx_timer_t without its fire time. */
typedef struct queued_s {
  uint64_t payload;
  uint32_t record;
  uint32_t generation;
  uint64_t sequence : 56;
  uint64_t rule : 8;
} queued_t;

/* The timers of one day end, in sequence order: entries[head, len). */
typedef struct day_queue_s {
  int64_t fire_ms;
  queued_t *entries;
  size_t head, len, capacity;
} day_queue_t;

struct cx_timers_s {
  cx_timer_t *heap;       /* heap[0] is the earliest */
  size_t count;           /* timers in the heap */
  size_t capacity;        /* allocated */
  day_queue_t *queues;    /* by fire_ms ascending, none empty */
  size_t queue_count, queue_capacity; /* used, allocated */
  size_t last_queue;      /* the queue the last day-end push went to (a hint) */
  size_t queued;          /* timers in the queues */
  uint64_t next_sequence; /* for the next push */
};

cx_timers_t *cx_timers_new(void) {
  return calloc(1, sizeof(cx_timers_t));
}

void cx_timers_destroy(cx_timers_t *timers) {
  if (!timers)
    return;
  for (size_t i = 0; i < timers->queue_count; i++)
    free(timers->queues[i].entries);
  free(timers->queues);
  free(timers->heap);
  free(timers);
}

static bool earlier(const cx_timer_t *a, const cx_timer_t *b) {
  return a->fire_ms < b->fire_ms || (a->fire_ms == b->fire_ms && a->sequence < b->sequence);
}

static bool is_day_end(int64_t fire_ms) {
  return fire_ms == cx_window_day_end_ms(cx_window_day(fire_ms));
}

static int heap_push(cx_timers_t *timers, const cx_timer_t *added) {
  if (timers->count == timers->capacity) {
    size_t capacity = timers->capacity ? timers->capacity * 2 : 64;
    cx_timer_t *heap = realloc(timers->heap, capacity * sizeof(*heap));
    if (!heap)
      return -1;
    timers->heap = heap;
    timers->capacity = capacity;
  }
  size_t i = timers->count++;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!earlier(added, &timers->heap[parent]))
      break;
    timers->heap[i] = timers->heap[parent];
    i = parent;
  }
  timers->heap[i] = *added;
  return 0;
}

static void heap_pop(cx_timers_t *timers, cx_timer_t *out) {
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
}

/* The queue of fire_ms, created (empty, in order) when there is none; NULL
 * when out of memory. */
static day_queue_t *queue_of(cx_timers_t *timers, int64_t fire_ms) {
  size_t n = timers->queue_count, at = timers->last_queue;
  if (at < n && timers->queues[at].fire_ms == fire_ms)
    return &timers->queues[at];
  at = 0;
  while (at < n && timers->queues[at].fire_ms < fire_ms)
    at++;
  if (at == n || timers->queues[at].fire_ms != fire_ms) {
    if (n == timers->queue_capacity) {
      size_t capacity = n ? n * 2 : 8;
      day_queue_t *grown = realloc(timers->queues, capacity * sizeof(*grown));
      if (!grown)
        return NULL;
      timers->queues = grown;
      timers->queue_capacity = capacity;
    }
    memmove(&timers->queues[at + 1], &timers->queues[at], (n - at) * sizeof(day_queue_t));
    timers->queues[at] = (day_queue_t){.fire_ms = fire_ms};
    timers->queue_count++;
  }
  timers->last_queue = at;
  return &timers->queues[at];
}

static void drop_queue(cx_timers_t *timers, size_t at) {
  free(timers->queues[at].entries);
  timers->queue_count--;
  memmove(&timers->queues[at], &timers->queues[at + 1],
          (timers->queue_count - at) * sizeof(day_queue_t));
}

static int queue_push(cx_timers_t *timers, const cx_timer_t *added) {
  day_queue_t *queue = queue_of(timers, added->fire_ms);
  if (!queue)
    return -1;
  if (queue->len == queue->capacity) {
    if (queue->head >= queue->capacity / 2 && queue->head) { /* reuse the popped half */
      memmove(queue->entries, queue->entries + queue->head,
              (queue->len - queue->head) * sizeof(queued_t));
      queue->len -= queue->head;
      queue->head = 0;
    } else {
      size_t capacity = queue->capacity ? queue->capacity * 2 : 64;
      queued_t *grown = realloc(queue->entries, capacity * sizeof(*grown));
      if (!grown) {
        if (!queue->len)
          drop_queue(timers, (size_t)(queue - timers->queues));
        return -1;
      }
      queue->entries = grown;
      queue->capacity = capacity;
    }
  }
  queue->entries[queue->len++] = (queued_t){.payload = added->payload,
                                            .record = added->record,
                                            .generation = added->generation,
                                            .sequence = added->sequence,
                                            .rule = added->rule};
  timers->queued++;
  return 0;
}

int cx_timers_push(cx_timers_t *timers, const cx_timer_t *timer) {
  cx_timer_t added = *timer;
  added.sequence = timers->next_sequence;
  int rc = is_day_end(added.fire_ms) ? queue_push(timers, &added) : heap_push(timers, &added);
  if (!rc)
    timers->next_sequence++;
  return rc;
}

/* The first queue's head as a timer. */
static cx_timer_t queue_head(const day_queue_t *queue) {
  const queued_t *q = &queue->entries[queue->head];
  return (cx_timer_t){.fire_ms = queue->fire_ms,
                      .payload = q->payload,
                      .record = q->record,
                      .generation = q->generation,
                      .sequence = q->sequence,
                      .rule = q->rule};
}

bool cx_timers_pop_due(cx_timers_t *timers, int64_t watermark_ms, cx_timer_t *out) {
  bool heap_due = timers->count && watermark_ms > timers->heap[0].fire_ms;
  bool queue_due = timers->queue_count && watermark_ms > timers->queues[0].fire_ms;
  if (!heap_due && !queue_due)
    return false;
  if (queue_due) {
    day_queue_t *queue = &timers->queues[0];
    cx_timer_t head = queue_head(queue);
    if (!heap_due || earlier(&head, &timers->heap[0])) {
      *out = head;
      timers->queued--;
      if (++queue->head == queue->len) {
        drop_queue(timers, 0);
        timers->last_queue = 0;
      }
      return true;
    }
  }
  heap_pop(timers, out);
  return true;
}

int64_t cx_timers_next_fire_ms(const cx_timers_t *timers) {
  int64_t heap = timers->count ? timers->heap[0].fire_ms : INT64_MAX;
  int64_t queue = timers->queue_count ? timers->queues[0].fire_ms : INT64_MAX;
  return heap < queue ? heap : queue;
}

size_t cx_timers_count(const cx_timers_t *timers) {
  return timers->count + timers->queued;
}

size_t cx_timers_bytes(const cx_timers_t *timers) {
  size_t bytes = sizeof(*timers) + timers->capacity * sizeof(cx_timer_t) +
                 timers->queue_capacity * sizeof(day_queue_t);
  for (size_t i = 0; i < timers->queue_count; i++)
    bytes += timers->queues[i].capacity * sizeof(queued_t);
  return bytes;
}
