/* unresolved_case through the processor: the SLA deadline at its edges,
 * lazy timers (closed, re-timed, reused slots and records), reopen, the
 * fifth open case, contradictory input, long event ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../operators/processor.h"
#include "test_helpers.h"

#define DAY_MS (24 * H_MS)
#define SLA_MS (72 * H_MS)
#define LATENESS_MS (60 * 1000LL)

typedef struct captured_s {
  int count;
  char triggers[16][64];
  int64_t event_time[16];
  int64_t window_start[16];
  int64_t window_end[16];
  size_t evidence_count[16];
  char evidence[16][2][64];
  size_t reason_count[16];
  char reason_codes[16][4][32];
  int64_t reason_values[16][4];
} captured_t;

static void capture(const cx_alert_t *alert, void *opaque) {
  captured_t *c = opaque;
  assert_true(c->count < 16);
  assert_string_equal(alert->rule, "unresolved_case");
  int i = c->count++;
  snprintf(c->triggers[i], 64, "%.*s", (int)alert->trigger_event_id.len,
           alert->trigger_event_id.ptr);
  c->event_time[i] = alert->event_time_ms;
  c->window_start[i] = alert->window_start_ms;
  c->window_end[i] = alert->window_end_ms;
  c->evidence_count[i] = alert->evidence_count;
  for (size_t e = 0; e < alert->evidence_count && e < 2; e++)
    snprintf(c->evidence[i][e], 64, "%.*s", (int)alert->evidence[e].len, alert->evidence[e].ptr);
  c->reason_count[i] = alert->reason_count;
  for (size_t r = 0; r < alert->reason_count; r++) {
    snprintf(c->reason_codes[i][r], 32, "%s", alert->reasons[r].code);
    c->reason_values[i][r] = alert->reasons[r].value;
  }
}

/* Only unresolved_case enabled; cooldown_ms < 0 keeps the default. */
static cx_processor_config_t config_with(int64_t cooldown_ms, int64_t sla_ms) {
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  for (int r = 0; r < CX_RULE__COUNT; r++)
    config.rules.common[r].enabled = r == CX_RULE_UNRESOLVED_CASE;
  if (cooldown_ms >= 0)
    config.rules.common[CX_RULE_UNRESOLVED_CASE].cooldown_ms = cooldown_ms;
  config.rules.unresolved_case.sla_ms = sla_ms;
  return config;
}

static cx_processor_t *start(int64_t cooldown_ms) {
  cx_processor_config_t config = config_with(cooldown_ms, SLA_MS);
  return cx_processor_new(&config);
}

static void feed(cx_processor_t *p, const cx_event_t *event, captured_t *c) {
  cx_outputs_t outputs = {capture, NULL, c};
  assert_int_equal(cx_processor_process(p, event, &outputs), CX_PROCESS_OK);
}

static void case_event(cx_processor_t *p, const char *customer, const char *event_id,
                       cx_event_type_t type, const char *case_id, int64_t at_ms, captured_t *c) {
  cx_event_t event;
  cx_event_clear(&event);
  event.customer_id = cx_str(customer);
  event.event_id = cx_str(event_id);
  event.occurred_at_ms = at_ms;
  event.channel = CX_CHANNEL_PHONE;
  event.type = type;
  event.case_id = cx_str(case_id);
  feed(p, &event, c);
}

/* An event of another customer that moves the watermark to at_ms - lateness. */
static void tick(cx_processor_t *p, int64_t at_ms, captured_t *c) {
  static int serial;
  char id[32];
  snprintf(id, sizeof(id), "tick%d", ++serial);
  cx_event_t event;
  cx_event_clear(&event);
  event.customer_id = cx_str("X");
  event.event_id = cx_str(id);
  event.occurred_at_ms = at_ms;
  event.channel = CX_CHANNEL_OTHER;
  event.type = CX_EVENT_OTHER;
  feed(p, &event, c);
}

static void test_unresolved_case_fires_only_when_watermark_passes_deadline(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(-1);
  case_event(p, "A", "o1", CX_EVENT_CASE_OPENED, "K1", 0, &c);
  tick(p, SLA_MS + LATENESS_MS, &c);
  assert_int_equal(c.count, 0); /* watermark == deadline: not past it */
  tick(p, SLA_MS + LATENESS_MS + 1, &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "o1");
  assert_int_equal(c.event_time[0], SLA_MS);
  assert_int_equal(c.window_start[0], 0); /* (opened, deadline] */
  assert_int_equal(c.window_end[0], SLA_MS);
  assert_int_equal(c.evidence_count[0], 1);
  assert_string_equal(c.evidence[0][0], "o1");
  assert_string_equal(c.reason_codes[0][0], "open_ms");
  assert_int_equal(c.reason_values[0][0], SLA_MS);
  tick(p, 30 * DAY_MS, &c);
  assert_int_equal(c.count, 1); /* fires once */
  cx_processor_destroy(p);
}

static void test_unresolved_case_resolved_one_ms_before_deadline_does_not_fire(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(-1);
  case_event(p, "A", "o1", CX_EVENT_CASE_OPENED, "K1", 0, &c);
  case_event(p, "A", "s1", CX_EVENT_CASE_RESOLVED, "K1", SLA_MS - 1, &c);
  tick(p, 30 * DAY_MS, &c);
  assert_int_equal(c.count, 0);
  cx_processor_destroy(p);
}

static void test_unresolved_case_resolved_at_deadline_is_too_late(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(-1);
  case_event(p, "A", "o1", CX_EVENT_CASE_OPENED, "K1", 0, &c);
  /* Arrives before the timer is due (watermark = deadline - lateness). */
  case_event(p, "A", "s1", CX_EVENT_CASE_RESOLVED, "K1", SLA_MS, &c);
  assert_int_equal(c.count, 0);
  tick(p, SLA_MS + LATENESS_MS + 1, &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "o1");
  assert_int_equal(c.event_time[0], SLA_MS);
  cx_processor_destroy(p);
}

static void test_unresolved_case_reopen_fires_at_once_and_restarts_sla(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(-1);
  case_event(p, "A", "o1", CX_EVENT_CASE_OPENED, "K1", 0, &c);
  case_event(p, "A", "s1", CX_EVENT_CASE_RESOLVED, "K1", H_MS, &c);
  case_event(p, "A", "r1", CX_EVENT_CASE_REOPENED, "K1", 10 * H_MS, &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "r1");
  assert_int_equal(c.event_time[0], 10 * H_MS);
  assert_int_equal(c.window_start[0], 0); /* since the case was opened */
  assert_string_equal(c.reason_codes[0][0], "reopened");
  assert_int_equal(c.reason_values[0][0], 1);
  assert_int_equal(c.evidence_count[0], 2);
  assert_string_equal(c.evidence[0][0], "o1");
  assert_string_equal(c.evidence[0][1], "r1");
  tick(p, 10 * H_MS + SLA_MS + LATENESS_MS, &c);
  assert_int_equal(c.count, 1); /* the first SLA was met; the new one not yet due */
  tick(p, 10 * H_MS + SLA_MS + LATENESS_MS + 1, &c);
  assert_int_equal(c.count, 2);
  assert_string_equal(c.triggers[1], "o1"); /* the case's CASE_OPENED */
  assert_int_equal(c.event_time[1], 10 * H_MS + SLA_MS);
  assert_int_equal(c.window_start[1], 10 * H_MS);
  assert_string_equal(c.reason_codes[1][0], "open_ms");
  assert_string_equal(c.reason_codes[1][1], "reopened");
  cx_processor_destroy(p);
}

static void test_unresolved_case_reopen_of_open_case_makes_first_timer_stale(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(-1);
  case_event(p, "A", "o1", CX_EVENT_CASE_OPENED, "K1", 0, &c);
  case_event(p, "A", "r1", CX_EVENT_CASE_REOPENED, "K1", 10 * H_MS, &c);
  assert_int_equal(c.count, 1);
  tick(p, SLA_MS + 2 * LATENESS_MS, &c);
  assert_int_equal(c.count, 1); /* the timer of the first SLA comes due and stays quiet */
  tick(p, 10 * H_MS + SLA_MS + LATENESS_MS + 1, &c);
  assert_int_equal(c.count, 2);
  assert_string_equal(c.triggers[1], "o1");
  assert_int_equal(c.event_time[1], 10 * H_MS + SLA_MS);
  cx_processor_destroy(p);
}

static void test_unresolved_case_reopen_of_unknown_case_fires_and_tracks_it(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(0);
  case_event(p, "A", "r1", CX_EVENT_CASE_REOPENED, "K9", 0, &c);
  case_event(p, "A", "r2", CX_EVENT_CASE_REOPENED, NULL, 1, &c); /* no case: no timer */
  assert_int_equal(c.count, 2);
  assert_string_equal(c.triggers[0], "r1");
  assert_int_equal(c.evidence_count[0], 1);
  assert_int_equal(c.window_start[0], -1); /* the trigger alone */
  assert_string_equal(c.triggers[1], "r2");
  tick(p, 30 * DAY_MS, &c);
  assert_int_equal(c.count, 3);
  assert_string_equal(c.triggers[2], "r1"); /* the CASE_OPENED is unknown */
  assert_int_equal(c.event_time[2], SLA_MS);
  cx_processor_destroy(p);
}

static void test_unresolved_case_fifth_open_case_is_not_tracked(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(0);
  const char *cases[] = {"K1", "K2", "K3", "K4", "K5"};
  const char *ids[] = {"o1", "o2", "o3", "o4", "o5"};
  for (int i = 0; i < 5; i++)
    case_event(p, "A", ids[i], CX_EVENT_CASE_OPENED, cases[i], i, &c);
  case_event(p, "A", "s5", CX_EVENT_CASE_RESOLVED, "K5", H_MS, &c); /* unknown: no slot left */
  tick(p, 30 * DAY_MS, &c);
  assert_int_equal(c.count, 4);
  for (int i = 0; i < 4; i++) {
    assert_string_equal(c.triggers[i], ids[i]);
    assert_int_equal(c.event_time[i], SLA_MS + i);
  }
  cx_processor_destroy(p);
}

static void test_unresolved_case_closed_case_gives_its_slot_to_a_new_case(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(0);
  case_event(p, "A", "o1", CX_EVENT_CASE_OPENED, "K1", 0, &c);
  case_event(p, "A", "o2", CX_EVENT_CASE_OPENED, "K2", 1, &c);
  case_event(p, "A", "o3", CX_EVENT_CASE_OPENED, "K3", 2, &c);
  case_event(p, "A", "o4", CX_EVENT_CASE_OPENED, "K4", 3, &c);
  case_event(p, "A", "s2", CX_EVENT_CASE_RESOLVED, "K2", H_MS, &c);
  case_event(p, "A", "o5", CX_EVENT_CASE_OPENED, "K5", 2 * H_MS, &c);
  tick(p, 30 * DAY_MS, &c);
  assert_int_equal(c.count, 4);
  assert_string_equal(c.triggers[0], "o1");
  assert_string_equal(c.triggers[1], "o3");
  assert_string_equal(c.triggers[2], "o4");
  assert_string_equal(c.triggers[3], "o5"); /* in the slot of K2, closed within its SLA */
  assert_int_equal(c.event_time[3], 2 * H_MS + SLA_MS);
  cx_processor_destroy(p);
}

static void test_unresolved_case_timer_does_not_fire_for_customer_reusing_record(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_config_t config = config_with(-1, 100 * DAY_MS);
  cx_processor_t *p = cx_processor_new(&config);
  case_event(p, "A", "oA", CX_EVENT_CASE_OPENED, "K1", 0, &c); /* timer at day 100 */
  config.rules.unresolved_case.sla_ms = DAY_MS; /* A's timer outlives A now */
  cx_processor_reconfigure(p, &config);
  for (int64_t day = 1; day <= 60; day++)
    tick(p, day * DAY_MS, &c);
  assert_int_equal(cx_processor_stats(p)->evicted_customers, 1); /* A, idle for 35 days */
  /* B takes A's record, its case the same slot and generation A's timer names. */
  case_event(p, "B", "oB", CX_EVENT_CASE_OPENED, "K1", 99 * DAY_MS + 12 * H_MS, &c);
  tick(p, 100 * DAY_MS + 2 * LATENESS_MS, &c);
  assert_int_equal(c.count, 0); /* A's timer came due: the record's generation moved on */
  tick(p, 100 * DAY_MS + 12 * H_MS + LATENESS_MS + 1, &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "oB");
  assert_int_equal(c.event_time[0], 100 * DAY_MS + 12 * H_MS);
  cx_processor_destroy(p);
}

static void test_unresolved_case_resolution_arriving_before_its_open_closes_it(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(-1);
  case_event(p, "A", "s1", CX_EVENT_CASE_RESOLVED, "K1", 10 * 1000, &c);
  case_event(p, "A", "o1", CX_EVENT_CASE_OPENED, "K1", 0, &c); /* out of order, within lateness */
  tick(p, 30 * DAY_MS, &c);
  assert_int_equal(c.count, 0);
  cx_processor_destroy(p);
}

static void test_unresolved_case_resolution_dated_before_open_does_not_close_it(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(-1);
  case_event(p, "A", "o1", CX_EVENT_CASE_OPENED, "K1", 30 * 1000, &c);
  case_event(p, "A", "s0", CX_EVENT_CASE_RESOLVED, "K1", 0, &c); /* arrives later, dated earlier */
  tick(p, 30 * DAY_MS, &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "o1");
  assert_int_equal(c.event_time[0], 30 * 1000 + SLA_MS);
  cx_processor_destroy(p);
}

static void test_unresolved_case_resolution_of_unknown_case_does_not_close_later_open(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(-1);
  case_event(p, "A", "s0", CX_EVENT_CASE_RESOLVED, "K1", 0, &c); /* unknown case: nothing */
  case_event(p, "A", "o1", CX_EVENT_CASE_OPENED, "K1", H_MS, &c); /* a new life of the case */
  case_event(p, "A", "s2", CX_EVENT_CASE_RESOLVED, "K2", H_MS, &c);
  tick(p, 30 * DAY_MS, &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "o1");
  assert_int_equal(c.event_time[0], H_MS + SLA_MS);
  cx_processor_destroy(p);
}

static void test_unresolved_case_duplicate_open_keeps_first_sla(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(0);
  case_event(p, "A", "o1", CX_EVENT_CASE_OPENED, "K1", 0, &c);
  case_event(p, "A", "o1-again", CX_EVENT_CASE_OPENED, "K1", 10 * H_MS, &c);
  tick(p, 30 * DAY_MS, &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "o1");
  assert_int_equal(c.event_time[0], SLA_MS);
  cx_processor_destroy(p);
}

static void test_unresolved_case_open_after_resolution_starts_a_new_sla(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(0);
  case_event(p, "A", "o1", CX_EVENT_CASE_OPENED, "K1", 0, &c);
  case_event(p, "A", "s1", CX_EVENT_CASE_RESOLVED, "K1", H_MS, &c);
  case_event(p, "A", "o2", CX_EVENT_CASE_OPENED, "K1", 2 * H_MS, &c);
  tick(p, 30 * DAY_MS, &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "o2");
  assert_int_equal(c.event_time[0], 2 * H_MS + SLA_MS);
  cx_processor_destroy(p);
}

static void test_unresolved_case_keeps_long_event_ids_distinct(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(0);
  const char *long1 = "opened-event-with-a-very-long-identifier-000000000000000001";
  const char *long2 = "opened-event-with-a-very-long-identifier-000000000000000002";
  const char *forty = "an-id-of-exactly-forty-bytes-01234567890";
  assert_int_equal(strlen(forty), 40);
  case_event(p, "A", long1, CX_EVENT_CASE_OPENED, "K1", 0, &c);
  case_event(p, "A", long2, CX_EVENT_CASE_OPENED, "K2", 1, &c);
  case_event(p, "A", forty, CX_EVENT_CASE_OPENED, "K3", 2, &c);
  tick(p, 30 * DAY_MS, &c);
  assert_int_equal(c.count, 3);
  assert_int_equal(strlen(c.triggers[0]), 40);
  assert_memory_equal(c.triggers[0], long1, 23);
  assert_int_equal(c.triggers[0][23], '~');
  assert_string_not_equal(c.triggers[0], c.triggers[1]);
  assert_string_equal(c.triggers[2], forty); /* kept as it is */
  cx_processor_destroy(p);
}

static void test_unresolved_case_ordinary_cases_do_not_fire(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(-1);
  char opened[16], resolved[16], case_id[16];
  for (int i = 0; i < 20; i++) {
    snprintf(opened, sizeof(opened), "o%d", i);
    snprintf(resolved, sizeof(resolved), "s%d", i);
    snprintf(case_id, sizeof(case_id), "K%d", i);
    int64_t at = i * 12 * H_MS; /* resolved within 2 to 10 hours, in time order */
    case_event(p, "A", opened, CX_EVENT_CASE_OPENED, case_id, at, &c);
    case_event(p, "A", resolved, CX_EVENT_CASE_RESOLVED, case_id, at + (i % 5 + 1) * 2 * H_MS, &c);
  }
  case_event(p, "A", "no-case", CX_EVENT_CASE_OPENED, NULL, 240 * H_MS, &c);
  case_event(p, "A", "contact", CX_EVENT_CONTACT, "K99", 241 * H_MS, &c);
  tick(p, 60 * DAY_MS, &c);
  assert_int_equal(c.count, 0);
  assert_int_equal(cx_processor_stats(p)->timers_fired, 20); /* every SLA timer came due */
  cx_processor_destroy(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_unresolved_case_fires_only_when_watermark_passes_deadline),
    cmocka_unit_test(test_unresolved_case_resolved_one_ms_before_deadline_does_not_fire),
    cmocka_unit_test(test_unresolved_case_resolved_at_deadline_is_too_late),
    cmocka_unit_test(test_unresolved_case_reopen_fires_at_once_and_restarts_sla),
    cmocka_unit_test(test_unresolved_case_reopen_of_open_case_makes_first_timer_stale),
    cmocka_unit_test(test_unresolved_case_reopen_of_unknown_case_fires_and_tracks_it),
    cmocka_unit_test(test_unresolved_case_fifth_open_case_is_not_tracked),
    cmocka_unit_test(test_unresolved_case_closed_case_gives_its_slot_to_a_new_case),
    cmocka_unit_test(test_unresolved_case_timer_does_not_fire_for_customer_reusing_record),
    cmocka_unit_test(test_unresolved_case_resolution_arriving_before_its_open_closes_it),
    cmocka_unit_test(test_unresolved_case_resolution_dated_before_open_does_not_close_it),
    cmocka_unit_test(test_unresolved_case_resolution_of_unknown_case_does_not_close_later_open),
    cmocka_unit_test(test_unresolved_case_duplicate_open_keeps_first_sla),
    cmocka_unit_test(test_unresolved_case_open_after_resolution_starts_a_new_sla),
    cmocka_unit_test(test_unresolved_case_keeps_long_event_ids_distinct),
    cmocka_unit_test(test_unresolved_case_ordinary_cases_do_not_fire),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
