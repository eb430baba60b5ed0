/* libFuzzer target: an Avro object container file (replay --input-file)
 * through cx_ocf_reader_open and cx_ocf_reader_next until the end or the
 * first error. Unlike Kafka messages, OCF blocks reach Avro-C's file reader
 * without a guard (see README "Fuzzing": what this target found). The file
 * lives in a memfd; records are capped at 10,000 per input. The same file
 * then goes through cx_ocf_reader_open_deferred (records checked as they
 * are decoded), which must agree: a file open refuses is refused with the
 * same message (at open, while reading, or by cx_ocf_reader_check_rest);
 * a file open accepts gives the same records and the same end, and is
 * never refused. A disagreement aborts. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../stream/ocf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RECORDS_MAX 10000

/* What a pass gave: open's result, then a digest of each record's result
 * and event, the end's result and message, whether it was refused. */
typedef struct pass_s {
  cx_err_t open_err;
  char message[512];     /* open's or the end's */
  uint64_t digest;       /* of the records read */
  uint64_t records;      /* records read */
  cx_err_t end_err;      /* the end (CX_OK = clean end or the cap) */
  bool capped;           /* RECORDS_MAX reached */
  bool refused;          /* cx_ocf_reader_refused or check_rest refused */
} pass_t;

static uint64_t mix(uint64_t digest, const void *bytes, size_t len) {
  const uint8_t *p = bytes;
  for (size_t i = 0; i < len; i++)
    digest = (digest ^ p[i]) * 1099511628211ull;
  return digest;
}

static void run(const char *path, const char *schema_dir, bool deferred, pass_t *pass) {
  memset(pass, 0, sizeof(*pass));
  pass->digest = 14695981039346656037ull;
  cx_ocf_reader_t *reader = NULL;
  pass->open_err = (deferred ? cx_ocf_reader_open_deferred : cx_ocf_reader_open)(
      path, schema_dir, &reader, pass->message, sizeof(pass->message));
  if (pass->open_err)
    return;
  bool eof = false;
  for (;;) {
    if (pass->records == RECORDS_MAX) {
      pass->capped = true;
      break;
    }
    cx_event_t event;
    cx_event_clear(&event);
    char errstr[512];
    cx_err_t err = cx_ocf_reader_next(reader, &event, &eof, errstr, sizeof(errstr));
    if (eof) {
      pass->end_err = err;
      if (err)
        snprintf(pass->message, sizeof(pass->message), "%s", errstr);
      pass->refused = cx_ocf_reader_refused(reader);
      break;
    }
    pass->records++;
    pass->digest = mix(pass->digest, &err, sizeof(err));
    if (!err) {
      pass->digest = mix(pass->digest, event.event_id.ptr, event.event_id.len);
      pass->digest = mix(pass->digest, event.customer_id.ptr, event.customer_id.len);
      pass->digest = mix(pass->digest, &event.occurred_at_ms, sizeof(event.occurred_at_ms));
      pass->digest = mix(pass->digest, &event.attribute_count, sizeof(event.attribute_count));
    }
  }
  if (deferred && !pass->refused && (pass->capped || !pass->end_err) &&
      cx_ocf_reader_check_rest(reader, pass->message, sizeof(pass->message))) {
    pass->refused = cx_ocf_reader_refused(reader);
    if (!pass->refused)
      abort(); /* check_rest fails only by refusing */
  }
  cx_ocf_reader_destroy(reader);
}

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
  static pass_t checked, deferred;
  run(path, schema_dir, false, &checked);
  run(path, schema_dir, true, &deferred);
  if (checked.open_err == CX_ERR_MSG_MALFORMED) {
    /* Refused by open: the deferred pass refuses too, with open's message. */
    bool refused = deferred.open_err == CX_ERR_MSG_MALFORMED || deferred.refused;
    if (!refused || strcmp(checked.message, deferred.message))
      abort();
  } else if (checked.open_err) {
    if (deferred.open_err != checked.open_err)
      abort();
  } else if (deferred.open_err || deferred.refused || deferred.records != checked.records ||
             deferred.digest != checked.digest || deferred.end_err != checked.end_err ||
             strcmp(deferred.message, checked.message)) {
    abort();
  }
  return 0;
}
