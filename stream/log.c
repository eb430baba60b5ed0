/* stderr logger (see log.h): "<UTC time> <LEVEL> <message>". */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "clock.h"

static cx_log_level_t current_level = CX_LOG_INFO;

void cx_log_set_level(cx_log_level_t level) {
  current_level = level;
}

void cx_log(cx_log_level_t level, const char *fmt, ...) {
  static const char *const names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
  if (level > current_level)
    return;
  int64_t now = cx_clock_wall_ms();
  time_t seconds = (time_t)(now / 1000);
  struct tm tm;
  gmtime_r(&seconds, &tm);
  char line[1024];
  int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s ",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                   tm.tm_sec, (int)(now % 1000), names[level]);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s\n", line);
}
