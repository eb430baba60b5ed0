/* Keyed per-customer state of one partition: an open-addressing hash table
 * (linear probing, backward-shift deletion) of uint32 indexes into an
 * array of compact fixed-size customer records. Lookups are O(1); a
 * customer costs one record, its recent interactions and the blocks of the
 * detectors that keep state for it. Customers idle past the largest window
 * are evicted when the watermark passes, so memory stays bounded.
 *
 * A customer idle for a while can be kept cold (cx_state_compact): its
 * record and blocks are replaced by one blob of its changelog encoding
 * (state_cold.h), and decoded back into a record when a lookup
 * (cx_state_upsert, cx_state_find) or a timer (cx_state_at) needs it. A
 * customer decoded back behaves exactly as if it had never been compacted;
 * callers never see a cold customer, only that pointers into the table may
 * change at the calls documented below. */
#ifndef CX_STATE_H
#define CX_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "detect_case.h"
#include "detect_digital.h"
#include "detect_signals.h"
#include "event.h"
#include "profile.h"
#include "rules.h"

#define CX_STATE_KEY_INLINE 16

enum {
  CX_INTERACTION_ASSISTED = 1 << 0,  /* on an assisted channel */
  CX_INTERACTION_ABANDONED = 1 << 1, /* outcome ABANDONED */
};

/* What a CONTACT, SELF_SERVICE or TRANSFER event leaves in the customer's
 * interaction log (the input of cx_customer_add_interaction). */
typedef struct cx_interaction_fields_s {
  int64_t at_ms;      /* event time */
  int64_t wait_ms;    /* queue time, 0 when unknown */
  int64_t handle_ms;  /* time with an agent, 0 when unknown */
  uint64_t case_hash; /* cx_state_hash of case_id, 0 when none */
  uint64_t topic_hash; /* cx_state_hash of topic, 0 when none */
  uint8_t type;       /* cx_event_type_t */
  uint8_t channel;    /* cx_channel_t */
  uint8_t outcome;    /* cx_outcome_t */
  uint8_t flags;      /* CX_INTERACTION_* */
} cx_interaction_fields_t;

enum {
  CX_INTERACTION_WIDE_WAIT = 1 << 0,   /* wait_ms did not fit 32 bits: see cx_interaction_wait_ms */
  CX_INTERACTION_WIDE_HANDLE = 1 << 1, /* handle_ms did not fit 32 bits */
};

/* One entry of the interaction log (40 bytes). The event id, and the exact
 * wait and handle times when they do not fit 32 bits, live in the log's byte
 * area at bytes_offset: [wide wait le64][wide handle le64][id bytes]. Read
 * them with the cx_interaction_* accessors. The small fields share 16 bits:
 * every value they can hold fits (the event's enums; the changelog decoder
 * refuses others). */
typedef struct cx_interaction_s {
  int64_t at_ms;         /* event time */
  uint64_t case_hash;    /* cx_state_hash of case_id, 0 when none */
  uint64_t topic_hash;   /* cx_state_hash of topic, 0 when none */
  uint32_t wait_ms;      /* queue time when it fits (else CX_INTERACTION_WIDE_WAIT) */
  uint32_t handle_ms;    /* time with an agent when it fits (else CX_INTERACTION_WIDE_HANDLE) */
  uint32_t bytes_offset; /* start of this entry's bytes in the byte area */
  uint16_t id_len;       /* event_id length */
  uint16_t type : 5;     /* cx_event_type_t */
  uint16_t channel : 4;  /* cx_channel_t */
  uint16_t outcome : 3;  /* cx_outcome_t */
  uint16_t flags : 2;    /* CX_INTERACTION_* */
  uint16_t wide : 2;     /* CX_INTERACTION_WIDE_* */
} cx_interaction_t;

_Static_assert(sizeof(cx_interaction_t) == 40, "a log entry is 40 bytes");
_Static_assert(CX_EVENT_TYPE__COUNT <= 32 && CX_CHANNEL__COUNT <= 16 && CX_OUTCOME__COUNT <= 8,
               "a log entry's type, channel and outcome fit their bits");

/* The bits a log entry's flags can hold (CX_INTERACTION_*). */
#define CX_INTERACTION_FLAGS (CX_INTERACTION_ASSISTED | CX_INTERACTION_ABANDONED)

/* A customer's interaction log: one block, allocated with the first entry. */
typedef struct cx_interaction_log_s {
  uint32_t count;          /* entries in use, sorted by at_ms then arrival */
  uint32_t capacity;       /* entries allocated */
  uint32_t bytes_len;      /* bytes in use of the byte area (ids, wide times) */
  uint32_t bytes_capacity; /* bytes allocated for it */
  cx_interaction_t entries[]; /* capacity entries, then the byte area */
} cx_interaction_log_t;

/* Consent to profiling, from CONSENT events. */
typedef enum { CX_CONSENT_UNKNOWN, CX_CONSENT_GRANTED, CX_CONSENT_WITHDRAWN } cx_consent_t;

/* Per rule: cooldowns, score contributions and alert bands, kept only for
 * customers that have had a detector hit or an alert (most never do).
 * 192 bytes (an allocator class): the bands take 2 bits a rule. */
typedef struct cx_customer_rules_s {
  int64_t quiet_until_ms[CX_RULE__COUNT]; /* per rule: cooldown end (INT64_MIN = none) */
  int64_t last_frustration_alert_ms;      /* INT64_MIN = none */
  float contribution[CX_RULE__COUNT];     /* per rule: score points, decayed to scores_at_ms */
  uint32_t alerted_bands;                 /* rule r's band of its last alert (cx_severity_t) at
                                             bits 2r..2r+1: cx_customer_rules_band */
} cx_customer_rules_t;

_Static_assert(CX_RULE__COUNT * 2 <= 32 && CX_SEVERITY_CRITICAL <= 3,
               "every rule's band fits 2 bits of alerted_bands");

static inline cx_severity_t cx_customer_rules_band(const cx_customer_rules_t *rules, int rule) {
  return (cx_severity_t)(rules->alerted_bands >> (2 * rule) & 3);
}

static inline void cx_customer_rules_set_band(cx_customer_rules_t *rules, int rule,
                                              cx_severity_t band) {
  rules->alerted_bands = (rules->alerted_bands & ~(3u << (2 * rule))) |
                         ((uint32_t)band & 3) << (2 * rule);
}

/* The compact hot part of a customer: what every event reads and writes.
 * The detector families' own state lives in extension blocks allocated the
 * first time a customer needs them (most customers never have a case, a
 * digital session, a payment problem, a score or an alert); a customer
 * without a block reads as one with that block at its defaults. */
typedef struct cx_customer_s {
  uint32_t key_len;              /* customer id length (0: a free record) */
  uint32_t generation;           /* bumped each time the record is reused (timers check it) */
  union {
    char inline_key[CX_STATE_KEY_INLINE]; /* when key_len < CX_STATE_KEY_INLINE */
    char *heap_key;                       /* otherwise, owned */
  } key;
  int64_t first_event_ms;        /* first event time kept in state */
  int64_t last_event_ms;         /* largest event time seen for this customer */
  uint64_t event_count;          /* events applied since first_event_ms */
  int64_t next_offset;           /* input offset after its last applied event (0 = unknown):
                                    a replayed event below it was applied already */
  int64_t scores_at_ms;          /* event time the contributions are decayed to */
  struct cx_interaction_log_s *log; /* owned, NULL = no interactions (cx_customer_interactions) */
  cx_customer_rules_t *rules;    /* owned, NULL = defaults (cx_customer_rules) */
  cx_signals_state_t *signals;   /* owned, NULL = zero (detect_signals.h) */
  cx_digital_session_t *sessions; /* owned: session_slots slots, NULL = zero (detect_digital.h:
                                    digital_friction); slots past them read as zero */
  cx_digital_state_t *digital;   /* owned, NULL = zero (detect_digital.h: engagement_drop) */
  cx_case_slot_t *cases;         /* owned: case_slots slots, NULL = zero (detect_case.h);
                                    slots past them read as zero */
  cx_profile_state_t *profile;   /* owned, NULL = zero (profile.h) */
  int8_t consent;                /* cx_consent_t */
  uint8_t dirty;                 /* changed since the changes were last taken (runtime only) */
  uint8_t session_slots;         /* sessions allocated, 0..CX_DIGITAL_SESSIONS */
  uint8_t case_slots;            /* case slots allocated, 0..CX_CASE_SLOTS */
  uint32_t index;                /* its id in the table, kept while hot or cold (runtime only) */
} cx_customer_t;

/* A customer's extension blocks for reading: the block, or a shared one at
 * the defaults when the customer has none (never write through these). */
const cx_customer_rules_t *cx_customer_rules(const cx_customer_t *customer);
const cx_signals_state_t *cx_customer_signals(const cx_customer_t *customer);
/* digital_friction's session slot i (< CX_DIGITAL_SESSIONS), or a shared
 * zeroed one when it is not allocated. */
const cx_digital_session_t *cx_customer_session(const cx_customer_t *customer, int i);
const cx_digital_state_t *cx_customer_digital(const cx_customer_t *customer);
/* The case detector's slot i (< CX_CASE_SLOTS), or a shared zeroed one when
 * it is not allocated. */
const cx_case_slot_t *cx_customer_case(const cx_customer_t *customer, int i);
const cx_profile_state_t *cx_customer_profile(const cx_customer_t *customer);

/* The block for writing, allocated at its defaults on first use; NULL only
 * when out of memory. */
cx_customer_rules_t *cx_customer_rules_mut(cx_customer_t *customer);
cx_signals_state_t *cx_customer_signals_mut(cx_customer_t *customer);
/* The session slots for writing, at least `slots` of them (new ones
 * zeroed); NULL only when out of memory (the slots held are unchanged). */
cx_digital_session_t *cx_customer_sessions_mut(cx_customer_t *customer, int slots);
cx_digital_state_t *cx_customer_digital_mut(cx_customer_t *customer);
/* The same with room for a last id of id_len bytes (cut at
 * CX_CASE_ID_INLINE: cx_digital_keep_last_id): the block is grown when it
 * has less, so its address may change; NULL only when out of memory (the
 * block held is unchanged). */
cx_digital_state_t *cx_customer_digital_mut_room(cx_customer_t *customer, size_t id_len);
/* The case slots for writing, at least `slots` of them (new ones zeroed);
 * NULL only when out of memory (the slots held are unchanged). */
cx_case_slot_t *cx_customer_cases_mut(cx_customer_t *customer, int slots);
cx_profile_state_t *cx_customer_profile_mut(cx_customer_t *customer);

/* Heap bytes of a customer's extension blocks (for cx_state_bytes). */
size_t cx_customer_ext_bytes(const cx_customer_t *customer);

/* Starts loading the cache line holding p (any address: a prefetch never
 * faults), for writing on CPUs that tell. An asm statement rather than
 * __builtin_prefetch: GCC takes a function whose only effects are
 * __builtin_prefetch calls for one without effects (pure) and deletes the
 * calls to it, and deletes a loop of them, so such hints compiled to
 * nothing. */
static inline void cx_prefetch_line(const void *p) {
#if defined(__GNUC__) && defined(__x86_64__)
  __asm__ volatile("prefetcht0 (%0)" : : "r"(p));
#elif defined(__GNUC__) && defined(__aarch64__)
  __asm__ volatile("prfm pstl1keep, [%0]" : : "r"(p));
#elif defined(__GNUC__)
  __builtin_prefetch(p, 1);
#else
  (void)p;
#endif
}

/* Starts loading a customer's contacts and extension blocks at once: for a
 * customer not touched lately each is a cache miss of its own. */
static inline void cx_customer_prefetch_blocks(const cx_customer_t *c) {
  const void *blocks[] = {c->log, c->rules, c->signals, c->sessions, c->digital, c->cases,
                          c->profile};
  for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
    if (blocks[i]) {
      cx_prefetch_line(blocks[i]);
      cx_prefetch_line((const char *)blocks[i] + 64);
    }
}

typedef struct cx_state_s cx_state_t;

cx_state_t *cx_state_new(void);
void cx_state_destroy(cx_state_t *state);

/* XXH3-64 of a key; hash once per event and pass it along. */
uint64_t cx_state_hash(cx_str_t key);

/* Finds or creates the customer (decoding it when it is cold). The pointer
 * is valid until the next call that may add or remove customers or compact
 * one: any cx_state_* call but cx_state_hash, the prefetches, the counts and
 * cx_state_bytes, except that cx_state_at keeps valid a customer it returns.
 * Returns NULL only when out of memory. */
cx_customer_t *cx_state_upsert(cx_state_t *state, cx_str_t key, uint64_t key_hash);
/* Finds the customer (decoding it when it is cold) or returns NULL (also
 * when out of memory decoding it). */
cx_customer_t *cx_state_find(const cx_state_t *state, cx_str_t key, uint64_t key_hash);

/* Hints for a caller that knows its next keys a few events ahead (changes
 * nothing): the first starts loading the key's table slot; the second, a
 * few events later when that slot is in cache, the record it points to
 * (when the slot's hash tag matches). */
void cx_state_prefetch_slot(const cx_state_t *state, uint64_t key_hash);
void cx_state_prefetch_record(const cx_state_t *state, uint64_t key_hash);
/* For a third hint, once the record is in cache: the hot record in the key's
 * home slot when the slot's hash tag matches, else NULL (cold, elsewhere in
 * the probe sequence, or absent). Reads the slot and nothing else, changes
 * nothing, decodes nothing; the key is not compared, so on a tag collision
 * it is another customer's record. Only to prefetch the blocks it points to
 * (a prefetch never faults): never read through it, never keep it. */
const cx_customer_t *cx_state_peek(const cx_state_t *state, uint64_t key_hash);

cx_str_t cx_customer_key(const cx_customer_t *customer);

/* A customer's interactions (sorted by at_ms, then arrival), how many,
 * how many fit before the log grows, and the log's byte area. */
static inline const cx_interaction_t *cx_customer_interactions(const cx_customer_t *customer) {
  return customer->log ? customer->log->entries : NULL;
}

static inline uint32_t cx_customer_interaction_count(const cx_customer_t *customer) {
  return customer->log ? customer->log->count : 0;
}

static inline uint32_t cx_customer_interaction_capacity(const cx_customer_t *customer) {
  return customer->log ? customer->log->capacity : 0;
}

static inline const char *cx_customer_interaction_bytes(const cx_customer_t *customer) {
  return (const char *)(customer->log->entries + customer->log->capacity);
}

static inline int64_t cx_interaction_wide_at(const cx_customer_t *customer, uint32_t offset) {
  int64_t value;
  memcpy(&value, cx_customer_interaction_bytes(customer) + offset, sizeof(value));
  return value;
}

/* An entry's exact wait_ms, handle_ms and event id (borrowed from the log:
 * valid until the customer's log changes). */
static inline int64_t cx_interaction_wait_ms(const cx_customer_t *customer,
                                             const cx_interaction_t *entry) {
  return entry->wide & CX_INTERACTION_WIDE_WAIT
             ? cx_interaction_wide_at(customer, entry->bytes_offset)
             : (int64_t)entry->wait_ms;
}

static inline int64_t cx_interaction_handle_ms(const cx_customer_t *customer,
                                               const cx_interaction_t *entry) {
  return entry->wide & CX_INTERACTION_WIDE_HANDLE
             ? cx_interaction_wide_at(customer, entry->bytes_offset +
                                                    (entry->wide & CX_INTERACTION_WIDE_WAIT ? 8 : 0))
             : (int64_t)entry->handle_ms;
}

static inline cx_str_t cx_interaction_id(const cx_customer_t *customer,
                                         const cx_interaction_t *entry) {
  uint32_t skip = (entry->wide & CX_INTERACTION_WIDE_WAIT ? 8 : 0) +
                  (entry->wide & CX_INTERACTION_WIDE_HANDLE ? 8 : 0);
  cx_str_t s = {cx_customer_interaction_bytes(customer) + entry->bytes_offset + skip,
                entry->id_len};
  return s;
}

/* The log entry of an event, as the processor keeps it: false (and *fields
 * untouched) when the event is not a CONTACT, SELF_SERVICE or TRANSFER. */
bool cx_interaction_fields_from_event(const cx_event_t *event, cx_interaction_fields_t *fields);

/* Inserts an entry of *fields (its id taken from event_id, cut at 65535
 * bytes) in time order (after those with an equal time), then drops entries
 * at or before retain_after_ms. Returns its index, or -1 when out of memory
 * (or when the log's byte area would pass 4 GiB). */
long cx_customer_add_interaction(cx_customer_t *customer, const cx_interaction_fields_t *fields,
                                 cx_str_t event_id, int64_t retain_after_ms);
/* The same without dropping anything (a decoded log). */
long cx_customer_insert_interaction(cx_customer_t *customer,
                                    const cx_interaction_fields_t *fields, cx_str_t event_id);

/* Makes room for at least `entries` entries in the log (no other change).
 * Returns -1 when out of memory. */
int cx_customer_reserve_interactions(cx_customer_t *customer, uint32_t entries);

/* The assisted channel the customer completes most contacts on in the log
 * (ties: the most recent), or NULL when there is none. */
const char *cx_customer_preferred_channel(const cx_customer_t *customer);

/* A customer's id and generation, and the customer back from them (NULL
 * when it was evicted or replaced since). For timers and the changed list.
 * A cold customer is decoded for the caller and compacted again at the next
 * call into the table, unless that call is a lookup of it (an event) or
 * cx_state_at of the same customer. */
uint32_t cx_state_index_of(const cx_state_t *state, const cx_customer_t *customer);
cx_customer_t *cx_state_at(cx_state_t *state, uint32_t index, uint32_t generation);
/* Starts loading the record cx_state_at(index) would return (blocks false),
 * or, once it is loaded, its blocks (true); nothing while compaction is on.
 * For walks of the changed list. */
void cx_state_prefetch_at(const cx_state_t *state, uint32_t index, bool blocks);

/* Removes customers whose last event is before idle_before_ms, calling
 * evicted (may be NULL) for each just before it goes. Returns how many. */
size_t cx_state_evict_idle(cx_state_t *state, int64_t idle_before_ms,
                           void (*evicted)(const cx_customer_t *customer, void *opaque),
                           void *opaque);
/* Keeps cold the customers whose last event is before now_ms - idle_ms
 * (now_ms: the watermark; a smaller one than before counts as the larger).
 * Each hot customer is listed with the time from which it may be idle (its
 * event's time, about now_ms, plus idle_ms when an event made it hot); this
 * looks at up to budget of those due, compacting the idle ones and listing
 * the others again from their last event; idle_ms 0 compacts every hot
 * customer, whatever its last event. Returns how many it compacted
 * (one that cannot be, out of memory, simply stays hot). */
size_t cx_state_compact(cx_state_t *state, int64_t now_ms, int64_t idle_ms, size_t budget);
/* Customers kept cold (counted in cx_state_customer_count too). */
size_t cx_state_cold_count(const cx_state_t *state);

/* Removes the customer of key if there is one (a changelog tombstone). */
void cx_state_remove(cx_state_t *state, cx_str_t key, uint64_t key_hash);

/* Inserts a customer record built outside the table (cx_state_codec_decode),
 * replacing the customer with the same key if there is one; the replaced
 * record's generation is bumped, so its timers go stale. On success the table
 * owns decoded's heap parts (forget *decoded, do not release it) and the
 * stored record is returned; decoded's key must be non-empty. Returns NULL when out of memory: the caller still
 * owns decoded's heap parts and the table is unchanged. */
cx_customer_t *cx_state_restore(cx_state_t *state, const cx_customer_t *decoded);

/* Frees the heap parts of a customer that is in no table (a decoded record
 * not restored) and zeroes it. NULL is a no-op. */
void cx_customer_release(cx_customer_t *customer);

/* Bounds the table to max_customers (0 = no bound, the default). Once the
 * bound is set, the table keeps its customers in a recency list: a customer
 * moves to its end each time cx_state_upsert finds or creates it (or
 * cx_state_restore stores it), so the list is in arrival order of each
 * customer's latest event, which is event-time order up to the lateness. A
 * new customer that would exceed the bound first evicts the one at the head
 * (the least recently active), calling evicted (may be NULL) just before it
 * goes; cx_state_limit_evictions counts them. Costs two record links per
 * upsert while bounded (a side array of two links per customer id), nothing
 * otherwise. Customers already in the table are listed in index order.
 * Returns -1 when out of memory for the list (nothing changed). */
int cx_state_set_max_customers(cx_state_t *state, size_t max_customers,
                               void (*evicted)(const cx_customer_t *customer, void *opaque),
                               void *opaque);
/* Customers evicted by the bound so far. */
uint64_t cx_state_limit_evictions(const cx_state_t *state);

size_t cx_state_customer_count(const cx_state_t *state);
/* Heap bytes held by the store (table, records, directory, contacts, long
 * keys and ids, cold blobs, the compaction queue). */
size_t cx_state_bytes(const cx_state_t *state);
/* cx_state_bytes for a gauge set on the processing thread, without walking
 * every customer at once (13 ms at 370k customers): cx_state_bytes_walk sums
 * the customers' contacts and blocks over at most `budget` records per call,
 * resuming where the last call stopped, and returns true when that call
 * completed a walk; cx_state_bytes_walked is the store's own bytes now plus
 * the last completed walk's sum (before the first completes: the sum so far). */
bool cx_state_bytes_walk(cx_state_t *state, size_t budget);
size_t cx_state_bytes_walked(const cx_state_t *state);

#endif
