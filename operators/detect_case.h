/* Detector of cases left open past their SLA (an event-time timer) or
 * reopened: unresolved_case (see docs/rules.md). */
#ifndef CX_DETECT_CASE_H
#define CX_DETECT_CASE_H

#include <stdint.h>

#include "rules.h"

/* Per-customer state of this detector (fixed size, no heap). */
typedef struct cx_case_state_s {
  int64_t unused; /* placeholder until the detector needs state of its own */
} cx_case_state_t;

CX_DETECTOR_EVALUATE(unresolved_case);
CX_DETECTOR_ON_TIMER(unresolved_case);

#endif
