/* A customer kept in compact form while idle (see state.h, "cold"): one
 * blob in a slab store (below) holding the changelog encoding of its record (state_codec.h)
 * behind a short header, so a cold customer costs its encoded size instead
 * of a 128-byte record and its extension blocks. Decoding the blob gives
 * back a record that behaves exactly as the one encoded (the codec keeps
 * every field the operators read; only slack capacity is lost). */
#ifndef CX_STATE_COLD_H
#define CX_STATE_COLD_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"
#include "state_codec.h"

/* Where the blobs live: slabs of 8-byte units, so a small blob costs its
 * size rounded up to 8 bytes (16 past 128, see state_cold.c), not to an
 * allocator class, and is named by a 30-bit handle instead of a pointer. A
 * blob of up to CX_STATE_COLD_CLASS_MAX units (256 bytes: most customers'
 * one day) is carved from a 256 KiB slab and, when freed, kept on a free
 * list of its size for the next blob of that size; a larger one (a long
 * contact log) gets a slab of its own from the allocator, freed with it,
 * since free lists of many large sizes would hold much that is never
 * reused. Slabs are kept until the store is destroyed. */
#define CX_STATE_COLD_CLASS_MAX 32
#define CX_STATE_COLD_HANDLE_BITS 30

typedef struct cx_state_cold_store_s {
  uint8_t **slabs;            /* slab i (NULL: a big blob's slab freed, on slab_free) */
  uint32_t slab_count, slab_capacity;
  uint32_t bump_slab;         /* the slab blobs are carved from, index + 1 (0 = none) */
  uint32_t bump_used;         /* its units handed out */
  uint32_t slab_free;         /* a freed big slab's index + 1, chained through slabs[] (0 = none) */
  uint32_t free_heads[CX_STATE_COLD_CLASS_MAX + 1]; /* per unit count: a freed blob's handle + 1 */
  size_t live_bytes;          /* units of live blobs, in bytes */
  size_t slab_bytes;          /* bytes of slabs allocated */
} cx_state_cold_store_t;

/* A blob of size bytes in the store: its handle in *handle and the bytes to
 * write, or NULL when out of memory (or out of handles). */
uint8_t *cx_state_cold_store_alloc(cx_state_cold_store_t *store, size_t size, uint32_t *handle);
/* The blob of a handle. */
static inline uint8_t *cx_state_cold_store_at(const cx_state_cold_store_t *store,
                                              uint32_t handle) {
  return store->slabs[handle >> 15] + ((size_t)(handle & 0x7fff) << 3);
}
/* Gives back a blob of size bytes (what cx_state_cold_size says). */
void cx_state_cold_store_free(cx_state_cold_store_t *store, uint32_t handle, size_t size);
/* Frees every slab (the store is zeroed: empty again). */
void cx_state_cold_store_destroy(cx_state_cold_store_t *store);

/* The blob of *customer (borrowed) in the store: its handle in *handle and
 * its size in *size; scratch is an encoding buffer the caller reuses.
 * NULL when out of memory. */
uint8_t *cx_state_cold_pack_into(const cx_customer_t *customer, cx_state_codec_buf_t *scratch,
                                 cx_state_cold_store_t *store, uint32_t *handle, size_t *size);
/* A blob's size in bytes (what cx_state_cold_pack_into reported). */
size_t cx_state_cold_size(const uint8_t *blob);
/* The customer's key (pointing into the blob) and last event time. */
void cx_state_cold_peek(const uint8_t *blob, cx_str_t *key, int64_t *last_event_ms);
/* Decodes a blob into *customer (zeroed first; the caller owns its heap
 * parts, as after cx_state_codec_decode). Returns -1 when out of memory
 * (nothing to release then). The blob is unchanged. */
int cx_state_cold_unpack(const uint8_t *blob, cx_customer_t *customer);

#endif
