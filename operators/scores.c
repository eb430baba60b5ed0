/* Scores (see scores.h). Contributions are floats decayed lazily: only when
 * the customer's next event (or timer) comes, so an idle customer costs
 * nothing. */
#include "scores.h"

#include <math.h>
#include <string.h>

void cx_scores_decay(cx_customer_t *customer, int64_t t, int64_t half_life_ms) {
  if (customer->scores_at_ms == INT64_MIN) {
    customer->scores_at_ms = t;
    return;
  }
  if (t <= customer->scores_at_ms)
    return;
  cx_customer_rules_t *rules = customer->rules;
  /* No block, or every contribution +0 (bit for bit): decaying changes
   * nothing. Both loops are branch-free (scores change at random). */
  if (rules) {
    uint32_t bits = 0;
    for (int r = 0; r < CX_RULE__COUNT; r++) {
      uint32_t word;
      memcpy(&word, &rules->contribution[r], sizeof(word));
      bits |= word;
    }
    if (bits) {
      double factor = half_life_ms > 0
                          ? exp2(-(double)(t - customer->scores_at_ms) / (double)half_life_ms)
                          : 0.0;
      for (int r = 0; r < CX_RULE__COUNT; r++) {
        /* below 0.01 becomes +0: the bits masked off, without a branch */
        float decayed = (float)(rules->contribution[r] * factor);
        uint32_t word;
        memcpy(&word, &decayed, sizeof(word));
        word &= -(uint32_t)!(decayed < 0.01f);
        memcpy(&rules->contribution[r], &word, sizeof(word));
      }
    }
  }
  customer->scores_at_ms = t;
}

int cx_scores_add(cx_customer_t *customer, cx_rule_t rule, double points) {
  cx_customer_rules_t *rules = cx_customer_rules_mut(customer);
  if (!rules)
    return -1;
  rules->contribution[rule] = (float)(rules->contribution[rule] + points);
  return 0;
}

double cx_scores_value(const cx_customer_t *customer, cx_rule_kind_t kind) {
  if (!customer->rules)
    return 0;
  const float *contribution = customer->rules->contribution;
  double sum = 0;
  for (int r = 0; r < CX_RULE__COUNT; r++)
    if (cx_detectors[r].kind == kind)
      sum += contribution[r];
  return sum > 100 ? 100 : sum;
}

cx_severity_t cx_scores_band(const cx_scores_config_t *config, double score) {
  return score >= config->band_critical ? CX_SEVERITY_CRITICAL
         : score >= config->band_high   ? CX_SEVERITY_HIGH
         : score >= config->band_medium ? CX_SEVERITY_MEDIUM
                                        : CX_SEVERITY_LOW;
}

const char *cx_band_name(cx_severity_t band) {
  return cx_severity_name(band);
}

size_t cx_scores_top(const cx_customer_t *customer, cx_rule_kind_t kind, cx_rule_t *rules,
                     size_t max) {
  size_t count = 0;
  if (!customer->rules)
    return 0;
  const float *contribution = customer->rules->contribution;
  for (int r = 0; r < CX_RULE__COUNT; r++) {
    if (cx_detectors[r].kind != kind || contribution[r] <= 0.5f)
      continue;
    size_t pos = count < max ? count++ : max;
    /* Insertion into a short sorted list; ties keep rule order. */
    while (pos > 0 && contribution[rules[pos - 1]] < contribution[r]) {
      if (pos < max)
        rules[pos] = rules[pos - 1];
      pos--;
    }
    if (pos < max)
      rules[pos] = (cx_rule_t)r;
  }
  return count;
}
