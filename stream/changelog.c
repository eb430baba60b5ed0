/* The state changelog (see changelog.h). Restores use a consumer of their
 * own, assigned one partition at a time from its low to its high watermark,
 * never committing. */
#include "changelog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../operators/state.h"
#include "../operators/state_codec.h"
#include "clock.h"
#include "log.h"

struct cx_changelog_s {
  char *topic;                  /* <application.id>-state */
  rd_kafka_t *consumer;         /* restores */
  cx_state_codec_buf_t record;  /* reused encode buffer */
};

typedef struct write_ctx_s {
  cx_changelog_t *changelog;    /* the changelog */
  cx_kafka_output_t *output;    /* its producer, or NULL: into held */
  cx_changelog_held_t *held;    /* records kept back (cx_changelog_hold) */
  int32_t partition;            /* where the records go */
} write_ctx_t;

/* A held record: this header, then the key, then the value (none when
 * value_len < 0: a tombstone). */
typedef struct held_header_s {
  int64_t timestamp;
  int32_t partition;
  uint32_t key_len;
  int32_t value_len;
} held_header_t;

/* One record to the changelog now, or into ctx->held for later. */
static int emit(write_ctx_t *ctx, const void *key, size_t key_len, const void *value,
                size_t value_len, int64_t timestamp) {
  if (ctx->output) {
    cx_kafka_output_send_to(ctx->output, ctx->changelog->topic, ctx->partition, key, key_len,
                            value, value_len, timestamp, NULL);
    return 0;
  }
  held_header_t header = {timestamp, ctx->partition, (uint32_t)key_len,
                          value ? (int32_t)value_len : -1};
  cx_buf_t *bytes = &ctx->held->bytes;
  if (cx_buf_reserve(bytes, sizeof(header) + key_len + value_len))
    return -1;
  memcpy(bytes->data + bytes->len, &header, sizeof(header));
  bytes->len += sizeof(header);
  if (key_len)
    memcpy(bytes->data + bytes->len, key, key_len);
  bytes->len += key_len;
  if (value && value_len)
    memcpy(bytes->data + bytes->len, value, value_len);
  bytes->len += value ? value_len : 0;
  ctx->held->count++;
  return 0;
}

static int partition_count(rd_kafka_t *rk, const char *topic, char *errstr, size_t errstr_size) {
  rd_kafka_topic_t *handle = rd_kafka_topic_new(rk, topic, NULL);
  const struct rd_kafka_metadata *metadata = NULL;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, handle, &metadata, 10000);
  int count = -1;
  if (err) {
    snprintf(errstr, errstr_size, "metadata of %s: %s", topic, rd_kafka_err2str(err));
  } else if (metadata->topic_cnt != 1 || metadata->topics[0].err) {
    snprintf(errstr, errstr_size, "topic %s: %s", topic,
             metadata->topic_cnt ? rd_kafka_err2str(metadata->topics[0].err) : "not found");
  } else {
    count = metadata->topics[0].partition_cnt;
  }
  if (metadata)
    rd_kafka_metadata_destroy(metadata);
  rd_kafka_topic_destroy(handle);
  return count;
}

cx_err_t cx_changelog_open(const cx_config_t *config, rd_kafka_t *producer,
                           cx_changelog_t **out, char *errstr, size_t errstr_size) {
  if (strchr(config->input_topics, ',')) {
    snprintf(errstr, errstr_size, "state.changelog needs one input topic (input.topics=%s): "
             "partition p of the changelog belongs to partition p of the input; set "
             "state.changelog=false or run one job per topic", config->input_topics);
    return CX_ERR_CONFIG;
  }
  int partitions = partition_count(producer, config->input_topics, errstr, errstr_size);
  if (partitions < 1)
    return CX_ERR_KAFKA;
  cx_changelog_t *changelog = calloc(1, sizeof(*changelog));
  if (!changelog)
    return CX_ERR_NOMEM;
  size_t size = strlen(config->application_id) + sizeof("-state");
  changelog->topic = malloc(size);
  if (!changelog->topic) {
    free(changelog);
    return CX_ERR_NOMEM;
  }
  snprintf(changelog->topic, size, "%s-state", config->application_id);
  static const char *const compact[] = {"cleanup.policy", "compact", NULL};
  const char *names[] = {changelog->topic};
  cx_err_t err = cx_kafka_create_topics_with(producer, names, 1, partitions, compact, errstr,
                                             errstr_size);
  /* It may exist already, created by an administrator for an application
   * that may not create topics (CreateTopics then answers with an
   * authorization error before it looks for the topic): what counts is
   * that it is there with the input's partition count. */
  char why[512];
  int existing = partition_count(producer, changelog->topic, why, sizeof(why));
  /* A topic just created takes a moment to show in the metadata. */
  for (int tries = 0; existing < 1 && !err && tries < 50; tries++) {
    usleep(200 * 1000);
    existing = partition_count(producer, changelog->topic, why, sizeof(why));
  }
  if (err && existing >= 1) {
    cx_log(CX_LOG_INFO, "state changelog %s exists (%s); using it", changelog->topic, errstr);
    err = CX_OK;
  }
  if (!err && existing != partitions) {
    if (existing < 1)
      snprintf(errstr, errstr_size, "%s", why);
    else
      snprintf(errstr, errstr_size, "state changelog %s has %d partitions, but %s has %d: "
               "partition p of the changelog must hold the state of input partition p; "
               "recreate it with %d partitions (or use another application.id)",
               changelog->topic, existing, config->input_topics, partitions, partitions);
    err = CX_ERR_CONFIG;
  }
  if (!err) {
    char group[512];
    snprintf(group, sizeof(group), "%s-restore-%ld", config->application_id, (long)getpid());
    const char *defaults[] = {
      "group.id", group, "enable.auto.commit", "false", "enable.partition.eof", "true",
      "auto.offset.reset", "earliest",
      /* The restore reads to a known end, partition after partition: a
       * fetch left waiting at one partition's end (fetch.wait.max.ms, 500
       * ms by default) held back the next partition's first fetch. */
      "fetch.wait.max.ms", "10", NULL,
    };
    rd_kafka_conf_t *conf = cx_kafka_conf_new(config, defaults, errstr, errstr_size);
    if (!conf || !(changelog->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr,
                                                       errstr_size))) {
      if (conf)
        rd_kafka_conf_destroy(conf);
      err = CX_ERR_KAFKA;
    }
  }
  if (err) {
    cx_changelog_destroy(changelog);
    return err;
  }
  *out = changelog;
  return CX_OK;
}

void cx_changelog_destroy(cx_changelog_t *changelog) {
  if (!changelog)
    return;
  if (changelog->consumer) {
    rd_kafka_consumer_close(changelog->consumer);
    rd_kafka_destroy(changelog->consumer);
  }
  cx_state_codec_buf_free(&changelog->record);
  free(changelog->topic);
  free(changelog);
}

const char *cx_changelog_topic(const cx_changelog_t *changelog) {
  return changelog->topic;
}

static int restore_progress(cx_processor_t *processor, const rd_kafka_message_t *message,
                            char *why, size_t why_size);

static bool retriable(rd_kafka_resp_err_t err) {
  switch (err) {
  case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
  case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
  case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
  case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
  case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
  case RD_KAFKA_RESP_ERR__TRANSPORT:
  case RD_KAFKA_RESP_ERR__TIMED_OUT:
  case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
  case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
  case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    return true;
  default:
    return false;
  }
}

#define RESTORE_BATCH 1024 /* messages taken from the consumer at once */
#define RESTORE_AHEAD 8     /* how far ahead a message's slot is prefetched */

/* Starts loading the table slot of a message's customer; its key's hash, or
 * 0 for a message with no customer (an error, a progress record). */
static uint64_t restore_hint(const cx_processor_t *processor, const rd_kafka_message_t *message) {
  if (message->err || !message->key_len)
    return 0;
  return cx_processor_prefetch(processor, (cx_str_t){message->key, message->key_len});
}

/* Applies one message of the changelog to the processor: a customer's
 * record, a tombstone (the customer is forgotten) or the partition's
 * progress record. *next moves past it (to high at the partition's end). */
static void restore_message(cx_changelog_t *changelog, int32_t partition,
                            cx_processor_t *processor, const rd_kafka_message_t *message,
                            int64_t high, int64_t *next, uint64_t *records) {
  if (message->err) {
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
      *next = high; /* compaction may leave the last offsets empty */
    return;
  }
  *next = message->offset + 1;
  cx_str_t key = {message->key, message->key_len};
  char why[256];
  if (!message->key_len && message->payload) {
    if (restore_progress(processor, message, why, sizeof(why)))
      cx_log(CX_LOG_WARN, "%s [%d] offset %lld: progress record skipped: %s",
             changelog->topic, (int)partition, (long long)message->offset, why);
  } else if (!message->payload) {
    cx_processor_forget(processor, key);
    (*records)++;
  } else if (cx_processor_restore(processor, message->payload, message->len, why,
                                  sizeof(why))) {
    /* One bad record costs one customer's history, not the partition. */
    cx_log(CX_LOG_WARN, "%s [%d] offset %lld: state record skipped: %s", changelog->topic,
           (int)partition, (long long)message->offset, why);
  } else {
    (*records)++;
  }
}

cx_err_t cx_changelog_restore(cx_changelog_t *changelog, int32_t partition,
                              cx_processor_t *processor, uint64_t *records, char *errstr,
                              size_t errstr_size) {
  int64_t low = 0, high = 0;
  *records = 0;
  /* A changelog just created, or a partition whose leader moves, answers
   * with a retriable error for a while: wait for it (up to 60 s). */
  rd_kafka_resp_err_t err;
  int64_t give_up = cx_clock_mono_ms() + 60000;
  while ((err = rd_kafka_query_watermark_offsets(changelog->consumer, changelog->topic, partition,
                                                 &low, &high, 10000)) &&
         retriable(err) && cx_clock_mono_ms() < give_up) {
    cx_log(CX_LOG_INFO, "%s [%d]: %s; retrying", changelog->topic, (int)partition,
           rd_kafka_err2str(err));
    usleep(500 * 1000);
  }
  if (err) {
    snprintf(errstr, errstr_size, "%s [%d]: %s", changelog->topic, (int)partition,
             rd_kafka_err2str(err));
    return CX_ERR_KAFKA;
  }
  if (high <= low)
    return CX_OK;
  rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, changelog->topic, partition)->offset = low;
  err = rd_kafka_assign(changelog->consumer, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err) {
    snprintf(errstr, errstr_size, "assigning %s [%d]: %s", changelog->topic, (int)partition,
             rd_kafka_err2str(err));
    return CX_ERR_KAFKA;
  }
  /* Messages are taken up to RESTORE_BATCH at a time (one lock and clock
   * read per batch, not per message), and each one's table slot and record
   * are prefetched RESTORE_AHEAD and RESTORE_AHEAD / 2 messages before it
   * is restored (hints: the same state without them). */
  rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(changelog->consumer);
  rd_kafka_message_t *batch[RESTORE_BATCH];
  uint64_t hashes[RESTORE_BATCH];
  cx_err_t result = CX_OK;
  int64_t last_progress = cx_clock_mono_ms();
  for (int64_t next = low; next < high && !result;) {
    ssize_t n = queue ? rd_kafka_consume_batch_queue(queue, 0, batch, RESTORE_BATCH) : 0;
    if (n <= 0) {
      /* Nothing waiting: wait up to a second for one message. */
      batch[0] = rd_kafka_consumer_poll(changelog->consumer, 1000);
      n = batch[0] ? 1 : 0;
    }
    if (!n) {
      if (cx_clock_mono_ms() - last_progress > 30000) {
        snprintf(errstr, errstr_size, "%s [%d]: no record for 30 s at offset %lld of %lld",
                 changelog->topic, (int)partition, (long long)next, (long long)high);
        result = CX_ERR_KAFKA;
      }
      continue;
    }
    last_progress = cx_clock_mono_ms();
    for (ssize_t i = 0; i < n && i < RESTORE_AHEAD; i++)
      hashes[i] = restore_hint(processor, batch[i]);
    for (ssize_t i = 0; i < n; i++) {
      if (i + RESTORE_AHEAD < n)
        hashes[i + RESTORE_AHEAD] = restore_hint(processor, batch[i + RESTORE_AHEAD]);
      if (i + RESTORE_AHEAD / 2 < n && hashes[i + RESTORE_AHEAD / 2])
        cx_processor_prefetch_customer(processor, hashes[i + RESTORE_AHEAD / 2]);
      /* Past the high watermark (a record written since it was read) the
       * rest is left, as the assignment's end drops it. */
      if (next < high)
        restore_message(changelog, partition, processor, batch[i], high, &next, records);
      rd_kafka_message_destroy(batch[i]);
    }
  }
  if (queue)
    rd_kafka_queue_destroy(queue);
  rd_kafka_assign(changelog->consumer, NULL);
  return result;
}

/* The partition's progress record: the empty key (no customer has an empty
 * id; such events are dead letters) and "cxp" | version 1 | max_event_ms le64
 * | next_offset le64. It is sent after the batch's customer records to the
 * same partition, so when it is on the changelog, they are too. */
#define PROGRESS_MAGIC "cxp\1"
#define PROGRESS_LEN (4 + 8 + 8)

static void put_le64(uint8_t *at, int64_t value) {
  for (int i = 0; i < 8; i++)
    at[i] = (uint8_t)((uint64_t)value >> (8 * i));
}

static int64_t get_le64(const uint8_t *at) {
  uint64_t value = 0;
  for (int i = 0; i < 8; i++)
    value |= (uint64_t)at[i] << (8 * i);
  return (int64_t)value;
}

static int restore_progress(cx_processor_t *processor, const rd_kafka_message_t *message,
                            char *why, size_t why_size) {
  const uint8_t *value = message->payload;
  if (message->len != PROGRESS_LEN || memcmp(value, PROGRESS_MAGIC, 4)) {
    snprintf(why, why_size, "a progress record of %zu bytes that this build does not know",
             message->len);
    return -1;
  }
  cx_partition_progress_t progress = {get_le64(value + 4), get_le64(value + 12)};
  cx_processor_restore_progress(processor, &progress);
  return 0;
}

static int write_removed(cx_str_t key, void *opaque) {
  return emit(opaque, key.ptr, key.len, NULL, 0, 0);
}

/* A changed customer's record encoded straight into the held bytes, after
 * its header and key (no copy through the record buffer). */
static int hold_changed(const cx_customer_t *customer, write_ctx_t *ctx) {
  cx_str_t key = cx_customer_key(customer);
  cx_buf_t *bytes = &ctx->held->bytes;
  if (cx_buf_reserve(bytes, sizeof(held_header_t) + key.len))
    return -1;
  size_t header_at = bytes->len;
  bytes->len += sizeof(held_header_t);
  if (key.len)
    memcpy(bytes->data + bytes->len, key.ptr, key.len);
  bytes->len += key.len;
  cx_state_codec_buf_t view = {bytes->data, bytes->len, bytes->capacity};
  int rc = cx_state_codec_encode(customer, &view);
  bytes->data = view.bytes; /* moved when it grew */
  bytes->capacity = view.capacity;
  if (rc) {
    bytes->len = header_at;
    return -1;
  }
  held_header_t header = {customer->last_event_ms > 0 ? customer->last_event_ms : 0,
                          ctx->partition, (uint32_t)key.len,
                          (int32_t)(view.len - bytes->len)};
  memcpy(bytes->data + header_at, &header, sizeof(header));
  bytes->len = view.len;
  ctx->held->count++;
  return 0;
}

static int write_changed(const cx_customer_t *customer, void *opaque) {
  write_ctx_t *ctx = opaque;
  if (!ctx->output)
    return hold_changed(customer, ctx);
  cx_state_codec_buf_t *record = &ctx->changelog->record;
  record->len = 0;
  if (cx_state_codec_encode(customer, record))
    return -1;
  cx_str_t key = cx_customer_key(customer);
  return emit(ctx, key.ptr, key.len, record->bytes, record->len,
              customer->last_event_ms > 0 ? customer->last_event_ms : 0);
}

static cx_err_t take(write_ctx_t *ctx, cx_processor_t *processor, char *errstr,
                     size_t errstr_size) {
  if (cx_processor_take_changes(processor, write_removed, write_changed, ctx)) {
    snprintf(errstr, errstr_size, "out of memory encoding state records");
    return CX_ERR_NOMEM;
  }
  cx_partition_progress_t progress;
  if (cx_processor_take_progress(processor, &progress)) {
    uint8_t value[PROGRESS_LEN];
    memcpy(value, PROGRESS_MAGIC, 4);
    put_le64(value + 4, progress.max_event_ms);
    put_le64(value + 12, progress.next_offset);
    if (emit(ctx, "", 0, value, sizeof(value), 0)) {
      snprintf(errstr, errstr_size, "out of memory holding state records");
      return CX_ERR_NOMEM;
    }
  }
  return CX_OK;
}

cx_err_t cx_changelog_write(cx_changelog_t *changelog, cx_kafka_output_t *output,
                            int32_t partition, cx_processor_t *processor, char *errstr,
                            size_t errstr_size) {
  write_ctx_t ctx = {changelog, output, NULL, partition};
  return take(&ctx, processor, errstr, errstr_size);
}

cx_err_t cx_changelog_hold(cx_changelog_t *changelog, cx_changelog_held_t *held,
                           int32_t partition, cx_processor_t *processor, char *errstr,
                           size_t errstr_size) {
  write_ctx_t ctx = {changelog, NULL, held, partition};
  return take(&ctx, processor, errstr, errstr_size);
}

void cx_changelog_send_held(cx_changelog_t *changelog, cx_kafka_output_t *output,
                            cx_changelog_held_t *held) {
  for (size_t at = 0; at < held->bytes.len;) {
    held_header_t header;
    memcpy(&header, held->bytes.data + at, sizeof(header));
    at += sizeof(header);
    const uint8_t *key = held->bytes.data + at;
    at += header.key_len;
    const uint8_t *value = header.value_len < 0 ? NULL : held->bytes.data + at;
    size_t value_len = header.value_len < 0 ? 0 : (size_t)header.value_len;
    at += value_len;
    cx_kafka_output_send_borrowed(output, changelog->topic, header.partition, key,
                                  header.key_len, value, value_len, header.timestamp);
  }
}

void cx_changelog_held_clear(cx_changelog_held_t *held) {
  held->bytes.len = 0;
  held->count = 0;
}

void cx_changelog_held_free(cx_changelog_held_t *held) {
  cx_buf_free(&held->bytes);
  held->count = 0;
}
