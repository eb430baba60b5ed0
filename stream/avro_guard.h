/* A cheap, allocation-free check that untrusted bytes are exactly one Avro
 * binary datum of a writer schema, run before Avro-C 1.11.1 sees them (it
 * trusts declared lengths, counts, enum indexes and union branches; see
 * DESIGN.md section 10). The schema is compiled once into a flat array of
 * operations, so checking a message does no allocation and no name lookups. */
#ifndef CX_AVRO_GUARD_H
#define CX_AVRO_GUARD_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The deepest nesting a guard accepts as a limit: the check recurses once per
 * level, so this bounds its stack use. */
#define CX_AVRO_GUARD_DEPTH_CEILING 1024

typedef struct cx_avro_guard_limits_s {
  size_t max_message_bytes; /* whole body larger than this: CX_ERR_MSG_TOO_LARGE */
  size_t max_elements;      /* array items plus map entries in one message: CX_ERR_MSG_LIMIT */
  size_t max_depth;         /* nesting of records, arrays, maps and unions; 1..CX_AVRO_GUARD_DEPTH_CEILING */
} cx_avro_guard_limits_t;

/* 1 MiB, 10000 elements, depth 32. */
void cx_avro_guard_limits_default(cx_avro_guard_limits_t *limits);

typedef struct cx_avro_guard_s cx_avro_guard_t;

/* Compiles writer_schema (borrowed: not kept, may be freed afterwards) into a
 * guard; do this once per writer schema, not per message. limits is copied;
 * NULL means the defaults. Fails with CX_ERR_INVALID_ARG for a NULL schema or
 * limits out of range, CX_ERR_SCHEMA for a schema kind it does not know,
 * CX_ERR_NOMEM. On success the caller owns *guard. */
cx_err_t cx_avro_guard_new(avro_schema_t writer_schema, const cx_avro_guard_limits_t *limits,
                           cx_avro_guard_t **guard, char *errstr, size_t errstr_size);

/* NULL is a no-op. */
void cx_avro_guard_destroy(cx_avro_guard_t *guard);

/* Checks that buf[0..len) is exactly one datum of the writer schema: varints
 * of at most 10 bytes (5 for int, whose value must fit in 32 bits), lengths
 * and sizes within the bytes left, enum indexes and union branches in range,
 * booleans 0 or 1, array and map blocks (a negative count is followed by the
 * block's byte size, which must match), and the limits. Returns
 * CX_ERR_MSG_TOO_LARGE when the body exceeds max_message_bytes,
 * CX_ERR_MSG_LIMIT when its element count or nesting exceeds a limit, CX_ERR_MSG_MALFORMED for bytes that are not such a datum,
 * CX_ERR_MSG_TRAILING when bytes are left after it; errstr then gets a
 * sentence with the byte offset. Reads buf only; the guard is not changed, so
 * several threads may check with one guard at once. Strings are not checked
 * for valid UTF-8 (Avro-C does not either). */
cx_err_t cx_avro_guard_check(const cx_avro_guard_t *guard, const void *buf, size_t len,
                             char *errstr, size_t errstr_size);

/* As cx_avro_guard_check for one datum at the start of buf[0..len), which
 * may be followed by more (records in an OCF block): *used gets its length.
 * No CX_ERR_MSG_TRAILING; max_message_bytes applies to the datum. */
cx_err_t cx_avro_guard_check_prefix(const cx_avro_guard_t *guard, const void *buf, size_t len,
                                    size_t *used, char *errstr, size_t errstr_size);

/* For a decoder that checks as it reads (cx_event_decode_guarded): the
 * guard's limits (borrowed), and the check of one value of field `field` of
 * the record the guard was compiled from, at *pos in the message [start,
 * end), exactly as cx_avro_guard_check checks it there (nesting depth 2; the
 * message's remaining element budget in *elements_left, updated). On CX_OK
 * *pos is past the value. CX_ERR_INVALID_ARG when the guard's schema is not
 * a record with such a field. */
const cx_avro_guard_limits_t *cx_avro_guard_limits(const cx_avro_guard_t *guard);
cx_err_t cx_avro_guard_check_field(const cx_avro_guard_t *guard, size_t field,
                                   const uint8_t *start, const uint8_t *end, const uint8_t **pos,
                                   size_t *elements_left, char *errstr, size_t errstr_size);

#endif
