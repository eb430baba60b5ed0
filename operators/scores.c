/* Scores (see scores.h). Contributions are floats decayed lazily: only when
 * the customer's next event (or timer) comes, so an idle customer costs
 * nothing. */
#include "scores.h"

#include <math.h>
#include <string.h>

/* Four contributions at a time (GCC/Clang vector extensions: SSE2 on
 * x86-64), each exactly as one at a time would be: widened to double,
 * multiplied by the factor, rounded to float, and +0 below 0.01. */
typedef float cx_v4f __attribute__((vector_size(16)));
typedef float cx_v2f __attribute__((vector_size(8)));
typedef double cx_v2d __attribute__((vector_size(16)));
typedef int32_t cx_v4i __attribute__((vector_size(16)));

#define CX_SCORES_LANES ((CX_RULE__COUNT + 3) / 4 * 4)

static cx_v4f decay4(cx_v4f c, double factor) {
  cx_v2d f = {factor, factor};
  cx_v2f low = __builtin_convertvector(__builtin_convertvector(
                                           (cx_v2f){c[0], c[1]}, cx_v2d) * f, cx_v2f);
  cx_v2f high = __builtin_convertvector(__builtin_convertvector(
                                            (cx_v2f){c[2], c[3]}, cx_v2d) * f, cx_v2f);
  cx_v4f decayed = {low[0], low[1], high[0], high[1]};
  cx_v4i below = decayed < (cx_v4f){0.01f, 0.01f, 0.01f, 0.01f}; /* -1 where below */
  return (cx_v4f)((cx_v4i)decayed & ~below);
}

void cx_scores_decay(cx_customer_t *customer, int64_t t, int64_t half_life_ms) {
  if (customer->scores_at_ms == INT64_MIN) {
    customer->scores_at_ms = t;
    return;
  }
  if (t <= customer->scores_at_ms)
    return;
  cx_customer_rules_t *rules = customer->rules;
  if (rules) {
    cx_v4f c[CX_SCORES_LANES / 4] = {0}; /* the lanes past CX_RULE__COUNT stay +0 */
    memcpy(c, rules->contribution, sizeof(rules->contribution));
    cx_v4i bits = {0, 0, 0, 0};
    for (int i = 0; i < CX_SCORES_LANES / 4; i++)
      bits |= (cx_v4i)c[i];
    /* Every contribution +0 (bit for bit): decaying changes nothing. */
    if (bits[0] | bits[1] | bits[2] | bits[3]) {
      double factor = half_life_ms > 0
                          ? exp2(-(double)(t - customer->scores_at_ms) / (double)half_life_ms)
                          : 0.0;
      for (int i = 0; i < CX_SCORES_LANES / 4; i++)
        c[i] = decay4(c[i], factor);
      memcpy(rules->contribution, c, sizeof(rules->contribution));
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
