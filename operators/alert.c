/* Alert names and deterministic alert ids (see alert.h). */
#include "alert.h"

#include <string.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

const char *cx_rule_kind_name(cx_rule_kind_t kind) {
  return kind == CX_KIND_CHURN ? "churn" : "frustration";
}

const char *cx_severity_name(cx_severity_t severity) {
  static const char *const names[] = {"low", "medium", "high", "critical"};
  return (unsigned)severity <= CX_SEVERITY_CRITICAL ? names[severity] : "?";
}

/* XXH3-128 of customer_id NUL rule NUL trigger_event_id: in one call over a
 * copy on the stack when it fits (ids are short), streamed otherwise; both
 * give the same hash. */
void cx_alert_make_id(cx_str_t customer_id, const char *rule, cx_str_t trigger_event_id,
                      char out[CX_ALERT_ID_LEN + 1]) {
  static const char hex[] = "0123456789abcdef";
  static const char separator = '\0';
  size_t rule_len = strlen(rule);
  size_t total = customer_id.len + 1 + rule_len + 1 + trigger_event_id.len;
  XXH128_hash_t hash;
  char joined[256];
  if (total <= sizeof(joined)) {
    char *at = joined;
    if (customer_id.len)
      memcpy(at, customer_id.ptr, customer_id.len);
    at += customer_id.len;
    *at++ = separator;
    memcpy(at, rule, rule_len);
    at += rule_len;
    *at++ = separator;
    if (trigger_event_id.len)
      memcpy(at, trigger_event_id.ptr, trigger_event_id.len);
    hash = XXH3_128bits(joined, total);
  } else {
    XXH3_state_t state;
    XXH3_128bits_reset(&state);
    XXH3_128bits_update(&state, customer_id.ptr, customer_id.len);
    XXH3_128bits_update(&state, &separator, 1);
    XXH3_128bits_update(&state, rule, rule_len);
    XXH3_128bits_update(&state, &separator, 1);
    XXH3_128bits_update(&state, trigger_event_id.ptr, trigger_event_id.len);
    hash = XXH3_128bits_digest(&state);
  }
  for (int i = 0; i < 16; i++) {
    out[i] = hex[(hash.high64 >> (60 - 4 * i)) & 0xf];
    out[16 + i] = hex[(hash.low64 >> (60 - 4 * i)) & 0xf];
  }
  out[CX_ALERT_ID_LEN] = '\0';
}
