/* The enriched customer profile: built from a customer's state, emitted on
 * material change at most once per profiles.interval of event time, only for
 * customers who allow profiling (see README "Profiles"). */
#ifndef CX_PROFILE_H
#define CX_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "event.h"

struct cx_customer_s;
struct cx_scores_config_s;

typedef struct cx_profile_config_s {
  bool enabled;              /* profiles.enabled */
  int64_t interval_ms;       /* profiles.interval: at most one profile per customer per this */
  double min_score_change;   /* profiles.min_score_change: a material score change */
  bool consent_default;      /* profiles.consent.default: granted (true) or denied when unknown */
} cx_profile_config_t;

void cx_profile_config_default(cx_profile_config_t *config);

/* Per-customer state of the profile operator (fixed size, no heap). */
typedef struct cx_profile_state_s {
  int64_t unused; /* placeholder until the profile operator needs state */
} cx_profile_state_t;

/* A profile as emitted (strings borrowed: valid during the callback). */
typedef struct cx_profile_s {
  cx_str_t customer_id;      /* the customer */
  int64_t updated_at_ms;     /* event time of the last event applied */
} cx_profile_t;

typedef void (cx_profile_cb_t)(const cx_profile_t *profile, void *opaque);

/* Called after each event and due timer of a customer: decides whether a
 * profile is due and, if so, fills *out and returns true. */
bool cx_profile_update(const cx_profile_config_t *config,
                       const struct cx_scores_config_s *scores,
                       struct cx_customer_s *customer, int64_t t, bool alerted,
                       cx_profile_t *out);

#endif
