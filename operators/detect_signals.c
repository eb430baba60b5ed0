/* Detectors of detect_signals.h. */
#include "detect_signals.h"

#include "state.h"

CX_DETECTOR_EVALUATE(negative_voice) {
  (void)config; (void)input; (void)timers; (void)alert;
  return false;
}

CX_DETECTOR_EVALUATE(broken_promise) {
  (void)config; (void)input; (void)timers; (void)alert;
  return false;
}

CX_DETECTOR_EVALUATE(cancellation_intent) {
  (void)config; (void)input; (void)timers; (void)alert;
  return false;
}

CX_DETECTOR_EVALUATE(escalation) {
  (void)config; (void)input; (void)timers; (void)alert;
  return false;
}

CX_DETECTOR_EVALUATE(payment_friction) {
  (void)config; (void)input; (void)timers; (void)alert;
  return false;
}

CX_DETECTOR_EVALUATE(frustration_then_intent) {
  (void)config; (void)input; (void)timers; (void)alert;
  return false;
}

