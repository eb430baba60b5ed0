/* Tests of the journey generator (bench/journey.c): determinism per seed,
 * event-time order, the events and days limits, well-formed events, gapless
 * per-customer "seq" attributes, and a stream in which the frustration rules
 * of DESIGN.md section 6 fire for some customers but not for most. Labelled
 * mode: deterministic per seed, labels that name customers and events of the
 * output, every rule labelled, its config checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../bench/journey.h"
#include "../operators/rules.h"

#define DAY_MS 86400000LL
#define LONG_WAIT_MS 600000

static cx_journey_t *journey_make(uint64_t customers, uint64_t events, uint32_t days,
                                  uint64_t seed) {
  cx_journey_config_t config;
  cx_journey_config_default(&config);
  config.customers = customers;
  config.events = events;
  config.days = days;
  config.seed = seed;
  char errstr[256] = "";
  cx_journey_t *journey = NULL;
  cx_err_t err = cx_journey_new(&config, &journey, errstr, sizeof(errstr));
  if (err)
    fail_msg("cx_journey_new: %s", errstr);
  return journey;
}

/* FNV-1a over every field of an event. */
static uint64_t hash_bytes(uint64_t hash, const void *data, size_t len) {
  const unsigned char *bytes = data;
  for (size_t k = 0; k < len; k++)
    hash = (hash ^ bytes[k]) * 0x100000001b3ULL;
  return hash;
}

static uint64_t hash_str(uint64_t hash, cx_str_t s) {
  hash = hash_bytes(hash, &s.len, sizeof(s.len));
  hash = hash_bytes(hash, s.ptr ? "1" : "0", 1);
  return s.ptr ? hash_bytes(hash, s.ptr, s.len) : hash;
}

static uint64_t hash_event(uint64_t hash, const cx_event_t *event) {
  int64_t numbers[] = {
    event->occurred_at_ms, event->channel, event->type, event->outcome,
    event->has_wait_ms ? event->wait_ms : -1, event->has_handle_ms ? event->handle_ms : -1,
    event->has_csat ? event->csat : -1, event->has_nps ? event->nps : -1,
    event->has_sentiment, (int64_t)event->attribute_count,
  };
  hash = hash_str(hash, event->event_id);
  hash = hash_str(hash, event->customer_id);
  hash = hash_str(hash, event->case_id);
  hash = hash_str(hash, event->topic);
  hash = hash_str(hash, event->agent_id);
  hash = hash_bytes(hash, numbers, sizeof(numbers));
  if (event->has_sentiment)
    hash = hash_bytes(hash, &event->sentiment, sizeof(event->sentiment));
  for (size_t k = 0; k < event->attribute_count && k < CX_EVENT_MAX_ATTRIBUTES; k++) {
    hash = hash_str(hash, event->attribute_keys[k]);
    hash = hash_str(hash, event->attribute_values[k]);
  }
  return hash;
}

/* Hash of the first `events` events (all when fewer); *count gets how many. */
static uint64_t hash_stream(cx_journey_t *journey, uint64_t events, uint64_t *count) {
  uint64_t hash = 0xcbf29ce484222325ULL, n = 0;
  cx_event_t event;
  while (n < events && cx_journey_next(journey, &event)) {
    hash = hash_event(hash, &event);
    n++;
  }
  *count = n;
  return hash;
}

static uint64_t parse_decimal(cx_str_t s) {
  uint64_t value = 0;
  for (size_t k = 0; k < s.len; k++) {
    assert_true(s.ptr[k] >= '0' && s.ptr[k] <= '9');
    value = value * 10 + (uint64_t)(s.ptr[k] - '0');
  }
  return value;
}

/* "C000123" -> 123; fails the test on anything else. */
static uint64_t customer_number(cx_str_t id) {
  assert_true(id.len >= 7);
  assert_int_equal(id.ptr[0], 'C');
  cx_str_t digits = {id.ptr + 1, id.len - 1};
  return parse_decimal(digits);
}

static cx_str_t attribute(const cx_event_t *event, const char *key) {
  for (size_t k = 0; k < event->attribute_count && k < CX_EVENT_MAX_ATTRIBUTES; k++) {
    cx_str_t candidate = event->attribute_keys[k];
    if (candidate.len == strlen(key) && memcmp(candidate.ptr, key, candidate.len) == 0)
      return event->attribute_values[k];
  }
  cx_str_t absent = {NULL, 0};
  return absent;
}

static void test_same_seed_gives_identical_events(void **state) {
  (void)state;
  cx_journey_t *first = journey_make(3000, 0, 14, 42);
  cx_journey_t *second = journey_make(3000, 0, 14, 42);
  uint64_t first_count, second_count;
  uint64_t first_hash = hash_stream(first, 100000, &first_count);
  uint64_t second_hash = hash_stream(second, 100000, &second_count);
  assert_int_equal(first_count, 100000);
  assert_int_equal(second_count, 100000);
  assert_int_equal(first_hash, second_hash);
  cx_journey_destroy(first);
  cx_journey_destroy(second);
}

static void test_different_seed_gives_different_events(void **state) {
  (void)state;
  cx_journey_t *first = journey_make(3000, 0, 14, 42);
  cx_journey_t *second = journey_make(3000, 0, 14, 43);
  uint64_t first_count, second_count;
  uint64_t first_hash = hash_stream(first, 100000, &first_count);
  uint64_t second_hash = hash_stream(second, 100000, &second_count);
  assert_int_not_equal(first_hash, second_hash);
  /* not only the event ids (they carry the seed): the times differ too */
  cx_journey_destroy(first);
  cx_journey_destroy(second);
  first = journey_make(3000, 0, 14, 42);
  second = journey_make(3000, 0, 14, 43);
  cx_event_t a, b;
  int same_times = 0;
  for (int k = 0; k < 1000; k++) {
    assert_true(cx_journey_next(first, &a));
    assert_true(cx_journey_next(second, &b));
    same_times += a.occurred_at_ms == b.occurred_at_ms;
  }
  assert_true(same_times < 100);
  cx_journey_destroy(first);
  cx_journey_destroy(second);
}

static void test_occurred_at_never_decreases_and_stays_within_days(void **state) {
  (void)state;
  cx_journey_config_t config;
  cx_journey_config_default(&config);
  cx_journey_t *journey = journey_make(2000, 0, 10, 5);
  cx_event_t event;
  int64_t previous = config.start_ms;
  uint64_t count = 0;
  while (cx_journey_next(journey, &event)) {
    assert_true(event.occurred_at_ms >= previous);
    previous = event.occurred_at_ms;
    count++;
  }
  assert_true(count > 10000);
  assert_true(previous < config.start_ms + 10 * DAY_MS);
  assert_false(cx_journey_next(journey, &event)); /* stays at the end */
  cx_journey_stats_t stats;
  cx_journey_stats(journey, &stats);
  assert_int_equal(stats.events, count);
  assert_int_equal(stats.error, CX_OK);
  assert_int_equal(stats.last_ms, previous);
  assert_true(stats.active_customers > 0 && stats.active_customers <= 2000);
  cx_journey_destroy(journey);
}

static void test_events_limit_stops_exactly_and_gives_a_prefix(void **state) {
  (void)state;
  cx_journey_t *limited = journey_make(1000, 12345, 30, 9);
  cx_journey_t *unlimited = journey_make(1000, 0, 30, 9);
  uint64_t limited_count, unlimited_count;
  uint64_t limited_hash = hash_stream(limited, UINT64_MAX, &limited_count);
  uint64_t unlimited_hash = hash_stream(unlimited, 12345, &unlimited_count);
  assert_int_equal(limited_count, 12345);
  assert_int_equal(unlimited_count, 12345);
  assert_int_equal(limited_hash, unlimited_hash);
  cx_event_t event;
  assert_false(cx_journey_next(limited, &event));
  cx_journey_destroy(limited);
  cx_journey_destroy(unlimited);
}

/* One customer over unbounded days: the calendar wraps many times (one lap is
 * 170 days) and the events still come, in order, up to the limit. */
static void test_events_limit_without_days_runs_past_the_calendar_ring(void **state) {
  (void)state;
  cx_journey_t *journey = journey_make(1, 3000, 0, 3);
  cx_event_t event;
  uint64_t count = 0;
  int64_t first = 0, previous = 0;
  while (cx_journey_next(journey, &event)) {
    if (count++ == 0)
      first = event.occurred_at_ms;
    assert_true(event.occurred_at_ms >= previous);
    previous = event.occurred_at_ms;
    assert_int_equal(parse_decimal(attribute(&event, "seq")), count);
  }
  assert_int_equal(count, 3000);
  assert_true(previous - first > 170 * DAY_MS);
  cx_journey_destroy(journey);
}

static void test_every_event_has_ids_and_valid_enums(void **state) {
  (void)state;
  const uint64_t customers = 2000;
  cx_journey_t *journey = journey_make(customers, 200000, 90, 11);
  cx_event_t event;
  uint64_t count = 0;
  const char prefix[] = "gen-11-";
  while (cx_journey_next(journey, &event)) {
    count++;
    /* event ids are gen-<seed>-<n>, n counting from 1: unique by construction */
    assert_true(event.event_id.len > strlen(prefix));
    assert_memory_equal(event.event_id.ptr, prefix, strlen(prefix));
    cx_str_t number = {event.event_id.ptr + strlen(prefix), event.event_id.len - strlen(prefix)};
    assert_int_equal(parse_decimal(number), count);
    uint64_t customer = customer_number(event.customer_id);
    assert_true(customer >= 1 && customer <= customers);
    assert_true((unsigned)event.channel < CX_CHANNEL__COUNT);
    assert_true((unsigned)event.type < CX_EVENT_TYPE__COUNT);
    assert_true((unsigned)event.outcome < CX_OUTCOME__COUNT);
    if (event.case_id.ptr)
      assert_true(event.case_id.len > event.customer_id.len &&
                  memcmp(event.case_id.ptr, event.customer_id.ptr, event.customer_id.len) == 0);
    if (event.topic.ptr)
      assert_true(event.topic.len > 0);
    if (event.agent_id.ptr)
      assert_true(event.agent_id.len == 5 && event.agent_id.ptr[0] == 'A');
    if (event.has_wait_ms)
      assert_true(event.wait_ms >= 0);
    if (event.has_handle_ms)
      assert_true(event.handle_ms >= 0);
    if (event.has_sentiment)
      assert_true(event.sentiment >= -1.0f && event.sentiment <= 1.0f);
    if (event.has_csat)
      assert_true(event.csat >= 1 && event.csat <= 5);
    if (event.has_nps)
      assert_true(event.nps >= 0 && event.nps <= 10);
    if (event.type == CX_EVENT_CONTACT && cx_channel_is_assisted(event.channel) &&
        event.outcome != CX_OUTCOME_ABANDONED)
      assert_non_null(event.agent_id.ptr);
    if (event.outcome == CX_OUTCOME_ABANDONED)
      assert_null(event.agent_id.ptr);
    assert_true(event.attribute_count >= 1 && event.attribute_count <= 3);
    for (size_t k = 0; k < event.attribute_count; k++) {
      assert_true(event.attribute_keys[k].len > 0);
      assert_true(event.attribute_values[k].len > 0);
    }
  }
  assert_int_equal(count, 200000);
  cx_journey_destroy(journey);
}

static void test_seq_attribute_counts_each_customers_events_without_gaps(void **state) {
  (void)state;
  const uint64_t customers = 5000;
  uint32_t *seen = calloc(customers + 1, sizeof(*seen));
  assert_non_null(seen);
  cx_journey_t *journey = journey_make(customers, 0, 7, 13);
  cx_event_t event;
  uint64_t count = 0;
  while (cx_journey_next(journey, &event)) {
    uint64_t customer = customer_number(event.customer_id);
    cx_str_t seq = attribute(&event, "seq");
    assert_non_null(seq.ptr);
    assert_int_equal(parse_decimal(seq), ++seen[customer]);
    count++;
  }
  uint64_t active = 0, total = 0;
  for (uint64_t c = 1; c <= customers; c++) {
    active += seen[c] > 0;
    total += seen[c];
  }
  assert_int_equal(total, count);
  cx_journey_stats_t stats;
  cx_journey_stats(journey, &stats);
  assert_int_equal(stats.active_customers, active);
  cx_journey_destroy(journey);
  free(seen);
}

/* Per customer: the last three assisted contact times, abandonment times,
 * whether a rule's condition was met. */
typedef struct rule_state_s {
  int64_t contacts[3];        /* ring of the last assisted CONTACT times */
  uint32_t contact_count;     /* assisted contacts so far */
  int64_t abandoned[2];       /* ring of the last ABANDONED CONTACT times */
  uint32_t abandoned_count;   /* abandoned contacts so far */
  bool repeat_contact;        /* >= 3 assisted contacts within 24 h */
  bool abandonment;           /* >= 2 abandoned contacts within 24 h */
} rule_state_t;

static void test_frustration_rules_fire_for_some_but_not_most_customers(void **state) {
  (void)state;
  const uint64_t customers = 5000;
  rule_state_t *rules = calloc(customers + 1, sizeof(*rules));
  assert_non_null(rules);
  cx_journey_t *journey = journey_make(customers, 0, 7, 17);
  cx_event_t event;
  uint64_t abandoned = 0, long_waits = 0, failed_self_service = 0, transfers = 0, surveys = 0;
  uint64_t cases_reopened = 0, payment_failures = 0, cancel_intents = 0, clicks = 0;
  uint64_t errors = 0, failed_logins = 0;
  bool channel_seen[CX_CHANNEL__COUNT] = {false};
  while (cx_journey_next(journey, &event)) {
    rule_state_t *rule = &rules[customer_number(event.customer_id)];
    channel_seen[event.channel] = true;
    failed_self_service += event.type == CX_EVENT_SELF_SERVICE &&
                           event.outcome == CX_OUTCOME_FAILED;
    transfers += event.type == CX_EVENT_TRANSFER;
    surveys += event.type == CX_EVENT_SURVEY && event.has_csat && event.has_nps;
    cases_reopened += event.type == CX_EVENT_CASE_REOPENED;
    payment_failures += event.type == CX_EVENT_PAYMENT_FAILED;
    cancel_intents += event.type == CX_EVENT_CANCEL_INTENT;
    clicks += event.type == CX_EVENT_CLICK;
    errors += event.type == CX_EVENT_ERROR;
    failed_logins += event.type == CX_EVENT_LOGIN_FAILED;
    if (event.type != CX_EVENT_CONTACT)
      continue;
    int64_t t = event.occurred_at_ms;
    if (event.has_wait_ms && event.wait_ms >= LONG_WAIT_MS)
      long_waits++;
    if (cx_channel_is_assisted(event.channel)) {
      rule->contacts[rule->contact_count++ % 3] = t;
      /* the oldest of the last three is the next slot of the ring */
      if (rule->contact_count >= 3 && rule->contacts[rule->contact_count % 3] > t - DAY_MS)
        rule->repeat_contact = true;
    }
    if (event.outcome == CX_OUTCOME_ABANDONED) {
      abandoned++;
      rule->abandoned[rule->abandoned_count++ % 2] = t;
      if (rule->abandoned_count >= 2 && rule->abandoned[rule->abandoned_count % 2] > t - DAY_MS)
        rule->abandonment = true;
    }
  }
  uint64_t repeat_customers = 0, abandonment_customers = 0;
  for (uint64_t c = 1; c <= customers; c++) {
    repeat_customers += rules[c].repeat_contact;
    abandonment_customers += rules[c].abandonment;
  }
  print_message("repeat_contact %llu, abandonment %llu of %llu customers; abandoned %llu, "
                "waits >= 10 min %llu\n",
                (unsigned long long)repeat_customers, (unsigned long long)abandonment_customers,
                (unsigned long long)customers, (unsigned long long)abandoned,
                (unsigned long long)long_waits);
  /* some (at least 1%) but not most (at most 25%) */
  assert_true(repeat_customers >= customers / 100);
  assert_true(repeat_customers <= customers / 4);
  assert_true(abandonment_customers > 0 && abandonment_customers <= customers / 4);
  assert_true(abandoned > 0);
  assert_true(long_waits > 0);
  assert_true(failed_self_service > 0 && transfers > 0 && surveys > 0 && cases_reopened > 0);
  assert_true(payment_failures > 0 && cancel_intents > 0 && clicks > 0 && errors > 0);
  assert_true(failed_logins > 0);
  for (int c = 0; c < CX_CHANNEL__COUNT; c++)
    assert_true(c == CX_CHANNEL_OTHER || channel_seen[c]);
  cx_journey_destroy(journey);
  free(rules);
}

static void test_new_rejects_bad_config_naming_the_field(void **state) {
  (void)state;
  cx_journey_config_t config;
  cx_journey_t *journey = NULL;
  char errstr[256];

  cx_journey_config_default(&config);
  config.customers = 0;
  assert_int_equal(cx_journey_new(&config, &journey, errstr, sizeof(errstr)), CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, "customers"));
  assert_null(journey);

  cx_journey_config_default(&config);
  config.customers = CX_JOURNEY_MAX_CUSTOMERS + 1;
  assert_int_equal(cx_journey_new(&config, &journey, errstr, sizeof(errstr)), CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, "customers"));

  cx_journey_config_default(&config);
  config.days = CX_JOURNEY_MAX_DAYS + 1;
  assert_int_equal(cx_journey_new(&config, &journey, errstr, sizeof(errstr)), CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, "days"));

  cx_journey_config_default(&config);
  config.days = 0;
  config.events = 0;
  assert_int_equal(cx_journey_new(&config, &journey, errstr, sizeof(errstr)), CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, "days"));

  cx_journey_config_default(&config);
  config.start_ms = -1;
  assert_int_equal(cx_journey_new(&config, &journey, errstr, sizeof(errstr)), CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, "start_ms"));

  cx_journey_config_default(&config);
  config.start_ms = CX_JOURNEY_MAX_START_MS + 1;
  assert_int_equal(cx_journey_new(&config, &journey, errstr, sizeof(errstr)), CX_ERR_CONFIG);
  assert_null(journey);
}

/* The largest start, days and seed: no overflow in times or ids. */
static void test_largest_start_and_days_work(void **state) {
  (void)state;
  cx_journey_config_t config;
  cx_journey_config_default(&config);
  config.customers = 50;
  config.days = CX_JOURNEY_MAX_DAYS;
  config.events = 2000;
  config.start_ms = CX_JOURNEY_MAX_START_MS;
  config.seed = UINT64_MAX;
  cx_journey_t *journey = NULL;
  char errstr[256];
  assert_int_equal(cx_journey_new(&config, &journey, errstr, sizeof(errstr)), CX_OK);
  cx_event_t event;
  uint64_t count = 0;
  while (cx_journey_next(journey, &event)) {
    assert_true(event.occurred_at_ms >= config.start_ms);
    count++;
  }
  assert_int_equal(count, 2000);
  assert_memory_equal(event.event_id.ptr, "gen-18446744073709551615-2000", event.event_id.len);
  cx_journey_destroy(journey);
}

static cx_journey_t *labelled_make(uint64_t customers, uint64_t seed) {
  cx_journey_config_t config;
  cx_journey_config_default(&config);
  config.labelled = true;
  config.customers = customers;
  config.days = CX_JOURNEY_LABELLED_DEFAULT_DAYS;
  config.seed = seed;
  char errstr[256] = "";
  cx_journey_t *journey = NULL;
  if (cx_journey_new(&config, &journey, errstr, sizeof(errstr)))
    fail_msg("cx_journey_new: %s", errstr);
  return journey;
}

/* Hash of every label; *count gets how many. */
static uint64_t hash_labels(cx_journey_t *journey, uint64_t *count) {
  uint64_t hash = 0xcbf29ce484222325ULL, n = 0;
  cx_journey_label_t label;
  while (cx_journey_next_label(journey, &label)) {
    hash = hash_str(hash, label.customer_id);
    hash = hash_str(hash, cx_str(label.rule));
    hash = hash_str(hash, cx_str(label.story));
    hash = hash_bytes(hash, &label.trigger_ms, sizeof(label.trigger_ms));
    n++;
  }
  *count = n;
  return hash;
}

static void test_labelled_mode_is_deterministic_per_seed(void **state) {
  (void)state;
  cx_journey_t *first = labelled_make(300, 42);
  cx_journey_t *second = labelled_make(300, 42);
  cx_journey_t *other = labelled_make(300, 43);
  uint64_t first_count, second_count, other_count;
  uint64_t first_hash = hash_stream(first, UINT64_MAX, &first_count);
  uint64_t second_hash = hash_stream(second, UINT64_MAX, &second_count);
  uint64_t other_hash = hash_stream(other, UINT64_MAX, &other_count);
  assert_true(first_count > 10000);
  assert_int_equal(first_count, second_count);
  assert_int_equal(first_hash, second_hash);
  assert_int_not_equal(first_hash, other_hash);
  /* labels: the same before and after the events are read, and per seed */
  cx_journey_t *fresh = labelled_make(300, 42);
  uint64_t labels_after, labels_before, labels_other;
  uint64_t after = hash_labels(first, &labels_after);
  uint64_t before = hash_labels(fresh, &labels_before);
  uint64_t changed = hash_labels(other, &labels_other);
  assert_true(labels_after >= CX_RULE__COUNT);
  assert_int_equal(labels_after, labels_before);
  assert_int_equal(after, before);
  assert_int_not_equal(after, changed);
  cx_journey_label_t label;
  assert_false(cx_journey_next_label(first, &label)); /* stays at the end */
  cx_journey_destroy(first);
  cx_journey_destroy(second);
  cx_journey_destroy(other);
  cx_journey_destroy(fresh);
}

typedef struct seen_event_s {
  uint64_t customer;          /* customer number */
  int64_t at_ms;              /* occurred_at */
} seen_event_t;

static int seen_event_compare(const void *a, const void *b) {
  const seen_event_t *x = a, *y = b;
  if (x->customer != y->customer)
    return x->customer < y->customer ? -1 : 1;
  return (x->at_ms > y->at_ms) - (x->at_ms < y->at_ms);
}

/* Every label names a customer of the output and a rule of the catalog;
 * rules that fire on an event name a time at which that customer has an
 * event; timer deadlines (unresolved_case, engagement_drop) are followed by
 * events later than the allowed lateness, so a replay's watermark passes
 * them. With 300 customers every rule is labelled, and ordinary customers
 * (no label) are most of them. */
static void test_labels_reference_customers_and_events_of_the_output(void **state) {
  (void)state;
  const uint64_t customers = 300;
  cx_journey_t *journey = labelled_make(customers, 7);
  size_t capacity = 1 << 16, count = 0;
  seen_event_t *seen = malloc(capacity * sizeof(*seen));
  assert_non_null(seen);
  cx_event_t event;
  int64_t previous = INT64_MIN;
  while (cx_journey_next(journey, &event)) {
    assert_true(event.occurred_at_ms >= previous);
    previous = event.occurred_at_ms;
    if (count == capacity) {
      capacity *= 2;
      seen = realloc(seen, capacity * sizeof(*seen));
      assert_non_null(seen);
    }
    seen[count].customer = customer_number(event.customer_id);
    seen[count++].at_ms = event.occurred_at_ms;
  }
  qsort(seen, count, sizeof(*seen), seen_event_compare);
  cx_journey_stats_t stats;
  cx_journey_stats(journey, &stats);
  assert_int_equal(stats.error, CX_OK);
  assert_int_equal(stats.events, count);

  bool *labelled = calloc(customers + 1, sizeof(*labelled));
  uint64_t per_rule[CX_RULE__COUNT] = {0};
  assert_non_null(labelled);
  cx_journey_label_t label;
  uint64_t labels = 0;
  while (cx_journey_next_label(journey, &label)) {
    labels++;
    int rule = cx_rule_by_name(label.rule);
    assert_true(rule >= 0);
    per_rule[rule]++;
    assert_non_null(label.story);
    assert_true(strlen(label.story) > 0);
    uint64_t customer = customer_number(label.customer_id);
    assert_true(customer >= 1 && customer <= customers);
    labelled[customer] = true;
    seen_event_t key = {customer, label.trigger_ms};
    const seen_event_t *found = bsearch(&key, seen, count, sizeof(*seen), seen_event_compare);
    if (rule == CX_RULE_UNRESOLVED_CASE || rule == CX_RULE_ENGAGEMENT_DROP) {
      key.at_ms = INT64_MIN; /* the customer exists: look for any of its events */
      size_t low = 0, high = count;
      while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (seen_event_compare(&seen[mid], &key) < 0)
          low = mid + 1;
        else
          high = mid;
      }
      assert_true(low < count && seen[low].customer == customer);
      assert_true(label.trigger_ms + 60000 < stats.last_ms);
    } else {
      assert_non_null(found); /* fires on an event of that customer at that time */
    }
    assert_true(label.trigger_ms >= stats.first_ms && label.trigger_ms <= stats.last_ms);
  }
  for (int r = 0; r < CX_RULE__COUNT; r++)
    if (per_rule[r] == 0)
      fail_msg("no label for %s", cx_rule_name((cx_rule_t)r));
  uint64_t story_customers = 0;
  for (uint64_t c = 1; c <= customers; c++)
    story_customers += labelled[c];
  assert_true(story_customers >= CX_RULE__COUNT && story_customers <= customers / 2);
  assert_true(labels >= story_customers);
  free(labelled);
  free(seen);
  cx_journey_destroy(journey);
}

static void test_labelled_mode_rejects_events_limit_and_short_sets(void **state) {
  (void)state;
  cx_journey_config_t config;
  cx_journey_t *journey = NULL;
  char errstr[256];

  cx_journey_config_default(&config);
  config.labelled = true;
  config.days = CX_JOURNEY_LABELLED_DEFAULT_DAYS;
  config.events = 1000;
  assert_int_equal(cx_journey_new(&config, &journey, errstr, sizeof(errstr)), CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, "events"));
  assert_null(journey);

  cx_journey_config_default(&config);
  config.labelled = true;
  config.days = CX_JOURNEY_LABELLED_MIN_DAYS - 1;
  assert_int_equal(cx_journey_new(&config, &journey, errstr, sizeof(errstr)), CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, "days"));
  assert_null(journey);

  /* the smallest set works, even with one customer (one story) */
  cx_journey_config_default(&config);
  config.labelled = true;
  config.customers = 1;
  config.days = CX_JOURNEY_LABELLED_MIN_DAYS;
  assert_int_equal(cx_journey_new(&config, &journey, errstr, sizeof(errstr)), CX_OK);
  cx_journey_label_t label;
  assert_true(cx_journey_next_label(journey, &label));
  assert_memory_equal(label.customer_id.ptr, "C000001", label.customer_id.len);
  cx_journey_destroy(journey);
}

static void test_default_mode_has_no_labels(void **state) {
  (void)state;
  cx_journey_t *journey = journey_make(100, 0, 7, 1);
  cx_journey_label_t label;
  assert_false(cx_journey_next_label(journey, &label));
  cx_journey_destroy(journey);
}

static void test_destroy_null_is_a_no_op(void **state) {
  (void)state;
  cx_journey_destroy(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_same_seed_gives_identical_events),
    cmocka_unit_test(test_different_seed_gives_different_events),
    cmocka_unit_test(test_occurred_at_never_decreases_and_stays_within_days),
    cmocka_unit_test(test_events_limit_stops_exactly_and_gives_a_prefix),
    cmocka_unit_test(test_events_limit_without_days_runs_past_the_calendar_ring),
    cmocka_unit_test(test_every_event_has_ids_and_valid_enums),
    cmocka_unit_test(test_seq_attribute_counts_each_customers_events_without_gaps),
    cmocka_unit_test(test_frustration_rules_fire_for_some_but_not_most_customers),
    cmocka_unit_test(test_new_rejects_bad_config_naming_the_field),
    cmocka_unit_test(test_largest_start_and_days_work),
    cmocka_unit_test(test_labelled_mode_is_deterministic_per_seed),
    cmocka_unit_test(test_labels_reference_customers_and_events_of_the_output),
    cmocka_unit_test(test_labelled_mode_rejects_events_limit_and_short_sets),
    cmocka_unit_test(test_default_mode_has_no_labels),
    cmocka_unit_test(test_destroy_null_is_a_no_op),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
