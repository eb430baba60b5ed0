/* Deterministic reading of a historical topic (see topic_source.h).
 *
 * The merge keeps one FIFO per partition. It hands out the smallest head by
 * (timestamp, partition, offset) only while no unfinished partition is
 * empty: an empty one might still deliver a smaller message, so the source
 * polls instead. A partition that buffers too much is paused until the
 * merge has taken most of it, which bounds memory when one partition is far
 * behind the others in event time. */
#include "topic_source.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "kafka.h"
#include "log.h"

enum {
  PAUSE_ABOVE = 200000, /* buffered messages of one partition that pause its fetching */
  RESUME_BELOW = 50000, /* ... and that resume it */
  REQUEST_TIMEOUT_MS = 10000, /* metadata, watermarks, offsets-for-times */
};

typedef struct merge_entry_s {
  int64_t timestamp;  /* merge key 1 */
  int64_t offset;     /* merge key 3 (the partition is key 2) */
  void *item;         /* the caller's */
} merge_entry_t;

typedef struct merge_queue_s {
  merge_entry_t *entries; /* ring */
  size_t head;            /* index of the oldest entry */
  size_t count;           /* entries in use */
  size_t capacity;        /* entries allocated (a power of two) */
  int32_t partition;      /* partition number */
  bool finished;          /* no more pushes */
} merge_queue_t;

struct cx_topic_merge_s {
  merge_queue_t *queues;  /* one per partition index */
  size_t queue_count;     /* partitions */
};

cx_topic_merge_t *cx_topic_merge_new(const int32_t *partitions, size_t partition_count) {
  cx_topic_merge_t *merge = calloc(1, sizeof(*merge));
  if (!merge)
    return NULL;
  merge->queues = calloc(partition_count ? partition_count : 1, sizeof(*merge->queues));
  if (!merge->queues) {
    free(merge);
    return NULL;
  }
  merge->queue_count = partition_count;
  for (size_t i = 0; i < partition_count; i++)
    merge->queues[i].partition = partitions[i];
  return merge;
}

void cx_topic_merge_destroy(cx_topic_merge_t *merge, void (*free_item)(void *item)) {
  if (!merge)
    return;
  for (size_t i = 0; i < merge->queue_count; i++) {
    merge_queue_t *queue = &merge->queues[i];
    for (size_t k = 0; free_item && k < queue->count; k++)
      free_item(queue->entries[(queue->head + k) & (queue->capacity - 1)].item);
    free(queue->entries);
  }
  free(merge->queues);
  free(merge);
}

int cx_topic_merge_push(cx_topic_merge_t *merge, size_t index, int64_t timestamp, int64_t offset,
                        void *item) {
  assert(index < merge->queue_count);
  merge_queue_t *queue = &merge->queues[index];
  assert(!queue->finished);
  if (queue->count == queue->capacity) {
    size_t capacity = queue->capacity ? queue->capacity * 2 : 256;
    merge_entry_t *entries = malloc(capacity * sizeof(*entries));
    if (!entries)
      return -1;
    for (size_t k = 0; k < queue->count; k++)
      entries[k] = queue->entries[(queue->head + k) & (queue->capacity - 1)];
    free(queue->entries);
    queue->entries = entries;
    queue->capacity = capacity;
    queue->head = 0;
  }
  queue->entries[(queue->head + queue->count) & (queue->capacity - 1)] =
      (merge_entry_t){timestamp, offset, item};
  queue->count++;
  return 0;
}

void cx_topic_merge_finish(cx_topic_merge_t *merge, size_t index) {
  assert(index < merge->queue_count);
  merge->queues[index].finished = true;
}

bool cx_topic_merge_finished(const cx_topic_merge_t *merge, size_t index) {
  return merge->queues[index].finished;
}

size_t cx_topic_merge_buffered(const cx_topic_merge_t *merge, size_t index) {
  return merge->queues[index].count;
}

static bool entry_before(const merge_entry_t *a, int32_t a_partition, const merge_entry_t *b,
                         int32_t b_partition) {
  if (a->timestamp != b->timestamp)
    return a->timestamp < b->timestamp;
  if (a_partition != b_partition)
    return a_partition < b_partition;
  return a->offset < b->offset;
}

cx_topic_merge_status_t cx_topic_merge_next(cx_topic_merge_t *merge, void **item, size_t *index) {
  size_t best = merge->queue_count;
  for (size_t i = 0; i < merge->queue_count; i++) {
    merge_queue_t *queue = &merge->queues[i];
    if (!queue->count) {
      if (!queue->finished)
        return CX_TOPIC_MERGE_WAIT;
      continue;
    }
    if (best == merge->queue_count ||
        entry_before(&queue->entries[queue->head], queue->partition,
                     &merge->queues[best].entries[merge->queues[best].head],
                     merge->queues[best].partition))
      best = i;
  }
  if (best == merge->queue_count)
    return CX_TOPIC_MERGE_END;
  merge_queue_t *queue = &merge->queues[best];
  *item = queue->entries[queue->head].item;
  *index = best;
  queue->head = (queue->head + 1) & (queue->capacity - 1);
  queue->count--;
  return CX_TOPIC_MERGE_ITEM;
}

/* Reads a non-negative decimal number of at most max; *end after it. */
static int parse_number(const char *text, int64_t max, int64_t *value, const char **end) {
  if (!isdigit((unsigned char)*text))
    return -1;
  errno = 0;
  char *after = NULL;
  long long parsed = strtoll(text, &after, 10);
  if (errno || parsed > max)
    return -1;
  *value = parsed;
  *end = after;
  return 0;
}

cx_err_t cx_topic_source_parse_offsets(const char *spec, cx_partition_offset_t *entries,
                                       size_t capacity, size_t *count, char *errstr,
                                       size_t errstr_size) {
  static const char expected[] = "expected PARTITION:OFFSET[,PARTITION:OFFSET...] with "
                                 "non-negative numbers, such as 0:100,1:250";
  const char *p = spec;
  *count = 0;
  if (!*p) {
    snprintf(errstr, errstr_size, "--from-offsets '': empty; %s", expected);
    return CX_ERR_INVALID_ARG;
  }
  for (;;) {
    int64_t partition, offset;
    const char *item = p;
    if (parse_number(p, INT32_MAX, &partition, &p)) {
      snprintf(errstr, errstr_size, "--from-offsets '%s': bad partition at '%s'; %s", spec, item,
               expected);
      return CX_ERR_INVALID_ARG;
    }
    if (*p != ':') {
      snprintf(errstr, errstr_size, "--from-offsets '%s': partition %lld has no ':OFFSET'; %s",
               spec, (long long)partition, expected);
      return CX_ERR_INVALID_ARG;
    }
    const char *offset_text = ++p;
    if (parse_number(p, INT64_MAX, &offset, &p) || (*p && *p != ',')) {
      snprintf(errstr, errstr_size, "--from-offsets '%s': bad offset of partition %lld at '%s'; %s",
               spec, (long long)partition, offset_text, expected);
      return CX_ERR_INVALID_ARG;
    }
    for (size_t i = 0; i < *count; i++) {
      if (entries[i].partition == partition) {
        snprintf(errstr, errstr_size, "--from-offsets '%s': partition %lld given twice", spec,
                 (long long)partition);
        return CX_ERR_INVALID_ARG;
      }
    }
    if (*count == capacity) {
      snprintf(errstr, errstr_size, "--from-offsets '%s': more than %zu partitions", spec,
               capacity);
      return CX_ERR_INVALID_ARG;
    }
    entries[(*count)++] = (cx_partition_offset_t){(int32_t)partition, offset};
    if (!*p)
      return CX_OK;
    p++; /* ',' */
  }
}

struct cx_topic_source_s {
  rd_kafka_t *consumer;          /* owned; assigned by hand, never commits */
  cx_topic_merge_t *merge;       /* owned; items are rd_kafka_message_t */
  char *topic;                   /* owned copy */
  int32_t *partitions;           /* partition numbers, ascending */
  int64_t *end_offsets;          /* per partition: high watermark at start (exclusive) */
  bool *paused;                  /* per partition: fetching paused */
  size_t partition_count;        /* partitions of the topic */
  uint64_t total;                /* messages between start and end offsets */
  cx_topic_source_options_t options; /* copy (topic and spec not used after open) */
};

static void destroy_message(void *item) {
  rd_kafka_message_destroy(item);
}

void cx_topic_source_destroy(cx_topic_source_t *source) {
  if (!source)
    return;
  cx_topic_merge_destroy(source->merge, destroy_message);
  if (source->consumer) {
    rd_kafka_consumer_close(source->consumer);
    rd_kafka_destroy(source->consumer);
  }
  free(source->topic);
  free(source->partitions);
  free(source->end_offsets);
  free(source->paused);
  free(source);
}

size_t cx_topic_source_partition_count(const cx_topic_source_t *source) {
  return source->partition_count;
}

uint64_t cx_topic_source_total(const cx_topic_source_t *source) {
  return source->total;
}

static int compare_int32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

/* Reads the topic's partitions (sorted) from the metadata. */
static cx_err_t load_partitions(cx_topic_source_t *source, char *errstr, size_t errstr_size) {
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(source->consumer, source->topic, NULL);
  if (!rkt) {
    snprintf(errstr, errstr_size, "topic %s: %s", source->topic,
             rd_kafka_err2str(rd_kafka_last_error()));
    return CX_ERR_KAFKA;
  }
  const struct rd_kafka_metadata *metadata = NULL;
  rd_kafka_resp_err_t err = rd_kafka_metadata(source->consumer, 0, rkt, &metadata,
                                              REQUEST_TIMEOUT_MS);
  rd_kafka_topic_destroy(rkt);
  if (err) {
    snprintf(errstr, errstr_size, "metadata of topic %s: %s (is the broker at "
             "kafka.bootstrap.servers running?)", source->topic, rd_kafka_err2str(err));
    return CX_ERR_KAFKA;
  }
  cx_err_t result = CX_OK;
  if (metadata->topic_cnt != 1 || metadata->topics[0].err) {
    snprintf(errstr, errstr_size, "topic %s: %s", source->topic,
             metadata->topic_cnt ? rd_kafka_err2str(metadata->topics[0].err) : "not found");
    result = CX_ERR_KAFKA;
  } else if (metadata->topics[0].partition_cnt <= 0) {
    snprintf(errstr, errstr_size, "topic %s has no partitions", source->topic);
    result = CX_ERR_KAFKA;
  } else {
    size_t count = (size_t)metadata->topics[0].partition_cnt;
    source->partitions = calloc(count, sizeof(*source->partitions));
    source->end_offsets = calloc(count, sizeof(*source->end_offsets));
    source->paused = calloc(count, sizeof(*source->paused));
    if (!source->partitions || !source->end_offsets || !source->paused) {
      snprintf(errstr, errstr_size, "out of memory");
      result = CX_ERR_NOMEM;
    } else {
      for (size_t i = 0; i < count; i++)
        source->partitions[i] = metadata->topics[0].partitions[i].id;
      qsort(source->partitions, count, sizeof(*source->partitions), compare_int32);
      source->partition_count = count;
    }
  }
  rd_kafka_metadata_destroy(metadata);
  return result;
}

/* Start offsets per partition: --from-offsets, --from (offsets-for-times) or the beginning. */
static cx_err_t find_start_offsets(cx_topic_source_t *source, const int64_t *low, int64_t *start,
                                   char *errstr, size_t errstr_size) {
  const cx_topic_source_options_t *options = &source->options;
  for (size_t i = 0; i < source->partition_count; i++)
    start[i] = low[i];
  if (options->from_offsets) {
    size_t capacity = 1;
    for (const char *c = options->from_offsets; *c; c++)
      capacity += *c == ',';
    cx_partition_offset_t *entries = calloc(capacity, sizeof(*entries));
    size_t count = 0;
    if (!entries)
      return CX_ERR_NOMEM;
    cx_err_t err = cx_topic_source_parse_offsets(options->from_offsets, entries, capacity, &count,
                                                 errstr, errstr_size);
    for (size_t e = 0; !err && e < count; e++) {
      size_t i = 0;
      while (i < source->partition_count && source->partitions[i] != entries[e].partition)
        i++;
      if (i == source->partition_count) {
        snprintf(errstr, errstr_size, "--from-offsets: topic %s has no partition %d (it has %zu)",
                 source->topic, (int)entries[e].partition, source->partition_count);
        err = CX_ERR_INVALID_ARG;
      } else if (entries[e].offset > source->end_offsets[i]) {
        snprintf(errstr, errstr_size, "--from-offsets: offset %lld of partition %d is past its "
                 "end offset %lld", (long long)entries[e].offset, (int)entries[e].partition,
                 (long long)source->end_offsets[i]);
        err = CX_ERR_INVALID_ARG;
      } else {
        /* Below the low watermark the log was deleted: start at the oldest kept. */
        start[i] = entries[e].offset > low[i] ? entries[e].offset : low[i];
      }
    }
    free(entries);
    return err;
  }
  if (options->from_ms == INT64_MIN)
    return CX_OK;
  rd_kafka_topic_partition_list_t *list =
      rd_kafka_topic_partition_list_new((int)source->partition_count);
  for (size_t i = 0; i < source->partition_count; i++)
    rd_kafka_topic_partition_list_add(list, source->topic, source->partitions[i])->offset =
        options->from_ms;
  cx_err_t result = CX_OK;
  rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(source->consumer, list, REQUEST_TIMEOUT_MS);
  if (err) {
    snprintf(errstr, errstr_size, "looking up offsets of %s for --from: %s", source->topic,
             rd_kafka_err2str(err));
    result = CX_ERR_KAFKA;
  }
  for (int k = 0; !result && k < list->cnt; k++) {
    size_t i = 0;
    while (i < source->partition_count && source->partitions[i] != list->elems[k].partition)
      i++;
    if (i == source->partition_count)
      continue;
    if (list->elems[k].err) {
      snprintf(errstr, errstr_size, "looking up the --from offset of %s [%d]: %s", source->topic,
               (int)list->elems[k].partition, rd_kafka_err2str(list->elems[k].err));
      result = CX_ERR_KAFKA;
    } else if (list->elems[k].offset < 0) {
      start[i] = source->end_offsets[i]; /* nothing at or after --from */
    } else {
      start[i] = list->elems[k].offset;
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
  return result;
}

static void set_paused(cx_topic_source_t *source, size_t index, bool pause) {
  if (source->paused[index] == pause)
    return;
  rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, source->topic, source->partitions[index]);
  rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(source->consumer, list)
                                  : rd_kafka_resume_partitions(source->consumer, list);
  if (err)
    cx_log(CX_LOG_WARN, "%s %s [%d]: %s", pause ? "pausing" : "resuming", source->topic,
           (int)source->partitions[index], rd_kafka_err2str(err));
  else
    source->paused[index] = pause;
  rd_kafka_topic_partition_list_destroy(list);
}

static void finish_partition(cx_topic_source_t *source, size_t index) {
  if (cx_topic_merge_finished(source->merge, index))
    return;
  cx_topic_merge_finish(source->merge, index);
  set_paused(source, index, true); /* fetch no further */
}

cx_err_t cx_topic_source_open(const cx_config_t *config, const cx_topic_source_options_t *options,
                              cx_topic_source_t **out, char *errstr, size_t errstr_size) {
  char group_id[512];
  char inner[512];
  snprintf(group_id, sizeof(group_id), "%s-replay-%ld-%lld", config->application_id,
           (long)getpid(), (long long)time(NULL));
  static const char *const defaults[] = {
    "auto.offset.reset", "earliest",
    "isolation.level", "read_committed",
    "enable.partition.eof", "true",
    /* Replay reads history as fast as it can: fetch big chunks per partition
     * (the 1 MB default left the job waiting on the broker half the time). */
    "max.partition.fetch.bytes", "8388608",
    /* Fetching stops at queued.min.messages and resumes only up to 1 s
     * later in librdkafka 2.0 (#2879): the default 100000 is about one
     * 8 MB fetch, so replay sat idle half the time (465k -> 1.2M events/s). */
    "queued.min.messages", "1000000",
    NULL,
  };
  *out = NULL;
  cx_topic_source_t *source = calloc(1, sizeof(*source));
  if (!source) {
    snprintf(errstr, errstr_size, "out of memory");
    return CX_ERR_NOMEM;
  }
  source->options = *options;
  source->topic = strdup(options->topic);
  rd_kafka_conf_t *conf = cx_kafka_conf_new(config, defaults, errstr, errstr_size);
  if (!conf || !source->topic) {
    if (conf)
      rd_kafka_conf_destroy(conf);
    cx_topic_source_destroy(source);
    return conf ? CX_ERR_NOMEM : CX_ERR_CONFIG;
  }
  /* Set after the kafka.* keys on purpose: replay must never join or commit
   * for the production group, whatever the config says. */
  if (rd_kafka_conf_set(conf, "group.id", group_id, inner, sizeof(inner)) ||
      rd_kafka_conf_set(conf, "enable.auto.commit", "false", inner, sizeof(inner)) ||
      rd_kafka_conf_set(conf, "enable.auto.offset.store", "false", inner, sizeof(inner))) {
    snprintf(errstr, errstr_size, "replay consumer: %s", inner);
    rd_kafka_conf_destroy(conf);
    cx_topic_source_destroy(source);
    return CX_ERR_CONFIG;
  }
  source->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, inner, sizeof(inner));
  if (!source->consumer) {
    snprintf(errstr, errstr_size, "replay consumer: %s", inner);
    rd_kafka_conf_destroy(conf);
    cx_topic_source_destroy(source);
    return CX_ERR_CONFIG;
  }
  rd_kafka_poll_set_consumer(source->consumer);
  cx_err_t err = load_partitions(source, errstr, errstr_size);
  int64_t *low = NULL, *start = NULL;
  if (!err) {
    low = calloc(source->partition_count, sizeof(*low));
    start = calloc(source->partition_count, sizeof(*start));
    source->merge = cx_topic_merge_new(source->partitions, source->partition_count);
    if (!low || !start || !source->merge) {
      snprintf(errstr, errstr_size, "out of memory");
      err = CX_ERR_NOMEM;
    }
  }
  for (size_t i = 0; !err && i < source->partition_count; i++) {
    rd_kafka_resp_err_t kerr = rd_kafka_query_watermark_offsets(
        source->consumer, source->topic, source->partitions[i], &low[i], &source->end_offsets[i],
        REQUEST_TIMEOUT_MS);
    if (kerr) {
      snprintf(errstr, errstr_size, "end offset of %s [%d]: %s", source->topic,
               (int)source->partitions[i], rd_kafka_err2str(kerr));
      err = CX_ERR_KAFKA;
    }
  }
  if (!err)
    err = find_start_offsets(source, low, start, errstr, errstr_size);
  if (!err) {
    rd_kafka_topic_partition_list_t *assignment =
        rd_kafka_topic_partition_list_new((int)source->partition_count);
    for (size_t i = 0; i < source->partition_count; i++) {
      if (start[i] >= source->end_offsets[i]) {
        cx_topic_merge_finish(source->merge, i);
        continue;
      }
      source->total += (uint64_t)(source->end_offsets[i] - start[i]);
      rd_kafka_topic_partition_list_add(assignment, source->topic, source->partitions[i])->offset =
          start[i];
    }
    rd_kafka_resp_err_t kerr = assignment->cnt ? rd_kafka_assign(source->consumer, assignment)
                                               : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (kerr) {
      snprintf(errstr, errstr_size, "assigning %s: %s", source->topic, rd_kafka_err2str(kerr));
      err = CX_ERR_KAFKA;
    }
    rd_kafka_topic_partition_list_destroy(assignment);
  }
  free(low);
  free(start);
  if (err) {
    cx_topic_source_destroy(source);
    return err;
  }
  *out = source;
  return CX_OK;
}

static size_t find_index(const cx_topic_source_t *source, int32_t partition) {
  for (size_t i = 0; i < source->partition_count; i++)
    if (source->partitions[i] == partition)
      return i;
  return source->partition_count;
}

/* Buffers or drops one polled message; returns -1 on a fatal error. */
static int take_polled(cx_topic_source_t *source, rd_kafka_message_t *message, char *errstr,
                       size_t errstr_size) {
  size_t index = find_index(source, message->partition);
  if (message->err) {
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (index < source->partition_count && message->offset >= source->end_offsets[index])
        finish_partition(source, index);
    } else {
      char fatal[256];
      if (rd_kafka_fatal_error(source->consumer, fatal, sizeof(fatal))) {
        snprintf(errstr, errstr_size, "consumer fatal error: %s", fatal);
        rd_kafka_message_destroy(message);
        return -1;
      }
      cx_log(CX_LOG_WARN, "replay consumer: %s", rd_kafka_message_errstr(message));
    }
    rd_kafka_message_destroy(message);
    return 0;
  }
  if (index == source->partition_count || cx_topic_merge_finished(source->merge, index)) {
    rd_kafka_message_destroy(message); /* fetched before the pause took effect */
    return 0;
  }
  rd_kafka_timestamp_type_t type;
  int64_t timestamp = rd_kafka_message_timestamp(message, &type);
  if (message->offset >= source->end_offsets[index] || timestamp >= source->options.to_ms) {
    rd_kafka_message_destroy(message);
    finish_partition(source, index);
    return 0;
  }
  if (cx_topic_merge_push(source->merge, index, timestamp, message->offset, message)) {
    snprintf(errstr, errstr_size, "out of memory buffering %s [%d]", source->topic,
             (int)message->partition);
    rd_kafka_message_destroy(message);
    return -1;
  }
  if (message->offset + 1 >= source->end_offsets[index])
    finish_partition(source, index);
  else if (cx_topic_merge_buffered(source->merge, index) > PAUSE_ABOVE)
    set_paused(source, index, true);
  return 0;
}

cx_err_t cx_topic_source_next(cx_topic_source_t *source, rd_kafka_message_t **message,
                              size_t *index, char *errstr, size_t errstr_size) {
  int64_t waiting_since = -1;
  *message = NULL;
  for (;;) {
    void *item = NULL;
    cx_topic_merge_status_t status = cx_topic_merge_next(source->merge, &item, index);
    if (status == CX_TOPIC_MERGE_END)
      return CX_OK;
    if (status == CX_TOPIC_MERGE_ITEM) {
      if (source->paused[*index] && !cx_topic_merge_finished(source->merge, *index) &&
          cx_topic_merge_buffered(source->merge, *index) < RESUME_BELOW)
        set_paused(source, *index, false);
      *message = item;
      return CX_OK;
    }
    int64_t now = cx_clock_mono_ms();
    if (waiting_since < 0)
      waiting_since = now;
    for (int64_t i = 0; i < source->options.poll_batch; i++) {
      rd_kafka_message_t *polled = rd_kafka_consumer_poll(source->consumer, i == 0 ? 100 : 0);
      if (!polled)
        break;
      waiting_since = -1;
      if (take_polled(source, polled, errstr, errstr_size))
        return CX_ERR_KAFKA;
    }
    if (waiting_since >= 0 && now - waiting_since >= source->options.stall_timeout_ms) {
      size_t waiting = 0;
      while (waiting < source->partition_count &&
             (cx_topic_merge_finished(source->merge, waiting) ||
              cx_topic_merge_buffered(source->merge, waiting)))
        waiting++;
      snprintf(errstr, errstr_size, "no message from %s [%d] for %lld ms although its end "
               "offset %lld was not reached", source->topic,
               waiting < source->partition_count ? (int)source->partitions[waiting] : -1,
               (long long)source->options.stall_timeout_ms,
               waiting < source->partition_count ? (long long)source->end_offsets[waiting] : -1LL);
      return CX_ERR_KAFKA;
    }
  }
}
