/* Detectors of digital behaviour: digital_friction (errors, failed logins,
 * rage clicks in one app/web session) and engagement_drop (recent digital
 * activity far below the customer's own baseline) (see docs/rules.md). */
#ifndef CX_DETECT_DIGITAL_H
#define CX_DETECT_DIGITAL_H

#include <stdint.h>

#include "rules.h"

/* Per-customer state of these detectors (fixed size, no heap). */
typedef struct cx_digital_state_s {
  int64_t unused; /* placeholder until a detector needs state of its own */
} cx_digital_state_t;

CX_DETECTOR_EVALUATE(digital_friction);
CX_DETECTOR_EVALUATE(engagement_drop);
#define cx_detect_digital_friction_on_timer NULL
CX_DETECTOR_ON_TIMER(engagement_drop);

#endif
