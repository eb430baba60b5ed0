/* Logging on stderr: one line per event of interest, JSON by default
 * ({"time","level","logger","message"}, plus "facility" for librdkafka) or
 * plain text, with a level filter. librdkafka's own logs come here too
 * (stream/kafka.c). Never log payloads; secrets registered with
 * cx_log_add_secret are replaced by "***" wherever they would appear. A line
 * is written with one stdio call, so lines of several threads never mix. */
#ifndef CX_LOG_H
#define CX_LOG_H

#include <stdio.h>

typedef enum { CX_LOG_ERROR, CX_LOG_WARN, CX_LOG_INFO, CX_LOG_DEBUG } cx_log_level_t;
typedef enum { CX_LOG_FORMAT_JSON, CX_LOG_FORMAT_TEXT } cx_log_format_t;

void cx_log_set_level(cx_log_level_t level);
cx_log_level_t cx_log_get_level(void);
void cx_log_set_format(cx_log_format_t format);
/* Where lines go (default stderr; tests use a file). Borrowed. */
void cx_log_set_output(FILE *out);
/* A value never to print (copied); values shorter than 3 bytes are ignored. */
void cx_log_add_secret(const char *value);
void cx_log_clear_secrets(void);

/* A line from cxstream itself. */
void cx_log(cx_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line from another logger (librdkafka) with its facility. */
void cx_log_from(cx_log_level_t level, const char *logger, const char *facility, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));

#endif
