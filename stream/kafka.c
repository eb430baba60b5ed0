/* librdkafka client configuration, topic creation and the output producer
 * (see kafka.h). */
#include "kafka.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

/* librdkafka's logs (from its own threads) go through our logger: same
 * format, same level filter, same redaction of secrets. */
static void log_cb(const rd_kafka_t *rk, int level, const char *facility, const char *message) {
  /* syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug */
  cx_log_level_t ours = level <= 3 ? CX_LOG_ERROR : level == 4 ? CX_LOG_WARN
                        : level <= 6 ? CX_LOG_INFO : CX_LOG_DEBUG;
  cx_log_from(ours, "librdkafka", facility, "%s: %s", rk ? rd_kafka_name(rk) : "-", message);
}

static atomic_bool authentication_failed;

bool cx_kafka_authentication_failed(void) {
  return atomic_load(&authentication_failed);
}

/* Client-level errors: logged like librdkafka's own lines; a refused
 * login says which keys to check (never their values). */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
  (void)opaque;
  if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
    if (!atomic_exchange(&authentication_failed, true))
      cx_log(CX_LOG_ERROR, "Kafka authentication failed (%s): check kafka.security.protocol, "
             "kafka.sasl.mechanism, kafka.sasl.username and kafka.sasl.password (or the "
             "kafka.ssl.* files)", reason);
    else
      cx_log_from(CX_LOG_ERROR, "librdkafka", "ERROR", "%s: %s", rd_kafka_name(rk), reason);
    return;
  }
  cx_log_from(err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TRANSPORT
                  ? CX_LOG_WARN : CX_LOG_ERROR,
              "librdkafka", "ERROR", "%s: %s: %s", rd_kafka_name(rk),
              rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

rd_kafka_conf_t *cx_kafka_conf_new(const cx_config_t *config, const char *const *defaults,
                                   char *errstr, size_t errstr_size) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  char inner[512];
  if (!cx_config_kafka_get(config, "bootstrap.servers") &&
      rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:9092", inner, sizeof(inner)))
    goto fail_default;
  for (size_t i = 0; defaults && defaults[i]; i += 2)
    if (defaults[i][0] != '!' &&
        rd_kafka_conf_set(conf, defaults[i], defaults[i + 1], inner, sizeof(inner)) !=
            RD_KAFKA_CONF_OK)
      goto fail_default;
  for (size_t i = 0; i < config->kafka_count; i++) {
    if (rd_kafka_conf_set(conf, config->kafka[i].name, config->kafka[i].value, inner,
                          sizeof(inner)) != RD_KAFKA_CONF_OK) {
      /* The value may be a secret: name the key only. */
      snprintf(errstr, errstr_size, "kafka.%s: %s", config->kafka[i].name, inner);
      rd_kafka_conf_destroy(conf);
      return NULL;
    }
  }
  /* "!name": set after the kafka.* keys, which cannot override it. */
  for (size_t i = 0; defaults && defaults[i]; i += 2)
    if (defaults[i][0] == '!' &&
        rd_kafka_conf_set(conf, defaults[i] + 1, defaults[i + 1], inner, sizeof(inner)) !=
            RD_KAFKA_CONF_OK)
      goto fail_default;
  rd_kafka_conf_set_log_cb(conf, log_cb);
  rd_kafka_conf_set_error_cb(conf, error_cb);
  return conf;
fail_default:
  snprintf(errstr, errstr_size, "librdkafka refused a default: %s", inner);
  rd_kafka_conf_destroy(conf);
  return NULL;
}

cx_err_t cx_kafka_create_topics(rd_kafka_t *rk, const char *const *topics, size_t topic_count,
                                int partitions, char *errstr, size_t errstr_size) {
  return cx_kafka_create_topics_with(rk, topics, topic_count, partitions, NULL, errstr,
                                     errstr_size);
}

cx_err_t cx_kafka_create_topics_with(rd_kafka_t *rk, const char *const *topics, size_t topic_count,
                                     int partitions, const char *const *configs, char *errstr,
                                     size_t errstr_size) {
  rd_kafka_NewTopic_t *new_topics[16];
  char inner[256];
  if (topic_count > 16)
    return CX_ERR_INVALID_ARG;
  for (size_t i = 0; i < topic_count; i++) {
    new_topics[i] = rd_kafka_NewTopic_new(topics[i], partitions, 1, inner, sizeof(inner));
    if (!new_topics[i]) {
      snprintf(errstr, errstr_size, "topic %s: %s", topics[i], inner);
      rd_kafka_NewTopic_destroy_array(new_topics, i);
      return CX_ERR_KAFKA;
    }
    for (size_t c = 0; configs && configs[c]; c += 2)
      rd_kafka_NewTopic_set_config(new_topics[i], configs[c], configs[c + 1]);
  }
  rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t *options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(options, 15000, inner, sizeof(inner));
  rd_kafka_AdminOptions_set_request_timeout(options, 20000, inner, sizeof(inner));
  rd_kafka_CreateTopics(rk, new_topics, topic_count, options, queue);
  rd_kafka_event_t *event = rd_kafka_queue_poll(queue, 30000);
  cx_err_t err = CX_OK;
  if (!event) {
    snprintf(errstr, errstr_size, "creating topics timed out after 30 s");
    err = CX_ERR_KAFKA;
  } else if (rd_kafka_event_error(event)) {
    snprintf(errstr, errstr_size, "creating topics: %s", rd_kafka_event_error_string(event));
    err = CX_ERR_KAFKA;
  } else {
    size_t count = 0;
    const rd_kafka_topic_result_t **results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
    for (size_t i = 0; i < count; i++) {
      rd_kafka_resp_err_t topic_err = rd_kafka_topic_result_error(results[i]);
      if (topic_err && topic_err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        snprintf(errstr, errstr_size, "creating topic %s: %s",
                 rd_kafka_topic_result_name(results[i]),
                 rd_kafka_topic_result_error_string(results[i]));
        err = CX_ERR_KAFKA;
      }
    }
  }
  if (event)
    rd_kafka_event_destroy(event);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy_array(new_topics, topic_count);
  return err;
}

static void on_output_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque) {
  (void)rk;
  cx_kafka_output_t *output = opaque;
  cx_kafka_tally_t *tally = message->_private;
  if (tally) {
    tally->pending--;
    if (message->err)
      tally->failed++;
  }
  if (message->err && output->delivery_failures++ == 0)
    snprintf(output->delivery_error, sizeof(output->delivery_error), "%s: %s",
             rd_kafka_topic_name(message->rkt), rd_kafka_err2str(message->err));
}

cx_err_t cx_kafka_output_open(cx_kafka_output_t *output, const cx_config_t *config,
                              const char *const *defaults, char *errstr, size_t errstr_size) {
  memset(output, 0, sizeof(*output));
  rd_kafka_conf_t *conf = cx_kafka_conf_new(config, defaults, errstr, errstr_size);
  if (!conf)
    return CX_ERR_CONFIG;
  rd_kafka_conf_set_opaque(conf, output);
  rd_kafka_conf_set_dr_msg_cb(conf, on_output_delivery);
  output->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
  if (!output->producer) {
    rd_kafka_conf_destroy(conf);
    return CX_ERR_CONFIG;
  }
  return CX_OK;
}

void cx_kafka_output_prepare(cx_kafka_output_t *output, const char *const *topics, size_t count,
                             int timeout_ms) {
  for (size_t i = 0; i < count; i++) {
    size_t max = sizeof(output->known) / sizeof(output->known[0]);
    if (!topics[i] || !topics[i][0] || output->known_count == max)
      continue;
    rd_kafka_topic_t *topic = rd_kafka_topic_new(output->producer, topics[i], NULL);
    if (!topic)
      continue;
    const struct rd_kafka_metadata *metadata = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(output->producer, 0, topic, &metadata,
                                                timeout_ms);
    if (err)
      cx_log(CX_LOG_DEBUG, "metadata of %s: %s (looked up again at its first message)",
             topics[i], rd_kafka_err2str(err));
    if (metadata)
      rd_kafka_metadata_destroy(metadata);
    output->known[output->known_count++] = topic;
  }
}

void cx_kafka_output_close(cx_kafka_output_t *output, int timeout_ms) {
  for (size_t i = 0; i < output->known_count; i++)
    rd_kafka_topic_destroy(output->known[i]);
  output->known_count = 0;
  if (output->producer) {
    rd_kafka_flush(output->producer, timeout_ms);
    rd_kafka_destroy(output->producer);
  }
  cx_buf_free(&output->value);
  memset(output, 0, sizeof(*output));
}

/* The handle prepare kept for topic, or NULL. Producing by handle spares
 * librdkafka its lookup by name per message (a read lock, a walk of its
 * topics and a reference taken and dropped: ~10% of rd_kafka_producev's
 * time for state records in perf). */
static rd_kafka_topic_t *known_topic(const cx_kafka_output_t *output, const char *topic) {
  for (size_t i = 0; i < output->known_count; i++)
    if (!strcmp(rd_kafka_topic_name(output->known[i]), topic))
      return output->known[i];
  return NULL;
}

/* One message; msgflags RD_KAFKA_MSG_F_COPY copies the value, 0 borrows it
 * until its delivery report (the key is always copied). */
static void send_message(cx_kafka_output_t *output, const char *topic, int32_t partition,
                         const void *key, size_t key_len, const void *value, size_t value_len,
                         int64_t timestamp, rd_kafka_headers_t *headers, int msgflags) {
  rd_kafka_topic_t *rkt = known_topic(output, topic);
  for (;;) {
    rd_kafka_resp_err_t err;
    if (rkt && !headers)
      err = rd_kafka_producev(output->producer, RD_KAFKA_V_RKT(rkt),
                              RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_KEY(key, key_len),
                              RD_KAFKA_V_VALUE((void *)value, value_len),
                              RD_KAFKA_V_MSGFLAGS(msgflags),
                              RD_KAFKA_V_TIMESTAMP(timestamp),
                              RD_KAFKA_V_OPAQUE(output->tally), RD_KAFKA_V_END);
    else if (headers)
      err = rd_kafka_producev(output->producer, RD_KAFKA_V_TOPIC(topic),
                              RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_KEY(key, key_len),
                              RD_KAFKA_V_VALUE((void *)value, value_len),
                              RD_KAFKA_V_MSGFLAGS(msgflags),
                              RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_HEADERS(headers),
                              RD_KAFKA_V_OPAQUE(output->tally), RD_KAFKA_V_END);
    else
      err = rd_kafka_producev(output->producer, RD_KAFKA_V_TOPIC(topic),
                              RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_KEY(key, key_len),
                              RD_KAFKA_V_VALUE((void *)value, value_len),
                              RD_KAFKA_V_MSGFLAGS(msgflags),
                              RD_KAFKA_V_TIMESTAMP(timestamp),
                              RD_KAFKA_V_OPAQUE(output->tally), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(output->producer, 100);
      continue;
    }
    if (err) {
      if (headers)
        rd_kafka_headers_destroy(headers);
      if (output->delivery_failures++ == 0)
        snprintf(output->delivery_error, sizeof(output->delivery_error), "%s: %s", topic,
                 rd_kafka_err2str(err));
      if (output->tally)
        output->tally->failed++;
    } else if (output->tally) {
      output->tally->pending++;
    }
    output->produced++;
    return;
  }
}

void cx_kafka_output_send_to(cx_kafka_output_t *output, const char *topic, int32_t partition,
                             const void *key, size_t key_len, const void *value,
                             size_t value_len, int64_t timestamp, rd_kafka_headers_t *headers) {
  send_message(output, topic, partition, key, key_len, value, value_len, timestamp, headers,
               RD_KAFKA_MSG_F_COPY);
}

void cx_kafka_output_send_borrowed(cx_kafka_output_t *output, const char *topic,
                                   int32_t partition, const void *key, size_t key_len,
                                   const void *value, size_t value_len, int64_t timestamp) {
  send_message(output, topic, partition, key, key_len, value, value_len, timestamp, NULL, 0);
}

void cx_kafka_output_send(cx_kafka_output_t *output, const char *topic, const void *key,
                          size_t key_len, const void *value, size_t value_len, int64_t timestamp,
                          rd_kafka_headers_t *headers) {
  cx_kafka_output_send_to(output, topic, RD_KAFKA_PARTITION_UA, key, key_len, value, value_len,
                          timestamp, headers);
}

cx_err_t cx_kafka_output_alert(cx_kafka_output_t *output, cx_codec_t *codec, const char *topic,
                               const cx_alert_t *alert, int64_t emitted_at_ms, char *errstr,
                               size_t errstr_size) {
  cx_err_t err = cx_codec_encode_alert(codec, alert, emitted_at_ms, &output->value, errstr,
                                       errstr_size);
  if (err)
    return err;
  cx_kafka_output_send(output, topic, alert->customer_id.ptr, alert->customer_id.len,
                       output->value.data, output->value.len, alert->event_time_ms, NULL);
  return CX_OK;
}

cx_err_t cx_kafka_output_profile(cx_kafka_output_t *output, cx_codec_t *codec, const char *topic,
                                 const cx_profile_t *profile, int64_t emitted_at_ms, char *errstr,
                                 size_t errstr_size) {
  cx_err_t err = cx_codec_encode_profile(codec, profile, emitted_at_ms, &output->value, errstr,
                                         errstr_size);
  if (err)
    return err;
  cx_kafka_output_send(output, topic, profile->customer_id.ptr, profile->customer_id.len,
                       profile->deleted ? NULL : output->value.data,
                       profile->deleted ? 0 : output->value.len, profile->updated_at_ms, NULL);
  return CX_OK;
}

void cx_kafka_output_aside(cx_kafka_output_t *output, const rd_kafka_message_t *message,
                           const char *topic, const char *reason, const char *text, int64_t now_ms) {
  rd_kafka_headers_t *original = NULL;
  rd_kafka_headers_t *headers = NULL;
  if (rd_kafka_message_headers(message, &original) == RD_KAFKA_RESP_ERR_NO_ERROR && original)
    headers = rd_kafka_headers_copy(original);
  else
    headers = rd_kafka_headers_new(6);
  char number[32];
  rd_kafka_header_add(headers, "__cxstream.errors.reason", -1, reason, -1);
  rd_kafka_header_add(headers, "__cxstream.errors.message", -1, text, -1);
  rd_kafka_header_add(headers, "__cxstream.errors.topic", -1, rd_kafka_topic_name(message->rkt), -1);
  snprintf(number, sizeof(number), "%d", (int)message->partition);
  rd_kafka_header_add(headers, "__cxstream.errors.partition", -1, number, -1);
  snprintf(number, sizeof(number), "%lld", (long long)message->offset);
  rd_kafka_header_add(headers, "__cxstream.errors.offset", -1, number, -1);
  snprintf(number, sizeof(number), "%lld", (long long)now_ms);
  rd_kafka_header_add(headers, "__cxstream.errors.timestamp", -1, number, -1);
  rd_kafka_timestamp_type_t type;
  int64_t timestamp = rd_kafka_message_timestamp(message, &type);
  cx_kafka_output_send(output, topic, message->key, message->key_len, message->payload,
                       message->len, timestamp > 0 ? timestamp : 0, headers);
}
