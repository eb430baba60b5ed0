/* The profile operator: consent (unknown, granted, withdrawn), the interval
 * at its exact edge, the materiality rules, contact counts at their window
 * edges, preferred channel, repeat contacts, latest feedback, pseudonymous
 * ids, and the Avro encoding read back with customer_profile.avsc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <avro.h>

#include "../operators/processor.h"
#include "../operators/scores.h"
#include "../operators/state.h"
#include "../operators/state_codec.h"
#include "../stream/codec.h"
#include "../stream/event_avro.h"
#include "../stream/frame.h"
#include "../stream/jsonl.h"
#include "test_helpers.h"

#define DAY_MS (24 * H_MS)
#define T0 (40 * DAY_MS) /* late enough that 30-day windows start after 0 */

/* Profiles a processor emitted: how many, the last one's main fields, and
 * every one as a JSON line. */
typedef struct captured_s {
  int count;
  int deleted;
  cx_buf_t lines;
  char customer_id[64];
  cx_profile_t last; /* strings in it are dangling after the callback; numbers only */
} captured_t;

static void on_alert(const cx_alert_t *alert, void *opaque) {
  (void)alert;
  (void)opaque;
}

static void on_profile(const cx_profile_t *profile, void *opaque) {
  captured_t *c = opaque;
  c->count++;
  c->deleted += profile->deleted;
  snprintf(c->customer_id, sizeof(c->customer_id), "%.*s", (int)profile->customer_id.len,
           profile->customer_id.ptr);
  c->last = *profile;
  assert_int_equal(cx_jsonl_append_profile(&c->lines, profile), 0);
}

static cx_processor_config_t config_with(bool consent_default, int64_t interval_ms) {
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  config.profiles.consent_default = consent_default;
  config.profiles.interval_ms = interval_ms;
  return config;
}

static void feed(cx_processor_t *p, cx_event_t e, captured_t *c) {
  cx_outputs_t outputs = {on_alert, on_profile, c};
  assert_int_equal(cx_processor_process(p, &e, &outputs), CX_PROCESS_OK);
}

static cx_event_t consent_event(const char *customer, const char *event_id, int64_t at_ms,
                                const char *value) {
  cx_event_t event;
  cx_event_clear(&event);
  event.customer_id = cx_str(customer);
  event.event_id = cx_str(event_id);
  event.occurred_at_ms = at_ms;
  event.channel = CX_CHANNEL_APP;
  event.type = CX_EVENT_CONSENT;
  event.attribute_count = 1;
  event.attribute_keys[0] = cx_str("consent");
  event.attribute_values[0] = cx_str(value);
  return event;
}

static cx_event_t usage_event(const char *customer, const char *event_id, int64_t at_ms) {
  cx_event_t event;
  cx_event_clear(&event);
  event.customer_id = cx_str(customer);
  event.event_id = cx_str(event_id);
  event.occurred_at_ms = at_ms;
  event.channel = CX_CHANNEL_APP;
  event.type = CX_EVENT_USAGE;
  return event;
}

static cx_event_t phone(const char *event_id, int64_t at_ms) {
  return test_contact("C1", event_id, at_ms, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED, 1000);
}

/* A customer in a bare state store, for calling the operator directly. */
typedef struct direct_s {
  cx_state_t *state;
  cx_customer_t *customer;
  cx_profile_config_t config;
  cx_scores_config_t scores;
  int id_seq;
} direct_t;

static void direct_init(direct_t *d, const char *customer_id) {
  memset(d, 0, sizeof(*d));
  d->state = cx_state_new();
  cx_str_t key = cx_str(customer_id);
  d->customer = cx_state_upsert(d->state, key, cx_state_hash(key));
  assert_non_null(d->customer);
  d->customer->first_event_ms = 0;
  cx_profile_config_default(&d->config);
  d->config.consent_default = true;
  d->config.interval_ms = 0;
  cx_scores_config_default(&d->scores);
}

static void direct_contact(direct_t *d, int64_t at_ms, cx_channel_t channel,
                           cx_outcome_t outcome, int64_t wait_ms) {
  char id[32];
  snprintf(id, sizeof(id), "e%d", ++d->id_seq);
  cx_interaction_fields_t entry;
  memset(&entry, 0, sizeof(entry));
  entry.at_ms = at_ms;
  entry.wait_ms = wait_ms;
  entry.type = CX_EVENT_CONTACT;
  entry.channel = (uint8_t)channel;
  entry.outcome = (uint8_t)outcome;
  if (cx_channel_is_assisted(channel))
    entry.flags |= CX_INTERACTION_ASSISTED;
  if (outcome == CX_OUTCOME_ABANDONED)
    entry.flags |= CX_INTERACTION_ABANDONED;
  assert_true(cx_customer_add_interaction(d->customer, &entry, cx_str(id), INT64_MIN) >= 0);
  d->customer->event_count++;
  if (at_ms > d->customer->last_event_ms)
    d->customer->last_event_ms = at_ms;
}

static bool direct_update(direct_t *d, int64_t t, bool alerted, cx_profile_t *out) {
  if (t > d->customer->last_event_ms)
    d->customer->last_event_ms = t;
  return cx_profile_update(&d->config, &d->scores, d->customer, t, alerted, out);
}

static void direct_free(direct_t *d) {
  cx_state_destroy(d->state);
}

/* --- consent --- */

static void test_profile_not_emitted_when_consent_unknown_and_default_denies(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config = config_with(false, 0);
  cx_processor_t *p = cx_processor_new(&config);
  feed(p, phone("e1", T0), &c);
  feed(p, phone("e2", T0 + H_MS), &c);
  assert_int_equal(c.count, 0);
  assert_int_equal(cx_processor_stats(p)->profiles, 0);
  cx_processor_destroy(p);
  cx_buf_free(&c.lines);
}

static void test_profile_emitted_when_consent_unknown_and_default_grants(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config = config_with(true, 0);
  cx_processor_t *p = cx_processor_new(&config);
  feed(p, phone("e1", T0), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.customer_id, "C1");
  assert_false(c.last.consent_granted); /* written as null: profiled by default */
  assert_int_equal(c.last.contacts_24h, 1);
  cx_processor_destroy(p);
  cx_buf_free(&c.lines);
}

static void test_profile_emitted_after_consent_granted(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config = config_with(false, 0);
  cx_processor_t *p = cx_processor_new(&config);
  feed(p, phone("e1", T0), &c);
  assert_int_equal(c.count, 0);
  feed(p, consent_event("C1", "g1", T0 + 1, "profiling_granted"), &c);
  assert_int_equal(c.count, 1);
  assert_true(c.last.consent_granted);
  assert_int_equal(c.last.contacts_24h, 1); /* the contact before the consent counts */
  cx_processor_destroy(p);
  cx_buf_free(&c.lines);
}

static void test_profile_withdrawn_consent_emits_one_tombstone_then_nothing(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config = config_with(false, H_MS);
  cx_processor_t *p = cx_processor_new(&config);
  feed(p, consent_event("C1", "g1", T0, "profiling_granted"), &c);
  assert_int_equal(c.count, 1);
  /* Within the interval: the erasure does not wait for it. */
  feed(p, consent_event("C1", "w1", T0 + 1, "profiling_withdrawn"), &c);
  assert_int_equal(c.count, 2);
  assert_int_equal(c.deleted, 1);
  assert_true(c.last.deleted);
  assert_int_equal(c.last.updated_at_ms, T0 + 1);
  feed(p, phone("e1", T0 + 2 * H_MS), &c);
  feed(p, phone("e2", T0 + 4 * H_MS), &c);
  assert_int_equal(c.count, 2);
  cx_processor_destroy(p);
  cx_buf_free(&c.lines);
}

/* Profiles that went out under profiles.consent.default=true (turned on by
 * a reload) are erased once a reload turns it off, for customers who never
 * said. */
static void test_profile_default_turned_off_by_reload_erases_unknown_consent_profiles(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config = config_with(false, H_MS);
  cx_processor_t *p = cx_processor_new(&config);
  feed(p, phone("e0", T0 - 1), &c);
  assert_int_equal(c.count, 0);
  config.profiles.consent_default = true;
  cx_processor_reconfigure(p, &config);
  feed(p, phone("e1", T0), &c);
  assert_int_equal(c.count, 1);
  config.profiles.consent_default = false;
  cx_processor_reconfigure(p, &config);
  feed(p, phone("e2", T0 + 1), &c);
  assert_int_equal(c.count, 2);
  assert_int_equal(c.deleted, 1);
  feed(p, phone("e3", T0 + 2 * H_MS), &c);
  assert_int_equal(c.count, 2);
  cx_processor_destroy(p);
  cx_buf_free(&c.lines);
}

static int save_changed(const cx_customer_t *customer, void *opaque) {
  return cx_state_codec_encode(customer, opaque);
}

static int save_removed(cx_str_t key, void *opaque) {
  (void)key;
  (void)opaque;
  return 0;
}

/* The same across a restart: a customer restored from the changelog with a
 * profile out and no word on consent gets its tombstone from a processor
 * whose default denies. */
static void test_profile_restored_unknown_consent_profile_is_erased_when_default_denies(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config = config_with(true, H_MS);
  cx_processor_t *p = cx_processor_new(&config);
  cx_processor_track_changes(p);
  feed(p, phone("e1", T0), &c);
  assert_int_equal(c.count, 1);
  cx_state_codec_buf_t record = {0};
  assert_int_equal(cx_processor_take_changes(p, save_removed, save_changed, &record), 0);
  cx_processor_destroy(p);
  config.profiles.consent_default = false;
  cx_processor_t *q = cx_processor_new(&config);
  char errstr[256];
  assert_int_equal(cx_processor_restore(q, record.bytes, record.len, errstr, sizeof(errstr)), 0);
  feed(q, phone("e2", T0 + 1), &c);
  assert_int_equal(c.count, 2);
  assert_int_equal(c.deleted, 1);
  assert_true(c.last.deleted);
  cx_state_codec_buf_free(&record);
  cx_processor_destroy(q);
  cx_buf_free(&c.lines);
}

static void test_profile_withdrawn_without_earlier_profile_emits_nothing(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config = config_with(false, 0);
  cx_processor_t *p = cx_processor_new(&config);
  feed(p, phone("e1", T0), &c);
  feed(p, consent_event("C1", "w1", T0 + 1, "profiling_withdrawn"), &c);
  assert_int_equal(c.count, 0);
  cx_processor_destroy(p);
  cx_buf_free(&c.lines);
}

static void test_profile_withdrawn_overrides_consent_default(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config = config_with(true, 0);
  cx_processor_t *p = cx_processor_new(&config);
  feed(p, phone("e1", T0), &c);
  assert_int_equal(c.count, 1);
  feed(p, consent_event("C1", "w1", T0 + 1, "profiling_withdrawn"), &c);
  feed(p, phone("e2", T0 + 2), &c);
  assert_int_equal(c.count, 2);
  assert_int_equal(c.deleted, 1);
  cx_processor_destroy(p);
  cx_buf_free(&c.lines);
}

static void test_profile_granted_again_emits_at_once(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config = config_with(false, H_MS);
  cx_processor_t *p = cx_processor_new(&config);
  feed(p, consent_event("C1", "g1", T0, "profiling_granted"), &c);
  feed(p, consent_event("C1", "w1", T0 + 1, "profiling_withdrawn"), &c);
  feed(p, consent_event("C1", "g2", T0 + 2, "profiling_granted"), &c);
  assert_int_equal(c.count, 3);
  assert_false(c.last.deleted);
  cx_processor_destroy(p);
  cx_buf_free(&c.lines);
}

/* --- interval and materiality --- */

static void test_profile_interval_holds_back_until_its_exact_edge(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config = config_with(true, H_MS);
  cx_processor_t *p = cx_processor_new(&config);
  feed(p, phone("e1", T0), &c);
  assert_int_equal(c.count, 1);
  feed(p, phone("e2", T0 + H_MS - 1), &c); /* material, but 1 ms before the edge */
  assert_int_equal(c.count, 1);
  feed(p, usage_event("C1", "u1", T0 + H_MS), &c); /* at the edge: carries e2's change */
  assert_int_equal(c.count, 2);
  assert_int_equal(c.last.updated_at_ms, T0 + H_MS);
  assert_int_equal(c.last.contacts_24h, 2);
  cx_processor_destroy(p);
  cx_buf_free(&c.lines);
}

static void test_profile_not_emitted_without_material_change(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config = config_with(true, H_MS);
  cx_processor_t *p = cx_processor_new(&config);
  feed(p, phone("e1", T0), &c);
  /* Past the interval, but only events_total and updated_at would change. */
  feed(p, usage_event("C1", "u1", T0 + 2 * H_MS), &c);
  feed(p, usage_event("C1", "u2", T0 + 3 * H_MS), &c);
  assert_int_equal(c.count, 1);
  cx_processor_destroy(p);
  cx_buf_free(&c.lines);
}

static void test_profile_contact_count_change_is_material(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config = config_with(true, H_MS);
  cx_processor_t *p = cx_processor_new(&config);
  feed(p, phone("e1", T0), &c);
  feed(p, phone("e2", T0 + 2 * H_MS), &c);
  assert_int_equal(c.count, 2);
  /* A contact leaving the 24 h window is a change too. */
  feed(p, usage_event("C1", "u1", T0 + DAY_MS), &c);
  assert_int_equal(c.count, 3);
  assert_int_equal(c.last.contacts_24h, 1);
  cx_processor_destroy(p);
  cx_buf_free(&c.lines);
}

static void test_profile_score_change_material_at_min_score_change(void **unused) {
  (void)unused;
  direct_t d;
  direct_init(&d, "C1");
  cx_profile_t out;
  cx_customer_rules_mut(d.customer)->contribution[CX_RULE_LONG_WAIT] = 10;
  cx_customer_rules_mut(d.customer)->contribution[CX_RULE_PAYMENT_FRICTION] = 10;
  assert_true(direct_update(&d, T0, false, &out));
  assert_int_equal(out.frustration_score, 10);
  cx_customer_rules_mut(d.customer)->contribution[CX_RULE_LONG_WAIT] = 14.5f; /* moved 4.5 < 5 */
  assert_false(direct_update(&d, T0 + 1, false, &out));
  cx_customer_rules_mut(d.customer)->contribution[CX_RULE_LONG_WAIT] = 15; /* moved exactly 5 from the last profile */
  assert_true(direct_update(&d, T0 + 2, false, &out));
  assert_int_equal(out.frustration_score, 15);
  cx_customer_rules_mut(d.customer)->contribution[CX_RULE_PAYMENT_FRICTION] = 5.25f; /* churn moved 4.75 */
  assert_false(direct_update(&d, T0 + 3, false, &out));
  cx_customer_rules_mut(d.customer)->contribution[CX_RULE_PAYMENT_FRICTION] = 5;
  assert_true(direct_update(&d, T0 + 4, false, &out));
  assert_int_equal(out.churn_score, 5);
  direct_free(&d);
}

static void test_profile_band_change_is_material_below_min_score_change(void **unused) {
  (void)unused;
  direct_t d;
  direct_init(&d, "C1");
  cx_profile_t out;
  cx_customer_rules_mut(d.customer)->contribution[CX_RULE_LONG_WAIT] = 24;
  assert_true(direct_update(&d, T0, false, &out));
  assert_int_equal(out.frustration_band, CX_SEVERITY_LOW);
  cx_customer_rules_mut(d.customer)->contribution[CX_RULE_LONG_WAIT] = 25; /* +1 crosses scores.band.medium */
  assert_true(direct_update(&d, T0 + 1, false, &out));
  assert_int_equal(out.frustration_band, CX_SEVERITY_MEDIUM);
  direct_free(&d);
}

static void test_profile_alert_is_material_but_not_past_the_interval(void **unused) {
  (void)unused;
  direct_t d;
  direct_init(&d, "C1");
  d.config.interval_ms = H_MS;
  cx_profile_t out;
  assert_true(direct_update(&d, T0, false, &out));
  assert_false(direct_update(&d, T0 + H_MS - 1, true, &out)); /* an alert, inside the interval */
  assert_false(direct_update(&d, T0 + H_MS, false, &out));    /* nothing changed */
  assert_true(direct_update(&d, T0 + H_MS, true, &out));
  direct_free(&d);
}

static void test_profile_open_alerts_and_reasons_follow_cooldowns_and_contributions(void **unused) {
  (void)unused;
  direct_t d;
  direct_init(&d, "C1");
  cx_profile_t out;
  cx_customer_rules_mut(d.customer)->contribution[CX_RULE_REPEAT_CONTACT] = 30;
  cx_customer_rules_mut(d.customer)->contribution[CX_RULE_LONG_WAIT] = 10;
  cx_customer_rules_mut(d.customer)->contribution[CX_RULE_ABANDONMENT] = 0.5f; /* not over 0.5: no reason */
  cx_customer_rules_mut(d.customer)->contribution[CX_RULE_ESCALATION] = 35;
  for (int r = 0; r < CX_RULE__COUNT; r++)
    cx_customer_rules_mut(d.customer)->quiet_until_ms[r] = INT64_MIN;
  cx_customer_rules_mut(d.customer)->quiet_until_ms[CX_RULE_REPEAT_CONTACT] = T0 + 1; /* still running at T0 */
  cx_customer_rules_mut(d.customer)->quiet_until_ms[CX_RULE_LONG_WAIT] = T0;          /* ends exactly at T0 */
  assert_true(direct_update(&d, T0, false, &out));
  assert_int_equal(out.open_alert_count, 1);
  assert_string_equal(out.open_alerts[0], "repeat_contact");
  assert_int_equal(out.reason_count, 3);
  assert_string_equal(out.reasons[0].code, "repeat_contact");
  assert_int_equal(out.reasons[0].value, 30);
  assert_true(out.reasons[0].weight > 0.74 && out.reasons[0].weight < 0.75); /* 30 / 40.5 */
  assert_string_equal(out.reasons[1].code, "long_wait");
  assert_string_equal(out.reasons[2].code, "escalation");
  assert_int_equal(out.reasons[2].kind, CX_KIND_CHURN);
  assert_true(out.reasons[2].weight == 1.0);
  direct_free(&d);
}

/* --- derived fields --- */

static void test_profile_counts_contacts_per_channel_at_7_and_30_day_edges(void **unused) {
  (void)unused;
  direct_t d;
  direct_init(&d, "C1");
  cx_profile_t out;
  direct_contact(&d, T0 - 30 * DAY_MS, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED, 0);     /* out */
  direct_contact(&d, T0 - 30 * DAY_MS + 1, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED, 0); /* 30d */
  direct_contact(&d, T0 - 7 * DAY_MS, CX_CHANNEL_CHAT, CX_OUTCOME_COMPLETED, 0);       /* 30d */
  direct_contact(&d, T0 - 7 * DAY_MS + 1, CX_CHANNEL_CHAT, CX_OUTCOME_COMPLETED, 0);   /* 7d */
  direct_contact(&d, T0 - DAY_MS, CX_CHANNEL_EMAIL, CX_OUTCOME_COMPLETED, 0);          /* 7d */
  direct_contact(&d, T0, CX_CHANNEL_EMAIL, CX_OUTCOME_ABANDONED, 0);                   /* 24h */
  assert_true(direct_update(&d, T0, false, &out));
  assert_int_equal(out.contacts_30d, 5);
  assert_int_equal(out.contacts_7d, 3);
  assert_int_equal(out.contacts_24h, 1);
  assert_int_equal(out.abandoned_24h, 1);
  assert_int_equal(out.channel_count, 3);
  assert_string_equal(out.channels[0].channel, "PHONE");
  assert_int_equal(out.channels[0].contacts_7d, 0);
  assert_int_equal(out.channels[0].contacts_30d, 1);
  assert_string_equal(out.channels[1].channel, "CHAT");
  assert_int_equal(out.channels[1].contacts_7d, 1);
  assert_int_equal(out.channels[1].contacts_30d, 2);
  assert_string_equal(out.channels[2].channel, "EMAIL");
  assert_int_equal(out.channels[2].contacts_7d, 2);
  assert_int_equal(out.channels[2].contacts_30d, 2);
  assert_int_equal(out.channels_48h_count, 1);
  assert_string_equal(out.channels_48h[0], "EMAIL");
  assert_int_equal(out.last_contact_ms, T0);
  assert_string_equal(out.last_contact_channel, "EMAIL");
  direct_free(&d);
}

static void test_profile_windows_end_at_latest_event_for_out_of_order_trigger(void **unused) {
  (void)unused;
  direct_t d;
  direct_init(&d, "C1");
  cx_profile_t out;
  direct_contact(&d, T0 - DAY_MS, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED, 0);
  direct_contact(&d, T0, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED, 0);
  /* A timer or late event at an earlier time still describes the customer now. */
  assert_true(cx_profile_update(&d.config, &d.scores, d.customer, T0 - H_MS, false, &out));
  assert_int_equal(out.updated_at_ms, T0);
  assert_int_equal(out.contacts_24h, 1);
  assert_int_equal(out.contacts_7d, 2);
  direct_free(&d);
}

static void test_profile_average_wait_and_repeat_contacts(void **unused) {
  (void)unused;
  direct_t d;
  direct_init(&d, "C1");
  cx_profile_t out;
  direct_contact(&d, T0 - 7 * DAY_MS - H_MS, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED, 100);
  /* < 24 h after the previous, which is before the 7 days: a repeat in the 7 days. */
  direct_contact(&d, T0 - 7 * DAY_MS + 1, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED, 200);
  direct_contact(&d, T0 - 2 * DAY_MS, CX_CHANNEL_CHAT, CX_OUTCOME_COMPLETED, 0); /* days later */
  direct_contact(&d, T0 - DAY_MS, CX_CHANNEL_CHAT, CX_OUTCOME_COMPLETED, 0); /* exactly 24 h: no */
  direct_contact(&d, T0 - H_MS, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, 301); /* 23 h: repeat */
  direct_contact(&d, T0, CX_CHANNEL_WEB, CX_OUTCOME_COMPLETED, 0); /* not assisted: no */
  assert_true(direct_update(&d, T0, false, &out));
  assert_int_equal(out.repeat_contacts_7d, 2);
  assert_true(out.has_avg_wait);
  assert_int_equal(out.avg_wait_ms_30d, (100 + 200 + 301) / 6);
  assert_int_equal(out.wait_ms_24h, 301);
  direct_free(&d);
}

static void test_profile_average_wait_absent_without_contacts(void **unused) {
  (void)unused;
  direct_t d;
  direct_init(&d, "C1");
  cx_profile_t out;
  assert_true(direct_update(&d, T0, false, &out));
  assert_false(out.has_avg_wait);
  assert_null(out.last_contact_channel);
  assert_null(out.preferred_channel);
  assert_int_equal(out.channel_count, 0);
  direct_free(&d);
}

static void test_profile_preferred_channel_is_where_contacts_complete(void **unused) {
  (void)unused;
  direct_t d;
  direct_init(&d, "C1");
  cx_profile_t out;
  for (int i = 0; i < 3; i++)
    direct_contact(&d, T0 - 10 * H_MS + i, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, 0);
  direct_contact(&d, T0 - 5 * H_MS, CX_CHANNEL_CHAT, CX_OUTCOME_COMPLETED, 0);
  direct_contact(&d, T0 - 4 * H_MS, CX_CHANNEL_CHAT, CX_OUTCOME_COMPLETED, 0);
  direct_contact(&d, T0 - 3 * H_MS, CX_CHANNEL_APP, CX_OUTCOME_COMPLETED, 0); /* not assisted */
  direct_contact(&d, T0 - 3 * H_MS, CX_CHANNEL_APP, CX_OUTCOME_COMPLETED, 0);
  direct_contact(&d, T0 - 3 * H_MS, CX_CHANNEL_APP, CX_OUTCOME_COMPLETED, 0);
  assert_true(direct_update(&d, T0, false, &out));
  assert_string_equal(out.preferred_channel, "CHAT");
  assert_string_equal(out.last_contact_channel, "APP");
  direct_free(&d);
}

static cx_event_t case_event(const char *event_id, int64_t at_ms, cx_event_type_t type,
                             const char *case_id) {
  cx_event_t event;
  cx_event_clear(&event);
  event.customer_id = cx_str("C1");
  event.event_id = cx_str(event_id);
  event.occurred_at_ms = at_ms;
  event.channel = CX_CHANNEL_PHONE;
  event.type = type;
  event.case_id = cx_str(case_id);
  return event;
}

static void test_profile_open_cases_are_opened_and_not_resolved(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config = config_with(true, 0);
  cx_processor_t *p = cx_processor_new(&config);
  feed(p, case_event("o1", T0, CX_EVENT_CASE_OPENED, "case-1"), &c);
  feed(p, case_event("o2", T0 + 1, CX_EVENT_CASE_OPENED, "case-2"), &c);
  assert_int_equal(c.last.open_cases, 2);
  feed(p, case_event("r1", T0 + 2, CX_EVENT_CASE_RESOLVED, "case-1"), &c);
  assert_int_equal(c.last.open_cases, 1);
  feed(p, case_event("x1", T0 + 3, CX_EVENT_CASE_REOPENED, "case-1"), &c);
  assert_int_equal(c.last.open_cases, 2);
  cx_processor_destroy(p);
  cx_buf_free(&c.lines);
}

static void test_profile_keeps_latest_feedback_by_event_time(void **unused) {
  (void)unused;
  cx_profile_state_t state;
  memset(&state, 0, sizeof(state));
  cx_event_t event = usage_event("C1", "s1", T0);
  event.has_sentiment = true;
  event.sentiment = -0.75f;
  event.has_csat = true;
  event.csat = 2;
  cx_profile_observe(&state, &event);
  event = usage_event("C1", "s2", T0 - 1); /* older: ignored */
  event.has_sentiment = true;
  event.sentiment = 0.5f;
  event.has_nps = true;
  event.nps = 9;
  cx_profile_observe(&state, &event);
  event = usage_event("C1", "s3", T0); /* equal time: the later one wins */
  event.has_csat = true;
  event.csat = 4;
  cx_profile_observe(&state, &event);

  direct_t d;
  direct_init(&d, "C1");
  *cx_customer_profile_mut(d.customer) = state;
  cx_profile_t out;
  assert_true(direct_update(&d, T0, false, &out));
  assert_true(out.has_sentiment);
  assert_true(out.sentiment == -0.75f);
  assert_int_equal(out.sentiment_at_ms, T0);
  assert_true(out.has_csat);
  assert_int_equal(out.csat, 4);
  assert_true(out.has_nps); /* the only NPS, although older than the rest */
  assert_int_equal(out.nps, 9);
  assert_int_equal(out.nps_at_ms, T0 - 1);
  /* New feedback is material. */
  event = usage_event("C1", "s4", T0 + 1);
  event.has_nps = true;
  event.nps = 3;
  cx_profile_observe(cx_customer_profile_mut(d.customer), &event);
  assert_true(direct_update(&d, T0 + 1, false, &out));
  assert_int_equal(out.nps, 3);
  direct_free(&d);
}

static void test_profile_state_is_small_and_fixed(void **unused) {
  (void)unused;
  assert_int_equal(sizeof(cx_profile_state_t), 56);
}

/* --- pseudonyms --- */

static void test_profile_pseudonym_is_truncated_hmac_sha256_hex(void **unused) {
  (void)unused;
  char a[CX_PROFILE_PSEUDONYM_LEN + 1], b[CX_PROFILE_PSEUDONYM_LEN + 1];
  /* python3 -c "import hmac; print(hmac.new(b'secret', b'C1', 'sha256').hexdigest()[:32])" */
  assert_int_equal(cx_profile_pseudonym("secret", cx_str("C1"), a), 0);
  assert_string_equal(a, "d833789ef1820bc39f16deae664901ba");
  assert_int_equal(cx_profile_pseudonym("secret", cx_str("C1"), b), 0);
  assert_string_equal(a, b); /* same id, same key: same pseudonym */
  assert_int_equal(cx_profile_pseudonym("other", cx_str("C1"), b), 0);
  assert_string_equal(b, "1ccfe4b9fb2ecf9eb8424762249a91e0"); /* the key changes it */
  assert_int_equal(cx_profile_pseudonym("secret", cx_str("C2"), b), 0);
  assert_string_equal(b, "ba398129e63a261b86f046738e2cc60e");
}

static bool contains(const void *haystack, size_t len, const char *needle) {
  return memmem(haystack, len, needle, strlen(needle)) != NULL;
}

/* Encodes the profile the processor emitted, in Avro and JSON. */
typedef struct encoded_s {
  cx_codec_t *codec;
  cx_buf_t avro;
  cx_buf_t json;
  char key[64];
  int count;
} encoded_t;

static void encode_profile(const cx_profile_t *profile, void *opaque) {
  encoded_t *e = opaque;
  char errstr[256];
  e->count++;
  snprintf(e->key, sizeof(e->key), "%.*s", (int)profile->customer_id.len,
           profile->customer_id.ptr);
  assert_int_equal(cx_codec_encode_profile(e->codec, profile, -1, &e->avro, errstr,
                                           sizeof(errstr)), CX_OK);
  e->json.len = 0;
  assert_int_equal(cx_jsonl_append_profile(&e->json, profile), 0);
}

static void test_profile_pseudonymised_id_hides_raw_id_in_key_avro_and_json(void **unused) {
  (void)unused;
  char errstr[256];
  cx_config_t *config = cx_config_new();
  assert_int_equal(cx_config_set(config, "profiles.pseudonymize.key", "secret", errstr,
                                 sizeof(errstr)), CX_OK);
  assert_int_equal(cx_config_set(config, "profiles.consent.default", "true", errstr,
                                 sizeof(errstr)), CX_OK);
  encoded_t e = {0};
  assert_int_equal(cx_codec_new(config, &e.codec, errstr, sizeof(errstr)), CX_OK);
  cx_processor_t *p = cx_processor_new(&config->processor);
  cx_outputs_t outputs = {on_alert, encode_profile, &e};
  cx_event_t event = test_contact("customer-4711", "e1", T0, CX_CHANNEL_PHONE,
                                  CX_OUTCOME_COMPLETED, 10);
  assert_int_equal(cx_processor_process(p, &event, &outputs), CX_PROCESS_OK);
  assert_int_equal(e.count, 1);
  char expected[CX_PROFILE_PSEUDONYM_LEN + 1];
  cx_profile_pseudonym("secret", cx_str("customer-4711"), expected);
  assert_string_equal(e.key, expected);
  assert_true(contains(e.avro.data, e.avro.len, expected));
  assert_false(contains(e.avro.data, e.avro.len, "customer-4711"));
  assert_false(contains(e.avro.data, e.avro.len, "4711"));
  assert_true(contains(e.json.data, e.json.len, expected));
  assert_false(contains(e.json.data, e.json.len, "4711"));
  /* The tombstone is keyed by the pseudonym too. */
  event = consent_event("customer-4711", "w1", T0 + 1, "profiling_withdrawn");
  assert_int_equal(cx_processor_process(p, &event, &outputs), CX_PROCESS_OK);
  assert_int_equal(e.count, 2);
  assert_string_equal(e.key, expected);
  assert_int_equal(e.avro.len, 0);
  assert_false(contains(e.json.data, e.json.len, "4711"));
  cx_processor_destroy(p);
  cx_codec_destroy(e.codec);
  cx_buf_free(&e.avro);
  cx_buf_free(&e.json);
  cx_config_destroy(config);
}

static void test_profile_without_key_uses_raw_id(void **unused) {
  (void)unused;
  direct_t d;
  direct_init(&d, "C1");
  d.config.pseudonymize_key = "";
  cx_profile_t out;
  assert_true(direct_update(&d, T0, false, &out));
  assert_int_equal(out.customer_id.len, 2);
  assert_memory_equal(out.customer_id.ptr, "C1", 2);
  direct_free(&d);
}

static void test_profile_key_comes_from_env_and_is_never_printed(void **unused) {
  (void)unused;
  char errstr[256], path[] = "/tmp/cx_profile_key_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *file = fdopen(fd, "w");
  fputs("profiles.pseudonymize.key=${CX_TEST_PROFILE_KEY}\n", file);
  fclose(file);
  setenv("CX_TEST_PROFILE_KEY", "s3cr3t-value", 1);
  cx_config_t *config = cx_config_new();
  assert_int_equal(cx_config_load_file(config, path, errstr, sizeof(errstr)), CX_OK);
  assert_string_equal(config->processor.profiles.pseudonymize_key, "s3cr3t-value");
  char *help = NULL;
  size_t help_len = 0;
  FILE *out = open_memstream(&help, &help_len);
  cx_config_print_help(out);
  fclose(out);
  assert_true(contains(help, help_len, "profiles.pseudonymize.key"));
  assert_false(contains(help, help_len, "s3cr3t"));
  free(help);
  unsetenv("CX_TEST_PROFILE_KEY");
  unlink(path);
  cx_config_destroy(config);
}

/* --- encoding --- */

static const char *get_string(avro_value_t *record, const char *name) {
  avro_value_t field;
  const char *text = NULL;
  size_t size = 0;
  assert_int_equal(avro_value_get_by_name(record, name, &field, NULL), 0);
  assert_int_equal(avro_value_get_string(&field, &text, &size), 0);
  return text;
}

static int64_t get_long(avro_value_t *record, const char *name) {
  avro_value_t field;
  int64_t number = 0;
  assert_int_equal(avro_value_get_by_name(record, name, &field, NULL), 0);
  assert_int_equal(avro_value_get_long(&field, &number), 0);
  return number;
}

static int32_t get_int(avro_value_t *record, const char *name) {
  avro_value_t field;
  int32_t number = 0;
  assert_int_equal(avro_value_get_by_name(record, name, &field, NULL), 0);
  assert_int_equal(avro_value_get_int(&field, &number), 0);
  return number;
}

/* The branch of a ["null", T] field; *value is the branch's value. */
static int get_branch(avro_value_t *record, const char *name, avro_value_t *value) {
  avro_value_t field;
  int branch = -1;
  assert_int_equal(avro_value_get_by_name(record, name, &field, NULL), 0);
  assert_int_equal(avro_value_get_discriminant(&field, &branch), 0);
  assert_int_equal(avro_value_get_current_branch(&field, value), 0);
  return branch;
}

static void test_profile_avro_reads_back_with_customer_profile_schema(void **unused) {
  (void)unused;
  char errstr[512];
  cx_config_t *config = cx_config_new();
  cx_codec_t *codec = NULL;
  assert_int_equal(cx_codec_new(config, &codec, errstr, sizeof(errstr)), CX_OK);

  direct_t d;
  direct_init(&d, "C\"1");
  direct_contact(&d, T0 - 2 * DAY_MS, CX_CHANNEL_CHAT, CX_OUTCOME_COMPLETED, 0);
  direct_contact(&d, T0, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, 700000);
  cx_customer_rules_mut(d.customer)->contribution[CX_RULE_LONG_WAIT] = 20;
  cx_customer_rules_mut(d.customer)->contribution[CX_RULE_ESCALATION] = 35;
  for (int r = 0; r < CX_RULE__COUNT; r++)
    cx_customer_rules_mut(d.customer)->quiet_until_ms[r] = INT64_MIN;
  cx_customer_rules_mut(d.customer)->quiet_until_ms[CX_RULE_LONG_WAIT] = T0 + DAY_MS;
  d.customer->consent = CX_CONSENT_GRANTED;
  cx_event_t feedback = usage_event("C\"1", "s1", T0);
  feedback.has_sentiment = true;
  feedback.sentiment = -0.5f;
  feedback.has_nps = true;
  feedback.nps = 4;
  cx_profile_observe(cx_customer_profile_mut(d.customer), &feedback);
  cx_profile_t profile;
  assert_true(direct_update(&d, T0, false, &profile));

  cx_buf_t buf = {0};
  assert_int_equal(cx_codec_encode_profile(codec, &profile, 1234, &buf, errstr, sizeof(errstr)),
                   CX_OK);
  int32_t id;
  const void *payload;
  size_t payload_len;
  assert_int_equal(cx_frame_parse(buf.data, buf.len, &id, &payload, &payload_len), CX_OK);
  assert_int_equal(id, 3); /* customer_profile.avsc in registry.properties */

  avro_schema_t schema;
  assert_int_equal(cx_schema_load_file("schemas/customer_profile.avsc", &schema, errstr,
                                       sizeof(errstr)), CX_OK);
  avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
  avro_value_t record, field, element, sub, value;
  avro_generic_value_new(iface, &record);
  avro_reader_t reader = avro_reader_memory(payload, (int64_t)payload_len);
  assert_int_equal(avro_value_read(reader, &record), 0);
  char rest;
  assert_int_not_equal(avro_read(reader, &rest, 1), 0); /* every byte was read */

  assert_string_equal(get_string(&record, "customer_id"), "C\"1");
  assert_int_equal(get_long(&record, "updated_at"), T0);
  assert_int_equal(get_int(&record, "contacts_24h"), 1);
  assert_int_equal(get_int(&record, "abandoned_24h"), 1);
  assert_int_equal(get_long(&record, "wait_ms_24h"), 700000);
  assert_int_equal(get_int(&record, "frustration_score"), 20);
  assert_int_equal(get_int(&record, "churn_score"), 35);
  int symbol = -1;
  avro_value_get_by_name(&record, "churn_band", &field, NULL);
  avro_value_get_enum(&field, &symbol);
  assert_int_equal(symbol, CX_SEVERITY_MEDIUM);
  size_t size = 0;
  avro_value_get_by_name(&record, "reasons", &field, NULL);
  avro_value_get_size(&field, &size);
  assert_int_equal(size, 2);
  avro_value_get_by_index(&field, 1, &element, NULL);
  assert_string_equal(get_string(&element, "code"), "escalation");
  avro_value_get_by_name(&element, "kind", &sub, NULL);
  avro_value_get_enum(&sub, &symbol);
  assert_int_equal(symbol, CX_KIND_CHURN);
  avro_value_get_by_name(&record, "open_alerts", &field, NULL);
  avro_value_get_size(&field, &size);
  assert_int_equal(size, 1);
  assert_int_equal(get_branch(&record, "consent", &value), 1);
  int granted = 0;
  avro_value_get_boolean(&value, &granted);
  assert_true(granted);
  assert_int_equal(get_int(&record, "contacts_7d"), 2);
  assert_int_equal(get_int(&record, "contacts_30d"), 2);
  avro_value_get_by_name(&record, "channel_contacts", &field, NULL);
  avro_value_get_size(&field, &size);
  assert_int_equal(size, 2);
  avro_value_get_by_index(&field, 0, &element, NULL);
  assert_string_equal(get_string(&element, "channel"), "PHONE");
  assert_int_equal(get_int(&element, "contacts_30d"), 1);
  assert_int_equal(get_branch(&record, "preferred_channel", &value), 1);
  assert_int_equal(get_branch(&record, "last_contact_at", &value), 1);
  int64_t number = 0;
  avro_value_get_long(&value, &number);
  assert_int_equal(number, T0);
  assert_int_equal(get_branch(&record, "avg_wait_ms_30d", &value), 1);
  avro_value_get_long(&value, &number);
  assert_int_equal(number, 350000);
  assert_int_equal(get_branch(&record, "last_sentiment", &value), 1);
  float sentiment = 0;
  avro_value_get_float(&value, &sentiment);
  assert_true(sentiment == -0.5f);
  assert_int_equal(get_branch(&record, "last_csat", &value), 0);
  assert_int_equal(get_branch(&record, "last_nps", &value), 1);
  int32_t nps = 0;
  avro_value_get_int(&value, &nps);
  assert_int_equal(nps, 4);
  assert_int_equal(get_branch(&record, "emitted_at", &value), 1);
  avro_value_get_long(&value, &number);
  assert_int_equal(number, 1234);

  avro_reader_free(reader);
  avro_value_decref(&record);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
  cx_buf_free(&buf);
  direct_free(&d);
  cx_codec_destroy(codec);
  cx_config_destroy(config);
}

static void test_profile_tombstone_encodes_as_empty_value(void **unused) {
  (void)unused;
  char errstr[256];
  cx_config_t *config = cx_config_new();
  cx_codec_t *codec = NULL;
  assert_int_equal(cx_codec_new(config, &codec, errstr, sizeof(errstr)), CX_OK);
  cx_profile_t profile;
  memset(&profile, 0, sizeof(profile));
  profile.deleted = true;
  profile.customer_id = cx_str("C1");
  cx_buf_t buf = {0};
  assert_int_equal(cx_buf_append_str(&buf, "stale"), 0);
  assert_int_equal(cx_codec_encode_profile(codec, &profile, -1, &buf, errstr, sizeof(errstr)),
                   CX_OK);
  assert_int_equal(buf.len, 0);
  cx_buf_free(&buf);
  cx_codec_destroy(codec);
  cx_config_destroy(config);
}

/* --- determinism --- */

static void run_journey(captured_t *c) {
  cx_processor_config_t config = config_with(true, H_MS);
  cx_processor_t *p = cx_processor_new(&config);
  const char *customers[] = {"A", "B", "C"};
  for (int i = 0; i < 60; i++) {
    cx_event_t e = test_contact(customers[i % 3], "x", T0 + i * 17 * 60 * 1000LL,
                                (cx_channel_t)(i % 4), i % 5 ? CX_OUTCOME_COMPLETED
                                                             : CX_OUTCOME_ABANDONED,
                                (i % 7) * 120000LL);
    char id[16];
    snprintf(id, sizeof(id), "e%d", i);
    e.event_id = cx_str(id);
    feed(p, e, c);
  }
  cx_processor_destroy(p);
}

static void test_profile_same_input_gives_byte_identical_profiles(void **unused) {
  (void)unused;
  captured_t first = {0}, second = {0};
  run_journey(&first);
  run_journey(&second);
  assert_true(first.count > 3);
  assert_int_equal(first.lines.len, second.lines.len);
  assert_memory_equal(first.lines.data, second.lines.data, first.lines.len);
  cx_buf_free(&first.lines);
  cx_buf_free(&second.lines);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_profile_not_emitted_when_consent_unknown_and_default_denies),
    cmocka_unit_test(test_profile_emitted_when_consent_unknown_and_default_grants),
    cmocka_unit_test(test_profile_emitted_after_consent_granted),
    cmocka_unit_test(test_profile_withdrawn_consent_emits_one_tombstone_then_nothing),
    cmocka_unit_test(test_profile_withdrawn_without_earlier_profile_emits_nothing),
    cmocka_unit_test(test_profile_withdrawn_overrides_consent_default),
    cmocka_unit_test(test_profile_default_turned_off_by_reload_erases_unknown_consent_profiles),
    cmocka_unit_test(test_profile_restored_unknown_consent_profile_is_erased_when_default_denies),
    cmocka_unit_test(test_profile_granted_again_emits_at_once),
    cmocka_unit_test(test_profile_interval_holds_back_until_its_exact_edge),
    cmocka_unit_test(test_profile_not_emitted_without_material_change),
    cmocka_unit_test(test_profile_contact_count_change_is_material),
    cmocka_unit_test(test_profile_score_change_material_at_min_score_change),
    cmocka_unit_test(test_profile_band_change_is_material_below_min_score_change),
    cmocka_unit_test(test_profile_alert_is_material_but_not_past_the_interval),
    cmocka_unit_test(test_profile_open_alerts_and_reasons_follow_cooldowns_and_contributions),
    cmocka_unit_test(test_profile_counts_contacts_per_channel_at_7_and_30_day_edges),
    cmocka_unit_test(test_profile_windows_end_at_latest_event_for_out_of_order_trigger),
    cmocka_unit_test(test_profile_average_wait_and_repeat_contacts),
    cmocka_unit_test(test_profile_average_wait_absent_without_contacts),
    cmocka_unit_test(test_profile_preferred_channel_is_where_contacts_complete),
    cmocka_unit_test(test_profile_open_cases_are_opened_and_not_resolved),
    cmocka_unit_test(test_profile_keeps_latest_feedback_by_event_time),
    cmocka_unit_test(test_profile_state_is_small_and_fixed),
    cmocka_unit_test(test_profile_pseudonym_is_truncated_hmac_sha256_hex),
    cmocka_unit_test(test_profile_pseudonymised_id_hides_raw_id_in_key_avro_and_json),
    cmocka_unit_test(test_profile_without_key_uses_raw_id),
    cmocka_unit_test(test_profile_key_comes_from_env_and_is_never_printed),
    cmocka_unit_test(test_profile_avro_reads_back_with_customer_profile_schema),
    cmocka_unit_test(test_profile_tombstone_encodes_as_empty_value),
    cmocka_unit_test(test_profile_same_input_gives_byte_identical_profiles),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
