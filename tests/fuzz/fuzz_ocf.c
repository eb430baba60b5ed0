/* libFuzzer target: an Avro object container file (replay --input-file)
 * through cx_ocf_reader_open and cx_ocf_reader_next until the end or the
 * first error. Unlike Kafka messages, OCF blocks reach Avro-C's file reader
 * without a guard (see README "Fuzzing": what this target found). The file
 * lives in a memfd; records are capped at 10,000 per input. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../stream/ocf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int fd = -1;
  static char path[64];
  static const char *schema_dir;
  if (fd < 0) {
    fd = memfd_create("cx-fuzz-ocf", 0);
    if (fd < 0)
      abort();
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    schema_dir = getenv("CX_FUZZ_SCHEMA_DIR") ? getenv("CX_FUZZ_SCHEMA_DIR") : "schemas";
  }
  if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
    abort();
  cx_ocf_reader_t *reader = NULL;
  char errstr[512];
  if (cx_ocf_reader_open(path, schema_dir, &reader, errstr, sizeof(errstr)))
    return 0;
  bool eof = false;
  for (int i = 0; i < 10000 && !eof; i++) {
    cx_event_t event;
    cx_event_clear(&event);
    if (cx_ocf_reader_next(reader, &event, &eof, errstr, sizeof(errstr)))
      break;
  }
  cx_ocf_reader_destroy(reader);
  return 0;
}
