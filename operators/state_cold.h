/* A customer kept in compact form while idle (see state.h, "cold"): one
 * heap blob holding the changelog encoding of its record (state_codec.h)
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

/* The blob of *customer (borrowed), malloc'ed, and its size in *size;
 * scratch is an encoding buffer the caller reuses. NULL when out of memory. */
uint8_t *cx_state_cold_pack(const cx_customer_t *customer, cx_state_codec_buf_t *scratch,
                            size_t *size);
/* A blob's size in bytes (what cx_state_cold_pack reported). */
size_t cx_state_cold_size(const uint8_t *blob);
/* The customer's key (pointing into the blob) and last event time. */
void cx_state_cold_peek(const uint8_t *blob, cx_str_t *key, int64_t *last_event_ms);
/* Decodes a blob into *customer (zeroed first; the caller owns its heap
 * parts, as after cx_state_codec_decode). Returns -1 when out of memory
 * (nothing to release then). The blob is unchanged. */
int cx_state_cold_unpack(const uint8_t *blob, cx_customer_t *customer);

#endif
