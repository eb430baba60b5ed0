/* Detectors of detect_journey.h. */
#include "detect_journey.h"

#include "state.h"

CX_DETECTOR_EVALUATE(channel_hopping) {
  (void)config; (void)input; (void)timers; (void)alert;
  return false;
}

CX_DETECTOR_EVALUATE(transfer_loop) {
  (void)config; (void)input; (void)timers; (void)alert;
  return false;
}

CX_DETECTOR_EVALUATE(self_service_fallout) {
  (void)config; (void)input; (void)timers; (void)alert;
  return false;
}

