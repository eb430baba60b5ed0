/* Growable byte buffer (see buf.h). */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

int cx_buf_reserve(cx_buf_t *buf, size_t extra) {
  if (buf->len + extra <= buf->capacity)
    return 0;
  size_t capacity = buf->capacity ? buf->capacity : 256;
  while (capacity < buf->len + extra)
    capacity *= 2;
  uint8_t *data = realloc(buf->data, capacity);
  if (!data)
    return -1;
  buf->data = data;
  buf->capacity = capacity;
  return 0;
}

int cx_buf_append(cx_buf_t *buf, const void *data, size_t len) {
  if (cx_buf_reserve(buf, len))
    return -1;
  if (len)
    memcpy(buf->data + buf->len, data, len);
  buf->len += len;
  return 0;
}

int cx_buf_append_str(cx_buf_t *buf, const char *text) {
  return cx_buf_append(buf, text, strlen(text));
}

void cx_buf_free(cx_buf_t *buf) {
  free(buf->data);
  buf->data = NULL;
  buf->len = buf->capacity = 0;
}
