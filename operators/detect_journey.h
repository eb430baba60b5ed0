/* Detectors over the customer's interaction log: channel_hopping,
 * transfer_loop, self_service_fallout (see docs/rules.md). */
#ifndef CX_DETECT_JOURNEY_H
#define CX_DETECT_JOURNEY_H

#include <stdint.h>

#include "rules.h"

/* Per-customer state of these detectors (fixed size, no heap). */
typedef struct cx_journey_state_s {
  int64_t unused; /* placeholder until a detector needs state of its own */
} cx_journey_state_t;

CX_DETECTOR_EVALUATE(channel_hopping);
CX_DETECTOR_EVALUATE(transfer_loop);
CX_DETECTOR_EVALUATE(self_service_fallout);
#define cx_detect_channel_hopping_on_timer NULL
#define cx_detect_transfer_loop_on_timer NULL
#define cx_detect_self_service_fallout_on_timer NULL

#endif
