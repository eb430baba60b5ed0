/* negative_voice, broken_promise, cancellation_intent, escalation,
 * payment_friction and frustration_then_intent through the real processor:
 * thresholds exactly at their values, missing optional fields, attribute
 * matching, 30-day counts at their bound and past the kept history,
 * out-of-order events, and ordinary traffic that must stay quiet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../operators/processor.h"
#include "test_helpers.h"

#define D_MS (24 * H_MS)
#define MAX_CAPTURED 64

typedef struct captured_s {
  int count;
  char rules[MAX_CAPTURED][32];
  char triggers[MAX_CAPTURED][32];
  int64_t window_start[MAX_CAPTURED];
  int64_t window_end[MAX_CAPTURED];
  char reasons[MAX_CAPTURED][128];  /* "code=value,code=value" */
  double weights[MAX_CAPTURED][CX_ALERT_MAX_REASONS];
  char evidence[MAX_CAPTURED][512]; /* "id,id,id" */
} captured_t;

static void capture(const cx_alert_t *alert, void *opaque) {
  captured_t *c = opaque;
  assert_true(c->count < MAX_CAPTURED);
  int n = c->count++;
  snprintf(c->rules[n], sizeof(c->rules[n]), "%s", alert->rule);
  snprintf(c->triggers[n], sizeof(c->triggers[n]), "%.*s", (int)alert->trigger_event_id.len,
           alert->trigger_event_id.ptr);
  c->window_start[n] = alert->window_start_ms;
  c->window_end[n] = alert->window_end_ms;
  size_t used = 0;
  for (size_t i = 0; i < alert->reason_count; i++) {
    used += (size_t)snprintf(c->reasons[n] + used, sizeof(c->reasons[n]) - used, "%s%s=%lld",
                             i ? "," : "", alert->reasons[i].code,
                             (long long)alert->reasons[i].value);
    c->weights[n][i] = alert->reasons[i].weight;
  }
  used = 0;
  for (size_t i = 0; i < alert->evidence_count; i++)
    used += (size_t)snprintf(c->evidence[n] + used, sizeof(c->evidence[n]) - used, "%s%.*s",
                             i ? "," : "", (int)alert->evidence[i].len, alert->evidence[i].ptr);
}

/* Only the named rules enabled (the second may be CX_RULE__COUNT for none),
 * defaults otherwise; cooldown_ms < 0 keeps the default cooldown. */
static cx_processor_t *with_rules(cx_rule_t rule, cx_rule_t other, int64_t cooldown_ms,
                                  cx_processor_config_t *config) {
  for (int r = 0; r < CX_RULE__COUNT; r++)
    config->rules.common[r].enabled = r == (int)rule || r == (int)other;
  if (cooldown_ms >= 0)
    config->rules.common[rule].cooldown_ms = cooldown_ms;
  return cx_processor_new(config);
}

static cx_processor_t *only(cx_rule_t rule) {
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  return with_rules(rule, CX_RULE__COUNT, -1, &config);
}

/* Every hit emitted: the counts are visible on each event. */
static cx_processor_t *only_without_cooldown(cx_rule_t rule) {
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  return with_rules(rule, CX_RULE__COUNT, 0, &config);
}

static void feed(cx_processor_t *p, cx_event_t e, captured_t *c) {
  cx_outputs_t outputs = {capture, NULL, c};
  assert_int_equal(cx_processor_process(p, &e, &outputs), CX_PROCESS_OK);
}

static cx_event_t event_of(const char *id, int64_t at_ms, cx_channel_t channel,
                           cx_event_type_t type) {
  cx_event_t event;
  cx_event_clear(&event);
  event.customer_id = cx_str("C1");
  event.event_id = cx_str(id);
  event.occurred_at_ms = at_ms;
  event.channel = channel;
  event.type = type;
  return event;
}

static cx_event_t survey(const char *id, int64_t at_ms) {
  return event_of(id, at_ms, CX_CHANNEL_EMAIL, CX_EVENT_SURVEY);
}

static cx_event_t with_sentiment(cx_event_t event, float sentiment) {
  event.has_sentiment = true;
  event.sentiment = sentiment;
  return event;
}

static cx_event_t with_csat(cx_event_t event, int32_t csat) {
  event.has_csat = true;
  event.csat = csat;
  return event;
}

static cx_event_t with_nps(cx_event_t event, int32_t nps) {
  event.has_nps = true;
  event.nps = nps;
  return event;
}

static cx_event_t with_attribute(cx_event_t event, const char *key, const char *value) {
  assert_true(event.attribute_count < CX_EVENT_MAX_ATTRIBUTES);
  event.attribute_keys[event.attribute_count] = cx_str(key);
  event.attribute_values[event.attribute_count] = cx_str(value);
  event.attribute_count++;
  return event;
}

static cx_event_t contact(const char *id, int64_t at_ms) {
  cx_event_t event = event_of(id, at_ms, CX_CHANNEL_PHONE, CX_EVENT_CONTACT);
  event.outcome = CX_OUTCOME_COMPLETED;
  return event;
}

/* ---- negative_voice ---- */

static void test_negative_voice_fires_at_sentiment_exactly_max_sentiment(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_NEGATIVE_VOICE);
  feed(p, with_sentiment(contact("above", 1000), -0.49f), &c);
  assert_int_equal(c.count, 0);
  feed(p, with_sentiment(contact("at", 2000), -0.5f), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.rules[0], "negative_voice");
  assert_string_equal(c.triggers[0], "at");
  assert_string_equal(c.reasons[0], "sentiment_x1000=-500");
  assert_string_equal(c.evidence[0], "at");
  assert_int_equal(c.window_start[0], 2000); /* a point signal: the event alone */
  assert_int_equal(c.window_end[0], 2000);
  cx_processor_destroy(p);
}

static void test_negative_voice_csat_2_fires_and_3_does_not(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_NEGATIVE_VOICE);
  feed(p, with_csat(survey("s3", 0), 3), &c);
  assert_int_equal(c.count, 0);
  feed(p, with_csat(survey("s2", 1), 2), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.reasons[0], "csat=2");
  cx_processor_destroy(p);
}

static void test_negative_voice_nps_6_is_a_detractor_and_7_is_not(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_NEGATIVE_VOICE);
  feed(p, with_nps(survey("n7", 0), 7), &c);
  assert_int_equal(c.count, 0);
  feed(p, with_nps(survey("n6", 1), 6), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.reasons[0], "nps=6");
  cx_processor_destroy(p);
}

static void test_negative_voice_reports_every_measure_that_holds_weighted_by_severity(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_NEGATIVE_VOICE);
  feed(p, with_nps(with_csat(with_sentiment(survey("s", 0), -0.8f), 1), 0), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.reasons[0], "sentiment_x1000=-800,csat=1,nps=0");
  /* Distance from the scale's best value relative to the threshold's:
   * sentiment (1 + 0.8) / 1.5 = 1.2, csat 4 / 3, nps 10 / 4 = 2.5. */
  double sum = 1.2 + 4.0 / 3.0 + 2.5;
  assert_float_equal(c.weights[0][0], 1.2 / sum, 1e-6);
  assert_float_equal(c.weights[0][1], (4.0 / 3.0) / sum, 1e-6);
  assert_float_equal(c.weights[0][2], 2.5 / sum, 1e-6);
  /* Only those that hold: a good csat next to a bad nps is not a reason. */
  feed(p, with_nps(with_csat(survey("t", 25 * H_MS), 5), 3), &c);
  assert_int_equal(c.count, 2);
  assert_string_equal(c.reasons[1], "nps=3");
  cx_processor_destroy(p);
}

static void test_negative_voice_ignores_values_of_missing_fields(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_NEGATIVE_VOICE);
  cx_event_t event = survey("s", 0);
  event.sentiment = -1.0f; /* set, but has_* say absent */
  event.csat = 1;
  event.nps = 0;
  feed(p, event, &c);
  assert_int_equal(c.count, 0);
  cx_processor_destroy(p);
}

static void test_negative_voice_thresholds_are_configurable(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  config.rules.negative_voice.max_csat = 3;
  config.rules.negative_voice.max_nps = -1;       /* no NPS is a detractor */
  config.rules.negative_voice.max_sentiment = 1;  /* the top of the scale: all sentiment */
  cx_processor_t *p = with_rules(CX_RULE_NEGATIVE_VOICE, CX_RULE__COUNT, 0, &config);
  feed(p, with_nps(survey("n", 0), 0), &c);
  assert_int_equal(c.count, 0);
  feed(p, with_csat(survey("s", 1), 3), &c);
  assert_int_equal(c.count, 1);
  feed(p, with_sentiment(survey("v", 2), 1.0f), &c);
  assert_int_equal(c.count, 2);
  assert_string_equal(c.reasons[1], "sentiment_x1000=1000");
  assert_float_equal(c.weights[1][0], 1.0, 1e-9);
  cx_processor_destroy(p);
}

/* ---- broken_promise ---- */

static void test_broken_promise_fires_on_appointment_missed(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_BROKEN_PROMISE);
  feed(p, event_of("m1", 5000, CX_CHANNEL_FIELD, CX_EVENT_APPOINTMENT_MISSED), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.rules[0], "broken_promise");
  assert_string_equal(c.reasons[0], "broken_promises=1");
  assert_string_equal(c.evidence[0], "m1");
  assert_int_equal(c.window_start[0], 5000 - 30 * D_MS); /* the count's 30 days */
  assert_int_equal(c.window_end[0], 5000);
  cx_processor_destroy(p);
}

static void test_broken_promise_fires_on_promise_attribute_broken_or_callback_missed(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only_without_cooldown(CX_RULE_BROKEN_PROMISE);
  feed(p, with_attribute(contact("kept", 0), "promise", "kept"), &c);
  feed(p, with_attribute(contact("caps", 1), "Promise", "broken"), &c);
  feed(p, with_attribute(contact("longer", 2), "promise", "broken_"), &c);
  feed(p, with_attribute(contact("prefix", 3), "promise", "broke"), &c);
  feed(p, with_attribute(contact("empty", 4), "promise", ""), &c);
  feed(p, event_of("other", 5, CX_CHANNEL_FIELD, CX_EVENT_OTHER), &c);
  assert_int_equal(c.count, 0);
  cx_event_t callback = with_attribute(event_of("cb", 6, CX_CHANNEL_PHONE, CX_EVENT_OTHER),
                                       "reason", "x");
  feed(p, with_attribute(callback, "promise", "callback_missed"), &c);
  feed(p, with_attribute(contact("br", 7), "promise", "broken"), &c);
  assert_int_equal(c.count, 2);
  assert_string_equal(c.triggers[0], "cb");
  assert_string_equal(c.triggers[1], "br");
  assert_string_equal(c.reasons[1], "broken_promises=2");
  cx_processor_destroy(p);
}

static void test_broken_promise_counts_30_days_excluding_exactly_30_days_before(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_BROKEN_PROMISE);
  feed(p, event_of("m1", 0, CX_CHANNEL_FIELD, CX_EVENT_APPOINTMENT_MISSED), &c);
  feed(p, event_of("m2", 10 * D_MS, CX_CHANNEL_FIELD, CX_EVENT_APPOINTMENT_MISSED), &c);
  feed(p, event_of("m3", 30 * D_MS - 1, CX_CHANNEL_FIELD, CX_EVENT_APPOINTMENT_MISSED), &c);
  feed(p, event_of("m4", 40 * D_MS, CX_CHANNEL_FIELD, CX_EVENT_APPOINTMENT_MISSED), &c);
  assert_int_equal(c.count, 4);
  assert_string_equal(c.reasons[1], "broken_promises=2");
  assert_string_equal(c.reasons[2], "broken_promises=3"); /* m1 is 1 ms inside */
  assert_string_equal(c.reasons[3], "broken_promises=2"); /* m2 is exactly 30d before: out */
  cx_processor_destroy(p);
}

static void test_broken_promise_count_saturates_at_kept_history(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only_without_cooldown(CX_RULE_BROKEN_PROMISE);
  char id[16];
  for (int i = 0; i < 10; i++) {
    snprintf(id, sizeof(id), "m%d", i);
    feed(p, event_of(id, i * H_MS, CX_CHANNEL_FIELD, CX_EVENT_APPOINTMENT_MISSED), &c);
  }
  assert_int_equal(c.count, 10);
  assert_string_equal(c.reasons[6], "broken_promises=7");
  assert_string_equal(c.reasons[7], "broken_promises=8");
  assert_string_equal(c.reasons[9], "broken_promises=8");
  cx_processor_destroy(p);
}

static void test_broken_promise_out_of_order_promise_is_counted_in_time_order(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only_without_cooldown(CX_RULE_BROKEN_PROMISE);
  feed(p, event_of("m2", 100000, CX_CHANNEL_FIELD, CX_EVENT_APPOINTMENT_MISSED), &c);
  feed(p, event_of("m1", 50000, CX_CHANNEL_FIELD, CX_EVENT_APPOINTMENT_MISSED), &c);
  assert_string_equal(c.reasons[1], "broken_promises=1"); /* m2 is later than m1 */
  feed(p, event_of("m3", 30 * D_MS + 50001, CX_CHANNEL_FIELD, CX_EVENT_APPOINTMENT_MISSED), &c);
  assert_int_equal(c.count, 3);
  assert_string_equal(c.reasons[2], "broken_promises=2"); /* m1 out, m2 and m3 in */
  cx_processor_destroy(p);
}

/* ---- cancellation_intent ---- */

static void test_cancellation_intent_fires_on_cancel_intent_event(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_CANCELLATION_INTENT);
  feed(p, event_of("i1", 7000, CX_CHANNEL_WEB, CX_EVENT_CANCEL_INTENT), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.rules[0], "cancellation_intent");
  assert_string_equal(c.reasons[0], "cancel_intent=1");
  assert_string_equal(c.evidence[0], "i1");
  assert_int_equal(c.window_start[0], 7000);
  assert_int_equal(c.window_end[0], 7000);
  cx_processor_destroy(p);
}

static void test_cancellation_intent_fires_on_intent_attribute_cancel_or_port_out(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only_without_cooldown(CX_RULE_CANCELLATION_INTENT);
  feed(p, with_attribute(contact("a", 0), "intent", "cancellation"), &c);
  feed(p, with_attribute(contact("b", 1), "intent", "Cancel"), &c);
  feed(p, with_attribute(contact("c", 2), "intent", "upgrade"), &c);
  feed(p, with_attribute(contact("d", 3), "reason", "cancel"), &c);
  feed(p, with_attribute(contact("e", 4), "reason", "competitor_offer"), &c);
  assert_int_equal(c.count, 0);
  feed(p, with_attribute(contact("f", 5), "intent", "cancel"), &c);
  feed(p, with_attribute(contact("g", 6), "intent", "port_out"), &c);
  assert_int_equal(c.count, 2);
  assert_string_equal(c.reasons[0], "cancel_intent=1");
  assert_string_equal(c.triggers[1], "g");
  cx_processor_destroy(p);
}

static void test_cancellation_intent_competitor_attribute_is_a_competitor_mention(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only_without_cooldown(CX_RULE_CANCELLATION_INTENT);
  feed(p, with_attribute(contact("empty", 0), "competitor", ""), &c);
  assert_int_equal(c.count, 0);
  feed(p, with_attribute(contact("m", 1), "competitor", "OtherTel"), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.reasons[0], "competitor_mention=1");
  cx_event_t both = with_attribute(event_of("b", 2, CX_CHANNEL_PHONE, CX_EVENT_CANCEL_INTENT),
                                   "competitor", "OtherTel");
  feed(p, both, &c);
  assert_int_equal(c.count, 2);
  assert_string_equal(c.reasons[1], "cancel_intent=1,competitor_mention=1");
  assert_float_equal(c.weights[1][0], 0.5, 1e-9);
  cx_processor_destroy(p);
}

static void test_cancellation_intent_reads_only_attributes_in_the_array(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only_without_cooldown(CX_RULE_CANCELLATION_INTENT);
  cx_event_t event = with_attribute(contact("hidden", 0), "intent", "cancel");
  event.attribute_count = 0; /* the slot is filled but not in use */
  feed(p, event, &c);
  assert_int_equal(c.count, 0);
  /* More attributes than the struct holds: the last one kept still counts. */
  event = contact("last", 1);
  for (int i = 0; i < CX_EVENT_MAX_ATTRIBUTES - 1; i++)
    event = with_attribute(event, "seq", "1");
  event = with_attribute(event, "intent", "port_out");
  event.attribute_count = CX_EVENT_MAX_ATTRIBUTES + 10;
  feed(p, event, &c);
  assert_int_equal(c.count, 1);
  cx_processor_destroy(p);
}

/* ---- escalation ---- */

static void test_escalation_fires_on_complaint(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_ESCALATION);
  feed(p, event_of("k1", 3000, CX_CHANNEL_EMAIL, CX_EVENT_COMPLAINT), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.rules[0], "escalation");
  assert_string_equal(c.reasons[0], "complaint=1");
  assert_string_equal(c.evidence[0], "k1");
  assert_int_equal(c.window_start[0], 3000);
  cx_processor_destroy(p);
}

static void test_escalation_fires_on_any_event_with_outcome_escalated(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only_without_cooldown(CX_RULE_ESCALATION);
  cx_event_t call = contact("call", 0);
  call.outcome = CX_OUTCOME_ESCALATED;
  feed(p, call, &c);
  cx_event_t complaint = event_of("both", 1, CX_CHANNEL_EMAIL, CX_EVENT_COMPLAINT);
  complaint.outcome = CX_OUTCOME_ESCALATED;
  feed(p, complaint, &c);
  assert_int_equal(c.count, 2);
  assert_string_equal(c.reasons[0], "escalated=1");
  assert_string_equal(c.reasons[1], "complaint=1,escalated=1");
  cx_processor_destroy(p);
}

static void test_escalation_negative_review_at_csat_2_or_sentiment_minus_half(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only_without_cooldown(CX_RULE_ESCALATION);
  cx_event_t review = event_of("", 0, CX_CHANNEL_SOCIAL, CX_EVENT_REVIEW);
  review.event_id = cx_str("bare"); /* no csat, no sentiment */
  feed(p, review, &c);
  cx_event_t mild = with_sentiment(with_csat(review, 3), -0.49f);
  mild.event_id = cx_str("mild");
  feed(p, mild, &c);
  feed(p, with_csat(survey("survey", 1), 1), &c); /* private, not a review */
  cx_event_t resolved = contact("resolved", 2);
  resolved.outcome = CX_OUTCOME_COMPLETED;
  feed(p, resolved, &c);
  assert_int_equal(c.count, 0);
  cx_event_t by_csat = with_csat(review, 2);
  by_csat.event_id = cx_str("csat");
  by_csat.occurred_at_ms = 3;
  feed(p, by_csat, &c);
  cx_event_t by_sentiment = with_sentiment(review, -0.5f);
  by_sentiment.event_id = cx_str("sentiment");
  by_sentiment.occurred_at_ms = 4;
  feed(p, by_sentiment, &c);
  assert_int_equal(c.count, 2);
  assert_string_equal(c.triggers[0], "csat");
  assert_string_equal(c.reasons[0], "negative_review=1");
  assert_string_equal(c.triggers[1], "sentiment");
  cx_processor_destroy(p);
}

/* ---- payment_friction ---- */

static void test_payment_friction_fires_on_one_payment_failed_by_default(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_PAYMENT_FRICTION);
  feed(p, event_of("f1", 9000, CX_CHANNEL_OTHER, CX_EVENT_PAYMENT_FAILED), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.rules[0], "payment_friction");
  assert_string_equal(c.reasons[0], "payment_problems=1");
  assert_string_equal(c.evidence[0], "f1");
  assert_int_equal(c.window_start[0], 9000 - 30 * D_MS);
  assert_int_equal(c.window_end[0], 9000);
  cx_processor_destroy(p);
}

static void test_payment_friction_billing_dispute_topic_and_dispute_attribute_count(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only_without_cooldown(CX_RULE_PAYMENT_FRICTION);
  cx_event_t billing = contact("billing", 0);
  billing.topic = cx_str("billing");
  feed(p, billing, &c);
  cx_event_t longer = contact("longer", 1);
  longer.topic = cx_str("billing_disputes");
  feed(p, longer, &c);
  feed(p, with_attribute(contact("empty", 2), "dispute", ""), &c);
  feed(p, event_of("purchase", 3, CX_CHANNEL_WEB, CX_EVENT_PURCHASE), &c);
  assert_int_equal(c.count, 0);
  cx_event_t topic = contact("topic", 4);
  topic.topic = cx_str("billing_dispute");
  feed(p, topic, &c);
  feed(p, with_attribute(contact("attribute", 5), "dispute", "chargeback"), &c);
  assert_int_equal(c.count, 2);
  assert_string_equal(c.triggers[0], "topic");
  assert_string_equal(c.reasons[1], "payment_problems=2");
  cx_processor_destroy(p);
}

static void test_payment_friction_min_failures_counts_window_excluding_bound(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  config.rules.payment_friction.min_failures = 3;
  cx_processor_t *p = with_rules(CX_RULE_PAYMENT_FRICTION, CX_RULE__COUNT, -1, &config);
  feed(p, event_of("f1", 0, CX_CHANNEL_OTHER, CX_EVENT_PAYMENT_FAILED), &c);
  feed(p, event_of("f2", 10 * D_MS, CX_CHANNEL_OTHER, CX_EVENT_PAYMENT_FAILED), &c);
  feed(p, event_of("f3", 30 * D_MS, CX_CHANNEL_OTHER, CX_EVENT_PAYMENT_FAILED), &c);
  assert_int_equal(c.count, 0); /* f1 is exactly 30d before: out */
  feed(p, event_of("f4", 30 * D_MS, CX_CHANNEL_OTHER, CX_EVENT_PAYMENT_FAILED), &c);
  assert_int_equal(c.count, 1); /* equal timestamps: f3 is in */
  assert_string_equal(c.reasons[0], "payment_problems=3");
  assert_float_equal(c.weights[0][0], 1.0, 1e-9);
  cx_processor_destroy(p);
}

static void test_payment_friction_min_failures_above_kept_history_acts_as_it(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  config.rules.payment_friction.min_failures = 20;
  cx_processor_t *p = with_rules(CX_RULE_PAYMENT_FRICTION, CX_RULE__COUNT, -1, &config);
  char id[16];
  for (int i = 0; i < 8; i++) {
    assert_int_equal(c.count, 0);
    snprintf(id, sizeof(id), "f%d", i);
    feed(p, event_of(id, i * H_MS, CX_CHANNEL_OTHER, CX_EVENT_PAYMENT_FAILED), &c);
  }
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "f7");
  assert_string_equal(c.reasons[0], "payment_problems=8");
  cx_processor_destroy(p);
}

static void test_payment_friction_out_of_order_problem_is_kept_in_time_order(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  config.rules.payment_friction.min_failures = 3;
  config.rules.payment_friction.window_ms = H_MS;
  cx_processor_t *p = with_rules(CX_RULE_PAYMENT_FRICTION, CX_RULE__COUNT, -1, &config);
  feed(p, event_of("f2", 100000, CX_CHANNEL_OTHER, CX_EVENT_PAYMENT_FAILED), &c);
  feed(p, event_of("f1", 50000, CX_CHANNEL_OTHER, CX_EVENT_PAYMENT_FAILED), &c);
  feed(p, event_of("f0", 40000, CX_CHANNEL_OTHER, CX_EVENT_PAYMENT_FAILED), &c);
  assert_int_equal(c.count, 0); /* at f0 only f0 is in (.., 40000] */
  feed(p, event_of("f3", H_MS + 45000, CX_CHANNEL_OTHER, CX_EVENT_PAYMENT_FAILED), &c);
  assert_int_equal(c.count, 1); /* (45000, H + 45000]: f1, f2, f3; f0 is out */
  assert_string_equal(c.reasons[0], "payment_problems=3");
  cx_processor_destroy(p);
}

/* ---- frustration_then_intent ---- */

/* frustration_then_intent with negative_voice as the frustration rule. */
static cx_processor_t *intent_after_voice(void) {
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  return with_rules(CX_RULE_FRUSTRATION_THEN_INTENT, CX_RULE_NEGATIVE_VOICE, -1, &config);
}

static void test_frustration_then_intent_fires_on_intent_within_7d_of_frustration(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = intent_after_voice();
  feed(p, with_csat(survey("bad", 1000), 1), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.rules[0], "negative_voice");
  int64_t t = 1000 + 7 * D_MS - 1;
  feed(p, event_of("intent", t, CX_CHANNEL_WEB, CX_EVENT_CANCEL_INTENT), &c);
  assert_int_equal(c.count, 2);
  assert_string_equal(c.rules[1], "frustration_then_intent");
  assert_string_equal(c.triggers[1], "intent");
  assert_string_equal(c.reasons[1], "hours_since_frustration=167");
  assert_string_equal(c.evidence[1], "intent");
  assert_int_equal(c.window_start[1], t - 7 * D_MS);
  cx_processor_destroy(p);
}

static void test_frustration_then_intent_excludes_frustration_exactly_7d_before(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = intent_after_voice();
  feed(p, with_csat(survey("bad", 1000), 1), &c);
  feed(p, event_of("intent", 1000 + 7 * D_MS, CX_CHANNEL_WEB, CX_EVENT_CANCEL_INTENT), &c);
  assert_int_equal(c.count, 1);
  cx_processor_destroy(p);
}

static void test_frustration_then_intent_needs_an_emitted_frustration_alert(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = intent_after_voice();
  feed(p, event_of("early", 0, CX_CHANNEL_WEB, CX_EVENT_CANCEL_INTENT), &c);
  assert_int_equal(c.count, 0); /* no frustration alert yet */
  feed(p, with_csat(survey("bad", H_MS), 1), &c);
  feed(p, with_csat(survey("quiet", 2 * H_MS), 1), &c); /* a hit kept quiet by the cooldown */
  assert_int_equal(c.count, 1);
  feed(p, event_of("intent", H_MS + 7 * D_MS, CX_CHANNEL_WEB, CX_EVENT_CANCEL_INTENT), &c);
  assert_int_equal(c.count, 1); /* the alert is exactly 7d before; the quiet hit does not count */
  cx_processor_destroy(p);
}

static void test_frustration_then_intent_uses_cancellation_intent_condition(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  cx_processor_t *p = with_rules(CX_RULE_FRUSTRATION_THEN_INTENT, CX_RULE_NEGATIVE_VOICE, 0,
                                 &config);
  feed(p, with_csat(survey("bad", 0), 1), &c);
  feed(p, contact("plain", H_MS), &c);
  feed(p, with_attribute(contact("reason", H_MS + 1), "reason", "competitor_offer"), &c);
  assert_int_equal(c.count, 1);
  feed(p, with_attribute(contact("port", 2 * H_MS), "intent", "port_out"), &c);
  feed(p, with_attribute(contact("rival", 3 * H_MS), "competitor", "OtherTel"), &c);
  assert_int_equal(c.count, 3);
  assert_string_equal(c.triggers[1], "port");
  assert_string_equal(c.reasons[1], "hours_since_frustration=2");
  assert_string_equal(c.triggers[2], "rival");
  assert_string_equal(c.reasons[2], "hours_since_frustration=3");
  cx_processor_destroy(p);
}

static void test_frustration_then_intent_counts_alert_at_same_time_not_on_same_event(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = intent_after_voice();
  /* One event that is both: detectors run before its alerts exist. */
  feed(p, with_attribute(with_csat(survey("both", 0), 1), "intent", "cancel"), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.rules[0], "negative_voice");
  /* An earlier event at the same time does count. */
  feed(p, event_of("same_time", 0, CX_CHANNEL_WEB, CX_EVENT_CANCEL_INTENT), &c);
  assert_int_equal(c.count, 2);
  assert_string_equal(c.rules[1], "frustration_then_intent");
  assert_string_equal(c.reasons[1], "hours_since_frustration=0");
  cx_processor_destroy(p);
}

static void test_frustration_then_intent_out_of_order_intent_before_frustration_does_not_fire(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = intent_after_voice();
  feed(p, with_csat(survey("bad", 100000), 1), &c);
  feed(p, event_of("intent", 50000, CX_CHANNEL_WEB, CX_EVENT_CANCEL_INTENT), &c);
  assert_int_equal(c.count, 1); /* the frustration came after the intent */
  cx_processor_destroy(p);
}

/* ---- ordinary traffic ---- */

/* One ordinary event of customer K<k>: its id is "<customer>-<day>-<what>". */
static void feed_ordinary(cx_processor_t *p, captured_t *c, int k, int64_t day, const char *what,
                          cx_event_t e) {
  char customer[16], id[48];
  snprintf(customer, sizeof(customer), "K%d", k);
  snprintf(id, sizeof(id), "%s-%lld-%s", customer, (long long)day, what);
  e.customer_id = cx_str(customer);
  e.event_id = cx_str(id);
  feed(p, e, c);
}

/* A month of unremarkable events for 50 customers, in time order: calls
 * with neutral or mildly negative sentiment, fair surveys and reviews, a
 * successful payment and purchase, app clicks with the attributes ordinary
 * traffic carries, a billing question, a CSAT 3 survey. */
static void feed_ordinary_month(cx_processor_t *p, captured_t *c) {
  for (int64_t day = 0; day < 30; day += 3) {
    int64_t base = day * D_MS + 9 * H_MS;
    for (int k = 0; k < 50; k++) {
      cx_event_t e = with_sentiment(contact("", base + k * 1000), k % 2 ? 0.3f : -0.4f);
      e.topic = cx_str(k % 3 ? "billing" : "plan_change");
      e.has_wait_ms = true;
      e.wait_ms = 30000;
      feed_ordinary(p, c, k, day, "call", with_attribute(e, "vru_line", "AA0101"));
    }
    for (int k = 0; k < 50; k++) {
      cx_event_t e = with_nps(with_csat(survey("", base + H_MS + k * 1000), 3 + k % 3), 7 + k % 4);
      feed_ordinary(p, c, k, day, "survey", e);
    }
    for (int k = 0; k < 50; k++) {
      cx_event_t e = event_of("", base + 2 * H_MS + k * 1000, CX_CHANNEL_APP, CX_EVENT_CLICK);
      e = with_attribute(with_attribute(e, "element", "cancel"), "session", "s1");
      feed_ordinary(p, c, k, day, "click", e);
    }
    for (int k = 0; k < 50; k += 4) {
      cx_event_t e = event_of("", base + 3 * H_MS + k * 1000, CX_CHANNEL_WEB, CX_EVENT_PURCHASE);
      feed_ordinary(p, c, k, day, "purchase", with_attribute(e, "product", "add_on"));
    }
    for (int k = 0; k < 50; k += 5) {
      cx_event_t e = event_of("", base + 4 * H_MS + k * 1000, CX_CHANNEL_SOCIAL, CX_EVENT_REVIEW);
      feed_ordinary(p, c, k, day, "review", with_sentiment(with_csat(e, 4), 0.6f));
    }
    for (int k = 0; k < 50; k += 6) {
      cx_event_t e = contact("", base + 5 * H_MS + k * 1000);
      e.outcome = CX_OUTCOME_TRANSFERRED;
      e.topic = cx_str("payment");
      feed_ordinary(p, c, k, day, "transferred", with_attribute(e, "reason", "card_declined"));
    }
  }
}

static void assert_quiet_on_ordinary_traffic(cx_rule_t rule) {
  captured_t c = {0};
  cx_processor_t *p = only(rule);
  feed_ordinary_month(p, &c);
  assert_int_equal(c.count, 0);
  assert_true(cx_processor_stats(p)->events > 1500);
  cx_processor_destroy(p);
}

static void test_negative_voice_does_not_fire_on_ordinary_traffic(void **unused) {
  (void)unused;
  assert_quiet_on_ordinary_traffic(CX_RULE_NEGATIVE_VOICE);
}

static void test_broken_promise_does_not_fire_on_ordinary_traffic(void **unused) {
  (void)unused;
  assert_quiet_on_ordinary_traffic(CX_RULE_BROKEN_PROMISE);
}

static void test_cancellation_intent_does_not_fire_on_ordinary_traffic(void **unused) {
  (void)unused;
  assert_quiet_on_ordinary_traffic(CX_RULE_CANCELLATION_INTENT);
}

static void test_escalation_does_not_fire_on_ordinary_traffic(void **unused) {
  (void)unused;
  assert_quiet_on_ordinary_traffic(CX_RULE_ESCALATION);
}

static void test_payment_friction_does_not_fire_on_ordinary_traffic(void **unused) {
  (void)unused;
  assert_quiet_on_ordinary_traffic(CX_RULE_PAYMENT_FRICTION);
}

static void test_frustration_then_intent_does_not_fire_on_ordinary_traffic(void **unused) {
  (void)unused;
  /* With every frustration rule on, so that frustration alerts can happen. */
  captured_t c = {0};
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  for (int r = 0; r < CX_RULE__COUNT; r++)
    config.rules.common[r].enabled = cx_detectors[r].kind == CX_KIND_FRUSTRATION ||
                                     r == CX_RULE_FRUSTRATION_THEN_INTENT;
  cx_processor_t *p = cx_processor_new(&config);
  feed_ordinary_month(p, &c);
  for (int i = 0; i < c.count; i++)
    assert_string_not_equal(c.rules[i], "frustration_then_intent");
  cx_processor_destroy(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_negative_voice_fires_at_sentiment_exactly_max_sentiment),
    cmocka_unit_test(test_negative_voice_csat_2_fires_and_3_does_not),
    cmocka_unit_test(test_negative_voice_nps_6_is_a_detractor_and_7_is_not),
    cmocka_unit_test(test_negative_voice_reports_every_measure_that_holds_weighted_by_severity),
    cmocka_unit_test(test_negative_voice_ignores_values_of_missing_fields),
    cmocka_unit_test(test_negative_voice_thresholds_are_configurable),
    cmocka_unit_test(test_broken_promise_fires_on_appointment_missed),
    cmocka_unit_test(test_broken_promise_fires_on_promise_attribute_broken_or_callback_missed),
    cmocka_unit_test(test_broken_promise_counts_30_days_excluding_exactly_30_days_before),
    cmocka_unit_test(test_broken_promise_count_saturates_at_kept_history),
    cmocka_unit_test(test_broken_promise_out_of_order_promise_is_counted_in_time_order),
    cmocka_unit_test(test_cancellation_intent_fires_on_cancel_intent_event),
    cmocka_unit_test(test_cancellation_intent_fires_on_intent_attribute_cancel_or_port_out),
    cmocka_unit_test(test_cancellation_intent_competitor_attribute_is_a_competitor_mention),
    cmocka_unit_test(test_cancellation_intent_reads_only_attributes_in_the_array),
    cmocka_unit_test(test_escalation_fires_on_complaint),
    cmocka_unit_test(test_escalation_fires_on_any_event_with_outcome_escalated),
    cmocka_unit_test(test_escalation_negative_review_at_csat_2_or_sentiment_minus_half),
    cmocka_unit_test(test_payment_friction_fires_on_one_payment_failed_by_default),
    cmocka_unit_test(test_payment_friction_billing_dispute_topic_and_dispute_attribute_count),
    cmocka_unit_test(test_payment_friction_min_failures_counts_window_excluding_bound),
    cmocka_unit_test(test_payment_friction_min_failures_above_kept_history_acts_as_it),
    cmocka_unit_test(test_payment_friction_out_of_order_problem_is_kept_in_time_order),
    cmocka_unit_test(test_frustration_then_intent_fires_on_intent_within_7d_of_frustration),
    cmocka_unit_test(test_frustration_then_intent_excludes_frustration_exactly_7d_before),
    cmocka_unit_test(test_frustration_then_intent_needs_an_emitted_frustration_alert),
    cmocka_unit_test(test_frustration_then_intent_uses_cancellation_intent_condition),
    cmocka_unit_test(test_frustration_then_intent_counts_alert_at_same_time_not_on_same_event),
    cmocka_unit_test(test_frustration_then_intent_out_of_order_intent_before_frustration_does_not_fire),
    cmocka_unit_test(test_negative_voice_does_not_fire_on_ordinary_traffic),
    cmocka_unit_test(test_broken_promise_does_not_fire_on_ordinary_traffic),
    cmocka_unit_test(test_cancellation_intent_does_not_fire_on_ordinary_traffic),
    cmocka_unit_test(test_escalation_does_not_fire_on_ordinary_traffic),
    cmocka_unit_test(test_payment_friction_does_not_fire_on_ordinary_traffic),
    cmocka_unit_test(test_frustration_then_intent_does_not_fire_on_ordinary_traffic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
