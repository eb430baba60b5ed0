/* Detectors of detect_digital.h. */
#include "detect_digital.h"

#include "state.h"

CX_DETECTOR_EVALUATE(digital_friction) {
  (void)config; (void)input; (void)timers; (void)alert;
  return false;
}

CX_DETECTOR_EVALUATE(engagement_drop) {
  (void)config; (void)input; (void)timers; (void)alert;
  return false;
}

CX_DETECTOR_ON_TIMER(engagement_drop) {
  (void)config; (void)input; (void)timers; (void)alert;
  return false;
}

