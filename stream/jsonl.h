/* JSON-lines output (DESIGN.md section 4): one plain JSON object per line,
 * "type":"alert", fields in a fixed order and numbers in a fixed format so
 * the same alerts always give the same bytes. */
#ifndef CX_JSONL_H
#define CX_JSONL_H

#include "../operators/alert.h"
#include "buf.h"

/* Appends one line (with its '\n') for the alert. Returns -1 when out of memory. */
int cx_jsonl_append_alert(cx_buf_t *out, const cx_alert_t *alert);

/* Appends s as a JSON string (quoted, escaped; invalid UTF-8 bytes become U+FFFD). */
int cx_jsonl_append_string(cx_buf_t *out, const char *s, size_t len);

#endif
