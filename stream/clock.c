/* Clocks, and the one parser and printer of times for the command lines
 * (ISO-8601 UTC or with an offset, or epoch milliseconds). */
#include "clock.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2;
  int64_t era = (year >= 0 ? year : year - 399) / 400;
  int64_t year_of_era = year - era * 400;
  int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

static void civil_from_days(int64_t days, int *year, int *month, int *day) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t day_of_era = days - era * 146097;
  int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t mp = (5 * day_of_year + 2) / 153;
  *day = (int)(day_of_year - (153 * mp + 2) / 5 + 1);
  *month = (int)(mp < 10 ? mp + 3 : mp - 9);
  *year = (int)(year_of_era + era * 400 + (*month <= 2));
}

/* Reads exactly `digits` decimal digits. */
static bool take_digits(const char **cursor, int digits, int *out) {
  int value = 0;
  for (int k = 0; k < digits; k++) {
    char c = (*cursor)[k];
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + (c - '0');
  }
  *cursor += digits;
  *out = value;
  return true;
}

/* YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|(+|-)HH[:]MM], or epoch ms (digits only). */
/* All digits: epoch milliseconds. */
static bool parse_epoch_ms(const char *text, int64_t *out_ms) {
  if (*text < '0' || *text > '9')
    return false;
  errno = 0;
  char *end = NULL;
  unsigned long long value = strtoull(text, &end, 10);
  if (errno || *end || value > (unsigned long long)CX_CLOCK_MAX_MS)
    return false;
  *out_ms = (int64_t)value;
  return true;
}

static bool parse_time(const char *text, int64_t *out_ms) {
  if (parse_epoch_ms(text, out_ms))
    return true;
  const char *p = text;
  int year, month, day, hour = 0, minute = 0, second = 0, millis = 0;
  if (!take_digits(&p, 4, &year) || *p++ != '-' || !take_digits(&p, 2, &month) ||
      *p++ != '-' || !take_digits(&p, 2, &day))
    return false;
  static const int month_days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > month_days[month - 1] ||
      (month == 2 && day == 29 && !leap))
    return false;
  if (*p == 'T' || *p == ' ') {
    p++;
    if (!take_digits(&p, 2, &hour) || *p++ != ':' || !take_digits(&p, 2, &minute))
      return false;
    if (*p == ':') {
      p++;
      if (!take_digits(&p, 2, &second))
        return false;
      if (*p == '.') {
        p++;
        int scale = 100, digits = 0;
        while (*p >= '0' && *p <= '9') {
          millis += (*p++ - '0') * scale;
          scale /= 10;
          digits++;
        }
        if (digits == 0)
          return false;
      }
    }
    if (hour > 23 || minute > 59 || second > 59)
      return false;
  }
  int64_t offset_min = 0;
  if (*p == 'Z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int sign = *p++ == '-' ? -1 : 1, offset_hour, offset_minute;
    if (!take_digits(&p, 2, &offset_hour))
      return false;
    if (*p == ':')
      p++;
    if (!take_digits(&p, 2, &offset_minute) || offset_hour > 23 || offset_minute > 59)
      return false;
    offset_min = sign * (offset_hour * 60 + offset_minute);
  }
  if (*p)
    return false;
  int64_t ms = days_from_civil(year, month, day) * 86400000LL +
               ((int64_t)hour * 3600 + minute * 60 + second - offset_min * 60) * 1000 + millis;
  if (ms < 0 || ms > CX_CLOCK_MAX_MS)
    return false;
  *out_ms = ms;
  return true;
}

void cx_clock_format_utc(int64_t ms, char *out, size_t out_size) {
  int64_t days = ms / 86400000LL, rest = ms % 86400000LL;
  int year, month, day;
  civil_from_days(days, &year, &month, &day);
  snprintf(out, out_size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, month, day,
           (int)(rest / 3600000), (int)(rest / 60000 % 60), (int)(rest / 1000 % 60),
           (int)(rest % 1000));
}

cx_err_t cx_clock_parse_time(const char *text, int64_t *ms) {
  return parse_time(text, ms) ? CX_OK : CX_ERR_INVALID_ARG;
}
