/* Logging on stderr, one line per event of interest, with a level filter;
 * librdkafka's own logs are routed here too. Never log payloads or secrets. */
#ifndef CX_LOG_H
#define CX_LOG_H

typedef enum { CX_LOG_ERROR, CX_LOG_WARN, CX_LOG_INFO, CX_LOG_DEBUG } cx_log_level_t;

void cx_log_set_level(cx_log_level_t level);
void cx_log(cx_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
