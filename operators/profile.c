/* The profile operator (see profile.h). */
#include "profile.h"

#include "scores.h"
#include "state.h"

void cx_profile_config_default(cx_profile_config_t *config) {
  config->enabled = true;
  config->interval_ms = 3600 * 1000;
  config->min_score_change = 5;
  config->consent_default = false;
}

bool cx_profile_update(const cx_profile_config_t *config, const cx_scores_config_t *scores,
                       cx_customer_t *customer, int64_t t, bool alerted, cx_profile_t *out) {
  (void)config; (void)scores; (void)customer; (void)t; (void)alerted; (void)out;
  return false;
}
