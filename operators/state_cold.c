/* Cold customer blobs (see state_cold.h). Layout:
 *   codec_len varint | flags u8 (bit 0: the record was dirty) | codec record
 * The record's runtime-only fields the codec leaves out (generation, index)
 * are the table's to set again; dirty is kept in the flags.
 * The store: a handle is slab << 15 | the blob's first unit in it (8-byte
 * units, 256 KiB slabs); a freed blob of a free list holds the next one's
 * handle + 1 in its first 4 bytes. */
#include "state_cold.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

enum { COLD_DIRTY = 1 << 0 };

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

#define SLAB_SHIFT 15                     /* units a slab: 2^15 (256 KiB) */
#define SLAB_UNITS ((uint32_t)1 << SLAB_SHIFT)
#define SLABS_MAX ((uint32_t)1 << (CX_STATE_COLD_HANDLE_BITS - SLAB_SHIFT))

/* The units a blob of size bytes takes: its size in 8-byte units, up to 16
 * (128 bytes); above, rounded up to one of 8 sizes a doubling (16 bytes
 * apart up to 256, the largest small blob), so that blobs whose sizes
 * differ a little reuse each other's freed places; at most 1/8 is slack.
 * A big blob (a slab of its own) takes its exact units. */
static size_t units_of(size_t size) {
  size_t units = (size + 7) >> 3;
  if (units <= 16 || units > CX_STATE_COLD_CLASS_MAX)
    return units;
  size_t step = (size_t)1 << (63 - __builtin_clzll((unsigned long long)(units - 1)) - 3);
  return (units + step - 1) & ~(step - 1);
}

/* A slab index for a new slab of bytes bytes, or -1. */
static long slab_new(cx_state_cold_store_t *store, size_t bytes) {
  uint8_t *slab = malloc(bytes);
  if (!slab)
    return -1;
  uint32_t index;
  if (store->slab_free) {
    index = store->slab_free - 1;
    store->slab_free = (uint32_t)(uintptr_t)store->slabs[index];
  } else {
    if (store->slab_count == SLABS_MAX) {
      free(slab);
      return -1;
    }
    if (store->slab_count == store->slab_capacity) {
      uint32_t capacity = store->slab_capacity ? store->slab_capacity * 2 : 16;
      uint8_t **slabs = realloc(store->slabs, capacity * sizeof(*slabs));
      if (!slabs) {
        free(slab);
        return -1;
      }
      store->slabs = slabs;
      store->slab_capacity = capacity;
    }
    index = store->slab_count++;
  }
  store->slabs[index] = slab;
  store->slab_bytes += bytes;
  return index;
}

static void list_push(cx_state_cold_store_t *store, size_t units, uint32_t handle) {
  uint32_t next = store->free_heads[units];
  memcpy(cx_state_cold_store_at(store, handle), &next, sizeof(next));
  store->free_heads[units] = handle + 1;
}

uint8_t *cx_state_cold_store_alloc(cx_state_cold_store_t *store, size_t size, uint32_t *handle) {
  size_t units = units_of(size);
  if (units > CX_STATE_COLD_CLASS_MAX) { /* a slab of its own */
    long slab = slab_new(store, units << 3);
    if (slab < 0)
      return NULL;
    *handle = (uint32_t)slab << SLAB_SHIFT;
  } else if (store->free_heads[units]) {
    *handle = store->free_heads[units] - 1;
    memcpy(&store->free_heads[units], cx_state_cold_store_at(store, *handle), sizeof(uint32_t));
  } else {
    if (!store->bump_slab || store->bump_used + units > SLAB_UNITS) {
      long slab = slab_new(store, (size_t)SLAB_UNITS << 3);
      if (slab < 0)
        return NULL;
      if (store->bump_slab && store->bump_used < SLAB_UNITS) /* the old slab's tail (fewer
                                                                units than this blob; reused
                                                                when that is a size) */
        list_push(store, SLAB_UNITS - store->bump_used,
                  (store->bump_slab - 1) << SLAB_SHIFT | store->bump_used);
      store->bump_slab = (uint32_t)slab + 1;
      store->bump_used = 0;
    }
    *handle = (store->bump_slab - 1) << SLAB_SHIFT | store->bump_used;
    store->bump_used += (uint32_t)units;
  }
  store->live_bytes += units << 3;
  return cx_state_cold_store_at(store, *handle);
}

void cx_state_cold_store_free(cx_state_cold_store_t *store, uint32_t handle, size_t size) {
  size_t units = units_of(size);
  store->live_bytes -= units << 3;
  if (units > CX_STATE_COLD_CLASS_MAX) {
    uint32_t slab = handle >> SLAB_SHIFT;
    free(store->slabs[slab]);
    store->slab_bytes -= units << 3;
    store->slabs[slab] = (uint8_t *)(uintptr_t)store->slab_free;
    store->slab_free = slab + 1;
    return;
  }
  list_push(store, units, handle);
}

void cx_state_cold_store_destroy(cx_state_cold_store_t *store) {
  /* freed big slabs hold the free chain: skip them */
  for (uint32_t at = store->slab_free; at;) {
    uint32_t next = (uint32_t)(uintptr_t)store->slabs[at - 1];
    store->slabs[at - 1] = NULL;
    at = next;
  }
  for (uint32_t i = 0; i < store->slab_count; i++)
    free(store->slabs[i]);
  free(store->slabs);
  memset(store, 0, sizeof(*store));
}

uint8_t *cx_state_cold_pack_into(const cx_customer_t *customer, cx_state_codec_buf_t *scratch,
                                 cx_state_cold_store_t *store, uint32_t *handle, size_t *size) {
  scratch->len = 0;
  if (cx_state_codec_encode(customer, scratch))
    return NULL;
  uint8_t header[11];
  size_t head = cx_state_codec_varint_put(header, scratch->len);
  header[head++] = customer->dirty ? COLD_DIRTY : 0;
  uint8_t *blob = cx_state_cold_store_alloc(store, head + scratch->len, handle);
  if (!blob)
    return NULL;
  memcpy(blob, header, head);
  memcpy(blob + head, scratch->bytes, scratch->len);
  *size = head + scratch->len;
  return blob;
}
