/* Clocks and time parsing (see clock.h). */
#include "clock.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t cx_clock_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cx_clock_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

cx_err_t cx_clock_parse_time(const char *text, int64_t *ms) {
  size_t len = strlen(text);
  if (len == 0)
    return CX_ERR_INVALID_ARG;
  size_t digits = 0;
  while (digits < len && isdigit((unsigned char)text[digits]))
    digits++;
  if (digits == len && len > 8) { /* epoch milliseconds */
    long long value = 0;
    if (sscanf(text, "%lld", &value) != 1)
      return CX_ERR_INVALID_ARG;
    *ms = value;
    return CX_OK;
  }
  int y, mo, d, h = 0, mi = 0, s = 0, n = 0;
  if (sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
    return CX_ERR_INVALID_ARG;
  const char *p = text + n;
  int64_t frac_ms = 0, offset_min = 0;
  if (*p == 'T' || *p == ' ') {
    int m = 0;
    if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &s, &m) != 3 || m != 8)
      return CX_ERR_INVALID_ARG;
    p += 1 + m;
    if (*p == '.') {
      int scale = 100;
      for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
        frac_ms += (*p - '0') * scale;
    }
    if (*p == 'Z') {
      p++;
    } else if (*p == '+' || *p == '-') {
      int oh, om, k = 0;
      if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5)
        return CX_ERR_INVALID_ARG;
      offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
      p += 1 + k;
    }
  }
  if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
    return CX_ERR_INVALID_ARG;
  int64_t days = days_from_civil(y, mo, d);
  *ms = ((days * 24 + h) * 60 + mi - offset_min) * 60000 + (int64_t)s * 1000 + frac_ms;
  return CX_OK;
}
