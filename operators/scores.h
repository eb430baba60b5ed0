/* Frustration and churn-risk scores per customer. Each detector hit adds its
 * rule's weight to that rule's contribution; contributions decay
 * exponentially with event time (halving every scores.half_life); a kind's
 * score is the sum of its rules' contributions, capped at 100; its band is
 * low / medium / high / critical at the scores.band.* thresholds. The
 * largest contributions are the score's reason codes. */
#ifndef CX_SCORES_H
#define CX_SCORES_H

#include "alert.h"
#include "rules.h"
#include "state.h"

/* Decays the contributions to event time t (an older t changes nothing). */
void cx_scores_decay(cx_customer_t *customer, int64_t t, int64_t half_life_ms);
/* Returns -1 when out of memory (the customer's first contribution). */
int cx_scores_add(cx_customer_t *customer, cx_rule_t rule, double points);
/* 0..100 */
double cx_scores_value(const cx_customer_t *customer, cx_rule_kind_t kind);
cx_severity_t cx_scores_band(const cx_scores_config_t *config, double score);
const char *cx_band_name(cx_severity_t band);

/* The up to max rules of kind with the largest contributions (> 0.5 points),
 * largest first; returns how many. */
size_t cx_scores_top(const cx_customer_t *customer, cx_rule_kind_t kind, cx_rule_t *rules,
                     size_t max);

#endif
