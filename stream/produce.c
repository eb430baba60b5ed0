/* Loading events into a topic (see produce.h). The partitioner is murmur2,
 * as Java producers use, so our messages land where theirs would. */
#include "produce.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kafka.h"
#include "ocf.h"
#include "report.h"

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque) {
  (void)rk;
  cx_event_producer_t *producer = opaque;
  if (message->err && producer->failed++ == 0)
    snprintf(producer->first_error, sizeof(producer->first_error), "%s",
             rd_kafka_err2str(message->err));
}

cx_err_t cx_event_producer_open(cx_event_producer_t *producer, const cx_config_t *config,
                                const char *topic, char *errstr, size_t errstr_size) {
  static const char *const defaults[] = {
    "enable.idempotence", "true",
    "linger.ms", "20",
    "batch.size", "1000000",
    "partitioner", "murmur2_random",
    "compression.type", "lz4",
    "queue.buffering.max.messages", "1000000",
    NULL,
  };
  memset(producer, 0, sizeof(*producer));
  producer->topic = topic;
  cx_err_t err = cx_codec_new(config, &producer->codec, errstr, errstr_size);
  if (err)
    return err;
  rd_kafka_conf_t *conf = cx_kafka_conf_new(config, defaults, errstr, errstr_size);
  if (!conf) {
    cx_codec_destroy(producer->codec);
    return CX_ERR_CONFIG;
  }
  rd_kafka_conf_set_opaque(conf, producer);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  producer->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
  if (!producer->rk) {
    rd_kafka_conf_destroy(conf);
    cx_codec_destroy(producer->codec);
    return CX_ERR_KAFKA;
  }
  return CX_OK;
}

cx_err_t cx_event_producer_send(cx_event_producer_t *producer, const cx_event_t *event,
                                char *errstr, size_t errstr_size) {
  cx_err_t err = cx_codec_encode_event(producer->codec, event, &producer->value, errstr,
                                       errstr_size);
  if (err)
    return err;
  for (;;) {
    rd_kafka_resp_err_t kerr = rd_kafka_producev(
        producer->rk, RD_KAFKA_V_TOPIC(producer->topic),
        RD_KAFKA_V_KEY(event->customer_id.ptr, event->customer_id.len),
        RD_KAFKA_V_VALUE(producer->value.data, producer->value.len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(event->occurred_at_ms),
        RD_KAFKA_V_END);
    if (kerr == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer->rk, 50);
      continue;
    }
    if (kerr) {
      snprintf(errstr, errstr_size, "producing to %s: %s", producer->topic, rd_kafka_err2str(kerr));
      return CX_ERR_KAFKA;
    }
    producer->sent++;
    if ((producer->sent & 0x3ff) == 0)
      rd_kafka_poll(producer->rk, 0);
    return CX_OK;
  }
}

cx_err_t cx_event_producer_close(cx_event_producer_t *producer, char *errstr, size_t errstr_size) {
  cx_err_t err = CX_OK;
  if (producer->rk) {
    if (rd_kafka_flush(producer->rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      snprintf(errstr, errstr_size, "%d message(s) still undelivered after 60 s",
               rd_kafka_outq_len(producer->rk));
      err = CX_ERR_KAFKA;
    } else if (producer->failed) {
      snprintf(errstr, errstr_size, "%llu message(s) not delivered: %s",
               (unsigned long long)producer->failed, producer->first_error);
      err = CX_ERR_KAFKA;
    }
    rd_kafka_destroy(producer->rk);
  }
  cx_codec_destroy(producer->codec);
  cx_buf_free(&producer->value);
  memset(producer, 0, sizeof(*producer));
  return err;
}

int cx_produce_main(const cx_config_t *config, const char *input_file, const char *topic,
                    int partitions) {
  char errstr[512];
  cx_ocf_reader_t *reader = NULL;
  if (cx_ocf_reader_open(input_file, config->schema_dir, &reader, errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream produce: %s\n", errstr);
    return 1;
  }
  cx_event_producer_t producer;
  if (cx_event_producer_open(&producer, config, topic, errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream produce: %s\n", errstr);
    cx_ocf_reader_destroy(reader);
    return 2;
  }
  /* History carries old timestamps: under the broker's time retention a new
   * topic would lose it at the next retention check, so keep it forever. */
  static const char *const topic_configs[] = {"retention.ms", "-1", NULL};
  if (partitions > 0 && cx_kafka_create_topics_with(producer.rk, &topic, 1, partitions,
                                                    topic_configs, errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream produce: %s\n", errstr);
    cx_event_producer_close(&producer, errstr, sizeof(errstr));
    cx_ocf_reader_destroy(reader);
    return 1;
  }
  cx_report_t report;
  cx_report_start(&report, isatty(STDERR_FILENO));
  int rc = 0;
  for (;;) {
    cx_event_t event;
    bool eof = false;
    cx_err_t err = cx_ocf_reader_next(reader, &event, &eof, errstr, sizeof(errstr));
    if (eof) {
      if (err) {
        fprintf(stderr, "cxstream produce: %s: %s\n", input_file, errstr);
        rc = 1;
      }
      break;
    }
    report.messages++;
    if (err) {
      report.dead_letters++;
      fprintf(stderr, "cxstream produce: %s record %llu skipped: %s\n", input_file,
              (unsigned long long)cx_ocf_reader_position(reader), errstr);
      continue;
    }
    if (cx_event_producer_send(&producer, &event, errstr, sizeof(errstr))) {
      fprintf(stderr, "cxstream produce: %s\n", errstr);
      rc = 1;
      break;
    }
    report.events++;
    if ((report.messages & 0xfff) == 0)
      cx_report_progress(&report, "produce", 0);
  }
  if (cx_event_producer_close(&producer, errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream produce: %s\n", errstr);
    rc = 1;
  }
  if (report.progress)
    fprintf(stderr, "\r\033[K");
  fprintf(stderr, "produce: %llu events to %s, %llu records skipped\n",
          (unsigned long long)report.events, topic, (unsigned long long)report.dead_letters);
  cx_ocf_reader_destroy(reader);
  return rc;
}
