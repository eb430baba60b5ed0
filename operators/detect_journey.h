/* Detectors over the customer's shared interaction log (state.h):
 * channel_hopping, transfer_loop, self_service_fallout (see docs/rules.md).
 * They read the log, which already holds the trigger, and keep no state of
 * their own; an out-of-order trigger sees the log up to its own time only. */
#ifndef CX_DETECT_JOURNEY_H
#define CX_DETECT_JOURNEY_H

#include <stdint.h>

#include "rules.h"

CX_DETECTOR_EVALUATE(channel_hopping);
CX_DETECTOR_EVALUATE(transfer_loop);
CX_DETECTOR_EVALUATE(self_service_fallout);
#define cx_detect_channel_hopping_on_timer NULL
#define cx_detect_transfer_loop_on_timer NULL
#define cx_detect_self_service_fallout_on_timer NULL

#define cx_detect_channel_hopping_rearm NULL
#define cx_detect_transfer_loop_rearm NULL
#define cx_detect_self_service_fallout_rearm NULL

#endif
