/* Customers kept cold (state.h, state_cold.h): a customer compacted and
 * decoded back behaves exactly as one never compacted, through events,
 * timers, the changelog and restore, eviction and the customer bound. */
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
#include "../operators/state_cold.h"
#include "../stream/jsonl.h"
#include "test_helpers.h"

#define DAY_MS (24 * H_MS)
#define T0 1700000000000LL

/* --- the processor, compaction never / after every event / when idle -------- */

typedef struct run_s {
  cx_processor_t *processor;
  cx_buf_t out;       /* every alert and profile as JSON lines, in order */
  cx_buf_t changelog; /* every change taken: "-key\n" or "+" hex of the record "\n" */
  cx_state_codec_buf_t record; /* scratch */
} run_t;

static void on_alert(const cx_alert_t *alert, void *opaque) {
  assert_int_equal(cx_jsonl_append_alert(&((run_t *)opaque)->out, alert), 0);
}

static void on_profile(const cx_profile_t *profile, void *opaque) {
  assert_int_equal(cx_jsonl_append_profile(&((run_t *)opaque)->out, profile), 0);
}

static void append(cx_buf_t *buf, const void *bytes, size_t len) {
  assert_int_equal(cx_buf_reserve(buf, len), 0);
  memcpy(buf->data + buf->len, bytes, len);
  buf->len += len;
}

static int on_removed(cx_str_t key, void *opaque) {
  run_t *run = opaque;
  append(&run->changelog, "-", 1);
  append(&run->changelog, key.ptr, key.len);
  append(&run->changelog, "\n", 1);
  return 0;
}

static int on_changed(const cx_customer_t *customer, void *opaque) {
  run_t *run = opaque;
  run->record.len = 0;
  assert_int_equal(cx_state_codec_encode(customer, &run->record), 0);
  append(&run->changelog, "+", 1);
  for (size_t i = 0; i < run->record.len; i++) {
    char hex[3];
    snprintf(hex, sizeof(hex), "%02x", run->record.bytes[i]);
    append(&run->changelog, hex, 2);
  }
  append(&run->changelog, "\n", 1);
  return 0;
}

static void run_init(run_t *run, int64_t compact_idle_ms, int64_t max_customers) {
  memset(run, 0, sizeof(*run));
  cx_processor_config_t config;
  cx_processor_config_default(&config);
  config.profiles.enabled = true;
  config.profiles.consent_default = true;
  config.compact_idle_ms = compact_idle_ms;
  config.max_customers = max_customers;
  run->processor = cx_processor_new(&config);
  assert_non_null(run->processor);
  cx_processor_track_changes(run->processor);
}

static void run_free(run_t *run) {
  cx_processor_destroy(run->processor);
  cx_buf_free(&run->out);
  cx_buf_free(&run->changelog);
  cx_state_codec_buf_free(&run->record);
}

static uint64_t lcg(uint64_t *seed) {
  *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
  return *seed >> 33;
}

/* Pseudo-random events of many kinds over `customers` customers (numbered
 * from first), their
 * times up to `step_ms` apart; the changes are taken every 50 events.
 * Returns the time of the last event. */
static int64_t feed(run_t *run, uint64_t seed, int first, int customers, int events,
                    int64_t start_ms, int64_t step_ms) {
  static const cx_event_type_t types[] = {
      CX_EVENT_CONTACT, CX_EVENT_CONTACT,     CX_EVENT_CONTACT,       CX_EVENT_SELF_SERVICE,
      CX_EVENT_TRANSFER, CX_EVENT_CASE_OPENED, CX_EVENT_CASE_RESOLVED, CX_EVENT_SURVEY,
      CX_EVENT_CLICK,   CX_EVENT_CLICK,       CX_EVENT_ERROR,         CX_EVENT_PAYMENT_FAILED,
      CX_EVENT_USAGE,   CX_EVENT_CONSENT,     CX_EVENT_COMPLAINT,     CX_EVENT_LOGIN_FAILED,
      CX_EVENT_CLICK,   CX_EVENT_USAGE};
  int64_t t = start_ms;
  cx_outputs_t outputs = {on_alert, on_profile, run};
  for (int n = 0; n < events; n++) {
    char who[64], id[96], case_id[16], session[16];
    uint64_t c = (uint64_t)first + lcg(&seed) % (uint64_t)customers;
    snprintf(who, sizeof(who), c % 7 ? "cust-%03u" : "customer-with-a-long-key-%03u", (unsigned)c);
    snprintf(id, sizeof(id), n % 5 ? "%08x-%04x" : "%08x-%04x-4bd6-9c1e-1f7e2a9b0c3d-long-id",
             (unsigned)lcg(&seed), (unsigned)n);
    t += (int64_t)(lcg(&seed) % (uint64_t)step_ms);
    cx_event_type_t type = types[lcg(&seed) % (sizeof(types) / sizeof(types[0]))];
    cx_event_t e;
    cx_event_clear(&e);
    e.customer_id = cx_str(who);
    e.event_id = cx_str(id);
    e.occurred_at_ms = t - (int64_t)(lcg(&seed) % (30 * 1000)); /* a little out of order */
    e.type = type;
    e.channel = (cx_channel_t)(lcg(&seed) % CX_CHANNEL__COUNT);
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
    if (type == CX_EVENT_CLICK || type == CX_EVENT_ERROR || type == CX_EVENT_USAGE ||
        type == CX_EVENT_LOGIN_FAILED) {
      e.channel = lcg(&seed) % 2 ? CX_CHANNEL_APP : CX_CHANNEL_WEB;
      snprintf(session, sizeof(session), "s%u", (unsigned)(lcg(&seed) % 3));
      if (lcg(&seed) % 4) {
        e.attribute_keys[e.attribute_count] = cx_str("session");
        e.attribute_values[e.attribute_count++] = cx_str(session);
      }
      e.attribute_keys[e.attribute_count] = cx_str("element");
      e.attribute_values[e.attribute_count++] = cx_str(lcg(&seed) % 2 ? "submit" : "menu");
    }
    if (type == CX_EVENT_CONSENT) {
      e.attribute_keys[e.attribute_count] = cx_str("consent");
      e.attribute_values[e.attribute_count++] =
          cx_str(lcg(&seed) % 2 ? "profiling_granted" : "profiling_withdrawn");
    }
    cx_process_result_t result = cx_processor_process(run->processor, &e, &outputs);
    assert_true(result == CX_PROCESS_OK || result == CX_PROCESS_LATE);
    if (n % 50 == 49)
      assert_int_equal(cx_processor_take_changes(run->processor, on_removed, on_changed, run), 0);
  }
  assert_int_equal(cx_processor_take_changes(run->processor, on_removed, on_changed, run), 0);
  return t;
}

static void assert_same_bytes(const cx_buf_t *a, const cx_buf_t *b) {
  assert_int_equal(a->len, b->len);
  assert_memory_equal(a->data, b->data, a->len);
}

/* Eighteen weeks of 200 customers (idle eviction, every timer rule, cooldowns,
 * profiles): compacting after every event, after 30 minutes idle or never
 * gives the same alerts, profiles and changelog, byte for byte. */
static void test_compaction_never_changes_outputs_or_changelog(void **unused) {
  (void)unused;
  run_t never, always, idle;
  run_init(&never, 0, 0);
  run_init(&always, -1, 0);
  run_init(&idle, 30 * MIN_MS, 0);
  run_t *runs[] = {&never, &always, &idle};
  for (int r = 0; r < 3; r++) { /* then other customers: the first ones are evicted */
    int64_t end = feed(runs[r], 11, 0, 100, 1500, T0, 2 * H_MS);
    feed(runs[r], 12, 1000, 100, 1500, end, 2 * H_MS);
  }
  const cx_processor_stats_t *stats = cx_processor_stats(never.processor);
  assert_true(stats->timers_fired > 100); /* timers fired, on cold customers too */
  assert_true(stats->evicted_customers > 0);
  assert_true(never.out.len > 10000);
  assert_same_bytes(&never.out, &always.out);
  assert_same_bytes(&never.out, &idle.out);
  assert_same_bytes(&never.changelog, &always.changelog);
  assert_same_bytes(&never.changelog, &idle.changelog);
  assert_int_equal(cx_processor_customer_count(never.processor),
                   cx_processor_customer_count(always.processor));
  /* cold customers hold less memory */
  assert_true(cx_processor_state_bytes(always.processor) <
              cx_processor_state_bytes(never.processor));
  run_free(&never);
  run_free(&always);
  run_free(&idle);
}

/* Under state.max.customers the least recently active customer goes, cold
 * or hot, with the same tombstones. */
static void test_compaction_keeps_the_customer_bound_exact(void **unused) {
  (void)unused;
  run_t never, always;
  run_init(&never, 0, 40);
  run_init(&always, -1, 40);
  feed(&never, 5, 0, 150, 1500, T0, 5 * MIN_MS);
  feed(&always, 5, 0, 150, 1500, T0, 5 * MIN_MS);
  assert_true(cx_processor_stats(never.processor)->limit_evicted_customers > 100);
  assert_int_equal(cx_processor_stats(never.processor)->limit_evicted_customers,
                   cx_processor_stats(always.processor)->limit_evicted_customers);
  assert_same_bytes(&never.out, &always.out);
  assert_same_bytes(&never.changelog, &always.changelog);
  run_free(&never);
  run_free(&always);
}

/* Restoring a changelog into a compacting processor, with its timers set
 * again, then going on, gives what the original gives. */
static void test_restore_into_a_compacting_processor_continues_alike(void **unused) {
  (void)unused;
  run_t original, restored;
  run_init(&original, 0, 0);
  run_init(&restored, -1, 0);
  int64_t end = feed(&original, 3, 0, 60, 1500, T0, 40 * MIN_MS);
  /* the last record of each customer in the changelog, restored in order */
  char *log = malloc(original.changelog.len + 1);
  memcpy(log, original.changelog.data, original.changelog.len);
  log[original.changelog.len] = '\0';
  for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
    if (line[0] == '-') {
      cx_processor_forget(restored.processor, cx_str(line + 1));
      continue;
    }
    size_t len = strlen(line + 1) / 2;
    uint8_t *record = malloc(len);
    assert_non_null(record);
    for (size_t i = 0; i < len; i++) {
      unsigned byte;
      assert_int_equal(sscanf(line + 1 + 2 * i, "%2x", &byte), 1);
      record[i] = (uint8_t)byte;
    }
    char errstr[200];
    assert_int_equal(cx_processor_restore(restored.processor, record, len, errstr,
                                          sizeof(errstr)), 0);
    free(record);
  }
  free(log);
  cx_partition_progress_t progress;
  assert_true(cx_processor_take_progress(original.processor, &progress));
  cx_processor_restore_progress(restored.processor, &progress);
  original.out.len = 0;
  feed(&original, 99, 0, 60, 500, end + 2 * DAY_MS, 20 * MIN_MS);
  feed(&restored, 99, 0, 60, 500, end + 2 * DAY_MS, 20 * MIN_MS);
  assert_true(original.out.len > 1000);
  assert_same_bytes(&original.out, &restored.out);
  run_free(&original);
  run_free(&restored);
}

/* --- the table ----------------------------------------------------------------- */

static cx_customer_t *upsert(cx_state_t *s, const char *key) {
  return cx_state_upsert(s, cx_str(key), cx_state_hash(cx_str(key)));
}

static cx_customer_t *find(cx_state_t *s, const char *key) {
  return cx_state_find(s, cx_str(key), cx_state_hash(cx_str(key)));
}

static void encode(const cx_customer_t *c, cx_state_codec_buf_t *buf) {
  buf->len = 0;
  assert_int_equal(cx_state_codec_encode(c, buf), 0);
}

/* A customer with a log, blocks and a long key, compacted and found again. */
static void test_cold_customer_comes_back_whole(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  const char *key = "a-customer-key-longer-than-sixteen-bytes";
  cx_customer_t *c = upsert(s, key);
  c->last_event_ms = c->first_event_ms = T0;
  c->event_count = 3;
  cx_interaction_fields_t fields = {.at_ms = T0, .wait_ms = 5000000000LL, .type = CX_EVENT_CONTACT,
                                    .channel = CX_CHANNEL_PHONE, .case_hash = 7};
  assert_true(cx_customer_add_interaction(c, &fields, cx_str("event-1"), T0 - DAY_MS) >= 0);
  cx_customer_rules_mut(c)->quiet_until_ms[2] = T0 + 5;
  cx_customer_profile_mut(c)->csat = 4;
  assert_non_null(cx_customer_sessions_mut(c, 2));
  c->sessions[1].failures = 3;
  c->dirty = 1;
  uint32_t index = cx_state_index_of(s, c), generation = c->generation;
  cx_state_codec_buf_t before = {0}, after = {0};
  encode(c, &before);
  upsert(s, "other")->last_event_ms = T0 + DAY_MS;
  assert_int_equal(cx_state_compact(s, T0, H_MS, 100), 0); /* nobody idle an hour yet */
  size_t hot_bytes = cx_state_bytes(s);

  assert_int_equal(cx_state_compact(s, T0 + 2 * H_MS, H_MS, 100), 1); /* "other" is not idle */
  assert_int_equal(cx_state_cold_count(s), 1);
  assert_int_equal(cx_state_customer_count(s), 2);
  assert_true(cx_state_bytes(s) < hot_bytes);
  /* the prefetch hints read a cold customer's blob, a hot one's record and
   * change nothing */
  size_t cold_bytes = cx_state_bytes(s);
  const char *keys[] = {key, "other", "absent"};
  for (int i = 0; i < 3; i++) {
    uint64_t hash = cx_state_hash(cx_str(keys[i]));
    cx_state_prefetch_slot(s, hash);
    cx_state_prefetch_record(s, hash);
    /* peek: only a hot customer's record, never a cold one's (no decoding) */
    const cx_customer_t *peeked = cx_state_peek(s, hash);
    if (i == 1)
      assert_ptr_equal(peeked, find(s, "other"));
    else
      assert_null(peeked);
  }
  assert_int_equal(cx_state_cold_count(s), 1);
  assert_int_equal(cx_state_bytes(s), cold_bytes);

  c = find(s, key);
  assert_non_null(c);
  assert_int_equal(cx_state_cold_count(s), 0);
  encode(c, &after);
  assert_int_equal(before.len, after.len);
  assert_memory_equal(before.bytes, after.bytes, before.len);
  assert_int_equal(c->dirty, 1);
  assert_int_equal(c->sessions[1].failures, 3);
  assert_int_equal(cx_interaction_wait_ms(c, &cx_customer_interactions(c)[0]), 5000000000LL);
  /* the same id and generation: timers set before still find it */
  assert_int_equal(cx_state_index_of(s, c), index);
  assert_int_equal(c->generation, generation);
  assert_ptr_equal(cx_state_at(s, index, generation), c);
  cx_state_codec_buf_free(&before);
  cx_state_codec_buf_free(&after);
  cx_state_destroy(s);
}

/* A timer reaches a cold customer through cx_state_at; it is compacted again
 * at the next call, unless an event looks it up. */
static void test_timer_rehydrates_and_the_next_call_compacts_again(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  cx_customer_t *a = upsert(s, "A");
  a->last_event_ms = T0;
  uint32_t ia = cx_state_index_of(s, a), ga = a->generation;
  cx_customer_t *b = upsert(s, "B");
  b->last_event_ms = T0;
  uint32_t ib = cx_state_index_of(s, b), gb = b->generation;
  assert_int_equal(cx_state_compact(s, T0 + 1, 0, 100), 2);
  assert_int_equal(cx_state_cold_count(s), 2);

  a = cx_state_at(s, ia, ga);
  assert_non_null(a);
  a->event_count = 42; /* a timer's change */
  assert_int_equal(cx_state_cold_count(s), 1);
  assert_ptr_equal(cx_state_at(s, ia, ga), a); /* a second timer of the same customer */
  b = cx_state_at(s, ib, gb);                  /* A goes cold again, keeping the change */
  assert_non_null(b);
  assert_int_equal(cx_state_cold_count(s), 1);
  assert_int_equal(find(s, "A")->event_count, 42);
  /* B, read by a timer and then found by an event, stays hot */
  b = find(s, "B");
  assert_int_equal(cx_state_cold_count(s), 0);
  assert_null(cx_state_at(s, ib, gb + 1));
  assert_null(cx_state_at(s, ib + 1000, gb));
  cx_state_destroy(s);
}

static int evicted_count;
static char evicted_keys[256];

static void on_evicted(const cx_customer_t *customer, void *opaque) {
  (void)opaque;
  evicted_count++;
  cx_str_t key = cx_customer_key(customer);
  strncat(evicted_keys, key.ptr, key.len);
  strcat(evicted_keys, ";");
}

/* Idle eviction, the customer bound, removal and restore see cold
 * customers as customers, and their ids go stale. */
static void test_cold_customers_are_evicted_removed_and_replaced(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  char key[64];
  for (int i = 0; i < 10; i++) {
    snprintf(key, sizeof(key), i % 2 ? "k%d" : "a-long-customer-key-number-%d", i);
    upsert(s, key)->last_event_ms = T0 + i;
  }
  cx_customer_t *k1 = find(s, "k1");
  uint32_t i1 = cx_state_index_of(s, k1), g1 = k1->generation;
  /* a customer removed before compaction starts: its id is free, then reused */
  cx_customer_t *gone = upsert(s, "gone");
  uint32_t i_gone = cx_state_index_of(s, gone), g_gone = gone->generation;
  cx_state_remove(s, cx_str("gone"), cx_state_hash(cx_str("gone")));
  assert_int_equal(cx_state_compact(s, T0 + 100, 0, 100), 10);
  cx_customer_t *reused = upsert(s, "reused");
  assert_int_equal(cx_state_index_of(s, reused), i_gone);
  assert_int_not_equal(reused->generation, g_gone);
  assert_null(cx_state_at(s, i_gone, g_gone));
  assert_ptr_equal(cx_state_at(s, i_gone, reused->generation), reused);
  cx_state_remove(s, cx_str("reused"), cx_state_hash(cx_str("reused")));
  evicted_count = 0;
  evicted_keys[0] = '\0';
  assert_int_equal(cx_state_evict_idle(s, T0 + 2, on_evicted, NULL), 2); /* 0 and 1 */
  assert_int_equal(evicted_count, 2);
  assert_non_null(strstr(evicted_keys, "k1;"));
  assert_non_null(strstr(evicted_keys, "a-long-customer-key-number-0;"));
  assert_null(cx_state_at(s, i1, g1));
  assert_null(find(s, "k1"));
  assert_int_equal(cx_state_customer_count(s), 8);

  cx_state_remove(s, cx_str("k3"), cx_state_hash(cx_str("k3")));
  assert_null(find(s, "k3"));
  assert_int_equal(cx_state_customer_count(s), 7);

  /* restore over a cold customer: replaced, its old id stale */
  cx_customer_t *k5 = find(s, "k5");
  uint32_t i5 = cx_state_index_of(s, k5), g5 = k5->generation;
  assert_int_equal(cx_state_compact(s, T0 + 100, 0, 100), 1);
  cx_state_codec_buf_t buf = {0};
  cx_customer_t fresh = {0};
  fresh.key_len = 2;
  memcpy(fresh.key.inline_key, "k5", 2);
  fresh.last_event_ms = fresh.first_event_ms = fresh.scores_at_ms = T0 + 50;
  fresh.event_count = 9;
  encode(&fresh, &buf);
  cx_customer_t decoded;
  char errstr[100];
  assert_int_equal(cx_state_codec_decode(buf.bytes, buf.len, &decoded, errstr, sizeof(errstr)), 0);
  assert_non_null(cx_state_restore(s, &decoded));
  assert_null(cx_state_at(s, i5, g5));
  assert_int_equal(find(s, "k5")->event_count, 9);
  assert_int_equal(cx_state_customer_count(s), 7);

  /* a bound of 3 evicts the least recently active, cold or hot */
  assert_int_equal(cx_state_compact(s, T0 + 100, 0, 100), 1); /* k5, found since */
  assert_int_equal(cx_state_cold_count(s), 7);
  evicted_count = 0;
  evicted_keys[0] = '\0';
  assert_int_equal(cx_state_set_max_customers(s, 3, on_evicted, NULL), 0);
  assert_int_equal(evicted_count, 4);
  assert_int_equal(cx_state_customer_count(s), 3);
  upsert(s, "new")->last_event_ms = T0 + 200;
  assert_int_equal(evicted_count, 5);
  assert_int_equal(cx_state_customer_count(s), 3);
  assert_int_equal(cx_state_limit_evictions(s), 5);
  cx_state_codec_buf_free(&buf);
  cx_state_destroy(s);
}

/* The compaction queue holds each hot customer about once: it does not
 * grow with events or with customers that come and go. */
static void test_compaction_queue_stays_small(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  char key[32];
  assert_int_equal(cx_state_compact(s, T0, H_MS, 16), 0);
  for (int i = 0; i < 30000; i++) {
    snprintf(key, sizeof(key), "c%d", i % 5000);
    cx_customer_t *c = upsert(s, key);
    c->last_event_ms = T0 + i * 1000LL;
    if (i % 3 == 0)
      cx_state_remove(s, cx_str(key), cx_state_hash(cx_str(key)));
    cx_state_compact(s, T0 + i * 1000LL, H_MS, 16);
  }
  /* at most ~3,600 customers were active within the hour: the rest are cold */
  assert_true(cx_state_cold_count(s) > 800);
  assert_true(cx_state_customer_count(s) - cx_state_cold_count(s) < 3700);
  assert_true(cx_state_bytes(s) < 5000 * 400);
  cx_state_destroy(s);
}

/* The blob store: blobs keep their bytes while others come and go, a freed
 * blob's place goes to the next blob of its size, a big blob has a slab of
 * its own, and a slab's tail too short for a blob is not lost. */
static void test_blob_store_keeps_blobs_apart_and_reuses_them(void **unused) {
  (void)unused;
  cx_state_cold_store_t store = {0};
  enum { N = 3000 };
  static uint32_t handles[N];
  static size_t sizes[N];
  for (int i = 0; i < N; i++) {
    /* 3..600 bytes (past 256: a slab of its own), every 100th past 4 KiB */
    sizes[i] = i % 100 == 99 ? 5000 + (size_t)i : 3 + (size_t)(i * 37 % 598);
    uint8_t *blob = cx_state_cold_store_alloc(&store, sizes[i], &handles[i]);
    assert_non_null(blob);
    assert_true(handles[i] < (1u << CX_STATE_COLD_HANDLE_BITS));
    memset(blob, i & 0xff, sizes[i]);
  }
  size_t live = store.live_bytes, slabs = store.slab_bytes;
  for (int i = 0; i < N; i += 2) /* every other one back */
    cx_state_cold_store_free(&store, handles[i], sizes[i]);
  assert_true(store.live_bytes < live);
  assert_true(store.slab_bytes < slabs); /* the big ones' slabs went */
  for (int i = 0; i < N; i += 2) { /* the same sizes again: the freed places */
    uint8_t *blob = cx_state_cold_store_alloc(&store, sizes[i], &handles[i]);
    assert_non_null(blob);
    memset(blob, (i + 1) & 0xff, sizes[i]);
  }
  assert_int_equal(store.live_bytes, live);
  assert_int_equal(store.slab_bytes, slabs); /* no new slab for the small ones */
  for (int i = 0; i < N; i++) {
    const uint8_t *blob = cx_state_cold_store_at(&store, handles[i]);
    uint8_t want = (uint8_t)((i % 2 ? i : i + 1) & 0xff);
    for (size_t b = 0; b < sizes[i]; b++)
      if (blob[b] != want)
        fail_msg("blob %d byte %zu: %u, want %u", i, b, blob[b], want);
  }
  /* fill past a few slabs (256 KiB) with the largest small blobs: the
   * tails go on free lists */
  for (int i = 0; i < 4000; i++) {
    uint32_t handle;
    uint8_t *blob = cx_state_cold_store_alloc(&store, 256 - (size_t)(i % 3) * 8, &handle);
    assert_non_null(blob);
    memset(blob, 0, 256 - (size_t)(i % 3) * 8);
  }
  cx_state_cold_store_destroy(&store);
  assert_int_equal(store.slab_count, 0);
}

/* A customer whose blob needs a slab of its own (a long log) comes back
 * whole, and its slab goes with it. */
static void test_big_cold_customer_comes_back_whole(void **unused) {
  (void)unused;
  cx_state_t *s = cx_state_new();
  cx_customer_t *c = upsert(s, "big");
  c->last_event_ms = c->first_event_ms = T0;
  char id[64];
  for (int i = 0; i < 300; i++) {
    cx_interaction_fields_t fields = {.at_ms = T0 + i, .wait_ms = 1000 + i,
                                      .type = CX_EVENT_CONTACT, .channel = CX_CHANNEL_PHONE};
    snprintf(id, sizeof(id), "an-event-id-of-some-length-%d", i);
    assert_true(cx_customer_add_interaction(c, &fields, cx_str(id), T0 - DAY_MS) >= 0);
  }
  c->last_event_ms = T0 + 300;
  cx_state_codec_buf_t before = {0}, after = {0};
  encode(c, &before);
  assert_true(before.len > CX_STATE_COLD_CLASS_MAX * 8);
  assert_int_equal(cx_state_compact(s, T0 + 2 * H_MS, H_MS, 100), 1);
  assert_int_equal(cx_state_cold_count(s), 1);
  c = find(s, "big");
  assert_non_null(c);
  encode(c, &after);
  assert_int_equal(before.len, after.len);
  assert_memory_equal(before.bytes, after.bytes, before.len);
  /* cold and hot again a few times: the big slab is reused, not leaked */
  for (int round = 0; round < 3; round++) {
    assert_int_equal(cx_state_compact(s, T0 + (3 + round) * H_MS, H_MS, 100), 1);
    assert_non_null(find(s, "big"));
  }
  cx_state_codec_buf_free(&before);
  cx_state_codec_buf_free(&after);
  cx_state_destroy(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_compaction_never_changes_outputs_or_changelog),
      cmocka_unit_test(test_compaction_keeps_the_customer_bound_exact),
      cmocka_unit_test(test_restore_into_a_compacting_processor_continues_alike),
      cmocka_unit_test(test_cold_customer_comes_back_whole),
      cmocka_unit_test(test_timer_rehydrates_and_the_next_call_compacts_again),
      cmocka_unit_test(test_cold_customers_are_evicted_removed_and_replaced),
      cmocka_unit_test(test_compaction_queue_stays_small),
      cmocka_unit_test(test_blob_store_keeps_blobs_apart_and_reuses_them),
      cmocka_unit_test(test_big_cold_customer_comes_back_whole),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
