/* JSON-lines formatting of alerts and profiles (see jsonl.h). Strings are escaped per RFC
 * 8259; bytes that are not valid UTF-8 are replaced so every line is valid
 * JSON whatever producers put in ids. */
#include "jsonl.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_sequence(const unsigned char *s, size_t left) {
  unsigned char c = s[0];
  size_t need;
  uint32_t min, cp;
  if (c < 0x80)
    return 1;
  if ((c & 0xe0) == 0xc0) { need = 2; min = 0x80; cp = c & 0x1f; }
  else if ((c & 0xf0) == 0xe0) { need = 3; min = 0x800; cp = c & 0x0f; }
  else if ((c & 0xf8) == 0xf0) { need = 4; min = 0x10000; cp = c & 0x07; }
  else return 0;
  if (need > left)
    return 0;
  for (size_t i = 1; i < need; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return need;
}

int cx_jsonl_append_string(cx_buf_t *out, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s;
  if (cx_buf_reserve(out, len + 2))
    return -1;
  out->data[out->len++] = '"';
  for (size_t i = 0; i < len;) {
    unsigned char c = p[i];
    const char *escape = NULL;
    switch (c) {
    case '"': escape = "\\\""; break;
    case '\\': escape = "\\\\"; break;
    case '\n': escape = "\\n"; break;
    case '\r': escape = "\\r"; break;
    case '\t': escape = "\\t"; break;
    case '\b': escape = "\\b"; break;
    case '\f': escape = "\\f"; break;
    default: break;
    }
    if (escape) {
      if (cx_buf_append_str(out, escape))
        return -1;
      i++;
    } else if (c < 0x20) {
      char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
      if (cx_buf_append(out, u, sizeof(u)))
        return -1;
      i++;
    } else {
      size_t n = utf8_sequence(p + i, len - i);
      if (n == 0) {
        if (cx_buf_append_str(out, "\\ufffd"))
          return -1;
        i++;
      } else {
        if (cx_buf_append(out, p + i, n))
          return -1;
        i += n;
      }
    }
  }
  return cx_buf_append(out, "\"", 1);
}

static int append_cstr(cx_buf_t *out, const char *name, const char *value) {
  return cx_buf_append_str(out, name) || cx_jsonl_append_string(out, value, strlen(value));
}

static int append_int(cx_buf_t *out, const char *name, int64_t value) {
  char number[32];
  int n = snprintf(number, sizeof(number), "%" PRId64, value);
  return cx_buf_append_str(out, name) || cx_buf_append(out, number, (size_t)n);
}

/* Four decimals; JSON has no NaN or infinity, so those are null. The buffer
 * holds the widest "%.4f" (-DBL_MAX: 309 digits, sign, point, decimals). */
static int append_decimal4(cx_buf_t *out, double value) {
  if (!isfinite(value))
    return cx_buf_append_str(out, "null");
  char number[320];
  int n = snprintf(number, sizeof(number), "%.4f", value);
  if (n < 0 || (size_t)n >= sizeof(number))
    return -1;
  return cx_buf_append(out, number, (size_t)n);
}

int cx_jsonl_append_alert(cx_buf_t *out, const cx_alert_t *alert) {
  int rc = 0;
  rc |= cx_buf_append_str(out, "{\"type\":\"alert\"");
  rc |= append_cstr(out, ",\"alert_id\":", alert->alert_id);
  rc |= cx_buf_append_str(out, ",\"customer_id\":") ||
        cx_jsonl_append_string(out, alert->customer_id.ptr, alert->customer_id.len);
  rc |= append_cstr(out, ",\"rule\":", alert->rule);
  rc |= append_cstr(out, ",\"kind\":", cx_rule_kind_name(alert->kind));
  rc |= append_cstr(out, ",\"severity\":", cx_severity_name(alert->severity));
  rc |= append_int(out, ",\"score\":", alert->score);
  rc |= cx_buf_append_str(out, ",\"trigger_event_id\":") ||
        cx_jsonl_append_string(out, alert->trigger_event_id.ptr, alert->trigger_event_id.len);
  rc |= append_int(out, ",\"event_time\":", alert->event_time_ms);
  rc |= append_int(out, ",\"window_start\":", alert->window_start_ms);
  rc |= append_int(out, ",\"window_end\":", alert->window_end_ms);
  rc |= cx_buf_append_str(out, ",\"reasons\":[");
  for (size_t i = 0; i < alert->reason_count; i++) {
    rc |= cx_buf_append_str(out, i ? ",{" : "{");
    rc |= append_cstr(out, "\"code\":", alert->reasons[i].code);
    rc |= append_int(out, ",\"value\":", alert->reasons[i].value);
    rc |= cx_buf_append_str(out, ",\"weight\":") || append_decimal4(out, alert->reasons[i].weight);
    rc |= cx_buf_append_str(out, "}");
  }
  rc |= cx_buf_append_str(out, "],\"evidence_event_ids\":[");
  for (size_t i = 0; i < alert->evidence_count; i++) {
    if (i)
      rc |= cx_buf_append_str(out, ",");
    rc |= cx_jsonl_append_string(out, alert->evidence[i].ptr, alert->evidence[i].len);
  }
  rc |= cx_buf_append_str(out, "]");
  rc |= append_cstr(out, ",\"recommended_action\":",
                    alert->recommended_action ? alert->recommended_action : "");
  if (alert->action_channel)
    rc |= append_cstr(out, ",\"action_channel\":", alert->action_channel);
  else
    rc |= cx_buf_append_str(out, ",\"action_channel\":null");
  rc |= cx_buf_append_str(out, "}\n");
  return rc ? -1 : 0;
}

static int append_optional_int(cx_buf_t *out, const char *name, bool present, int64_t value) {
  if (!present)
    return cx_buf_append_str(out, name) || cx_buf_append_str(out, "null");
  return append_int(out, name, value);
}

static int append_optional_cstr(cx_buf_t *out, const char *name, const char *value) {
  if (!value)
    return cx_buf_append_str(out, name) || cx_buf_append_str(out, "null");
  return append_cstr(out, name, value);
}

/* Four decimals, and never "-0.0000", so equal values print equal bytes. */
static int append_fixed4(cx_buf_t *out, double value) {
  char number[16];
  if (isfinite(value) && snprintf(number, sizeof(number), "%.4f", value) == 7 &&
      !strcmp(number, "-0.0000"))
    return cx_buf_append_str(out, "0.0000");
  return append_decimal4(out, value);
}

static int append_names(cx_buf_t *out, const char *name, const char *const *items, size_t count) {
  int rc = cx_buf_append_str(out, name) || cx_buf_append_str(out, "[");
  for (size_t i = 0; i < count; i++) {
    if (i)
      rc |= cx_buf_append_str(out, ",");
    rc |= cx_jsonl_append_string(out, items[i], strlen(items[i]));
  }
  return rc || cx_buf_append_str(out, "]");
}

int cx_jsonl_append_profile(cx_buf_t *out, const cx_profile_t *profile) {
  int rc = 0;
  rc |= cx_buf_append_str(out, "{\"type\":\"profile\",\"customer_id\":") ||
        cx_jsonl_append_string(out, profile->customer_id.ptr, profile->customer_id.len);
  rc |= append_int(out, ",\"updated_at\":", profile->updated_at_ms);
  if (profile->deleted) {
    rc |= cx_buf_append_str(out, ",\"deleted\":true}\n");
    return rc ? -1 : 0;
  }
  rc |= append_int(out, ",\"first_seen\":", profile->first_seen_ms);
  rc |= append_int(out, ",\"events_total\":", profile->events_total);
  rc |= append_int(out, ",\"contacts_24h\":", profile->contacts_24h);
  rc |= append_int(out, ",\"abandoned_24h\":", profile->abandoned_24h);
  rc |= append_int(out, ",\"wait_ms_24h\":", profile->wait_ms_24h);
  rc |= append_names(out, ",\"channels_48h\":", profile->channels_48h,
                     profile->channels_48h_count);
  rc |= append_optional_cstr(out, ",\"preferred_channel\":", profile->preferred_channel);
  rc |= append_int(out, ",\"frustration_score\":", profile->frustration_score);
  rc |= append_cstr(out, ",\"frustration_band\":", cx_severity_name(profile->frustration_band));
  rc |= append_int(out, ",\"churn_score\":", profile->churn_score);
  rc |= append_cstr(out, ",\"churn_band\":", cx_severity_name(profile->churn_band));
  rc |= cx_buf_append_str(out, ",\"reasons\":[");
  for (size_t i = 0; i < profile->reason_count; i++) {
    const cx_profile_reason_t *reason = &profile->reasons[i];
    rc |= cx_buf_append_str(out, i ? ",{" : "{");
    rc |= append_cstr(out, "\"code\":", reason->code);
    rc |= append_int(out, ",\"value\":", reason->value);
    rc |= cx_buf_append_str(out, ",\"weight\":") || append_fixed4(out, reason->weight);
    rc |= append_cstr(out, ",\"kind\":", cx_rule_kind_name(reason->kind));
    rc |= cx_buf_append_str(out, "}");
  }
  rc |= cx_buf_append_str(out, "]");
  rc |= append_names(out, ",\"open_alerts\":", profile->open_alerts, profile->open_alert_count);
  rc |= cx_buf_append_str(out, profile->consent_granted ? ",\"consent\":true"
                                                        : ",\"consent\":null");
  rc |= append_int(out, ",\"contacts_7d\":", profile->contacts_7d);
  rc |= append_int(out, ",\"contacts_30d\":", profile->contacts_30d);
  rc |= cx_buf_append_str(out, ",\"channel_contacts\":[");
  for (size_t i = 0; i < profile->channel_count; i++) {
    const cx_profile_channel_t *channel = &profile->channels[i];
    rc |= cx_buf_append_str(out, i ? ",{" : "{");
    rc |= append_cstr(out, "\"channel\":", channel->channel);
    rc |= append_int(out, ",\"contacts_7d\":", channel->contacts_7d);
    rc |= append_int(out, ",\"contacts_30d\":", channel->contacts_30d);
    rc |= cx_buf_append_str(out, "}");
  }
  rc |= cx_buf_append_str(out, "]");
  rc |= append_optional_int(out, ",\"last_contact_at\":", profile->last_contact_channel != NULL,
                            profile->last_contact_ms);
  rc |= append_optional_cstr(out, ",\"last_contact_channel\":", profile->last_contact_channel);
  rc |= append_int(out, ",\"open_cases\":", profile->open_cases);
  rc |= append_int(out, ",\"repeat_contacts_7d\":", profile->repeat_contacts_7d);
  rc |= append_optional_int(out, ",\"avg_wait_ms_30d\":", profile->has_avg_wait,
                            profile->avg_wait_ms_30d);
  rc |= cx_buf_append_str(out, ",\"last_sentiment\":");
  rc |= profile->has_sentiment ? append_fixed4(out, profile->sentiment)
                               : cx_buf_append_str(out, "null");
  rc |= append_optional_int(out, ",\"last_sentiment_at\":", profile->has_sentiment,
                            profile->sentiment_at_ms);
  rc |= append_optional_int(out, ",\"last_csat\":", profile->has_csat, profile->csat);
  rc |= append_optional_int(out, ",\"last_csat_at\":", profile->has_csat, profile->csat_at_ms);
  rc |= append_optional_int(out, ",\"last_nps\":", profile->has_nps, profile->nps);
  rc |= append_optional_int(out, ",\"last_nps_at\":", profile->has_nps, profile->nps_at_ms);
  rc |= cx_buf_append_str(out, "}\n");
  return rc ? -1 : 0;
}
