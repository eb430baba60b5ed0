/* Customer state records (operators/state_codec.c): customers built by the
 * real processor survive encode and decode field by field; truncated,
 * mutated, foreign-version and newer-writer records are handled; decoded
 * customers restore into a table and keep processing as the originals do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>

#include "../operators/processor.h"
#include "../operators/state.h"

#include "../operators/state_codec.h"
#include "test_helpers.h"

#define DAY_MS (24 * H_MS)
#define T0 1700000000000LL /* 2023-11-14: realistic magnitudes for the varints */
#define LONG_KEY "customer-with-a-key-longer-than-the-inline-24-bytes"

typedef struct world_s {
  cx_processor_t *processor;
  int alerts;                /* alerts seen */
  char alert_log[4096];      /* "rule/customer/trigger;" of every alert, in order */
  size_t alert_log_len;      /* bytes used */
  char keys[256][64];        /* every customer id fed */
  int key_count;             /* entries in keys */
} world_t;

static void on_alert(const cx_alert_t *alert, void *opaque) {
  world_t *world = opaque;
  world->alerts++;
  int n = snprintf(world->alert_log + world->alert_log_len,
                   sizeof(world->alert_log) - world->alert_log_len, "%s/%.*s/%.*s;", alert->rule,
                   (int)alert->customer_id.len, alert->customer_id.ptr,
                   (int)alert->trigger_event_id.len, alert->trigger_event_id.ptr);
  if (n > 0 && world->alert_log_len + (size_t)n < sizeof(world->alert_log))
    world->alert_log_len += (size_t)n;
}

static void on_profile(const cx_profile_t *profile, void *opaque) {
  (void)profile;
  (void)opaque;
}

static cx_processor_t *new_processor(bool timer_rules) {
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  config.profiles.enabled = true;
  config.profiles.consent_default = true;
  if (!timer_rules) {
    config.rules.common[CX_RULE_UNRESOLVED_CASE].enabled = false;
    config.rules.common[CX_RULE_ENGAGEMENT_DROP].enabled = false;
  }
  cx_processor_t *processor = cx_processor_new(&config);
  assert_non_null(processor);
  return processor;
}

static void remember_key(world_t *world, const char *key) {
  for (int i = 0; i < world->key_count; i++)
    if (!strcmp(world->keys[i], key))
      return;
  assert_true(world->key_count < 256);
  snprintf(world->keys[world->key_count++], sizeof(world->keys[0]), "%s", key);
}

static void add_attribute(cx_event_t *event, const char *key, const char *value) {
  event->attribute_keys[event->attribute_count] = cx_str(key);
  event->attribute_values[event->attribute_count++] = cx_str(value);
}

static cx_event_t event_of(const char *customer, const char *id, int64_t at_ms,
                           cx_event_type_t type, cx_channel_t channel) {
  cx_event_t event;
  cx_event_clear(&event);
  event.customer_id = cx_str(customer);
  event.event_id = cx_str(id);
  event.occurred_at_ms = at_ms;
  event.type = type;
  event.channel = channel;
  return event;
}

static void feed_to(world_t *world, cx_processor_t *processor, const cx_event_t *event) {
  char key[64];
  snprintf(key, sizeof(key), "%.*s", (int)event->customer_id.len, event->customer_id.ptr);
  remember_key(world, key);
  cx_outputs_t outputs = {on_alert, on_profile, world};
  cx_process_result_t result = cx_processor_process(processor, event, &outputs);
  if (result != CX_PROCESS_OK)
    fail_msg("event %s at %lld: result %d, watermark %lld", key, (long long)event->occurred_at_ms,
             (int)result, (long long)cx_processor_watermark(processor));
}

static void feed_event(world_t *world, const cx_event_t *event) {
  feed_to(world, world->processor, event);
}

static void feed_plain(world_t *world, const char *customer, const char *id, int64_t at_ms,
                       cx_event_type_t type, cx_channel_t channel) {
  cx_event_t event = event_of(customer, id, at_ms, type, channel);
  feed_event(world, &event);
}

/* Customers with a bit of everything: contacts on many channels with waits,
 * cases and topics, transfers, failed self-service, cases opened, resolved
 * and reopened, digital sessions with clicks and errors, surveys, payment
 * problems, broken promises, cancel intent, consent; long keys and ids. */
static int64_t scripted_customers(world_t *world) {
  static const cx_channel_t channels[] = {CX_CHANNEL_PHONE, CX_CHANNEL_CHAT, CX_CHANNEL_EMAIL,
                                          CX_CHANNEL_IVR,   CX_CHANNEL_SMS,  CX_CHANNEL_STORE};
  const char *customers[] = {"A", LONG_KEY, "D"};
  char id[96];
  int64_t t = T0;
  for (int c = 0; c < 3; c++) {
    const char *who = customers[c];
    for (int i = 0; i < 6; i++) {
      /* every third id is long, kept on the heap */
      snprintf(id, sizeof(id),
               i % 3 ? "%s-contact-%d" : "%s-contact-%d-with-an-id-longer-than-40-bytes", who, i);
      cx_event_t e = event_of(who, id, t += 20 * MIN_MS, CX_EVENT_CONTACT, channels[i]);
      e.outcome = i == 2 || i == 3 ? CX_OUTCOME_ABANDONED : CX_OUTCOME_COMPLETED;
      e.has_wait_ms = true;
      e.wait_ms = 30000 + 1000 * i + (i == 1 ? 20 * MIN_MS : 0);
      e.has_handle_ms = i % 2 == 0;
      e.handle_ms = 240000;
      e.case_id = cx_str(i < 3 ? "K-1" : "");
      e.topic = cx_str(i % 2 ? "billing" : "");
      feed_event(world, &e);
    }
    snprintf(id, sizeof(id), "%s-transfer", who);
    cx_event_t transfer = event_of(who, id, t += MIN_MS, CX_EVENT_TRANSFER, CX_CHANNEL_PHONE);
    transfer.outcome = CX_OUTCOME_TRANSFERRED;
    transfer.case_id = cx_str("K-1");
    feed_event(world, &transfer);
    snprintf(id, sizeof(id), "%s-selfservice", who);
    cx_event_t self = event_of(who, id, t += MIN_MS, CX_EVENT_SELF_SERVICE, CX_CHANNEL_APP);
    self.outcome = CX_OUTCOME_FAILED;
    feed_event(world, &self);
    const char *cases[] = {"K-1", "K-2", "K-3"};
    for (int k = 0; k < 3; k++) {
      snprintf(id, sizeof(id), "%s-open-%d", who, k);
      cx_event_t open = event_of(who, id, t += MIN_MS, CX_EVENT_CASE_OPENED, CX_CHANNEL_PHONE);
      open.case_id = cx_str(cases[k]);
      feed_event(world, &open);
    }
    snprintf(id, sizeof(id), "%s-resolve", who);
    cx_event_t resolve = event_of(who, id, t += H_MS, CX_EVENT_CASE_RESOLVED, CX_CHANNEL_PHONE);
    resolve.case_id = cx_str("K-2");
    feed_event(world, &resolve);
    snprintf(id, sizeof(id), "%s-reopen", who);
    cx_event_t reopen = event_of(who, id, t += H_MS, CX_EVENT_CASE_REOPENED, CX_CHANNEL_PHONE);
    reopen.case_id = cx_str("K-2");
    feed_event(world, &reopen);
    /* digital: two sessions, an implicit one, errors, a failed login, rage clicks */
    for (int day = 0; day < 4; day++) {
      for (int k = 0; k < 3 + day; k++) {
        snprintf(id, sizeof(id), "%s-click-%d-%d", who, day, k);
        cx_event_t click = event_of(who, id, t += 900, CX_EVENT_CLICK, CX_CHANNEL_WEB);
        add_attribute(&click, "session", day % 2 ? "s-odd" : "s-even");
        add_attribute(&click, "element", "pay-button");
        feed_event(world, &click);
      }
      snprintf(id, sizeof(id), "%s-error-%d", who, day);
      cx_event_t error = event_of(who, id, t += 2000, CX_EVENT_ERROR, CX_CHANNEL_APP);
      if (day % 2)
        add_attribute(&error, "session", "s-odd");
      feed_event(world, &error);
      snprintf(id, sizeof(id), "%s-login-%d", who, day);
      feed_plain(world, who, id, t += 3000, CX_EVENT_LOGIN_FAILED, CX_CHANNEL_APP);
      t += DAY_MS / 2;
    }
    snprintf(id, sizeof(id), "%s-survey", who);
    cx_event_t survey = event_of(who, id, t += MIN_MS, CX_EVENT_SURVEY, CX_CHANNEL_EMAIL);
    survey.has_sentiment = true;
    survey.sentiment = -0.75f;
    survey.has_csat = true;
    survey.csat = 1;
    survey.has_nps = true;
    survey.nps = 2;
    feed_event(world, &survey);
    for (int k = 0; k < 3; k++) {
      snprintf(id, sizeof(id), "%s-payment-%d", who, k);
      feed_plain(world, who, id, t += 5 * MIN_MS, CX_EVENT_PAYMENT_FAILED, CX_CHANNEL_APP);
    }
    snprintf(id, sizeof(id), "%s-missed", who);
    feed_plain(world, who, id, t += MIN_MS, CX_EVENT_APPOINTMENT_MISSED, CX_CHANNEL_FIELD);
    snprintf(id, sizeof(id), "%s-consent", who);
    cx_event_t consent = event_of(who, id, t += MIN_MS, CX_EVENT_CONSENT, CX_CHANNEL_WEB);
    add_attribute(&consent, "consent", c == 2 ? "profiling_withdrawn" : "profiling_granted");
    feed_event(world, &consent);
    snprintf(id, sizeof(id), "%s-cancel", who);
    cx_event_t cancel = event_of(who, id, t += MIN_MS, CX_EVENT_CANCEL_INTENT, CX_CHANNEL_PHONE);
    add_attribute(&cancel, "intent", "cancel");
    feed_event(world, &cancel);
  }
  return t;
}

static uint64_t lcg(uint64_t *seed) {
  *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
  return *seed >> 33;
}

/* A pseudo-random month of events over many customers. */
static void random_customers(world_t *world, cx_processor_t *processor, uint64_t seed,
                             int customers, int events, int64_t start_ms) {
  static const cx_event_type_t types[] = {
      CX_EVENT_CONTACT, CX_EVENT_CONTACT,     CX_EVENT_CONTACT,       CX_EVENT_SELF_SERVICE,
      CX_EVENT_TRANSFER, CX_EVENT_CASE_OPENED, CX_EVENT_CASE_RESOLVED, CX_EVENT_SURVEY,
      CX_EVENT_CLICK,   CX_EVENT_CLICK,       CX_EVENT_ERROR,         CX_EVENT_PAYMENT_FAILED,
      CX_EVENT_USAGE,   CX_EVENT_CONSENT,     CX_EVENT_COMPLAINT,     CX_EVENT_LOGIN_FAILED};
  int64_t t = start_ms;
  for (int n = 0; n < events; n++) {
    char who[64], id[96], case_id[16], session[16];
    uint64_t c = lcg(&seed) % (uint64_t)customers;
    snprintf(who, sizeof(who), c % 7 ? "cust-%03u" : "customer-with-a-long-key-%03u", (unsigned)c);
    snprintf(id, sizeof(id), n % 5 ? "%08x-%04x" : "%08x-%04x-4bd6-9c1e-1f7e2a9b0c3d-long-id",
             (unsigned)lcg(&seed), (unsigned)n);
    t += (int64_t)(lcg(&seed) % (20 * MIN_MS));
    cx_event_type_t type = types[lcg(&seed) % (sizeof(types) / sizeof(types[0]))];
    cx_channel_t channel = (cx_channel_t)(lcg(&seed) % CX_CHANNEL__COUNT);
    cx_event_t e = event_of(who, id, t, type, channel);
    e.outcome = (cx_outcome_t)(lcg(&seed) % CX_OUTCOME__COUNT);
    if (lcg(&seed) % 2) {
      e.has_wait_ms = true;
      e.wait_ms = (int64_t)(lcg(&seed) % (30 * MIN_MS));
    }
    if (lcg(&seed) % 3 == 0) {
      e.has_handle_ms = true;
      e.handle_ms = (int64_t)(lcg(&seed) % (20 * MIN_MS));
    }
    snprintf(case_id, sizeof(case_id), "K%u", (unsigned)(lcg(&seed) % 6));
    if (type == CX_EVENT_CASE_OPENED || type == CX_EVENT_CASE_RESOLVED || lcg(&seed) % 4 == 0)
      e.case_id = cx_str(case_id);
    if (lcg(&seed) % 3 == 0)
      e.topic = cx_str(lcg(&seed) % 2 ? "billing" : "outage");
    if (type == CX_EVENT_SURVEY) {
      e.has_csat = true;
      e.csat = 1 + (int32_t)(lcg(&seed) % 5);
      e.has_nps = lcg(&seed) % 2;
      e.nps = (int32_t)(lcg(&seed) % 11);
      e.has_sentiment = true;
      e.sentiment = (float)((int)(lcg(&seed) % 201) - 100) / 100.0f;
    }
    if (type == CX_EVENT_CLICK || type == CX_EVENT_ERROR) {
      e.channel = lcg(&seed) % 2 ? CX_CHANNEL_APP : CX_CHANNEL_WEB;
      snprintf(session, sizeof(session), "s%u", (unsigned)(lcg(&seed) % 3));
      if (lcg(&seed) % 4)
        add_attribute(&e, "session", session);
      add_attribute(&e, "element", lcg(&seed) % 2 ? "submit" : "menu");
    }
    if (type == CX_EVENT_CONSENT)
      add_attribute(&e, "consent", lcg(&seed) % 2 ? "profiling_granted" : "profiling_withdrawn");
    feed_to(world, processor, &e);
  }
}

static void world_init(world_t *world) {
  memset(world, 0, sizeof(*world));
  world->processor = new_processor(true);
  int64_t end_ms = scripted_customers(world);
  random_customers(world, world->processor, 42, 60, 3000, end_ms);
}

static const cx_customer_t *find_customer(cx_processor_t *processor, const char *key) {
  return cx_processor_find(processor, cx_str(key));
}

static uint32_t bits_of(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof(bits));
  return bits;
}

static void assert_kept_id_equal(const cx_case_kept_id_t *a, const cx_case_kept_id_t *b) {
  assert_int_equal(a->len, b->len);
  assert_memory_equal(a->bytes, b->bytes, a->len);
}

/* Every field but generation and interaction_capacity (runtime values) and
 * array entries past their counts (never read). */
static void assert_customer_equal(const cx_customer_t *a, const cx_customer_t *b) {
  assert_int_equal(a->key_len, b->key_len);
  assert_memory_equal(cx_customer_key(a).ptr, cx_customer_key(b).ptr, a->key_len);
  assert_int_equal(a->first_event_ms, b->first_event_ms);
  assert_int_equal(a->last_event_ms, b->last_event_ms);
  assert_int_equal(a->event_count, b->event_count);
  for (int r = 0; r < CX_RULE__COUNT; r++) {
    assert_int_equal(cx_customer_rules(a)->quiet_until_ms[r], cx_customer_rules(b)->quiet_until_ms[r]);
    assert_int_equal(cx_customer_rules_band(cx_customer_rules(a), r),
                     cx_customer_rules_band(cx_customer_rules(b), r));
    assert_int_equal(bits_of(cx_customer_rules(a)->contribution[r]), bits_of(cx_customer_rules(b)->contribution[r]));
  }
  assert_int_equal(a->scores_at_ms, b->scores_at_ms);
  assert_int_equal(cx_customer_rules(a)->last_frustration_alert_ms, cx_customer_rules(b)->last_frustration_alert_ms);
  assert_int_equal(a->consent, b->consent);

  assert_int_equal(cx_customer_interaction_count(a), cx_customer_interaction_count(b));
  for (uint32_t i = 0; i < cx_customer_interaction_count(a); i++) {
    const cx_interaction_t *x = &cx_customer_interactions(a)[i], *y = &cx_customer_interactions(b)[i];
    assert_int_equal(x->at_ms, y->at_ms);
    assert_int_equal(cx_interaction_wait_ms(a, x), cx_interaction_wait_ms(b, y));
    assert_int_equal(cx_interaction_handle_ms(a, x), cx_interaction_handle_ms(b, y));
    assert_int_equal(x->case_hash, y->case_hash);
    assert_int_equal(x->topic_hash, y->topic_hash);
    assert_int_equal(x->id_len, y->id_len);
    assert_int_equal(x->type, y->type);
    assert_int_equal(x->channel, y->channel);
    assert_int_equal(x->outcome, y->outcome);
    assert_int_equal(x->flags, y->flags);
    assert_memory_equal(cx_interaction_id(a, x).ptr, cx_interaction_id(b, y).ptr, x->id_len);
  }

  assert_int_equal(cx_customer_signals(a)->payment_count, cx_customer_signals(b)->payment_count);
  for (int i = 0; i < cx_customer_signals(a)->payment_count; i++)
    assert_int_equal(cx_customer_signals(a)->payment_ms[i], cx_customer_signals(b)->payment_ms[i]);
  assert_int_equal(cx_customer_signals(a)->broken_promise_count, cx_customer_signals(b)->broken_promise_count);
  for (int i = 0; i < cx_customer_signals(a)->broken_promise_count; i++)
    assert_int_equal(cx_customer_signals(a)->broken_promise_ms[i], cx_customer_signals(b)->broken_promise_ms[i]);

  for (int s = 0; s < CX_DIGITAL_SESSIONS; s++) {
    const cx_digital_session_t *x = cx_customer_session(a, s), *y = cx_customer_session(b, s);
    assert_int_equal(x->hash, y->hash);
    assert_int_equal(x->first_ms, y->first_ms);
    assert_int_equal(x->last_ms, y->last_ms);
    assert_int_equal(x->element_hash, y->element_hash);
    assert_int_equal(x->click_last_ms, y->click_last_ms);
    for (int g = 0; g < CX_DIGITAL_RAGE_MAX - 1; g++)
      assert_int_equal(x->click_gaps_ms[g], y->click_gaps_ms[g]);
    assert_int_equal(x->failures, y->failures);
    assert_int_equal(x->run_clicks, y->run_clicks);
    assert_int_equal(x->flags, y->flags);
  }
  assert_int_equal(cx_customer_digital(a)->days.newest_day, cx_customer_digital(b)->days.newest_day);
  for (int d = 0; d < CX_WINDOW_DAYS; d++)
    assert_int_equal(cx_window_days_count(&cx_customer_digital(a)->days, (size_t)d),
                     cx_window_days_count(&cx_customer_digital(b)->days, (size_t)d));
  assert_int_equal(cx_customer_digital(a)->first_day, cx_customer_digital(b)->first_day);
  assert_int_equal(cx_customer_digital(a)->last_ms, cx_customer_digital(b)->last_ms);
  assert_int_equal(cx_customer_digital(a)->check_day, cx_customer_digital(b)->check_day);
  assert_int_equal(cx_customer_digital(a)->check_token, cx_customer_digital(b)->check_token);
  assert_int_equal(cx_customer_digital(a)->engagement_flags, cx_customer_digital(b)->engagement_flags);
  assert_int_equal(cx_customer_digital(a)->last_id_len, cx_customer_digital(b)->last_id_len);
  assert_memory_equal(cx_customer_digital(a)->last_id, cx_customer_digital(b)->last_id,
                      cx_customer_digital(a)->last_id_len);

  for (int s = 0; s < CX_CASE_SLOTS; s++) {
    const cx_case_slot_t *x = cx_customer_case(a, s), *y = cx_customer_case(b, s);
    assert_int_equal(x->case_hash, y->case_hash);
    assert_int_equal(x->opened_ms, y->opened_ms);
    assert_int_equal(x->resolved_ms, y->resolved_ms);
    assert_int_equal(x->generation, y->generation);
    assert_int_equal(x->flags, y->flags);
    assert_int_equal(x->reopened, y->reopened);
    assert_kept_id_equal(&x->opened_id, &y->opened_id);
  }

  const cx_profile_state_t *p = cx_customer_profile(a), *q = cx_customer_profile(b);
  assert_int_equal(p->emitted_at_ms, q->emitted_at_ms);
  assert_int_equal(p->digest, q->digest);
  assert_int_equal(p->sentiment_at_ms, q->sentiment_at_ms);
  assert_int_equal(p->csat_at_ms, q->csat_at_ms);
  assert_int_equal(p->nps_at_ms, q->nps_at_ms);
  assert_int_equal(bits_of(p->frustration_score), bits_of(q->frustration_score));
  assert_int_equal(bits_of(p->churn_score), bits_of(q->churn_score));
  assert_int_equal(bits_of(p->sentiment), bits_of(q->sentiment));
  assert_int_equal(p->csat, q->csat);
  assert_int_equal(p->nps, q->nps);
  assert_int_equal(p->bands, q->bands);
  assert_int_equal(p->flags, q->flags);
}

static void encode(const cx_customer_t *customer, cx_state_codec_buf_t *buf) {
  buf->len = 0;
  assert_int_equal(cx_state_codec_encode(customer, buf), 0);
}

static void decode_ok(const uint8_t *bytes, size_t len, cx_customer_t *out) {
  char errstr[256] = "";
  int rc = cx_state_codec_decode(bytes, len, out, errstr, sizeof(errstr));
  if (rc)
    fail_msg("decode failed: %s", errstr);
}

static void test_roundtrip_keeps_every_field_of_processed_customers(void **unused) {
  (void)unused;
  world_t world;
  world_init(&world);
  cx_state_codec_buf_t buf = {0};
  int compared = 0, heap_ids = 0, with_cases = 0, with_sessions = 0, with_days = 0,
      with_signals = 0, with_cooldowns = 0, with_profile = 0, with_consent = 0;
  for (int k = 0; k < world.key_count; k++) {
    const cx_customer_t *customer = find_customer(world.processor, world.keys[k]);
    if (!customer)
      continue; /* evicted */
    encode(customer, &buf);
    cx_customer_t decoded;
    decode_ok(buf.bytes, buf.len, &decoded);
    assert_customer_equal(customer, &decoded);
    assert_int_equal(decoded.generation, 0);
    assert_int_equal(cx_customer_interaction_capacity(&decoded), cx_customer_interaction_count(&decoded));
    /* what the data exercised */
    compared++;
    for (uint32_t i = 0; i < cx_customer_interaction_count(customer); i++)
      heap_ids += cx_customer_interactions(customer)[i].id_len >= 40; /* long ids */
    with_cases += cx_customer_case(customer, 0)->flags != 0;
    with_sessions += cx_customer_session(customer, 1)->flags != 0;
    with_days += cx_customer_digital(customer)->engagement_flags != 0;
    with_signals += cx_customer_signals(customer)->payment_count && cx_customer_signals(customer)->broken_promise_count;
    with_cooldowns += cx_customer_rules(customer)->last_frustration_alert_ms != INT64_MIN;
    with_profile += (cx_customer_profile(customer)->flags & CX_PROFILE_EMITTED) != 0;
    with_consent += customer->consent != CX_CONSENT_UNKNOWN;
    cx_customer_release(&decoded);
  }
  assert_true(compared >= 60);
  assert_true(heap_ids > 10);
  assert_true(with_cases > 5);
  assert_true(with_sessions > 2);
  assert_true(with_days > 5);
  assert_true(with_signals >= 3);
  assert_true(with_cooldowns > 5);
  assert_true(with_profile > 5);
  assert_true(with_consent > 5);
  assert_non_null(find_customer(world.processor, LONG_KEY));
  cx_state_codec_buf_free(&buf);
  cx_processor_destroy(world.processor);
}

static void test_encode_appends_to_the_buffer(void **unused) {
  (void)unused;
  world_t world;
  world_init(&world);
  cx_state_codec_buf_t first = {0}, both = {0};
  const cx_customer_t *a = find_customer(world.processor, "A");
  const cx_customer_t *d = find_customer(world.processor, "D");
  encode(a, &first);
  assert_int_equal(cx_state_codec_encode(a, &both), 0);
  assert_int_equal(cx_state_codec_encode(d, &both), 0);
  assert_int_equal(both.len > first.len, 1);
  assert_memory_equal(both.bytes, first.bytes, first.len);
  cx_customer_t decoded;
  decode_ok(both.bytes + first.len, both.len - first.len, &decoded);
  assert_customer_equal(d, &decoded);
  cx_customer_release(&decoded);
  cx_state_codec_buf_free(&first);
  cx_state_codec_buf_free(&both);
  cx_processor_destroy(world.processor);
}

/* A customer whose every field is at an edge: extreme and sentinel times,
 * the largest counts, NaN and negative zero floats. */
static void test_roundtrip_keeps_extreme_values(void **unused) {
  (void)unused;
  cx_state_t *state = cx_state_new();
  cx_str_t key = cx_str("X");
  cx_customer_t *c = cx_state_upsert(state, key, cx_state_hash(key));
  c->last_event_ms = INT64_MAX - 1;
  c->first_event_ms = INT64_MIN + 1;
  c->event_count = UINT64_MAX;
  c->consent = CX_CONSENT_WITHDRAWN;
  cx_customer_rules_mut(c)->quiet_until_ms[0] = INT64_MAX;
  cx_customer_rules_mut(c)->quiet_until_ms[CX_RULE__COUNT - 1] = -5;
  cx_customer_rules_set_band(cx_customer_rules_mut(c), 3, CX_SEVERITY_CRITICAL);
  cx_customer_rules_set_band(cx_customer_rules_mut(c), CX_RULE__COUNT - 1, CX_SEVERITY_HIGH);
  cx_customer_rules_mut(c)->contribution[4] = -0.0f;
  cx_customer_rules_mut(c)->contribution[5] = NAN;
  c->scores_at_ms = INT64_MIN + 1;
  cx_customer_rules_mut(c)->last_frustration_alert_ms = 0;
  int64_t times[] = {INT64_MIN, INT64_MIN + 1, -1, 0, INT64_MAX - 1, INT64_MAX};
  for (int i = 0; i < 6; i++) {
    cx_interaction_fields_t entry;
    memset(&entry, 0, sizeof(entry));
    entry.at_ms = times[i];
    entry.wait_ms = i % 2 ? INT64_MIN : INT64_MAX;
    entry.handle_ms = -1;
    entry.case_hash = UINT64_MAX;
    entry.topic_hash = 1;
    entry.type = CX_EVENT_TYPE__COUNT - 1;
    entry.channel = CX_CHANNEL__COUNT - 1;
    entry.outcome = CX_OUTCOME__COUNT - 1;
    entry.flags = 0xff;
    char id[64];
    memset(id, 'x', sizeof(id));
    assert_true(cx_customer_add_interaction(c, &entry, (cx_str_t){id, (size_t)(i * 12)},
                                            INT64_MIN) >= 0);
  }
  cx_customer_signals_mut(c)->payment_count = CX_SIGNALS_MAX_TIMES;
  for (int i = 0; i < CX_SIGNALS_MAX_TIMES; i++)
    cx_customer_signals_mut(c)->payment_ms[i] = i < 4 ? INT64_MIN : INT64_MAX;
  cx_customer_sessions_mut(c, 2)[1].hash = UINT64_MAX;
  cx_customer_sessions_mut(c, 2)[1].first_ms = INT64_MIN;
  cx_customer_sessions_mut(c, 2)[1].click_gaps_ms[CX_DIGITAL_RAGE_MAX - 2] = INT32_MIN;
  cx_customer_sessions_mut(c, 2)[1].click_gaps_ms[0] = INT32_MAX;
  cx_customer_sessions_mut(c, 2)[1].failures = UINT16_MAX;
  cx_customer_sessions_mut(c, 2)[1].run_clicks = UINT16_MAX;
  cx_customer_digital_mut(c)->days.newest_day = INT64_MIN;
  assert_int_equal(cx_window_days_set(&cx_customer_digital_mut(c)->days, 0, UINT16_MAX), 0);
  assert_int_equal(cx_window_days_set(&cx_customer_digital_mut(c)->days, CX_WINDOW_DAYS - 1, 1), 0);
  assert_int_equal(cx_window_days_set(&cx_customer_digital_mut(c)->days, 1, 256), 0);
  cx_customer_digital_mut(c)->first_day = INT64_MAX;
  cx_customer_digital_mut(c)->check_day = 7;
  cx_customer_digital_mut(c)->check_token = UINT32_MAX;
  cx_customer_digital_mut_room(c, CX_CASE_ID_INLINE)->last_id_len = CX_CASE_ID_INLINE;
  memset(cx_customer_digital_mut(c)->last_id, 'y', CX_CASE_ID_INLINE);
  cx_customer_cases_mut(c, 4)[3].generation = UINT32_MAX;
  cx_customer_cases_mut(c, 4)[3].resolved_ms = INT64_MAX;
  cx_customer_cases_mut(c, 4)[3].opened_ms = INT64_MIN;
  cx_customer_cases_mut(c, 4)[3].reopened = UINT8_MAX;
  cx_customer_profile_mut(c)->csat = INT8_MIN;
  cx_customer_profile_mut(c)->nps = INT8_MAX;
  cx_customer_profile_mut(c)->emitted_at_ms = INT64_MIN + 7;
  cx_customer_profile_mut(c)->digest = UINT64_MAX;
  cx_state_codec_buf_t buf = {0};
  encode(c, &buf);
  cx_customer_t decoded;
  decode_ok(buf.bytes, buf.len, &decoded);
  assert_customer_equal(c, &decoded);
  cx_customer_release(&decoded);
  cx_state_codec_buf_free(&buf);
  cx_state_destroy(state);
}

/* Sections of 128 bytes or more take a longer length prefix than the one
 * byte the encoder sets aside: a log long enough for a three-byte prefix
 * (>= 16384 bytes) encodes, appended after other bytes, to a record that
 * decodes back, whose interactions section is framed as the diagram says. */
static void test_long_sections_keep_their_framing(void **unused) {
  (void)unused;
  cx_state_t *state = cx_state_new();
  cx_str_t key = cx_str("L");
  cx_customer_t *c = cx_state_upsert(state, key, cx_state_hash(key));
  c->last_event_ms = T0 + 1000 * 1000;
  c->first_event_ms = T0;
  c->event_count = 1000;
  for (int i = 0; i < 400; i++) {
    cx_interaction_fields_t entry;
    memset(&entry, 0, sizeof(entry));
    entry.at_ms = T0 + i * 1000;
    entry.case_hash = (uint64_t)i + 1;
    char id[60];
    memset(id, 'a' + i % 26, sizeof(id));
    assert_true(cx_customer_add_interaction(c, &entry, (cx_str_t){id, sizeof(id)}, INT64_MIN) >=
                0);
  }
  cx_state_codec_buf_t buf = {0};
  static const uint8_t before[3] = {7, 8, 9};
  memcpy(buf.bytes = malloc(buf.capacity = 3), before, buf.len = 3);
  assert_int_equal(cx_state_codec_encode(c, &buf), 0);
  assert_memory_equal(buf.bytes, before, 3);
  const uint8_t *record = buf.bytes + 3, *at = record + 2; /* version, section count */
  assert_int_equal(record[0], CX_STATE_CODEC_VERSION);
  size_t lengths[3];
  for (int section = 0; section < 3; section++) {
    size_t length = 0;
    int shift = 0;
    while (*at & 0x80) {
      length |= (size_t)(*at++ & 0x7f) << shift;
      shift += 7;
    }
    length |= (size_t)*at++ << shift;
    lengths[section] = length;
    at += length;
  }
  assert_true(lengths[2] >= 16384); /* the interactions: a three-byte length */
  assert_true(lengths[2] < 400 * 80);
  cx_customer_t decoded;
  decode_ok(record, buf.len - 3, &decoded);
  assert_customer_equal(c, &decoded);
  cx_customer_release(&decoded);
  cx_state_codec_buf_free(&buf);
  cx_state_destroy(state);
}

/* The layout of state_codec.c's diagram, byte by byte, for a small customer:
 * changing it breaks every changelog written before, so it is pinned. */
/* Ids of every length up to past 32 bytes (the encoder copies those of 8 to
 * 32 bytes in overlapping 8-byte moves), with exact wide times before them
 * in the log's byte area, come back byte for byte; each record ends in the
 * id after its length. */
static void test_ids_of_every_length_roundtrip(void **unused) {
  (void)unused;
  char id[80];
  for (size_t len = 1; len <= 70; len++) {
    cx_state_t *state = cx_state_new();
    cx_str_t key = cx_str("ID");
    cx_customer_t *c = cx_state_upsert(state, key, cx_state_hash(key));
    c->last_event_ms = c->first_event_ms = 1000;
    for (size_t i = 0; i < len; i++)
      id[i] = (char)('!' + (i * 7 + len) % 90);
    cx_interaction_fields_t entry;
    memset(&entry, 0, sizeof(entry));
    entry.at_ms = 1000;
    entry.type = CX_EVENT_CONTACT;
    entry.wait_ms = len % 2 ? 5000000000LL : (int64_t)len;   /* wide every other length */
    entry.handle_ms = len % 3 ? -7000000000LL : (int64_t)len; /* and wide handle times */
    cx_str_t event_id = {id, len};
    assert_true(cx_customer_add_interaction(c, &entry, event_id, INT64_MIN) >= 0);
    cx_state_codec_buf_t buf = {0};
    encode(c, &buf);
    /* interactions is the last non-empty section: then five empty ones */
    assert_true(buf.len > len + 6);
    assert_memory_equal(buf.bytes + buf.len - 5 - len, id, len);
    assert_int_equal(buf.bytes[buf.len - 6 - len], len);
    cx_customer_t decoded;
    decode_ok(buf.bytes, buf.len, &decoded);
    assert_customer_equal(c, &decoded);
    const cx_interaction_t *got = cx_customer_interactions(&decoded);
    cx_str_t got_id = cx_interaction_id(&decoded, got);
    assert_int_equal(got_id.len, len);
    assert_memory_equal(got_id.ptr, id, len);
    assert_int_equal(cx_interaction_wait_ms(&decoded, got), entry.wait_ms);
    assert_int_equal(cx_interaction_handle_ms(&decoded, got), entry.handle_ms);
    cx_customer_release(&decoded);
    cx_state_codec_buf_free(&buf);
    cx_state_destroy(state);
  }
}

/* Day counts in every pattern the encoder's 8-days-at-a-time mask meets:
 * one day at each slot, its neighbours, whole words, counts in the low byte
 * only, the high byte only (256) and both. */
static void test_day_counts_at_every_slot_roundtrip(void **unused) {
  (void)unused;
  static const uint32_t values[] = {1, 255, 256, 300, 65535};
  for (int pattern = 0; pattern < CX_WINDOW_DAYS + 3; pattern++) {
    for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
      cx_state_t *state = cx_state_new();
      cx_str_t key = cx_str("D");
      cx_customer_t *c = cx_state_upsert(state, key, cx_state_hash(key));
      c->last_event_ms = c->first_event_ms = T0;
      cx_digital_state_t *d = cx_customer_digital_mut(c);
      assert_non_null(d);
      d->days.newest_day = cx_window_day(T0);
      uint64_t expected = 0;
      for (int i = 0; i < CX_WINDOW_DAYS; i++) {
        bool set = pattern < CX_WINDOW_DAYS ? (i == pattern || i == pattern + 9)
                   : pattern == CX_WINDOW_DAYS ? i < 8 || i >= 32
                   : pattern == CX_WINDOW_DAYS + 1 ? i % 3 == 0
                                                   : true;
        if (!set)
          continue;
        assert_int_equal(cx_window_days_set(&d->days, (size_t)i, values[v] + (uint32_t)i % 2 * (values[v] < 65535)), 0);
        expected |= (uint64_t)1 << i;
      }
      cx_state_codec_buf_t buf = {0};
      encode(c, &buf);
      cx_customer_t decoded;
      decode_ok(buf.bytes, buf.len, &decoded);
      assert_customer_equal(c, &decoded);
      uint64_t mask = 0;
      for (int i = 0; i < CX_WINDOW_DAYS; i++) {
        uint32_t count = cx_window_days_count(&cx_customer_digital(&decoded)->days, (size_t)i);
        assert_int_equal(count, cx_window_days_count(&d->days, (size_t)i));
        mask |= (uint64_t)(count != 0) << i;
      }
      assert_int_equal(mask, expected);
      cx_customer_release(&decoded);
      cx_state_codec_buf_free(&buf);
      cx_state_destroy(state);
    }
  }
}

static void test_format_version_1_is_pinned(void **unused) {
  (void)unused;
  cx_state_t *state = cx_state_new();
  cx_str_t key = cx_str("C1");
  cx_customer_t *c = cx_state_upsert(state, key, cx_state_hash(key));
  c->last_event_ms = 1000;
  c->first_event_ms = 900;
  c->event_count = 2;
  c->consent = CX_CONSENT_GRANTED;
  cx_customer_rules_mut(c)->quiet_until_ms[CX_RULE_ABANDONMENT] = 1000 + 24 * H_MS;
  cx_customer_rules_set_band(cx_customer_rules_mut(c), CX_RULE_ABANDONMENT, CX_SEVERITY_MEDIUM);
  cx_customer_rules_mut(c)->contribution[CX_RULE_ABANDONMENT] = 25.0f;
  c->scores_at_ms = 1000;
  cx_customer_rules_mut(c)->last_frustration_alert_ms = 1000;
  cx_interaction_fields_t entry;
  memset(&entry, 0, sizeof(entry));
  entry.at_ms = 900;
  entry.wait_ms = 60;
  entry.type = CX_EVENT_CONTACT;
  entry.channel = CX_CHANNEL_CHAT;
  entry.outcome = CX_OUTCOME_ABANDONED;
  entry.flags = CX_INTERACTION_ASSISTED | CX_INTERACTION_ABANDONED;
  assert_true(cx_customer_add_interaction(c, &entry, cx_str("e1"), INT64_MIN) >= 0);
  entry.at_ms = 1000;
  entry.wait_ms = 0;
  assert_true(cx_customer_add_interaction(c, &entry, cx_str("e2"), INT64_MIN) >= 0);
  static const uint8_t expected[] = {
      0x01, 0x08,                   /* version 1, 8 sections */
      0x09,                         /* customer: 9 bytes */
      0x02, 'C', '1',               /*   key */
      0xd3, 0x0f,                   /*   last_event_ms: time 3 + zigzag(1000) = 2003 */
      0xca, 0x01,                   /*   first_event_ms: 3 + zigzag(-100) = 202 */
      0x02,                         /*   event_count */
      0x02,                         /*   consent GRANTED: zigzag(1) */
      0x0d,                         /* scores: 13 bytes */
      0x03, 0x03,                   /*   scores_at_ms, last_frustration_alert_ms: base + 0 */
      0x01,                         /*   one rule */
      0x02,                         /*   rule 2 (abandonment) */
      0x83, 0xf0, 0xb2, 0x52,       /*   quiet_until_ms: 3 + zigzag(86400000) */
      0x01,                         /*   band MEDIUM */
      0x00, 0x00, 0xc8, 0x41,       /*   25.0f */
      0x16,                         /* interactions: 22 bytes */
      0x02,                         /*   count */
      0xca, 0x01,                   /*   at_ms 900: 3 + zigzag(-100) from last_event_ms */
      0x00, 0x02, 0x02, 0x03,       /*   CONTACT, CHAT, ABANDONED, flags */
      0x01, 0x78,                   /*   present: wait; wait_ms zigzag(60) */
      0x02, 'e', '1',               /*   id */
      0xcb, 0x01,                   /*   at_ms 1000: 3 + zigzag(100) from the previous */
      0x00, 0x02, 0x02, 0x03, 0x00, /*   CONTACT, CHAT, ABANDONED, flags, nothing present */
      0x02, 'e', '2',               /*   id */
      0x00,                         /* journey: empty */
      0x00,                         /* signals: empty (defaults) */
      0x00,                         /* digital: empty */
      0x00,                         /* cases: empty */
      0x00,                         /* profile: empty */
  };
  cx_state_codec_buf_t buf = {0};
  encode(c, &buf);
  assert_int_equal(buf.len, sizeof(expected));
  assert_memory_equal(buf.bytes, expected, sizeof(expected));
  cx_state_codec_buf_free(&buf);
  cx_state_destroy(state);
}

/* next_offset is the customer section's last field: written only when set
 * (so records without it are byte-identical to those before it existed),
 * and read back. */
static void test_next_offset_is_an_optional_last_customer_field(void **unused) {
  (void)unused;
  cx_state_t *state = cx_state_new();
  cx_str_t key = cx_str("C1");
  cx_customer_t *c = cx_state_upsert(state, key, cx_state_hash(key));
  c->last_event_ms = 1000;
  c->first_event_ms = 1000;
  c->event_count = 1;
  cx_state_codec_buf_t without = {0}, with = {0};
  encode(c, &without);
  c->next_offset = 300;
  encode(c, &with);
  /* customer section: one length byte more, and the varint 300 = ac 02 at its end */
  assert_int_equal(with.len, without.len + 2);
  assert_int_equal(without.bytes[2] + 2, with.bytes[2]);
  size_t end = 3 + with.bytes[2];
  assert_int_equal(with.bytes[end - 2], 0xac);
  assert_int_equal(with.bytes[end - 1], 0x02);
  cx_customer_t decoded;
  char errstr[256];
  assert_int_equal(cx_state_codec_decode(with.bytes, with.len, &decoded, errstr, sizeof(errstr)), 0);
  assert_int_equal(decoded.next_offset, 300);
  cx_customer_release(&decoded);
  assert_int_equal(cx_state_codec_decode(without.bytes, without.len, &decoded, errstr,
                                         sizeof(errstr)), 0);
  assert_int_equal(decoded.next_offset, 0);
  cx_customer_release(&decoded);
  cx_state_codec_buf_free(&without);
  cx_state_codec_buf_free(&with);
  cx_state_destroy(state);
}

static void test_every_truncation_fails_cleanly(void **unused) {
  (void)unused;
  world_t world;
  world_init(&world);
  const char *keys[] = {"A", LONG_KEY, "D", "cust-001", "customer-with-a-long-key-007"};
  cx_state_codec_buf_t buf = {0};
  for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
    const cx_customer_t *customer = find_customer(world.processor, keys[k]);
    assert_non_null(customer);
    encode(customer, &buf);
    for (size_t len = 0; len < buf.len; len++) {
      /* a copy of exactly len bytes, so ASan sees any read past the end */
      uint8_t *cut = malloc(len ? len : 1);
      memcpy(cut, buf.bytes, len);
      cx_customer_t decoded;
      char errstr[256] = "";
      assert_int_equal(cx_state_codec_decode(cut, len, &decoded, errstr, sizeof(errstr)), -1);
      assert_true(strncmp(errstr, "state record: ", 14) == 0);
      assert_true(strlen(errstr) > 20);
      assert_null(decoded.log);
      assert_int_equal(decoded.key_len, 0);
      free(cut);
    }
  }
  cx_state_codec_buf_free(&buf);
  cx_processor_destroy(world.processor);
}

/* Decode, and when accepted: the re-encoding decodes again and is stable. */
static int decode_mutant(const uint8_t *bytes, size_t len) {
  cx_customer_t decoded;
  char errstr[256] = "";
  if (cx_state_codec_decode(bytes, len, &decoded, errstr, sizeof(errstr))) {
    assert_true(errstr[0] != '\0');
    return 0;
  }
  cx_state_codec_buf_t again = {0}, third = {0};
  encode(&decoded, &again);
  cx_customer_t redecoded;
  decode_ok(again.bytes, again.len, &redecoded);
  assert_customer_equal(&decoded, &redecoded);
  encode(&redecoded, &third);
  assert_int_equal(again.len, third.len);
  assert_memory_equal(again.bytes, third.bytes, again.len);
  cx_customer_release(&redecoded);
  cx_customer_release(&decoded);
  cx_state_codec_buf_free(&again);
  cx_state_codec_buf_free(&third);
  return 1;
}

static void test_single_byte_mutations_never_crash(void **unused) {
  (void)unused;
  world_t world;
  world_init(&world);
  const char *keys[] = {"A", LONG_KEY, "cust-003"};
  static const uint8_t replacements[] = {0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0xff};
  cx_state_codec_buf_t buf = {0};
  int accepted = 0, refused = 0;
  for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
    const cx_customer_t *customer = find_customer(world.processor, keys[k]);
    assert_non_null(customer);
    encode(customer, &buf);
    uint8_t *mutant = malloc(buf.len);
    for (size_t at = 0; at < buf.len; at++) {
      for (int bit = 0; bit < 8 + (int)sizeof(replacements); bit++) {
        memcpy(mutant, buf.bytes, buf.len);
        uint8_t value = bit < 8 ? (uint8_t)(buf.bytes[at] ^ (1u << bit)) : replacements[bit - 8];
        if (value == buf.bytes[at])
          continue;
        mutant[at] = value;
        if (decode_mutant(mutant, buf.len))
          accepted++;
        else
          refused++;
      }
    }
    free(mutant);
  }
  assert_true(accepted > 0); /* most bytes are values: changed, still well-formed */
  assert_true(refused > 0);
  cx_state_codec_buf_free(&buf);
  cx_processor_destroy(world.processor);
}

static void test_unknown_version_is_refused_with_clear_message(void **unused) {
  (void)unused;
  world_t world;
  world_init(&world);
  cx_state_codec_buf_t buf = {0};
  encode(find_customer(world.processor, "A"), &buf);
  cx_customer_t decoded;
  char errstr[256];
  buf.bytes[0] = 2;
  assert_int_equal(cx_state_codec_decode(buf.bytes, buf.len, &decoded, errstr, sizeof(errstr)), -1);
  assert_string_equal(errstr, "state record: version 2 is not supported: this build reads "
                              "version 1 (written by a newer build?)");
  buf.bytes[0] = 0;
  assert_int_equal(cx_state_codec_decode(buf.bytes, buf.len, &decoded, errstr, sizeof(errstr)), -1);
  assert_non_null(strstr(errstr, "version 0 is not supported"));
  assert_int_equal(cx_state_codec_decode(buf.bytes, 0, &decoded, errstr, sizeof(errstr)), -1);
  assert_string_equal(errstr, "state record: empty: expected a version byte");
  /* a small errstr is cut, not overrun */
  char small[8];
  buf.bytes[0] = 9;
  assert_int_equal(cx_state_codec_decode(buf.bytes, buf.len, &decoded, small, sizeof(small)), -1);
  assert_int_equal(strlen(small), sizeof(small) - 1);
  cx_state_codec_buf_free(&buf);
  cx_processor_destroy(world.processor);
}

static size_t test_varint(const uint8_t *bytes, uint64_t *value) {
  size_t n = 0;
  *value = 0;
  do
    *value |= (uint64_t)(bytes[n] & 0x7f) << (7 * n);
  while (bytes[n++] & 0x80);
  return n;
}

static void test_put_varint(cx_state_codec_buf_t *buf, uint64_t value) {
  do {
    buf->bytes[buf->len++] = (uint8_t)(value >= 0x80 ? (value & 0x7f) | 0x80 : value);
    value >>= 7;
  } while (value);
}

/* What a newer writer might produce: each section with extra fields after
 * the ones this build knows, and one more section after the last. */
static void test_newer_writer_extra_fields_and_sections_still_decode(void **unused) {
  (void)unused;
  world_t world;
  world_init(&world);
  const cx_customer_t *customer = find_customer(world.processor, "A");
  cx_state_codec_buf_t old = {0};
  encode(customer, &old);
  static const uint8_t extra[] = {0x05, 0xff, 0x01, 0x80, 0x80, 0x01, 'v', '2'};
  cx_state_codec_buf_t newer = {malloc(old.len + 64 * sizeof(extra)), 0, 0};
  size_t at = 0;
  uint64_t sections, length;
  newer.bytes[newer.len++] = old.bytes[at++];
  at += test_varint(old.bytes + at, &sections);
  test_put_varint(&newer, sections + 1);
  for (uint64_t s = 0; s < sections; s++) {
    at += test_varint(old.bytes + at, &length);
    /* extra fields only follow complete sections: all of A's but journey are */
    assert_true(length > 0 || s == 3 /* journey: no fields yet */);
    test_put_varint(&newer, length + sizeof(extra));
    memcpy(newer.bytes + newer.len, old.bytes + at, length);
    newer.len += length;
    memcpy(newer.bytes + newer.len, extra, sizeof(extra));
    newer.len += sizeof(extra);
    at += length;
  }
  assert_int_equal(at, old.len);
  test_put_varint(&newer, sizeof(extra));
  memcpy(newer.bytes + newer.len, extra, sizeof(extra));
  newer.len += sizeof(extra);

  cx_customer_t decoded;
  decode_ok(newer.bytes, newer.len, &decoded);
  assert_customer_equal(customer, &decoded);
  cx_customer_release(&decoded);

  /* bytes after the last declared section are not a newer writer's: refused */
  newer.bytes[newer.len++] = 0;
  char errstr[256];
  assert_int_equal(cx_state_codec_decode(newer.bytes, newer.len, &decoded, errstr, sizeof(errstr)),
                   -1);
  assert_string_equal(errstr, "state record: 1 trailing bytes after the last section");
  free(newer.bytes);
  cx_state_codec_buf_free(&old);
  cx_processor_destroy(world.processor);
}

/* What an older writer with fewer fields might produce: sections that end
 * early and sections missing at the end decode to defaults. */
static void test_fields_missing_at_section_end_take_defaults(void **unused) {
  (void)unused;
  static const uint8_t key_only[] = {0x01, 0x01, 0x03, 0x02, 'C', '1'};
  cx_customer_t decoded;
  decode_ok(key_only, sizeof(key_only), &decoded);
  assert_int_equal(decoded.key_len, 2);
  assert_memory_equal(decoded.key.inline_key, "C1", 2);
  cx_str_t key = {"C1", 2};
  assert_int_equal(decoded.last_event_ms, INT64_MIN);
  assert_int_equal(decoded.first_event_ms, INT64_MIN);
  assert_int_equal(decoded.scores_at_ms, INT64_MIN);
  assert_int_equal(cx_customer_rules(&decoded)->last_frustration_alert_ms, INT64_MIN);
  for (int r = 0; r < CX_RULE__COUNT; r++)
    assert_int_equal(cx_customer_rules(&decoded)->quiet_until_ms[r], INT64_MIN);
  assert_int_equal(decoded.event_count, 0);
  assert_int_equal(cx_customer_interaction_count(&decoded), 0);
  assert_null(decoded.log);
  cx_customer_release(&decoded);

  /* the same as an upserted customer with nothing applied */
  cx_state_t *state = cx_state_new();
  cx_customer_t *fresh = cx_state_upsert(state, key, cx_state_hash(key));
  cx_state_codec_buf_t buf = {0};
  encode(fresh, &buf);
  decode_ok(buf.bytes, buf.len, &decoded);
  assert_customer_equal(fresh, &decoded);
  cx_customer_release(&decoded);
  cx_state_codec_buf_free(&buf);
  cx_state_destroy(state);

  char errstr[256];
  static const uint8_t no_sections[] = {0x01, 0x00};
  assert_int_equal(cx_state_codec_decode(no_sections, sizeof(no_sections), &decoded, errstr,
                                         sizeof(errstr)),
                   -1);
  assert_string_equal(errstr,
                      "state record: no customer key: the customer section is missing or empty");
  static const uint8_t empty_key[] = {0x01, 0x01, 0x01, 0x00};
  assert_int_equal(
      cx_state_codec_decode(empty_key, sizeof(empty_key), &decoded, errstr, sizeof(errstr)), -1);
  assert_string_equal(errstr, "state record: customer: key_len: the customer key is empty");
}

/* Counts and lengths are checked against the bytes before anything is
 * allocated, and values against the arrays and enums they index. */
static void test_counts_and_values_out_of_range_are_refused(void **unused) {
  (void)unused;
  char errstr[256];
  cx_customer_t decoded;
  /* 2^32 interactions claimed in 3 bytes */
  static const uint8_t many[] = {0x01, 0x03, 0x03, 0x02, 'C', '1', 0x00,
                                 0x06, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00};
  assert_int_equal(cx_state_codec_decode(many, sizeof(many), &decoded, errstr, sizeof(errstr)), -1);
  assert_string_equal(errstr, "state record: interactions: count: 4294967296 entries cannot fit "
                              "in the 1 bytes left");
  /* a key of 2^40 bytes */
  static const uint8_t long_key[] = {0x01, 0x01, 0x06, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20};
  assert_int_equal(
      cx_state_codec_decode(long_key, sizeof(long_key), &decoded, errstr, sizeof(errstr)), -1);
  assert_non_null(strstr(errstr, "key_len"));
  /* channel 12 does not exist */
  static const uint8_t channel[] = {0x01, 0x03, 0x03, 0x02, 'C', '1', 0x00,
                                    0x08, 0x01, 0x03, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00};
  assert_int_equal(
      cx_state_codec_decode(channel, sizeof(channel), &decoded, errstr, sizeof(errstr)), -1);
  assert_string_equal(errstr, "state record: interactions: channel: 12 is not a channel");
  /* flags with a bit no interaction has (a log entry keeps two bits) */
  static const uint8_t flags[] = {0x01, 0x03, 0x03, 0x02, 'C', '1', 0x00,
                                  0x08, 0x01, 0x03, 0x00, 0x01, 0x00, 0x04, 0x00, 0x00};
  assert_int_equal(cx_state_codec_decode(flags, sizeof(flags), &decoded, errstr, sizeof(errstr)),
                   -1);
  assert_string_equal(errstr, "state record: interactions: flags: 4 has bits no interaction has");
  /* nine payment times (8 are kept) */
  static const uint8_t payments[] = {0x01, 0x05, 0x03, 0x02, 'C', '1', 0x00,
                                     0x00, 0x00, 0x01, 0x09};
  assert_int_equal(
      cx_state_codec_decode(payments, sizeof(payments), &decoded, errstr, sizeof(errstr)), -1);
  assert_string_equal(errstr,
                      "state record: signals: payment_count: 9 is out of range (at most 8)");
  /* an 11-byte varint */
  static const uint8_t varint[] = {0x01, 0x01, 0x0b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0x01};
  assert_int_equal(cx_state_codec_decode(varint, sizeof(varint), &decoded, errstr, sizeof(errstr)),
                   -1);
  assert_string_equal(errstr, "state record: customer: key_len: varint overflows 64 bits");
}

static void test_restore_replaces_existing_customer_and_find_returns_it(void **unused) {
  (void)unused;
  world_t world;
  world_init(&world);
  cx_state_t *state = cx_state_new();
  /* the table already holds an older A, with a long id of its own */
  cx_str_t key = cx_str("A");
  cx_customer_t *old = cx_state_upsert(state, key, cx_state_hash(key));
  cx_interaction_fields_t entry;
  memset(&entry, 0, sizeof(entry));
  entry.at_ms = 5;
  assert_true(cx_customer_add_interaction(
                  old, &entry, cx_str("an-old-event-id-much-longer-than-forty-bytes-0001"),
                  INT64_MIN) >= 0);
  old->event_count = 1;
  uint32_t old_generation = old->generation;
  uint32_t old_index = cx_state_index_of(state, old);

  cx_state_codec_buf_t buf = {0};
  const cx_customer_t *a = find_customer(world.processor, "A");
  encode(a, &buf);
  cx_customer_t decoded;
  decode_ok(buf.bytes, buf.len, &decoded);
  cx_customer_t *restored = cx_state_restore(state, &decoded);
  assert_non_null(restored);
  assert_int_equal(cx_state_customer_count(state), 1);
  assert_ptr_equal(cx_state_find(state, key, cx_state_hash(key)), restored);
  assert_int_equal(cx_state_index_of(state, restored), old_index);
  assert_int_equal(restored->generation, old_generation + 1); /* the old record's timers go stale */
  assert_null(cx_state_at(state, old_index, old_generation));
  assert_customer_equal(a, restored);

  /* a new customer with a long key is inserted; the table counts its key */
  size_t bytes_before = cx_state_bytes(state);
  const cx_customer_t *long_one = find_customer(world.processor, LONG_KEY);
  encode(long_one, &buf);
  decode_ok(buf.bytes, buf.len, &decoded);
  restored = cx_state_restore(state, &decoded);
  assert_non_null(restored);
  assert_int_equal(cx_state_customer_count(state), 2);
  cx_str_t long_key = cx_str(LONG_KEY);
  assert_ptr_equal(cx_state_find(state, long_key, cx_state_hash(long_key)), restored);
  assert_customer_equal(long_one, restored);
  assert_true(cx_state_bytes(state) >= bytes_before + strlen(LONG_KEY));

  /* a restored customer keeps growing its log like any other */
  entry.at_ms = restored->last_event_ms + 1;
  assert_true(
      cx_customer_add_interaction(restored, &entry, cx_str("after-restore"), INT64_MIN) >= 0);

  /* every customer of the world, restored twice (the second replaces the
   * first); enough to grow the table */
  int restored_count = 0;
  for (int round = 0; round < 2; round++) {
    for (int k = 0; k < world.key_count; k++) {
      const cx_customer_t *customer = find_customer(world.processor, world.keys[k]);
      if (!customer)
        continue;
      encode(customer, &buf);
      decode_ok(buf.bytes, buf.len, &decoded);
      assert_non_null(cx_state_restore(state, &decoded));
      restored_count += round == 0;
    }
  }
  assert_int_equal(cx_state_customer_count(state), (size_t)restored_count);
  for (int k = 0; k < world.key_count; k++) {
    const cx_customer_t *customer = find_customer(world.processor, world.keys[k]);
    if (!customer)
      continue;
    cx_str_t k_str = cx_str(world.keys[k]);
    const cx_customer_t *found = cx_state_find(state, k_str, cx_state_hash(k_str));
    assert_non_null(found);
    assert_customer_equal(customer, found);
  }
  cx_state_codec_buf_free(&buf);
  cx_state_destroy(state); /* frees the restored heap parts: valgrind/ASan check */
  cx_processor_destroy(world.processor);
}

static void test_release_frees_a_decoded_customer_and_ignores_null(void **unused) {
  (void)unused;
  world_t world;
  world_init(&world);
  cx_state_codec_buf_t buf = {0};
  encode(find_customer(world.processor, LONG_KEY), &buf);
  cx_customer_t decoded;
  decode_ok(buf.bytes, buf.len, &decoded);
  assert_true(decoded.key_len >= CX_STATE_KEY_INLINE);
  cx_customer_release(&decoded);
  assert_int_equal(decoded.key_len, 0);
  assert_null(decoded.log);
  cx_customer_release(&decoded); /* released twice: nothing left to free */
  cx_customer_release(NULL);
  cx_state_codec_buf_free(&buf);
  cx_state_codec_buf_free(&buf);
  cx_state_codec_buf_free(NULL);
  cx_processor_destroy(world.processor);
}

/* The point of it all: a processor whose state came from records goes on
 * exactly as the one that built the state, timer rules included (timers are
 * not in the record: cx_processor_restore sets them again from the state). */
static void test_restored_state_continues_like_the_original(void **unused) {
  (void)unused;
  world_t original = {0}, restored = {0};
  original.processor = new_processor(true);
  restored.processor = new_processor(true);
  random_customers(&original, original.processor, 7, 40, 1500, T0);
  cx_state_codec_buf_t buf = {0};
  for (int k = 0; k < original.key_count; k++) {
    const cx_customer_t *customer = find_customer(original.processor, original.keys[k]);
    if (!customer)
      continue;
    encode(customer, &buf);
    char errstr[256];
    assert_int_equal(cx_processor_restore(restored.processor, buf.bytes, buf.len, errstr,
                                          sizeof(errstr)), 0);
  }
  original.alerts = 0;
  original.alert_log_len = 0;
  original.alert_log[0] = '\0';
  /* the same tail of events into both; it starts past the original's last */
  int64_t tail_start = T0 + 12 * DAY_MS;
  random_customers(&original, original.processor, 99, 40, 400, tail_start);
  random_customers(&restored, restored.processor, 99, 40, 400, tail_start);
  assert_true(original.alerts > 5);
  /* a timer set before the records were taken fires in the tail: restored timers work */
  assert_non_null(strstr(original.alert_log, "unresolved_case"));
  assert_int_equal(original.alerts, restored.alerts);
  assert_string_equal(original.alert_log, restored.alert_log);
  for (int k = 0; k < original.key_count; k++) {
    const cx_customer_t *a = find_customer(original.processor, original.keys[k]);
    const cx_customer_t *b = find_customer(restored.processor, original.keys[k]);
    if (a && b)
      assert_customer_equal(a, b);
  }
  cx_state_codec_buf_free(&buf);
  cx_processor_destroy(original.processor);
  cx_processor_destroy(restored.processor);
}

/* Issue 6 wants small state: measure what a record costs. */
static void test_typical_record_sizes(void **unused) {
  (void)unused;
  world_t world;
  world_init(&world);
  cx_state_codec_buf_t buf = {0};
  size_t total = 0, count = 0, largest = 0, interactions = 0, smallest = SIZE_MAX;
  for (int k = 0; k < world.key_count; k++) {
    const cx_customer_t *customer = find_customer(world.processor, world.keys[k]);
    if (!customer)
      continue;
    encode(customer, &buf);
    total += buf.len;
    count++;
    interactions += cx_customer_interaction_count(customer);
    if (buf.len > largest)
      largest = buf.len;
    if (buf.len < smallest)
      smallest = buf.len;
  }
  print_message("state records: %zu customers, mean %zu bytes (%zu..%zu), %.1f interactions "
                "each; in memory %zu bytes per customer\n",
                count, total / count, smallest, largest, (double)interactions / (double)count,
                cx_processor_state_bytes(world.processor) / count);
  /* the record is more compact than the state it saves */
  assert_true(total < cx_processor_state_bytes(world.processor));
  cx_state_codec_buf_free(&buf);
  cx_processor_destroy(world.processor);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip_keeps_every_field_of_processed_customers),
      cmocka_unit_test(test_encode_appends_to_the_buffer),
      cmocka_unit_test(test_roundtrip_keeps_extreme_values),
      cmocka_unit_test(test_long_sections_keep_their_framing),
      cmocka_unit_test(test_ids_of_every_length_roundtrip),
      cmocka_unit_test(test_day_counts_at_every_slot_roundtrip),
      cmocka_unit_test(test_format_version_1_is_pinned),
    cmocka_unit_test(test_next_offset_is_an_optional_last_customer_field),
      cmocka_unit_test(test_every_truncation_fails_cleanly),
      cmocka_unit_test(test_single_byte_mutations_never_crash),
      cmocka_unit_test(test_unknown_version_is_refused_with_clear_message),
      cmocka_unit_test(test_newer_writer_extra_fields_and_sections_still_decode),
      cmocka_unit_test(test_fields_missing_at_section_end_take_defaults),
      cmocka_unit_test(test_counts_and_values_out_of_range_are_refused),
      cmocka_unit_test(test_restore_replaces_existing_customer_and_find_returns_it),
      cmocka_unit_test(test_release_frees_a_decoded_customer_and_ignores_null),
      cmocka_unit_test(test_restored_state_continues_like_the_original),
      cmocka_unit_test(test_typical_record_sizes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
