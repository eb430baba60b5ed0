/* `cxstream demo` (what `make run` calls): an in-process Kafka cluster
 * (librdkafka's mock cluster), or a real broker given with
 * -X kafka.bootstrap.servers, fed with generated journeys and consumed
 * through the production consumer path, alerts printed as JSON lines. */
#ifndef CX_DEMO_H
#define CX_DEMO_H

#include "config.h"

/* Sets kafka.bootstrap.servers, topics and application.id in config. */
int cx_demo_main(cx_config_t *config);

#endif
