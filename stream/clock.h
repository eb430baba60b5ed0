/* Wall-clock and monotonic time in milliseconds, and time parsing for the
 * command line (ISO-8601 or epoch milliseconds). */
#ifndef CX_CLOCK_H
#define CX_CLOCK_H

#include <stdint.h>

#include "err.h"

int64_t cx_clock_wall_ms(void);
int64_t cx_clock_mono_ms(void);

/* Parses "2026-01-05T10:00:00Z", "2026-01-05T10:00:00.250+02:00",
 * "2026-01-05" (midnight UTC) or epoch milliseconds ("1767607200000"). */
cx_err_t cx_clock_parse_time(const char *text, int64_t *ms);

#endif
