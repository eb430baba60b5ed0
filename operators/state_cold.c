/* Cold customer blobs (see state_cold.h). Layout:
 *   codec_len varint | flags u8 (bit 0: the record was dirty) | codec record
 * The record's runtime-only fields the codec leaves out (generation, index)
 * are the table's to set again; dirty is kept in the flags. */
#include "state_cold.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

enum { COLD_DIRTY = 1 << 0 };

static size_t varint_put(uint8_t *out, uint64_t value) {
  size_t n = 0;
  while (value >= 0x80) {
    out[n++] = (uint8_t)(value | 0x80);
    value >>= 7;
  }
  out[n++] = (uint8_t)value;
  return n;
}

/* The codec length and where the flags byte is (the blob is trusted: this
 * process wrote it). */
static const uint8_t *varint_get(const uint8_t *in, uint64_t *value) {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    uint8_t byte = *in++;
    v |= (uint64_t)(byte & 0x7f) << shift;
    if (!(byte & 0x80))
      break;
  }
  *value = v;
  return in;
}

uint8_t *cx_state_cold_pack(const cx_customer_t *customer, cx_state_codec_buf_t *scratch,
                            size_t *size) {
  scratch->len = 0;
  if (cx_state_codec_encode(customer, scratch))
    return NULL;
  uint8_t header[11];
  size_t head = varint_put(header, scratch->len);
  header[head++] = customer->dirty ? COLD_DIRTY : 0;
  uint8_t *blob = malloc(head + scratch->len);
  if (!blob)
    return NULL;
  memcpy(blob, header, head);
  memcpy(blob + head, scratch->bytes, scratch->len);
  *size = head + scratch->len;
  return blob;
}

size_t cx_state_cold_size(const uint8_t *blob) {
  uint64_t len;
  const uint8_t *flags = varint_get(blob, &len);
  return (size_t)(flags + 1 - blob) + (size_t)len;
}

void cx_state_cold_peek(const uint8_t *blob, cx_str_t *key, int64_t *last_event_ms) {
  uint64_t len;
  const uint8_t *record = varint_get(blob, &len) + 1;
  int rc = cx_state_codec_peek(record, (size_t)len, key, last_event_ms);
  assert(rc == 0); /* written by cx_state_cold_pack */
  (void)rc;
}

int cx_state_cold_unpack(const uint8_t *blob, cx_customer_t *customer) {
  uint64_t len;
  const uint8_t *flags = varint_get(blob, &len);
  char errstr[160];
  if (cx_state_codec_decode(flags + 1, (size_t)len, customer, errstr, sizeof(errstr)))
    return -1; /* only out of memory: the bytes are this process's own */
  customer->dirty = *flags & COLD_DIRTY ? 1 : 0;
  return 0;
}
