/* Wall-clock and monotonic time in milliseconds, and time parsing for the
 * command line (ISO-8601 or epoch milliseconds). */
#ifndef CX_CLOCK_H
#define CX_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

int64_t cx_clock_wall_ms(void);
int64_t cx_clock_mono_ms(void);

/* 9999-12-31T23:59:59.999Z, the largest time the parser accepts. */
#define CX_CLOCK_MAX_MS 253402300799999LL

/* Parses YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|(+|-)HH[:]MM] (UTC when no
 * offset; dates from 1970, checked for real days) or epoch milliseconds
 * (digits only), e.g. "2026-01-05T10:00:00Z", "2026-01-05 10:00+02:00",
 * "2026-01-05", "1767607200000". */
cx_err_t cx_clock_parse_time(const char *text, int64_t *ms);

/* Writes ms as "2026-01-05T10:00:00.000Z". */
void cx_clock_format_utc(int64_t ms, char *out, size_t out_size);

#endif
