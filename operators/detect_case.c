/* Detectors of detect_case.h. */
#include "detect_case.h"

#include "state.h"

CX_DETECTOR_EVALUATE(unresolved_case) {
  (void)config; (void)input; (void)timers; (void)alert;
  return false;
}

CX_DETECTOR_ON_TIMER(unresolved_case) {
  (void)config; (void)input; (void)timers; (void)alert;
  return false;
}

