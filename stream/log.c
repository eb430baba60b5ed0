/* stderr logger (see log.h). JSON: {"time":"<UTC ISO-8601 ms>","level":"info",
 * "logger":"cxstream","message":"..."}; text: "<time> <LEVEL> <message>". */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

#define SECRETS_MAX 32

static _Atomic int current_level = CX_LOG_INFO;
static _Atomic int current_format = CX_LOG_FORMAT_JSON;
static FILE *_Atomic current_output;
static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static char *secrets[SECRETS_MAX];
static size_t secret_count;

void cx_log_set_level(cx_log_level_t level) {
  atomic_store(&current_level, (int)level);
}

cx_log_level_t cx_log_get_level(void) {
  return (cx_log_level_t)atomic_load(&current_level);
}

void cx_log_set_format(cx_log_format_t format) {
  atomic_store(&current_format, (int)format);
}

void cx_log_set_output(FILE *out) {
  atomic_store(&current_output, out);
}

void cx_log_add_secret(const char *value) {
  if (!value || strlen(value) < 3)
    return;
  pthread_mutex_lock(&secrets_lock);
  for (size_t i = 0; i < secret_count; i++) {
    if (!strcmp(secrets[i], value)) {
      pthread_mutex_unlock(&secrets_lock);
      return;
    }
  }
  if (secret_count < SECRETS_MAX) {
    char *copy = strdup(value);
    if (copy)
      secrets[secret_count++] = copy;
  }
  pthread_mutex_unlock(&secrets_lock);
}

void cx_log_clear_secrets(void) {
  pthread_mutex_lock(&secrets_lock);
  for (size_t i = 0; i < secret_count; i++)
    free(secrets[i]);
  secret_count = 0;
  pthread_mutex_unlock(&secrets_lock);
}

/* Replaces every registered secret in text (NUL-terminated, size bytes of room) by "***". */
static void redact(char *text, size_t size) {
  pthread_mutex_lock(&secrets_lock);
  for (size_t s = 0; s < secret_count; s++) {
    size_t secret_len = strlen(secrets[s]);
    char *hit = text;
    while ((hit = strstr(hit, secrets[s]))) {
      size_t tail = strlen(hit + secret_len) + 1;
      if (secret_len >= 3) {
        memcpy(hit, "***", 3);
        memmove(hit + 3, hit + secret_len, tail);
      }
      hit += 3;
    }
  }
  pthread_mutex_unlock(&secrets_lock);
  (void)size;
}

/* Appends text as the inside of a JSON string. */
static size_t json_escape(char *out, size_t used, size_t size, const char *text) {
  for (const unsigned char *c = (const unsigned char *)text; *c && used + 7 < size; c++) {
    if (*c == '"' || *c == '\\') {
      out[used++] = '\\';
      out[used++] = (char)*c;
    } else if (*c == '\n') {
      out[used++] = '\\';
      out[used++] = 'n';
    } else if (*c < 0x20) {
      used += (size_t)snprintf(out + used, size - used, "\\u%04x", *c);
    } else {
      out[used++] = (char)*c;
    }
  }
  out[used] = '\0';
  return used;
}

static void emit(cx_log_level_t level, const char *logger, const char *facility, const char *fmt,
                 va_list ap) {
  static const char *const upper[] = {"ERROR", "WARN", "INFO", "DEBUG"};
  static const char *const lower[] = {"error", "warn", "info", "debug"};
  if ((int)level > atomic_load(&current_level))
    return;
  char message[2048];
  vsnprintf(message, sizeof(message), fmt, ap);
  redact(message, sizeof(message));
  int64_t now = cx_clock_wall_ms();
  time_t seconds = (time_t)(now / 1000);
  struct tm tm;
  gmtime_r(&seconds, &tm);
  char stamp[64];
  snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(now % 1000));
  char line[4608];
  size_t used;
  if (atomic_load(&current_format) == CX_LOG_FORMAT_JSON) {
    used = (size_t)snprintf(line, sizeof(line), "{\"time\":\"%s\",\"level\":\"%s\",\"logger\":\"",
                            stamp, lower[level]);
    used = json_escape(line, used, sizeof(line), logger);
    if (facility) {
      used += (size_t)snprintf(line + used, sizeof(line) - used, "\",\"facility\":\"");
      used = json_escape(line, used, sizeof(line), facility);
    }
    used += (size_t)snprintf(line + used, sizeof(line) - used, "\",\"message\":\"");
    used = json_escape(line, used, sizeof(line), message);
    snprintf(line + used, sizeof(line) - used, "\"}\n");
  } else if (facility) {
    snprintf(line, sizeof(line), "%s %s %.64s %.64s: %s\n", stamp, upper[level], logger, facility,
             message);
  } else {
    snprintf(line, sizeof(line), "%s %s %s\n", stamp, upper[level], message);
  }
  FILE *out = atomic_load(&current_output);
  fputs(line, out ? out : stderr);
}

void cx_log(cx_log_level_t level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit(level, "cxstream", NULL, fmt, ap);
  va_end(ap);
}

void cx_log_from(cx_log_level_t level, const char *logger, const char *facility, const char *fmt,
                 ...) {
  va_list ap;
  va_start(ap, fmt);
  emit(level, logger, facility, fmt, ap);
  va_end(ap);
}
