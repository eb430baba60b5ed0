/* JSON-lines formatting of alerts and profiles (see jsonl.h). Strings are escaped per RFC
 * 8259; bytes that are not valid UTF-8 are replaced so every line is valid
 * JSON whatever producers put in ids. No printf on the way: integers and
 * four-decimal numbers are formatted here (the bytes "%" PRId64 and "%.4f"
 * give; a number "%.4f" could round either way, or too large for the
 * shortcut, still goes through snprintf), strings of plain ASCII are copied
 * in one piece, and appends check the buffer's room inline. */
#include "jsonl.h"

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

/* Appends len bytes; the room check inline, cx_buf_reserve only to grow. */
static inline int put(cx_buf_t *out, const void *data, size_t len) {
  if (out->capacity - out->len < len && cx_buf_reserve(out, len))
    return -1;
  memcpy(out->data + out->len, data, len);
  out->len += len;
  return 0;
}

/* A string literal (its length known at compile time). */
#define PUT_LIT(out, lit) put((out), (lit), sizeof(lit) - 1)

/* The general case: escapes, control bytes, UTF-8 checked byte by byte. */
static int append_string_escaped(cx_buf_t *out, const unsigned char *p, size_t len) {
  static const char hex[] = "0123456789abcdef";
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
      if (put(out, u, sizeof(u)))
        return -1;
      i++;
    } else {
      size_t n = utf8_sequence(p + i, len - i);
      if (n == 0) {
        if (PUT_LIT(out, "\\ufffd"))
          return -1;
        i++;
      } else {
        if (put(out, p + i, n))
          return -1;
        i += n;
      }
    }
  }
  return put(out, "\"", 1);
}

/* Whether one of the 8 bytes of word needs escaping or a UTF-8 check: below
 * 0x20, 0x80 and above, '"' or '\\' (each test exact: borrows never reach
 * a byte that did not match, for bytes below 0x80). */
static inline bool word_is_special(uint64_t word) {
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  uint64_t quote = word ^ (ones * '"'), backslash = word ^ (ones * '\\');
  return ((word | ((word - ones * 0x20) & ~word) | ((quote - ones) & ~quote) |
           ((backslash - ones) & ~backslash)) & highs) != 0;
}

int cx_jsonl_append_string(cx_buf_t *out, const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s;
  /* Ids and names are plain printable ASCII: nothing to escape or check
   * (looked at 8 bytes at a time). */
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t word;
    memcpy(&word, p + i, sizeof(word));
    if (word_is_special(word))
      return append_string_escaped(out, p, len);
  }
  for (; i < len; i++)
    if (p[i] < 0x20 || p[i] >= 0x80 || p[i] == '"' || p[i] == '\\')
      return append_string_escaped(out, p, len);
  if (out->capacity - out->len < len + 2 && cx_buf_reserve(out, len + 2))
    return -1;
  uint8_t *at = out->data + out->len;
  at[0] = '"';
  if (len)
    memcpy(at + 1, s, len);
  at[len + 1] = '"';
  out->len += len + 2;
  return 0;
}

/* name (a literal: its length at compile time), then the value. */
#define APPEND_CSTR(out, name, value) \
  (PUT_LIT(out, name) || append_cstr_value(out, value))
#define APPEND_INT(out, name, value) (PUT_LIT(out, name) || append_int_value(out, value))

static int append_cstr_value(cx_buf_t *out, const char *value) {
  return cx_jsonl_append_string(out, value, strlen(value));
}

/* "00" "01" ... "99": integers are written two digits at a time. */
static const char two_digits[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* value as "%" PRId64 prints it. */
static int append_int_value(cx_buf_t *out, int64_t value) {
  char digits[24];
  char *end = digits + sizeof(digits), *at = end;
  uint64_t magnitude = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
  while (magnitude >= 100) {
    at -= 2;
    memcpy(at, two_digits + 2 * (magnitude % 100), 2);
    magnitude /= 100;
  }
  if (magnitude >= 10) {
    at -= 2;
    memcpy(at, two_digits + 2 * magnitude, 2);
  } else {
    *--at = (char)('0' + magnitude);
  }
  if (value < 0)
    *--at = '-';
  return put(out, at, (size_t)(end - at));
}

/* "%.4f" of value through snprintf (the buffer holds the widest: -DBL_MAX,
 * 309 digits, sign, point, decimals). */
static int append_decimal4_printf(cx_buf_t *out, double value) {
  char number[320];
  int n = snprintf(number, sizeof(number), "%.4f", value);
  if (n < 0 || (size_t)n >= sizeof(number))
    return -1;
  return put(out, number, (size_t)n);
}

/* Four decimals, the bytes "%.4f" gives; JSON has no NaN or infinity, so
 * those are null. "%.4f" rounds the exact binary value to nearest: for
 * |value| < 4e5, value * 10000 (< 2^32) is off by at most 2^-21 from the
 * exact product, so when its fraction is more than 1e-5 away from one half
 * rounding it gives the same digits. Other values go through snprintf. The
 * sign is printed whenever it is set, as "%.4f" does ("-0.0000"), unless
 * no_negative_zero. */
static int append_decimal4_value(cx_buf_t *out, double value, bool no_negative_zero) {
  if (!isfinite(value))
    return PUT_LIT(out, "null");
  double magnitude = fabs(value);
  double scaled = magnitude * 10000.0;
  double whole = floor(scaled);
  double fraction = scaled - whole;
  if (!(magnitude < 4e5) || fabs(fraction - 0.5) <= 1e-5) {
    if (!no_negative_zero)
      return append_decimal4_printf(out, value);
    char number[16];
    if (snprintf(number, sizeof(number), "%.4f", value) == 7 && !strcmp(number, "-0.0000"))
      return PUT_LIT(out, "0.0000");
    return append_decimal4_printf(out, value);
  }
  uint64_t units = (uint64_t)whole + (fraction > 0.5);
  char digits[32];
  char *end = digits + sizeof(digits), *at = end;
  uint64_t decimals = units % 10000, integer = units / 10000;
  for (int i = 0; i < 4; i++) {
    *--at = (char)('0' + decimals % 10);
    decimals /= 10;
  }
  *--at = '.';
  do {
    *--at = (char)('0' + integer % 10);
    integer /= 10;
  } while (integer);
  if (signbit(value) && !(no_negative_zero && units == 0))
    *--at = '-';
  return put(out, at, (size_t)(end - at));
}

int cx_jsonl_append_alert(cx_buf_t *out, const cx_alert_t *alert) {
  int rc = 0;
  rc |= APPEND_CSTR(out, "{\"type\":\"alert\",\"alert_id\":", alert->alert_id);
  rc |= PUT_LIT(out, ",\"customer_id\":") ||
        cx_jsonl_append_string(out, alert->customer_id.ptr, alert->customer_id.len);
  rc |= APPEND_CSTR(out, ",\"rule\":", alert->rule);
  rc |= APPEND_CSTR(out, ",\"kind\":", cx_rule_kind_name(alert->kind));
  rc |= APPEND_CSTR(out, ",\"severity\":", cx_severity_name(alert->severity));
  rc |= APPEND_INT(out, ",\"score\":", alert->score);
  rc |= PUT_LIT(out, ",\"trigger_event_id\":") ||
        cx_jsonl_append_string(out, alert->trigger_event_id.ptr, alert->trigger_event_id.len);
  rc |= APPEND_INT(out, ",\"event_time\":", alert->event_time_ms);
  rc |= APPEND_INT(out, ",\"window_start\":", alert->window_start_ms);
  rc |= APPEND_INT(out, ",\"window_end\":", alert->window_end_ms);
  rc |= PUT_LIT(out, ",\"reasons\":[");
  for (size_t i = 0; i < alert->reason_count; i++) {
    rc |= i ? PUT_LIT(out, ",{") : PUT_LIT(out, "{");
    rc |= APPEND_CSTR(out, "\"code\":", alert->reasons[i].code);
    rc |= APPEND_INT(out, ",\"value\":", alert->reasons[i].value);
    rc |= PUT_LIT(out, ",\"weight\":") ||
          append_decimal4_value(out, alert->reasons[i].weight, false);
    rc |= PUT_LIT(out, "}");
  }
  rc |= PUT_LIT(out, "],\"evidence_event_ids\":[");
  for (size_t i = 0; i < alert->evidence_count; i++) {
    if (i)
      rc |= PUT_LIT(out, ",");
    rc |= cx_jsonl_append_string(out, alert->evidence[i].ptr, alert->evidence[i].len);
  }
  rc |= PUT_LIT(out, "]");
  rc |= APPEND_CSTR(out, ",\"recommended_action\":",
                    alert->recommended_action ? alert->recommended_action : "");
  if (alert->action_channel)
    rc |= APPEND_CSTR(out, ",\"action_channel\":", alert->action_channel);
  else
    rc |= PUT_LIT(out, ",\"action_channel\":null");
  rc |= PUT_LIT(out, "}\n");
  return rc ? -1 : 0;
}

#define APPEND_OPTIONAL_INT(out, name, present, value) \
  ((present) ? APPEND_INT(out, name, value) : PUT_LIT(out, name "null"))
#define APPEND_OPTIONAL_CSTR(out, name, value) \
  ((value) ? APPEND_CSTR(out, name, value) : PUT_LIT(out, name "null"))

/* Four decimals, and never "-0.0000", so equal values print equal bytes. */
static int append_fixed4(cx_buf_t *out, double value) {
  return append_decimal4_value(out, value, true);
}

static int append_names(cx_buf_t *out, const char *const *items, size_t count) {
  int rc = PUT_LIT(out, "[");
  for (size_t i = 0; i < count; i++) {
    if (i)
      rc |= PUT_LIT(out, ",");
    rc |= append_cstr_value(out, items[i]);
  }
  return rc || PUT_LIT(out, "]");
}

int cx_jsonl_append_profile(cx_buf_t *out, const cx_profile_t *profile) {
  int rc = 0;
  rc |= PUT_LIT(out, "{\"type\":\"profile\",\"customer_id\":") ||
        cx_jsonl_append_string(out, profile->customer_id.ptr, profile->customer_id.len);
  rc |= APPEND_INT(out, ",\"updated_at\":", profile->updated_at_ms);
  if (profile->deleted) {
    rc |= PUT_LIT(out, ",\"deleted\":true}\n");
    return rc ? -1 : 0;
  }
  rc |= APPEND_INT(out, ",\"first_seen\":", profile->first_seen_ms);
  rc |= APPEND_INT(out, ",\"events_total\":", profile->events_total);
  rc |= APPEND_INT(out, ",\"contacts_24h\":", profile->contacts_24h);
  rc |= APPEND_INT(out, ",\"abandoned_24h\":", profile->abandoned_24h);
  rc |= APPEND_INT(out, ",\"wait_ms_24h\":", profile->wait_ms_24h);
  rc |= PUT_LIT(out, ",\"channels_48h\":") ||
        append_names(out, profile->channels_48h, profile->channels_48h_count);
  rc |= APPEND_OPTIONAL_CSTR(out, ",\"preferred_channel\":", profile->preferred_channel);
  rc |= APPEND_INT(out, ",\"frustration_score\":", profile->frustration_score);
  rc |= APPEND_CSTR(out, ",\"frustration_band\":", cx_severity_name(profile->frustration_band));
  rc |= APPEND_INT(out, ",\"churn_score\":", profile->churn_score);
  rc |= APPEND_CSTR(out, ",\"churn_band\":", cx_severity_name(profile->churn_band));
  rc |= PUT_LIT(out, ",\"reasons\":[");
  for (size_t i = 0; i < profile->reason_count; i++) {
    const cx_profile_reason_t *reason = &profile->reasons[i];
    rc |= i ? PUT_LIT(out, ",{") : PUT_LIT(out, "{");
    rc |= APPEND_CSTR(out, "\"code\":", reason->code);
    rc |= APPEND_INT(out, ",\"value\":", reason->value);
    rc |= PUT_LIT(out, ",\"weight\":") || append_fixed4(out, reason->weight);
    rc |= APPEND_CSTR(out, ",\"kind\":", cx_rule_kind_name(reason->kind));
    rc |= PUT_LIT(out, "}");
  }
  rc |= PUT_LIT(out, "]");
  rc |= PUT_LIT(out, ",\"open_alerts\":") ||
        append_names(out, profile->open_alerts, profile->open_alert_count);
  rc |= profile->consent_granted ? PUT_LIT(out, ",\"consent\":true")
                                 : PUT_LIT(out, ",\"consent\":null");
  rc |= APPEND_INT(out, ",\"contacts_7d\":", profile->contacts_7d);
  rc |= APPEND_INT(out, ",\"contacts_30d\":", profile->contacts_30d);
  rc |= PUT_LIT(out, ",\"channel_contacts\":[");
  for (size_t i = 0; i < profile->channel_count; i++) {
    const cx_profile_channel_t *channel = &profile->channels[i];
    rc |= i ? PUT_LIT(out, ",{") : PUT_LIT(out, "{");
    rc |= APPEND_CSTR(out, "\"channel\":", channel->channel);
    rc |= APPEND_INT(out, ",\"contacts_7d\":", channel->contacts_7d);
    rc |= APPEND_INT(out, ",\"contacts_30d\":", channel->contacts_30d);
    rc |= PUT_LIT(out, "}");
  }
  rc |= PUT_LIT(out, "]");
  rc |= APPEND_OPTIONAL_INT(out, ",\"last_contact_at\":", profile->last_contact_channel != NULL,
                            profile->last_contact_ms);
  rc |= APPEND_OPTIONAL_CSTR(out, ",\"last_contact_channel\":", profile->last_contact_channel);
  rc |= APPEND_INT(out, ",\"open_cases\":", profile->open_cases);
  rc |= APPEND_INT(out, ",\"repeat_contacts_7d\":", profile->repeat_contacts_7d);
  rc |= APPEND_OPTIONAL_INT(out, ",\"avg_wait_ms_30d\":", profile->has_avg_wait,
                            profile->avg_wait_ms_30d);
  rc |= PUT_LIT(out, ",\"last_sentiment\":");
  rc |= profile->has_sentiment ? append_fixed4(out, profile->sentiment) : PUT_LIT(out, "null");
  rc |= APPEND_OPTIONAL_INT(out, ",\"last_sentiment_at\":", profile->has_sentiment,
                            profile->sentiment_at_ms);
  rc |= APPEND_OPTIONAL_INT(out, ",\"last_csat\":", profile->has_csat, profile->csat);
  rc |= APPEND_OPTIONAL_INT(out, ",\"last_csat_at\":", profile->has_csat, profile->csat_at_ms);
  rc |= APPEND_OPTIONAL_INT(out, ",\"last_nps\":", profile->has_nps, profile->nps);
  rc |= APPEND_OPTIONAL_INT(out, ",\"last_nps_at\":", profile->has_nps, profile->nps_at_ms);
  rc |= PUT_LIT(out, "}\n");
  return rc ? -1 : 0;
}
