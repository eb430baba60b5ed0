/* Detectors of single strong signals and their short sequences:
 * negative_voice, broken_promise, cancellation_intent, escalation,
 * payment_friction, frustration_then_intent (see docs/rules.md). */
#ifndef CX_DETECT_SIGNALS_H
#define CX_DETECT_SIGNALS_H

#include <stdint.h>

#include "rules.h"

/* Per-customer state of these detectors (fixed size, no heap). */
typedef struct cx_signals_state_s {
  int64_t unused; /* placeholder until a detector needs state of its own */
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

#endif
