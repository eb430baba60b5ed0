/* One customer's state (cx_customer_t, state.h) as a compact, versioned
 * binary record for the changelog topic, and back. Pure: no I/O, no Kafka.
 * The record is a version byte and a list of length-prefixed sections, each a
 * sequence of fields encoded one by one (never a struct's memory), so a newer
 * writer can append fields and sections that this decoder skips, and fields
 * an older writer did not write decode to their defaults. The layout is
 * drawn in state_codec.c. Not encoded: the record's generation (a runtime
 * value of the table) and anything past the in-use part of an array. */
#ifndef CX_STATE_CODEC_H
#define CX_STATE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

/* The record version this build writes (and the only one it reads). */
#define CX_STATE_CODEC_VERSION 1

/* A growable byte buffer owned by the caller. Zero it to start; reuse it
 * across records by setting len to 0; release it with
 * cx_state_codec_buf_free. */
typedef struct cx_state_codec_buf_s {
  uint8_t *bytes;  /* malloc'ed storage, NULL while empty */
  size_t len;      /* bytes in use */
  size_t capacity; /* bytes allocated */
} cx_state_codec_buf_t;

void cx_state_codec_buf_free(cx_state_codec_buf_t *buf);

/* Writes value as an unsigned varint (7 bits a byte, low first) at out,
 * which has room for 10 bytes; returns the bytes written. */
static inline size_t cx_state_codec_varint_put(uint8_t *out, uint64_t value) {
  size_t n = 0;
  while (value >= 0x80) {
    out[n++] = (uint8_t)(value | 0x80);
    value >>= 7;
  }
  out[n++] = (uint8_t)value;
  return n;
}

/* Appends the record of *customer (borrowed) to out. Returns 0, or -1 when
 * out of memory, leaving out->len as it was. */
int cx_state_codec_encode(const cx_customer_t *customer, cx_state_codec_buf_t *out);

/* Decodes a record of len untrusted bytes into *customer, which is zeroed
 * first. On success returns 0 and the caller owns the customer's heap parts
 * (interaction log, long key, extension blocks): hand them to
 * cx_state_restore (state.h) or release them with cx_customer_release. On
 * failure returns -1 with the reason in errstr, and *customer holds nothing
 * to release. Allocates at most in proportion to len (an extension block only
 * for a section that has fields); key_hash is computed, generation is 0, the
 * log's capacity is its count. */
int cx_state_codec_decode(const uint8_t *bytes, size_t len, cx_customer_t *customer,
                          char *errstr, size_t errstr_size);

/* The key and last_event_ms of a record without decoding the rest (for a
 * customer kept in its encoded form, state_cold.h): the key points into
 * bytes. Returns -1 when the record's first section cannot be read. */
int cx_state_codec_peek(const uint8_t *bytes, size_t len, cx_str_t *key,
                        int64_t *last_event_ms);

#endif
