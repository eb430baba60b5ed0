/* The operator pipeline of one partition: watermark, keyed state, the
 * detectors with per-(customer, rule) cooldowns, scores and bands, event-time
 * timers, profiles, and eviction of idle customers. Pure event-time logic:
 * it sees events and emits alerts and profiles through callbacks, and knows
 * nothing of Kafka or files. One processor per partition, one thread. */
#ifndef CX_PROCESSOR_H
#define CX_PROCESSOR_H

#include <stdint.h>

#include "alert.h"
#include "event.h"
#include "profile.h"
#include "rules.h"

typedef struct cx_processor_config_s {
  int64_t lateness_ms;         /* lateness.ms */
  cx_rules_config_t rules;     /* rules.<rule>.<param> */
  cx_scores_config_t scores;   /* scores.*, actions.* */
  cx_profile_config_t profiles; /* profiles.* */
  int64_t max_customers;       /* state.max.customers: per processor (partition), 0 = no bound; fixed at creation */
  int64_t compact_idle_ms;     /* state.compact.idle.ms: keep a customer idle this long (event
                                  time) cold; 0 = never (the default); < 0 = cold between any
                                  two of its events (tests) */
} cx_processor_config_t;

void cx_processor_config_default(cx_processor_config_t *config);

typedef struct cx_outputs_s {
  cx_alert_cb_t *alert;        /* each alert, in rule order per event */
  cx_profile_cb_t *profile;    /* each profile; NULL = not wanted */
  void *opaque;                /* passed to both */
} cx_outputs_t;

typedef enum {
  CX_PROCESS_OK,     /* applied to state, detectors ran */
  CX_PROCESS_LATE,   /* older than the watermark: not applied, route it aside */
  CX_PROCESS_NOMEM,  /* out of memory: not applied */
  CX_PROCESS_DUPLICATE, /* applied before a restart already (see cx_processor_process_at) */
} cx_process_result_t;

/* How far a partition's input has been applied, kept on the changelog beside
 * its customers so that a restore resumes the event time and recognises
 * events it has applied already. */
typedef struct cx_partition_progress_s {
  int64_t max_event_ms;  /* largest on-time event time (the watermark's basis) */
  int64_t next_offset;   /* input offset after the last event processed; 0 = none */
} cx_partition_progress_t;

typedef struct cx_processor_stats_s {
  uint64_t events;                     /* events applied */
  uint64_t late_events;                /* events refused as late */
  uint64_t alerts[CX_RULE__COUNT];     /* alerts emitted per rule */
  uint64_t suppressed[CX_RULE__COUNT]; /* hits kept quiet by a cooldown */
  uint64_t profiles;                   /* profiles emitted */
  uint64_t timers_fired;               /* timers that came due */
  uint64_t evicted_customers;          /* customers evicted as idle */
  uint64_t limit_evicted_customers;    /* active customers evicted at state.max.customers */
  uint64_t duplicates;                 /* events applied before a restart, not again */
} cx_processor_stats_t;

typedef struct cx_processor_s cx_processor_t;

/* Copies the config. Returns NULL when out of memory. */
cx_processor_t *cx_processor_new(const cx_processor_config_t *config);
void cx_processor_destroy(cx_processor_t *processor);

/* Processes one event (validated by the caller), then the timers its
 * watermark made due. */
/* cx_processor_process for an event read at input offset `offset` (>= 0; -1
 * = no offset, as cx_processor_process). After a restore, an event whose
 * offset is below the restored partition progress, or below its customer's
 * next_offset, was applied before the restart (at least once resumes from
 * an older committed offset than the changelog holds): it is not applied
 * again, only advances event time and fires what that makes due, and the
 * result is CX_PROCESS_DUPLICATE. */
cx_process_result_t cx_processor_process_at(cx_processor_t *processor, const cx_event_t *event,
                                            int64_t offset, const cx_outputs_t *outputs);
/* The partition's progress, when it changed since the last call (returns
 * true) — the changelog writes it after the customers of a batch. */
bool cx_processor_take_progress(cx_processor_t *processor, cx_partition_progress_t *progress);
/* A restored progress: event time resumes from it; offsets below it are
 * duplicates. */
void cx_processor_restore_progress(cx_processor_t *processor,
                                   const cx_partition_progress_t *progress);
cx_process_result_t cx_processor_process(cx_processor_t *processor, const cx_event_t *event,
                                         const cx_outputs_t *outputs);

/* Prefetching for a caller that has the next events' keys a few events
 * ahead (decoded ahead, or a Kafka message key): cx_processor_prefetch(key)
 * some 8 events before processing it starts loading its hash table slot and
 * returns the key's hash; cx_processor_prefetch_customer(hash) some 4
 * events before loads the customer's record; cx_processor_process_hashed
 * then processes the event with that hash (no second hashing). Hints only:
 * skipping them changes nothing but speed. */
uint64_t cx_processor_prefetch(const cx_processor_t *processor, cx_str_t key);
void cx_processor_prefetch_customer(const cx_processor_t *processor, uint64_t key_hash);
/* The third hint, some 2 events before processing the event (its record in
 * cache by then): starts loading the customer's blocks that this event's
 * detectors will read. Changes nothing; does nothing for a customer that is
 * cold or not yet in the table. */
void cx_processor_prefetch_blocks(const cx_processor_t *processor, uint64_t key_hash,
                                  const cx_event_t *event);
/* cx_processor_process_at for an event whose customer_id hashes to key_hash
 * (cx_processor_prefetch's result). */
cx_process_result_t cx_processor_process_hashed(cx_processor_t *processor, const cx_event_t *event,
                                                int64_t offset, uint64_t key_hash,
                                                const cx_outputs_t *outputs);

/* Replaces rules, scores and profile settings between events (SIGHUP);
 * lateness stays. State is kept. */
void cx_processor_reconfigure(cx_processor_t *processor, const cx_processor_config_t *config);

struct cx_customer_s;

/* A customer's state, or NULL. Borrowed: valid until the next call that may
 * add or remove customers. */
const struct cx_customer_s *cx_processor_find(const cx_processor_t *processor, cx_str_t key);

/* Restores one customer from a changelog record (state_codec.h), replacing
 * any state of that key, and sets again the timers its state says are
 * pending (timers are not in the record). Returns 0, or -1 with errstr for a
 * record that does not decode (the state is then unchanged). */
int cx_processor_restore(cx_processor_t *processor, const uint8_t *record, size_t record_len,
                         char *errstr, size_t errstr_size);

/* Starts keeping track of which customers change and which are evicted (off
 * by default: only a job writing a changelog needs it). */
void cx_processor_track_changes(cx_processor_t *processor);

/* Hands out what changed since the last call: first the keys of customers
 * evicted (removed, for tombstones), then the customers changed and still
 * there (changed). Both are borrowed for the call. Returns -1 when a
 * callback did. */
int cx_processor_take_changes(cx_processor_t *processor,
                              int (*removed)(cx_str_t key, void *opaque),
                              int (*changed)(const struct cx_customer_s *customer, void *opaque),
                              void *opaque);

/* Removes a customer (a changelog tombstone during restore). */
void cx_processor_forget(cx_processor_t *processor, cx_str_t key);

const cx_processor_stats_t *cx_processor_stats(const cx_processor_t *processor);
int64_t cx_processor_watermark(const cx_processor_t *processor);
size_t cx_processor_customer_count(const cx_processor_t *processor);
/* Heap bytes of the partition's state: customers (cx_state_bytes), their
 * pending timers and the change lists of the changelog. */
size_t cx_processor_state_bytes(const cx_processor_t *processor);
/* The same for a gauge, its customers walked a slice at a time
 * (cx_state_bytes_walk / cx_state_bytes_walked). */
bool cx_processor_state_bytes_walk(cx_processor_t *processor, size_t budget);
size_t cx_processor_state_bytes_walked(const cx_processor_t *processor);

#endif
