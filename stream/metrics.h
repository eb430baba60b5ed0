/* Metrics: a registry of counters, gauges and histograms with labels,
 * rendered in the Prometheus text format (stream/http.c serves it).
 *
 * The one idea: every writing thread owns a shard, and a shard has exactly
 * one writer. A series (one metric with one set of label values) is looked
 * up once and then updated through its handle with a relaxed atomic add, on
 * a cache line no other thread writes: no lock on the hot path. The renderer
 * (the HTTP thread) takes a shard's lock only to walk its table, which the
 * writer takes only to insert a new series; it sums the same series across
 * shards. Counters of a retired shard (a thread that ended) stay in the sums,
 * so they never go backwards; its gauges drop out.
 *
 * Every call accepts a NULL shard or series and then does nothing, so code
 * can record unconditionally and a job without metrics pays one test. */
#ifndef CX_METRICS_H
#define CX_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The metric families: name, type, label names, help. README documents the same list. */
#define CX_METRICS_MAP(X)                                                                       \
  X(EVENTS, "cxstream_events_total", COUNTER, 3, "topic", "partition", "channel",               \
    "Messages consumed from the input topics, each counted once; channel is the event's "      \
    "channel, or 'undecodable' for a dead letter")                                            \
  X(DEAD_LETTERS, "cxstream_dead_letters_total", COUNTER, 1, "reason", NULL, NULL,              \
    "Messages sent to the dead-letter topic (decode and validation errors), by reason code")   \
  X(LATE_EVENTS, "cxstream_late_events_total", COUNTER, 2, "topic", "partition", NULL,          \
    "Events older than their partition's watermark, sent to the late-events topic")            \
  X(ALERTS, "cxstream_alerts_total", COUNTER, 2, "rule", "severity", NULL,                      \
    "Alerts emitted, by rule and severity")                                                    \
  X(PROFILES, "cxstream_profiles_total", COUNTER, 0, NULL, NULL, NULL,                          \
    "Customer profiles emitted (tombstones included)")                                         \
  X(PROFILE_TOMBSTONES, "cxstream_profile_tombstones_total", COUNTER, 0, NULL, NULL, NULL,      \
    "Profile tombstones emitted (consent withdrawn)")                                          \
  X(STATE_CUSTOMERS, "cxstream_state_customers", GAUGE, 0, NULL, NULL, NULL,                    \
    "Customers held in state by this instance")                                                \
  X(STATE_BYTES, "cxstream_state_bytes", GAUGE, 0, NULL, NULL, NULL,                            \
    "Heap bytes of the customers' state held by this instance")                                \
  X(CONSUMER_LAG, "cxstream_consumer_lag", GAUGE, 2, "topic", "partition", NULL,                \
    "Messages between the consumer's position and the partition's high watermark "             \
    "(librdkafka statistics)")                                                                 \
  X(EVENT_LATENCY, "cxstream_event_latency_seconds", HISTOGRAM, 0, NULL, NULL, NULL,            \
    "End to end: wall time when an event was processed minus its Kafka message timestamp")    \
  X(PROCESSING_LATENCY, "cxstream_processing_latency_seconds", HISTOGRAM, 0, NULL, NULL, NULL,  \
    "Time from a batch's first poll until its outputs were acknowledged and offsets stored")   \
  X(COMMIT_LATENCY, "cxstream_commit_latency_seconds", HISTOGRAM, 0, NULL, NULL, NULL,          \
    "Time to flush a batch's outputs and store its offsets (at least once) or to send the "    \
    "offsets and commit the transaction (exactly once)")                                       \
  X(TRANSACTIONS, "cxstream_transactions_total", COUNTER, 1, "result", NULL, NULL,              \
    "Transactions ended (exactly once), by result: committed or failed")                       \
  X(REBALANCES, "cxstream_rebalances_total", COUNTER, 1, "type", NULL, NULL,                    \
    "Rebalance callbacks, by type: assign or revoke")                                          \
  X(PARTITIONS_ASSIGNED, "cxstream_partitions_assigned", GAUGE, 0, NULL, NULL, NULL,            \
    "Input partitions assigned to this instance")                                              \
  X(PARTITIONS_RESTORING, "cxstream_partitions_restoring", GAUGE, 0, NULL, NULL, NULL,          \
    "Partitions whose state is being restored from the changelog")                             \
  X(RESTORE_RECORDS, "cxstream_restore_records_total", COUNTER, 2, "topic", "partition", NULL,  \
    "State records read back from the changelog")                                              \
  X(RESTORES, "cxstream_restores_total", COUNTER, 0, NULL, NULL, NULL,                          \
    "Partition state restores finished")                                                       \
  X(DELIVERY_FAILURES, "cxstream_delivery_failures_total", COUNTER, 0, NULL, NULL, NULL,        \
    "Outputs the broker did not acknowledge (the process then stops without committing)")      \
  X(BUILD_INFO, "cxstream_build_info", GAUGE, 1, "version", NULL, NULL,                         \
    "Always 1; the version label says which cxstream runs")

typedef enum {
#define CX__METRIC_ENUM(id, name, type, label_count, l1, l2, l3, help) CX_METRIC_##id,
  CX_METRICS_MAP(CX__METRIC_ENUM)
#undef CX__METRIC_ENUM
  CX_METRIC__COUNT
} cx_metric_t;

typedef enum { CX_METRIC_COUNTER, CX_METRIC_GAUGE, CX_METRIC_HISTOGRAM } cx_metric_type_t;

#define CX_METRICS_LABELS_MAX 3      /* label names per family */
#define CX_METRICS_LABEL_BYTES 256   /* label values of one series, joined */

typedef struct cx_metrics_s cx_metrics_t;
typedef struct cx_metrics_shard_s cx_metrics_shard_t;
typedef struct cx_metric_series_s cx_metric_series_t;

/* The registry. liveness_timeout_ms: /healthz fails when a live shard that
 * has beaten once has not beaten for this long (0 = never). */
cx_metrics_t *cx_metrics_new(int64_t liveness_timeout_ms);
/* Frees the registry and all its shards (no thread may use them any more). */
void cx_metrics_destroy(cx_metrics_t *metrics);

/* A process-wide registry for the jobs to record into (NULL = no metrics). */
void cx_metrics_set_global(cx_metrics_t *metrics);
cx_metrics_t *cx_metrics_global(void);

/* A shard for the calling thread (it must be the shard's only writer);
 * NULL when metrics is NULL or memory is short. The registry keeps it. */
cx_metrics_shard_t *cx_metrics_shard_new(cx_metrics_t *metrics);
/* The thread is done: its gauges stop counting, its counters stay, its
 * heartbeat and readiness no longer matter. The handle must not be used after. */
void cx_metrics_shard_retire(cx_metrics_shard_t *shard);

/* The series of metric with these label values (as many as the family
 * has, NULL entries read as ""), created at first use. The handle stays
 * valid as long as the registry. NULL when shard is NULL or memory is short. */
cx_metric_series_t *cx_metrics_series(cx_metrics_shard_t *shard, cx_metric_t metric,
                                      const char *const *label_values);
/* Shorthands for up to three label values. */
cx_metric_series_t *cx_metrics_series0(cx_metrics_shard_t *shard, cx_metric_t metric);
cx_metric_series_t *cx_metrics_series1(cx_metrics_shard_t *shard, cx_metric_t metric,
                                       const char *value1);
cx_metric_series_t *cx_metrics_series2(cx_metrics_shard_t *shard, cx_metric_t metric,
                                       const char *value1, const char *value2);
cx_metric_series_t *cx_metrics_series3(cx_metrics_shard_t *shard, cx_metric_t metric,
                                       const char *value1, const char *value2,
                                       const char *value3);

/* Counter += n. */
void cx_metrics_add(cx_metric_series_t *series, uint64_t n);
/* Gauge = value. */
void cx_metrics_set(cx_metric_series_t *series, int64_t value);
/* Histogram: one observation in seconds (negative counts as 0). */
void cx_metrics_observe(cx_metric_series_t *series, double seconds);
/* Histogram observations kept by one thread and added at once
 * (cx_metrics_run_flush): while they fall in one bucket each costs a
 * comparison and two additions, not a bucket search and three atomic
 * additions (per-event latencies, whose bucket rarely changes). Zeroed =
 * empty; series NULL = nothing is kept. */
typedef struct cx_metrics_run_s {
  cx_metric_series_t *series;  /* where they go */
  double low, high;            /* the bucket of those kept: (low, high] */
  int bucket;                  /* its index (the count past the last bound: +Inf) */
  uint64_t count;              /* kept */
  uint64_t sum_ns;             /* their sum */
} cx_metrics_run_t;

void cx_metrics_run_flush(cx_metrics_run_t *run);
/* The first observation of a new bucket (cx_metrics_run_observe's slow path). */
void cx_metrics_run_start(cx_metrics_run_t *run, double seconds);

/* An observation's nanoseconds for a histogram's sum (capped at 10^18). */
static inline uint64_t cx_metrics_ns(double seconds) {
  return seconds < 1e9 ? (uint64_t)(seconds * 1e9) : UINT64_C(1000000000000000000);
}

/* As cx_metrics_observe(run->series, seconds), once flushed. */
static inline void cx_metrics_run_observe(cx_metrics_run_t *run, double seconds) {
  if (run->count && seconds > run->low && seconds <= run->high) {
    run->count++;
    if (seconds > 0) /* a negative one counts as 0 */
      run->sum_ns += cx_metrics_ns(seconds);
  } else {
    cx_metrics_run_start(run, seconds);
  }
}

/* --- What the jobs record (each a lookup plus an update; cache series for
 * the per-event ones where it matters). --- */

/* One loop iteration of a processing thread: /healthz watches these (a
 * shard in a restore is exempt). */
void cx_metrics_heartbeat(cx_metrics_shard_t *shard);
/* The thread's consumer got its assignment (possibly empty): until every
 * live shard has had one, /readyz says not ready. count: partitions now held. */
void cx_metrics_partitions_assigned(cx_metrics_shard_t *shard, const char *type, int64_t count);
/* A restore starts / ends: while any has begun and not ended, /readyz says
 * not ready. restore_end with a topic counts that partition's records read
 * and one restore; with NULL it only ends (to hold readiness back over a
 * whole assignment: begin, then each partition's begin/end, then end). */
void cx_metrics_restore_begin(cx_metrics_shard_t *shard);
void cx_metrics_restore_end(cx_metrics_shard_t *shard, const char *topic, int32_t partition,
                            uint64_t records);
/* librdkafka statistics JSON of this shard's consumer (stats_cb): sets
 * cxstream_consumer_lag for every partition it fetches; partitions it no
 * longer reports drop out. Returns 0, or -1 when the JSON did not parse. */
int cx_metrics_consumer_stats(cx_metrics_shard_t *shard, const char *json, size_t len);
/* The process is shutting down: /readyz says not ready. */
void cx_metrics_set_stopping(cx_metrics_t *metrics);

/* --- Reading (the HTTP thread, tests). --- */

/* Appends the Prometheus text exposition (format 0.0.4) of every family. */
int cx_metrics_render(cx_metrics_t *metrics, cx_buf_t *out);
/* 1 when healthy; otherwise 0 and a reason in why. */
int cx_metrics_healthy(cx_metrics_t *metrics, char *why, size_t why_size);
/* 1 when ready; otherwise 0 and a reason in why. */
int cx_metrics_ready(cx_metrics_t *metrics, char *why, size_t why_size);
/* The sum over shards of one series (counters, gauges; histograms: count), for tests. */
double cx_metrics_value(cx_metrics_t *metrics, cx_metric_t metric,
                        const char *const *label_values);
const char *cx_metrics_name(cx_metric_t metric);

#endif
