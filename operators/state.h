/* Keyed per-customer state of one partition: an open-addressing hash table
 * (linear probing, backward-shift deletion) of uint32 indexes into a dense
 * array of fixed-size customer records. Lookups are O(1); a customer costs
 * one record plus its recent contacts. Customers idle past the largest window
 * are evicted when the watermark passes, so memory stays bounded. */
#ifndef CX_STATE_H
#define CX_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define CX_STATE_KEY_INLINE 24
#define CX_CONTACT_ID_INLINE 40
#define CX_STATE_MAX_RULES 16

enum {
  CX_CONTACT_ASSISTED = 1 << 0,  /* on an assisted channel */
  CX_CONTACT_ABANDONED = 1 << 1, /* outcome ABANDONED */
};

/* One CONTACT event kept for the sliding windows. */
typedef struct cx_contact_s {
  int64_t at_ms;     /* event time */
  int64_t wait_ms;   /* queue time, 0 when unknown */
  uint16_t id_len;   /* event_id length */
  uint8_t flags;     /* CX_CONTACT_* */
  union {
    char inline_id[CX_CONTACT_ID_INLINE]; /* when id_len < CX_CONTACT_ID_INLINE */
    char *heap_id;                        /* otherwise, owned */
  } id;
} cx_contact_t;

typedef struct cx_customer_s {
  uint64_t key_hash;         /* XXH3-64 of the customer id */
  uint32_t key_len;          /* customer id length */
  uint32_t contact_count;    /* contacts in use, sorted by at_ms then arrival */
  uint32_t contact_capacity; /* contacts allocated */
  union {
    char inline_key[CX_STATE_KEY_INLINE]; /* when key_len < CX_STATE_KEY_INLINE */
    char *heap_key;                       /* otherwise, owned */
  } key;
  int64_t last_event_ms;     /* largest event time seen for this customer */
  int64_t quiet_until_ms[CX_STATE_MAX_RULES]; /* per rule: cooldown end (INT64_MIN = none) */
  cx_contact_t *contacts;    /* owned */
} cx_customer_t;

typedef struct cx_state_s cx_state_t;

cx_state_t *cx_state_new(void);
void cx_state_destroy(cx_state_t *state);

/* XXH3-64 of a key; hash once per event and pass it along. */
uint64_t cx_state_hash(cx_str_t key);

/* Finds or creates the customer. The pointer is valid until the next call
 * that may add or remove customers. Returns NULL only when out of memory. */
cx_customer_t *cx_state_upsert(cx_state_t *state, cx_str_t key, uint64_t key_hash);
/* Finds the customer or returns NULL. */
cx_customer_t *cx_state_find(const cx_state_t *state, cx_str_t key, uint64_t key_hash);

cx_str_t cx_customer_key(const cx_customer_t *customer);
cx_str_t cx_contact_id(const cx_contact_t *contact);

/* Inserts a contact in time order (after those with an equal time), then
 * drops contacts at or before retain_after_ms. Returns its index, or -1 when
 * out of memory. */
long cx_customer_add_contact(cx_customer_t *customer, int64_t at_ms, int64_t wait_ms,
                             uint8_t flags, cx_str_t event_id, int64_t retain_after_ms);

/* Removes customers whose last event is before idle_before_ms. Returns how
 * many were removed. */
size_t cx_state_evict_idle(cx_state_t *state, int64_t idle_before_ms);

size_t cx_state_customer_count(const cx_state_t *state);
/* Heap bytes held by the store (table, records, contacts, long keys and ids). */
size_t cx_state_bytes(const cx_state_t *state);

#endif
