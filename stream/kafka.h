/* Building librdkafka clients from cxstream's config: defaults chosen by
 * cxstream for each role, then every kafka.* key applied untouched (so users
 * can override anything), logs routed to our logger. Also topic creation. */
#ifndef CX_KAFKA_H
#define CX_KAFKA_H

#include <stdbool.h>

#include <librdkafka/rdkafka.h>

#include "../operators/alert.h"
#include "../operators/profile.h"
#include "buf.h"
#include "codec.h"
#include "config.h"
#include "err.h"

/* defaults: NULL-terminated name, value, name, value, ... applied before
 * kafka.*; a name written "!name" is applied after them and wins. */
rd_kafka_conf_t *cx_kafka_conf_new(const cx_config_t *config, const char *const *defaults,
                                   char *errstr, size_t errstr_size);

/* True once any client was refused by a broker's authentication (wrong
 * credentials or mechanism); the error is logged once with what to check. */
bool cx_kafka_authentication_failed(void);

/* Creates the topics that do not exist yet (partitions, replication 1 by
 * default or the broker's default with -1). Existing topics are fine. */
cx_err_t cx_kafka_create_topics(rd_kafka_t *rk, const char *const *topics, size_t topic_count,
                                int partitions, char *errstr, size_t errstr_size);
/* The same with topic configs: NULL-terminated name, value, ... given to
 * every new topic (e.g. "retention.ms", "-1"), or NULL. */
cx_err_t cx_kafka_create_topics_with(rd_kafka_t *rk, const char *const *topics, size_t topic_count,
                                     int partitions, const char *const *configs, char *errstr,
                                     size_t errstr_size);

/* An output producer shared by `run` and topic replay: produce with retry on
 * a full queue, delivery failures counted (the first one kept for the
 * message), alerts and profiles encoded and keyed by customer_id, dead
 * letters with their original key, value, headers and timestamp plus
 * __cxstream.errors.* headers. */
/* A group of sends counted until each is reported: while output->tally
 * points at one, every send counts up in it and its delivery report (served
 * by rd_kafka_poll on the producer) counts down. It must outlive its reports. */
typedef struct cx_kafka_tally_s {
  uint64_t pending;            /* sent, not reported yet */
  uint64_t failed;             /* reported with an error, or refused at once */
} cx_kafka_tally_t;

typedef struct cx_kafka_output_s {
  rd_kafka_t *producer;        /* owned */
  cx_kafka_tally_t *tally;     /* where sends are counted now, or NULL */
  cx_buf_t value;              /* reused encode buffer */
  uint64_t produced;           /* outputs produced since the last cx_kafka_output_reset_count */
  uint64_t delivery_failures;  /* delivery reports (or produce calls) with an error */
  char delivery_error[256];    /* the first such error */
  rd_kafka_topic_t *known[8];  /* topics whose metadata was asked for at start (prepare) */
  size_t known_count;          /* in use */
} cx_kafka_output_t;

/* defaults as for cx_kafka_conf_new. */
cx_err_t cx_kafka_output_open(cx_kafka_output_t *output, const cx_config_t *config,
                              const char *const *defaults, char *errstr, size_t errstr_size);
/* Asks for the metadata of the topics it will produce to (NULL or empty
 * names are skipped, at most 8) and keeps their handles until close, so
 * that the first message to each goes out at once: librdkafka 2.0 looks up
 * a topic first named by a produce call only on its 1 s timer, holding the
 * first outputs (and so the first commit) back that long. A topic that
 * does not answer within timeout_ms is looked up later as usual. */
void cx_kafka_output_prepare(cx_kafka_output_t *output, const char *const *topics, size_t count,
                             int timeout_ms);
/* Flushes (at most timeout_ms) and frees; a zeroed output is a no-op. */
void cx_kafka_output_close(cx_kafka_output_t *output, int timeout_ms);

/* Produces one message (key and value are copied; headers are taken over). */
void cx_kafka_output_send(cx_kafka_output_t *output, const char *topic, const void *key,
                          size_t key_len, const void *value, size_t value_len, int64_t timestamp,
                          rd_kafka_headers_t *headers);
/* The same to an explicit partition (RD_KAFKA_PARTITION_UA: the partitioner's choice). */
void cx_kafka_output_send_to(cx_kafka_output_t *output, const char *topic, int32_t partition,
                             const void *key, size_t key_len, const void *value,
                             size_t value_len, int64_t timestamp, rd_kafka_headers_t *headers);
/* The same without copying the value: it must stay unchanged until the
 * message's delivery report is served (or the producer is destroyed). */
void cx_kafka_output_send_borrowed(cx_kafka_output_t *output, const char *topic,
                                   int32_t partition, const void *key, size_t key_len,
                                   const void *value, size_t value_len, int64_t timestamp);
/* Alert to topic, key = customer_id, timestamp = event time; emitted_at_ms < 0 writes null. */
cx_err_t cx_kafka_output_alert(cx_kafka_output_t *output, cx_codec_t *codec, const char *topic,
                               const cx_alert_t *alert, int64_t emitted_at_ms, char *errstr,
                               size_t errstr_size);
/* Profile to topic, key = customer_id; a deleted profile is a tombstone. */
cx_err_t cx_kafka_output_profile(cx_kafka_output_t *output, cx_codec_t *codec, const char *topic,
                                 const cx_profile_t *profile, int64_t emitted_at_ms, char *errstr,
                                 size_t errstr_size);
/* The message as it came, plus __cxstream.errors.* headers (reason, message,
 * topic, partition, offset, timestamp = now_ms), to topic. */
void cx_kafka_output_aside(cx_kafka_output_t *output, const rd_kafka_message_t *message,
                           const char *topic, const char *reason, const char *text, int64_t now_ms);

#endif
