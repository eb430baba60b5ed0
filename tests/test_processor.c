/* The three exact rules through the processor: thresholds at their edges,
 * window bounds, cooldowns, lateness, out-of-order events, determinism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../operators/processor.h"
#include "../operators/state.h"
#include "../operators/state_codec.h"
#include "test_helpers.h"

typedef struct captured_s {
  int count;
  char rules[64][32];
  char triggers[64][32];
  char ids[64][CX_ALERT_ID_LEN + 1];
  int64_t window_start[64];
  size_t evidence[64];
  int score[64];
  cx_severity_t severity[64];
} captured_t;

static void capture(const cx_alert_t *alert, void *opaque) {
  captured_t *c = opaque;
  assert_true(c->count < 64);
  snprintf(c->rules[c->count], 32, "%s", alert->rule);
  snprintf(c->triggers[c->count], 32, "%.*s", (int)alert->trigger_event_id.len,
           alert->trigger_event_id.ptr);
  memcpy(c->ids[c->count], alert->alert_id, sizeof(alert->alert_id));
  c->window_start[c->count] = alert->window_start_ms;
  c->evidence[c->count] = alert->evidence_count;
  c->score[c->count] = alert->score;
  c->severity[c->count] = alert->severity;
  c->count++;
}

/* Only the named rule enabled, defaults otherwise. */
static cx_processor_t *only(cx_rule_t rule) {
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  for (int r = 0; r < CX_RULE__COUNT; r++)
    config.rules.common[r].enabled = r == (int)rule;
  return cx_processor_new(&config);
}

static cx_process_result_t process(cx_processor_t *p, const cx_event_t *e, captured_t *c) {
  cx_outputs_t outputs = {capture, NULL, c};
  return cx_processor_process(p, e, &outputs);
}

static void feed(cx_processor_t *p, cx_event_t e, captured_t *c) {
  assert_int_equal(process(p, &e, c), CX_PROCESS_OK);
}

static void test_repeat_contact_fires_on_third_contact_within_window(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_REPEAT_CONTACT);
  feed(p, test_contact("C1", "e1", 0, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED, 0), &c);
  feed(p, test_contact("C1", "e2", H_MS, CX_CHANNEL_CHAT, CX_OUTCOME_COMPLETED, 0), &c);
  assert_int_equal(c.count, 0);
  feed(p, test_contact("C1", "e3", 2 * H_MS, CX_CHANNEL_EMAIL, CX_OUTCOME_COMPLETED, 0), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.rules[0], "repeat_contact");
  assert_string_equal(c.triggers[0], "e3");
  assert_int_equal(c.evidence[0], 3);
  assert_int_equal(c.window_start[0], 2 * H_MS - 24 * H_MS);
  assert_int_equal(c.score[0], 25); /* the rule's weight, undecayed */
  assert_int_equal(c.severity[0], CX_SEVERITY_MEDIUM);
  cx_processor_destroy(p);
}

static void test_repeat_contact_excludes_contact_exactly_24h_before(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_REPEAT_CONTACT);
  feed(p, test_contact("C1", "e1", 0, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), &c);
  feed(p, test_contact("C1", "e2", H_MS, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), &c);
  feed(p, test_contact("C1", "e3", 24 * H_MS, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), &c);
  assert_int_equal(c.count, 0); /* e1 is at t - 24h: outside (t - 24h, t] */
  feed(p, test_contact("C1", "e4", 24 * H_MS, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), &c);
  assert_int_equal(c.count, 1); /* e2, e3, e4; equal timestamps count */
  assert_string_equal(c.triggers[0], "e4");
  cx_processor_destroy(p);
}

static void test_repeat_contact_ignores_unassisted_channels(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_REPEAT_CONTACT);
  feed(p, test_contact("C1", "e1", 0, CX_CHANNEL_IVR, CX_OUTCOME_NONE, -1), &c);
  feed(p, test_contact("C1", "e2", 1, CX_CHANNEL_WEB, CX_OUTCOME_NONE, -1), &c);
  feed(p, test_contact("C1", "e3", 2, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), &c);
  feed(p, test_contact("C1", "e4", 3, CX_CHANNEL_APP, CX_OUTCOME_NONE, -1), &c);
  assert_int_equal(c.count, 0);
  cx_processor_destroy(p);
}

static void test_cooldown_quiet_until_exactly_24h_after_alert(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_ABANDONMENT);
  feed(p, test_contact("C1", "a1", 0, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, -1), &c);
  feed(p, test_contact("C1", "a2", 10, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, -1), &c);
  assert_int_equal(c.count, 1);
  feed(p, test_contact("C1", "a3", 20, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, -1), &c);
  feed(p, test_contact("C1", "a4", 10 + 24 * H_MS - 1, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, -1), &c);
  assert_int_equal(c.count, 1); /* still quiet one ms before the cooldown ends */
  feed(p, test_contact("C1", "a5", 10 + 24 * H_MS, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, -1), &c);
  assert_int_equal(c.count, 2); /* at t + cooldown it may fire again */
  assert_string_equal(c.triggers[1], "a5");
  cx_processor_destroy(p);
}

static void test_cooldown_is_per_customer_and_rule(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  for (int r = CX_RULE_ABANDONMENT + 1; r < CX_RULE__COUNT; r++)
    config.rules.common[r].enabled = false;
  cx_processor_t *p = cx_processor_new(&config);
  /* Two abandoned contacts with long waits: abandonment and long_wait both fire. */
  feed(p, test_contact("C1", "a1", 0, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, 11 * MIN_MS), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.rules[0], "long_wait");
  feed(p, test_contact("C1", "a2", 1000, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, 0), &c);
  assert_int_equal(c.count, 2);
  assert_string_equal(c.rules[1], "abandonment");
  feed(p, test_contact("C2", "b1", 2000, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, 0), &c);
  feed(p, test_contact("C2", "b2", 3000, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, 0), &c);
  assert_int_equal(c.count, 3);
  assert_string_equal(c.triggers[2], "b2");
  cx_processor_destroy(p);
}

static void test_long_wait_single_wait_threshold_is_inclusive(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_LONG_WAIT);
  feed(p, test_contact("C1", "w1", 0, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, 10 * MIN_MS - 1), &c);
  assert_int_equal(c.count, 0);
  feed(p, test_contact("C2", "w2", 0, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, 10 * MIN_MS), &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "w2");
  cx_processor_destroy(p);
}

static void test_long_wait_total_of_30_minutes_within_window(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_LONG_WAIT);
  feed(p, test_contact("C1", "w1", 0, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, 9 * MIN_MS), &c);
  feed(p, test_contact("C1", "w2", H_MS, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, 9 * MIN_MS), &c);
  feed(p, test_contact("C1", "w3", 24 * H_MS, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, 9 * MIN_MS), &c);
  assert_int_equal(c.count, 0); /* w1 fell out: 18 min */
  feed(p, test_contact("C1", "w4", 24 * H_MS + 1, CX_CHANNEL_IVR, CX_OUTCOME_NONE, 9 * MIN_MS), &c);
  assert_int_equal(c.count, 0); /* 27 min */
  feed(p, test_contact("C1", "w5", 24 * H_MS + 2, CX_CHANNEL_IVR, CX_OUTCOME_NONE, 3 * MIN_MS), &c);
  assert_int_equal(c.count, 1); /* 30 min, any channel counts */
  assert_string_equal(c.triggers[0], "w5");
  assert_int_equal(c.evidence[0], 4);
  cx_processor_destroy(p);
}

static void test_abandonment_needs_two_abandoned_within_window(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_ABANDONMENT);
  feed(p, test_contact("C1", "a1", 0, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, -1), &c);
  feed(p, test_contact("C1", "x", 10, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED, -1), &c);
  feed(p, test_contact("C1", "a2", 24 * H_MS, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, -1), &c);
  assert_int_equal(c.count, 0);
  feed(p, test_contact("C1", "a3", 24 * H_MS + 5, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, -1), &c);
  assert_int_equal(c.count, 1);
  cx_processor_destroy(p);
}

static void test_late_event_is_refused_and_changes_nothing(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_ABANDONMENT);
  feed(p, test_contact("C1", "a1", 10 * MIN_MS, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, -1), &c);
  cx_event_t late = test_contact("C1", "late", 10 * MIN_MS - 60001, CX_CHANNEL_PHONE,
                                 CX_OUTCOME_ABANDONED, -1);
  assert_int_equal(process(p, &late, &c), CX_PROCESS_LATE);
  assert_int_equal(c.count, 0);
  assert_int_equal(cx_processor_stats(p)->late_events, 1);
  /* Exactly at the watermark is on time. */
  cx_event_t edge = test_contact("C2", "edge", 10 * MIN_MS - 60000, CX_CHANNEL_PHONE,
                                 CX_OUTCOME_ABANDONED, -1);
  assert_int_equal(process(p, &edge, &c), CX_PROCESS_OK);
  cx_processor_destroy(p);
}

static void test_out_of_order_within_lateness_counts_in_window(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_REPEAT_CONTACT);
  feed(p, test_contact("C1", "e3", 30000, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), &c);
  feed(p, test_contact("C1", "e1", 10000, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), &c);
  assert_int_equal(c.count, 0);
  feed(p, test_contact("C1", "e2", 20000, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), &c);
  /* Window (20000 - 24h, 20000] holds e1 and e2 only: e3 is later. */
  assert_int_equal(c.count, 0);
  feed(p, test_contact("C1", "e4", 40000, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), &c);
  assert_int_equal(c.count, 1);
  assert_int_equal(c.evidence[0], 4);
  cx_processor_destroy(p);
}

static void test_alert_id_is_deterministic_and_distinct(void **unused) {
  (void)unused;
  char a[CX_ALERT_ID_LEN + 1], b[CX_ALERT_ID_LEN + 1], d[CX_ALERT_ID_LEN + 1];
  cx_alert_make_id(cx_str("C1"), "long_wait", cx_str("e1"), a);
  cx_alert_make_id(cx_str("C1"), "long_wait", cx_str("e1"), b);
  cx_alert_make_id(cx_str("C1e"), "long_wait", cx_str("1"), d);
  assert_string_equal(a, b);
  assert_string_not_equal(a, d);
  assert_int_equal(strlen(a), 32);
}

/* Alert ids are keys downstream: their value never changes, whether the ids
 * fit the one-shot hash's stack copy or are streamed (values of the
 * streaming implementation, pinned). */
static void test_alert_id_values_are_stable_for_short_and_long_ids(void **unused) {
  (void)unused;
  static char customer[701], event_id[4097];
  memset(customer, 'c', 700);
  memset(event_id, 'e', 4096);
  char id[CX_ALERT_ID_LEN + 1];
  cx_alert_make_id(cx_str("C1"), "long_wait", cx_str("e1"), id);
  assert_string_equal(id, "3db98494e5ac689939ee57cb24b33fc2");
  cx_alert_make_id(cx_str(customer), "engagement_drop", cx_str(event_id), id);
  assert_string_equal(id, "518e9b0e15509117269e904dbbbe74e1");
  cx_alert_make_id(cx_str(""), "escalation", cx_str(""), id);
  assert_string_equal(id, "5f68d84b7f01da87ef85f5b70c74bf7c");
}

static void test_idle_customers_are_evicted_without_changing_output(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_ABANDONMENT);
  char customer[32], id[32];
  for (int i = 0; i < 1000; i++) {
    snprintf(customer, sizeof(customer), "C%d", i);
    snprintf(id, sizeof(id), "e%d", i);
    feed(p, test_contact(customer, id, (int64_t)i * MIN_MS, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, -1), &c);
  }
  assert_int_equal(cx_processor_customer_count(p), 1000);
  /* Idle longer than every window, timer and cooldown (35 days of baseline). */
  feed(p, test_contact("late-comer", "z1", 100 * 24 * H_MS, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, -1), &c);
  feed(p, test_contact("late-comer", "z2", 100 * 24 * H_MS + 1, CX_CHANNEL_PHONE, CX_OUTCOME_ABANDONED, -1), &c);
  assert_true(cx_processor_customer_count(p) < 10);
  assert_int_equal(cx_processor_stats(p)->evicted_customers, 1000);
  assert_int_equal(c.count, 1);
  cx_processor_destroy(p);
}

typedef struct changes_s {
  char removed[8][16];
  int removed_count;
  char changed[8][16];
  int changed_count;
  int order;        /* 1 once a changed customer came before a removed key */
} changes_t;

static int on_removed(cx_str_t key, void *opaque) {
  changes_t *c = opaque;
  if (c->changed_count)
    c->order = 1;
  snprintf(c->removed[c->removed_count++], 16, "%.*s", (int)key.len, key.ptr);
  return 0;
}

static int on_changed(const struct cx_customer_s *customer, void *opaque) {
  changes_t *c = opaque;
  cx_str_t key = cx_customer_key(customer);
  snprintf(c->changed[c->changed_count++], 16, "%.*s", (int)key.len, key.ptr);
  return 0;
}

static void test_changes_list_each_changed_customer_once_and_evicted_keys_first(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_REPEAT_CONTACT);
  cx_processor_track_changes(p);
  feed(p, test_contact("C1", "e1", 0, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), &c);
  feed(p, test_contact("C2", "e2", 1, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), &c);
  feed(p, test_contact("C1", "e3", 2, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), &c);
  changes_t changes = {0};
  assert_int_equal(cx_processor_take_changes(p, on_removed, on_changed, &changes), 0);
  assert_int_equal(changes.removed_count, 0);
  assert_int_equal(changes.changed_count, 2);
  assert_string_equal(changes.changed[0], "C1");
  assert_string_equal(changes.changed[1], "C2");
  memset(&changes, 0, sizeof(changes));
  cx_processor_take_changes(p, on_removed, on_changed, &changes);
  assert_int_equal(changes.changed_count, 0); /* nothing new */
  /* 100 days later C1 and C2 are evicted; C3 is new. */
  feed(p, test_contact("C3", "e4", 100 * 24 * H_MS, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), &c);
  feed(p, test_contact("C3", "e5", 100 * 24 * H_MS + 1, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), &c);
  memset(&changes, 0, sizeof(changes));
  cx_processor_take_changes(p, on_removed, on_changed, &changes);
  assert_int_equal(changes.removed_count, 2);
  assert_int_equal(changes.changed_count, 1);
  assert_string_equal(changes.changed[0], "C3");
  assert_int_equal(changes.order, 0);
  cx_processor_forget(p, cx_str("C3"));
  assert_null(cx_processor_find(p, cx_str("C3")));
  cx_processor_destroy(p);
}

/* Saved state: the changed customers' records, as the changelog keeps them. */
typedef struct saved_s {
  cx_state_codec_buf_t records[8];
  int count;
} saved_t;

static int save_removed(cx_str_t key, void *opaque) {
  (void)key;
  (void)opaque;
  return 0;
}

static int save_changed(const cx_customer_t *customer, void *opaque) {
  saved_t *saved = opaque;
  assert_true(saved->count < 8);
  return cx_state_codec_encode(customer, &saved->records[saved->count++]);
}

static void restore_saved(cx_processor_t *p, saved_t *saved) {
  char errstr[256];
  for (int i = 0; i < saved->count; i++) {
    assert_int_equal(cx_processor_restore(p, saved->records[i].bytes, saved->records[i].len,
                                          errstr, sizeof(errstr)), 0);
    cx_state_codec_buf_free(&saved->records[i]);
  }
  saved->count = 0;
}

static cx_process_result_t process_at(cx_processor_t *p, cx_event_t e, int64_t offset,
                                      captured_t *c) {
  cx_outputs_t outputs = {capture, NULL, c};
  return cx_processor_process_at(p, &e, offset, &outputs);
}

/* At least once after a crash: the changelog holds state (and progress)
 * past the committed offset, so the events from there come again. Those the
 * restored state has applied are recognised, by the partition's progress
 * and by each customer's own offset, and not applied twice: the alert comes
 * on the third contact, as without the crash, not on a replayed one. */
static void test_replayed_events_after_restore_are_not_applied_twice(void **unused) {
  (void)unused;
  captured_t before = {0}, after = {0};
  cx_processor_t *p = only(CX_RULE_REPEAT_CONTACT);
  cx_processor_track_changes(p);
  cx_partition_progress_t progress;
  assert_false(cx_processor_take_progress(p, &progress)); /* nothing yet */
  cx_event_t c1a = test_contact("C1", "a", 0, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1);
  cx_event_t c2 = test_contact("C2", "x", MIN_MS, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1);
  cx_event_t c1b = test_contact("C1", "b", 2 * MIN_MS, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1);
  cx_event_t c1c = test_contact("C1", "c", 3 * MIN_MS, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1);
  assert_int_equal(process_at(p, c1a, 10, &before), CX_PROCESS_OK);
  /* batch 1 ends: its records and progress (offset 11) reach the changelog */
  saved_t saved = {0};
  assert_int_equal(cx_processor_take_changes(p, save_removed, save_changed, &saved), 0);
  assert_true(cx_processor_take_progress(p, &progress));
  assert_int_equal(progress.next_offset, 11);
  assert_int_equal(progress.max_event_ms, 0);
  assert_false(cx_processor_take_progress(p, &progress)); /* unchanged */
  assert_int_equal(process_at(p, c2, 11, &before), CX_PROCESS_OK);
  assert_int_equal(process_at(p, c1b, 12, &before), CX_PROCESS_OK);
  /* batch 2: only C1's record made it before the crash (not C2's, not the progress) */
  saved_t batch2 = {0};
  assert_int_equal(cx_processor_take_changes(p, save_removed, save_changed, &batch2), 0);
  assert_int_equal(batch2.count, 2);
  cx_processor_destroy(p);

  cx_processor_t *q = only(CX_RULE_REPEAT_CONTACT);
  restore_saved(q, &saved);
  cx_processor_restore_progress(q, &progress);
  for (int i = 0; i < batch2.count; i++) {
    cx_customer_t decoded;
    char errstr[256];
    assert_int_equal(cx_state_codec_decode(batch2.records[i].bytes, batch2.records[i].len,
                                           &decoded, errstr, sizeof(errstr)), 0);
    bool is_c1 = decoded.key_len == 2 && !memcmp(cx_customer_key(&decoded).ptr, "C1", 2);
    cx_customer_release(&decoded);
    if (is_c1)
      assert_int_equal(cx_processor_restore(q, batch2.records[i].bytes, batch2.records[i].len,
                                            errstr, sizeof(errstr)), 0);
    cx_state_codec_buf_free(&batch2.records[i]);
  }
  /* resumed from the committed offset 10 */
  assert_int_equal(process_at(q, c1a, 10, &after), CX_PROCESS_DUPLICATE); /* progress */
  assert_int_equal(process_at(q, c2, 11, &after), CX_PROCESS_OK);         /* C2 was lost */
  assert_int_equal(process_at(q, c1b, 12, &after), CX_PROCESS_DUPLICATE); /* C1's offset */
  assert_int_equal(after.count, 0);
  assert_int_equal(process_at(q, c1c, 13, &after), CX_PROCESS_OK);
  assert_int_equal(after.count, 1);
  assert_string_equal(after.triggers[0], "c");
  assert_int_equal(cx_processor_stats(q)->duplicates, 2);
  assert_int_equal(cx_processor_find(q, cx_str("C1"))->event_count, 3);
  cx_processor_destroy(q);
}

/* The restored progress brings the watermark back: an event the partition
 * had already left behind is late after a restore too. */
static void test_restored_progress_keeps_the_watermark(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = only(CX_RULE_REPEAT_CONTACT);
  cx_partition_progress_t progress = {10 * H_MS, 500};
  cx_processor_restore_progress(p, &progress);
  int64_t lateness = 60 * 1000;
  assert_int_equal(cx_processor_watermark(p), 10 * H_MS - lateness);
  assert_int_equal(process_at(p, test_contact("C9", "old", 10 * H_MS - lateness - 1,
                                              CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), 500, &c),
                   CX_PROCESS_LATE);
  assert_int_equal(process_at(p, test_contact("C9", "new", 10 * H_MS, CX_CHANNEL_PHONE,
                                              CX_OUTCOME_NONE, -1), 501, &c),
                   CX_PROCESS_OK);
  cx_processor_destroy(p);
}

static cx_processor_t *bounded(cx_rule_t rule, int64_t max_customers) {
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  for (int r = 0; r < CX_RULE__COUNT; r++)
    config.rules.common[r].enabled = r == (int)rule;
  config.max_customers = max_customers;
  return cx_processor_new(&config);
}

/* A and B alternate three contacts each: both reach repeat_contact when two
 * customers fit, neither when only one does (each contact evicts the other,
 * so each starts again: the documented cost of the bound). */
static int alternating_alerts(int64_t max_customers, uint64_t *evicted) {
  captured_t c = {0};
  cx_processor_t *p = bounded(CX_RULE_REPEAT_CONTACT, max_customers);
  const char *ids[] = {"a1", "b1", "a2", "b2", "a3", "b3"};
  for (int i = 0; i < 6; i++)
    feed(p, test_contact(i % 2 ? "B" : "A", ids[i], i * MIN_MS, CX_CHANNEL_PHONE,
                         CX_OUTCOME_COMPLETED, 0), &c);
  *evicted = cx_processor_stats(p)->limit_evicted_customers;
  assert_true(cx_processor_customer_count(p) <= (size_t)(max_customers ? max_customers : 2));
  cx_processor_destroy(p);
  return c.count;
}

static void test_max_customers_evicts_active_customers_counts_them_and_changes_output(void **unused) {
  (void)unused;
  uint64_t evicted = 0;
  assert_int_equal(alternating_alerts(0, &evicted), 2);
  assert_int_equal(evicted, 0);
  assert_int_equal(alternating_alerts(2, &evicted), 2);
  assert_int_equal(evicted, 0);
  assert_int_equal(alternating_alerts(1, &evicted), 0);
  assert_int_equal(evicted, 5);
}

static void test_max_customers_evicted_keys_get_tombstones_and_idle_count_apart(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = bounded(CX_RULE_REPEAT_CONTACT, 1);
  cx_processor_track_changes(p);
  feed(p, test_contact("C1", "e1", 0, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), &c);
  feed(p, test_contact("C2", "e2", 1, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), &c);
  changes_t changes = {0};
  assert_int_equal(cx_processor_take_changes(p, on_removed, on_changed, &changes), 0);
  assert_int_equal(changes.removed_count, 1);
  assert_string_equal(changes.removed[0], "C1");
  assert_int_equal(changes.changed_count, 1);
  assert_string_equal(changes.changed[0], "C2");
  assert_int_equal(cx_processor_stats(p)->limit_evicted_customers, 1);
  assert_int_equal(cx_processor_stats(p)->evicted_customers, 0);
  cx_processor_destroy(p);
}

static void test_reconfigure_keeps_max_customers(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = bounded(CX_RULE_REPEAT_CONTACT, 1);
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  config.max_customers = 0;
  cx_processor_reconfigure(p, &config);
  feed(p, test_contact("C1", "e1", 0, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), &c);
  feed(p, test_contact("C2", "e2", 1, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1), &c);
  assert_int_equal(cx_processor_customer_count(p), 1);
  cx_processor_destroy(p);
}

typedef struct total_wait_s {
  int count;
  int64_t total_wait_ms;   /* the last alert's total_wait_ms reason */
  size_t evidence_count;   /* and its evidence */
} total_wait_t;

static void capture_total_wait(const cx_alert_t *alert, void *opaque) {
  total_wait_t *t = opaque;
  t->count++;
  t->evidence_count = alert->evidence_count;
  for (size_t i = 0; i < alert->reason_count; i++)
    if (!strcmp(alert->reasons[i].code, "total_wait_ms"))
      t->total_wait_ms = alert->reasons[i].value;
}

/* The interaction log keeps waits in 32 bits when they fit and exactly
 * otherwise: long_wait's sum over waits past 2^32 ms stays exact (and
 * saturates at INT64_MAX as before). */
static void test_long_wait_sums_waits_past_32_bits_exactly(void **unused) {
  (void)unused;
  cx_processor_t *p = only(CX_RULE_LONG_WAIT);
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  for (int r = 0; r < CX_RULE__COUNT; r++)
    config.rules.common[r].enabled = r == CX_RULE_LONG_WAIT;
  config.rules.common[CX_RULE_LONG_WAIT].cooldown_ms = 0;
  cx_processor_reconfigure(p, &config);
  total_wait_t t = {0};
  cx_outputs_t outputs = {capture_total_wait, NULL, &t};
  cx_event_t e = test_contact("C1", "e1", 0, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED,
                              4294967295LL);
  assert_int_equal(cx_processor_process(p, &e, &outputs), CX_PROCESS_OK);
  assert_int_equal(t.total_wait_ms, 4294967295LL);
  e = test_contact("C1", "e2", 1, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED, 4294967297LL);
  assert_int_equal(cx_processor_process(p, &e, &outputs), CX_PROCESS_OK);
  assert_int_equal(t.total_wait_ms, 4294967295LL + 4294967297LL);
  assert_int_equal(t.evidence_count, 2);
  e = test_contact("C1", "e3", 2, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED, 1000000000000LL);
  assert_int_equal(cx_processor_process(p, &e, &outputs), CX_PROCESS_OK);
  assert_int_equal(t.total_wait_ms, 4294967295LL + 4294967297LL + 1000000000000LL);
  e = test_contact("C1", "e4", 3, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED, INT64_MAX);
  assert_int_equal(cx_processor_process(p, &e, &outputs), CX_PROCESS_OK);
  assert_int_equal(t.total_wait_ms, INT64_MAX);
  assert_int_equal(t.count, 4);
  cx_processor_destroy(p);
}

/* A customer whose events need no detector state (contacts without a hit)
 * carries no extension block: only its record and its log. */
static void test_plain_contacts_allocate_no_detector_blocks(void **unused) {
  (void)unused;
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  cx_processor_t *p = cx_processor_new(&config); /* every rule enabled */
  captured_t c = {0};
  feed(p, test_contact("C1", "e1", 0, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED, 1000), &c);
  feed(p, test_contact("C1", "e2", H_MS, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED, 1000), &c);
  assert_int_equal(c.count, 0);
  const cx_customer_t *customer = cx_processor_find(p, cx_str("C1"));
  assert_non_null(customer);
  assert_null(customer->rules);
  assert_null(customer->signals);
  assert_null(customer->sessions);
  assert_null(customer->digital);
  assert_null(customer->cases);
  assert_null(customer->profile);
  assert_int_equal(cx_customer_interaction_count(customer), 2);
  /* the first hit brings the rules block */
  feed(p, test_contact("C1", "e3", 2 * H_MS, CX_CHANNEL_PHONE, CX_OUTCOME_COMPLETED, 1000), &c);
  assert_int_equal(c.count, 1); /* repeat_contact */
  customer = cx_processor_find(p, cx_str("C1"));
  assert_non_null(customer->rules);
  assert_null(customer->digital);
  cx_processor_destroy(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_repeat_contact_fires_on_third_contact_within_window),
    cmocka_unit_test(test_long_wait_sums_waits_past_32_bits_exactly),
    cmocka_unit_test(test_plain_contacts_allocate_no_detector_blocks),
    cmocka_unit_test(test_replayed_events_after_restore_are_not_applied_twice),
    cmocka_unit_test(test_restored_progress_keeps_the_watermark),
    cmocka_unit_test(test_repeat_contact_excludes_contact_exactly_24h_before),
    cmocka_unit_test(test_repeat_contact_ignores_unassisted_channels),
    cmocka_unit_test(test_cooldown_quiet_until_exactly_24h_after_alert),
    cmocka_unit_test(test_cooldown_is_per_customer_and_rule),
    cmocka_unit_test(test_long_wait_single_wait_threshold_is_inclusive),
    cmocka_unit_test(test_long_wait_total_of_30_minutes_within_window),
    cmocka_unit_test(test_abandonment_needs_two_abandoned_within_window),
    cmocka_unit_test(test_late_event_is_refused_and_changes_nothing),
    cmocka_unit_test(test_out_of_order_within_lateness_counts_in_window),
    cmocka_unit_test(test_alert_id_is_deterministic_and_distinct),
    cmocka_unit_test(test_alert_id_values_are_stable_for_short_and_long_ids),
    cmocka_unit_test(test_idle_customers_are_evicted_without_changing_output),
    cmocka_unit_test(test_changes_list_each_changed_customer_once_and_evicted_keys_first),
    cmocka_unit_test(test_max_customers_evicts_active_customers_counts_them_and_changes_output),
    cmocka_unit_test(test_max_customers_evicted_keys_get_tombstones_and_idle_count_apart),
    cmocka_unit_test(test_reconfigure_keeps_max_customers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
