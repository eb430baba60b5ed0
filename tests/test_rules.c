/* The rule catalog's event signals (rules.h): cx_detect_input_init reads an
 * event's attributes as the detectors did each by itself, and every
 * detector, given an event outside its declared signals and channels,
 * returns false, sets no timer and leaves the customer's state unchanged,
 * so the processor may skip calling it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../operators/processor.h"
#include "../operators/state.h"
#include "../operators/state_codec.h"
#include "test_helpers.h"

#define T0 (1767225600000LL) /* 2026-01-01 */

static void add_attribute(cx_event_t *event, const char *key, const char *value) {
  size_t i = event->attribute_count++;
  if (i < CX_EVENT_MAX_ATTRIBUTES) {
    event->attribute_keys[i] = cx_str(key);
    event->attribute_values[i] = cx_str(value);
  }
}

static cx_event_t event_of(const char *id, int64_t at_ms, cx_event_type_t type,
                           cx_channel_t channel) {
  cx_event_t event = test_contact("C1", id, at_ms, channel, CX_OUTCOME_NONE, -1);
  event.type = type;
  return event;
}

static bool same_str(cx_str_t s, const char *expected) {
  if (!expected)
    return s.ptr == NULL;
  return s.ptr && s.len == strlen(expected) && !memcmp(s.ptr, expected, s.len);
}

static void test_input_init_reads_attributes(void **unused) {
  (void)unused;
  cx_event_t event = event_of("e1", T0, CX_EVENT_USAGE, CX_CHANNEL_WEB);
  cx_detect_input_t input;
  cx_detect_input_init(&input, &event, NULL, T0);
  assert_int_equal(input.signals, CX_SIGNAL_TYPE(CX_EVENT_USAGE));
  assert_int_equal(input.interaction_index, -1);
  assert_false(input.nomem);
  assert_true(same_str(input.session, NULL));
  assert_true(same_str(input.element, NULL));

  /* Empty values are absent; the first non-empty one counts. */
  add_attribute(&event, "session", "");
  add_attribute(&event, "session", "s1");
  add_attribute(&event, "session", "s2");
  add_attribute(&event, "element", "b1");
  add_attribute(&event, "promise", "kept");
  add_attribute(&event, "intent", "upgrade");
  add_attribute(&event, "competitor", "");
  add_attribute(&event, "dispute", "");
  add_attribute(&event, "Intent", "cancel"); /* keys are case-sensitive */
  cx_detect_input_init(&input, &event, NULL, T0);
  assert_int_equal(input.signals, CX_SIGNAL_TYPE(CX_EVENT_USAGE));
  assert_true(same_str(input.session, "s2") == false);
  assert_true(same_str(input.session, "s1"));
  assert_true(same_str(input.element, "b1"));

  add_attribute(&event, "promise", "callback_missed");
  add_attribute(&event, "intent", "port_out");
  add_attribute(&event, "competitor", "other");
  add_attribute(&event, "dispute", "yes");
  event.topic = cx_str("billing_dispute");
  event.outcome = CX_OUTCOME_ESCALATED;
  event.has_nps = true;
  event.nps = 9;
  cx_detect_input_init(&input, &event, NULL, T0);
  assert_int_equal(input.signals, CX_SIGNAL_TYPE(CX_EVENT_USAGE) | CX_SIGNAL_PROMISE |
                                      CX_SIGNAL_INTENT | CX_SIGNAL_COMPETITOR |
                                      CX_SIGNAL_DISPUTE | CX_SIGNAL_BILLING_DISPUTE |
                                      CX_SIGNAL_ESCALATED | CX_SIGNAL_VOICE);

  /* Attributes past the struct's array are not seen. */
  cx_event_t many = event_of("e2", T0, CX_EVENT_CLICK, CX_CHANNEL_APP);
  for (int i = 0; i < CX_EVENT_MAX_ATTRIBUTES; i++)
    add_attribute(&many, "k", "v");
  add_attribute(&many, "intent", "cancel");
  cx_detect_input_init(&input, &many, NULL, T0);
  assert_int_equal(input.signals, CX_SIGNAL_TYPE(CX_EVENT_CLICK));
}

static void ignore_alert(const cx_alert_t *alert, void *opaque) {
  (void)alert;
  (void)opaque;
}

/* Customer C1 with every detector's state in use. */
static void prime(cx_processor_t *p) {
  cx_outputs_t outputs = {ignore_alert, NULL, NULL};
  cx_event_t events[24];
  int n = 0;
  int64_t t = T0;
  for (int i = 0; i < 3; i++) {
    events[n] = test_contact("C1", i == 0 ? "p0" : i == 1 ? "p1" : "p2", t += MIN_MS,
                             CX_CHANNEL_PHONE, i ? CX_OUTCOME_ABANDONED : CX_OUTCOME_TRANSFERRED,
                             20 * MIN_MS);
    events[n].case_id = cx_str("case1");
    n++;
  }
  events[n] = event_of("s0", t += MIN_MS, CX_EVENT_SELF_SERVICE, CX_CHANNEL_APP);
  events[n++].outcome = CX_OUTCOME_FAILED;
  events[n] = event_of("x0", t += MIN_MS, CX_EVENT_TRANSFER, CX_CHANNEL_PHONE);
  events[n++].outcome = CX_OUTCOME_TRANSFERRED;
  events[n] = event_of("o1", t += MIN_MS, CX_EVENT_CASE_OPENED, CX_CHANNEL_PHONE);
  events[n++].case_id = cx_str("case1");
  events[n] = event_of("o2", t += MIN_MS, CX_EVENT_CASE_OPENED, CX_CHANNEL_PHONE);
  events[n++].case_id = cx_str("case2");
  events[n] = event_of("r2", t += MIN_MS, CX_EVENT_CASE_RESOLVED, CX_CHANNEL_PHONE);
  events[n++].case_id = cx_str("case2");
  for (int i = 0; i < 2; i++) {
    events[n] = event_of(i ? "c1" : "c0", t += 100, CX_EVENT_CLICK, CX_CHANNEL_WEB);
    add_attribute(&events[n], "session", "w1");
    add_attribute(&events[n++], "element", "buy");
  }
  events[n] = event_of("f0", t += MIN_MS, CX_EVENT_ERROR, CX_CHANNEL_APP);
  events[n++].has_csat = false;
  events[n] = event_of("v0", t += MIN_MS, CX_EVENT_SURVEY, CX_CHANNEL_EMAIL);
  events[n].has_csat = true;
  events[n++].csat = 1;
  events[n++] = event_of("m0", t += MIN_MS, CX_EVENT_PAYMENT_FAILED, CX_CHANNEL_APP);
  events[n++] = event_of("a0", t += MIN_MS, CX_EVENT_APPOINTMENT_MISSED, CX_CHANNEL_FIELD);
  events[n++] = event_of("i0", t += MIN_MS, CX_EVENT_CANCEL_INTENT, CX_CHANNEL_PHONE);
  events[n] = event_of("g0", t += MIN_MS, CX_EVENT_CONSENT, CX_CHANNEL_WEB);
  add_attribute(&events[n++], "consent", "profiling_granted");
  for (int i = 0; i < n; i++)
    assert_int_equal(cx_processor_process(p, &events[i], &outputs), CX_PROCESS_OK);
}

static void count_timer(void *opaque, cx_rule_t rule, int64_t fire_ms, uint64_t payload) {
  (void)rule;
  (void)fire_ms;
  (void)payload;
  (*(int *)opaque)++;
}

static unsigned blocks_of(const cx_customer_t *c) {
  return (c->log != NULL) | (c->rules != NULL) << 1 | (c->signals != NULL) << 2 |
         (c->sessions != NULL) << 3 | (c->digital != NULL) << 4 | (c->cases != NULL) << 5 |
         (c->profile != NULL) << 6;
}

/* Logs the event as the processor does (CONTACT, SELF_SERVICE, TRANSFER). */
static long log_as_processor(cx_customer_t *customer, const cx_event_t *event) {
  cx_interaction_fields_t entry;
  if (!cx_interaction_fields_from_event(event, &entry))
    return -1;
  long index = cx_customer_add_interaction(customer, &entry, event->event_id, INT64_MIN);
  assert_true(index >= 0);
  return index;
}

/* One event checked against every detector that does not declare it. */
static int check_event(const cx_state_codec_buf_t *primed, const cx_event_t *event) {
  cx_rules_config_t config;
  cx_rules_config_default(&config);
  config.payment_friction.min_failures = 1;
  cx_detect_input_t probe;
  cx_detect_input_init(&probe, event, NULL, event->occurred_at_ms);
  int checked = 0;
  for (int r = 0; r < CX_RULE__COUNT; r++) {
    const cx_detector_t *detector = &cx_detectors[r];
    if ((detector->signals & probe.signals) &&
        (detector->channels & CX_CHANNEL_BIT(event->channel)))
      continue; /* declared: may act */
    cx_customer_t customer;
    char errstr[128];
    assert_int_equal(cx_state_codec_decode(primed->bytes, primed->len, &customer, errstr,
                                           sizeof(errstr)), 0);
    cx_detect_input_t input;
    cx_detect_input_init(&input, event, &customer, event->occurred_at_ms);
    input.interaction_index = log_as_processor(&customer, event);
    cx_state_codec_buf_t before = {0}, after = {0};
    assert_int_equal(cx_state_codec_encode(&customer, &before), 0);
    unsigned blocks = blocks_of(&customer);
    int timers_set = 0;
    cx_timer_sink_t sink = {count_timer, &timers_set};
    cx_alert_t alert;
    memset(&alert, 0, sizeof(alert));
    bool fired = detector->evaluate(&config, &input, &sink, &alert);
    assert_int_equal(cx_state_codec_encode(&customer, &after), 0);
    if (fired || timers_set || input.nomem || blocks != blocks_of(&customer) ||
        before.len != after.len || memcmp(before.bytes, after.bytes, before.len))
      fail_msg("%s acts on type %s channel %s outcome %d signals %#x, which it does not declare",
               detector->name, cx_event_type_name(event->type), cx_channel_name(event->channel),
               (int)event->outcome, (unsigned)probe.signals);
    cx_state_codec_buf_free(&before);
    cx_state_codec_buf_free(&after);
    cx_customer_release(&customer);
    checked++;
  }
  return checked;
}

static void test_undeclared_events_change_nothing(void **unused) {
  (void)unused;
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  for (int r = 0; r < CX_RULE__COUNT; r++)
    config.rules.common[r].cooldown_ms = 0;
  cx_processor_t *p = cx_processor_new(&config);
  assert_non_null(p);
  prime(p);
  const cx_customer_t *c1 = cx_processor_find(p, cx_str("C1"));
  assert_non_null(c1);
  assert_int_equal(blocks_of(c1), 0x7f); /* every block in use */
  cx_state_codec_buf_t primed = {0};
  assert_int_equal(cx_state_codec_encode(c1, &primed), 0);

  static const char *const attributes[][2] = {
    {NULL, NULL}, {"session", "w1"}, {"element", "buy"}, {"promise", "broken"},
    {"promise", "callback_missed"}, {"intent", "cancel"}, {"intent", "port_out"},
    {"competitor", "x"}, {"dispute", "y"}, {"consent", "profiling_withdrawn"},
  };
  static const cx_channel_t channels[] = {CX_CHANNEL_PHONE, CX_CHANNEL_WEB};
  static const cx_outcome_t outcomes[] = {CX_OUTCOME_NONE, CX_OUTCOME_ABANDONED,
                                          CX_OUTCOME_FAILED, CX_OUTCOME_TRANSFERRED,
                                          CX_OUTCOME_ESCALATED};
  int checked = 0;
  for (int type = 0; type < CX_EVENT_TYPE__COUNT; type++)
    for (size_t ch = 0; ch < sizeof(channels) / sizeof(channels[0]); ch++)
      for (size_t a = 0; a < sizeof(attributes) / sizeof(attributes[0]); a++)
        for (size_t o = 0; o < sizeof(outcomes) / sizeof(outcomes[0]); o++)
          for (int variant = 0; variant < 3; variant++) {
            cx_event_t event = event_of("t1", T0 + 2 * H_MS, (cx_event_type_t)type, channels[ch]);
            event.outcome = outcomes[o];
            event.case_id = cx_str("case1");
            if (attributes[a][0])
              add_attribute(&event, attributes[a][0], attributes[a][1]);
            if (variant == 1)
              event.topic = cx_str("billing_dispute");
            if (variant == 2) {
              event.has_sentiment = event.has_csat = event.has_nps = true;
              event.sentiment = -1;
              event.csat = 1;
              event.nps = 0;
            }
            checked += check_event(&primed, &event);
          }
  assert_true(checked > 10000);
  cx_state_codec_buf_free(&primed);
  cx_processor_destroy(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_input_init_reads_attributes),
    cmocka_unit_test(test_undeclared_events_change_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
