/* Per-partition keyed state (see state.h). The table holds index + 1 of a
 * hot customer's record (0 = empty slot), or COLD | its directory id for a
 * cold one; records live in chunks that double the capacity without moving
 * any record, with a free list, so a lookup touches the table slot and one
 * record. Once compaction starts (the first cx_state_compact), every
 * customer, hot or cold, also has a directory entry whose id is stable
 * while it is in the table (timers and the changed list hold it): the entry
 * gives its generation and either its record or its cold blob
 * (state_cold.h); before that (and so in a table never compacted, which
 * then pays nothing for it) a customer's id is its record index and the
 * record keeps the generation, and the directory starts as that mapping.
 * Hot customers are listed once each in a queue that cx_state_compact
 * walks to find the idle ones. */
#include "state.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "state_cold.h"

#define FIRST_CHUNK_SHIFT 8 /* chunk 0: 256 records */
#define CHUNKS (32 - FIRST_CHUNK_SHIFT + 1) /* up to 2^32 records */
#define COLD 0x80000000u    /* a slot entry with this bit: COLD | directory id */
#define REF_COLD 0x80000000u /* dir_entry_t.ref of a cold customer: REF_COLD | blob handle */
#define REF_FREE 0xc0000000u /* of a free id: REF_FREE | next free id + 1 */
#define REF_TAG 0xc0000000u
#define IDS_MAX ((size_t)1 << 30) /* a free id's link fits beside REF_FREE */

/* A hot customer in the compaction queue: it cannot be idle before due_ms. */
typedef struct queue_item_s {
  int64_t due_ms;  /* cx_state_compact's now_ms from which it may be idle */
  uint32_t record; /* its record index */
  uint32_t id;     /* its id (a stale item, of a customer gone or cold, is skipped) */
} queue_item_t;

/* A customer's directory entry (8 bytes). */
typedef struct dir_entry_s {
  uint32_t generation; /* bumped each time the id is given to a customer */
  uint32_t ref;        /* hot: record index + 1 (< REF_COLD); cold: REF_COLD | its blob's
                          handle in cold_store; free: REF_FREE | next free id + 1 */
} dir_entry_t;

/* A hot customer's record index + 1, else 0. */
static inline uint32_t dir_record(const dir_entry_t *entry) {
  return entry->ref < REF_COLD ? entry->ref : 0;
}

static inline bool dir_is_free(const dir_entry_t *entry) {
  return (entry->ref & REF_TAG) == REF_FREE;
}

struct cx_state_s {
  uint64_t *slots;            /* open-addressing table: the key hash's high 32 bits (a tag
                                 that spares most probes a look at the record, and the
                                 home slot) | record index + 1 in the low 32; 0 = empty */
  size_t slot_mask;           /* table size - 1 (power of two) */
  cx_customer_t *chunks[CHUNKS]; /* records: chunk 0 holds records 0..255, chunk k >= 1
                                 holds 2^(k+7) records from 2^(k+7) on, so growing never
                                 moves a record (no copy, no second array while it grows) */
  size_t chunk_count;         /* chunks allocated */
  size_t record_count;        /* records handed out, including free ones */
  size_t record_capacity;     /* records allocated: 256 << (chunk_count - 1) */
  uint32_t free_head;         /* first record free for reuse, index + 1 (0 = none); a free
                                 record's event_count holds the next one the same way */
  dir_entry_t *dir_chunks[CHUNKS]; /* directory, chunked as the records */
  size_t dir_chunk_count;     /* directory chunks allocated */
  size_t dir_count;           /* ids handed out, including free ones */
  size_t dir_capacity;        /* ids allocated */
  uint32_t dir_free_head;     /* first free id + 1 (0 = none) */
  queue_item_t *queue;        /* hot customers to look at, a ring in about due order */
  size_t queue_head, queue_len, queue_capacity; /* first entry, entries, size (power of two) */
  int64_t now_ms;             /* the time of the last cx_state_compact (INT64_MIN: none) */
  int64_t idle_ms;            /* its idle time */
  bool compacting;            /* cx_state_compact was called: the queue is kept */
  bool has_pending;           /* pending below is set */
  queue_item_t pending;       /* the customer a lookup made hot last: queued at the next
                                 cx_state_compact or lookup, once its event is applied */
  uint32_t recold;            /* id + 1 of a customer made hot only to be read (by
                                 cx_state_at), compacted again at the next call; 0 = none */
  size_t cold_count;          /* customers kept cold */
  cx_state_cold_store_t cold_store; /* their blobs */
  cx_state_codec_buf_t scratch; /* encoding buffer for compaction */
  size_t customer_count;      /* live customers, hot and cold */
  size_t heap_bytes;          /* long keys (contacts are counted on demand) */
  size_t walk_next;           /* cx_state_bytes_walk: the next record to look at */
  size_t walk_sum;            /* its sum so far over records below walk_next */
  size_t walked_bytes;        /* the sum of the last walk completed */
  bool walked;                /* a walk has completed */
  size_t max_customers;       /* state.max.customers; 0 = no bound, no recency list */
  uint32_t *lru;              /* under a bound: customer id i's recency links at [2i]
                                 (previous) and [2i + 1] (next), id + 1, 0 = end; NULL
                                 otherwise (hot and cold customers alike) */
  uint32_t lru_head, lru_tail; /* recency list: least / most recently active, id + 1 */
  uint64_t limit_evictions;   /* customers evicted to stay within max_customers */
  void (*evicted)(const cx_customer_t *customer, void *opaque); /* told before a bound eviction */
  void *evicted_opaque;       /* passed to evicted */
};

#define INITIAL_SLOTS 1024

/* Record i: in chunk 0 below 256, else in the chunk of its highest bit. */
static inline cx_customer_t *record_at(const cx_state_t *state, size_t index) {
  if (index < ((size_t)1 << FIRST_CHUNK_SHIFT))
    return &state->chunks[0][index];
  int high = 63 - __builtin_clzll((unsigned long long)index);
  return &state->chunks[high - FIRST_CHUNK_SHIFT + 1][index - ((size_t)1 << high)];
}

/* Entry i of the directory: the same chunk layout as the records. */
static inline dir_entry_t *dir_at(const cx_state_t *state, size_t id);

/* A cold customer's blob. */
static inline uint8_t *cold_blob(const cx_state_t *state, const dir_entry_t *entry) {
  return cx_state_cold_store_at(&state->cold_store, entry->ref & ~REF_TAG);
}

/* Gives back a cold customer's blob (the entry is left to the caller). */
static void drop_blob(cx_state_t *state, dir_entry_t *entry) {
  cx_state_cold_store_free(&state->cold_store, entry->ref & ~REF_TAG,
                           cx_state_cold_size(cold_blob(state, entry)));
  state->cold_count--;
}

static inline dir_entry_t *dir_at(const cx_state_t *state, size_t id) {
  if (id < ((size_t)1 << FIRST_CHUNK_SHIFT))
    return &state->dir_chunks[0][id];
  int high = 63 - __builtin_clzll((unsigned long long)id);
  return &state->dir_chunks[high - FIRST_CHUNK_SHIFT + 1][id - ((size_t)1 << high)];
}

static inline uint32_t slot_entry(uint64_t slot) {
  return (uint32_t)slot;
}

static inline uint64_t slot_make(uint32_t entry, uint64_t key_hash) {
  return (key_hash & 0xffffffff00000000ULL) | entry;
}

/* A key's home slot comes from the same high 32 bits as the tag, so moving
 * an entry (growing, deleting) needs only the slot, never the record. */
static inline size_t slot_home(uint64_t key_hash_or_slot, size_t mask) {
  return (size_t)(key_hash_or_slot >> 32) & mask;
}

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
  state->now_ms = INT64_MIN;
  return state;
}

/* Frees what a customer record owns: its log (and long ids), a long key and
 * its extension blocks. */
static void release_heap(cx_customer_t *customer) {
  free(customer->log);
  if (customer->key_len >= CX_STATE_KEY_INLINE)
    free(customer->key.heap_key);
  free(customer->rules);
  free(customer->signals);
  free(customer->sessions);
  if (customer->digital)
    cx_window_days_release(&customer->digital->days);
  free(customer->digital);
  free(customer->cases);
  free(customer->profile);
}

/* Extension blocks: a customer without one reads the shared default. */
static const cx_customer_rules_t default_rules = {
#define CX__X(id, name, kind) [CX_RULE_##id] = INT64_MIN,
    .quiet_until_ms = {CX_RULE_MAP(CX__X)},
#undef CX__X
    .last_frustration_alert_ms = INT64_MIN,
};
static const cx_signals_state_t default_signals;
static const cx_digital_session_t default_session;
static const cx_digital_state_t default_digital;
static const cx_case_slot_t default_case;
static const cx_profile_state_t default_profile;

#define EXTENSION(name, type, defaults) \
  const type *cx_customer_##name(const cx_customer_t *customer) { \
    return customer->name ? customer->name : &defaults; \
  } \
  type *cx_customer_##name##_mut(cx_customer_t *customer) { \
    if (!customer->name) { \
      customer->name = malloc(sizeof(type)); \
      if (customer->name) \
        *customer->name = defaults; \
    } \
    return customer->name; \
  }
EXTENSION(rules, cx_customer_rules_t, default_rules)
EXTENSION(signals, cx_signals_state_t, default_signals)
EXTENSION(profile, cx_profile_state_t, default_profile)
#undef EXTENSION

/* engagement_drop's block ends in its last id, sized to it
 * (cx_digital_state_size): allocated, or grown, with room for the id the
 * caller is about to keep. */
const cx_digital_state_t *cx_customer_digital(const cx_customer_t *customer) {
  return customer->digital ? customer->digital : &default_digital;
}

cx_digital_state_t *cx_customer_digital_mut_room(cx_customer_t *customer, size_t id_len) {
  cx_digital_state_t *digital = customer->digital;
  if (digital && id_len <= digital->last_id_room)
    return digital;
  size_t size = cx_digital_state_size(id_len);
  if (!digital) {
    digital = malloc(size);
    if (!digital)
      return NULL;
    memset(digital, 0, offsetof(cx_digital_state_t, last_id));
  } else if (!(digital = realloc(digital, size))) {
    return NULL;
  }
  digital->last_id_room = (uint8_t)(size - offsetof(cx_digital_state_t, last_id));
  return customer->digital = digital;
}

cx_digital_state_t *cx_customer_digital_mut(cx_customer_t *customer) {
  return cx_customer_digital_mut_room(customer, 0);
}

const cx_digital_session_t *cx_customer_session(const cx_customer_t *customer, int i) {
  return i < customer->session_slots ? &customer->sessions[i] : &default_session;
}

/* array (count slots of slot_size bytes) grown to slots, the new ones zero
 * and *count updated; NULL when out of memory (array and *count unchanged). */
static void *grow_slots(void *array, uint8_t *count, int slots, size_t slot_size) {
  if (slots <= *count)
    return array;
  uint8_t *grown = realloc(array, (size_t)slots * slot_size);
  if (!grown)
    return NULL;
  memset(grown + (size_t)*count * slot_size, 0, (size_t)(slots - *count) * slot_size);
  *count = (uint8_t)slots;
  return grown;
}

cx_digital_session_t *cx_customer_sessions_mut(cx_customer_t *customer, int slots) {
  cx_digital_session_t *sessions = grow_slots(customer->sessions, &customer->session_slots,
                                              slots, sizeof(*sessions));
  if (sessions)
    customer->sessions = sessions;
  return sessions;
}

const cx_case_slot_t *cx_customer_case(const cx_customer_t *customer, int i) {
  return i < customer->case_slots ? &customer->cases[i] : &default_case;
}

cx_case_slot_t *cx_customer_cases_mut(cx_customer_t *customer, int slots) {
  cx_case_slot_t *cases = grow_slots(customer->cases, &customer->case_slots, slots,
                                     sizeof(*cases));
  if (cases)
    customer->cases = cases;
  return cases;
}

size_t cx_customer_ext_bytes(const cx_customer_t *customer) {
  return (customer->rules ? sizeof(*customer->rules) : 0) +
         (customer->signals ? sizeof(*customer->signals) : 0) +
         customer->session_slots * sizeof(cx_digital_session_t) +
         (customer->digital ? offsetof(cx_digital_state_t, last_id) +
                                  customer->digital->last_id_room +
                                  cx_window_days_heap_bytes(&customer->digital->days) : 0) +
         customer->case_slots * sizeof(cx_case_slot_t) +
         (customer->profile ? sizeof(*customer->profile) : 0);
}

/* The recency list links records by index + 1 (0 = none) in a side array
 * kept only under a bound, so it costs unbounded tables nothing and
 * survives the records array moving when it grows. */
static void lru_unlink(cx_state_t *state, uint32_t index) {
  uint32_t *links = state->lru;
  uint32_t prev = links[2 * index], next = links[2 * index + 1], self = index + 1;
  if (prev)
    links[2 * (prev - 1) + 1] = next;
  else if (state->lru_head == self)
    state->lru_head = next;
  if (next)
    links[2 * (next - 1)] = prev;
  else if (state->lru_tail == self)
    state->lru_tail = prev;
  links[2 * index] = links[2 * index + 1] = 0;
}

static void lru_push_tail(cx_state_t *state, uint32_t index) {
  uint32_t *links = state->lru, self = index + 1;
  links[2 * index] = state->lru_tail;
  links[2 * index + 1] = 0;
  if (state->lru_tail)
    links[2 * (state->lru_tail - 1) + 1] = self;
  else
    state->lru_head = self;
  state->lru_tail = self;
}

/* The record index of a hot customer (its directory entry says). */
static uint32_t record_of(const cx_state_t *state, const cx_customer_t *customer) {
  return state->compacting ? dir_at(state, customer->index)->ref - 1 : customer->index;
}

/* Puts a released (zeroed) record on the free list. */
static void free_record(cx_state_t *state, uint32_t index) {
  record_at(state, index)->event_count = state->free_head;
  state->free_head = index + 1;
}

/* Frees a hot customer's heap parts and zeroes its record but for its
 * generation and index (before compaction, its id: timers set before can
 * tell it was reused); its directory entry and recency links are the
 * caller's. */
static void customer_release(cx_state_t *state, cx_customer_t *customer) {
  if (customer->key_len >= CX_STATE_KEY_INLINE)
    state->heap_bytes -= customer->key_len;
  release_heap(customer);
  uint32_t generation = customer->generation, index = customer->index;
  memset(customer, 0, sizeof(*customer));
  customer->generation = generation;
  customer->index = index;
}

/* A directory id for a new customer (its generation bumped), or -1. */
static long take_id(cx_state_t *state) {
  uint32_t id;
  if (state->dir_free_head) {
    id = state->dir_free_head - 1;
    state->dir_free_head = dir_at(state, id)->ref & ~REF_TAG;
  } else {
    if (state->dir_count == state->dir_capacity) {
      size_t capacity = state->dir_capacity ? state->dir_capacity * 2
                                            : (size_t)1 << FIRST_CHUNK_SHIFT;
      if (capacity > IDS_MAX || state->dir_chunk_count == CHUNKS)
        return -1;
      if (state->lru) {
        uint32_t *links = realloc(state->lru, capacity * 2 * sizeof(*links));
        if (!links)
          return -1;
        memset(links + 2 * state->dir_capacity, 0,
               (capacity - state->dir_capacity) * 2 * sizeof(*links));
        state->lru = links;
      }
      dir_entry_t *chunk = calloc(capacity - state->dir_capacity, sizeof(*chunk));
      if (!chunk)
        return -1;
      state->dir_chunks[state->dir_chunk_count++] = chunk;
      state->dir_capacity = capacity;
    }
    id = (uint32_t)state->dir_count++;
  }
  dir_entry_t *entry = dir_at(state, id);
  entry->generation++;
  entry->ref = 0;
  return id;
}

static void free_id(cx_state_t *state, uint32_t id) {
  if (!state->compacting)
    return; /* the id was the record's */
  dir_entry_t *entry = dir_at(state, id);
  entry->ref = REF_FREE | state->dir_free_head;
  state->dir_free_head = id + 1;
  if (state->recold == id + 1)
    state->recold = 0;
}

/* Appends a hot customer to the compaction queue; false when out of memory
 * (it then stays hot until it is removed: never wrong, only larger). */
/* Whether a queue item still names a hot customer (else it is skipped). */
static bool queue_item_live(const cx_state_t *state, const queue_item_t *item) {
  if (item->record >= state->record_count)
    return false;
  const cx_customer_t *customer = record_at(state, item->record);
  /* A live record's id names it in the directory (dir_at(id)->ref). */
  return customer->key_len && customer->index == item->id;
}

/* Drops the stale items (customers removed or compacted since), in place. */
static void queue_purge(cx_state_t *state) {
  size_t mask = state->queue_capacity - 1, kept = 0;
  for (size_t i = 0; i < state->queue_len; i++) {
    queue_item_t item = state->queue[(state->queue_head + i) & mask];
    if (queue_item_live(state, &item))
      state->queue[(state->queue_head + kept++) & mask] = item;
  }
  state->queue_len = kept;
}

static bool queue_push_due(cx_state_t *state, uint32_t record, uint32_t id, int64_t due_ms) {
  if (!state->compacting)
    return true; /* listed when compaction starts */
  if (state->queue_len == state->queue_capacity) {
    if (state->queue_capacity)
      queue_purge(state);
    /* Grow only when more than half of it is live (no room is kept for stale items). */
    if (!state->queue_capacity || state->queue_len * 2 > state->queue_capacity) {
      size_t capacity = state->queue_capacity ? state->queue_capacity * 2 : 1024;
      queue_item_t *grown = malloc(capacity * sizeof(*grown));
      if (!grown)
        return false;
      for (size_t i = 0; i < state->queue_len; i++)
        grown[i] = state->queue[(state->queue_head + i) & (state->queue_capacity - 1)];
      free(state->queue);
      state->queue = grown;
      state->queue_head = 0;
      state->queue_capacity = capacity;
    }
  }
  state->queue[(state->queue_head + state->queue_len++) & (state->queue_capacity - 1)] =
      (queue_item_t){due_ms, record, id};
  return true;
}

/* When a hot customer may be idle: once now_ms passes its last event by
 * more than the idle time (idle time 0: at once). */
static int64_t due_of(const cx_state_t *state, const cx_customer_t *customer) {
  if (state->idle_ms == 0)
    return INT64_MIN;
  return customer->last_event_ms > INT64_MAX - state->idle_ms - 1
             ? INT64_MAX
             : customer->last_event_ms + state->idle_ms + 1;
}

/* Queues the pending customer, its event applied by now. */
static void queue_flush(cx_state_t *state) {
  if (!state->has_pending)
    return;
  state->has_pending = false;
  if (queue_item_live(state, &state->pending))
    (void)queue_push_due(state, state->pending.record, state->pending.id,
                         due_of(state, record_at(state, state->pending.record)));
}

/* A customer made hot by a lookup: queued once the caller has applied its
 * event (at the next lookup or cx_state_compact), so that its due time is
 * known. */
static bool queue_push(cx_state_t *state, uint32_t record, uint32_t id) {
  if (!state->compacting)
    return true;
  queue_flush(state);
  state->pending = (queue_item_t){0, record, id};
  state->has_pending = true;
  return true;
}

void cx_state_destroy(cx_state_t *state) {
  if (!state)
    return;
  for (size_t i = 0; i < state->record_count; i++)
    if (record_at(state, i)->key_len)
      customer_release(state, record_at(state, i));
  cx_state_cold_store_destroy(&state->cold_store);
  for (size_t i = 0; i < state->chunk_count; i++)
    free(state->chunks[i]);
  for (size_t i = 0; i < state->dir_chunk_count; i++)
    free(state->dir_chunks[i]);
  cx_state_codec_buf_free(&state->scratch);
  free(state->queue);
  free(state->lru);
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


/* The slot's tag matched the hash's high 32 bits already; records keep no
 * hash (8 bytes a customer): the key decides. */
static bool key_equals(const cx_customer_t *customer, cx_str_t key) {
  if (customer->key_len != key.len)
    return false;
  return memcmp(cx_customer_key(customer).ptr, key.ptr, key.len) == 0;
}

/* A cold customer's key is the first field of its blob. */
static bool cold_key_equals(const cx_state_t *state, uint32_t id, cx_str_t key) {
  cx_str_t cold_key;
  int64_t last_event_ms;
  cx_state_cold_peek(cold_blob(state, dir_at(state, id)), &cold_key, &last_event_ms);
  return cold_key.len == key.len && memcmp(cold_key.ptr, key.ptr, key.len) == 0;
}

static bool entry_has_key(const cx_state_t *state, uint32_t entry, cx_str_t key) {
  return entry & COLD ? cold_key_equals(state, entry & ~COLD, key)
                      : key_equals(record_at(state, entry - 1), key);
}

/* Slot holding the key, or the empty slot where it would go. */
static size_t probe(const cx_state_t *state, cx_str_t key, uint64_t key_hash) {
  size_t slot = slot_home(key_hash, state->slot_mask);
  uint64_t tag = key_hash & 0xffffffff00000000ULL;
  for (;;) {
    uint64_t value = state->slots[slot];
    uint32_t entry = slot_entry(value);
    if (entry == 0 ||
        ((value & 0xffffffff00000000ULL) == tag && entry_has_key(state, entry, key)))
      return slot;
    slot = (slot + 1) & state->slot_mask;
  }
}

/* Makes the cold customer id hot again in slot (its table slot): decodes
 * its blob into a record. NULL when out of memory (it stays cold). */
static long take_record(cx_state_t *state);

static cx_customer_t *rehydrate(cx_state_t *state, uint32_t id, size_t slot) {
  dir_entry_t *entry = dir_at(state, id);
  cx_customer_t decoded;
  if (cx_state_cold_unpack(cold_blob(state, entry), &decoded))
    return NULL;
  long index = take_record(state);
  if (index < 0) {
    cx_customer_release(&decoded);
    return NULL;
  }
  cx_customer_t *customer = record_at(state, (size_t)index);
  *customer = decoded;
  customer->generation = entry->generation;
  customer->index = id;
  if (customer->key_len >= CX_STATE_KEY_INLINE)
    state->heap_bytes += customer->key_len;
  drop_blob(state, entry);
  entry->ref = (uint32_t)index + 1;
  state->slots[slot] = (state->slots[slot] & 0xffffffff00000000ULL) | ((uint32_t)index + 1);
  return customer;
}

/* The table slot of a customer in the table. */
static size_t slot_of(const cx_state_t *state, cx_str_t key) {
  size_t slot = probe(state, key, cx_state_hash(key));
  assert(slot_entry(state->slots[slot]) != 0);
  return slot;
}

/* Encodes a hot customer into its blob and gives back its record; false
 * (it stays hot) when out of memory. */
static bool compact(cx_state_t *state, cx_customer_t *customer) {
  size_t size;
  uint32_t handle;
  if (!cx_state_cold_pack_into(customer, &state->scratch, &state->cold_store, &handle, &size))
    return false;
  uint32_t id = customer->index, index = record_of(state, customer);
  size_t slot = slot_of(state, cx_customer_key(customer));
  state->slots[slot] = (state->slots[slot] & 0xffffffff00000000ULL) | COLD | id;
  dir_entry_t *entry = dir_at(state, id);
  entry->ref = REF_COLD | handle;
  state->cold_count++;
  customer_release(state, customer);
  free_record(state, index);
  return true;
}

/* Compacts again the customer cx_state_at made hot, unless it is keep (an
 * id, or UINT32_MAX for none). */
static void settle(cx_state_t *state, uint32_t keep) {
  uint32_t id = state->recold - 1;
  if (!state->recold || id == keep)
    return;
  state->recold = 0;
  dir_entry_t *entry = dir_at(state, id);
  if (dir_record(entry))
    (void)compact(state, record_at(state, dir_record(entry) - 1));
}

/* The customer in slot (an occupied one), hot: found by a lookup, so it is
 * listed for compaction again when it was cold. NULL when out of memory. */
static cx_customer_t *hot_in_slot(cx_state_t *state, size_t slot) {
  uint32_t entry = slot_entry(state->slots[slot]);
  if (!(entry & COLD)) {
    cx_customer_t *customer = record_at(state, entry - 1);
    if (state->recold && state->recold - 1 == customer->index) {
      state->recold = 0; /* read by cx_state_at, now used by an event: keep it hot */
      (void)queue_push(state, entry - 1, customer->index);
    } else {
      settle(state, UINT32_MAX);
    }
    return customer;
  }
  settle(state, UINT32_MAX);
  uint32_t id = entry & ~COLD;
  cx_customer_t *customer = rehydrate(state, id, slot);
  if (customer)
    (void)queue_push(state, record_of(state, customer), id);
  return customer;
}

void cx_state_prefetch_slot(const cx_state_t *state, uint64_t key_hash) {
  cx_prefetch_line(&state->slots[slot_home(key_hash, state->slot_mask)]);
}

/* For the hints: the entry of the first slot from the key's home slot whose
 * tag matches the key hash's, looking at HINT_PROBES slots at most (most
 * keys are at home or one or two slots on, at a load factor of up to 3/4),
 * and stopping at an empty one; 0 when none. Keys are not compared: on a tag
 * collision it is another customer's entry (a wasted prefetch). */
#define HINT_PROBES 4

static uint32_t hinted_entry(const cx_state_t *state, uint64_t key_hash) {
  size_t slot = slot_home(key_hash, state->slot_mask);
  for (int i = 0; i < HINT_PROBES; i++) {
    uint64_t value = state->slots[slot];
    if (!value)
      return 0;
    if (!((value ^ key_hash) >> 32))
      return slot_entry(value);
    slot = (slot + 1) & state->slot_mask;
  }
  return 0;
}

void cx_state_prefetch_record(const cx_state_t *state, uint64_t key_hash) {
  uint32_t entry = hinted_entry(state, key_hash);
  if (entry && !(entry & COLD)) {
    const char *record = (const char *)record_at(state, entry - 1);
    cx_prefetch_line(record);
    cx_prefetch_line(record + 64); /* a record is two lines (128 bytes) */
  } else if (entry & COLD) {
    /* Its blob, which the lookup decodes: the directory entry is a miss of
     * its own, taken here rather than in the lookup. */
    const uint8_t *blob = cold_blob(state, dir_at(state, entry & ~COLD));
    cx_prefetch_line(blob);
    cx_prefetch_line(blob + 64);
  }
}

const cx_customer_t *cx_state_peek(const cx_state_t *state, uint64_t key_hash) {
  uint32_t entry = hinted_entry(state, key_hash);
  if (!entry || entry & COLD)
    return NULL;
  return record_at(state, entry - 1); /* a live record: chunks never move or go */
}

cx_customer_t *cx_state_find(const cx_state_t *state, cx_str_t key, uint64_t key_hash) {
  size_t slot = probe(state, key, key_hash);
  if (!state->slots[slot])
    return NULL;
  /* Finding a cold customer makes it hot: the table is never const itself
   * (cx_state_new allocates it), only the callers' view of it. */
  return hot_in_slot((cx_state_t *)state, slot);
}

static int grow_table(cx_state_t *state) {
  size_t new_size = (state->slot_mask + 1) * 2;
  uint64_t *slots = calloc(new_size, sizeof(*slots));
  if (!slots)
    return -1;
  for (size_t i = 0; i <= state->slot_mask; i++) {
    uint32_t entry = slot_entry(state->slots[i]);
    if (!entry)
      continue;
    size_t slot = slot_home(state->slots[i], new_size - 1);
    while (slots[slot])
      slot = (slot + 1) & (new_size - 1);
    slots[slot] = state->slots[i];
  }
  free(state->slots);
  state->slots = slots;
  state->slot_mask = new_size - 1;
  return 0;
}

static long take_record(cx_state_t *state) {
  if (state->free_head) {
    uint32_t index = state->free_head - 1;
    state->free_head = (uint32_t)record_at(state, index)->event_count;
    return index;
  }
  if (state->record_count == state->record_capacity) {
    size_t capacity = state->record_capacity ? state->record_capacity * 2
                                             : (size_t)1 << FIRST_CHUNK_SHIFT;
    if (capacity > COLD - 1 || state->chunk_count == CHUNKS)
      return -1;
    if (state->lru && !state->compacting) { /* links by id, the record index until then */
      uint32_t *links = realloc(state->lru, capacity * 2 * sizeof(*links));
      if (!links)
        return -1;
      memset(links + 2 * state->record_capacity, 0,
             (capacity - state->record_capacity) * 2 * sizeof(*links));
      state->lru = links;
    }
    cx_customer_t *chunk = malloc((capacity - state->record_capacity) * sizeof(*chunk));
    if (!chunk)
      return -1;
    state->chunks[state->chunk_count++] = chunk;
    state->record_capacity = capacity;
  }
  cx_customer_t *record = record_at(state, state->record_count);
  memset(record, 0, sizeof(*record));
  return (long)state->record_count++;
}

static void remove_slot(cx_state_t *state, size_t slot);

/* Removes the customer in slot (an occupied one), calling evicted (may be
 * NULL) just before it goes; a cold customer is decoded for it (or, out of
 * memory, shown with its key only). */
static void remove_customer(cx_state_t *state, size_t slot,
                            void (*evicted)(const cx_customer_t *customer, void *opaque),
                            void *opaque) {
  uint32_t entry = slot_entry(state->slots[slot]), id;
  if (entry & COLD) {
    id = entry & ~COLD;
    dir_entry_t *dir = dir_at(state, id);
    if (evicted) {
      cx_customer_t decoded;
      if (cx_state_cold_unpack(cold_blob(state, dir), &decoded) == 0) {
        evicted(&decoded, opaque);
        cx_customer_release(&decoded);
      } else {
        cx_customer_t shown;
        int64_t last_event_ms;
        cx_str_t key;
        memset(&shown, 0, sizeof(shown));
        cx_state_cold_peek(cold_blob(state, dir), &key, &last_event_ms);
        shown.key_len = (uint32_t)key.len;
        if (key.len < CX_STATE_KEY_INLINE)
          memcpy(shown.key.inline_key, key.ptr, key.len);
        else
          shown.key.heap_key = (char *)(uintptr_t)key.ptr; /* borrowed, never freed */
        shown.last_event_ms = last_event_ms;
        evicted(&shown, opaque);
      }
    }
    drop_blob(state, dir);
    dir->ref = 0;
  } else {
    cx_customer_t *customer = record_at(state, entry - 1);
    id = customer->index;
    if (evicted)
      evicted(customer, opaque);
    customer_release(state, customer);
    free_record(state, entry - 1);
  }
  if (state->lru)
    lru_unlink(state, id);
  free_id(state, id);
  remove_slot(state, slot);
  state->customer_count--;
}

/* The key of the customer id (hot or cold). */
static cx_str_t key_of_id(const cx_state_t *state, uint32_t id) {
  if (!state->compacting)
    return cx_customer_key(record_at(state, id));
  const dir_entry_t *entry = dir_at(state, id);
  if (dir_record(entry))
    return cx_customer_key(record_at(state, dir_record(entry) - 1));
  cx_str_t key;
  int64_t last_event_ms;
  cx_state_cold_peek(cold_blob(state, entry), &key, &last_event_ms);
  return key;
}

/* A record and an id for a new customer, and its generation: before
 * compaction the id is the record's index and the record's generation goes
 * up; after, a directory entry names the record. Returns -1 when out of
 * memory (nothing taken). */
static int take_identity(cx_state_t *state, long *id, long *index, uint32_t *generation) {
  if (!state->compacting) {
    *index = take_record(state);
    if (*index < 0)
      return -1;
    *id = *index;
    *generation = record_at(state, (size_t)*index)->generation + 1;
    return 0;
  }
  *id = take_id(state);
  if (*id < 0)
    return -1;
  *index = take_record(state);
  if (*index < 0) {
    free_id(state, (uint32_t)*id);
    return -1;
  }
  dir_entry_t *entry = dir_at(state, (size_t)*id);
  entry->ref = (uint32_t)*index + 1;
  *generation = entry->generation;
  return 0;
}

/* Evicts the head of the recency list to make room for one more customer. */
static void evict_least_recent(cx_state_t *state) {
  size_t slot = slot_of(state, key_of_id(state, state->lru_head - 1));
  remove_customer(state, slot, state->evicted, state->evicted_opaque);
  state->limit_evictions++;
}

cx_customer_t *cx_state_upsert(cx_state_t *state, cx_str_t key, uint64_t key_hash) {
  size_t slot = probe(state, key, key_hash);
  if (state->slots[slot]) {
    cx_customer_t *found = hot_in_slot(state, slot);
    if (found && state->lru && state->lru_tail != found->index + 1) {
      lru_unlink(state, found->index);
      lru_push_tail(state, found->index);
    }
    return found;
  }
  settle(state, UINT32_MAX);
  slot = probe(state, key, key_hash); /* compacting never moves a slot, but be plain */
  if (state->max_customers && state->customer_count >= state->max_customers) {
    evict_least_recent(state);
    slot = probe(state, key, key_hash); /* the removal may have shifted the chain */
  }
  /* Keep the load factor under 3/4 so probes stay short. */
  if ((state->customer_count + 1) * 4 > (state->slot_mask + 1) * 3) {
    if (grow_table(state))
      return NULL;
    slot = probe(state, key, key_hash);
  }
  long id, index;
  uint32_t generation;
  if (take_identity(state, &id, &index, &generation))
    return NULL;
  cx_customer_t *customer = record_at(state, index);
  memset(customer, 0, sizeof(*customer));
  customer->generation = generation;
  customer->index = (uint32_t)id;
  customer->key_len = (uint32_t)key.len;
  if (key.len < CX_STATE_KEY_INLINE) {
    memcpy(customer->key.inline_key, key.ptr, key.len);
  } else {
    customer->key.heap_key = malloc(key.len);
    if (!customer->key.heap_key) {
      customer->key_len = 0;
      free_record(state, (uint32_t)index);
      free_id(state, (uint32_t)id);
      return NULL;
    }
    memcpy(customer->key.heap_key, key.ptr, key.len);
    state->heap_bytes += key.len;
  }
  customer->first_event_ms = INT64_MIN;
  customer->last_event_ms = INT64_MIN;
  customer->scores_at_ms = INT64_MIN;
  state->slots[slot] = slot_make((uint32_t)index + 1, key_hash);
  state->customer_count++;
  if (state->lru)
    lru_push_tail(state, (uint32_t)id);
  (void)queue_push(state, (uint32_t)index, (uint32_t)id);
  return customer;
}

/* The log is one block: a header, capacity entries, then a byte area of
 * bytes_capacity bytes holding each entry's wide times and id in entry
 * order, so an entry's bytes end where the next entry's begin. Resizes it
 * (never below what is in use), moving the byte area behind the entries. */
static int log_resize(cx_customer_t *customer, uint32_t entries, uint32_t bytes) {
  cx_interaction_log_t *log = customer->log;
  uint32_t old_entries = log ? log->capacity : 0, used = log ? log->bytes_len : 0;
  size_t size = sizeof(*log) + (size_t)entries * sizeof(cx_interaction_t) + bytes;
  log = realloc(log, size);
  if (!log)
    return -1;
  if (!customer->log)
    log->count = log->bytes_len = 0;
  memmove(log->entries + entries, log->entries + old_entries, used);
  log->capacity = entries;
  log->bytes_capacity = bytes;
  customer->log = log;
  return 0;
}

/* The size class an allocation of n bytes takes in jemalloc (its small
 * classes step by 16 bytes up to 128, then every class size has four
 * classes per doubling above it): a log grown to fill its class costs no
 * more than the log it holds, and grows less often. */
static uint64_t alloc_class(uint64_t n) {
  if (n <= 128)
    return (n + 15) & ~(uint64_t)15;
  uint64_t step = (uint64_t)1 << (63 - __builtin_clzll(n - 1) - 2);
  return (n + step - 1) & ~(step - 1);
}

/* Grows the log to at least min_entries entries and min_bytes bytes, and at
 * least by a quarter (fewer moves), up to the whole size class it then
 * takes: the class's slack goes to bytes, and to entries too when entries
 * had to grow, at the log's bytes per entry. */
static int log_grow(cx_customer_t *customer, uint32_t min_entries, uint64_t min_bytes) {
  const cx_interaction_log_t *log = customer->log;
  uint32_t capacity = log ? log->capacity : 0;
  uint64_t entries = capacity > min_entries ? capacity : min_entries;
  uint64_t bytes = log && log->bytes_capacity > min_bytes ? log->bytes_capacity : min_bytes;
  bytes = (bytes + 7) & ~(uint64_t)7; /* whole words */
  uint64_t size = sizeof(*log) + entries * sizeof(cx_interaction_t) + bytes;
  uint64_t old = log ? sizeof(*log) + (uint64_t)capacity * sizeof(cx_interaction_t) +
                           log->bytes_capacity : 0;
  uint64_t slack = alloc_class(size > old + old / 4 ? size : old + old / 4) - size;
  if (entries > capacity) {
    uint64_t per_entry = sizeof(cx_interaction_t) + bytes / entries;
    entries += slack / per_entry;
    slack %= per_entry;
  }
  bytes += slack;
  if (entries > UINT32_MAX || bytes > UINT32_MAX) { /* past the bounds: only what is needed */
    entries = capacity > min_entries ? capacity : min_entries;
    bytes = log && log->bytes_capacity > min_bytes ? log->bytes_capacity : min_bytes;
    if (bytes > UINT32_MAX)
      return -1;
  }
  return log_resize(customer, (uint32_t)entries, (uint32_t)bytes);
}

int cx_customer_reserve_interactions(cx_customer_t *customer, uint32_t entries) {
  if (entries <= cx_customer_interaction_capacity(customer))
    return 0;
  return log_resize(customer, entries, customer->log ? customer->log->bytes_capacity : 0);
}

/* Drops the first `drop` entries and their bytes. */
static void log_drop_front(cx_interaction_log_t *log, uint32_t drop) {
  cx_interaction_t *entries = log->entries;
  uint32_t count = log->count;
  uint32_t cut = drop < count ? entries[drop].bytes_offset : log->bytes_len;
  char *area = (char *)(entries + log->capacity);
  memmove(area, area + cut, log->bytes_len - cut);
  log->bytes_len -= cut;
  memmove(entries, entries + drop, (count - drop) * sizeof(cx_interaction_t));
  log->count = count - drop;
  for (uint32_t i = 0; i < log->count; i++)
    entries[i].bytes_offset -= cut;
}

static uint64_t hash_or_zero(cx_str_t s) {
  return s.ptr && s.len ? cx_state_hash(s) : 0;
}

bool cx_interaction_fields_from_event(const cx_event_t *event, cx_interaction_fields_t *fields) {
  if (event->type != CX_EVENT_CONTACT && event->type != CX_EVENT_SELF_SERVICE &&
      event->type != CX_EVENT_TRANSFER)
    return false;
  memset(fields, 0, sizeof(*fields));
  fields->at_ms = event->occurred_at_ms;
  fields->wait_ms = event->has_wait_ms && event->wait_ms > 0 ? event->wait_ms : 0;
  fields->handle_ms = event->has_handle_ms && event->handle_ms > 0 ? event->handle_ms : 0;
  fields->case_hash = hash_or_zero(event->case_id);
  fields->topic_hash = hash_or_zero(event->topic);
  fields->type = (uint8_t)event->type;
  fields->channel = (uint8_t)event->channel;
  fields->outcome = (uint8_t)event->outcome;
  if (cx_channel_is_assisted(event->channel))
    fields->flags |= CX_INTERACTION_ASSISTED;
  if (event->outcome == CX_OUTCOME_ABANDONED)
    fields->flags |= CX_INTERACTION_ABANDONED;
  return true;
}

long cx_customer_add_interaction(cx_customer_t *customer, const cx_interaction_fields_t *fields,
                                 cx_str_t event_id, int64_t retain_after_ms) {
  /* Logs are short per customer: drop expired entries from the front first. */
  cx_interaction_log_t *log = customer->log;
  uint32_t drop = 0;
  while (log && drop < log->count && log->entries[drop].at_ms <= retain_after_ms)
    drop++;
  if (drop)
    log_drop_front(log, drop);
  return cx_customer_insert_interaction(customer, fields, event_id);
}

long cx_customer_insert_interaction(cx_customer_t *customer,
                                    const cx_interaction_fields_t *fields, cx_str_t event_id) {
  uint16_t id_len = event_id.len > UINT16_MAX ? UINT16_MAX : (uint16_t)event_id.len;
  uint8_t wide = 0;
  uint32_t need = id_len;
  if ((uint64_t)fields->wait_ms > UINT32_MAX) {
    wide |= CX_INTERACTION_WIDE_WAIT;
    need += 8;
  }
  if ((uint64_t)fields->handle_ms > UINT32_MAX) {
    wide |= CX_INTERACTION_WIDE_HANDLE;
    need += 8;
  }
  uint32_t count = cx_customer_interaction_count(customer);
  uint32_t used = customer->log ? customer->log->bytes_len : 0;
  if (need > UINT32_MAX - used || count == UINT32_MAX)
    return -1;
  uint32_t bytes_capacity = customer->log ? customer->log->bytes_capacity : 0;
  if ((!customer->log || count == customer->log->capacity || need > bytes_capacity - used) &&
      log_grow(customer, count + 1, (uint64_t)used + need))
    return -1;
  cx_interaction_log_t *block = customer->log;
  cx_interaction_t *log = block->entries;
  uint32_t pos = count;
  while (pos > 0 && log[pos - 1].at_ms > fields->at_ms)
    pos--;
  uint32_t at = pos < count ? log[pos].bytes_offset : used;
  char *area = (char *)(log + block->capacity);
  memmove(area + at + need, area + at, used - at);
  memmove(log + pos + 1, log + pos, (count - pos) * sizeof(cx_interaction_t));
  for (uint32_t i = pos + 1; i <= count; i++)
    log[i].bytes_offset += need;
  cx_interaction_t *entry = &log[pos];
  memset(entry, 0, sizeof(*entry));
  entry->at_ms = fields->at_ms;
  entry->case_hash = fields->case_hash;
  entry->topic_hash = fields->topic_hash;
  entry->type = fields->type;
  entry->channel = fields->channel;
  entry->outcome = fields->outcome;
  entry->flags = fields->flags;
  entry->wide = wide;
  entry->id_len = id_len;
  entry->bytes_offset = at;
  char *bytes_at = area + at;
  if (wide & CX_INTERACTION_WIDE_WAIT) {
    memcpy(bytes_at, &fields->wait_ms, 8);
    bytes_at += 8;
  } else {
    entry->wait_ms = (uint32_t)fields->wait_ms;
  }
  if (wide & CX_INTERACTION_WIDE_HANDLE) {
    memcpy(bytes_at, &fields->handle_ms, 8);
    bytes_at += 8;
  } else {
    entry->handle_ms = (uint32_t)fields->handle_ms;
  }
  if (id_len)
    memcpy(bytes_at, event_id.ptr, id_len);
  block->bytes_len = used + need;
  block->count = count + 1;
  return (long)pos;
}

uint32_t cx_state_index_of(const cx_state_t *state, const cx_customer_t *customer) {
  (void)state;
  return customer->index;
}

cx_customer_t *cx_state_at(cx_state_t *state, uint32_t index, uint32_t generation) {
  if (!state->compacting) {
    if (index >= state->record_count)
      return NULL;
    cx_customer_t *customer = record_at(state, index);
    return customer->key_len && customer->generation == generation ? customer : NULL;
  }
  if (index >= state->dir_count)
    return NULL;
  dir_entry_t *entry = dir_at(state, index);
  if (dir_is_free(entry) || entry->generation != generation)
    return NULL;
  settle(state, index);
  if (dir_record(entry))
    return record_at(state, dir_record(entry) - 1);
  /* Cold: hot again only until the next call (settle), unless an event finds it. */
  cx_customer_t *customer = rehydrate(state, index, slot_of(state, key_of_id(state, index)));
  if (customer)
    state->recold = index + 1;
  return customer;
}

void cx_state_prefetch_at(const cx_state_t *state, uint32_t index, bool blocks) {
  if (state->compacting || index >= state->record_count)
    return; /* a directory entry: cold customers are decoded by cx_state_at anyway */
  const cx_customer_t *customer = record_at(state, index);
  if (blocks) {
    cx_customer_prefetch_blocks(customer);
  } else {
    cx_prefetch_line(customer);
    cx_prefetch_line((const char *)customer + 64);
  }
}

/* Backward-shift deletion keeps every probe chain unbroken without tombstones. */
static void remove_slot(cx_state_t *state, size_t slot) {
  size_t hole = slot;
  size_t next = (hole + 1) & state->slot_mask;
  while (state->slots[next]) {
    size_t home = slot_home(state->slots[next], state->slot_mask);
    /* Move the entry back if the hole lies between its home and its slot. */
    if (((next - home) & state->slot_mask) >= ((next - hole) & state->slot_mask)) {
      state->slots[hole] = state->slots[next];
      hole = next;
    }
    next = (next + 1) & state->slot_mask;
  }
  state->slots[hole] = 0;
}

/* The last event time of the customer of a slot entry (hot or cold). */
static int64_t entry_last_event_ms(const cx_state_t *state, uint32_t entry) {
  if (!(entry & COLD))
    return record_at(state, entry - 1)->last_event_ms;
  cx_str_t key;
  int64_t last_event_ms;
  cx_state_cold_peek(cold_blob(state, dir_at(state, entry & ~COLD)), &key, &last_event_ms);
  return last_event_ms;
}

size_t cx_state_evict_idle(cx_state_t *state, int64_t idle_before_ms,
                           void (*evicted)(const cx_customer_t *customer, void *opaque),
                           void *opaque) {
  size_t removed = 0;
  settle(state, UINT32_MAX);
  for (size_t slot = 0; slot <= state->slot_mask;) {
    uint32_t entry = slot_entry(state->slots[slot]);
    if (!entry || entry_last_event_ms(state, entry) >= idle_before_ms) {
      slot++;
      continue;
    }
    remove_customer(state, slot, evicted, opaque);
    removed++;
    /* The shift may have moved another entry into this slot: look again. */
  }
  return removed;
}

/* Starts compaction: the directory maps each id (so far a record index) to
 * that record, with the record's generation; free records are free ids. */
static int start_directory(cx_state_t *state) {
  if (state->record_capacity > IDS_MAX)
    return -1; /* more ids than a directory entry can chain: never compacts */
  size_t chunks = state->chunk_count;
  for (size_t k = 0; k < chunks; k++) {
    size_t size = k == 0 ? (size_t)1 << FIRST_CHUNK_SHIFT : (size_t)1 << (k + FIRST_CHUNK_SHIFT - 1);
    state->dir_chunks[k] = calloc(size, sizeof(dir_entry_t));
    if (!state->dir_chunks[k]) {
      for (size_t j = 0; j < k; j++) {
        free(state->dir_chunks[j]);
        state->dir_chunks[j] = NULL;
      }
      return -1;
    }
  }
  state->dir_chunk_count = chunks;
  state->dir_capacity = state->record_capacity;
  state->dir_count = state->record_count;
  for (size_t i = 0; i < state->record_count; i++) {
    const cx_customer_t *customer = record_at(state, i);
    dir_entry_t *entry = dir_at(state, i);
    entry->generation = customer->generation;
    entry->ref = customer->key_len ? (uint32_t)i + 1 : REF_FREE;
  }
  /* the same free list, by id */
  state->dir_free_head = state->free_head;
  for (uint32_t at = state->free_head; at; at = (uint32_t)record_at(state, at - 1)->event_count)
    dir_at(state, at - 1)->ref = REF_FREE | (uint32_t)record_at(state, at - 1)->event_count;
  state->compacting = true;
  return 0;
}

/* A compaction reads a customer idle for a while: its record, its blocks and
 * its table slot are each a cache miss, one after the other. Pops are a few
 * events apart, so the customers a few pops ahead are loaded in stages:
 * the record four pops ahead, then (its record loaded by now) the blocks
 * and table slot of the one two pops ahead. Changes nothing. */
static void prefetch_ahead(const cx_state_t *state, size_t mask) {
  if (state->queue_len > 4) {
    uint32_t ahead = state->queue[(state->queue_head + 4) & mask].record;
    if (ahead < state->record_count) {
      const char *record = (const char *)record_at(state, ahead);
      cx_prefetch_line(record);
      cx_prefetch_line(record + 64);
    }
  }
  if (state->queue_len > 2) {
    const queue_item_t *item = &state->queue[(state->queue_head + 2) & mask];
    if (!queue_item_live(state, item))
      return;
    const cx_customer_t *c = record_at(state, item->record);
    cx_customer_prefetch_blocks(c);
    cx_state_prefetch_slot(state, cx_state_hash(cx_customer_key(c)));
  }
}

size_t cx_state_compact(cx_state_t *state, int64_t now_ms, int64_t idle_ms, size_t budget) {
  size_t compacted = 0;
  settle(state, UINT32_MAX);
  if (now_ms > state->now_ms)
    state->now_ms = now_ms;
  state->idle_ms = idle_ms;
  if (!state->compacting) {
    if (start_directory(state))
      return 0; /* out of memory: try again next time */
    for (size_t i = 0; i < state->record_count; i++) { /* list the customers made hot before */
      const cx_customer_t *customer = record_at(state, i);
      if (customer->key_len)
        (void)queue_push_due(state, (uint32_t)i, customer->index, due_of(state, customer));
    }
  }
  queue_flush(state);
  now_ms = state->now_ms;
  int64_t idle_before = idle_ms == 0 ? INT64_MAX /* every one, even of this instant */
                        : now_ms < INT64_MIN + idle_ms ? INT64_MIN : now_ms - idle_ms;
  for (; budget && state->queue_len && state->queue[state->queue_head].due_ms <= now_ms;
       budget--) {
    size_t mask = state->queue_capacity - 1; /* pushing again may grow the ring */
    queue_item_t item = state->queue[state->queue_head];
    state->queue_head = (state->queue_head + 1) & mask;
    state->queue_len--;
    prefetch_ahead(state, mask);
    if (!queue_item_live(state, &item))
      continue; /* removed or compacted since */
    cx_customer_t *customer = record_at(state, item.record);
    if (customer->last_event_ms < idle_before && compact(state, customer))
      compacted++;
    else /* active since: due again once idle from its last event */
      (void)queue_push_due(state, item.record, item.id,
                           due_of(state, customer) <= now_ms
                               ? now_ms + 1 /* out of memory compacting: later */
                               : due_of(state, customer));
  }
  return compacted;
}

cx_customer_t *cx_state_restore(cx_state_t *state, const cx_customer_t *decoded) {
  assert(decoded->key_len > 0); /* key_len 0 marks a free record */
  cx_str_t key = cx_customer_key(decoded);
  uint64_t key_hash = cx_state_hash(key);
  settle(state, UINT32_MAX);
  size_t slot = probe(state, key, key_hash);
  cx_customer_t *customer;
  uint32_t id;
  uint32_t found = slot_entry(state->slots[slot]);
  uint32_t generation;
  if (found && !(found & COLD)) {
    customer = record_at(state, found - 1);
    id = customer->index;
    generation = customer->generation + 1; /* the replaced record's timers go stale */
    customer_release(state, customer);
    if (state->lru)
      lru_unlink(state, id);
  } else if (found) {
    id = found & ~COLD;
    long index = take_record(state);
    if (index < 0)
      return NULL;
    dir_entry_t *entry = dir_at(state, id);
    drop_blob(state, entry);
    entry->ref = (uint32_t)index + 1;
    customer = record_at(state, index);
    state->slots[slot] = slot_make((uint32_t)index + 1, key_hash);
    if (state->lru)
      lru_unlink(state, id);
    generation = entry->generation + 1;
  } else {
    if (state->max_customers && state->customer_count >= state->max_customers) {
      evict_least_recent(state);
      slot = probe(state, key, key_hash);
    }
    if ((state->customer_count + 1) * 4 > (state->slot_mask + 1) * 3) {
      if (grow_table(state))
        return NULL;
      slot = probe(state, key, key_hash);
    }
    long new_id, index;
    if (take_identity(state, &new_id, &index, &generation))
      return NULL;
    id = (uint32_t)new_id;
    customer = record_at(state, index);
    state->slots[slot] = slot_make((uint32_t)index + 1, key_hash);
    state->customer_count++;
  }
  if (state->compacting)
    dir_at(state, id)->generation = generation;
  *customer = *decoded;
  customer->generation = generation;
  customer->index = id;
  customer->dirty = 0;
  if (state->lru)
    lru_push_tail(state, id);
  if (customer->key_len >= CX_STATE_KEY_INLINE)
    state->heap_bytes += customer->key_len;
  (void)queue_push_due(state, record_of(state, customer), id, due_of(state, customer));
  return customer;
}

int cx_state_set_max_customers(cx_state_t *state, size_t max_customers,
                               void (*evicted)(const cx_customer_t *customer, void *opaque),
                               void *opaque) {
  if (!state->lru && max_customers) {
    size_t ids = state->compacting ? state->dir_capacity : state->record_capacity;
    uint32_t *links = calloc(ids ? ids * 2 : 1, sizeof(*links));
    if (!links)
      return -1;
    state->lru = links;
    state->lru_head = state->lru_tail = 0;
    if (state->compacting) {
      for (size_t i = 0; i < state->dir_count; i++)
        if (!dir_is_free(dir_at(state, i)))
          lru_push_tail(state, (uint32_t)i);
    } else {
      for (size_t i = 0; i < state->record_count; i++)
        if (record_at(state, i)->key_len)
          lru_push_tail(state, (uint32_t)i);
    }
  }
  state->evicted = evicted;
  state->evicted_opaque = opaque;
  state->max_customers = max_customers;
  while (max_customers && state->customer_count > max_customers)
    evict_least_recent(state);
  return 0;
}

uint64_t cx_state_limit_evictions(const cx_state_t *state) {
  return state->limit_evictions;
}

void cx_customer_release(cx_customer_t *customer) {
  if (!customer)
    return;
  release_heap(customer);
  memset(customer, 0, sizeof(*customer));
}

size_t cx_state_customer_count(const cx_state_t *state) {
  return state->customer_count;
}

size_t cx_state_cold_count(const cx_state_t *state) {
  return state->cold_count;
}

/* The store's own arrays, blobs and long keys: known without a walk. */
static size_t fixed_bytes(const cx_state_t *state) {
  return sizeof(*state) + (state->slot_mask + 1) * sizeof(uint64_t) +
         state->record_capacity * sizeof(cx_customer_t) +
         state->dir_capacity * sizeof(dir_entry_t) +
         state->queue_capacity * sizeof(uint64_t) + state->scratch.capacity +
         state->cold_store.live_bytes +
         (state->lru ? (state->compacting ? state->dir_capacity : state->record_capacity) * 2 *
                           sizeof(uint32_t)
                     : 0) +
         state->heap_bytes;
}

/* A hot customer's contacts and blocks (0 for a free record). */
static size_t record_heap_bytes(const cx_customer_t *customer) {
  size_t bytes = cx_customer_ext_bytes(customer);
  if (customer->log)
    bytes += sizeof(*customer->log) +
             (size_t)customer->log->capacity * sizeof(cx_interaction_t) +
             customer->log->bytes_capacity;
  return bytes;
}

size_t cx_state_bytes(const cx_state_t *state) {
  size_t bytes = fixed_bytes(state);
  for (size_t i = 0; i < state->record_count; i++)
    bytes += record_heap_bytes(record_at(state, i));
  return bytes;
}

bool cx_state_bytes_walk(cx_state_t *state, size_t budget) {
  size_t end = state->walk_next + budget;
  if (end > state->record_count || end < state->walk_next)
    end = state->record_count;
  for (size_t i = state->walk_next; i < end; i++)
    state->walk_sum += record_heap_bytes(record_at(state, i));
  state->walk_next = end;
  if (end < state->record_count)
    return false;
  state->walked_bytes = state->walk_sum;
  state->walk_sum = 0;
  state->walk_next = 0;
  state->walked = true;
  return true;
}

size_t cx_state_bytes_walked(const cx_state_t *state) {
  return fixed_bytes(state) + (state->walked ? state->walked_bytes : state->walk_sum);
}

const char *cx_customer_preferred_channel(const cx_customer_t *customer) {
  uint32_t completed[CX_CHANNEL__COUNT] = {0};
  int64_t latest[CX_CHANNEL__COUNT];
  int best = -1;
  const cx_interaction_t *log = cx_customer_interactions(customer);
  for (uint32_t i = 0; i < cx_customer_interaction_count(customer); i++) {
    const cx_interaction_t *entry = &log[i];
    if (entry->type != CX_EVENT_CONTACT || !(entry->flags & CX_INTERACTION_ASSISTED) ||
        entry->outcome != CX_OUTCOME_COMPLETED || entry->channel >= CX_CHANNEL__COUNT)
      continue;
    completed[entry->channel]++;
    latest[entry->channel] = entry->at_ms;
    if (best < 0 || completed[entry->channel] > completed[best] ||
        (completed[entry->channel] == completed[best] && entry->at_ms >= latest[best]))
      best = entry->channel;
  }
  return best < 0 ? NULL : cx_channel_name((cx_channel_t)best);
}

void cx_state_remove(cx_state_t *state, cx_str_t key, uint64_t key_hash) {
  settle(state, UINT32_MAX);
  size_t slot = probe(state, key, key_hash);
  if (slot_entry(state->slots[slot]))
    remove_customer(state, slot, NULL, NULL);
}

_Static_assert(sizeof(cx_customer_t) == 128, "a customer record is two cache lines");
_Static_assert(sizeof(cx_customer_rules_t) <= 192, "the rules block is 192 bytes");
