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

void cx_alert_make_id(cx_str_t customer_id, const char *rule, cx_str_t trigger_event_id,
                      char out[CX_ALERT_ID_LEN + 1]) {
  static const char hex[] = "0123456789abcdef";
  static const char separator = '\0';
  XXH3_state_t state;
  XXH3_128bits_reset(&state);
  XXH3_128bits_update(&state, customer_id.ptr, customer_id.len);
  XXH3_128bits_update(&state, &separator, 1);
  XXH3_128bits_update(&state, rule, strlen(rule));
  XXH3_128bits_update(&state, &separator, 1);
  XXH3_128bits_update(&state, trigger_event_id.ptr, trigger_event_id.len);
  XXH128_hash_t hash = XXH3_128bits_digest(&state);
  for (int i = 0; i < 16; i++) {
    out[i] = hex[(hash.high64 >> (60 - 4 * i)) & 0xf];
    out[16 + i] = hex[(hash.low64 >> (60 - 4 * i)) & 0xf];
  }
  out[CX_ALERT_ID_LEN] = '\0';
}
