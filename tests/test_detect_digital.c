/* digital_friction and engagement_drop through the processor: sessions,
 * failures, rage clicks at the rage window's edge; daily buckets, the
 * baseline minimum, the ratio at max_ratio, silence seen by timer alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../operators/detect_case.h"
#include "../operators/processor.h"
#include "test_helpers.h"

#define DAY_MS (24 * H_MS)
#define LATENESS_MS (60 * 1000LL)
#define END_OF_DAY(day) (((day) + 1) * DAY_MS - 1)

typedef struct captured_s {
  int count;
  char rules[16][32];
  char customers[16][16];
  char triggers[16][64];
  int64_t event_time[16];
  int64_t window_start[16];
  size_t evidence_count[16];
  char evidence[16][64];
  char reason_codes[16][32];
  int64_t reason_values[16][2];
} captured_t;

static void capture(const cx_alert_t *alert, void *opaque) {
  captured_t *c = opaque;
  assert_true(c->count < 16);
  int i = c->count++;
  snprintf(c->rules[i], 32, "%s", alert->rule);
  snprintf(c->customers[i], 16, "%.*s", (int)alert->customer_id.len, alert->customer_id.ptr);
  snprintf(c->triggers[i], 64, "%.*s", (int)alert->trigger_event_id.len,
           alert->trigger_event_id.ptr);
  c->event_time[i] = alert->event_time_ms;
  c->window_start[i] = alert->window_start_ms;
  c->evidence_count[i] = alert->evidence_count;
  if (alert->evidence_count)
    snprintf(c->evidence[i], 64, "%.*s", (int)alert->evidence[0].len, alert->evidence[0].ptr);
  if (alert->reason_count)
    snprintf(c->reason_codes[i], 32, "%s", alert->reasons[0].code);
  for (size_t r = 0; r < alert->reason_count && r < 2; r++)
    c->reason_values[i][r] = alert->reasons[r].value;
}

/* Only the rule enabled; cooldown_ms < 0 keeps the default. */
static cx_processor_t *start(cx_rule_t rule, int64_t cooldown_ms) {
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  for (int r = 0; r < CX_RULE__COUNT; r++)
    config.rules.common[r].enabled = r == (int)rule;
  if (cooldown_ms >= 0)
    config.rules.common[rule].cooldown_ms = cooldown_ms;
  return cx_processor_new(&config);
}

static void feed(cx_processor_t *p, const cx_event_t *event, captured_t *c) {
  cx_outputs_t outputs = {capture, NULL, c};
  assert_int_equal(cx_processor_process(p, event, &outputs), CX_PROCESS_OK);
}

/* A digital event; session and element NULL = no such attribute. */
static void digital(cx_processor_t *p, const char *customer, const char *event_id,
                    cx_channel_t channel, cx_event_type_t type, int64_t at_ms,
                    const char *session, const char *element, captured_t *c) {
  cx_event_t event;
  cx_event_clear(&event);
  event.customer_id = cx_str(customer);
  event.event_id = cx_str(event_id);
  event.occurred_at_ms = at_ms;
  event.channel = channel;
  event.type = type;
  event.attribute_keys[event.attribute_count] = cx_str("seq");
  event.attribute_values[event.attribute_count++] = cx_str("1");
  if (session) {
    event.attribute_keys[event.attribute_count] = cx_str("session");
    event.attribute_values[event.attribute_count++] = cx_str(session);
  }
  if (element) {
    event.attribute_keys[event.attribute_count] = cx_str("element");
    event.attribute_values[event.attribute_count++] = cx_str(element);
  }
  feed(p, &event, c);
}

static void error_in(cx_processor_t *p, const char *id, int64_t at_ms, const char *session,
                     captured_t *c) {
  digital(p, "A", id, CX_CHANNEL_APP, CX_EVENT_ERROR, at_ms, session, NULL, c);
}

static void click_on(cx_processor_t *p, const char *id, int64_t at_ms, const char *element,
                     captured_t *c) {
  digital(p, "A", id, CX_CHANNEL_WEB, CX_EVENT_CLICK, at_ms, "s1", element, c);
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

static void test_digital_friction_fires_on_third_failure_in_session(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_DIGITAL_FRICTION, 0);
  error_in(p, "e1", 5000, "s1", &c);
  digital(p, "A", "e2", CX_CHANNEL_WEB, CX_EVENT_LOGIN_FAILED, 6000, "s1", "login", &c);
  assert_int_equal(c.count, 0);
  error_in(p, "e3", 7000, "s1", &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.rules[0], "digital_friction");
  assert_string_equal(c.triggers[0], "e3");
  assert_string_equal(c.reason_codes[0], "failures");
  assert_int_equal(c.reason_values[0][0], 3);
  assert_int_equal(c.window_start[0], 4999); /* the session from its first event */
  assert_string_equal(c.evidence[0], "e3");
  error_in(p, "e4", 8000, "s1", &c);
  assert_int_equal(c.count, 1); /* once per session, although no cooldown holds it back */
  cx_processor_destroy(p);
}

static void test_digital_friction_failures_in_two_sessions_do_not_add_up(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_DIGITAL_FRICTION, 0);
  error_in(p, "e1", 0, "s1", &c);
  error_in(p, "e2", 1000, "s1", &c);
  error_in(p, "e3", 2000, "s2", &c);
  error_in(p, "e4", 3000, "s2", &c);
  assert_int_equal(c.count, 0);
  error_in(p, "e5", 4000, "s2", &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "e5");
  assert_int_equal(c.window_start[0], 1999);
  cx_processor_destroy(p);
}

/* Regression: bench/quality missed an app_errors story whose session ran
 * alongside an ordinary session of the same customer. */
static void test_digital_friction_interleaved_sessions_keep_their_own_counts(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_DIGITAL_FRICTION, 0);
  digital(p, "A", "l1", CX_CHANNEL_APP, CX_EVENT_LOGIN_FAILED, 0, "story", "login", &c);
  digital(p, "A", "o1", CX_CHANNEL_APP, CX_EVENT_CLICK, 100, "ordinary", "pay", &c);
  digital(p, "A", "l2", CX_CHANNEL_APP, CX_EVENT_LOGIN_FAILED, 200, "story", "login", &c);
  digital(p, "A", "r1", CX_CHANNEL_APP, CX_EVENT_CLICK, 300, "story", "plan", &c);
  digital(p, "A", "o2", CX_CHANNEL_APP, CX_EVENT_CLICK, 400, "ordinary", "home", &c);
  digital(p, "A", "r2", CX_CHANNEL_APP, CX_EVENT_CLICK, 500, "story", "plan", &c);
  assert_int_equal(c.count, 0);
  digital(p, "A", "e1", CX_CHANNEL_APP, CX_EVENT_ERROR, 600, "story", NULL, &c);
  digital(p, "A", "r3", CX_CHANNEL_APP, CX_EVENT_CLICK, 700, "story", "plan", &c);
  assert_int_equal(c.count, 2);
  assert_string_equal(c.triggers[0], "e1");
  assert_string_equal(c.reason_codes[0], "failures");
  assert_string_equal(c.triggers[1], "r3"); /* the ordinary session's click did not break the run */
  assert_string_equal(c.reason_codes[1], "rage_clicks");
  cx_processor_destroy(p);
}

static void test_digital_friction_third_session_replaces_least_recently_active(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_DIGITAL_FRICTION, 0);
  error_in(p, "a1", 0, "s1", &c);
  error_in(p, "a2", 1000, "s1", &c);
  error_in(p, "b1", 2000, "s2", &c);
  error_in(p, "c1", 3000, "s3", &c); /* s1 is forgotten */
  error_in(p, "a3", 4000, "s1", &c); /* s1 again, from zero; s2 is forgotten */
  assert_int_equal(c.count, 0);
  error_in(p, "c2", 5000, "s3", &c);
  error_in(p, "c3", 6000, "s3", &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "c3");
  cx_processor_destroy(p);
}

static void test_digital_friction_sessionless_events_split_at_session_gap(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_DIGITAL_FRICTION, 0);
  error_in(p, "e1", 0, NULL, &c);
  error_in(p, "e2", 30 * MIN_MS - 1, NULL, &c);     /* 1 ms under the gap: same session */
  error_in(p, "e3", 60 * MIN_MS - 1, NULL, &c);     /* exactly the gap: a new session */
  assert_int_equal(c.count, 0);
  error_in(p, "e4", 89 * MIN_MS, NULL, &c);
  error_in(p, "e5", 90 * MIN_MS, NULL, &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "e5");
  assert_int_equal(c.window_start[0], 60 * MIN_MS - 2);
  cx_processor_destroy(p);
}

static void test_digital_friction_rage_clicks_exactly_rage_window_apart_do_not_fire(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_DIGITAL_FRICTION, 0);
  click_on(p, "c1", 0, "pay", &c);
  click_on(p, "c2", 500, "pay", &c);
  click_on(p, "c3", 1000, "pay", &c); /* c1 is exactly 1 s before: outside */
  assert_int_equal(c.count, 0);
  click_on(p, "c4", 1001, "pay", &c); /* c2, c3, c4 within 501 ms */
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "c4");
  assert_string_equal(c.reason_codes[0], "rage_clicks");
  assert_int_equal(c.reason_values[0][0], 3);
  assert_int_equal(c.window_start[0], 1);
  cx_processor_destroy(p);
}

static void test_digital_friction_rage_clicks_one_ms_inside_rage_window_fire(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_DIGITAL_FRICTION, 0);
  click_on(p, "c1", 0, "pay", &c);
  click_on(p, "c2", 500, "pay", &c);
  click_on(p, "c3", 999, "pay", &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "c3");
  click_on(p, "c4", 1100, "pay", &c);
  assert_int_equal(c.count, 1); /* once per session */
  cx_processor_destroy(p);
}

static void test_digital_friction_rage_clicks_need_one_element_in_a_row(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_DIGITAL_FRICTION, 0);
  click_on(p, "c1", 0, "pay", &c);
  click_on(p, "c2", 100, "pay", &c);
  click_on(p, "c3", 200, "home", &c);
  click_on(p, "c4", 300, "pay", &c);   /* three on pay, not in a row */
  click_on(p, "c5", 400, NULL, &c);    /* no element: breaks the run */
  click_on(p, "c6", 500, "pay", &c);
  click_on(p, "c7", 600, "pay", &c);
  error_in(p, "e1", 650, "s1", &c);    /* not a click: the run goes on */
  assert_int_equal(c.count, 0);
  click_on(p, "c8", 700, "pay", &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "c8");
  cx_processor_destroy(p);
}

static void test_digital_friction_rage_clicks_out_of_order_use_event_times(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_DIGITAL_FRICTION, 0);
  click_on(p, "c1", 10000, "pay", &c);
  click_on(p, "c2", 9000, "pay", &c);  /* late but within the lateness */
  click_on(p, "c3", 9500, "pay", &c);  /* the three span exactly 1 s */
  assert_int_equal(c.count, 0);
  digital(p, "A", "d1", CX_CHANNEL_APP, CX_EVENT_CLICK, 20900, "s2", "plan", &c);
  digital(p, "A", "d2", CX_CHANNEL_APP, CX_EVENT_CLICK, 20000, "s2", "plan", &c);
  digital(p, "A", "d3", CX_CHANNEL_APP, CX_EVENT_CLICK, 20400, "s2", "plan", &c);
  assert_int_equal(c.count, 1); /* these span 900 ms */
  assert_string_equal(c.triggers[0], "d3");
  cx_processor_destroy(p);
}

static void test_digital_friction_fires_once_per_session_and_kind(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_DIGITAL_FRICTION, 0);
  for (int round = 0; round < 2; round++) {
    const char *session = round ? "s2" : "s1";
    int64_t base = round * 10000;
    char id[32];
    for (int k = 0; k < 4; k++) {
      snprintf(id, sizeof(id), "c%d-%d", round, k);
      digital(p, "A", id, CX_CHANNEL_WEB, CX_EVENT_CLICK, base + k * 100, session, "pay", &c);
      snprintf(id, sizeof(id), "e%d-%d", round, k);
      digital(p, "A", id, CX_CHANNEL_WEB, CX_EVENT_ERROR, base + k * 100 + 50, session, NULL, &c);
    }
  }
  assert_int_equal(c.count, 4);
  assert_string_equal(c.triggers[0], "c0-2");
  assert_string_equal(c.triggers[1], "e0-2");
  assert_string_equal(c.triggers[2], "c1-2");
  assert_string_equal(c.triggers[3], "e1-2");
  cx_processor_destroy(p);
}

static void test_digital_friction_ordinary_browsing_does_not_fire(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_DIGITAL_FRICTION, 0);
  const char *elements[] = {"home", "billing", "plan", "usage", "plan", "support", "pay"};
  char id[32], session[32];
  int64_t t = 0;
  for (int visit = 0; visit < 5; visit++) {
    snprintf(session, sizeof(session), "v%d", visit);
    snprintf(id, sizeof(id), "l%d", visit);
    digital(p, "A", id, CX_CHANNEL_APP, CX_EVENT_LOGIN_FAILED, t, session, "login", &c);
    for (int k = 0; k < 7; k++) {
      t += 2000 + k * 700; /* the same element twice, seconds apart */
      snprintf(id, sizeof(id), "c%d-%d", visit, k);
      digital(p, "A", id, CX_CHANNEL_APP, CX_EVENT_CLICK, t, session, elements[k], &c);
      digital(p, "A", id, CX_CHANNEL_APP, CX_EVENT_CLICK, t + 1500, session, elements[k], &c);
    }
    snprintf(id, sizeof(id), "e%d", visit);
    digital(p, "A", id, CX_CHANNEL_APP, CX_EVENT_ERROR, t + 100, session, NULL, &c);
    /* Failures off the app and web count for nothing here. */
    digital(p, "A", id, CX_CHANNEL_IVR, CX_EVENT_ERROR, t + 200, session, NULL, &c);
    digital(p, "A", id, CX_CHANNEL_PHONE, CX_EVENT_LOGIN_FAILED, t + 300, session, NULL, &c);
    t += 3 * H_MS;
  }
  assert_int_equal(c.count, 0);
  cx_processor_destroy(p);
}

/* per_day digital events on each day first..last (from noon for customer A,
 * 18:00 for the others, a minute apart), days equal to skip left out; ids
 * "<customer><day>-<k>". */
static void daily(cx_processor_t *p, const char *customer, int64_t first, int64_t last,
                  int per_day, int64_t skip, cx_channel_t channel, captured_t *c) {
  int64_t hour_ms = strcmp(customer, "A") ? 18 * H_MS : 12 * H_MS;
  char id[32];
  for (int64_t day = first; day <= last; day++) {
    if (day == skip)
      continue;
    for (int k = 0; k < per_day; k++) {
      snprintf(id, sizeof(id), "%s%d-%d", customer, (int)day, k);
      digital(p, customer, id, channel, CX_EVENT_CLICK, day * DAY_MS + hour_ms + k * MIN_MS,
              NULL, "home", c);
    }
  }
}

static void test_engagement_drop_detects_silence_by_timer_without_events_of_that_customer(
    void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_ENGAGEMENT_DROP, -1);
  daily(p, "A", 0, 27, 1, -1, CX_CHANNEL_WEB, &c); /* baseline 1.0/day, then nothing */
  tick(p, END_OF_DAY(34) + LATENESS_MS, &c);
  assert_int_equal(c.count, 0); /* checks of days 27..33 ran: the history did not cover the baseline */
  tick(p, END_OF_DAY(34) + LATENESS_MS + 1, &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.rules[0], "engagement_drop");
  assert_string_equal(c.customers[0], "A");
  assert_string_equal(c.triggers[0], "A27-0"); /* the last digital event */
  assert_int_equal(c.event_time[0], END_OF_DAY(34));
  assert_int_equal(c.window_start[0], -1); /* days 0..34 */
  assert_string_equal(c.reason_codes[0], "recent_per_day_x1000");
  assert_int_equal(c.reason_values[0][0], 0);
  assert_int_equal(c.reason_values[0][1], 1000);
  assert_string_equal(c.evidence[0], "A27-0");
  tick(p, 80 * DAY_MS, &c);
  assert_int_equal(c.count, 1);
  cx_processor_destroy(p);
}

/* The last digital event's id lives in a tail of engagement_drop's block
 * sized to it (96, 112 or 128 bytes): ids growing from 2 to 40 bytes move
 * the block, a late event's longer id is not kept (it is not the last), an
 * id past 40 bytes is kept in cx_case_keep_id's form, and each timer alert
 * names its customer's last digital event. */
static void test_engagement_drop_timer_alert_names_the_last_id_as_its_length_grows(
    void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_ENGAGEMENT_DROP, -1);
  char id[48], last_a[48] = "";
  const char *long_b = "B-the-last-digital-event-of-b-has-an-id-of-56-bytes-xyz";
  for (int day = 0; day <= 27; day++) {
    int len = 2 + day * 38 / 27; /* 2 .. 40 bytes */
    memset(id, 'a' + day % 26, (size_t)len);
    id[0] = 'A';
    id[len] = '\0';
    digital(p, "A", id, CX_CHANNEL_WEB, CX_EVENT_CLICK, day * DAY_MS + 12 * H_MS, NULL, "home",
            &c);
    if (day == 27) {
      memcpy(last_a, id, (size_t)len + 1);
      digital(p, "A", "A-late-event-whose-id-is-longer-than-forty-bytes", CX_CHANNEL_WEB,
              CX_EVENT_CLICK, day * DAY_MS + 12 * H_MS - 1, NULL, "home", &c);
    }
    digital(p, "B", day == 27 ? long_b : "B1", CX_CHANNEL_APP, CX_EVENT_CLICK,
            day * DAY_MS + 12 * H_MS, NULL, "home", &c);
  }
  tick(p, 80 * DAY_MS, &c);
  assert_int_equal(c.count, 2);
  assert_string_equal(c.customers[0], "A");
  assert_int_equal(strlen(last_a), 40);
  assert_string_equal(c.triggers[0], last_a);
  assert_string_equal(c.evidence[0], last_a);
  cx_case_kept_id_t kept;
  cx_case_keep_id(&kept, cx_str(long_b));
  assert_string_equal(c.customers[1], "B");
  assert_int_equal(strlen(c.triggers[1]), CX_CASE_ID_INLINE);
  assert_memory_equal(c.triggers[1], kept.bytes, CX_CASE_ID_INLINE);
  cx_processor_destroy(p);
}

static void test_engagement_drop_baseline_just_below_min_does_not_fire(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_ENGAGEMENT_DROP, -1);
  daily(p, "A", 0, 27, 1, 5, CX_CHANNEL_WEB, &c); /* 27 in 28 days: 0.964/day */
  tick(p, 80 * DAY_MS, &c);
  assert_int_equal(c.count, 0);
  cx_processor_destroy(p);
}

static void test_engagement_drop_fires_when_recent_rate_is_exactly_max_ratio(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_ENGAGEMENT_DROP, -1);
  /* A: 4/day for 28 days, then 1/day: 1.0 = 0.25 * 4.0 on day 34. B: one
   * more in its recent days: 8/7 > 1.0. */
  for (int64_t day = 0; day <= 34; day++) {
    daily(p, "A", day, day, day < 28 ? 4 : 1, -1, CX_CHANNEL_APP, &c);
    daily(p, "B", day, day, day < 28 ? 4 : day == 28 ? 2 : 1, -1, CX_CHANNEL_APP, &c);
  }
  assert_int_equal(c.count, 1);
  assert_string_equal(c.customers[0], "A");
  assert_string_equal(c.triggers[0], "A34-0"); /* on the event: the first check covering the baseline */
  assert_int_equal(c.event_time[0], 34 * DAY_MS + 12 * H_MS);
  assert_int_equal(c.reason_values[0][0], 1000);
  assert_int_equal(c.reason_values[0][1], 4000);
  cx_processor_destroy(p);
}

static void test_engagement_drop_fires_once_per_last_digital_event(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_ENGAGEMENT_DROP, -1);
  daily(p, "A", 0, 27, 4, -1, CX_CHANNEL_APP, &c);
  daily(p, "A", 28, 34, 1, -1, CX_CHANNEL_APP, &c);
  assert_int_equal(c.count, 1);
  /* Silence after A34-0: the check of day 41 is past the 7-day cooldown but
   * would repeat trigger A34-0, so the same alert id. */
  tick(p, 80 * DAY_MS, &c);
  assert_int_equal(c.count, 1);
  cx_processor_destroy(p);
}

static void test_engagement_drop_waits_until_history_covers_baseline(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_ENGAGEMENT_DROP, -1);
  daily(p, "A", 1, 27, 10, -1, CX_CHANNEL_WEB, &c); /* first day 1: covered from day 35 on */
  tick(p, END_OF_DAY(35) + LATENESS_MS, &c);
  assert_int_equal(c.count, 0);
  tick(p, END_OF_DAY(35) + LATENESS_MS + 1, &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "A27-9");
  assert_int_equal(c.event_time[0], END_OF_DAY(35));
  assert_int_equal(c.reason_values[0][1], 270 * 1000 / 28);
  cx_processor_destroy(p);
}

static void test_engagement_drop_event_after_midnight_moves_silence_checks_to_its_day(
    void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_ENGAGEMENT_DROP, -1);
  daily(p, "A", 0, 27, 1, -1, CX_CHANNEL_WEB, &c);
  /* Arrives while the check of day 27 is still pending (not yet due). */
  digital(p, "A", "late-night", CX_CHANNEL_WEB, CX_EVENT_CLICK, 28 * DAY_MS + 30 * 1000, NULL,
          "home", &c);
  tick(p, 80 * DAY_MS, &c);
  assert_int_equal(c.count, 1);
  assert_string_equal(c.triggers[0], "late-night");
  assert_int_equal(c.event_time[0], END_OF_DAY(34)); /* recent 1/7 against 28 in 28 days */
  cx_processor_destroy(p);
}

static void test_engagement_drop_counts_only_app_and_web(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_ENGAGEMENT_DROP, -1);
  daily(p, "A", 0, 27, 1, -1, CX_CHANNEL_APP, &c);
  daily(p, "A", 28, 40, 3, -1, CX_CHANNEL_PHONE, &c); /* assisted contacts are not digital activity */
  assert_int_equal(c.count, 1); /* due on day 35, seen through A's own phone events */
  assert_string_equal(c.triggers[0], "A27-0");
  assert_int_equal(c.event_time[0], END_OF_DAY(34));
  cx_processor_destroy(p);
}

static void test_engagement_drop_steady_activity_does_not_fire(void **unused) {
  (void)unused;
  captured_t c = {0};
  cx_processor_t *p = start(CX_RULE_ENGAGEMENT_DROP, -1);
  for (int64_t day = 0; day < 90; day++) {
    /* 1 to 3 a day, a quiet weekend day now and then, some days on the web. */
    if (day % 7 != 6)
      daily(p, "A", day, day, (int)(day % 3) + 1, -1, day % 2 ? CX_CHANNEL_APP : CX_CHANNEL_WEB,
            &c);
    if (day % 3 == 0)
      daily(p, "B", day, day, 2, -1, CX_CHANNEL_APP, &c);
  }
  tick(p, 90 * DAY_MS + 12 * H_MS, &c);
  assert_int_equal(c.count, 0);
  assert_true(cx_processor_stats(p)->timers_fired > 0);
  cx_processor_destroy(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_digital_friction_fires_on_third_failure_in_session),
    cmocka_unit_test(test_digital_friction_failures_in_two_sessions_do_not_add_up),
    cmocka_unit_test(test_digital_friction_interleaved_sessions_keep_their_own_counts),
    cmocka_unit_test(test_digital_friction_third_session_replaces_least_recently_active),
    cmocka_unit_test(test_digital_friction_sessionless_events_split_at_session_gap),
    cmocka_unit_test(test_digital_friction_rage_clicks_exactly_rage_window_apart_do_not_fire),
    cmocka_unit_test(test_digital_friction_rage_clicks_one_ms_inside_rage_window_fire),
    cmocka_unit_test(test_digital_friction_rage_clicks_need_one_element_in_a_row),
    cmocka_unit_test(test_digital_friction_rage_clicks_out_of_order_use_event_times),
    cmocka_unit_test(test_digital_friction_fires_once_per_session_and_kind),
    cmocka_unit_test(test_digital_friction_ordinary_browsing_does_not_fire),
    cmocka_unit_test(test_engagement_drop_detects_silence_by_timer_without_events_of_that_customer),
    cmocka_unit_test(test_engagement_drop_timer_alert_names_the_last_id_as_its_length_grows),
    cmocka_unit_test(test_engagement_drop_baseline_just_below_min_does_not_fire),
    cmocka_unit_test(test_engagement_drop_fires_when_recent_rate_is_exactly_max_ratio),
    cmocka_unit_test(test_engagement_drop_fires_once_per_last_digital_event),
    cmocka_unit_test(test_engagement_drop_waits_until_history_covers_baseline),
    cmocka_unit_test(test_engagement_drop_event_after_midnight_moves_silence_checks_to_its_day),
    cmocka_unit_test(test_engagement_drop_counts_only_app_and_web),
    cmocka_unit_test(test_engagement_drop_steady_activity_does_not_fire),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
