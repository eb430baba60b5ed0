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

/* The events each detector can act on (cx_detector_t.signals, .channels). */
#define cx_detect_channel_hopping_signals \
  (CX_SIGNAL_TYPE(CX_EVENT_CONTACT) | CX_SIGNAL_TYPE(CX_EVENT_SELF_SERVICE))
#define cx_detect_channel_hopping_channels (CX_CHANNELS_ANY)
#define cx_detect_transfer_loop_signals \
  (CX_SIGNAL_TYPE(CX_EVENT_CONTACT) | CX_SIGNAL_TYPE(CX_EVENT_TRANSFER))
#define cx_detect_transfer_loop_channels (CX_CHANNELS_ANY)
#define cx_detect_self_service_fallout_signals (CX_SIGNAL_TYPE(CX_EVENT_CONTACT))
#define cx_detect_self_service_fallout_channels (CX_CHANNELS_ANY)

#endif
