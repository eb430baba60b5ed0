/* Detectors of digital behaviour: digital_friction (errors, failed logins,
 * rage clicks in one app/web session) and engagement_drop (recent digital
 * activity far below the customer's own baseline) (see docs/rules.md).
 * digital_friction follows the customer's CX_DIGITAL_SESSIONS most recently
 * active sessions; engagement_drop counts digital events per UTC day in a
 * ring (window.h) and checks silent days by one chained event-time timer
 * per customer. */
#ifndef CX_DETECT_DIGITAL_H
#define CX_DETECT_DIGITAL_H

#include <stddef.h>
#include <stdint.h>

#include "detect_case.h"
#include "rules.h"
#include "window.h"

/* Rage bursts longer than this many clicks are not seen: a larger
 * rules.digital_friction.rage_clicks acts as this value. */
#define CX_DIGITAL_RAGE_MAX 8
/* Sessions followed at a time per customer (the most recently active). */
#define CX_DIGITAL_SESSIONS 2

enum {
  CX_DIGITAL_SESSION_ACTIVE = 1 << 0,    /* the slot holds a session */
  CX_DIGITAL_SESSION_IMPLICIT = 1 << 1,  /* no session attribute: it ends at session_gap */
  CX_DIGITAL_FAILURES_FIRED = 1 << 2,    /* failures fired in this session */
  CX_DIGITAL_RAGE_FIRED = 1 << 3,        /* rage_clicks fired in this session */
};

/* One session of digital_friction and its current run of clicks (80 bytes). */
typedef struct cx_digital_session_s {
  /* The fields a scan for the event's session reads first: together. */
  uint64_t hash;             /* cx_state_hash of the session attribute; 0 when implicit */
  uint16_t failures;         /* ERROR + LOGIN_FAILED events in the session (saturating) */
  uint16_t run_clicks;       /* clicks in a row on element_hash (saturating) */
  uint8_t flags;             /* CX_DIGITAL_SESSION_*, CX_DIGITAL_*_FIRED */
  int64_t first_ms;          /* earliest event time in the session */
  int64_t last_ms;           /* latest event time in the session */
  uint64_t element_hash;     /* cx_state_hash of the element of the run of clicks */
  int64_t click_last_ms;     /* time of the run's latest click (arrival order) */
  int32_t click_gaps_ms[CX_DIGITAL_RAGE_MAX - 1]; /* gaps between the run's latest clicks, newest first */
} cx_digital_session_t;

enum {
  CX_DIGITAL_SEEN = 1 << 0,        /* a digital event has been counted */
  CX_DIGITAL_CHECK_ARMED = 1 << 1, /* a check timer with check_token is set for check_day */
  CX_DIGITAL_LAST_HIT = 1 << 2,    /* the last digital event was the trigger of a hit */
};

/* Per-customer state of digital_friction: an array of up to
 * CX_DIGITAL_SESSIONS sessions (cx_customer_t.sessions), kept only for
 * customers with a digital click or failure and grown one slot at a time:
 * a customer with one session so far costs 80 bytes, not 160. A slot not
 * allocated reads as a zeroed (inactive) one (cx_customer_session). */

/* Per-customer state of engagement_drop, kept only for customers with a
 * digital event: 87 bytes, then the kept id of the last digital event
 * (cx_case_keep_id's form, up to CX_CASE_ID_INLINE bytes) in a tail sized
 * to it: the block is allocated at the allocator class that holds the id
 * (cx_digital_state_size: 96, 112 or 128 bytes; a 13-byte id takes 112, a
 * 36-byte UUID 128) and grown when a longer id comes, never shrunk. The
 * days' high bytes, 40 more, come only once a day has more than 255
 * digital events. */
typedef struct cx_digital_state_s {
  cx_window_days_t days;     /* digital events per UTC day (56 bytes) */
  int64_t first_day;         /* day of the first digital event counted */
  int64_t last_ms;           /* time of the last digital event (largest; ties: later arrival) */
  int64_t check_day;         /* day whose end the armed check timer is set for */
  uint32_t check_token;      /* payload of the armed check timer; others are stale */
  uint8_t engagement_flags;  /* CX_DIGITAL_SEEN, CX_DIGITAL_CHECK_ARMED, CX_DIGITAL_LAST_HIT */
  uint8_t last_id_len;       /* bytes of last_id in use (0: none) */
  uint8_t last_id_room;      /* bytes allocated for last_id */
  char last_id[];            /* id of the last digital event: the trigger of timer alerts */
} cx_digital_state_t;

/* Bytes of a block with room for a kept id of id_len bytes (cut at
 * CX_CASE_ID_INLINE): the header and the id rounded up to 16, which is
 * jemalloc's class there, so the room is all the class holds. */
static inline size_t cx_digital_state_size(size_t id_len) {
  size_t kept = id_len < CX_CASE_ID_INLINE ? id_len : CX_CASE_ID_INLINE;
  return (offsetof(cx_digital_state_t, last_id) + kept + 15) & ~(size_t)15;
}

/* The block's last id (borrowed: valid until the block changes). */
static inline cx_str_t cx_digital_last_id(const cx_digital_state_t *state) {
  cx_str_t id = {state->last_id, state->last_id_len};
  return id;
}

/* Keeps event_id as the block's last id (cx_case_keep_id's form); the
 * block must have room for it (cx_customer_digital_mut_room). */
void cx_digital_keep_last_id(cx_digital_state_t *state, cx_str_t event_id);

CX_DETECTOR_EVALUATE(digital_friction);
CX_DETECTOR_EVALUATE(engagement_drop);
#define cx_detect_digital_friction_on_timer NULL
CX_DETECTOR_ON_TIMER(engagement_drop);

#define cx_detect_digital_friction_rearm NULL

CX_DETECTOR_REARM(engagement_drop);

/* The events each detector can act on (cx_detector_t.signals, .channels). */
#define CX_DIGITAL_CHANNELS (CX_CHANNEL_BIT(CX_CHANNEL_APP) | CX_CHANNEL_BIT(CX_CHANNEL_WEB))
#define cx_detect_digital_friction_signals \
  (CX_SIGNAL_TYPE(CX_EVENT_CLICK) | CX_SIGNAL_TYPE(CX_EVENT_ERROR) | \
   CX_SIGNAL_TYPE(CX_EVENT_LOGIN_FAILED))
#define cx_detect_digital_friction_channels (CX_DIGITAL_CHANNELS)
#define cx_detect_engagement_drop_signals (CX_SIGNAL_ANY)
#define cx_detect_engagement_drop_channels (CX_DIGITAL_CHANNELS)

#endif
