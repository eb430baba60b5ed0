/* libFuzzer target: the JSON-lines writer. The input is cut into strings
 * (customer and event ids, reason codes, channels, actions: every text the
 * writer escapes) and numbers (including doubles from raw bytes: NaN,
 * infinities, 1e308), an alert and a profile are built from them, and each
 * line must be exactly one valid JSON object (json_check.h). A string that is
 * valid UTF-8 must come back unchanged from its escaped form. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../stream/jsonl.h"
#include "json_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct input_s {
  const uint8_t *at;  /* next unread byte */
  const uint8_t *end; /* one past the last */
  char *strings;      /* NUL-terminated copies, in one block */
  size_t used;        /* bytes of strings in use */
} input_t;

static uint64_t take_u64(input_t *in) {
  uint64_t v = 0;
  for (int i = 0; i < 8 && in->at < in->end; i++)
    v = (v << 8) | *in->at++;
  return v;
}

static double take_double(input_t *in) {
  uint64_t bits = take_u64(in);
  double d;
  memcpy(&d, &bits, sizeof(d));
  return d;
}

/* A string of a length given by one byte; NUL-terminated (NUL bytes inside
 * end it early for the const char * fields, cx_str_t keeps them). */
static cx_str_t take_str(input_t *in) {
  size_t len = in->at < in->end ? *in->at++ : 0;
  if (len > (size_t)(in->end - in->at))
    len = (size_t)(in->end - in->at);
  char *s = in->strings + in->used;
  memcpy(s, in->at, len);
  s[len] = '\0';
  in->used += len + 1;
  in->at += len;
  return (cx_str_t){s, len};
}

static const char *take_cstr(input_t *in) {
  return take_str(in).ptr;
}

static void check_lines(const cx_buf_t *buf, const char *what) {
  if (!json_check_line(buf->data, buf->len)) {
    fprintf(stderr, "fuzz: the %s line is not one JSON object: %.*s\n", what, (int)buf->len,
            (const char *)buf->data);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  input_t in = {data, data + size, malloc(2 * size + 256), 0};
  if (!in.strings)
    abort();
  cx_buf_t buf = {0};

  /* One string on its own: valid JSON, and valid UTF-8 survives. */
  cx_str_t s = take_str(&in);
  if (cx_jsonl_append_string(&buf, s.ptr, s.len))
    abort();
  uint8_t *text = malloc(buf.len + 1);
  size_t text_len = 0;
  if (!text || !json_check_string(buf.data, buf.len, text, &text_len)) {
    fprintf(stderr, "fuzz: an escaped string is not one JSON string\n");
    abort();
  }
  int valid_utf8 = 1;
  for (size_t i = 0; i < s.len;) {
    size_t n = json_utf8_len((const uint8_t *)s.ptr + i, (const uint8_t *)s.ptr + s.len);
    if (!n) {
      valid_utf8 = 0;
      break;
    }
    i += n;
  }
  if (valid_utf8 && (text_len != s.len || memcmp(text, s.ptr, s.len))) {
    fprintf(stderr, "fuzz: valid UTF-8 changed when escaped and read back\n");
    abort();
  }
  free(text);

  cx_alert_t alert;
  memset(&alert, 0, sizeof(alert));
  snprintf(alert.alert_id, sizeof(alert.alert_id), "%s", take_cstr(&in));
  alert.customer_id = take_str(&in);
  alert.rule = take_cstr(&in);
  alert.kind = (cx_rule_kind_t)(take_u64(&in) % 2);
  alert.severity = (cx_severity_t)(take_u64(&in) % 4);
  alert.score = (int)take_u64(&in);
  alert.trigger_event_id = take_str(&in);
  alert.event_time_ms = (int64_t)take_u64(&in);
  alert.window_start_ms = (int64_t)take_u64(&in);
  alert.window_end_ms = (int64_t)take_u64(&in);
  alert.reason_count = take_u64(&in) % (CX_ALERT_MAX_REASONS + 1);
  for (size_t i = 0; i < alert.reason_count; i++)
    alert.reasons[i] = (cx_reason_t){take_cstr(&in), (int64_t)take_u64(&in), take_double(&in)};
  alert.evidence_count = take_u64(&in) % (CX_ALERT_MAX_EVIDENCE + 1);
  for (size_t i = 0; i < alert.evidence_count; i++)
    alert.evidence[i] = take_str(&in);
  alert.recommended_action = take_u64(&in) & 1 ? take_cstr(&in) : NULL;
  alert.action_channel = take_u64(&in) & 1 ? take_cstr(&in) : NULL;
  buf.len = 0;
  if (cx_jsonl_append_alert(&buf, &alert))
    abort();
  check_lines(&buf, "alert");

  cx_profile_t profile;
  memset(&profile, 0, sizeof(profile));
  profile.deleted = take_u64(&in) % 8 == 0;
  profile.customer_id = take_str(&in);
  profile.updated_at_ms = (int64_t)take_u64(&in);
  profile.first_seen_ms = (int64_t)take_u64(&in);
  profile.events_total = (int64_t)take_u64(&in);
  profile.frustration_score = (int)take_u64(&in);
  profile.frustration_band = (cx_severity_t)(take_u64(&in) % 4);
  profile.churn_score = (int)take_u64(&in);
  profile.churn_band = (cx_severity_t)(take_u64(&in) % 4);
  profile.reason_count = take_u64(&in) % (CX_PROFILE_MAX_REASONS + 1);
  for (size_t i = 0; i < profile.reason_count; i++)
    profile.reasons[i] = (cx_profile_reason_t){take_cstr(&in), (cx_rule_kind_t)(take_u64(&in) % 2),
                                               (int64_t)take_u64(&in), take_double(&in)};
  profile.channels_48h_count = take_u64(&in) % (CX_CHANNEL__COUNT + 1);
  for (size_t i = 0; i < profile.channels_48h_count; i++)
    profile.channels_48h[i] = take_cstr(&in);
  profile.channel_count = take_u64(&in) % (CX_CHANNEL__COUNT + 1);
  for (size_t i = 0; i < profile.channel_count; i++)
    profile.channels[i] = (cx_profile_channel_t){take_cstr(&in), (int32_t)take_u64(&in),
                                                 (int32_t)take_u64(&in)};
  profile.preferred_channel = take_u64(&in) & 1 ? take_cstr(&in) : NULL;
  profile.last_contact_channel = take_u64(&in) & 1 ? take_cstr(&in) : NULL;
  profile.last_contact_ms = (int64_t)take_u64(&in);
  profile.has_avg_wait = take_u64(&in) & 1;
  profile.avg_wait_ms_30d = (int64_t)take_u64(&in);
  profile.has_sentiment = take_u64(&in) & 1;
  profile.sentiment = (float)take_double(&in);
  profile.has_csat = take_u64(&in) & 1;
  profile.csat = (int32_t)take_u64(&in);
  profile.has_nps = take_u64(&in) & 1;
  profile.nps = (int32_t)take_u64(&in);
  profile.open_alert_count = take_u64(&in) % (CX_RULE__COUNT + 1);
  for (size_t i = 0; i < profile.open_alert_count; i++)
    profile.open_alerts[i] = take_cstr(&in);
  profile.consent_granted = take_u64(&in) & 1;
  buf.len = 0;
  if (cx_jsonl_append_profile(&buf, &profile))
    abort();
  check_lines(&buf, "profile");

  cx_buf_free(&buf);
  free(in.strings);
  return 0;
}
