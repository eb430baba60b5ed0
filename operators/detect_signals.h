/* Detectors of single strong signals and their short sequences:
 * negative_voice, broken_promise, cancellation_intent, escalation,
 * payment_friction, frustration_then_intent (see docs/rules.md). Each reads
 * one event's fields and attributes; payment problems and broken promises
 * are not interaction events, so their recent times are kept here. */
#ifndef CX_DETECT_SIGNALS_H
#define CX_DETECT_SIGNALS_H

#include <stdint.h>

#include "rules.h"

/* Times kept per signal. Counts over a window therefore saturate here: a
 * customer with more in the window counts as this many, and a
 * rules.payment_friction.min_failures above it acts as this many. */
#define CX_SIGNALS_MAX_TIMES 8

/* Per-customer state of these detectors (fixed size, no heap): the event
 * times of the latest payment problems and broken promises, each array
 * sorted oldest first. An out-of-order event is inserted in time order;
 * when full, the oldest time is dropped (or the new one, when older still). */
typedef struct cx_signals_state_s {
  int64_t payment_ms[CX_SIGNALS_MAX_TIMES];        /* payment problems, oldest first */
  int64_t broken_promise_ms[CX_SIGNALS_MAX_TIMES]; /* broken promises, oldest first */
  uint8_t payment_count;                           /* entries of payment_ms in use */
  uint8_t broken_promise_count;                    /* entries of broken_promise_ms in use */
} cx_signals_state_t;

CX_DETECTOR_EVALUATE(negative_voice);
CX_DETECTOR_EVALUATE(broken_promise);
CX_DETECTOR_EVALUATE(cancellation_intent);
CX_DETECTOR_EVALUATE(escalation);
CX_DETECTOR_EVALUATE(payment_friction);
CX_DETECTOR_EVALUATE(frustration_then_intent);
#define cx_detect_negative_voice_on_timer NULL
#define cx_detect_broken_promise_on_timer NULL
#define cx_detect_cancellation_intent_on_timer NULL
#define cx_detect_escalation_on_timer NULL
#define cx_detect_payment_friction_on_timer NULL
#define cx_detect_frustration_then_intent_on_timer NULL

#define cx_detect_negative_voice_rearm NULL
#define cx_detect_broken_promise_rearm NULL
#define cx_detect_cancellation_intent_rearm NULL
#define cx_detect_escalation_rearm NULL
#define cx_detect_payment_friction_rearm NULL
#define cx_detect_frustration_then_intent_rearm NULL

/* The events each detector can act on (cx_detector_t.signals, .channels). */
#define cx_detect_negative_voice_signals (CX_SIGNAL_VOICE)
#define cx_detect_negative_voice_channels (CX_CHANNELS_ANY)
#define cx_detect_broken_promise_signals \
  (CX_SIGNAL_TYPE(CX_EVENT_APPOINTMENT_MISSED) | CX_SIGNAL_PROMISE)
#define cx_detect_broken_promise_channels (CX_CHANNELS_ANY)
#define cx_detect_cancellation_intent_signals \
  (CX_SIGNAL_TYPE(CX_EVENT_CANCEL_INTENT) | CX_SIGNAL_INTENT | CX_SIGNAL_COMPETITOR)
#define cx_detect_cancellation_intent_channels (CX_CHANNELS_ANY)
#define cx_detect_escalation_signals \
  (CX_SIGNAL_TYPE(CX_EVENT_COMPLAINT) | CX_SIGNAL_TYPE(CX_EVENT_REVIEW) | CX_SIGNAL_ESCALATED)
#define cx_detect_escalation_channels (CX_CHANNELS_ANY)
#define cx_detect_payment_friction_signals \
  (CX_SIGNAL_TYPE(CX_EVENT_PAYMENT_FAILED) | CX_SIGNAL_BILLING_DISPUTE | CX_SIGNAL_DISPUTE)
#define cx_detect_payment_friction_channels (CX_CHANNELS_ANY)
#define cx_detect_frustration_then_intent_signals (cx_detect_cancellation_intent_signals)
#define cx_detect_frustration_then_intent_channels (CX_CHANNELS_ANY)

#endif
