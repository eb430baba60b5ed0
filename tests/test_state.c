/* Keyed state: lookups, long keys, contact order, trimming, eviction, the
 * state.max.customers bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../operators/state.h"

static long add(cx_customer_t *c, int64_t at, const char *id, int64_t retain_after) {
  cx_interaction_fields_t entry = {0};
  entry.at_ms = at;
  entry.type = CX_EVENT_CONTACT;
  return cx_customer_add_interaction(c, &entry, cx_str(id), retain_after);
}

static cx_customer_t *upsert(cx_state_t *s, const char *key) {
  cx_str_t k = cx_str(key);
  return cx_state_upsert(s, k, cx_state_hash(k));
}

static void test_state_upsert_finds_same_customer(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  cx_customer_t *a = upsert(s, "C1");
  a->last_event_ms = 42;
  cx_customer_t *b = upsert(s, "C1");
  assert_int_equal(b->last_event_ms, 42);
  assert_int_equal(cx_state_customer_count(s), 1);
  cx_state_destroy(s);
}

static void test_state_many_customers_and_long_keys(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  char key[128];
  for (int i = 0; i < 20000; i++) {
    snprintf(key, sizeof(key), i % 2 ? "customer-with-a-rather-long-identifier-%d" : "C%d", i);
    cx_customer_t *c = upsert(s, key);
    assert_non_null(c);
    c->last_event_ms = i;
  }
  assert_int_equal(cx_state_customer_count(s), 20000);
  for (int i = 0; i < 20000; i++) {
    snprintf(key, sizeof(key), i % 2 ? "customer-with-a-rather-long-identifier-%d" : "C%d", i);
    cx_str_t k = cx_str(key);
    cx_customer_t *c = cx_state_find(s, k, cx_state_hash(k));
    assert_non_null(c);
    assert_int_equal(c->last_event_ms, i);
    cx_str_t stored = cx_customer_key(c);
    assert_int_equal(stored.len, strlen(key));
    assert_memory_equal(stored.ptr, key, stored.len);
  }
  cx_state_destroy(s);
}

/* cx_state_peek (the blocks hint) finds a hot customer's record without a
 * key compare, most of them also off their home slot (a table filled up to
 * 3/4 before it grows: 89% here; a peek at the home slot alone found 63%),
 * returns NULL for an absent key, and changes nothing. */
static void test_state_peek_finds_most_hot_customers_and_changes_nothing(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  char key[32];
  const int n = 24000; /* the table at 32768 slots: filled to 0.73 */
  for (int i = 0; i < n; i++) {
    snprintf(key, sizeof(key), "peek-%d", i);
    upsert(s, key)->last_event_ms = i;
  }
  size_t bytes = cx_state_bytes(s);
  int hits = 0;
  for (int i = 0; i < n; i++) {
    snprintf(key, sizeof(key), "peek-%d", i);
    cx_str_t k = cx_str(key);
    uint64_t hash = cx_state_hash(k);
    const cx_customer_t *peeked = cx_state_peek(s, hash);
    if (!peeked)
      continue;
    hits++;
    assert_ptr_equal(peeked, cx_state_find(s, k, hash));
  }
  assert_true(hits >= n * 8 / 10);
  for (int i = 0; i < 1000; i++) {
    snprintf(key, sizeof(key), "absent-%d", i);
    assert_null(cx_state_peek(s, cx_state_hash(cx_str(key))));
  }
  assert_int_equal(cx_state_customer_count(s), n);
  assert_int_equal(cx_state_bytes(s), bytes);
  cx_state_destroy(s);
}

static void test_state_contacts_sorted_equal_times_keep_arrival_order(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  cx_customer_t *c = upsert(s, "C1");
  assert_int_equal(add(c, 100, "e1", INT64_MIN), 0);
  assert_int_equal(add(c, 300, "e3", INT64_MIN), 1);
  assert_int_equal(add(c, 200, "e2", INT64_MIN), 1);
  assert_int_equal(add(c, 200, "e2b", INT64_MIN), 2);
  const char *expect[] = {"e1", "e2", "e2b", "e3"};
  for (int i = 0; i < 4; i++) {
    cx_str_t id = cx_interaction_id(c, &cx_customer_interactions(c)[i]);
    assert_int_equal(id.len, strlen(expect[i]));
    assert_memory_equal(id.ptr, expect[i], id.len);
  }
  cx_state_destroy(s);
}

static void test_state_trims_contacts_at_or_before_retain_bound(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  cx_customer_t *c = upsert(s, "C1");
  char long_id[100];
  memset(long_id, 'x', sizeof(long_id) - 1);
  long_id[99] = '\0';
  add(c, 10, long_id, INT64_MIN);
  add(c, 20, "b", INT64_MIN);
  add(c, 30, "c", 20);
  assert_int_equal(cx_customer_interaction_count(c), 1);
  assert_int_equal(cx_customer_interactions(c)[0].at_ms, 30);
  cx_state_destroy(s);
}

static void test_state_evicts_idle_customers_only(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  char key[32];
  for (int i = 0; i < 5000; i++) {
    snprintf(key, sizeof(key), "C%d", i);
    cx_customer_t *c = upsert(s, key);
    c->last_event_ms = i;
    add(c, i, "e", INT64_MIN);
  }
  size_t removed = cx_state_evict_idle(s, 2500, NULL, NULL);
  assert_int_equal(removed, 2500);
  assert_int_equal(cx_state_customer_count(s), 2500);
  for (int i = 0; i < 5000; i++) {
    snprintf(key, sizeof(key), "C%d", i);
    cx_str_t k = cx_str(key);
    cx_customer_t *c = cx_state_find(s, k, cx_state_hash(k));
    if (i < 2500)
      assert_null(c);
    else
      assert_non_null(c);
  }
  /* Reuses freed records. */
  cx_customer_t *again = upsert(s, "C1");
  assert_int_equal(cx_customer_interaction_count(again), 0);
  assert_int_equal(again->generation, 2); /* a reused record: old timers can tell */
  assert_int_equal(cx_state_customer_count(s), 2501);
  cx_state_destroy(s);
}

static void test_state_at_refuses_reused_or_evicted_records(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  cx_customer_t *c = upsert(s, "C1");
  c->last_event_ms = 5;
  uint32_t index = cx_state_index_of(s, c), generation = c->generation;
  assert_ptr_equal(cx_state_at(s, index, generation), c);
  cx_state_evict_idle(s, 10, NULL, NULL);
  assert_null(cx_state_at(s, index, generation));
  cx_customer_t *other = upsert(s, "C2"); /* takes the freed record */
  assert_int_equal(cx_state_index_of(s, other), index);
  assert_null(cx_state_at(s, index, generation));
  assert_ptr_equal(cx_state_at(s, index, other->generation), other);
  assert_null(cx_state_at(s, index + 100, 1));
  cx_state_destroy(s);
}

static void test_preferred_channel_is_where_contacts_complete(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  cx_customer_t *c = upsert(s, "C1");
  assert_null(cx_customer_preferred_channel(c));
  cx_interaction_fields_t e = {0};
  e.type = CX_EVENT_CONTACT;
  e.flags = CX_INTERACTION_ASSISTED;
  e.outcome = CX_OUTCOME_COMPLETED;
  e.channel = CX_CHANNEL_CHAT; e.at_ms = 1;
  cx_customer_add_interaction(c, &e, cx_str("a"), INT64_MIN);
  e.channel = CX_CHANNEL_PHONE; e.at_ms = 2;
  cx_customer_add_interaction(c, &e, cx_str("b"), INT64_MIN);
  assert_string_equal(cx_customer_preferred_channel(c), "PHONE"); /* tie: the latest */
  e.channel = CX_CHANNEL_CHAT; e.at_ms = 3;
  cx_customer_add_interaction(c, &e, cx_str("c"), INT64_MIN);
  e.channel = CX_CHANNEL_PHONE; e.at_ms = 4; e.outcome = CX_OUTCOME_ABANDONED;
  cx_customer_add_interaction(c, &e, cx_str("d"), INT64_MIN);
  assert_string_equal(cx_customer_preferred_channel(c), "CHAT"); /* two completed */
  cx_state_destroy(s);
}

typedef struct evictions_s {
  int count;           /* calls */
  char keys[8][32];    /* their keys */
} evictions_t;

static void on_bound_evicted(const cx_customer_t *customer, void *opaque) {
  evictions_t *e = opaque;
  cx_str_t key = cx_customer_key(customer);
  if (e->count < 8)
    snprintf(e->keys[e->count], 32, "%.*s", (int)key.len, key.ptr);
  e->count++;
}

static cx_str_t key_of(const char *key) {
  return cx_str(key);
}

static bool present(const cx_state_t *s, const char *key) {
  return cx_state_find(s, key_of(key), cx_state_hash(key_of(key))) != NULL;
}

static void test_state_max_customers_evicts_least_recently_active(void **unused) {
  (void)unused;
  evictions_t e = {0};
  cx_state_t *s = cx_state_new();
  cx_state_set_max_customers(s, 3, on_bound_evicted, &e);
  upsert(s, "A");
  upsert(s, "B");
  upsert(s, "C");
  upsert(s, "A"); /* A is active again: B is now the least recently active */
  assert_int_equal(e.count, 0);
  upsert(s, "D");
  assert_int_equal(e.count, 1);
  assert_string_equal(e.keys[0], "B");
  assert_false(present(s, "B"));
  assert_true(present(s, "A") && present(s, "C") && present(s, "D"));
  upsert(s, "a-customer-id-longer-than-the-inline-key"); /* evicts C */
  upsert(s, "E"); /* evicts A */
  assert_int_equal(e.count, 3);
  assert_string_equal(e.keys[1], "C");
  assert_string_equal(e.keys[2], "A");
  assert_int_equal(cx_state_customer_count(s), 3);
  assert_int_equal(cx_state_limit_evictions(s), 3);
  cx_state_destroy(s);
}

static void test_state_max_customers_one_keeps_only_the_latest(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  cx_state_set_max_customers(s, 1, NULL, NULL);
  char key[16];
  for (int i = 0; i < 1000; i++) {
    snprintf(key, sizeof(key), "K%d", i);
    cx_customer_t *c = upsert(s, key);
    assert_non_null(c);
    assert_int_equal(add(c, i, "event-id-longer-than-forty-bytes-to-use-the-heap", -1), 0);
    assert_int_equal(cx_state_customer_count(s), 1);
    assert_true(present(s, key));
  }
  assert_int_equal(cx_state_limit_evictions(s), 999);
  cx_state_destroy(s);
}

static void test_state_max_customers_bounds_many_and_finds_the_rest(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  cx_state_set_max_customers(s, 1000, NULL, NULL);
  char key[32];
  for (int i = 0; i < 20000; i++) {
    snprintf(key, sizeof(key), "customer-%d", i);
    assert_non_null(upsert(s, key));
  }
  assert_int_equal(cx_state_customer_count(s), 1000);
  assert_int_equal(cx_state_limit_evictions(s), 19000);
  for (int i = 0; i < 20000; i++) { /* exactly the latest 1000 remain, all findable */
    snprintf(key, sizeof(key), "customer-%d", i);
    assert_int_equal(present(s, key), i >= 19000);
  }
  size_t bytes = cx_state_bytes(s);
  assert_true(bytes < 1000 * (sizeof(cx_customer_t) + 64) * 2);
  cx_state_destroy(s);
}

static void test_state_bound_eviction_makes_timers_stale(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  cx_state_set_max_customers(s, 1, NULL, NULL);
  cx_customer_t *c = upsert(s, "C1");
  uint32_t index = cx_state_index_of(s, c), generation = c->generation;
  cx_customer_t *other = upsert(s, "C2"); /* evicts C1, reuses its record */
  assert_int_equal(cx_state_index_of(s, other), index);
  assert_null(cx_state_at(s, index, generation));
  cx_state_destroy(s);
}

static void test_state_bound_applies_to_restore_and_to_customers_already_there(void **unused) {
  (void)unused;
  evictions_t e = {0};
  cx_state_t *s = cx_state_new();
  upsert(s, "A");
  upsert(s, "B");
  upsert(s, "C");
  cx_state_set_max_customers(s, 2, on_bound_evicted, &e); /* A goes at once */
  assert_int_equal(e.count, 1);
  assert_string_equal(e.keys[0], "A");
  cx_customer_t decoded = {0};
  decoded.key_len = 1;
  decoded.key.inline_key[0] = 'R';
  assert_non_null(cx_state_restore(s, &decoded)); /* evicts B */
  assert_int_equal(e.count, 2);
  assert_string_equal(e.keys[1], "B");
  assert_true(present(s, "C") && present(s, "R"));
  assert_non_null(cx_state_restore(s, &decoded)); /* replacing R evicts nobody */
  assert_int_equal(e.count, 2);
  cx_state_remove(s, key_of("C"), cx_state_hash(key_of("C")));
  upsert(s, "D"); /* room again after the removal */
  assert_int_equal(e.count, 2);
  upsert(s, "E"); /* R is the least recently active */
  assert_string_equal(e.keys[2], "R");
  cx_state_destroy(s);
}

/* The compact log keeps every wait and handle time exact: those that do not
 * fit 32 bits go to the byte area beside the ids, also through out-of-order
 * inserts and drops from the front. */
static void test_state_log_keeps_wide_times_and_ids_exact_through_inserts_and_drops(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  cx_customer_t *c = upsert(s, "C1");
  static const int64_t waits[] = {0, 1, 4294967295LL, 4294967296LL, -1, INT64_MAX, INT64_MIN, 7};
  static const int64_t handles[] = {INT64_MIN, 5, 4294967296LL, 0, -7, 4294967295LL, 3, INT64_MAX};
  static const int64_t times[] = {50, 10, 30, 30, 70, 20, 60, 40}; /* inserts in the middle */
  char ids[8][400];
  for (int i = 0; i < 8; i++) {
    size_t len = (size_t)(i * 50); /* 0 .. 350 bytes */
    memset(ids[i], 'a' + i, len);
    ids[i][len] = '\0';
    cx_interaction_fields_t entry = {0};
    entry.at_ms = times[i];
    entry.wait_ms = waits[i];
    entry.handle_ms = handles[i];
    entry.case_hash = (uint64_t)i * 1000003u;
    entry.topic_hash = UINT64_MAX - (uint64_t)i;
    entry.type = CX_EVENT_CONTACT;
    entry.channel = (uint8_t)i;
    entry.outcome = CX_OUTCOME_COMPLETED;
    entry.flags = (uint8_t)(i & 3);
    assert_true(cx_customer_add_interaction(c, &entry, cx_str(ids[i]), INT64_MIN) >= 0);
  }
  /* by time, equal times in arrival order: 10(1) 20(5) 30(2) 30(3) 40(7) 50(0) 60(6) 70(4) */
  static const int order[] = {1, 5, 2, 3, 7, 0, 6, 4};
  assert_int_equal(cx_customer_interaction_count(c), 8);
  for (int k = 0; k < 8; k++) {
    const cx_interaction_t *e = &cx_customer_interactions(c)[k];
    int i = order[k];
    assert_int_equal(e->at_ms, times[i]);
    assert_int_equal(cx_interaction_wait_ms(c, e), waits[i]);
    assert_int_equal(cx_interaction_handle_ms(c, e), handles[i]);
    assert_int_equal(e->case_hash, (uint64_t)i * 1000003u);
    assert_int_equal(e->topic_hash, UINT64_MAX - (uint64_t)i);
    assert_int_equal(e->channel, i);
    assert_int_equal(e->flags, i & 3);
    cx_str_t id = cx_interaction_id(c, e);
    assert_int_equal(id.len, strlen(ids[i]));
    assert_memory_equal(id.ptr, ids[i], id.len);
  }
  /* a new entry that drops everything at or before 30 */
  cx_interaction_fields_t entry = {0};
  entry.at_ms = 45;
  entry.wait_ms = INT64_MAX;
  assert_int_equal(cx_customer_add_interaction(c, &entry, cx_str("new"), 30), 1);
  static const int kept[] = {7, -1, 0, 6, 4};
  assert_int_equal(cx_customer_interaction_count(c), 5);
  for (int k = 0; k < 5; k++) {
    const cx_interaction_t *e = &cx_customer_interactions(c)[k];
    int i = kept[k];
    cx_str_t id = cx_interaction_id(c, e);
    if (i < 0) {
      assert_int_equal(cx_interaction_wait_ms(c, e), INT64_MAX);
      assert_int_equal(cx_interaction_handle_ms(c, e), 0);
      assert_int_equal(id.len, 3);
      assert_memory_equal(id.ptr, "new", 3);
      continue;
    }
    assert_int_equal(e->at_ms, times[i]);
    assert_int_equal(cx_interaction_wait_ms(c, e), waits[i]);
    assert_int_equal(cx_interaction_handle_ms(c, e), handles[i]);
    assert_int_equal(id.len, strlen(ids[i]));
    assert_memory_equal(id.ptr, ids[i], id.len);
  }
  /* the byte area holds exactly the ids and the wide times still kept */
  assert_int_equal(c->log->bytes_len,
                   350 + 8 + 0 + 8 + 300 + 8 + 200 + 8 + 8 + 3 + 8);
  cx_state_destroy(s);
}

/* A customer starts with no extension block and no log; each block comes
 * when first written, and cx_state_bytes counts what is allocated. */
static void test_state_blocks_come_on_first_write_and_are_counted(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  cx_customer_t *c = upsert(s, "C1");
  assert_null(c->rules);
  assert_null(c->signals);
  assert_null(c->sessions);
  assert_null(c->digital);
  assert_null(c->cases);
  assert_null(c->profile);
  assert_null(c->log);
  /* readers see the defaults */
  assert_int_equal(cx_customer_rules(c)->quiet_until_ms[CX_RULE__COUNT - 1], INT64_MIN);
  assert_int_equal(cx_customer_rules(c)->last_frustration_alert_ms, INT64_MIN);
  assert_true(cx_customer_rules(c)->contribution[0] == 0.0f);
  assert_int_equal(cx_customer_case(c, 0)->flags, 0);
  assert_int_equal(cx_customer_profile(c)->flags, 0);
  size_t before = cx_state_bytes(s);
  cx_customer_rules_t *rules = cx_customer_rules_mut(c);
  assert_non_null(rules);
  assert_ptr_equal(cx_customer_rules_mut(c), rules); /* once */
  assert_int_equal(rules->quiet_until_ms[3], INT64_MIN);
  assert_int_equal(cx_state_bytes(s), before + sizeof(cx_customer_rules_t));
  assert_non_null(cx_customer_digital_mut(c));
  assert_non_null(cx_customer_sessions_mut(c, 1));
  assert_int_equal(cx_state_bytes(s), before + sizeof(cx_customer_rules_t) +
                                          cx_digital_state_size(0) +
                                          sizeof(cx_digital_session_t));
  /* session slots come one at a time; a slot not allocated reads as zero */
  assert_int_equal(c->session_slots, 1);
  assert_int_equal(cx_customer_session(c, 1)->flags, 0);
  c->sessions[0].flags = CX_DIGITAL_SESSION_ACTIVE;
  assert_non_null(cx_customer_sessions_mut(c, 2));
  assert_int_equal(c->sessions[0].flags, CX_DIGITAL_SESSION_ACTIVE); /* kept */
  assert_int_equal(cx_customer_session(c, 1)->flags, 0);             /* new: zeroed */
  assert_ptr_equal(cx_customer_sessions_mut(c, 1), c->sessions);
  assert_int_equal(c->session_slots, 2);
  assert_int_equal(cx_state_bytes(s), before + sizeof(cx_customer_rules_t) +
                                          cx_digital_state_size(0) +
                                          2 * sizeof(cx_digital_session_t));
  /* so do case slots */
  size_t with_sessions = cx_state_bytes(s);
  assert_non_null(cx_customer_cases_mut(c, 1));
  assert_int_equal(c->case_slots, 1);
  assert_int_equal(cx_state_bytes(s), with_sessions + sizeof(cx_case_slot_t));
  c->cases[0].generation = 7;
  assert_non_null(cx_customer_cases_mut(c, CX_CASE_SLOTS));
  assert_int_equal(c->case_slots, CX_CASE_SLOTS);
  assert_int_equal(c->cases[0].generation, 7);
  assert_int_equal(cx_customer_case(c, CX_CASE_SLOTS - 1)->generation, 0);
  assert_int_equal(cx_state_bytes(s), with_sessions + CX_CASE_SLOTS * sizeof(cx_case_slot_t));
  assert_int_equal(add(c, 5, "0123456789", INT64_MIN), 0);
  assert_int_equal(cx_state_bytes(s), before + sizeof(cx_customer_rules_t) +
                                          cx_digital_state_size(0) +
                                          2 * sizeof(cx_digital_session_t) +
                                          CX_CASE_SLOTS * sizeof(cx_case_slot_t) +
                                          sizeof(cx_interaction_log_t) + sizeof(cx_interaction_t) +
                                          c->log->bytes_capacity);
  assert_int_equal(cx_customer_interaction_capacity(c), 1); /* a log starts at one entry */
  cx_state_remove(s, cx_str("C1"), cx_state_hash(cx_str("C1")));
  cx_state_destroy(s); /* ASan/valgrind: the blocks went with the customer */
}

/* engagement_drop's block is sized to its last id: 96 bytes with none (or
 * up to 9 bytes), 112 up to 25, 128 up to the 40 a kept id has at most; it
 * grows with the id (its other fields kept), never shrinks, and counts at
 * its size. An id longer than 40 is kept in cx_case_keep_id's form. */
static void test_state_digital_block_grows_with_its_last_id(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  cx_customer_t *c = upsert(s, "D1");
  size_t before = cx_state_bytes(s);
  assert_int_equal(cx_digital_state_size(0), 96);
  assert_int_equal(cx_digital_state_size(9), 96);
  assert_int_equal(cx_digital_state_size(10), 112);
  assert_int_equal(cx_digital_state_size(26), 128);
  assert_int_equal(cx_digital_state_size(1000), 128);
  cx_digital_state_t *d = cx_customer_digital_mut_room(c, 5);
  assert_non_null(d);
  assert_int_equal(d->last_id_room, 9);
  assert_int_equal(cx_state_bytes(s), before + 96);
  d->first_day = 42;
  d->check_token = 7;
  assert_true(cx_window_days_add(&d->days, 3, 300) > 0); /* high bytes: kept across a move */
  cx_digital_keep_last_id(d, cx_str("short"));
  assert_ptr_equal(cx_customer_digital_mut_room(c, 9), d); /* room enough: same block */
  d = cx_customer_digital_mut_room(c, 20);
  assert_non_null(d);
  assert_int_equal(d->last_id_room, 25);
  assert_int_equal(d->first_day, 42);
  assert_int_equal(d->check_token, 7);
  assert_int_equal(cx_window_days_sum(&d->days, 3, 3), 300);
  assert_memory_equal(cx_digital_last_id(d).ptr, "short", 5); /* until replaced */
  cx_digital_keep_last_id(d, cx_str("gen-1-123456789012"));
  assert_int_equal(cx_digital_last_id(d).len, 18);
  assert_int_equal(cx_state_bytes(s), before + 112 + CX_WINDOW_DAYS);
  const char *long_id = "a-very-long-event-id-past-forty-bytes-0123456789";
  d = cx_customer_digital_mut_room(c, strlen(long_id));
  assert_non_null(d);
  assert_int_equal(d->last_id_room, 41);
  cx_digital_keep_last_id(d, cx_str(long_id));
  cx_case_kept_id_t kept;
  cx_case_keep_id(&kept, cx_str(long_id));
  assert_int_equal(cx_digital_last_id(d).len, CX_CASE_ID_INLINE);
  assert_memory_equal(cx_digital_last_id(d).ptr, kept.bytes, CX_CASE_ID_INLINE);
  assert_ptr_equal(cx_customer_digital_mut_room(c, 0), d); /* never shrinks */
  cx_digital_keep_last_id(d, cx_str("x"));
  assert_int_equal(cx_digital_last_id(d).len, 1);
  assert_int_equal(cx_state_bytes(s), before + 128 + CX_WINDOW_DAYS);
  cx_str_t none = {NULL, 0};
  cx_digital_keep_last_id(d, none);
  assert_int_equal(cx_digital_last_id(d).len, 0);
  cx_state_destroy(s); /* ASan/valgrind: the grown block and its high bytes went */
}

/* The gauge's walk sums the customers a slice at a time: each call looks at
 * no more records than its budget, a walk completes once every record was
 * looked at, and the walked bytes are those of the last completed walk (a
 * change shows once a walk after it completes) and then equal
 * cx_state_bytes. */
static void test_state_bytes_walk_takes_a_slice_per_call(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  char key[16];
  for (int i = 0; i < 10; i++) {
    snprintf(key, sizeof(key), "W%d", i);
    assert_non_null(cx_customer_rules_mut(upsert(s, key)));
  }
  size_t fixed = cx_state_bytes(s) - 10 * sizeof(cx_customer_rules_t);
  /* before any walk completes: what was summed so far */
  for (int i = 0; i < 3; i++) {
    assert_false(cx_state_bytes_walk(s, 3));
    assert_int_equal(cx_state_bytes_walked(s), fixed + (size_t)(3 * (i + 1)) *
                                                          sizeof(cx_customer_rules_t));
  }
  assert_true(cx_state_bytes_walk(s, 3)); /* the 10th record */
  assert_int_equal(cx_state_bytes_walked(s), cx_state_bytes(s));
  /* a new block shows once the next walk completes, not before */
  cx_customer_t *c = upsert(s, "W0");
  assert_non_null(cx_customer_digital_mut(c));
  size_t walked = cx_state_bytes_walked(s);
  assert_int_equal(walked + cx_digital_state_size(0), cx_state_bytes(s));
  for (int i = 0; i < 9; i++) {
    assert_false(cx_state_bytes_walk(s, 1));
    assert_int_equal(cx_state_bytes_walked(s), walked);
  }
  assert_true(cx_state_bytes_walk(s, 1));
  assert_int_equal(cx_state_bytes_walked(s), cx_state_bytes(s));
  /* one call with a budget past the end completes a walk */
  assert_true(cx_state_bytes_walk(s, SIZE_MAX));
  assert_int_equal(cx_state_bytes_walked(s), cx_state_bytes(s));
  cx_state_destroy(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_state_upsert_finds_same_customer),
    cmocka_unit_test(test_state_many_customers_and_long_keys),
    cmocka_unit_test(test_state_peek_finds_most_hot_customers_and_changes_nothing),
    cmocka_unit_test(test_state_contacts_sorted_equal_times_keep_arrival_order),
    cmocka_unit_test(test_state_trims_contacts_at_or_before_retain_bound),
    cmocka_unit_test(test_state_evicts_idle_customers_only),
    cmocka_unit_test(test_state_at_refuses_reused_or_evicted_records),
    cmocka_unit_test(test_preferred_channel_is_where_contacts_complete),
    cmocka_unit_test(test_state_max_customers_evicts_least_recently_active),
    cmocka_unit_test(test_state_max_customers_one_keeps_only_the_latest),
    cmocka_unit_test(test_state_max_customers_bounds_many_and_finds_the_rest),
    cmocka_unit_test(test_state_bound_eviction_makes_timers_stale),
    cmocka_unit_test(test_state_bound_applies_to_restore_and_to_customers_already_there),
    cmocka_unit_test(test_state_log_keeps_wide_times_and_ids_exact_through_inserts_and_drops),
    cmocka_unit_test(test_state_blocks_come_on_first_write_and_are_counted),
    cmocka_unit_test(test_state_digital_block_grows_with_its_last_id),
    cmocka_unit_test(test_state_bytes_walk_takes_a_slice_per_call),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
