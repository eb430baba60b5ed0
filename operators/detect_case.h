/* Detector of cases left open past their SLA (an event-time timer) or
 * reopened: unresolved_case (see docs/rules.md). A customer's cases live in
 * CX_CASE_SLOTS fixed slots; each SLA timer carries its slot and the slot's
 * generation, so a timer for a slot that was closed, re-timed or reused
 * since is recognised as stale when it comes due (timers are lazy). */
#ifndef CX_DETECT_CASE_H
#define CX_DETECT_CASE_H

#include <stdint.h>

#include "event.h"
#include "rules.h"

/* An event id kept in fixed state, for alerts fired later by a timer. Ids of
 * up to CX_CASE_ID_INLINE bytes are kept as they are; a longer id is kept as
 * its first 23 bytes, '~' and the 16 hex digits of the XXH3-64 of the whole
 * id (40 bytes): deterministic, and distinct for distinct ids. */
#define CX_CASE_ID_INLINE 40

typedef struct cx_case_kept_id_s {
  uint8_t len;                  /* bytes used; 0 = none */
  char bytes[CX_CASE_ID_INLINE]; /* not NUL-terminated */
} cx_case_kept_id_t;

void cx_case_keep_id(cx_case_kept_id_t *kept, cx_str_t event_id);
/* The kept id; borrowed from *kept. */
cx_str_t cx_case_kept_id(const cx_case_kept_id_t *kept);

#define CX_CASE_SLOTS 4

/* One case of the customer (72 bytes):
 *   case_hash | opened_ms | resolved_ms | generation | flags | reopened | opened_id
 *   8           8           8             4            1       1          41 (+ 1 pad) */
typedef struct cx_case_slot_s {
  uint64_t case_hash;   /* cx_state_hash of case_id */
  int64_t opened_ms;    /* start of the running SLA: CASE_OPENED or last CASE_REOPENED; INT64_MIN = unknown */
  int64_t resolved_ms;  /* earliest CASE_RESOLVED of this life; INT64_MAX = unresolved */
  uint32_t generation;  /* bumped at every arm and reuse; SLA timers carry it */
  uint8_t flags;        /* CX_CASE_SLOT_* */
  uint8_t reopened;     /* CASE_REOPENED events of this case (saturating) */
  cx_case_kept_id_t opened_id; /* the CASE_OPENED event (or the CASE_REOPENED when unknown) */
} cx_case_slot_t;

enum {
  CX_CASE_SLOT_USED = 1 << 0,     /* holds a case */
  CX_CASE_SLOT_ARMED = 1 << 1,    /* an SLA timer at opened_ms + sla is set for this generation */
  CX_CASE_SLOT_BREACHED = 1 << 2, /* that timer fired the rule */
};

/* Per-customer state of this detector: up to CX_CASE_SLOTS slots, the
 * customer's open and recently closed cases (cx_customer_t.cases), grown one
 * slot at a time: a customer with one case costs 72 bytes, not 288. A slot
 * not allocated reads as a zeroed (never used) one (cx_customer_case). */

CX_DETECTOR_EVALUATE(unresolved_case);
CX_DETECTOR_ON_TIMER(unresolved_case);

CX_DETECTOR_REARM(unresolved_case);

/* The events each detector can act on (cx_detector_t.signals, .channels). */
#define cx_detect_unresolved_case_signals \
  (CX_SIGNAL_TYPE(CX_EVENT_CASE_OPENED) | CX_SIGNAL_TYPE(CX_EVENT_CASE_RESOLVED) | \
   CX_SIGNAL_TYPE(CX_EVENT_CASE_REOPENED))
#define cx_detect_unresolved_case_channels (CX_CHANNELS_ANY)

#endif
