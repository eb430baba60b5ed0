/* `cxstream produce`: loads an OCF of InteractionEvents into a topic, keyed
 * by customer_id, Confluent-framed, message timestamp = occurred_at. Also the
 * producer the demo feeds its generated journeys through. */
#ifndef CX_PRODUCE_H
#define CX_PRODUCE_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "../operators/event.h"
#include "buf.h"
#include "codec.h"
#include "config.h"
#include "err.h"

typedef struct cx_event_producer_s {
  rd_kafka_t *rk;          /* owned */
  cx_codec_t *codec;       /* owned */
  const char *topic;       /* borrowed */
  cx_buf_t value;          /* reused */
  uint64_t sent;           /* messages produced */
  uint64_t failed;         /* delivery failures */
  char first_error[256];   /* the first failure */
} cx_event_producer_t;

cx_err_t cx_event_producer_open(cx_event_producer_t *producer, const cx_config_t *config,
                                const char *topic, char *errstr, size_t errstr_size);
cx_err_t cx_event_producer_send(cx_event_producer_t *producer, const cx_event_t *event,
                                char *errstr, size_t errstr_size);
/* Waits for every delivery; fails when any failed. Then frees. */
cx_err_t cx_event_producer_close(cx_event_producer_t *producer, char *errstr, size_t errstr_size);

/* partitions > 0: create the topic with that many partitions when it does not exist. */
int cx_produce_main(const cx_config_t *config, const char *input_file, const char *topic,
                    int partitions);

#endif
