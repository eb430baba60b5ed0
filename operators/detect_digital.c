/* digital_friction and engagement_drop (see detect_digital.h, docs/rules.md).
 * engagement_drop keeps one check timer per customer: set for the end of the
 * last digital day, each check sets the next day's, up to `recent` days
 * after the last digital event; from then on the recent count stays 0 and
 * the baseline can only shrink, so one more check on the first day whose
 * baseline the history covers (when later) is the last that could fire.
 * A token in the payload makes older timers stale. */
#include "detect_digital.h"

#include <assert.h>
#include <string.h>

#include "hash_inline.h"
#include "state.h"

static bool is_digital(cx_channel_t channel) {
  return channel == CX_CHANNEL_APP || channel == CX_CHANNEL_WEB;
}

static int32_t clamp_int32(int64_t value) {
  return value > INT32_MAX ? INT32_MAX : value < INT32_MIN ? INT32_MIN : (int32_t)value;
}

/* The session of the event among those followed, or a slot started for it
 * (a free one, else the least recently active). Slots not allocated are
 * free: the first free one past them is allocated here. NULL when out of
 * memory. */
static cx_digital_session_t *follow_session(cx_customer_t *customer,
                                           const cx_detect_input_t *input, int64_t gap_ms) {
  int64_t t = input->event->occurred_at_ms;
  cx_str_t attribute_value = input->session;
  bool implicit = !attribute_value.ptr;
  uint64_t hash = implicit ? 0 : cx_hash_inline(attribute_value);
  cx_digital_session_t *sessions = customer->sessions, *slot = NULL;
  int slots = customer->session_slots;
  for (int i = 0; i < slots && !slot; i++) {
    cx_digital_session_t *session = &sessions[i];
    bool session_implicit = session->flags & CX_DIGITAL_SESSION_IMPLICIT;
    if ((session->flags & CX_DIGITAL_SESSION_ACTIVE) && session_implicit == implicit &&
        session->hash == hash)
      slot = session;
  }
  /* An implicit session ends at a gap of session_gap: the next one reuses its slot. */
  bool same = slot && (!implicit || t <= slot->last_ms || t - slot->last_ms < gap_ms);
  if (same) {
    if (t < slot->first_ms)
      slot->first_ms = t;
    if (t > slot->last_ms)
      slot->last_ms = t;
    return slot;
  }
  for (int i = 0; i < slots && !slot; i++) {
    cx_digital_session_t *session = &sessions[i];
    if (!(session->flags & CX_DIGITAL_SESSION_ACTIVE))
      slot = session;
  }
  if (!slot && slots < CX_DIGITAL_SESSIONS) {
    sessions = cx_customer_sessions_mut(customer, slots + 1);
    if (!sessions)
      return NULL;
    slot = &sessions[slots];
  }
  if (!slot) {
    slot = &sessions[0];
    for (int i = 1; i < CX_DIGITAL_SESSIONS; i++)
      if (sessions[i].last_ms < slot->last_ms)
        slot = &sessions[i];
  }
  memset(slot, 0, sizeof(*slot));
  slot->hash = hash;
  slot->first_ms = t;
  slot->last_ms = t;
  slot->flags = (uint8_t)(CX_DIGITAL_SESSION_ACTIVE | (implicit ? CX_DIGITAL_SESSION_IMPLICIT : 0));
  return slot;
}

static bool failures(const cx_rules_config_t *config, cx_digital_session_t *session,
                     const cx_event_t *event, cx_alert_t *alert) {
  if (session->failures < UINT16_MAX)
    session->failures++;
  int64_t min_failures = config->digital_friction.min_failures > 0
                             ? config->digital_friction.min_failures : 1;
  if (session->failures < min_failures || (session->flags & CX_DIGITAL_FAILURES_FIRED))
    return false;
  session->flags |= CX_DIGITAL_FAILURES_FIRED;
  int64_t t = event->occurred_at_ms;
  cx_alert_add_reason(alert, "failures", session->failures,
                      (double)session->failures / (double)min_failures);
  cx_alert_set_window(alert, t, t - session->first_ms + 1); /* the session so far */
  alert->evidence[0] = event->event_id;
  alert->evidence_count = 1;
  return true;
}

/* Click runs: the gaps between the latest clicks on one element give the
 * span of the latest n of them without keeping their times. */
static bool rage_clicks(const cx_rules_config_t *config, cx_digital_session_t *session,
                        const cx_detect_input_t *input, cx_alert_t *alert) {
  const cx_event_t *event = input->event;
  int64_t t = event->occurred_at_ms;
  cx_str_t element = input->element;
  if (!element.ptr) {
    session->run_clicks = 0; /* a click on no known element breaks the run */
    return false;
  }
  uint64_t element_hash = cx_hash_inline(element);
  if (session->run_clicks && session->element_hash == element_hash) {
    memmove(session->click_gaps_ms + 1, session->click_gaps_ms,
            (CX_DIGITAL_RAGE_MAX - 2) * sizeof(session->click_gaps_ms[0]));
    session->click_gaps_ms[0] = clamp_int32(t - session->click_last_ms);
    if (session->run_clicks < UINT16_MAX)
      session->run_clicks++;
  } else {
    session->element_hash = element_hash;
    session->run_clicks = 1;
  }
  session->click_last_ms = t;
  int64_t n = config->digital_friction.rage_clicks;
  n = n < 1 ? 1 : n > CX_DIGITAL_RAGE_MAX ? CX_DIGITAL_RAGE_MAX : n;
  if (session->run_clicks < n || (session->flags & CX_DIGITAL_RAGE_FIRED))
    return false;
  /* Times of the latest n clicks relative to the latest one (arrival order
   * need not be time order): they must lie within less than rage_window. */
  int64_t relative = 0, lowest = 0, highest = 0;
  for (int64_t i = 0; i < n - 1; i++) {
    relative -= session->click_gaps_ms[i];
    lowest = relative < lowest ? relative : lowest;
    highest = relative > highest ? relative : highest;
  }
  int64_t width = config->digital_friction.rage_window_ms;
  if (highest - lowest >= width)
    return false;
  session->flags |= CX_DIGITAL_RAGE_FIRED;
  cx_alert_add_reason(alert, "rage_clicks", n, 1.0); /* a burst is exactly its threshold */
  cx_alert_set_window(alert, t, width);
  alert->evidence[0] = event->event_id;
  alert->evidence_count = 1;
  return true;
}

CX_DETECTOR_EVALUATE(digital_friction) {
  (void)timers;
  const cx_event_t *event = input->event;
  bool click = event->type == CX_EVENT_CLICK;
  bool failure = event->type == CX_EVENT_ERROR || event->type == CX_EVENT_LOGIN_FAILED;
  if (!is_digital(event->channel) || (!click && !failure))
    return false;
  cx_digital_session_t *session = follow_session(input->customer, input,
                                                 config->digital_friction.session_gap_ms);
  if (!session) {
    input->nomem = true;
    return false;
  }
  return failure ? failures(config, session, event, alert)
                 : rage_clicks(config, session, input, alert);
}

/* Whole days of the two periods; false when the ring cannot hold them. */
static bool engagement_days(const cx_rules_config_t *config, int64_t *recent_days,
                            int64_t *baseline_days) {
  *recent_days = config->engagement_drop.recent_ms / CX_WINDOW_DAY_MS;
  *baseline_days = config->engagement_drop.baseline_ms / CX_WINDOW_DAY_MS;
  return *recent_days >= 1 && *baseline_days >= 1 &&
         *recent_days <= CX_WINDOW_DAYS - *baseline_days;
}

/* The check at time check_ms (see docs/rules.md); fills reasons and window.
 * recent_days and baseline_days are engagement_days' (which gave true). */
static bool engagement_check(const cx_rules_config_t *config, const cx_digital_state_t *state,
                             int64_t recent_days, int64_t baseline_days, int64_t check_ms,
                             cx_alert_t *alert) {
  if (!(state->engagement_flags & CX_DIGITAL_SEEN))
    return false;
  int64_t day = cx_window_day(check_ms);
  int64_t baseline_first = day - recent_days - baseline_days + 1;
  if (state->first_day > baseline_first || baseline_first < cx_window_days_oldest(&state->days))
    return false; /* the history does not cover the whole baseline */
  uint32_t baseline = cx_window_days_sum(&state->days, baseline_first, day - recent_days);
  double max_ratio = config->engagement_drop.max_ratio;
  double min_per_day = config->engagement_drop.min_baseline_per_day;
  /* Rates compared as cross products: exact for the integer counts. The
   * baseline first: too thin a one needs no recent count. */
  if (baseline == 0 || (double)baseline < min_per_day * (double)baseline_days)
    return false;
  uint32_t recent = cx_window_days_sum(&state->days, day - recent_days + 1, day);
  if ((double)recent * (double)baseline_days > max_ratio * (double)baseline * (double)recent_days)
    return false;
  double ratio = ((double)recent / (double)recent_days) / ((double)baseline / (double)baseline_days);
  cx_alert_add_reason(alert, "recent_per_day_x1000", (int64_t)recent * 1000 / recent_days,
                      max_ratio < 1 ? (1 - ratio) / (1 - max_ratio) : 1);
  cx_alert_add_reason(alert, "baseline_per_day_x1000", (int64_t)baseline * 1000 / baseline_days,
                      min_per_day > 0 ? (double)baseline / (double)baseline_days / min_per_day
                                      : 1);
  int64_t start_ms = cx_window_day_start_ms(baseline_first); /* the window is (start, end] */
  alert->window_start_ms = start_ms == INT64_MIN ? INT64_MIN : start_ms - 1;
  alert->window_end_ms = check_ms;
  return true;
}

static void set_check(cx_digital_state_t *state, int64_t day, const cx_timer_sink_t *timers) {
  state->check_day = day;
  state->check_token++;
  state->engagement_flags |= CX_DIGITAL_CHECK_ARMED;
  timers->set(timers->opaque, CX_RULE_ENGAGEMENT_DROP, cx_window_day_end_ms(day),
              state->check_token);
}

CX_DETECTOR_EVALUATE(engagement_drop) {
  const cx_event_t *event = input->event;
  if (!is_digital(event->channel))
    return false;
  int64_t t = event->occurred_at_ms, day = cx_window_day(t);
  const cx_digital_state_t *held = cx_customer_digital(input->customer);
  bool last = !(held->engagement_flags & CX_DIGITAL_SEEN) || t >= held->last_ms;
  /* Room for the event's id when it becomes the last one, before any change. */
  cx_digital_state_t *state =
      cx_customer_digital_mut_room(input->customer, last && event->event_id.ptr ? event->event_id.len : 0);
  if (!state) {
    input->nomem = true;
    return false;
  }
  int64_t recent_days, baseline_days;
  bool days_ok = engagement_days(config, &recent_days, &baseline_days);
  if (cx_window_days_add(&state->days, day, 1) < 0) { /* before any other change */
    input->nomem = true;
    return false;
  }
  if (!(state->engagement_flags & CX_DIGITAL_SEEN) || day < state->first_day)
    state->first_day = day;
  state->engagement_flags |= CX_DIGITAL_SEEN;
  if (last) {
    state->last_ms = t;
    cx_digital_keep_last_id(state, event->event_id);
    state->engagement_flags &= (uint8_t)~CX_DIGITAL_LAST_HIT;
  }
  bool fired = days_ok && engagement_check(config, state, recent_days, baseline_days, t, alert);
  if (fired) {
    alert->evidence[0] = event->event_id;
    alert->evidence_count = 1;
    if (last)
      state->engagement_flags |= CX_DIGITAL_LAST_HIT;
  }
  /* Silence checks, unless one is pending (not yet due: it will see this
   * event) or the last event has had its hit. A due or lost one (popped
   * while the rule was disabled) is replaced; its token makes it stale. */
  bool pending = (state->engagement_flags & CX_DIGITAL_CHECK_ARMED) &&
                 cx_window_day_end_ms(state->check_day) >= input->watermark_ms;
  if (!pending && !(state->engagement_flags & CX_DIGITAL_LAST_HIT) && days_ok) {
    int64_t last_day = cx_window_day(state->last_ms);
    bool armed = state->engagement_flags & CX_DIGITAL_CHECK_ARMED;
    set_check(state, armed && state->check_day > last_day ? state->check_day : last_day, timers);
  }
  return fired;
}

CX_DETECTOR_ON_TIMER(engagement_drop) {
  cx_digital_state_t *state = input->customer->digital; /* set with the timer */
  if (!state || !(state->engagement_flags & CX_DIGITAL_CHECK_ARMED) ||
      input->payload != state->check_token)
    return false; /* replaced since */
  state->engagement_flags &= (uint8_t)~CX_DIGITAL_CHECK_ARMED;
  int64_t day = state->check_day, last_day = cx_window_day(state->last_ms);
  int64_t recent_days, baseline_days;
  if (state->engagement_flags & CX_DIGITAL_LAST_HIT ||
      !engagement_days(config, &recent_days, &baseline_days))
    return false; /* nothing more can fire until the next digital event */
  if (last_day > day) {
    set_check(state, last_day, timers); /* a later digital event arrived: check from its day */
    return false;
  }
  bool fired = engagement_check(config, state, recent_days, baseline_days, input->fire_ms, alert);
  if (fired) {
    state->engagement_flags |= CX_DIGITAL_LAST_HIT;
    alert->trigger_event_id = cx_digital_last_id(state);
    alert->event_time_ms = input->fire_ms;
    alert->evidence[0] = alert->trigger_event_id;
    alert->evidence_count = 1;
  } else if (day < last_day + recent_days) {
    set_check(state, day + 1, timers);
  } else if (state->first_day + recent_days + baseline_days - 1 > day) {
    /* Silent from here on, so only the first day whose baseline the history
     * covers can still fire. */
    set_check(state, state->first_day + recent_days + baseline_days - 1, timers);
  }
  return fired;
}

CX_DETECTOR_REARM(engagement_drop) {
  (void)config;
  /* The armed day-end check comes back with its token, so it is the live one. */
  const cx_digital_state_t *state = cx_customer_digital(customer);
  if (!(state->engagement_flags & CX_DIGITAL_CHECK_ARMED))
    return;
  timers->set(timers->opaque, CX_RULE_ENGAGEMENT_DROP, cx_window_day_end_ms(state->check_day),
              state->check_token);
}

void cx_digital_keep_last_id(cx_digital_state_t *state, cx_str_t event_id) {
  if (!event_id.ptr) {
    state->last_id_len = 0;
  } else if (event_id.len <= CX_CASE_ID_INLINE) {
    memcpy(state->last_id, event_id.ptr, event_id.len);
    state->last_id_len = (uint8_t)event_id.len;
  } else {
    cx_case_kept_id_t kept;
    cx_case_keep_id(&kept, event_id);
    memcpy(state->last_id, kept.bytes, kept.len);
    state->last_id_len = kept.len;
  }
  assert(state->last_id_len <= state->last_id_room);
}

/* Blocks sized to the allocator's classes (jemalloc: 80; 96, 112 or 128):
 * growing a field past them costs a whole class more per customer. */
_Static_assert(sizeof(cx_digital_session_t) <= 80, "a session slot is 80 bytes");
_Static_assert(offsetof(cx_digital_state_t, last_id) == 87,
               "engagement_drop's block: 87 bytes and the id (96 bytes up to a 9-byte id)");
_Static_assert((offsetof(cx_digital_state_t, last_id) + CX_CASE_ID_INLINE + 15) / 16 * 16 <= 128,
               "engagement_drop's block with the longest kept id is 128 bytes");
