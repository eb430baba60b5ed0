/* channel_hopping, transfer_loop and self_service_fallout through the real
 * processor, one rule enabled at a time: window bounds, thresholds minus
 * one, equal timestamps, case and topic filters, contact episodes, missing
 * optional fields, out-of-order events, and ordinary traffic that must stay
 * quiet. */
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
  int64_t event_time[MAX_CAPTURED];
  int64_t window_start[MAX_CAPTURED];
  int64_t window_end[MAX_CAPTURED];
  char reasons[MAX_CAPTURED][128];  /* "code=value,code=value" */
  char evidence[MAX_CAPTURED][512]; /* "id,id,id" */
} captured_t;

static void capture(const cx_alert_t *alert, void *opaque) {
  captured_t *c = opaque;
  assert_true(c->count < MAX_CAPTURED);
  int n = c->count++;
  snprintf(c->rules[n], sizeof(c->rules[n]), "%s", alert->rule);
  snprintf(c->triggers[n], sizeof(c->triggers[n]), "%.*s", (int)alert->trigger_event_id.len,
           alert->trigger_event_id.ptr);
  c->event_time[n] = alert->event_time_ms;
  c->window_start[n] = alert->window_start_ms;
  c->window_end[n] = alert->window_end_ms;
  size_t used = 0;
  for (size_t i = 0; i < alert->reason_count; i++)
    used += (size_t)snprintf(c->reasons[n] + used, sizeof(c->reasons[n]) - used, "%s%s=%lld",
                             i ? "," : "", alert->reasons[i].code,
                             (long long)alert->reasons[i].value);
  used = 0;
  for (size_t i = 0; i < alert->evidence_count; i++)
    used += (size_t)snprintf(c->evidence[n] + used, sizeof(c->evidence[n]) - used, "%s%.*s",
                             i ? "," : "", (int)alert->evidence[i].len, alert->evidence[i].ptr);
}

/* Only the named rule enabled, defaults otherwise. */
static cx_processor_t *only(cx_rule_t rule) {
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  for (int r = 0; r < CX_RULE__COUNT; r++)
    config.rules.common[r].enabled = r == (int)rule;
  return cx_processor_new(&config);
}

static void feed(cx_processor_t *p, cx_event_t e, captured_t *c) {
  cx_outputs_t outputs = {capture, NULL, c};
  assert_int_equal(cx_processor_process(p, &e, &outputs), CX_PROCESS_OK);
}

static cx_event_t interaction(const char *id, int64_t at_ms, cx_channel_t channel,
                              cx_event_type_t type, cx_outcome_t outcome) {
  cx_event_t event;
  cx_event_clear(&event);
  event.customer_id = cx_str("C1");
  event.event_id = cx_str(id);
  event.occurred_at_ms = at_ms;
  event.channel = channel;
  event.type = type;
  event.outcome = outcome;
  return event;
}

static cx_event_t contact(const char *id, int64_t at_ms, cx_channel_t channel) {
  return interaction(id, at_ms, channel, CX_EVENT_CONTACT, CX_OUTCOME_COMPLETED);
}

static cx_event_t on_case(cx_event_t event, const char *case_id, const char *topic) {
  event.case_id = cx_str(case_id);
  event.topic = cx_str(topic);
  return event;
}

static cx_event_t for_customer(cx_event_t event, const char *customer) {
  event.customer_id = cx_str(customer);
  return event;
}

/* ---- channel_hopping ---- */

static void test_channel_hopping_fires_on_third_distinct_channel_within_48h(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_CHANNEL_HOPPING);
  feed(p, contact("p1", 0, CX_CHANNEL_PHONE), &c);
  feed(p, interaction("w1", 10 * H_MS, CX_CHANNEL_WEB, CX_EVENT_SELF_SERVICE,
                      CX_OUTCOME_COMPLETED), &c);
  assert_int_equal(c.count, 0);
  feed(p, contact("c1", 48 * H_MS - 1, CX_CHANNEL_CHAT), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.rules[0], "channel_hopping");
  assert_string_equal(c.triggers[0], "c1");
  assert_string_equal(c.reasons[0], "distinct_channels=3");
  assert_string_equal(c.evidence[0], "p1,w1,c1");
  assert_int_equal(c.window_start[0], -1); /* (t - 48h, t] with t = 48h - 1 */
  assert_int_equal(c.window_end[0], 48 * H_MS - 1);
  cx_processor_destroy(p);
}

static void test_channel_hopping_excludes_event_exactly_48h_before(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_CHANNEL_HOPPING);
  feed(p, contact("p1", 0, CX_CHANNEL_PHONE), &c);
  feed(p, contact("c1", H_MS, CX_CHANNEL_CHAT), &c);
  feed(p, contact("e1", 48 * H_MS, CX_CHANNEL_EMAIL), &c);
  assert_int_equal(c.count, 0); /* p1 is at t - 48h: outside */
  feed(p, contact("s1", 48 * H_MS, CX_CHANNEL_SMS), &c);
  assert_int_equal(c.count, 1); /* equal timestamps: e1 is inside */
  assert_string_equal(c.evidence[0], "c1,e1,s1");
  cx_processor_destroy(p);
}

static void test_channel_hopping_many_events_on_two_channels_do_not_fire(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_CHANNEL_HOPPING);
  char id[16];
  for (int i = 0; i < 10; i++) {
    snprintf(id, sizeof(id), "e%d", i);
    feed(p, contact(id, i * H_MS, i % 2 ? CX_CHANNEL_PHONE : CX_CHANNEL_CHAT), &c);
  }
  assert_int_equal(c.count, 0);
  cx_processor_destroy(p);
}

static void test_channel_hopping_evidence_is_latest_event_per_channel_oldest_first(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_CHANNEL_HOPPING);
  feed(p, contact("p1", 0, CX_CHANNEL_PHONE), &c);
  feed(p, contact("c1", 1000, CX_CHANNEL_CHAT), &c);
  feed(p, contact("p2", 2000, CX_CHANNEL_PHONE), &c);
  feed(p, contact("c2", 3000, CX_CHANNEL_CHAT), &c);
  feed(p, interaction("a1", 4000, CX_CHANNEL_APP, CX_EVENT_SELF_SERVICE, CX_OUTCOME_NONE), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.evidence[0], "p2,c2,a1");
  cx_processor_destroy(p);
}

static void test_channel_hopping_min_channels_is_configurable(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  for (int r = 0; r < CX_RULE__COUNT; r++)
    config.rules.common[r].enabled = r == CX_RULE_CHANNEL_HOPPING;
  config.rules.channel_hopping.min_channels = 4;
  cx_processor_t *p = cx_processor_new(&config);
  feed(p, contact("p1", 0, CX_CHANNEL_PHONE), &c);
  feed(p, contact("c1", 1, CX_CHANNEL_CHAT), &c);
  feed(p, contact("e1", 2, CX_CHANNEL_EMAIL), &c);
  assert_int_equal(c.count, 0);
  feed(p, contact("s1", 3, CX_CHANNEL_STORE), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.reasons[0], "distinct_channels=4");
  cx_processor_destroy(p);
}

static void test_channel_hopping_with_case_keeps_only_that_case(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_CHANNEL_HOPPING);
  feed(p, on_case(contact("x1", 0, CX_CHANNEL_PHONE), "X", "billing"), &c);
  feed(p, on_case(contact("y1", 1000, CX_CHANNEL_CHAT), "Y", "billing"), &c);
  feed(p, on_case(contact("x2", 2000, CX_CHANNEL_EMAIL), "X", "billing"), &c);
  assert_int_equal(c.count, 0); /* y1 is another case, even with the same topic */
  feed(p, on_case(contact("x3", 3000, CX_CHANNEL_SMS), "X", NULL), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.evidence[0], "x1,x2,x3");
  cx_processor_destroy(p);
}

static void test_channel_hopping_with_case_counts_caseless_events_of_its_topic(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_CHANNEL_HOPPING);
  /* Before the case was opened: same topic counts, another topic or none does not. */
  feed(p, contact("n1", 0, CX_CHANNEL_STORE), &c);
  feed(p, on_case(contact("b1", 1000, CX_CHANNEL_PHONE), NULL, "billing"), &c);
  feed(p, on_case(contact("t1", 1500, CX_CHANNEL_SMS), NULL, "technical"), &c);
  feed(p, on_case(contact("x1", 2000, CX_CHANNEL_CHAT), "X", "billing"), &c);
  assert_int_equal(c.count, 0);
  feed(p, on_case(contact("x2", 3000, CX_CHANNEL_EMAIL), "X", "billing"), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.evidence[0], "b1,x1,x2");
  cx_processor_destroy(p);
}

static void test_channel_hopping_case_without_topic_ignores_caseless_events(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_CHANNEL_HOPPING);
  feed(p, contact("n1", 0, CX_CHANNEL_PHONE), &c);
  feed(p, on_case(contact("n2", 1000, CX_CHANNEL_SMS), NULL, "billing"), &c);
  feed(p, on_case(contact("x1", 2000, CX_CHANNEL_CHAT), "X", NULL), &c);
  feed(p, on_case(contact("x2", 3000, CX_CHANNEL_EMAIL), "X", NULL), &c);
  assert_int_equal(c.count, 0);
  cx_processor_destroy(p);
}

static void test_channel_hopping_with_topic_only_keeps_that_topic(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_CHANNEL_HOPPING);
  feed(p, contact("n1", 0, CX_CHANNEL_STORE), &c); /* no topic: not of the topic below */
  feed(p, on_case(contact("b1", 1000, CX_CHANNEL_PHONE), NULL, "billing"), &c);
  feed(p, on_case(contact("t1", 2000, CX_CHANNEL_CHAT), NULL, "technical"), &c);
  feed(p, on_case(contact("x1", 3000, CX_CHANNEL_SMS), "X", "billing"), &c);
  feed(p, on_case(contact("y1", 4000, CX_CHANNEL_SOCIAL), "Y", "technical"), &c);
  assert_int_equal(c.count, 0);
  /* Without a case: every event of the topic, x1 of case X included. */
  feed(p, on_case(contact("b2", 5000, CX_CHANNEL_EMAIL), NULL, "billing"), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.evidence[0], "b1,x1,b2");
  assert_string_equal(c.reasons[0], "distinct_channels=3");
  cx_processor_destroy(p);
}

static void test_channel_hopping_ignores_transfers_and_other_event_types(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_CHANNEL_HOPPING);
  feed(p, contact("p1", 0, CX_CHANNEL_PHONE), &c);
  feed(p, contact("c1", 1000, CX_CHANNEL_CHAT), &c);
  feed(p, interaction("t1", 2000, CX_CHANNEL_MESSAGING, CX_EVENT_TRANSFER, CX_OUTCOME_NONE), &c);
  feed(p, interaction("s1", 3000, CX_CHANNEL_EMAIL, CX_EVENT_SURVEY, CX_OUTCOME_NONE), &c);
  feed(p, interaction("k1", 4000, CX_CHANNEL_WEB, CX_EVENT_CLICK, CX_OUTCOME_NONE), &c);
  assert_int_equal(c.count, 0);
  feed(p, contact("c2", 5000, CX_CHANNEL_CHAT), &c);
  assert_int_equal(c.count, 0);
  cx_processor_destroy(p);
}

static void test_channel_hopping_out_of_order_event_sees_only_earlier_events(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_CHANNEL_HOPPING);
  feed(p, contact("a", 10000, CX_CHANNEL_PHONE), &c);
  feed(p, contact("z", 50000, CX_CHANNEL_SMS), &c);
  feed(p, contact("b", 20000, CX_CHANNEL_CHAT), &c); /* late but within lateness */
  assert_int_equal(c.count, 0); /* (.., 20000] holds a and b: z is later */
  feed(p, contact("d", 30000, CX_CHANNEL_EMAIL), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "d");
  assert_string_equal(c.evidence[0], "a,b,d");
  cx_processor_destroy(p);
}

/* ---- transfer_loop ---- */

static void test_transfer_loop_fires_on_third_transfer_of_one_contact_episode(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_TRANSFER_LOOP);
  feed(p, interaction("c1", 0, CX_CHANNEL_PHONE, CX_EVENT_CONTACT, CX_OUTCOME_NONE), &c);
  feed(p, interaction("t1", MIN_MS, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER, CX_OUTCOME_NONE), &c);
  feed(p, interaction("t2", 2 * MIN_MS, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER, CX_OUTCOME_NONE), &c);
  assert_int_equal(c.count, 0);
  feed(p, interaction("t3", 3 * MIN_MS, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER, CX_OUTCOME_NONE), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.rules[0], "transfer_loop");
  assert_string_equal(c.triggers[0], "t3");
  assert_string_equal(c.reasons[0], "transfers=3");
  assert_string_equal(c.evidence[0], "t1,t2,t3");
  assert_int_equal(c.window_start[0], -1); /* the episode starts with c1 at 0 */
  assert_int_equal(c.window_end[0], 3 * MIN_MS);
  cx_processor_destroy(p);
}

static void test_transfer_loop_counts_transferred_outcome_and_its_leg_once(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_TRANSFER_LOOP);
  /* Two hand-offs, each written twice: TRANSFERRED on the leg, then a TRANSFER leg. */
  feed(p, interaction("c1", 0, CX_CHANNEL_PHONE, CX_EVENT_CONTACT, CX_OUTCOME_TRANSFERRED), &c);
  feed(p, interaction("t1", MIN_MS, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER,
                      CX_OUTCOME_TRANSFERRED), &c);
  feed(p, interaction("t2", 2 * MIN_MS, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER,
                      CX_OUTCOME_COMPLETED), &c);
  assert_int_equal(c.count, 0);
  /* Three hand-offs: the third is known when t2 reports TRANSFERRED. */
  int64_t base = H_MS; /* C2 later, so that nothing is late */
  feed(p, for_customer(interaction("d1", base, CX_CHANNEL_CHAT, CX_EVENT_CONTACT,
                                   CX_OUTCOME_TRANSFERRED), "C2"), &c);
  feed(p, for_customer(interaction("u1", base + MIN_MS, CX_CHANNEL_CHAT, CX_EVENT_TRANSFER,
                                   CX_OUTCOME_TRANSFERRED), "C2"), &c);
  feed(p, for_customer(interaction("u2", base + 2 * MIN_MS, CX_CHANNEL_CHAT, CX_EVENT_TRANSFER,
                                   CX_OUTCOME_TRANSFERRED), "C2"), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "u2");
  assert_string_equal(c.reasons[0], "transfers=3");
  assert_string_equal(c.evidence[0], "d1,u1,u2");
  cx_processor_destroy(p);
}

static void test_transfer_loop_counts_transferred_contacts_without_transfer_events(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_TRANSFER_LOOP);
  feed(p, interaction("c1", 0, CX_CHANNEL_PHONE, CX_EVENT_CONTACT, CX_OUTCOME_TRANSFERRED), &c);
  feed(p, interaction("c2", 5 * MIN_MS, CX_CHANNEL_PHONE, CX_EVENT_CONTACT,
                      CX_OUTCOME_TRANSFERRED), &c);
  assert_int_equal(c.count, 0);
  feed(p, interaction("c3", 10 * MIN_MS, CX_CHANNEL_PHONE, CX_EVENT_CONTACT,
                      CX_OUTCOME_TRANSFERRED), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.reasons[0], "transfers=3");
  cx_processor_destroy(p);
}

static void test_transfer_loop_episode_splits_exactly_at_session_gap(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_TRANSFER_LOOP);
  /* No durations: each event ends when it starts. */
  feed(p, interaction("a1", 0, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER, CX_OUTCOME_NONE), &c);
  feed(p, interaction("a2", 30 * MIN_MS, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER,
                      CX_OUTCOME_NONE), &c);
  feed(p, interaction("a3", 31 * MIN_MS, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER,
                      CX_OUTCOME_NONE), &c);
  assert_int_equal(c.count, 0); /* a2 starts a new episode: 30 min is not less than the gap */
  int64_t base = D_MS; /* C2 later, so that nothing is late */
  feed(p, for_customer(interaction("b1", base, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER,
                                   CX_OUTCOME_NONE), "C2"), &c);
  feed(p, for_customer(interaction("b2", base + 30 * MIN_MS - 1, CX_CHANNEL_PHONE,
                                   CX_EVENT_TRANSFER, CX_OUTCOME_NONE), "C2"), &c);
  feed(p, for_customer(interaction("b3", base + 31 * MIN_MS, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER,
                                   CX_OUTCOME_NONE), "C2"), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.evidence[0], "b1,b2,b3");
  cx_processor_destroy(p);
}

static void test_transfer_loop_episode_gap_is_measured_from_end_of_long_call(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_TRANSFER_LOOP);
  cx_event_t call = interaction("c1", 0, CX_CHANNEL_PHONE, CX_EVENT_CONTACT,
                                CX_OUTCOME_TRANSFERRED);
  call.has_wait_ms = call.has_handle_ms = true;
  call.wait_ms = 20 * MIN_MS;
  call.handle_ms = 25 * MIN_MS; /* ends at 45 min */
  feed(p, call, &c);
  /* A silent contact between them must not shorten the episode's end. */
  feed(p, interaction("i1", MIN_MS, CX_CHANNEL_IVR, CX_EVENT_SELF_SERVICE, CX_OUTCOME_NONE), &c);
  feed(p, interaction("t1", 45 * MIN_MS + 30 * MIN_MS - 1, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER,
                      CX_OUTCOME_TRANSFERRED), &c);
  feed(p, interaction("t2", 76 * MIN_MS, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER,
                      CX_OUTCOME_TRANSFERRED), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "t2");
  assert_string_equal(c.evidence[0], "c1,t1,t2");
  assert_int_equal(c.window_start[0], -1);
  /* The same without the durations: 74 min after the call is another episode. */
  int64_t base = D_MS; /* C2 later, so that nothing is late */
  feed(p, for_customer(interaction("d1", base, CX_CHANNEL_PHONE, CX_EVENT_CONTACT,
                                   CX_OUTCOME_TRANSFERRED), "C2"), &c);
  feed(p, for_customer(interaction("u1", base + 75 * MIN_MS - 1, CX_CHANNEL_PHONE,
                                   CX_EVENT_TRANSFER, CX_OUTCOME_TRANSFERRED), "C2"), &c);
  feed(p, for_customer(interaction("u2", base + 76 * MIN_MS, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER,
                                   CX_OUTCOME_TRANSFERRED), "C2"), &c);
  assert_int_equal(c.count, 1);
  cx_processor_destroy(p);
}

static void test_transfer_loop_with_case_counts_its_transfers_within_7d(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_TRANSFER_LOOP);
  cx_event_t transfer = interaction("", 0, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER, CX_OUTCOME_NONE);
  transfer = on_case(transfer, "X", NULL);
  transfer.event_id = cx_str("x1");
  feed(p, transfer, &c);
  transfer.event_id = cx_str("x2");
  transfer.occurred_at_ms = D_MS; /* another episode, the same case */
  feed(p, transfer, &c);
  transfer.event_id = cx_str("x3");
  transfer.occurred_at_ms = 7 * D_MS;
  feed(p, transfer, &c);
  assert_int_equal(c.count, 0); /* x1 is exactly 7d before: outside */
  transfer.event_id = cx_str("x4");
  feed(p, transfer, &c); /* equal timestamp: x3 counts */
  assert_int_equal(c.count, 1);
  assert_string_equal(c.evidence[0], "x2,x3,x4");
  assert_int_equal(c.window_start[0], 0);
  cx_processor_destroy(p);
}

static void test_transfer_loop_with_case_ignores_other_cases_and_caseless_transfers(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_TRANSFER_LOOP);
  cx_event_t transfer = interaction("n0", 0, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER, CX_OUTCOME_NONE);
  feed(p, transfer, &c); /* caseless, an earlier episode */
  transfer.occurred_at_ms = 2 * H_MS;
  transfer.event_id = cx_str("x1");
  feed(p, on_case(transfer, "X", NULL), &c);
  transfer.event_id = cx_str("y1");
  feed(p, on_case(transfer, "Y", NULL), &c);
  transfer.event_id = cx_str("x2");
  feed(p, on_case(transfer, "X", NULL), &c);
  assert_int_equal(c.count, 0); /* case X: x1 and x2 only */
  transfer.event_id = cx_str("n1");
  feed(p, transfer, &c);
  assert_int_equal(c.count, 1); /* caseless: the episode's transfers, whatever their case */
  assert_string_equal(c.triggers[0], "n1");
  assert_string_equal(c.reasons[0], "transfers=4");
  assert_string_equal(c.evidence[0], "x1,y1,x2,n1");
  cx_processor_destroy(p);
}

static void test_transfer_loop_ivr_routing_and_escalations_are_not_transfers(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_TRANSFER_LOOP);
  char id[16];
  for (int i = 0; i < 4; i++) {
    snprintf(id, sizeof(id), "i%d", i);
    feed(p, interaction(id, i * MIN_MS, CX_CHANNEL_IVR, CX_EVENT_SELF_SERVICE,
                        CX_OUTCOME_TRANSFERRED), &c);
    snprintf(id, sizeof(id), "e%d", i);
    feed(p, interaction(id, i * MIN_MS + 1, CX_CHANNEL_PHONE, CX_EVENT_CONTACT,
                        CX_OUTCOME_ESCALATED), &c);
  }
  assert_int_equal(c.count, 0);
  cx_processor_destroy(p);
}

static void test_transfer_loop_out_of_order_transfer_counts_only_earlier_ones(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_TRANSFER_LOOP);
  feed(p, interaction("t1", 10000, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER, CX_OUTCOME_NONE), &c);
  feed(p, interaction("t4", 40000, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER, CX_OUTCOME_NONE), &c);
  feed(p, interaction("t2", 20000, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER, CX_OUTCOME_NONE), &c);
  assert_int_equal(c.count, 0); /* t4 is later than t2 */
  feed(p, interaction("t3", 30000, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER, CX_OUTCOME_NONE), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.evidence[0], "t1,t2,t3");
  cx_processor_destroy(p);
}

/* ---- self_service_fallout ---- */

static void test_self_service_fallout_fires_on_assisted_contact_within_1h_of_failure(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_SELF_SERVICE_FALLOUT);
  feed(p, interaction("s1", 0, CX_CHANNEL_APP, CX_EVENT_SELF_SERVICE, CX_OUTCOME_FAILED), &c);
  assert_int_equal(c.count, 0);
  feed(p, contact("p1", H_MS - 1, CX_CHANNEL_PHONE), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.rules[0], "self_service_fallout");
  assert_string_equal(c.triggers[0], "p1");
  assert_string_equal(c.reasons[0], "failed_self_service=1");
  assert_string_equal(c.evidence[0], "s1,p1");
  assert_int_equal(c.window_start[0], -1);
  cx_processor_destroy(p);
}

static void test_self_service_fallout_excludes_attempt_exactly_1h_before(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_SELF_SERVICE_FALLOUT);
  feed(p, interaction("s1", 0, CX_CHANNEL_WEB, CX_EVENT_SELF_SERVICE, CX_OUTCOME_FAILED), &c);
  feed(p, contact("p1", H_MS, CX_CHANNEL_PHONE), &c);
  assert_int_equal(c.count, 0);
  cx_processor_destroy(p);
}

static void test_self_service_fallout_counts_failed_and_abandoned_only(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_SELF_SERVICE_FALLOUT);
  feed(p, interaction("ok", 0, CX_CHANNEL_APP, CX_EVENT_SELF_SERVICE, CX_OUTCOME_COMPLETED), &c);
  feed(p, interaction("none", 1, CX_CHANNEL_WEB, CX_EVENT_SELF_SERVICE, CX_OUTCOME_NONE), &c);
  feed(p, interaction("routed", 2, CX_CHANNEL_IVR, CX_EVENT_SELF_SERVICE,
                      CX_OUTCOME_TRANSFERRED), &c);
  feed(p, interaction("abandoned_call", 3, CX_CHANNEL_PHONE, CX_EVENT_CONTACT,
                      CX_OUTCOME_ABANDONED), &c);
  assert_int_equal(c.count, 0);
  feed(p, interaction("a1", 4, CX_CHANNEL_IVR, CX_EVENT_SELF_SERVICE, CX_OUTCOME_ABANDONED), &c);
  feed(p, interaction("f1", 5, CX_CHANNEL_WEB, CX_EVENT_SELF_SERVICE, CX_OUTCOME_FAILED), &c);
  feed(p, contact("c1", 6, CX_CHANNEL_CHAT), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.reasons[0], "failed_self_service=2");
  assert_string_equal(c.evidence[0], "a1,f1,c1");
  cx_processor_destroy(p);
}

static void test_self_service_fallout_needs_a_contact_on_an_assisted_channel(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_SELF_SERVICE_FALLOUT);
  feed(p, interaction("f1", 0, CX_CHANNEL_APP, CX_EVENT_SELF_SERVICE, CX_OUTCOME_FAILED), &c);
  feed(p, interaction("f2", 1, CX_CHANNEL_WEB, CX_EVENT_SELF_SERVICE, CX_OUTCOME_FAILED), &c);
  feed(p, contact("ivr", 2, CX_CHANNEL_IVR), &c);
  feed(p, contact("app", 3, CX_CHANNEL_APP), &c);
  feed(p, contact("other", 4, CX_CHANNEL_OTHER), &c);
  feed(p, interaction("t1", 5, CX_CHANNEL_PHONE, CX_EVENT_TRANSFER, CX_OUTCOME_NONE), &c);
  feed(p, interaction("s1", 6, CX_CHANNEL_PHONE, CX_EVENT_SURVEY, CX_OUTCOME_NONE), &c);
  assert_int_equal(c.count, 0);
  feed(p, contact("store", 7, CX_CHANNEL_STORE), &c);
  assert_int_equal(c.count, 1);
  cx_processor_destroy(p);
}

static void test_self_service_fallout_counts_attempt_at_the_same_time(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_SELF_SERVICE_FALLOUT);
  feed(p, interaction("f1", 5000, CX_CHANNEL_WEB, CX_EVENT_SELF_SERVICE, CX_OUTCOME_FAILED), &c);
  cx_event_t call = contact("p1", 5000, CX_CHANNEL_PHONE);
  call.outcome = CX_OUTCOME_NONE; /* the contact's own outcome does not matter */
  feed(p, call, &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.evidence[0], "f1,p1");
  cx_processor_destroy(p);
}

static void test_self_service_fallout_keeps_last_evidence_slot_for_the_contact(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_SELF_SERVICE_FALLOUT);
  char id[16];
  for (int i = 0; i < 20; i++) {
    snprintf(id, sizeof(id), "f%d", i);
    feed(p, interaction(id, i * 1000, CX_CHANNEL_APP, CX_EVENT_SELF_SERVICE, CX_OUTCOME_FAILED),
         &c);
  }
  feed(p, contact("p1", 20000, CX_CHANNEL_PHONE), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.reasons[0], "failed_self_service=20");
  assert_string_equal(c.evidence[0], "f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,p1");
  cx_processor_destroy(p);
}

static void test_self_service_fallout_attempt_arriving_after_the_contact_waits_for_next(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_SELF_SERVICE_FALLOUT);
  feed(p, contact("p1", 20000, CX_CHANNEL_PHONE), &c);
  feed(p, interaction("f1", 10000, CX_CHANNEL_WEB, CX_EVENT_SELF_SERVICE, CX_OUTCOME_FAILED), &c);
  assert_int_equal(c.count, 0); /* p1 was evaluated before f1 arrived */
  feed(p, contact("p2", 30000, CX_CHANNEL_PHONE), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.evidence[0], "f1,p2");
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

/* A month of unremarkable journeys for 50 customers, every fourth day, in
 * time order: a completed app self-service, a call routed through the IVR
 * (sometimes transferred once), now and then a failed web self-service two
 * hours before a chat about another topic three days later, a survey. The
 * next visit's topic is neither, so no issue spans two visits. */
static void feed_ordinary_month(cx_processor_t *p, captured_t *c) {
  static const char *const topics[] = {"billing", "technical", "roaming", "device"};
  for (int64_t day = 0; day < 30; day += 4) {
    int64_t base = day * D_MS + 9 * H_MS;
    for (int k = 0; k < 50; k++) {
      cx_event_t e = interaction("", base + k * 1000, CX_CHANNEL_APP, CX_EVENT_SELF_SERVICE,
                                 CX_OUTCOME_COMPLETED);
      e.topic = cx_str(topics[(day / 4 + k) % 4]);
      feed_ordinary(p, c, k, day, "app", e);
    }
    for (int k = 0; k < 50; k++) {
      cx_event_t e = interaction("", base + H_MS + k * 1000, CX_CHANNEL_IVR,
                                 CX_EVENT_SELF_SERVICE, CX_OUTCOME_TRANSFERRED);
      e.topic = cx_str(topics[(day / 4 + k) % 4]);
      feed_ordinary(p, c, k, day, "ivr", e);
    }
    for (int k = 0; k < 50; k++) {
      cx_event_t e = interaction("", base + H_MS + MIN_MS + k * 1000, CX_CHANNEL_PHONE,
                                 CX_EVENT_CONTACT,
                                 k % 5 ? CX_OUTCOME_COMPLETED : CX_OUTCOME_TRANSFERRED);
      e.topic = cx_str(topics[(day / 4 + k) % 4]);
      e.has_wait_ms = e.has_handle_ms = true;
      e.wait_ms = 40000;
      e.handle_ms = 5 * MIN_MS;
      feed_ordinary(p, c, k, day, "call", e);
    }
    for (int k = 0; k < 50; k += 5) {
      cx_event_t e = interaction("", base + H_MS + 7 * MIN_MS + k * 1000, CX_CHANNEL_PHONE,
                                 CX_EVENT_TRANSFER, CX_OUTCOME_COMPLETED);
      e.topic = cx_str(topics[(day / 4 + k) % 4]);
      feed_ordinary(p, c, k, day, "transfer", e);
    }
    for (int k = 0; k < 50; k += 7) {
      cx_event_t e = interaction("", base + 3 * D_MS - 2 * H_MS + k * 1000, CX_CHANNEL_WEB,
                                 CX_EVENT_SELF_SERVICE, CX_OUTCOME_FAILED);
      e.topic = cx_str(topics[(day / 4 + k + 2) % 4]);
      feed_ordinary(p, c, k, day, "web", e);
    }
    for (int k = 0; k < 50; k++) {
      cx_event_t e = contact("", base + 3 * D_MS + k * 1000, CX_CHANNEL_CHAT);
      e.topic = cx_str(topics[(day / 4 + k + 2) % 4]);
      feed_ordinary(p, c, k, day, "chat", e);
    }
    for (int k = 0; k < 50; k++) {
      cx_event_t e = interaction("", base + 3 * D_MS + H_MS + k * 1000, CX_CHANNEL_EMAIL,
                                 CX_EVENT_SURVEY, CX_OUTCOME_NONE);
      e.has_csat = true;
      e.csat = 4;
      feed_ordinary(p, c, k, day, "survey", e);
    }
  }
}

static void test_channel_hopping_does_not_fire_on_ordinary_traffic(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_CHANNEL_HOPPING);
  feed_ordinary_month(p, &c);
  assert_int_equal(c.count, 0);
  assert_true(cx_processor_stats(p)->events > 2000);
  cx_processor_destroy(p);
}

static void test_transfer_loop_does_not_fire_on_ordinary_traffic(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_TRANSFER_LOOP);
  feed_ordinary_month(p, &c);
  assert_int_equal(c.count, 0);
  cx_processor_destroy(p);
}

static void test_self_service_fallout_does_not_fire_on_ordinary_traffic(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_SELF_SERVICE_FALLOUT);
  feed_ordinary_month(p, &c);
  assert_int_equal(c.count, 0);
  cx_processor_destroy(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_channel_hopping_fires_on_third_distinct_channel_within_48h),
    cmocka_unit_test(test_channel_hopping_excludes_event_exactly_48h_before),
    cmocka_unit_test(test_channel_hopping_many_events_on_two_channels_do_not_fire),
    cmocka_unit_test(test_channel_hopping_evidence_is_latest_event_per_channel_oldest_first),
    cmocka_unit_test(test_channel_hopping_min_channels_is_configurable),
    cmocka_unit_test(test_channel_hopping_with_case_keeps_only_that_case),
    cmocka_unit_test(test_channel_hopping_with_case_counts_caseless_events_of_its_topic),
    cmocka_unit_test(test_channel_hopping_case_without_topic_ignores_caseless_events),
    cmocka_unit_test(test_channel_hopping_with_topic_only_keeps_that_topic),
    cmocka_unit_test(test_channel_hopping_ignores_transfers_and_other_event_types),
    cmocka_unit_test(test_channel_hopping_out_of_order_event_sees_only_earlier_events),
    cmocka_unit_test(test_transfer_loop_fires_on_third_transfer_of_one_contact_episode),
    cmocka_unit_test(test_transfer_loop_counts_transferred_outcome_and_its_leg_once),
    cmocka_unit_test(test_transfer_loop_counts_transferred_contacts_without_transfer_events),
    cmocka_unit_test(test_transfer_loop_episode_splits_exactly_at_session_gap),
    cmocka_unit_test(test_transfer_loop_episode_gap_is_measured_from_end_of_long_call),
    cmocka_unit_test(test_transfer_loop_with_case_counts_its_transfers_within_7d),
    cmocka_unit_test(test_transfer_loop_with_case_ignores_other_cases_and_caseless_transfers),
    cmocka_unit_test(test_transfer_loop_ivr_routing_and_escalations_are_not_transfers),
    cmocka_unit_test(test_transfer_loop_out_of_order_transfer_counts_only_earlier_ones),
    cmocka_unit_test(test_self_service_fallout_fires_on_assisted_contact_within_1h_of_failure),
    cmocka_unit_test(test_self_service_fallout_excludes_attempt_exactly_1h_before),
    cmocka_unit_test(test_self_service_fallout_counts_failed_and_abandoned_only),
    cmocka_unit_test(test_self_service_fallout_needs_a_contact_on_an_assisted_channel),
    cmocka_unit_test(test_self_service_fallout_counts_attempt_at_the_same_time),
    cmocka_unit_test(test_self_service_fallout_keeps_last_evidence_slot_for_the_contact),
    cmocka_unit_test(test_self_service_fallout_attempt_arriving_after_the_contact_waits_for_next),
    cmocka_unit_test(test_channel_hopping_does_not_fire_on_ordinary_traffic),
    cmocka_unit_test(test_transfer_loop_does_not_fire_on_ordinary_traffic),
    cmocka_unit_test(test_self_service_fallout_does_not_fire_on_ordinary_traffic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
