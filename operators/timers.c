/* Event-time timers (see timers.h): a binary min-heap, and FIFO queues for
 * the timers set for the last millisecond of a UTC day (engagement_drop's
 * checks: about one per digital customer a day, all at the same few
 * times). A day-end time lives only in its queue and any other time only in
 * the heap, so a heap timer and a queue timer never share a fire time; a
 * queue's timers share theirs and fire in the order they were set, so its
 * head is its earliest, and the earliest timer of all is the heap's top or
 * the head of the queue of the earliest day end: the order is exactly the
 * one heap's. A queue needs no set order and no fire time per timer: it
 * keeps 12 bytes a timer (record, generation, the payload's low 32 bits) in
 * blocks of about 16 KiB, a new one linked at the tail when the last is
 * full and the head's freed once popped past, so no slack beyond one block
 * and no copy. The queue's rule is that of its first timer; a timer with
 * another rule or a payload past 32 bits also gets an exception (its
 * position, rule and payload's high bits) in the queue's exception FIFO
 * (none in practice: engagement_drop sets 32-bit tokens). A push and a pop
 * are O(1) instead of sifting through a heap of one timer per customer. */
#include "timers.h"

#include <stdlib.h>
#include <string.h>

#include "window.h"

/* A timer in the heap: with its set order, the tie-break. */
typedef struct heaped_s {
  int64_t fire_ms;
  uint64_t payload;
  uint32_t record;
  uint32_t generation;
  uint64_t sequence : 56;
  uint64_t rule : 8;
} heaped_t;

/* A timer in a queue: the rest is the queue's (or an exception's). */
typedef struct queued_s {
  uint32_t record;
  uint32_t generation;
  uint32_t payload; /* low 32 bits */
} queued_t;

typedef struct block_s {
  struct block_s *next;
  queued_t entries[CX_TIMERS_QUEUE_BLOCK];
} block_t;

/* The rule and high payload bits of the queue's timer at position. */
typedef struct exception_s {
  uint64_t position; /* counted from the queue's first push */
  uint32_t payload_high;
  uint8_t rule;
} exception_t;

/* The timers of one day end, in set order: from first->entries[head] to
 * last->entries[tail - 1]. */
typedef struct day_queue_s {
  int64_t fire_ms;
  block_t *first, *last;
  size_t head, tail;       /* in first, in last */
  uint64_t pushed, popped; /* since the queue was made */
  exception_t *exceptions; /* exceptions[exception_head, exception_count) */
  size_t exception_head, exception_count, exception_capacity;
  uint8_t rule; /* the first timer's */
} day_queue_t;

struct cx_timers_s {
  heaped_t *heap;         /* heap[0] is the earliest */
  size_t count;           /* timers in the heap */
  size_t capacity;        /* allocated */
  day_queue_t *queues;    /* by fire_ms ascending, none empty */
  size_t queue_count, queue_capacity; /* used, allocated */
  size_t last_queue;      /* the queue the last day-end push went to (a hint) */
  size_t queued;          /* timers in the queues */
  size_t blocks;          /* queue blocks held */
  size_t exception_slots; /* exception entries allocated */
  uint64_t next_sequence; /* for the next heap push */
};

cx_timers_t *cx_timers_new(void) {
  return calloc(1, sizeof(cx_timers_t));
}

static void free_queue(cx_timers_t *timers, day_queue_t *queue) {
  for (block_t *block = queue->first, *next; block; block = next) {
    next = block->next;
    free(block);
    timers->blocks--;
  }
  free(queue->exceptions);
  timers->exception_slots -= queue->exception_capacity;
}

void cx_timers_destroy(cx_timers_t *timers) {
  if (!timers)
    return;
  for (size_t i = 0; i < timers->queue_count; i++)
    free_queue(timers, &timers->queues[i]);
  free(timers->queues);
  free(timers->heap);
  free(timers);
}

static bool earlier(const heaped_t *a, const heaped_t *b) {
  return a->fire_ms < b->fire_ms || (a->fire_ms == b->fire_ms && a->sequence < b->sequence);
}

static bool is_day_end(int64_t fire_ms) {
  return fire_ms == cx_window_day_end_ms(cx_window_day(fire_ms));
}

static int heap_push(cx_timers_t *timers, const cx_timer_t *timer) {
  if (timers->count == timers->capacity) {
    size_t capacity = timers->capacity ? timers->capacity * 2 : 64;
    heaped_t *heap = realloc(timers->heap, capacity * sizeof(*heap));
    if (!heap)
      return -1;
    timers->heap = heap;
    timers->capacity = capacity;
  }
  heaped_t added = {.fire_ms = timer->fire_ms,
                    .payload = timer->payload,
                    .record = timer->record,
                    .generation = timer->generation,
                    .sequence = timers->next_sequence++,
                    .rule = timer->rule};
  size_t i = timers->count++;
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

static void heap_pop(cx_timers_t *timers, cx_timer_t *out) {
  const heaped_t *top = &timers->heap[0];
  *out = (cx_timer_t){.fire_ms = top->fire_ms,
                      .payload = top->payload,
                      .record = top->record,
                      .generation = top->generation,
                      .rule = (uint8_t)top->rule};
  heaped_t last = timers->heap[--timers->count];
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

/* The queue of fire_ms, created (empty, in order, with rule) when there is
 * none; NULL when out of memory. */
static day_queue_t *queue_of(cx_timers_t *timers, int64_t fire_ms, uint8_t rule) {
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
    timers->queues[at] = (day_queue_t){.fire_ms = fire_ms, .rule = rule};
    timers->queue_count++;
  }
  timers->last_queue = at;
  return &timers->queues[at];
}

static void drop_queue(cx_timers_t *timers, size_t at) {
  free_queue(timers, &timers->queues[at]);
  timers->queue_count--;
  memmove(&timers->queues[at], &timers->queues[at + 1],
          (timers->queue_count - at) * sizeof(day_queue_t));
}

/* Room for one more exception; -1 when out of memory. */
static int exception_room(cx_timers_t *timers, day_queue_t *queue) {
  if (queue->exception_count < queue->exception_capacity)
    return 0;
  if (queue->exception_head) { /* reuse the popped ones */
    queue->exception_count -= queue->exception_head;
    memmove(queue->exceptions, queue->exceptions + queue->exception_head,
            queue->exception_count * sizeof(exception_t));
    queue->exception_head = 0;
    return 0;
  }
  size_t capacity = queue->exception_capacity ? queue->exception_capacity * 2 : 8;
  exception_t *grown = realloc(queue->exceptions, capacity * sizeof(*grown));
  if (!grown)
    return -1;
  timers->exception_slots += capacity - queue->exception_capacity;
  queue->exceptions = grown;
  queue->exception_capacity = capacity;
  return 0;
}

static int queue_push(cx_timers_t *timers, const cx_timer_t *timer) {
  day_queue_t *queue = queue_of(timers, timer->fire_ms, timer->rule);
  if (!queue)
    return -1;
  bool exception = timer->rule != queue->rule || timer->payload >> 32;
  bool full = !queue->last || queue->tail == CX_TIMERS_QUEUE_BLOCK;
  block_t *block = NULL;
  if ((exception && exception_room(timers, queue)) ||
      (full && !(block = malloc(sizeof(block_t))))) {
    if (queue->pushed == queue->popped)
      drop_queue(timers, (size_t)(queue - timers->queues));
    return -1;
  }
  if (full) {
    block->next = NULL;
    if (queue->last)
      queue->last->next = block;
    else
      queue->first = block;
    queue->last = block;
    queue->tail = 0;
    timers->blocks++;
  }
  if (exception)
    queue->exceptions[queue->exception_count++] =
        (exception_t){.position = queue->pushed,
                      .payload_high = (uint32_t)(timer->payload >> 32),
                      .rule = timer->rule};
  queue->last->entries[queue->tail++] = (queued_t){.record = timer->record,
                                                   .generation = timer->generation,
                                                   .payload = (uint32_t)timer->payload};
  queue->pushed++;
  timers->queued++;
  return 0;
}

int cx_timers_push(cx_timers_t *timers, const cx_timer_t *timer) {
  return is_day_end(timer->fire_ms) ? queue_push(timers, timer) : heap_push(timers, timer);
}

/* Removes the first queue's head into out. */
static void queue_pop(cx_timers_t *timers, cx_timer_t *out) {
  day_queue_t *queue = &timers->queues[0];
  const queued_t *q = &queue->first->entries[queue->head];
  uint64_t high = 0;
  uint8_t rule = queue->rule;
  if (queue->exception_head < queue->exception_count &&
      queue->exceptions[queue->exception_head].position == queue->popped) {
    const exception_t *e = &queue->exceptions[queue->exception_head++];
    high = e->payload_high;
    rule = e->rule;
  }
  *out = (cx_timer_t){.fire_ms = queue->fire_ms,
                      .payload = high << 32 | q->payload,
                      .record = q->record,
                      .generation = q->generation,
                      .rule = rule};
  timers->queued--;
  queue->popped++;
  if (queue->popped == queue->pushed) {
    drop_queue(timers, 0);
    timers->last_queue = 0;
  } else if (++queue->head == CX_TIMERS_QUEUE_BLOCK) {
    block_t *done = queue->first;
    queue->first = done->next;
    queue->head = 0;
    free(done);
    timers->blocks--;
  }
}

bool cx_timers_pop_due(cx_timers_t *timers, int64_t watermark_ms, cx_timer_t *out) {
  bool heap_due = timers->count && watermark_ms > timers->heap[0].fire_ms;
  bool queue_due = timers->queue_count && watermark_ms > timers->queues[0].fire_ms;
  if (!heap_due && !queue_due)
    return false;
  /* A queue's fire time is never the heap top's: the earlier one is first. */
  if (queue_due && (!heap_due || timers->queues[0].fire_ms < timers->heap[0].fire_ms))
    queue_pop(timers, out);
  else
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
  return sizeof(*timers) + timers->capacity * sizeof(heaped_t) +
         timers->queue_capacity * sizeof(day_queue_t) + timers->blocks * sizeof(block_t) +
         timers->exception_slots * sizeof(exception_t);
}
