/* Building librdkafka clients from cxstream's config: defaults chosen by
 * cxstream for each role, then every kafka.* key applied untouched (so users
 * can override anything), logs routed to our logger. Also topic creation. */
#ifndef CX_KAFKA_H
#define CX_KAFKA_H

#include <librdkafka/rdkafka.h>

#include "config.h"
#include "err.h"

/* defaults: NULL-terminated name, value, name, value, ... applied before kafka.*. */
rd_kafka_conf_t *cx_kafka_conf_new(const cx_config_t *config, const char *const *defaults,
                                   char *errstr, size_t errstr_size);

/* Creates the topics that do not exist yet (partitions, replication 1 by
 * default or the broker's default with -1). Existing topics are fine. */
cx_err_t cx_kafka_create_topics(rd_kafka_t *rk, const char *const *topics, size_t topic_count,
                                int partitions, char *errstr, size_t errstr_size);

#endif
