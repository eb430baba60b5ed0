/* A growable byte buffer reused across messages (reset, never freed per use). */
#ifndef CX_BUF_H
#define CX_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct cx_buf_s {
  uint8_t *data;   /* owned */
  size_t len;      /* bytes in use */
  size_t capacity; /* bytes allocated */
} cx_buf_t;

/* Makes room for extra more bytes; returns -1 when out of memory. */
int cx_buf_reserve(cx_buf_t *buf, size_t extra);
int cx_buf_append(cx_buf_t *buf, const void *data, size_t len);
int cx_buf_append_str(cx_buf_t *buf, const char *text);
void cx_buf_free(cx_buf_t *buf);

#endif
