/* The metrics registry (see metrics.h): per-thread shards of labelled series
 * with atomic values, summed across shards when rendered. A shard's table is
 * open addressing over series pointers; the series themselves never move, so
 * a handle stays valid when the table grows. */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#ifndef CX_VERSION
#define CX_VERSION "dev"
#endif

typedef struct family_s {
  const char *name;                          /* cxstream_..._total */
  cx_metric_type_t type;                     /* counter, gauge, histogram */
  int label_count;                           /* names in labels */
  const char *labels[CX_METRICS_LABELS_MAX]; /* label names */
  const char *help;                          /* HELP line */
} family_t;

static const family_t families[CX_METRIC__COUNT] = {
#define CX__METRIC_FAMILY(id, name, type, label_count, l1, l2, l3, help) \
  {name, CX_METRIC_##type, label_count, {l1, l2, l3}, help},
  CX_METRICS_MAP(CX__METRIC_FAMILY)
#undef CX__METRIC_FAMILY
};

/* Upper bounds (seconds) of the latency histograms' buckets; +Inf is implicit. */
static const double bucket_bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                       1,     2.5,   5,    10,    30,   60,  300};
#define BUCKET_COUNT (sizeof(bucket_bounds) / sizeof(bucket_bounds[0]))

struct cx_metric_series_s {
  cx_metric_t metric;                    /* family */
  uint64_t hash;                         /* of metric and labels */
  size_t labels_len;                     /* bytes used in labels */
  char labels[CX_METRICS_LABEL_BYTES];   /* label values, each ending in '\0' */
  _Atomic uint64_t value;                /* counter; gauge (int64 bits); histogram: count */
  _Atomic uint64_t generation;           /* gauges: stats generation that set it last */
  atomic_bool present;                   /* gauges: set and not dropped */
  _Atomic uint64_t sum_ns;               /* histogram: sum of observations, nanoseconds */
  _Atomic uint64_t buckets[BUCKET_COUNT];/* histogram: observations <= bound (not cumulative) */
};

struct cx_metrics_shard_s {
  cx_metrics_t *metrics;                 /* owner */
  pthread_mutex_t lock;                  /* writer inserting vs renderer walking */
  cx_metric_series_t **table;            /* open addressing, capacity a power of two */
  size_t capacity;                       /* slots */
  size_t count;                          /* series */
  atomic_bool retired;                   /* thread ended */
  _Atomic int64_t heartbeat_mono_ms;     /* last loop iteration; 0 = never */
  atomic_bool assigned_once;             /* had its first assignment */
  _Atomic int64_t restoring;             /* partitions being restored */
  uint64_t stats_generation;             /* consumer stats applied (writer only) */
  cx_metrics_shard_t *next;              /* registry's list */
};

struct cx_metrics_s {
  pthread_mutex_t lock;                  /* the shard list */
  cx_metrics_shard_t *shards;            /* newest first */
  int64_t liveness_timeout_ms;           /* see cx_metrics_new */
  atomic_bool stopping;                  /* shutting down */
};

static _Atomic(cx_metrics_t *) global_metrics;

void cx_metrics_set_global(cx_metrics_t *metrics) {
  atomic_store(&global_metrics, metrics);
}

cx_metrics_t *cx_metrics_global(void) {
  return atomic_load(&global_metrics);
}

const char *cx_metrics_name(cx_metric_t metric) {
  return metric < CX_METRIC__COUNT ? families[metric].name : "?";
}

static void shard_free(cx_metrics_shard_t *shard) {
  for (size_t i = 0; i < shard->capacity; i++)
    free(shard->table[i]);
  free(shard->table);
  pthread_mutex_destroy(&shard->lock);
  free(shard);
}

cx_metrics_t *cx_metrics_new(int64_t liveness_timeout_ms) {
  cx_metrics_t *metrics = calloc(1, sizeof(*metrics));
  if (!metrics)
    return NULL;
  pthread_mutex_init(&metrics->lock, NULL);
  metrics->liveness_timeout_ms = liveness_timeout_ms;
  /* The process's own shard: build info. It never beats or assigns, so it
   * is retired at once for health and readiness; its gauge stays. */
  cx_metrics_shard_t *own = cx_metrics_shard_new(metrics);
  if (!own) {
    cx_metrics_destroy(metrics);
    return NULL;
  }
  cx_metrics_set(cx_metrics_series1(own, CX_METRIC_BUILD_INFO, CX_VERSION), 1);
  atomic_store(&own->assigned_once, true);
  return metrics;
}

void cx_metrics_destroy(cx_metrics_t *metrics) {
  if (!metrics)
    return;
  if (cx_metrics_global() == metrics)
    cx_metrics_set_global(NULL);
  cx_metrics_shard_t *shard = metrics->shards;
  while (shard) {
    cx_metrics_shard_t *next = shard->next;
    shard_free(shard);
    shard = next;
  }
  pthread_mutex_destroy(&metrics->lock);
  free(metrics);
}

cx_metrics_shard_t *cx_metrics_shard_new(cx_metrics_t *metrics) {
  if (!metrics)
    return NULL;
  cx_metrics_shard_t *shard = calloc(1, sizeof(*shard));
  if (!shard)
    return NULL;
  shard->capacity = 64;
  shard->table = calloc(shard->capacity, sizeof(*shard->table));
  if (!shard->table) {
    free(shard);
    return NULL;
  }
  pthread_mutex_init(&shard->lock, NULL);
  shard->metrics = metrics;
  pthread_mutex_lock(&metrics->lock);
  shard->next = metrics->shards;
  metrics->shards = shard;
  pthread_mutex_unlock(&metrics->lock);
  return shard;
}

void cx_metrics_shard_retire(cx_metrics_shard_t *shard) {
  if (shard)
    atomic_store(&shard->retired, true);
}

/* FNV-1a over the metric and the joined label values. */
static uint64_t series_hash(cx_metric_t metric, const char *labels, size_t len) {
  uint64_t hash = 1469598103934665603ULL ^ (uint64_t)metric;
  for (size_t i = 0; i < len; i++) {
    hash ^= (unsigned char)labels[i];
    hash *= 1099511628211ULL;
  }
  return hash;
}

/* Joins the family's label values into key ("a\0b\0c\0"); -1 when too long. */
static long join_labels(cx_metric_t metric, const char *const *values, char *key) {
  size_t len = 0;
  for (int i = 0; i < families[metric].label_count; i++) {
    const char *value = values && values[i] ? values[i] : "";
    size_t value_len = strlen(value);
    if (len + value_len + 1 > CX_METRICS_LABEL_BYTES)
      return -1;
    memcpy(key + len, value, value_len + 1);
    len += value_len + 1;
  }
  return (long)len;
}

static int grow(cx_metrics_shard_t *shard) {
  size_t capacity = shard->capacity * 2;
  cx_metric_series_t **table = calloc(capacity, sizeof(*table));
  if (!table)
    return -1;
  for (size_t i = 0; i < shard->capacity; i++) {
    cx_metric_series_t *series = shard->table[i];
    if (!series)
      continue;
    size_t slot = series->hash & (capacity - 1);
    while (table[slot])
      slot = (slot + 1) & (capacity - 1);
    table[slot] = series;
  }
  free(shard->table);
  shard->table = table;
  shard->capacity = capacity;
  return 0;
}

cx_metric_series_t *cx_metrics_series(cx_metrics_shard_t *shard, cx_metric_t metric,
                                      const char *const *label_values) {
  if (!shard || metric >= CX_METRIC__COUNT)
    return NULL;
  char key[CX_METRICS_LABEL_BYTES];
  long len = join_labels(metric, label_values, key);
  if (len < 0)
    return NULL;
  uint64_t hash = series_hash(metric, key, (size_t)len);
  /* The table changes only on this thread (the shard's one writer), so the
   * lookup needs no lock; the insert takes it against the renderer. */
  size_t slot = hash & (shard->capacity - 1);
  for (cx_metric_series_t *series; (series = shard->table[slot]);
       slot = (slot + 1) & (shard->capacity - 1)) {
    if (series->hash == hash && series->metric == metric && series->labels_len == (size_t)len &&
        !memcmp(series->labels, key, (size_t)len))
      return series;
  }
  cx_metric_series_t *series = calloc(1, sizeof(*series));
  if (!series)
    return NULL;
  series->metric = metric;
  series->hash = hash;
  series->labels_len = (size_t)len;
  memcpy(series->labels, key, (size_t)len);
  pthread_mutex_lock(&shard->lock);
  if ((shard->count + 1) * 2 > shard->capacity && grow(shard)) {
    pthread_mutex_unlock(&shard->lock);
    free(series);
    return NULL;
  }
  slot = hash & (shard->capacity - 1);
  while (shard->table[slot])
    slot = (slot + 1) & (shard->capacity - 1);
  shard->table[slot] = series;
  shard->count++;
  pthread_mutex_unlock(&shard->lock);
  return series;
}

cx_metric_series_t *cx_metrics_series0(cx_metrics_shard_t *shard, cx_metric_t metric) {
  return cx_metrics_series(shard, metric, NULL);
}

cx_metric_series_t *cx_metrics_series1(cx_metrics_shard_t *shard, cx_metric_t metric,
                                       const char *value1) {
  const char *values[] = {value1, NULL, NULL};
  return cx_metrics_series(shard, metric, values);
}

cx_metric_series_t *cx_metrics_series2(cx_metrics_shard_t *shard, cx_metric_t metric,
                                       const char *value1, const char *value2) {
  const char *values[] = {value1, value2, NULL};
  return cx_metrics_series(shard, metric, values);
}

cx_metric_series_t *cx_metrics_series3(cx_metrics_shard_t *shard, cx_metric_t metric,
                                       const char *value1, const char *value2,
                                       const char *value3) {
  const char *values[] = {value1, value2, value3};
  return cx_metrics_series(shard, metric, values);
}

void cx_metrics_add(cx_metric_series_t *series, uint64_t n) {
  if (series)
    atomic_fetch_add_explicit(&series->value, n, memory_order_relaxed);
}

void cx_metrics_set(cx_metric_series_t *series, int64_t value) {
  if (!series)
    return;
  atomic_store_explicit(&series->value, (uint64_t)value, memory_order_relaxed);
  atomic_store_explicit(&series->present, true, memory_order_release);
}

/* The histogram bucket of an observation of at least 0 (BUCKET_COUNT:
 * past the last bound, only +Inf counts it). */
static size_t bucket_of(double seconds) {
  size_t bucket = 0;
  while (bucket < BUCKET_COUNT && seconds > bucket_bounds[bucket])
    bucket++;
  return bucket;
}

void cx_metrics_observe(cx_metric_series_t *series, double seconds) {
  if (!series)
    return;
  if (!(seconds > 0))
    seconds = 0;
  size_t bucket = bucket_of(seconds);
  if (bucket < BUCKET_COUNT)
    atomic_fetch_add_explicit(&series->buckets[bucket], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&series->sum_ns, cx_metrics_ns(seconds), memory_order_relaxed);
  atomic_fetch_add_explicit(&series->value, 1, memory_order_relaxed);
}

void cx_metrics_run_flush(cx_metrics_run_t *run) {
  if (!run->count || !run->series) {
    run->count = 0;
    return;
  }
  if (run->bucket < (int)BUCKET_COUNT)
    atomic_fetch_add_explicit(&run->series->buckets[run->bucket], run->count,
                              memory_order_relaxed);
  atomic_fetch_add_explicit(&run->series->sum_ns, run->sum_ns, memory_order_relaxed);
  atomic_fetch_add_explicit(&run->series->value, run->count, memory_order_relaxed);
  run->count = 0;
  run->sum_ns = 0;
}

void cx_metrics_run_start(cx_metrics_run_t *run, double seconds) {
  cx_metrics_run_flush(run);
  if (!run->series)
    return;
  if (!(seconds > 0))
    seconds = 0;
  size_t bucket = bucket_of(seconds);
  run->bucket = (int)bucket;
  /* Bucket 0 holds 0 (a negative observation counts as 0): its low end is -Inf. */
  run->low = bucket ? bucket_bounds[bucket - 1] : -INFINITY;
  run->high = bucket < BUCKET_COUNT ? bucket_bounds[bucket] : INFINITY;
  run->count = 1;
  run->sum_ns = cx_metrics_ns(seconds);
}

void cx_metrics_heartbeat(cx_metrics_shard_t *shard) {
  if (shard)
    atomic_store_explicit(&shard->heartbeat_mono_ms, cx_clock_mono_ms(), memory_order_relaxed);
}

void cx_metrics_partitions_assigned(cx_metrics_shard_t *shard, const char *type, int64_t count) {
  if (!shard)
    return;
  if (type)
    cx_metrics_add(cx_metrics_series1(shard, CX_METRIC_REBALANCES, type), 1);
  cx_metrics_set(cx_metrics_series0(shard, CX_METRIC_PARTITIONS_ASSIGNED), count);
  atomic_store(&shard->assigned_once, true);
  cx_metrics_heartbeat(shard);
}

void cx_metrics_restore_begin(cx_metrics_shard_t *shard) {
  if (!shard)
    return;
  int64_t now = atomic_fetch_add(&shard->restoring, 1) + 1;
  cx_metrics_set(cx_metrics_series0(shard, CX_METRIC_PARTITIONS_RESTORING), now);
  cx_metrics_heartbeat(shard);
}

void cx_metrics_restore_end(cx_metrics_shard_t *shard, const char *topic, int32_t partition,
                            uint64_t records) {
  if (!shard)
    return;
  if (topic) {
    char number[16];
    snprintf(number, sizeof(number), "%d", (int)partition);
    cx_metrics_add(cx_metrics_series2(shard, CX_METRIC_RESTORE_RECORDS, topic, number), records);
    cx_metrics_add(cx_metrics_series0(shard, CX_METRIC_RESTORES), 1);
  }
  int64_t now = atomic_fetch_sub(&shard->restoring, 1) - 1;
  if (now < 0) {
    atomic_store(&shard->restoring, 0);
    now = 0;
  }
  cx_metrics_set(cx_metrics_series0(shard, CX_METRIC_PARTITIONS_RESTORING), now);
  cx_metrics_heartbeat(shard);
}

void cx_metrics_set_stopping(cx_metrics_t *metrics) {
  if (metrics)
    atomic_store(&metrics->stopping, true);
}

/* ---- librdkafka statistics: just enough JSON to find
 * topics.<topic>.partitions.<partition>.{consumer_lag,desired}. ---- */

typedef struct json_s {
  const char *p, *end;  /* cursor, end of input */
} json_t;

static void json_space(json_t *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
    j->p++;
}

/* A string into out (escapes kept as they are: names here have none); -1 on error. */
static int json_string(json_t *j, char *out, size_t out_size) {
  json_space(j);
  if (j->p >= j->end || *j->p != '"')
    return -1;
  j->p++;
  size_t len = 0;
  while (j->p < j->end && *j->p != '"') {
    if (*j->p == '\\' && j->p + 1 < j->end) {
      if (len + 1 < out_size)
        out[len++] = *j->p;
      j->p++;
    }
    if (len + 1 < out_size)
      out[len++] = *j->p;
    j->p++;
  }
  if (j->p >= j->end)
    return -1;
  j->p++;
  if (out_size)
    out[len] = '\0';
  return 0;
}

static int json_skip(json_t *j, int depth);

static int json_skip_container(json_t *j, int depth, char close) {
  j->p++;
  json_space(j);
  if (j->p < j->end && *j->p == close) {
    j->p++;
    return 0;
  }
  for (;;) {
    if (close == '}') {
      char key[8];
      if (json_string(j, key, sizeof(key)))
        return -1;
      json_space(j);
      if (j->p >= j->end || *j->p++ != ':')
        return -1;
    }
    if (json_skip(j, depth + 1))
      return -1;
    json_space(j);
    if (j->p >= j->end)
      return -1;
    if (*j->p == ',') {
      j->p++;
      continue;
    }
    if (*j->p++ != close)
      return -1;
    return 0;
  }
}

static int json_skip(json_t *j, int depth) {
  json_space(j);
  if (j->p >= j->end || depth > 32)
    return -1;
  char c = *j->p;
  if (c == '{')
    return json_skip_container(j, depth, '}');
  if (c == '[')
    return json_skip_container(j, depth, ']');
  if (c == '"')
    return json_string(j, NULL, 0);
  while (j->p < j->end && *j->p != ',' && *j->p != '}' && *j->p != ']' && *j->p != ' ' &&
         *j->p != '\n')
    j->p++;
  return 0;
}

/* Calls member(key) for each member of the object at the cursor; member
 * consumes the value. */
typedef int (*json_member_fn)(json_t *j, const char *key, void *opaque);

static int json_object(json_t *j, json_member_fn member, void *opaque) {
  json_space(j);
  if (j->p >= j->end || *j->p != '{')
    return json_skip(j, 0);
  j->p++;
  json_space(j);
  if (j->p < j->end && *j->p == '}') {
    j->p++;
    return 0;
  }
  for (;;) {
    char key[256];
    if (json_string(j, key, sizeof(key)))
      return -1;
    json_space(j);
    if (j->p >= j->end || *j->p++ != ':')
      return -1;
    if (member(j, key, opaque))
      return -1;
    json_space(j);
    if (j->p >= j->end)
      return -1;
    if (*j->p == ',') {
      j->p++;
      continue;
    }
    return *j->p++ == '}' ? 0 : -1;
  }
}

typedef struct stats_walk_s {
  cx_metrics_shard_t *shard;  /* where lags go */
  const char *topic;          /* the topic being read */
  int64_t lag;                /* of the partition being read; -1 unknown */
  int desired;                /* the consumer wants this partition */
} stats_walk_t;

static int partition_field(json_t *j, const char *key, void *opaque) {
  stats_walk_t *walk = opaque;
  json_space(j);
  if (!strcmp(key, "consumer_lag")) {
    char *end = NULL;
    long long value = strtoll(j->p, &end, 10);
    if (end == j->p)
      return -1;
    walk->lag = value;
    j->p = end;
    return 0;
  }
  if (!strcmp(key, "desired")) {
    walk->desired = j->end - j->p >= 4 && !memcmp(j->p, "true", 4);
    return json_skip(j, 0);
  }
  return json_skip(j, 0);
}

static int partition_member(json_t *j, const char *key, void *opaque) {
  stats_walk_t *walk = opaque;
  walk->lag = -1;
  walk->desired = 0;
  if (json_object(j, partition_field, walk))
    return -1;
  if (!strcmp(key, "-1") || !walk->desired || walk->lag < 0)
    return 0;
  cx_metric_series_t *series =
      cx_metrics_series2(walk->shard, CX_METRIC_CONSUMER_LAG, walk->topic, key);
  if (series) {
    atomic_store_explicit(&series->generation, walk->shard->stats_generation,
                          memory_order_relaxed);
    cx_metrics_set(series, walk->lag);
  }
  return 0;
}

static int topic_field(json_t *j, const char *key, void *opaque) {
  if (!strcmp(key, "partitions"))
    return json_object(j, partition_member, opaque);
  return json_skip(j, 0);
}

static int topic_member(json_t *j, const char *key, void *opaque) {
  stats_walk_t *walk = opaque;
  walk->topic = key;
  return json_object(j, topic_field, walk);
}

static int stats_member(json_t *j, const char *key, void *opaque) {
  if (!strcmp(key, "topics"))
    return json_object(j, topic_member, opaque);
  return json_skip(j, 0);
}

int cx_metrics_consumer_stats(cx_metrics_shard_t *shard, const char *json, size_t len) {
  if (!shard)
    return 0;
  shard->stats_generation++;
  json_t j = {json, json + len};
  stats_walk_t walk = {shard, NULL, -1, 0};
  int rc = json_object(&j, stats_member, &walk);
  if (rc)
    return -1;
  /* Partitions this consumer no longer fetches drop out (after the new
   * values are in, so a partition it keeps never disappears from a scrape). */
  pthread_mutex_lock(&shard->lock);
  for (size_t i = 0; i < shard->capacity; i++) {
    cx_metric_series_t *series = shard->table[i];
    if (series && series->metric == CX_METRIC_CONSUMER_LAG &&
        atomic_load_explicit(&series->generation, memory_order_relaxed) !=
            shard->stats_generation)
      atomic_store(&series->present, false);
  }
  pthread_mutex_unlock(&shard->lock);
  return 0;
}

/* ---- rendering ---- */

typedef struct row_s {
  const cx_metric_series_t *series;  /* first series with these labels */
  uint64_t value;                    /* summed (gauges: as int64) */
  uint64_t sum_ns;                   /* histograms */
  uint64_t buckets[BUCKET_COUNT];    /* histograms */
} row_t;

static int compare_rows(const void *a, const void *b) {
  const row_t *ra = a, *rb = b;
  size_t len = ra->series->labels_len < rb->series->labels_len ? ra->series->labels_len
                                                               : rb->series->labels_len;
  int c = memcmp(ra->series->labels, rb->series->labels, len);
  if (c)
    return c;
  return (ra->series->labels_len > rb->series->labels_len) -
         (ra->series->labels_len < rb->series->labels_len);
}

/* Label values escaped as the text format wants (\\, \", \n). */
static int append_label_value(cx_buf_t *out, const char *value) {
  for (const char *c = value; *c; c++) {
    const char *text = *c == '\\' ? "\\\\" : *c == '"' ? "\\\"" : *c == '\n' ? "\\n" : NULL;
    if (text ? cx_buf_append_str(out, text) : cx_buf_append(out, c, 1))
      return -1;
  }
  return 0;
}

/* {a="x",b="y"} plus an extra label (le) when given; nothing without labels. */
static int append_labels(cx_buf_t *out, cx_metric_t metric, const char *labels,
                         const char *extra_name, const char *extra_value) {
  const family_t *family = &families[metric];
  if (!family->label_count && !extra_name)
    return 0;
  int rc = cx_buf_append_str(out, "{");
  const char *value = labels;
  for (int i = 0; i < family->label_count; i++) {
    rc |= cx_buf_append_str(out, i ? "," : "");
    rc |= cx_buf_append_str(out, family->labels[i]);
    rc |= cx_buf_append_str(out, "=\"");
    rc |= append_label_value(out, value);
    rc |= cx_buf_append_str(out, "\"");
    value += strlen(value) + 1;
  }
  if (extra_name) {
    rc |= cx_buf_append_str(out, family->label_count ? "," : "");
    rc |= cx_buf_append_str(out, extra_name);
    rc |= cx_buf_append_str(out, "=\"");
    rc |= cx_buf_append_str(out, extra_value);
    rc |= cx_buf_append_str(out, "\"");
  }
  rc |= cx_buf_append_str(out, "}");
  return rc ? -1 : 0;
}

static int appendf(cx_buf_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int appendf(cx_buf_t *out, const char *fmt, ...) {
  char text[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  if (n < 0)
    return -1;
  return cx_buf_append(out, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

static void format_seconds(char *out, size_t size, double seconds) {
  snprintf(out, size, "%.9g", seconds);
}

/* The rows of one family, summed over shards, sorted by labels. */
static row_t *collect(cx_metrics_t *metrics, cx_metric_t metric, size_t *row_count) {
  size_t count = 0, capacity = 16;
  row_t *rows = malloc(capacity * sizeof(*rows));
  if (!rows)
    return NULL;
  bool gauge = families[metric].type == CX_METRIC_GAUGE;
  for (cx_metrics_shard_t *shard = metrics->shards; shard; shard = shard->next) {
    if (gauge && atomic_load(&shard->retired))
      continue;
    pthread_mutex_lock(&shard->lock);
    for (size_t i = 0; i < shard->capacity; i++) {
      const cx_metric_series_t *series = shard->table[i];
      if (!series || series->metric != metric)
        continue;
      if (gauge && !atomic_load_explicit(&series->present, memory_order_acquire))
        continue;
      if (count == capacity) {
        row_t *grown = realloc(rows, capacity * 2 * sizeof(*rows));
        if (!grown) {
          pthread_mutex_unlock(&shard->lock);
          free(rows);
          return NULL;
        }
        rows = grown;
        capacity *= 2;
      }
      row_t *row = &rows[count++];
      row->series = series;
      row->value = atomic_load_explicit(&series->value, memory_order_relaxed);
      row->sum_ns = atomic_load_explicit(&series->sum_ns, memory_order_relaxed);
      for (size_t b = 0; b < BUCKET_COUNT; b++)
        row->buckets[b] = atomic_load_explicit(&series->buckets[b], memory_order_relaxed);
    }
    pthread_mutex_unlock(&shard->lock);
  }
  qsort(rows, count, sizeof(*rows), compare_rows);
  /* Merge equal label sets (the same series in several shards). */
  size_t merged = 0;
  for (size_t i = 0; i < count; i++) {
    if (merged && !compare_rows(&rows[merged - 1], &rows[i])) {
      row_t *into = &rows[merged - 1];
      into->value += rows[i].value;  /* gauges too: int64 two's complement sums the same */
      into->sum_ns += rows[i].sum_ns;
      for (size_t b = 0; b < BUCKET_COUNT; b++)
        into->buckets[b] += rows[i].buckets[b];
    } else {
      rows[merged++] = rows[i];
    }
  }
  *row_count = merged;
  return rows;
}

int cx_metrics_render(cx_metrics_t *metrics, cx_buf_t *out) {
  static const char *const type_names[] = {"counter", "gauge", "histogram"};
  int rc = 0;
  pthread_mutex_lock(&metrics->lock);
  for (int m = 0; m < CX_METRIC__COUNT && !rc; m++) {
    const family_t *family = &families[m];
    size_t row_count = 0;
    row_t *rows = collect(metrics, (cx_metric_t)m, &row_count);
    if (!rows) {
      rc = -1;
      break;
    }
    rc |= appendf(out, "# HELP %s %s\n# TYPE %s %s\n", family->name, family->help, family->name,
                  type_names[family->type]);
    /* A family without labels shows 0 before its first update, so dashboards
     * and alerts see the series from the start. */
    if (!row_count && !family->label_count) {
      if (family->type == CX_METRIC_HISTOGRAM)
        rc |= appendf(out, "%s_bucket{le=\"+Inf\"} 0\n%s_sum 0\n%s_count 0\n", family->name,
                      family->name, family->name);
      else
        rc |= appendf(out, "%s 0\n", family->name);
    }
    for (size_t r = 0; r < row_count && !rc; r++) {
      const row_t *row = &rows[r];
      if (family->type == CX_METRIC_HISTOGRAM) {
        uint64_t cumulative = 0;
        char bound[32];
        for (size_t b = 0; b < BUCKET_COUNT; b++) {
          cumulative += row->buckets[b];
          format_seconds(bound, sizeof(bound), bucket_bounds[b]);
          rc |= cx_buf_append_str(out, family->name);
          rc |= cx_buf_append_str(out, "_bucket");
          rc |= append_labels(out, (cx_metric_t)m, row->series->labels, "le", bound);
          rc |= appendf(out, " %llu\n", (unsigned long long)cumulative);
        }
        rc |= cx_buf_append_str(out, family->name);
        rc |= cx_buf_append_str(out, "_bucket");
        rc |= append_labels(out, (cx_metric_t)m, row->series->labels, "le", "+Inf");
        rc |= appendf(out, " %llu\n", (unsigned long long)row->value);
        rc |= cx_buf_append_str(out, family->name);
        rc |= cx_buf_append_str(out, "_sum");
        rc |= append_labels(out, (cx_metric_t)m, row->series->labels, NULL, NULL);
        rc |= appendf(out, " %.9f\n", (double)row->sum_ns / 1e9);
        rc |= cx_buf_append_str(out, family->name);
        rc |= cx_buf_append_str(out, "_count");
        rc |= append_labels(out, (cx_metric_t)m, row->series->labels, NULL, NULL);
        rc |= appendf(out, " %llu\n", (unsigned long long)row->value);
      } else {
        rc |= cx_buf_append_str(out, family->name);
        rc |= append_labels(out, (cx_metric_t)m, row->series->labels, NULL, NULL);
        if (family->type == CX_METRIC_GAUGE)
          rc |= appendf(out, " %lld\n", (long long)(int64_t)row->value);
        else
          rc |= appendf(out, " %llu\n", (unsigned long long)row->value);
      }
    }
    free(rows);
  }
  pthread_mutex_unlock(&metrics->lock);
  return rc ? -1 : 0;
}

double cx_metrics_value(cx_metrics_t *metrics, cx_metric_t metric,
                        const char *const *label_values) {
  char key[CX_METRICS_LABEL_BYTES];
  if (!metrics || metric >= CX_METRIC__COUNT)
    return 0;
  long len = join_labels(metric, label_values, key);
  if (len < 0)
    return 0;
  double total = 0;
  pthread_mutex_lock(&metrics->lock);
  size_t row_count = 0;
  row_t *rows = collect(metrics, metric, &row_count);
  for (size_t r = 0; rows && r < row_count; r++) {
    if (rows[r].series->labels_len == (size_t)len && !memcmp(rows[r].series->labels, key, (size_t)len))
      total = families[metric].type == CX_METRIC_GAUGE ? (double)(int64_t)rows[r].value
                                                       : (double)rows[r].value;
  }
  free(rows);
  pthread_mutex_unlock(&metrics->lock);
  return total;
}

int cx_metrics_healthy(cx_metrics_t *metrics, char *why, size_t why_size) {
  int healthy = 1;
  int64_t now = cx_clock_mono_ms();
  int index = 0;
  pthread_mutex_lock(&metrics->lock);
  for (cx_metrics_shard_t *shard = metrics->shards; shard; shard = shard->next, index++) {
    int64_t beat = atomic_load_explicit(&shard->heartbeat_mono_ms, memory_order_relaxed);
    /* A restore runs inside one poll and may take longer than the timeout
     * for a large state; readiness covers it, liveness must not kill it. */
    if (atomic_load(&shard->retired) || !beat || metrics->liveness_timeout_ms <= 0 ||
        atomic_load(&shard->restoring) > 0)
      continue;
    if (now - beat > metrics->liveness_timeout_ms) {
      snprintf(why, why_size, "a processing thread has not completed a loop for %lld ms "
               "(metrics.liveness.timeout: %lld ms)", (long long)(now - beat),
               (long long)metrics->liveness_timeout_ms);
      healthy = 0;
      break;
    }
  }
  pthread_mutex_unlock(&metrics->lock);
  return healthy;
}

int cx_metrics_ready(cx_metrics_t *metrics, char *why, size_t why_size) {
  if (atomic_load(&metrics->stopping)) {
    snprintf(why, why_size, "stopping");
    return 0;
  }
  int live = 0, waiting = 0;
  int64_t restoring = 0;
  pthread_mutex_lock(&metrics->lock);
  for (cx_metrics_shard_t *shard = metrics->shards; shard; shard = shard->next) {
    if (atomic_load(&shard->retired) || !shard->next)
      continue; /* the last in the list is the registry's own shard */
    live++;
    if (!atomic_load(&shard->assigned_once))
      waiting++;
    int64_t shard_restoring = atomic_load(&shard->restoring);
    if (shard_restoring > 0)
      restoring += shard_restoring;
  }
  pthread_mutex_unlock(&metrics->lock);
  /* A restore is the more telling reason: name it first. */
  if (restoring > 0) {
    snprintf(why, why_size, "restoring state (%lld restore(s) open)%s", (long long)restoring,
             waiting ? "; a processing thread waits for its first partition assignment" : "");
    return 0;
  }
  if (waiting) {
    snprintf(why, why_size, "waiting for the first partition assignment (%d of %d processing "
             "thread(s))", waiting, live);
    return 0;
  }
  if (!live) {
    snprintf(why, why_size, "no processing thread has started");
    return 0;
  }
  return 1;
}
