/* Detectors of detect_signals.h. Most are point signals: their window is
 * the trigger alone and their evidence its id. payment_friction and
 * broken_promise count recent occurrences in a short sorted array of times
 * per customer (cx_signals_state_t); frustration_then_intent pairs
 * cancellation_intent's condition with the customer's latest frustration
 * alert, which the processor records. */
#include "detect_signals.h"

#include <math.h>
#include <string.h>

#include "state.h"
#include "window.h"

#define HOUR_MS (3600LL * 1000)
#define DAY_MS (24 * HOUR_MS)
#define BROKEN_PROMISE_WINDOW_MS (30 * DAY_MS) /* the count in broken_promise's reason */
#define REVIEW_MAX_CSAT 2                      /* escalation: a public negative review */
#define REVIEW_MAX_SENTIMENT (-0.5)

/* The window and evidence of a signal read from the trigger alone. */
static void point_signal(cx_alert_t *alert, const cx_event_t *event, int64_t width_ms) {
  alert->evidence[0] = event->event_id;
  alert->evidence_count = 1;
  cx_alert_set_window(alert, event->occurred_at_ms, width_ms);
}

/* How many of the kept times lie in (end_ms - width_ms, end_ms]. */
static int64_t times_in_window(const int64_t *times, uint8_t count, int64_t end_ms,
                               int64_t width_ms) {
  cx_window_range_t range = cx_window_sliding(times, count, sizeof(*times), 0, end_ms, width_ms);
  return (int64_t)(range.end - range.begin);
}

/* Inserts at_ms in time order after equal times; when full, drops the
 * oldest time, or at_ms itself when it is older than all kept. */
static void times_insert(int64_t *times, uint8_t *count, int64_t at_ms) {
  size_t used = *count;
  if (used == CX_SIGNALS_MAX_TIMES) {
    if (at_ms < times[0])
      return;
    memmove(times, times + 1, (used - 1) * sizeof(*times));
    used--;
  }
  size_t pos = used;
  for (; pos > 0 && times[pos - 1] > at_ms; pos--)
    times[pos] = times[pos - 1];
  times[pos] = at_ms;
  *count = (uint8_t)(used + 1);
}

/* Records an occurrence at t and returns how many fall in (t - width, t],
 * this one included, saturating at CX_SIGNALS_MAX_TIMES. Counted before the
 * insertion so that an occurrence too old to be kept still counts itself. */
static int64_t record_and_count(int64_t *times, uint8_t *count, int64_t t, int64_t width_ms) {
  int64_t in_window = times_in_window(times, *count, t, width_ms) + 1;
  times_insert(times, count, t);
  return in_window < CX_SIGNALS_MAX_TIMES ? in_window : CX_SIGNALS_MAX_TIMES;
}

/* negative_voice's reason weight for "value <= threshold" on a scale whose
 * best value is top: how far below the top, relative to the threshold's
 * distance from it (1.0 at the threshold, more the worse). */
static double below_ratio(double value, double threshold, double top) {
  return threshold < top ? (top - value) / (top - threshold) : 1.0;
}

CX_DETECTOR_EVALUATE(negative_voice) {
  (void)timers;
  const cx_event_t *event = input->event;
  bool sentiment = event->has_sentiment &&
                   (double)event->sentiment <= config->negative_voice.max_sentiment;
  bool csat = event->has_csat && event->csat <= config->negative_voice.max_csat;
  bool nps = event->has_nps && event->nps <= config->negative_voice.max_nps;
  if (!sentiment && !csat && !nps)
    return false;
  if (sentiment)
    cx_alert_add_reason(alert, "sentiment_x1000", (int64_t)llround(event->sentiment * 1000.0),
                        below_ratio(event->sentiment, config->negative_voice.max_sentiment, 1));
  if (csat)
    cx_alert_add_reason(alert, "csat", event->csat,
                        below_ratio(event->csat, (double)config->negative_voice.max_csat, 5));
  if (nps)
    cx_alert_add_reason(alert, "nps", event->nps,
                        below_ratio(event->nps, (double)config->negative_voice.max_nps, 10));
  point_signal(alert, event, 0);
  return true;
}

CX_DETECTOR_EVALUATE(broken_promise) {
  (void)config; (void)timers;
  const cx_event_t *event = input->event;
  if (event->type != CX_EVENT_APPOINTMENT_MISSED && !(input->signals & CX_SIGNAL_PROMISE))
    return false;
  cx_signals_state_t *state = cx_customer_signals_mut(input->customer);
  if (!state) {
    input->nomem = true;
    return false;
  }
  int64_t promises = record_and_count(state->broken_promise_ms, &state->broken_promise_count,
                                      event->occurred_at_ms, BROKEN_PROMISE_WINDOW_MS);
  cx_alert_add_reason(alert, "broken_promises", promises, (double)promises);
  point_signal(alert, event, BROKEN_PROMISE_WINDOW_MS);
  return true;
}

/* cancellation_intent's condition, shared with frustration_then_intent: a
 * CANCEL_INTENT, intent=cancel or port_out, a competitor mentioned. */
static bool cancel_signal(const cx_detect_input_t *input, bool *cancel, bool *competitor) {
  *cancel = input->event->type == CX_EVENT_CANCEL_INTENT || (input->signals & CX_SIGNAL_INTENT);
  *competitor = input->signals & CX_SIGNAL_COMPETITOR;
  return *cancel || *competitor;
}

CX_DETECTOR_EVALUATE(cancellation_intent) {
  (void)config; (void)timers;
  bool cancel, competitor;
  if (!cancel_signal(input, &cancel, &competitor))
    return false;
  if (cancel)
    cx_alert_add_reason(alert, "cancel_intent", 1, 1.0);
  if (competitor)
    cx_alert_add_reason(alert, "competitor_mention", 1, 1.0);
  point_signal(alert, input->event, 0);
  return true;
}

CX_DETECTOR_EVALUATE(escalation) {
  (void)config; (void)timers;
  const cx_event_t *event = input->event;
  bool complaint = event->type == CX_EVENT_COMPLAINT;
  bool escalated = event->outcome == CX_OUTCOME_ESCALATED;
  bool negative_review = event->type == CX_EVENT_REVIEW &&
                         ((event->has_csat && event->csat <= REVIEW_MAX_CSAT) ||
                          (event->has_sentiment &&
                           (double)event->sentiment <= REVIEW_MAX_SENTIMENT));
  if (!complaint && !escalated && !negative_review)
    return false;
  if (complaint)
    cx_alert_add_reason(alert, "complaint", 1, 1.0);
  if (escalated)
    cx_alert_add_reason(alert, "escalated", 1, 1.0);
  if (negative_review)
    cx_alert_add_reason(alert, "negative_review", 1, 1.0);
  point_signal(alert, event, 0);
  return true;
}

CX_DETECTOR_EVALUATE(payment_friction) {
  (void)timers;
  const cx_event_t *event = input->event;
  if (event->type != CX_EVENT_PAYMENT_FAILED &&
      !(input->signals & (CX_SIGNAL_BILLING_DISPUTE | CX_SIGNAL_DISPUTE)))
    return false;
  int64_t width = config->payment_friction.window_ms;
  cx_signals_state_t *state = cx_customer_signals_mut(input->customer);
  if (!state) {
    input->nomem = true;
    return false;
  }
  int64_t problems = record_and_count(state->payment_ms, &state->payment_count,
                                      event->occurred_at_ms, width);
  int64_t needed = config->payment_friction.min_failures;
  if (needed > CX_SIGNALS_MAX_TIMES)
    needed = CX_SIGNALS_MAX_TIMES; /* counts saturate there (detect_signals.h) */
  if (problems < needed)
    return false;
  cx_alert_add_reason(alert, "payment_problems", problems,
                      (double)problems / (double)config->payment_friction.min_failures);
  point_signal(alert, event, width);
  return true;
}

CX_DETECTOR_EVALUATE(frustration_then_intent) {
  (void)timers;
  bool cancel, competitor;
  if (!cancel_signal(input, &cancel, &competitor))
    return false;
  /* Only the latest frustration alert is known: an intent older than it
   * (out of order) does not look further back. */
  int64_t t = input->event->occurred_at_ms, width = config->frustration_then_intent.window_ms;
  int64_t frustration = cx_customer_rules(input->customer)->last_frustration_alert_ms;
  if (frustration == INT64_MIN || frustration > t || frustration <= cx_window_start(t, width))
    return false;
  cx_alert_add_reason(alert, "hours_since_frustration", (t - frustration) / HOUR_MS, 1.0);
  point_signal(alert, input->event, width);
  return true;
}
