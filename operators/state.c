/* Per-partition keyed state (see state.h). The table holds index + 1 of a
 * customer record (0 = empty slot); records live in one dense array with a
 * free list, so a lookup touches the table slot and one record. */
#include "state.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

struct cx_state_s {
  uint32_t *slots;            /* open-addressing table: record index + 1, 0 = empty */
  size_t slot_mask;           /* table size - 1 (power of two) */
  cx_customer_t *records;     /* dense array of records */
  size_t record_count;        /* records handed out, including free ones */
  size_t record_capacity;     /* records allocated */
  uint32_t *free_records;     /* indexes of records free for reuse */
  size_t free_count;          /* entries in free_records */
  size_t customer_count;      /* live customers */
  size_t heap_bytes;          /* long keys (contacts are counted on demand) */
};

#define INITIAL_SLOTS 1024

cx_state_t *cx_state_new(void) {
  cx_state_t *state = calloc(1, sizeof(*state));
  if (!state)
    return NULL;
  state->slots = calloc(INITIAL_SLOTS, sizeof(*state->slots));
  if (!state->slots) {
    free(state);
    return NULL;
  }
  state->slot_mask = INITIAL_SLOTS - 1;
  return state;
}

static void customer_release(cx_state_t *state, cx_customer_t *customer) {
  for (uint32_t i = 0; i < customer->contact_count; i++)
    if (customer->contacts[i].id_len >= CX_CONTACT_ID_INLINE)
      free(customer->contacts[i].id.heap_id);
  free(customer->contacts);
  if (customer->key_len >= CX_STATE_KEY_INLINE) {
    free(customer->key.heap_key);
    state->heap_bytes -= customer->key_len;
  }
  memset(customer, 0, sizeof(*customer));
}

void cx_state_destroy(cx_state_t *state) {
  if (!state)
    return;
  for (size_t i = 0; i < state->record_count; i++)
    if (state->records[i].key_len)
      customer_release(state, &state->records[i]);
  free(state->records);
  free(state->free_records);
  free(state->slots);
  free(state);
}

uint64_t cx_state_hash(cx_str_t key) {
  return XXH3_64bits(key.ptr, key.len);
}

cx_str_t cx_customer_key(const cx_customer_t *customer) {
  cx_str_t s;
  s.ptr = customer->key_len < CX_STATE_KEY_INLINE ? customer->key.inline_key
                                                 : customer->key.heap_key;
  s.len = customer->key_len;
  return s;
}

cx_str_t cx_contact_id(const cx_contact_t *contact) {
  cx_str_t s;
  s.ptr = contact->id_len < CX_CONTACT_ID_INLINE ? contact->id.inline_id
                                                : contact->id.heap_id;
  s.len = contact->id_len;
  return s;
}

static bool key_equals(const cx_customer_t *customer, cx_str_t key, uint64_t key_hash) {
  if (customer->key_hash != key_hash || customer->key_len != key.len)
    return false;
  return memcmp(cx_customer_key(customer).ptr, key.ptr, key.len) == 0;
}

/* Slot holding the key, or the empty slot where it would go. */
static size_t probe(const cx_state_t *state, cx_str_t key, uint64_t key_hash) {
  size_t slot = (size_t)key_hash & state->slot_mask;
  for (;;) {
    uint32_t entry = state->slots[slot];
    if (entry == 0 || key_equals(&state->records[entry - 1], key, key_hash))
      return slot;
    slot = (slot + 1) & state->slot_mask;
  }
}

cx_customer_t *cx_state_find(const cx_state_t *state, cx_str_t key, uint64_t key_hash) {
  uint32_t entry = state->slots[probe(state, key, key_hash)];
  return entry ? &state->records[entry - 1] : NULL;
}

static int grow_table(cx_state_t *state) {
  size_t new_size = (state->slot_mask + 1) * 2;
  uint32_t *slots = calloc(new_size, sizeof(*slots));
  if (!slots)
    return -1;
  for (size_t i = 0; i <= state->slot_mask; i++) {
    uint32_t entry = state->slots[i];
    if (!entry)
      continue;
    size_t slot = (size_t)state->records[entry - 1].key_hash & (new_size - 1);
    while (slots[slot])
      slot = (slot + 1) & (new_size - 1);
    slots[slot] = entry;
  }
  free(state->slots);
  state->slots = slots;
  state->slot_mask = new_size - 1;
  return 0;
}

static long take_record(cx_state_t *state) {
  if (state->free_count)
    return state->free_records[--state->free_count];
  if (state->record_count == state->record_capacity) {
    size_t capacity = state->record_capacity ? state->record_capacity * 2 : 256;
    if (capacity > UINT32_MAX - 1)
      return -1;
    cx_customer_t *records = realloc(state->records, capacity * sizeof(*records));
    if (!records)
      return -1;
    state->records = records;
    /* The free list can hold every record, so eviction never allocates. */
    uint32_t *free_records = realloc(state->free_records, capacity * sizeof(*free_records));
    if (!free_records)
      return -1;
    state->free_records = free_records;
    state->record_capacity = capacity;
  }
  return (long)state->record_count++;
}

cx_customer_t *cx_state_upsert(cx_state_t *state, cx_str_t key, uint64_t key_hash) {
  size_t slot = probe(state, key, key_hash);
  if (state->slots[slot])
    return &state->records[state->slots[slot] - 1];
  /* Keep the load factor under 3/4 so probes stay short. */
  if ((state->customer_count + 1) * 4 > (state->slot_mask + 1) * 3) {
    if (grow_table(state))
      return NULL;
    slot = probe(state, key, key_hash);
  }
  long index = take_record(state);
  if (index < 0)
    return NULL;
  cx_customer_t *customer = &state->records[index];
  memset(customer, 0, sizeof(*customer));
  customer->key_hash = key_hash;
  customer->key_len = (uint32_t)key.len;
  if (key.len < CX_STATE_KEY_INLINE) {
    memcpy(customer->key.inline_key, key.ptr, key.len);
  } else {
    customer->key.heap_key = malloc(key.len);
    if (!customer->key.heap_key) {
      customer->key_len = 0;
      state->free_records[state->free_count++] = (uint32_t)index;
      return NULL;
    }
    memcpy(customer->key.heap_key, key.ptr, key.len);
    state->heap_bytes += key.len;
  }
  customer->last_event_ms = INT64_MIN;
  for (int i = 0; i < CX_STATE_MAX_RULES; i++)
    customer->quiet_until_ms[i] = INT64_MIN;
  state->slots[slot] = (uint32_t)index + 1;
  state->customer_count++;
  return customer;
}

long cx_customer_add_contact(cx_customer_t *customer, int64_t at_ms, int64_t wait_ms,
                             uint8_t flags, cx_str_t event_id, int64_t retain_after_ms) {
  /* Contacts are few per customer: drop expired ones from the front first. */
  uint32_t drop = 0;
  while (drop < customer->contact_count && customer->contacts[drop].at_ms <= retain_after_ms)
    drop++;
  if (drop) {
    for (uint32_t i = 0; i < drop; i++)
      if (customer->contacts[i].id_len >= CX_CONTACT_ID_INLINE)
        free(customer->contacts[i].id.heap_id);
    memmove(customer->contacts, customer->contacts + drop,
            (customer->contact_count - drop) * sizeof(cx_contact_t));
    customer->contact_count -= drop;
  }
  if (customer->contact_count == customer->contact_capacity) {
    uint32_t capacity = customer->contact_capacity ? customer->contact_capacity * 2 : 4;
    cx_contact_t *contacts = realloc(customer->contacts, capacity * sizeof(*contacts));
    if (!contacts)
      return -1;
    customer->contacts = contacts;
    customer->contact_capacity = capacity;
  }
  uint32_t pos = customer->contact_count;
  while (pos > 0 && customer->contacts[pos - 1].at_ms > at_ms)
    pos--;
  memmove(customer->contacts + pos + 1, customer->contacts + pos,
          (customer->contact_count - pos) * sizeof(cx_contact_t));
  cx_contact_t *contact = &customer->contacts[pos];
  contact->at_ms = at_ms;
  contact->wait_ms = wait_ms;
  contact->flags = flags;
  size_t id_len = event_id.len > UINT16_MAX ? UINT16_MAX : event_id.len;
  contact->id_len = (uint16_t)id_len;
  if (id_len < CX_CONTACT_ID_INLINE) {
    memcpy(contact->id.inline_id, event_id.ptr, id_len);
  } else {
    contact->id.heap_id = malloc(id_len);
    if (!contact->id.heap_id) {
      memmove(customer->contacts + pos, customer->contacts + pos + 1,
              (customer->contact_count - pos) * sizeof(cx_contact_t));
      return -1;
    }
    memcpy(contact->id.heap_id, event_id.ptr, id_len);
  }
  customer->contact_count++;
  return (long)pos;
}

/* Backward-shift deletion keeps every probe chain unbroken without tombstones. */
static void remove_slot(cx_state_t *state, size_t slot) {
  size_t hole = slot;
  size_t next = (hole + 1) & state->slot_mask;
  while (state->slots[next]) {
    size_t home = (size_t)state->records[state->slots[next] - 1].key_hash & state->slot_mask;
    /* Move the entry back if the hole lies between its home and its slot. */
    if (((next - home) & state->slot_mask) >= ((next - hole) & state->slot_mask)) {
      state->slots[hole] = state->slots[next];
      hole = next;
    }
    next = (next + 1) & state->slot_mask;
  }
  state->slots[hole] = 0;
}

size_t cx_state_evict_idle(cx_state_t *state, int64_t idle_before_ms) {
  size_t removed = 0;
  for (size_t slot = 0; slot <= state->slot_mask;) {
    uint32_t entry = state->slots[slot];
    if (!entry || state->records[entry - 1].last_event_ms >= idle_before_ms) {
      slot++;
      continue;
    }
    cx_customer_t *customer = &state->records[entry - 1];
    customer_release(state, customer);
    state->free_records[state->free_count++] = entry - 1;
    remove_slot(state, slot);
    state->customer_count--;
    removed++;
    /* The shift may have moved another entry into this slot: look again. */
  }
  return removed;
}

size_t cx_state_customer_count(const cx_state_t *state) {
  return state->customer_count;
}

size_t cx_state_bytes(const cx_state_t *state) {
  size_t bytes = sizeof(*state) + (state->slot_mask + 1) * sizeof(uint32_t) +
                 state->record_capacity * sizeof(cx_customer_t) +
                 state->record_capacity * sizeof(uint32_t) + state->heap_bytes;
  for (size_t i = 0; i < state->record_count; i++) {
    const cx_customer_t *customer = &state->records[i];
    bytes += customer->contact_capacity * sizeof(cx_contact_t);
    for (uint32_t c = 0; c < customer->contact_count; c++)
      if (customer->contacts[c].id_len >= CX_CONTACT_ID_INLINE)
        bytes += customer->contacts[c].id_len;
  }
  return bytes;
}
