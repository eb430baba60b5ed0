/* unresolved_case (see detect_case.h and docs/rules.md): CASE_OPENED arms an
 * SLA timer, CASE_RESOLVED marks the case resolved, CASE_REOPENED fires at
 * once and re-arms. The timer decides when it comes due: it fires unless
 * the case was resolved before the deadline, so the outcome depends on
 * event times only, not on whether a resolution arrived before the timer. */
#include "detect_case.h"

#include <string.h>

#include "hash_inline.h"
#include "state.h"

#define UNKNOWN_MS INT64_MIN    /* opened_ms of a case known only from its resolution */
#define UNRESOLVED_MS INT64_MAX /* resolved_ms of a case not resolved */
#define HASHED_PREFIX (CX_CASE_ID_INLINE - 17) /* bytes of a long id kept before '~' and the hash */

_Static_assert(CX_CASE_SLOTS <= 256, "the timer payload keeps the slot in 8 bits");

/* memcpy of len <= CX_CASE_ID_INLINE bytes without a library call (one
 * per digital event): a few fixed-size copies that may overlap, none
 * reading or writing outside [0, len). */
static inline void copy_short(char *to, const char *from, size_t len) {
  _Static_assert(CX_CASE_ID_INLINE <= 48, "three 16-byte copies cover an id");
  if (len >= 16) {
    memcpy(to, from, 16);
    if (len > 32)
      memcpy(to + 16, from + 16, 16);
    memcpy(to + len - 16, from + len - 16, 16);
  } else if (len >= 8) {
    memcpy(to, from, 8);
    memcpy(to + len - 8, from + len - 8, 8);
  } else {
    for (size_t i = 0; i < len; i++)
      to[i] = from[i];
  }
}

void cx_case_keep_id(cx_case_kept_id_t *kept, cx_str_t event_id) {
  static const char hex[] = "0123456789abcdef";
  if (!event_id.ptr) {
    kept->len = 0;
    return;
  }
  if (event_id.len <= CX_CASE_ID_INLINE) {
    copy_short(kept->bytes, event_id.ptr, event_id.len);
    kept->len = (uint8_t)event_id.len;
    return;
  }
  uint64_t hash = cx_hash_inline(event_id);
  memcpy(kept->bytes, event_id.ptr, HASHED_PREFIX);
  kept->bytes[HASHED_PREFIX] = '~';
  for (int i = 0; i < 16; i++)
    kept->bytes[HASHED_PREFIX + 1 + i] = hex[(hash >> (60 - 4 * i)) & 15];
  kept->len = CX_CASE_ID_INLINE;
}

cx_str_t cx_case_kept_id(const cx_case_kept_id_t *kept) {
  cx_str_t s = {kept->bytes, kept->len};
  return s;
}

static int64_t deadline_of(int64_t opened_ms, int64_t sla_ms) {
  if (sla_ms < 0)
    sla_ms = 0;
  return opened_ms > INT64_MAX - sla_ms ? INT64_MAX : opened_ms + sla_ms;
}

/* A slot whose SLA timer may still fire the rule: never given to another case. */
static bool pending(const cx_case_slot_t *slot, int64_t sla_ms) {
  return (slot->flags & CX_CASE_SLOT_USED) && (slot->flags & CX_CASE_SLOT_ARMED) &&
         !(slot->flags & CX_CASE_SLOT_BREACHED) && slot->opened_ms != UNKNOWN_MS &&
         slot->resolved_ms >= deadline_of(slot->opened_ms, sla_ms);
}

static int64_t last_activity(const cx_case_slot_t *slot) {
  return slot->resolved_ms != UNRESOLVED_MS && slot->resolved_ms > slot->opened_ms
             ? slot->resolved_ms
             : slot->opened_ms;
}

static cx_case_slot_t *find(cx_customer_t *customer, uint64_t case_hash) {
  for (int i = 0; i < customer->case_slots; i++)
    if ((customer->cases[i].flags & CX_CASE_SLOT_USED) && customer->cases[i].case_hash == case_hash)
      return &customer->cases[i];
  return NULL;
}

/* A slot for a new case: a never used one (the first slot not allocated is
 * allocated here: slots not allocated are never used ones), else the one
 * least recently touched among those without a pending timer; NULL when all
 * four are pending (the new case is then not tracked). Reuse bumps the
 * generation, so the old case's timers are stale. *nomem: out of memory. */
static cx_case_slot_t *take(cx_customer_t *customer, uint64_t case_hash, int64_t sla_ms,
                            bool *nomem) {
  cx_case_slot_t *best = NULL;
  bool unused = false;
  for (int i = 0; i < customer->case_slots; i++) {
    cx_case_slot_t *slot = &customer->cases[i];
    if (!(slot->flags & CX_CASE_SLOT_USED)) {
      best = slot;
      unused = true;
      break;
    }
    if (!pending(slot, sla_ms) && (!best || last_activity(slot) < last_activity(best)))
      best = slot;
  }
  if (!unused && customer->case_slots < CX_CASE_SLOTS) {
    int slots = customer->case_slots;
    if (!cx_customer_cases_mut(customer, slots + 1)) {
      *nomem = true;
      return NULL;
    }
    best = &customer->cases[slots];
  }
  if (!best)
    return NULL;
  uint32_t generation = best->generation + 1;
  memset(best, 0, sizeof(*best));
  best->generation = generation;
  best->flags = CX_CASE_SLOT_USED;
  best->case_hash = case_hash;
  best->opened_ms = UNKNOWN_MS;
  best->resolved_ms = UNRESOLVED_MS;
  return best;
}

static void arm(const cx_customer_t *customer, cx_case_slot_t *slot, int64_t sla_ms,
                const cx_timer_sink_t *timers) {
  slot->generation++;
  slot->flags = (uint8_t)((slot->flags | CX_CASE_SLOT_ARMED) & ~CX_CASE_SLOT_BREACHED);
  uint64_t payload = (uint64_t)slot->generation << 8 | (uint64_t)(slot - customer->cases);
  timers->set(timers->opaque, CX_RULE_UNRESOLVED_CASE, deadline_of(slot->opened_ms, sla_ms),
              payload);
}

static void open_case(cx_customer_t *customer, cx_case_slot_t *slot, uint64_t case_hash,
                      const cx_event_t *event, int64_t sla_ms, const cx_timer_sink_t *timers,
                      bool *nomem) {
  int64_t t = event->occurred_at_ms;
  /* Already open, or opened again before its own resolution: the same life
   * of the case (a duplicate), so the first open's SLA stands. */
  if (slot && slot->opened_ms != UNKNOWN_MS &&
      (slot->resolved_ms == UNRESOLVED_MS || t <= slot->resolved_ms))
    return;
  if (!slot) {
    slot = take(customer, case_hash, sla_ms, nomem);
    if (!slot)
      return;
  } else if (slot->resolved_ms < t) {
    slot->resolved_ms = UNRESOLVED_MS; /* a new life: that resolution closed an earlier one */
  }
  /* Otherwise its resolution, at or after t, arrived first: it stays, and the
   * timer fires only when it came too late. */
  slot->opened_ms = t;
  slot->reopened = 0;
  cx_case_keep_id(&slot->opened_id, event->event_id);
  arm(customer, slot, sla_ms, timers);
}

static void resolve_case(cx_customer_t *customer, cx_case_slot_t *slot, uint64_t case_hash,
                         int64_t t, int64_t sla_ms, bool *nomem) {
  if (!slot) {
    /* Unknown case: remembered, in case its CASE_OPENED arrives later. */
    slot = take(customer, case_hash, sla_ms, nomem);
    if (slot)
      slot->resolved_ms = t;
    return;
  }
  if (slot->opened_ms != UNKNOWN_MS && t < slot->opened_ms)
    return; /* predates the running SLA: it resolved an earlier life */
  if (t < slot->resolved_ms)
    slot->resolved_ms = t;
}

static bool reopen_case(const cx_rules_config_t *config, cx_customer_t *customer,
                        cx_case_slot_t *slot, uint64_t case_hash, bool has_case,
                        const cx_event_t *event, const cx_timer_sink_t *timers,
                        cx_alert_t *alert, bool *nomem) {
  int64_t t = event->occurred_at_ms, sla_ms = config->unresolved_case.sla_ms;
  int64_t since_ms = t - 1; /* the window holds the trigger alone when the case is unknown */
  int64_t reopened = 1;
  alert->evidence_count = 0;
  if (has_case && !slot) {
    slot = take(customer, case_hash, sla_ms, nomem);
    if (*nomem)
      return false;
  }
  if (slot) {
    if (slot->opened_ms != UNKNOWN_MS && slot->opened_ms < t)
      since_ms = slot->opened_ms;
    if (!slot->opened_id.len)
      cx_case_keep_id(&slot->opened_id, event->event_id);
    if (slot->reopened < UINT8_MAX)
      slot->reopened++;
    reopened = slot->reopened;
    slot->opened_ms = t;
    slot->resolved_ms = UNRESOLVED_MS;
    arm(customer, slot, sla_ms, timers);
    cx_str_t opened_id = cx_case_kept_id(&slot->opened_id);
    if (opened_id.len != event->event_id.len ||
        memcmp(opened_id.ptr, event->event_id.ptr, opened_id.len))
      alert->evidence[alert->evidence_count++] = opened_id;
  }
  alert->evidence[alert->evidence_count++] = event->event_id;
  cx_alert_add_reason(alert, "reopened", reopened, (double)reopened);
  cx_alert_set_window(alert, t, t - since_ms);
  return true;
}

CX_DETECTOR_EVALUATE(unresolved_case) {
  const cx_event_t *event = input->event;
  if (event->type != CX_EVENT_CASE_OPENED && event->type != CX_EVENT_CASE_RESOLVED &&
      event->type != CX_EVENT_CASE_REOPENED)
    return false;
  cx_customer_t *customer = input->customer;
  int64_t sla_ms = config->unresolved_case.sla_ms;
  bool has_case = event->case_id.ptr && event->case_id.len;
  uint64_t case_hash = has_case ? cx_hash_inline(event->case_id) : 0;
  cx_case_slot_t *slot = has_case ? find(customer, case_hash) : NULL;
  bool nomem = false, fired = false;
  if (event->type == CX_EVENT_CASE_REOPENED)
    fired = reopen_case(config, customer, slot, case_hash, has_case, event, timers, alert, &nomem);
  else if (has_case && event->type == CX_EVENT_CASE_OPENED)
    open_case(customer, slot, case_hash, event, sla_ms, timers, &nomem);
  else if (has_case)
    resolve_case(customer, slot, case_hash, event->occurred_at_ms, sla_ms, &nomem);
  if (nomem)
    input->nomem = true;
  return fired;
}

CX_DETECTOR_ON_TIMER(unresolved_case) {
  (void)timers;
  uint64_t index = input->payload & 0xff;
  uint32_t generation = (uint32_t)(input->payload >> 8);
  if (index >= input->customer->case_slots) /* set with the timer */
    return false;
  cx_case_slot_t *slot = &input->customer->cases[index];
  uint8_t want = CX_CASE_SLOT_USED | CX_CASE_SLOT_ARMED;
  if ((slot->flags & (want | CX_CASE_SLOT_BREACHED)) != want ||
      slot->generation != generation || slot->opened_ms == UNKNOWN_MS)
    return false; /* closed, re-timed or reused since the timer was set */
  int64_t deadline_ms = input->fire_ms;
  if (slot->resolved_ms < deadline_ms)
    return false; /* resolved within the SLA */
  slot->flags |= CX_CASE_SLOT_BREACHED;
  int64_t open_ms = deadline_ms - slot->opened_ms;
  int64_t sla_ms = config->unresolved_case.sla_ms > 0 ? config->unresolved_case.sla_ms : 1;
  alert->trigger_event_id = cx_case_kept_id(&slot->opened_id);
  alert->event_time_ms = deadline_ms;
  alert->evidence[0] = alert->trigger_event_id;
  alert->evidence_count = 1;
  cx_alert_add_reason(alert, "open_ms", open_ms, (double)open_ms / (double)sla_ms);
  if (slot->reopened)
    cx_alert_add_reason(alert, "reopened", slot->reopened, (double)slot->reopened);
  cx_alert_set_window(alert, deadline_ms, open_ms);
  return true;
}
CX_DETECTOR_REARM(unresolved_case) {
  /* A slot whose SLA timer may still fire gets it again, with the same
   * generation, so the restored timer matches the slot as the lost one did. */
  int64_t sla_ms = config->unresolved_case.sla_ms;
  for (int i = 0; i < customer->case_slots; i++) {
    const cx_case_slot_t *slot = &customer->cases[i];
    if (!pending(slot, sla_ms))
      continue;
    uint64_t payload = (uint64_t)slot->generation << 8 | (uint64_t)i;
    timers->set(timers->opaque, CX_RULE_UNRESOLVED_CASE, deadline_of(slot->opened_ms, sla_ms),
                payload);
  }
}
