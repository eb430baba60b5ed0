/* JSON-lines output (DESIGN.md section 4): one plain JSON object per line,
 * "type":"alert" or "type":"profile", fields in a fixed order and numbers in
 * a fixed format, no wall-clock fields, so the same alerts and profiles
 * always give the same bytes. */
#ifndef CX_JSONL_H
#define CX_JSONL_H

#include "../operators/alert.h"
#include "../operators/profile.h"
#include "buf.h"

/* Appends one line (with its '\n') for the alert. Returns -1 when out of memory. */
int cx_jsonl_append_alert(cx_buf_t *out, const cx_alert_t *alert);

/* Appends one line for the profile, keys in the order of
 * customer_profile.avsc (optional fields as null, no emitted_at); a deleted
 * profile is {"type":"profile","customer_id":...,"updated_at":...,"deleted":true}.
 * Returns -1 when out of memory. */
int cx_jsonl_append_profile(cx_buf_t *out, const cx_profile_t *profile);

/* Appends s as a JSON string (quoted, escaped; invalid UTF-8 bytes become U+FFFD). */
int cx_jsonl_append_string(cx_buf_t *out, const char *s, size_t len);

#endif
