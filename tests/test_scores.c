/* Scores: decay with event time, caps, bands, top reasons; and through the
 * processor: severity from the band, re-alert on a higher band, actions,
 * reload keeping state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../operators/processor.h"
#include "../operators/scores.h"
#include "../operators/state.h"
#include "test_helpers.h"

#define DAY_MS (24 * H_MS)

static cx_customer_t *customer(cx_state_t *s) {
  cx_str_t key = cx_str("C1");
  return cx_state_upsert(s, key, cx_state_hash(key));
}

static void test_scores_halve_every_half_life(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  cx_customer_t *c = customer(s);
  cx_scores_decay(c, 0, 3 * DAY_MS);
  cx_scores_add(c, CX_RULE_REPEAT_CONTACT, 40);
  assert_true(cx_scores_value(c, CX_KIND_FRUSTRATION) == 40);
  cx_scores_decay(c, 3 * DAY_MS, 3 * DAY_MS);
  assert_true(cx_scores_value(c, CX_KIND_FRUSTRATION) > 19.99 &&
              cx_scores_value(c, CX_KIND_FRUSTRATION) < 20.01);
  cx_scores_decay(c, 1, 3 * DAY_MS); /* an older time changes nothing */
  assert_true(cx_scores_value(c, CX_KIND_FRUSTRATION) > 19.99);
  assert_true(cx_scores_value(c, CX_KIND_CHURN) == 0);
  cx_state_destroy(s);
}

static void test_scores_cap_at_100_and_bands_at_thresholds(void **unused) {
  (void)unused;
  cx_scores_config_t config;
  cx_scores_config_default(&config);
  cx_state_t *s = cx_state_new();
  cx_customer_t *c = customer(s);
  cx_scores_add(c, CX_RULE_CANCELLATION_INTENT, 80);
  cx_scores_add(c, CX_RULE_ESCALATION, 80);
  assert_true(cx_scores_value(c, CX_KIND_CHURN) == 100);
  assert_int_equal(cx_scores_band(&config, 24.99), CX_SEVERITY_LOW);
  assert_int_equal(cx_scores_band(&config, 25), CX_SEVERITY_MEDIUM);
  assert_int_equal(cx_scores_band(&config, 50), CX_SEVERITY_HIGH);
  assert_int_equal(cx_scores_band(&config, 75), CX_SEVERITY_CRITICAL);
  cx_state_destroy(s);
}

static void test_scores_top_orders_by_contribution_within_kind(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  cx_customer_t *c = customer(s);
  cx_scores_add(c, CX_RULE_LONG_WAIT, 10);
  cx_scores_add(c, CX_RULE_ABANDONMENT, 30);
  cx_scores_add(c, CX_RULE_REPEAT_CONTACT, 20);
  cx_scores_add(c, CX_RULE_NEGATIVE_VOICE, 0.2); /* too small to be a reason */
  cx_scores_add(c, CX_RULE_ESCALATION, 50);       /* churn: another kind */
  cx_rule_t top[2];
  assert_int_equal(cx_scores_top(c, CX_KIND_FRUSTRATION, top, 2), 2);
  assert_int_equal(top[0], CX_RULE_ABANDONMENT);
  assert_int_equal(top[1], CX_RULE_REPEAT_CONTACT);
  cx_state_destroy(s);
}

typedef struct captured_s {
  int count;
  cx_severity_t severity[16];
  int score[16];
  char action[16][CX_ACTION_MAX];
} captured_t;

static void capture(const cx_alert_t *alert, void *opaque) {
  captured_t *c = opaque;
  assert_true(c->count < 16);
  c->severity[c->count] = alert->severity;
  c->score[c->count] = alert->score;
  snprintf(c->action[c->count], CX_ACTION_MAX, "%s", alert->recommended_action);
  c->count++;
}

static cx_event_t survey(const char *id, int64_t at, int csat) {
  cx_event_t e;
  cx_event_clear(&e);
  e.customer_id = cx_str("C1");
  e.event_id = cx_str(id);
  e.occurred_at_ms = at;
  e.channel = CX_CHANNEL_EMAIL;
  e.type = CX_EVENT_SURVEY;
  e.has_csat = true;
  e.csat = csat;
  return e;
}

static void feed(cx_processor_t *p, cx_event_t e, captured_t *c) {
  cx_outputs_t outputs = {capture, NULL, c};
  assert_int_equal(cx_processor_process(p, &e, &outputs), CX_PROCESS_OK);
}

static cx_processor_t *only_negative_voice(double weight) {
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  for (int r = 0; r < CX_RULE__COUNT; r++)
    config.rules.common[r].enabled = r == CX_RULE_NEGATIVE_VOICE;
  config.rules.common[CX_RULE_NEGATIVE_VOICE].weight = weight;
  return cx_processor_new(&config);
}

static void test_higher_band_breaks_the_cooldown_same_band_does_not(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only_negative_voice(30);
  feed(p, survey("s1", 0, 1), &c);             /* 30 points: medium */
  assert_int_equal(c.count, 1);
  assert_int_equal(c.severity[0], CX_SEVERITY_MEDIUM);
  assert_string_equal(c.action[0], "proactive_follow_up");
  feed(p, survey("s2", 1000, 1), &c);          /* 60: high, within the cooldown */
  assert_int_equal(c.count, 2);
  assert_int_equal(c.severity[1], CX_SEVERITY_HIGH);
  assert_string_equal(c.action[1], "priority_callback");
  feed(p, survey("s3", 2000, 3), &c);          /* no hit */
  assert_int_equal(c.count, 2);
  cx_processor_destroy(p);
  /* With realert off, the same escalation stays quiet. */
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  for (int r = 0; r < CX_RULE__COUNT; r++)
    config.rules.common[r].enabled = r == CX_RULE_NEGATIVE_VOICE;
  config.rules.common[CX_RULE_NEGATIVE_VOICE].weight = 30;
  config.rules.common[CX_RULE_NEGATIVE_VOICE].realert_on_higher_band = false;
  p = cx_processor_new(&config);
  captured_t quiet = {0};
  feed(p, survey("s1", 0, 1), &quiet);
  feed(p, survey("s2", 1000, 1), &quiet);
  assert_int_equal(quiet.count, 1);
  assert_int_equal(cx_processor_stats(p)->suppressed[CX_RULE_NEGATIVE_VOICE], 1);
  cx_processor_destroy(p);
}

static void test_same_band_within_cooldown_is_quiet(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only_negative_voice(5);
  feed(p, survey("s1", 0, 1), &c);             /* 5 points: low */
  feed(p, survey("s2", 1000, 1), &c);          /* 10: still low */
  assert_int_equal(c.count, 1);
  assert_int_equal(c.severity[0], CX_SEVERITY_LOW);
  assert_string_equal(c.action[0], "monitor");
  cx_processor_destroy(p);
}

static void test_reconfigure_keeps_state_and_applies_new_rules(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  for (int r = 0; r < CX_RULE__COUNT; r++)
    config.rules.common[r].enabled = r == CX_RULE_REPEAT_CONTACT;
  cx_processor_t *p = cx_processor_new(&config);
  feed(p, test_contact("C1", "e1", 0, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED, 0), &c);
  feed(p, test_contact("C1", "e2", 1000, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED, 0), &c);
  assert_int_equal(c.count, 0);
  config.rules.repeat_contact.min_contacts = 2;
  strcpy(config.rules.common[CX_RULE_REPEAT_CONTACT].action, "call_now");
  cx_processor_reconfigure(p, &config);
  feed(p, test_contact("C1", "e3", 2000, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED, 0), &c);
  assert_int_equal(c.count, 1); /* the two earlier contacts are still in state */
  assert_string_equal(c.action[0], "call_now");
  cx_processor_destroy(p);
}

/* Decay skips the arithmetic when every contribution is +0, and only then:
 * a -0 contribution (a negative weight's remains, or a restored record)
 * still becomes +0 as the arithmetic makes it, so the state (and its
 * changelog record) is the same as without the shortcut. */
static void test_scores_decay_of_zero_contributions_keeps_their_bits(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  cx_customer_t *c = customer(s);
  cx_scores_decay(c, 0, DAY_MS);
  assert_null(c->rules); /* nothing to decay: no block */
  cx_scores_decay(c, DAY_MS, DAY_MS);
  assert_int_equal(c->scores_at_ms, DAY_MS);
  cx_customer_rules_t *rules = cx_customer_rules_mut(c);
  rules->contribution[CX_RULE_ESCALATION] = -0.0f;
  cx_scores_decay(c, 2 * DAY_MS, DAY_MS);
  uint32_t bits;
  memcpy(&bits, &rules->contribution[CX_RULE_ESCALATION], sizeof(bits));
  assert_int_equal(bits, 0); /* -0 became +0 */
  assert_int_equal(c->scores_at_ms, 2 * DAY_MS);
  cx_scores_decay(c, 3 * DAY_MS, DAY_MS); /* all +0 now: only the time moves */
  assert_int_equal(c->scores_at_ms, 3 * DAY_MS);
  for (int r = 0; r < CX_RULE__COUNT; r++)
    assert_true(rules->contribution[r] == 0.0f);
  cx_state_destroy(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_scores_halve_every_half_life),
    cmocka_unit_test(test_scores_decay_of_zero_contributions_keeps_their_bits),
    cmocka_unit_test(test_scores_cap_at_100_and_bands_at_thresholds),
    cmocka_unit_test(test_scores_top_orders_by_contribution_within_kind),
    cmocka_unit_test(test_higher_band_breaks_the_cooldown_same_band_does_not),
    cmocka_unit_test(test_same_band_within_cooldown_is_quiet),
    cmocka_unit_test(test_reconfigure_keeps_state_and_applies_new_rules),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
