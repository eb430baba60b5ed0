/* librdkafka client configuration and topic creation (see kafka.h). */
#include "kafka.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

static void log_cb(const rd_kafka_t *rk, int level, const char *facility, const char *message) {
  (void)rk;
  /* syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug */
  cx_log_level_t ours = level <= 3 ? CX_LOG_ERROR : level == 4 ? CX_LOG_WARN
                        : level <= 6 ? CX_LOG_INFO : CX_LOG_DEBUG;
  cx_log(ours, "librdkafka %s: %s", facility, message);
}

rd_kafka_conf_t *cx_kafka_conf_new(const cx_config_t *config, const char *const *defaults,
                                   char *errstr, size_t errstr_size) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  char inner[512];
  if (!cx_config_kafka_get(config, "bootstrap.servers") &&
      rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:9092", inner, sizeof(inner)))
    goto fail_default;
  for (size_t i = 0; defaults && defaults[i]; i += 2)
    if (rd_kafka_conf_set(conf, defaults[i], defaults[i + 1], inner, sizeof(inner)) !=
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
  rd_kafka_conf_set_log_cb(conf, log_cb);
  return conf;
fail_default:
  snprintf(errstr, errstr_size, "librdkafka refused a default: %s", inner);
  rd_kafka_conf_destroy(conf);
  return NULL;
}

cx_err_t cx_kafka_create_topics(rd_kafka_t *rk, const char *const *topics, size_t topic_count,
                                int partitions, char *errstr, size_t errstr_size) {
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
