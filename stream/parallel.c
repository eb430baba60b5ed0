/* Deterministic multi-threaded replay (see parallel.h). One batch at a time:
 * the caller fills each worker's queue, wakes them, waits for all, then
 * merges their output groups by sequence number. Workers share nothing
 * but the batch counter under the mutex. */
#include "parallel.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonl.h"

#define BATCH_EVENTS 8192

typedef struct queued_s {
  uint64_t sequence;   /* position in the replay order */
  size_t partition;    /* its processor */
  cx_event_t event;    /* strings point into text */
  char *text;          /* owned copy of the event's strings */
} queued_t;

typedef struct group_s {
  uint64_t sequence;   /* the event whose output this is */
  size_t begin, end;   /* bytes in the worker's output buffer */
} group_t;

typedef struct worker_s {
  struct cx_parallel_s *parallel; /* back pointer */
  pthread_t thread;               /* the thread */
  queued_t *queue;                /* this batch's events, in order */
  size_t queue_count;             /* used */
  size_t queue_capacity;          /* allocated */
  cx_buf_t output;                /* JSON lines of the batch */
  group_t *groups;                /* output per event, in order */
  size_t group_count;             /* used */
  size_t group_capacity;          /* allocated */
  cx_report_t counts;             /* events, late, alerts, profiles */
  int failed;                     /* out of memory */
} worker_t;

struct cx_parallel_s {
  size_t thread_count;         /* workers */
  worker_t *workers;           /* thread_count of them */
  cx_processor_t **processors; /* borrowed, by partition */
  FILE *out;                   /* JSON lines */
  uint64_t next_sequence;      /* for the next submitted event */
  size_t queued;               /* events in this batch */
  pthread_mutex_t lock;        /* guards the fields below */
  pthread_cond_t start;        /* a batch is ready */
  pthread_cond_t done;         /* a worker finished the batch */
  uint64_t batch;              /* batches started */
  size_t finished;             /* workers done with the current batch */
  int stopping;                /* threads should exit */
};

static void on_alert(const cx_alert_t *alert, void *opaque) {
  worker_t *worker = opaque;
  worker->counts.alerts[alert->rule_index]++;
  if (cx_jsonl_append_alert(&worker->output, alert))
    worker->failed = 1;
}

static void on_profile(const cx_profile_t *profile, void *opaque) {
  worker_t *worker = opaque;
  worker->counts.profiles++;
  if (profile->deleted)
    worker->counts.profiles_deleted++;
  if (cx_jsonl_append_profile(&worker->output, profile))
    worker->failed = 1;
}

static void run_batch(worker_t *worker) {
  cx_outputs_t outputs = {on_alert, on_profile, worker};
  worker->output.len = 0;
  worker->group_count = 0;
  for (size_t i = 0; i < worker->queue_count; i++) {
    queued_t *queued = &worker->queue[i];
    size_t begin = worker->output.len;
    cx_process_result_t result =
        cx_processor_process(worker->parallel->processors[queued->partition], &queued->event,
                             &outputs);
    if (result == CX_PROCESS_LATE)
      worker->counts.late_events++;
    else if (result == CX_PROCESS_NOMEM)
      worker->failed = 1;
    else
      worker->counts.events++;
    free(queued->text);
    queued->text = NULL;
    if (worker->output.len == begin)
      continue;
    if (worker->group_count == worker->group_capacity) {
      size_t capacity = worker->group_capacity ? worker->group_capacity * 2 : 256;
      group_t *groups = realloc(worker->groups, capacity * sizeof(*groups));
      if (!groups) {
        worker->failed = 1;
        continue;
      }
      worker->groups = groups;
      worker->group_capacity = capacity;
    }
    worker->groups[worker->group_count++] = (group_t){queued->sequence, begin, worker->output.len};
  }
  worker->queue_count = 0;
}

static void *worker_main(void *arg) {
  worker_t *worker = arg;
  cx_parallel_t *parallel = worker->parallel;
  uint64_t seen = 0;
  pthread_mutex_lock(&parallel->lock);
  for (;;) {
    while (!parallel->stopping && parallel->batch == seen)
      pthread_cond_wait(&parallel->start, &parallel->lock);
    if (parallel->stopping)
      break;
    seen = parallel->batch;
    pthread_mutex_unlock(&parallel->lock);
    run_batch(worker);
    pthread_mutex_lock(&parallel->lock);
    parallel->finished++;
    pthread_cond_signal(&parallel->done);
  }
  pthread_mutex_unlock(&parallel->lock);
  return NULL;
}

cx_parallel_t *cx_parallel_new(size_t threads, cx_processor_t **processors,
                               size_t partition_count, FILE *out) {
  (void)partition_count;
  cx_parallel_t *parallel = calloc(1, sizeof(*parallel));
  if (!parallel)
    return NULL;
  parallel->thread_count = threads;
  parallel->processors = processors;
  parallel->out = out;
  parallel->workers = calloc(threads, sizeof(worker_t));
  pthread_mutex_init(&parallel->lock, NULL);
  pthread_cond_init(&parallel->start, NULL);
  pthread_cond_init(&parallel->done, NULL);
  if (!parallel->workers) {
    cx_parallel_destroy(parallel);
    return NULL;
  }
  for (size_t i = 0; i < threads; i++) {
    parallel->workers[i].parallel = parallel;
    if (pthread_create(&parallel->workers[i].thread, NULL, worker_main, &parallel->workers[i])) {
      parallel->thread_count = i;
      cx_parallel_destroy(parallel);
      return NULL;
    }
  }
  return parallel;
}

int cx_parallel_submit(cx_parallel_t *parallel, size_t partition, const cx_event_t *event) {
  worker_t *worker = &parallel->workers[partition % parallel->thread_count];
  if (worker->queue_count == worker->queue_capacity) {
    size_t capacity = worker->queue_capacity ? worker->queue_capacity * 2 : 1024;
    queued_t *queue = realloc(worker->queue, capacity * sizeof(*queue));
    if (!queue)
      return -1;
    worker->queue = queue;
    worker->queue_capacity = capacity;
  }
  queued_t *queued = &worker->queue[worker->queue_count];
  queued->sequence = parallel->next_sequence++;
  queued->partition = partition;
  queued->event = *event;
  if (!(queued->text = cx_event_own_strings(&queued->event)))
    return -1;
  worker->queue_count++;
  if (++parallel->queued >= BATCH_EVENTS)
    return cx_parallel_flush(parallel);
  return 0;
}

int cx_parallel_flush(cx_parallel_t *parallel) {
  if (!parallel->queued)
    return 0;
  pthread_mutex_lock(&parallel->lock);
  parallel->finished = 0;
  parallel->batch++;
  pthread_cond_broadcast(&parallel->start);
  while (parallel->finished < parallel->thread_count)
    pthread_cond_wait(&parallel->done, &parallel->lock);
  pthread_mutex_unlock(&parallel->lock);
  parallel->queued = 0;

  /* Merge the workers' groups by sequence: each worker's are in order. */
  size_t next[64] = {0};
  int rc = 0;
  for (;;) {
    worker_t *best = NULL;
    size_t best_index = 0;
    for (size_t w = 0; w < parallel->thread_count; w++) {
      worker_t *worker = &parallel->workers[w];
      if (worker->failed)
        rc = -1;
      if (next[w] < worker->group_count &&
          (!best || worker->groups[next[w]].sequence < best->groups[next[best_index]].sequence)) {
        best = worker;
        best_index = w;
      }
    }
    if (!best)
      break;
    group_t *group = &best->groups[next[best_index]++];
    size_t len = group->end - group->begin;
    if (fwrite(best->output.data + group->begin, 1, len, parallel->out) != len)
      rc = -1;
  }
  return rc;
}

void cx_parallel_add_counts(const cx_parallel_t *parallel, cx_report_t *report) {
  for (size_t w = 0; w < parallel->thread_count; w++) {
    const cx_report_t *counts = &parallel->workers[w].counts;
    report->events += counts->events;
    report->late_events += counts->late_events;
    report->profiles += counts->profiles;
    report->profiles_deleted += counts->profiles_deleted;
    for (int r = 0; r < CX_RULE__COUNT; r++)
      report->alerts[r] += counts->alerts[r];
  }
}

void cx_parallel_destroy(cx_parallel_t *parallel) {
  if (!parallel)
    return;
  pthread_mutex_lock(&parallel->lock);
  parallel->stopping = 1;
  pthread_cond_broadcast(&parallel->start);
  pthread_mutex_unlock(&parallel->lock);
  for (size_t w = 0; w < parallel->thread_count; w++)
    pthread_join(parallel->workers[w].thread, NULL);
  for (size_t w = 0; parallel->workers && w < parallel->thread_count; w++) {
    worker_t *worker = &parallel->workers[w];
    for (size_t i = 0; i < worker->queue_count; i++)
      free(worker->queue[i].text);
    free(worker->queue);
    free(worker->groups);
    cx_buf_free(&worker->output);
  }
  free(parallel->workers);
  pthread_cond_destroy(&parallel->done);
  pthread_cond_destroy(&parallel->start);
  pthread_mutex_destroy(&parallel->lock);
  free(parallel);
}
