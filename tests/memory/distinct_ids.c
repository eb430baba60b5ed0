/* Writes N InteractionEvents, each for a different customer (D1, D2, ...),
 * as an Avro object container file, one millisecond apart: the input of the
 * bounded-memory test (test_memory_bound.sh), which streams it through a FIFO
 * into `cxstream replay`, so 50M events never touch the disk.
 *   usage: cx-distinct-ids N OUT.avro [SCHEMA_DIR] */
#include <stdio.h>
#include <stdlib.h>

#include "../../stream/ocf.h"

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: cx-distinct-ids N OUT.avro [SCHEMA_DIR]\n");
    return 2;
  }
  char *end = NULL;
  long long count = strtoll(argv[1], &end, 10);
  if (!end || *end || count < 1) {
    fprintf(stderr, "cx-distinct-ids: N must be a positive integer\n");
    return 2;
  }
  char errstr[512];
  cx_ocf_writer_t *writer = NULL;
  if (cx_ocf_writer_open(argv[2], argc > 3 ? argv[3] : "schemas", &writer, errstr,
                         sizeof(errstr))) {
    fprintf(stderr, "cx-distinct-ids: %s\n", errstr);
    return 1;
  }
  char event_id[32], customer_id[32];
  for (long long i = 1; i <= count; i++) {
    cx_event_t event;
    cx_event_clear(&event);
    snprintf(event_id, sizeof(event_id), "m%lld", i);
    snprintf(customer_id, sizeof(customer_id), "D%lld", i);
    event.event_id = cx_str(event_id);
    event.customer_id = cx_str(customer_id);
    event.occurred_at_ms = 1767225600000LL + i; /* 2026-01-01, 1 ms apart */
    event.channel = CX_CHANNEL_PHONE;
    event.type = CX_EVENT_CONTACT;
    event.outcome = CX_OUTCOME_COMPLETED;
    event.has_wait_ms = true;
    event.wait_ms = 1000;
    if (cx_ocf_writer_append(writer, &event, errstr, sizeof(errstr))) {
      fprintf(stderr, "cx-distinct-ids: event %lld: %s\n", i, errstr);
      return 1;
    }
  }
  if (cx_ocf_writer_close(writer, errstr, sizeof(errstr))) {
    fprintf(stderr, "cx-distinct-ids: %s\n", errstr);
    return 1;
  }
  return 0;
}
