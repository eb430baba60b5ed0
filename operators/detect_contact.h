/* The three exact rules of DESIGN.md section 6 over the customer's CONTACT
 * events: repeat_contact, long_wait, abandonment (see docs/rules.md). */
#ifndef CX_DETECT_CONTACT_H
#define CX_DETECT_CONTACT_H

#include "rules.h"

CX_DETECTOR_EVALUATE(repeat_contact);
CX_DETECTOR_EVALUATE(long_wait);
CX_DETECTOR_EVALUATE(abandonment);
#define cx_detect_repeat_contact_on_timer NULL
#define cx_detect_long_wait_on_timer NULL
#define cx_detect_abandonment_on_timer NULL

#define cx_detect_repeat_contact_rearm NULL
#define cx_detect_long_wait_rearm NULL
#define cx_detect_abandonment_rearm NULL

/* The events each detector can act on (cx_detector_t.signals, .channels). */
#define cx_detect_repeat_contact_signals (CX_SIGNAL_TYPE(CX_EVENT_CONTACT))
#define cx_detect_repeat_contact_channels (CX_CHANNELS_ANY)
#define cx_detect_long_wait_signals (CX_SIGNAL_TYPE(CX_EVENT_CONTACT))
#define cx_detect_long_wait_channels (CX_CHANNELS_ANY)
#define cx_detect_abandonment_signals (CX_SIGNAL_TYPE(CX_EVENT_CONTACT))
#define cx_detect_abandonment_channels (CX_CHANNELS_ANY)

#endif
