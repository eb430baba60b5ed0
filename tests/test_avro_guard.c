/* Tests for stream/avro_guard.c: valid datums written by Avro-C pass, every
 * hazard of DESIGN.md section 10 is caught with the right code, and anything
 * the guard accepts (even after random corruption) Avro-C reads completely,
 * so the guard is never looser than Avro-C nor stricter on real data. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <avro.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../stream/avro_guard.h"

#define EVENT_SCHEMA_PATH "schemas/interaction_event.avsc"
#define MAX_MESSAGE 4096

/* A schema with a guard and a generic value to build datums and to read them
 * back with Avro-C. */
typedef struct {
  avro_schema_t schema;       /* owned */
  avro_value_iface_t *iface;  /* generic class of schema */
  avro_value_t value;         /* built, then written */
  avro_value_t read_back;     /* target of avro_value_read */
  avro_reader_t reader;       /* memory reader, pointed at each message */
  cx_avro_guard_t *guard;     /* the guard under test */
  char errstr[256];           /* last error of the guard */
} fixture_t;

/* A tiny deterministic generator (xorshift64*), so failures reproduce. */
static uint64_t random_state = 0x9e3779b97f4a7c15u;

static uint64_t random_next(void) {
  random_state ^= random_state >> 12;
  random_state ^= random_state << 25;
  random_state ^= random_state >> 27;
  return random_state * 0x2545f4914f6cdd1du;
}

static size_t random_below(size_t bound) {
  return (size_t)(random_next() % bound);
}

static avro_schema_t schema_from_json(const char *json) {
  avro_schema_t schema = NULL;
  avro_schema_error_t unused;
  int rc = avro_schema_from_json(json, (int32_t)strlen(json), &schema, &unused);
  if (rc)
    print_message("schema %s: %s\n", json, avro_strerror());
  assert_int_equal(rc, 0);
  return schema;
}

static avro_schema_t schema_from_file(const char *path) {
  static char text[65536];
  FILE *fp = fopen(path, "rb");
  if (!fp)
    print_message("cannot open %s (run the tests from the repository root)\n", path);
  assert_non_null(fp);
  size_t len = fread(text, 1, sizeof(text) - 1, fp);
  fclose(fp);
  assert_true(len > 0 && len < sizeof(text) - 1);
  text[len] = '\0';
  return schema_from_json(text);
}

static void fixture_init(fixture_t *f, avro_schema_t schema, const cx_avro_guard_limits_t *limits) {
  memset(f, 0, sizeof(*f));
  f->schema = schema;
  f->iface = avro_generic_class_from_schema(schema);
  assert_non_null(f->iface);
  assert_int_equal(avro_generic_value_new(f->iface, &f->value), 0);
  assert_int_equal(avro_generic_value_new(f->iface, &f->read_back), 0);
  f->reader = avro_reader_memory("", 0);
  assert_non_null(f->reader);
  cx_err_t err = cx_avro_guard_new(schema, limits, &f->guard, f->errstr, sizeof(f->errstr));
  if (err)
    print_message("cx_avro_guard_new: %s\n", f->errstr);
  assert_int_equal(err, CX_OK);
}

static void fixture_init_json(fixture_t *f, const char *json, const cx_avro_guard_limits_t *limits) {
  fixture_init(f, schema_from_json(json), limits);
}

static void fixture_done(fixture_t *f) {
  cx_avro_guard_destroy(f->guard);
  avro_reader_free(f->reader);
  avro_value_decref(&f->read_back);
  avro_value_decref(&f->value);
  avro_value_iface_decref(f->iface);
  avro_schema_decref(f->schema);
}

static size_t write_value(fixture_t *f, uint8_t *buf, size_t cap) {
  avro_writer_t writer = avro_writer_memory((const char *)buf, (int64_t)cap);
  assert_non_null(writer);
  int rc = avro_value_write(writer, &f->value);
  if (rc)
    print_message("avro_value_write: %s\n", avro_strerror());
  assert_int_equal(rc, 0);
  size_t len = (size_t)avro_writer_tell(writer);
  avro_writer_free(writer);
  return len;
}

/* Avro-C reads buf as one datum and no byte is left over. Call it only on
 * bytes the guard accepted: on others Avro-C 1.11.1 may allocate gigabytes
 * or write out of bounds, which is why the guard exists. */
static bool avro_reads_exactly(fixture_t *f, const uint8_t *buf, size_t len) {
  uint8_t extra;
  avro_reader_memory_set_source(f->reader, (const char *)buf, (int64_t)len);
  if (avro_value_read(f->reader, &f->read_back)) {
    print_message("avro_value_read failed: %s\n", avro_strerror());
    return false;
  }
  return avro_read(f->reader, &extra, 1) != 0;
}

/* The guard sees an exactly sized heap copy, so ASan catches any read past
 * the end of the message. */
static cx_err_t run_guard(fixture_t *f, const void *buf, size_t len) {
  uint8_t *copy = malloc(len);
  assert_true(copy || len == 0);
  if (len)
    memcpy(copy, buf, len);
  f->errstr[0] = '\0';
  cx_err_t err = cx_avro_guard_check(f->guard, copy, len, f->errstr, sizeof(f->errstr));
  free(copy);
  return err;
}

static void assert_guard(fixture_t *f, const void *buf, size_t len, cx_err_t expected) {
  cx_err_t err = run_guard(f, buf, len);
  if (err != expected)
    print_message("expected %s, got %s: %s\n", cx_err2code(expected), cx_err2code(err), f->errstr);
  assert_int_equal(err, expected);
  if (err != CX_OK)
    assert_non_null(strstr(f->errstr, "byte"));
}

/* Valid bytes pass the guard, Avro-C agrees, and no proper prefix passes. */
static void expect_valid_and_every_prefix_rejected(fixture_t *f, const uint8_t *buf, size_t len) {
  assert_guard(f, buf, len, CX_OK);
  assert_true(avro_reads_exactly(f, buf, len));
  for (size_t prefix = 0; prefix < len; prefix++) {
    uint8_t copy[MAX_MESSAGE];
    memcpy(copy, buf, prefix);
    cx_err_t err = run_guard(f, prefix ? copy : NULL, prefix);
    if (err != CX_ERR_MSG_MALFORMED)
      print_message("prefix of %zu of %zu bytes: %s %s\n", prefix, len, cx_err2code(err), f->errstr);
    assert_int_equal(err, CX_ERR_MSG_MALFORMED);
  }
}

typedef struct {
  const char *event_id;        /* required */
  const char *customer_id;     /* required */
  int64_t occurred_at_ms;      /* required */
  int channel;                 /* symbol index */
  int type;                    /* symbol index */
  int outcome;                 /* symbol index, or -1 for null */
  const char *case_id;         /* NULL for null */
  const char *topic;           /* NULL for null */
  const char *agent_id;        /* NULL for null */
  bool has_wait_ms;            /* wait_ms is set */
  int64_t wait_ms;             /* when has_wait_ms */
  bool has_handle_ms;          /* handle_ms is set */
  int64_t handle_ms;           /* when has_handle_ms */
  bool has_sentiment;          /* sentiment is set */
  float sentiment;             /* when has_sentiment */
  bool has_csat;               /* csat is set */
  int32_t csat;                /* when has_csat */
  bool has_nps;                /* nps is set */
  int32_t nps;                 /* when has_nps */
  size_t attribute_count;      /* entries in keys and values */
  const char *keys[8];         /* attribute names */
  const char *values[8];       /* attribute values */
} sample_event_t;

static void field_of(avro_value_t *record, const char *name, avro_value_t *field) {
  assert_int_equal(avro_value_get_by_name(record, name, field, NULL), 0);
}

static void set_optional_string(avro_value_t *record, const char *name, const char *text) {
  avro_value_t field, branch;
  field_of(record, name, &field);
  if (!text) {
    assert_int_equal(avro_value_set_branch(&field, 0, &branch), 0);
    assert_int_equal(avro_value_set_null(&branch), 0);
    return;
  }
  assert_int_equal(avro_value_set_branch(&field, 1, &branch), 0);
  assert_int_equal(avro_value_set_string(&branch, text), 0);
}

static void set_optional_long(avro_value_t *record, const char *name, bool present, int64_t number) {
  avro_value_t field, branch;
  field_of(record, name, &field);
  assert_int_equal(avro_value_set_branch(&field, present ? 1 : 0, &branch), 0);
  assert_int_equal(present ? avro_value_set_long(&branch, number) : avro_value_set_null(&branch), 0);
}

static void set_optional_int(avro_value_t *record, const char *name, bool present, int32_t number) {
  avro_value_t field, branch;
  field_of(record, name, &field);
  assert_int_equal(avro_value_set_branch(&field, present ? 1 : 0, &branch), 0);
  assert_int_equal(present ? avro_value_set_int(&branch, number) : avro_value_set_null(&branch), 0);
}

static size_t encode_event(fixture_t *f, const sample_event_t *event, uint8_t *buf, size_t cap) {
  avro_value_t *record = &f->value;
  avro_value_t field, branch, entry;
  assert_int_equal(avro_value_reset(record), 0);
  field_of(record, "event_id", &field);
  assert_int_equal(avro_value_set_string(&field, event->event_id), 0);
  field_of(record, "customer_id", &field);
  assert_int_equal(avro_value_set_string(&field, event->customer_id), 0);
  field_of(record, "occurred_at", &field);
  assert_int_equal(avro_value_set_long(&field, event->occurred_at_ms), 0);
  field_of(record, "channel", &field);
  assert_int_equal(avro_value_set_enum(&field, event->channel), 0);
  field_of(record, "type", &field);
  assert_int_equal(avro_value_set_enum(&field, event->type), 0);
  field_of(record, "outcome", &field);
  if (event->outcome < 0) {
    assert_int_equal(avro_value_set_branch(&field, 0, &branch), 0);
    assert_int_equal(avro_value_set_null(&branch), 0);
  } else {
    assert_int_equal(avro_value_set_branch(&field, 1, &branch), 0);
    assert_int_equal(avro_value_set_enum(&branch, event->outcome), 0);
  }
  set_optional_string(record, "case_id", event->case_id);
  set_optional_string(record, "topic", event->topic);
  set_optional_string(record, "agent_id", event->agent_id);
  set_optional_long(record, "wait_ms", event->has_wait_ms, event->wait_ms);
  set_optional_long(record, "handle_ms", event->has_handle_ms, event->handle_ms);
  field_of(record, "sentiment", &field);
  assert_int_equal(avro_value_set_branch(&field, event->has_sentiment ? 1 : 0, &branch), 0);
  assert_int_equal(event->has_sentiment ? avro_value_set_float(&branch, event->sentiment)
                                        : avro_value_set_null(&branch), 0);
  set_optional_int(record, "csat", event->has_csat, event->csat);
  set_optional_int(record, "nps", event->has_nps, event->nps);
  field_of(record, "attributes", &field);
  for (size_t i = 0; i < event->attribute_count; i++) {
    assert_int_equal(avro_value_add(&field, event->keys[i], &entry, NULL, NULL), 0);
    assert_int_equal(avro_value_set_string(&entry, event->values[i]), 0);
  }
  return write_value(f, buf, cap);
}

static const sample_event_t minimal_event = {
  .event_id = "e", .customer_id = "c", .outcome = -1,
};

/* A typical event of about 100 bytes, like the bank data. */
static const sample_event_t typical_event = {
  .event_id = "8f14e45f-ceea-467a-9af0-2b4c1c1b5f7e", .customer_id = "CUST-0042137",
  .occurred_at_ms = 1718000000000, .channel = 0, .type = 0, .outcome = 0,
  .case_id = NULL, .topic = "billing", .agent_id = "A-117",
  .has_wait_ms = true, .wait_ms = 42000, .has_handle_ms = true, .handle_ms = 315000,
  .has_sentiment = true, .sentiment = -0.25f, .has_csat = true, .csat = 4,
  .attribute_count = 1, .keys = {"seq"}, .values = {"17"},
};

static const sample_event_t extreme_event = {
  .event_id = "", .customer_id = "\xc3\xa9t\xc3\xa9", .occurred_at_ms = INT64_MIN,
  .channel = 11, .type = 18, .outcome = 4, .case_id = "", .topic = "t", .agent_id = "",
  .has_wait_ms = true, .wait_ms = INT64_MAX, .has_handle_ms = true, .handle_ms = -1,
  .has_sentiment = true, .sentiment = 1.0f, .has_csat = true, .csat = INT32_MIN,
  .has_nps = true, .nps = INT32_MAX,
  .attribute_count = 3, .keys = {"", "k", "long key with spaces"}, .values = {"v", "", "x"},
};

static void random_text(char *out, size_t cap) {
  size_t len = random_below(4) == 0 ? 0 : random_below(cap);
  for (size_t i = 0; i < len; i++)
    out[i] = (char)(' ' + random_below(95));
  out[len] = '\0';
}

static int64_t random_long(void) {
  switch (random_below(4)) {
  case 0: return (int64_t)random_next();
  case 1: return (int64_t)random_below(1000) - 500;
  case 2: return random_below(2) ? INT64_MAX : INT64_MIN;
  default: return (int64_t)(random_next() >> random_below(64));
  }
}

static int32_t random_int(void) {
  switch (random_below(3)) {
  case 0: return (int32_t)(uint32_t)random_next();
  case 1: return (int32_t)random_below(11);
  default: return random_below(2) ? INT32_MAX : INT32_MIN;
  }
}

/* Fills *event with random values; strings live in text. */
static void random_event(sample_event_t *event, char text[16][40]) {
  memset(event, 0, sizeof(*event));
  random_text(text[0], 40);
  random_text(text[1], 40);
  event->event_id = text[0];
  event->customer_id = text[1];
  event->occurred_at_ms = random_long();
  event->channel = (int)random_below(12);
  event->type = (int)random_below(19);
  event->outcome = (int)random_below(6) - 1;
  random_text(text[2], 40);
  random_text(text[3], 40);
  random_text(text[4], 40);
  event->case_id = random_below(2) ? text[2] : NULL;
  event->topic = random_below(2) ? text[3] : NULL;
  event->agent_id = random_below(2) ? text[4] : NULL;
  event->has_wait_ms = random_below(2);
  event->wait_ms = random_long();
  event->has_handle_ms = random_below(2);
  event->handle_ms = random_long();
  event->has_sentiment = random_below(2);
  event->sentiment = (float)random_below(2001) / 1000.0f - 1.0f;
  event->has_csat = random_below(2);
  event->csat = random_int();
  event->has_nps = random_below(2);
  event->nps = random_int();
  event->attribute_count = random_below(6);
  for (size_t i = 0; i < event->attribute_count; i++) {
    snprintf(text[5 + i], 40, "key%zu", i);
    random_text(text[11 + (i % 5)], 40);
    event->keys[i] = text[5 + i];
    event->values[i] = text[11 + (i % 5)];
  }
}

static void event_fixture(fixture_t *f, const cx_avro_guard_limits_t *limits) {
  fixture_init(f, schema_from_file(EVENT_SCHEMA_PATH), limits);
}

static void test_limits_default_are_1mib_10000_elements_depth_32(void **state) {
  (void)state;
  cx_avro_guard_limits_t limits;
  cx_avro_guard_limits_default(&limits);
  assert_int_equal(limits.max_message_bytes, 1024 * 1024);
  assert_int_equal(limits.max_elements, 10000);
  assert_int_equal(limits.max_depth, 32);
}

static void test_new_rejects_null_schema_and_depth_out_of_range(void **state) {
  (void)state;
  char errstr[256];
  cx_avro_guard_t *guard = (cx_avro_guard_t *)1;
  assert_int_equal(cx_avro_guard_new(NULL, NULL, &guard, errstr, sizeof(errstr)), CX_ERR_INVALID_ARG);
  assert_null(guard);

  avro_schema_t schema = schema_from_json("\"long\"");
  cx_avro_guard_limits_t limits;
  cx_avro_guard_limits_default(&limits);
  limits.max_depth = 0;
  assert_int_equal(cx_avro_guard_new(schema, &limits, &guard, errstr, sizeof(errstr)), CX_ERR_INVALID_ARG);
  assert_non_null(strstr(errstr, "max_depth"));
  limits.max_depth = CX_AVRO_GUARD_DEPTH_CEILING + 1;
  assert_int_equal(cx_avro_guard_new(schema, &limits, &guard, errstr, sizeof(errstr)), CX_ERR_INVALID_ARG);
  limits.max_depth = CX_AVRO_GUARD_DEPTH_CEILING;
  assert_int_equal(cx_avro_guard_new(schema, &limits, &guard, errstr, sizeof(errstr)), CX_OK);
  cx_avro_guard_destroy(guard);
  avro_schema_decref(schema);
}

static void test_destroy_null_is_a_noop(void **state) {
  (void)state;
  cx_avro_guard_destroy(NULL);
}

static void test_guard_outlives_the_schema_it_was_compiled_from(void **state) {
  (void)state;
  char errstr[256];
  cx_avro_guard_t *guard = NULL;
  avro_schema_t schema = schema_from_file(EVENT_SCHEMA_PATH);
  assert_int_equal(cx_avro_guard_new(schema, NULL, &guard, errstr, sizeof(errstr)), CX_OK);
  avro_schema_decref(schema);
  const uint8_t minimal[] = {2, 'e', 2, 'c', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  assert_int_equal(cx_avro_guard_check(guard, minimal, sizeof(minimal), errstr, sizeof(errstr)), CX_OK);
  cx_avro_guard_destroy(guard);
}

static void test_accepts_interaction_events_written_by_avro_c(void **state) {
  (void)state;
  fixture_t f;
  uint8_t buf[MAX_MESSAGE];
  event_fixture(&f, NULL);
  const sample_event_t *events[] = {&minimal_event, &typical_event, &extreme_event};
  for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
    size_t len = encode_event(&f, events[i], buf, sizeof(buf));
    assert_guard(&f, buf, len, CX_OK);
    assert_true(avro_reads_exactly(&f, buf, len));
  }
  fixture_done(&f);
}

static void test_accepts_hand_encoded_minimal_interaction_event(void **state) {
  (void)state;
  fixture_t f;
  event_fixture(&f, NULL);
  const uint8_t minimal[] = {2, 'e', 2, 'c', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  uint8_t buf[MAX_MESSAGE];
  size_t len = encode_event(&f, &minimal_event, buf, sizeof(buf));
  assert_int_equal(len, sizeof(minimal));
  assert_memory_equal(buf, minimal, len);
  assert_guard(&f, minimal, sizeof(minimal), CX_OK);
  fixture_done(&f);
}

static void test_accepts_random_valid_interaction_events(void **state) {
  (void)state;
  fixture_t f;
  uint8_t buf[MAX_MESSAGE];
  char text[16][40];
  sample_event_t event;
  event_fixture(&f, NULL);
  for (int i = 0; i < 2000; i++) {
    random_event(&event, text);
    size_t len = encode_event(&f, &event, buf, sizeof(buf));
    assert_guard(&f, buf, len, CX_OK);
  }
  fixture_done(&f);
}

static void test_rejects_every_truncation_of_valid_interaction_events(void **state) {
  (void)state;
  fixture_t f;
  uint8_t buf[MAX_MESSAGE];
  char text[16][40];
  sample_event_t event;
  event_fixture(&f, NULL);
  const sample_event_t *events[] = {&minimal_event, &typical_event, &extreme_event};
  for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
    size_t len = encode_event(&f, events[i], buf, sizeof(buf));
    expect_valid_and_every_prefix_rejected(&f, buf, len);
  }
  for (int i = 0; i < 100; i++) {
    random_event(&event, text);
    size_t len = encode_event(&f, &event, buf, sizeof(buf));
    expect_valid_and_every_prefix_rejected(&f, buf, len);
  }
  fixture_done(&f);
}

static void test_rejects_string_length_larger_than_message(void **state) {
  (void)state;
  fixture_t f;
  fixture_init_json(&f, "\"string\"", NULL);
  /* 2^31 zig-zags to 2^32: five varint bytes and nothing after them. */
  const uint8_t huge[] = {0x80, 0x80, 0x80, 0x80, 0x10};
  assert_guard(&f, huge, sizeof(huge), CX_ERR_MSG_MALFORMED);
  assert_string_equal(f.errstr, "string length 2147483648 at byte 0 exceeds the 0 bytes left");
  const uint8_t one_short[] = {0x06, 'a', 'b'};
  assert_guard(&f, one_short, sizeof(one_short), CX_ERR_MSG_MALFORMED);
  const uint8_t exact[] = {0x06, 'a', 'b', 'c'};
  assert_guard(&f, exact, sizeof(exact), CX_OK);
  fixture_done(&f);
}

static void test_rejects_customer_id_length_larger_than_message(void **state) {
  (void)state;
  fixture_t f;
  event_fixture(&f, NULL);
  /* event_id "a", then customer_id declaring 2^31-1 bytes with 2 left. */
  const uint8_t bytes[] = {0x02, 'a', 0xfe, 0xff, 0xff, 0xff, 0x0f, 'x', 'y'};
  assert_guard(&f, bytes, sizeof(bytes), CX_ERR_MSG_MALFORMED);
  assert_string_equal(f.errstr, "string length 2147483647 at byte 2 exceeds the 2 bytes left");
  fixture_done(&f);
}

static void test_rejects_negative_string_and_bytes_lengths(void **state) {
  (void)state;
  fixture_t f;
  const uint8_t minus_one[] = {0x01, 'a'};
  fixture_init_json(&f, "\"string\"", NULL);
  assert_guard(&f, minus_one, sizeof(minus_one), CX_ERR_MSG_MALFORMED);
  assert_non_null(strstr(f.errstr, "negative"));
  fixture_done(&f);
  fixture_init_json(&f, "\"bytes\"", NULL);
  assert_guard(&f, minus_one, sizeof(minus_one), CX_ERR_MSG_MALFORMED);
  const uint8_t int64_min[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  assert_guard(&f, int64_min, sizeof(int64_min), CX_ERR_MSG_MALFORMED);
  fixture_done(&f);
}

static void test_rejects_enum_index_5_and_minus_1_for_5_symbols(void **state) {
  (void)state;
  fixture_t f;
  fixture_init_json(&f, "{\"type\":\"enum\",\"name\":\"Outcome\","
                        "\"symbols\":[\"A\",\"B\",\"C\",\"D\",\"E\"]}", NULL);
  const uint8_t five[] = {0x0a}, minus_one[] = {0x01}, four[] = {0x08}, zero[] = {0x00};
  assert_guard(&f, five, 1, CX_ERR_MSG_MALFORMED);
  assert_string_equal(f.errstr, "enum index 5 at byte 0 is outside the 5 symbols");
  assert_guard(&f, minus_one, 1, CX_ERR_MSG_MALFORMED);
  expect_valid_and_every_prefix_rejected(&f, four, 1);
  expect_valid_and_every_prefix_rejected(&f, zero, 1);
  fixture_done(&f);
}

static void test_rejects_outcome_enum_out_of_range_inside_interaction_event(void **state) {
  (void)state;
  fixture_t f;
  event_fixture(&f, NULL);
  /* byte 7 is the outcome union (branch 1 = Outcome), byte 8 its index. */
  uint8_t bytes[] = {2, 'e', 2, 'c', 0, 0, 0, 0x02, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  assert_guard(&f, bytes, sizeof(bytes), CX_ERR_MSG_MALFORMED);
  assert_string_equal(f.errstr, "enum index 5 at byte 8 is outside the 5 symbols");
  bytes[8] = 0x01;
  assert_guard(&f, bytes, sizeof(bytes), CX_ERR_MSG_MALFORMED);
  bytes[8] = 0x08;
  assert_guard(&f, bytes, sizeof(bytes), CX_OK);
  assert_true(avro_reads_exactly(&f, bytes, sizeof(bytes)));
  bytes[5] = 24; /* channel 12 of 12 symbols */
  assert_guard(&f, bytes, sizeof(bytes), CX_ERR_MSG_MALFORMED);
  fixture_done(&f);
}

static void test_rejects_array_of_16m_nulls_beyond_max_elements(void **state) {
  (void)state;
  fixture_t f;
  /* One block of 2^24 nulls (count zig-zags to 2^25), then the end. */
  const uint8_t nulls[] = {0x80, 0x80, 0x80, 0x10, 0x00};
  fixture_init_json(&f, "{\"type\":\"array\",\"items\":\"null\"}", NULL);
  assert_guard(&f, nulls, sizeof(nulls), CX_ERR_MSG_LIMIT);
  assert_non_null(strstr(f.errstr, "16777216 items at byte 0"));
  /* Two blocks of 2^23 in 8 bytes plus the end: the sum counts. */
  const uint8_t two_blocks[] = {0x80, 0x80, 0x80, 0x08, 0x80, 0x80, 0x80, 0x08, 0x00};
  assert_guard(&f, two_blocks, sizeof(two_blocks), CX_ERR_MSG_LIMIT);
  fixture_done(&f);

  cx_avro_guard_limits_t limits;
  cx_avro_guard_limits_default(&limits);
  limits.max_elements = 1 << 24;
  fixture_init_json(&f, "{\"type\":\"array\",\"items\":\"null\"}", &limits);
  assert_guard(&f, nulls, sizeof(nulls), CX_OK);
  assert_guard(&f, two_blocks, sizeof(two_blocks), CX_OK);
  fixture_done(&f);
}

static void test_counts_elements_across_blocks_and_nested_containers(void **state) {
  (void)state;
  fixture_t f;
  cx_avro_guard_limits_t limits;
  cx_avro_guard_limits_default(&limits);
  limits.max_elements = 5;
  fixture_init_json(&f, "{\"type\":\"array\",\"items\":{\"type\":\"map\",\"values\":\"null\"}}", &limits);
  /* 2 maps (2 elements) holding 1 and 2 entries: 5 in all. */
  const uint8_t five[] = {0x04, 0x02, 0x02, 'a', 0x00, 0x04, 0x02, 'a', 0x02, 'b', 0x00, 0x00};
  expect_valid_and_every_prefix_rejected(&f, five, sizeof(five));
  /* Same, but the second map comes in two blocks of 2 and 1: 6 in all. */
  const uint8_t six[] = {0x04, 0x02, 0x02, 'a', 0x00, 0x04, 0x02, 'a', 0x02, 'b', 0x02, 0x02, 'c', 0x00, 0x00};
  assert_guard(&f, six, sizeof(six), CX_ERR_MSG_LIMIT);
  assert_non_null(strstr(f.errstr, "limit of 5 elements"));
  fixture_done(&f);
}

static void test_rejects_block_count_larger_than_bytes_can_hold(void **state) {
  (void)state;
  fixture_t f;
  fixture_init_json(&f, "{\"type\":\"array\",\"items\":\"double\"}", NULL);
  /* 3 doubles declared, 16 bytes left. */
  const uint8_t bytes[] = {0x06, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8};
  assert_guard(&f, bytes, sizeof(bytes), CX_ERR_MSG_MALFORMED);
  assert_non_null(strstr(f.errstr, "at least 8 bytes per item"));
  fixture_done(&f);
}

static void test_accepts_negative_block_count_followed_by_matching_byte_size(void **state) {
  (void)state;
  fixture_t f;
  fixture_init_json(&f, "{\"type\":\"map\",\"values\":\"long\"}", NULL);
  /* count -2, size 6: "a" 1, "b" 2; then count 1 in the positive form. */
  const uint8_t bytes[] = {0x03, 0x0c, 0x02, 'a', 0x02, 0x02, 'b', 0x04, 0x02, 0x02, 'c', 0x06, 0x00};
  expect_valid_and_every_prefix_rejected(&f, bytes, sizeof(bytes));
  fixture_done(&f);
}

static void test_rejects_block_byte_size_that_is_negative_too_large_or_wrong(void **state) {
  (void)state;
  fixture_t f;
  fixture_init_json(&f, "{\"type\":\"array\",\"items\":\"long\"}", NULL);
  uint8_t bytes[] = {0x03, 0x04, 0x02, 0x04, 0x00};
  assert_guard(&f, bytes, sizeof(bytes), CX_OK);
  assert_true(avro_reads_exactly(&f, bytes, sizeof(bytes)));
  bytes[1] = 0x01; /* size -1 */
  assert_guard(&f, bytes, sizeof(bytes), CX_ERR_MSG_MALFORMED);
  assert_non_null(strstr(f.errstr, "array block size -1 at byte 1 is negative"));
  bytes[1] = 0x0a; /* size 5 with 3 bytes left */
  assert_guard(&f, bytes, sizeof(bytes), CX_ERR_MSG_MALFORMED);
  bytes[1] = 0x06; /* size 3, items take 2 */
  assert_guard(&f, bytes, sizeof(bytes), CX_ERR_MSG_MALFORMED);
  assert_non_null(strstr(f.errstr, "declares 3 bytes but its items take 2"));
  /* Count INT64_MIN, whose magnitude does not fit in int64. */
  const uint8_t most_negative[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00};
  assert_guard(&f, most_negative, sizeof(most_negative), CX_ERR_MSG_LIMIT);
  fixture_done(&f);
}

static void test_rejects_trailing_bytes_after_the_datum(void **state) {
  (void)state;
  fixture_t f;
  uint8_t buf[MAX_MESSAGE];
  event_fixture(&f, NULL);
  size_t len = encode_event(&f, &typical_event, buf, sizeof(buf));
  buf[len] = 0x00;
  assert_guard(&f, buf, len + 1, CX_ERR_MSG_TRAILING);
  char expected[128];
  snprintf(expected, sizeof(expected), "1 bytes left over at byte %zu after the datum ends", len);
  assert_string_equal(f.errstr, expected);
  memcpy(buf + len, "garbage", 7);
  assert_guard(&f, buf, len + 7, CX_ERR_MSG_TRAILING);
  fixture_done(&f);

  fixture_init_json(&f, "\"null\"", NULL);
  assert_guard(&f, NULL, 0, CX_OK);
  assert_guard(&f, "", 0, CX_OK);
  assert_guard(&f, "x", 1, CX_ERR_MSG_TRAILING);
  fixture_done(&f);
}

static void test_check_takes_a_null_buffer_only_when_empty(void **state) {
  (void)state;
  fixture_t f;
  fixture_init_json(&f, "\"null\"", NULL);
  assert_int_equal(cx_avro_guard_check(f.guard, NULL, 0, f.errstr, sizeof(f.errstr)), CX_OK);
  assert_int_equal(cx_avro_guard_check(f.guard, NULL, 5, f.errstr, sizeof(f.errstr)), CX_ERR_INVALID_ARG);
  assert_int_equal(cx_avro_guard_check(NULL, "", 0, f.errstr, sizeof(f.errstr)), CX_ERR_INVALID_ARG);
  assert_int_equal(cx_avro_guard_check(f.guard, "x", 1, NULL, 0), CX_ERR_MSG_TRAILING);
  fixture_done(&f);
}

static void test_rejects_union_branch_out_of_range(void **state) {
  (void)state;
  fixture_t f;
  fixture_init_json(&f, "[\"null\",\"string\"]", NULL);
  const uint8_t two[] = {0x04}, minus_one[] = {0x01, 0x00};
  /* 2^32 + 1: an int cast would make it branch 1. */
  const uint8_t wraps_to_one[] = {0x82, 0x80, 0x80, 0x80, 0x20, 0x02, 'a'};
  assert_guard(&f, two, sizeof(two), CX_ERR_MSG_MALFORMED);
  assert_string_equal(f.errstr, "union index 2 at byte 0 is outside the 2 branches");
  assert_guard(&f, minus_one, sizeof(minus_one), CX_ERR_MSG_MALFORMED);
  assert_guard(&f, wraps_to_one, sizeof(wraps_to_one), CX_ERR_MSG_MALFORMED);
  const uint8_t null_branch[] = {0x00}, string_branch[] = {0x02, 0x02, 'a'};
  expect_valid_and_every_prefix_rejected(&f, null_branch, sizeof(null_branch));
  expect_valid_and_every_prefix_rejected(&f, string_branch, sizeof(string_branch));
  fixture_done(&f);
}

static void test_rejects_overlong_varints(void **state) {
  (void)state;
  fixture_t f;
  fixture_init_json(&f, "\"long\"", NULL);
  const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
  assert_guard(&f, eleven, sizeof(eleven), CX_ERR_MSG_MALFORMED);
  assert_string_equal(f.errstr, "long at byte 0 is a varint longer than 10 bytes");
  const uint8_t past_64_bits[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02};
  assert_guard(&f, past_64_bits, sizeof(past_64_bits), CX_ERR_MSG_MALFORMED);
  const uint8_t int64_max[] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  expect_valid_and_every_prefix_rejected(&f, int64_max, sizeof(int64_max));
  /* Padded, non-canonical zero: Avro-C reads it, so the guard must too. */
  const uint8_t padded_zero[] = {0x80, 0x80, 0x00};
  expect_valid_and_every_prefix_rejected(&f, padded_zero, sizeof(padded_zero));
  fixture_done(&f);

  fixture_init_json(&f, "\"int\"", NULL);
  const uint8_t six[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
  assert_guard(&f, six, sizeof(six), CX_ERR_MSG_MALFORMED);
  assert_string_equal(f.errstr, "int at byte 0 is a varint longer than 5 bytes");
  const uint8_t two_pow_31[] = {0x80, 0x80, 0x80, 0x80, 0x10};
  assert_guard(&f, two_pow_31, sizeof(two_pow_31), CX_ERR_MSG_MALFORMED);
  assert_string_equal(f.errstr, "int at byte 0 does not fit in 32 bits");
  const uint8_t int32_max[] = {0xfe, 0xff, 0xff, 0xff, 0x0f}, int32_min[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
  expect_valid_and_every_prefix_rejected(&f, int32_max, sizeof(int32_max));
  expect_valid_and_every_prefix_rejected(&f, int32_min, sizeof(int32_min));
  fixture_done(&f);

  fixture_init_json(&f, "\"string\"", NULL);
  const uint8_t long_length[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
  assert_guard(&f, long_length, sizeof(long_length), CX_ERR_MSG_MALFORMED);
  assert_non_null(strstr(f.errstr, "string length at byte 0"));
  fixture_done(&f);
}

static void test_rejects_boolean_byte_2(void **state) {
  (void)state;
  fixture_t f;
  fixture_init_json(&f, "\"boolean\"", NULL);
  const uint8_t two[] = {2}, false_byte[] = {0}, true_byte[] = {1};
  assert_guard(&f, two, 1, CX_ERR_MSG_MALFORMED);
  assert_string_equal(f.errstr, "boolean at byte 0 is 2: expected 0 or 1");
  expect_valid_and_every_prefix_rejected(&f, false_byte, 1);
  expect_valid_and_every_prefix_rejected(&f, true_byte, 1);
  fixture_done(&f);
}

static void test_rejects_truncated_float_double_and_fixed(void **state) {
  (void)state;
  fixture_t f;
  const uint8_t eight[] = {0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
  fixture_init_json(&f, "\"float\"", NULL);
  expect_valid_and_every_prefix_rejected(&f, eight, 4);
  assert_int_equal(run_guard(&f, eight, 3), CX_ERR_MSG_MALFORMED);
  assert_string_equal(f.errstr, "float at byte 0 needs 4 bytes but only 3 are left");
  fixture_done(&f);
  fixture_init_json(&f, "\"double\"", NULL);
  expect_valid_and_every_prefix_rejected(&f, eight, 8);
  fixture_done(&f);
  fixture_init_json(&f, "{\"type\":\"fixed\",\"name\":\"Hash\",\"size\":6}", NULL);
  expect_valid_and_every_prefix_rejected(&f, eight, 6);
  assert_guard(&f, eight, 7, CX_ERR_MSG_TRAILING);
  fixture_done(&f);
}

static void test_checks_map_keys_as_strings(void **state) {
  (void)state;
  fixture_t f;
  fixture_init_json(&f, "{\"type\":\"map\",\"values\":\"null\"}", NULL);
  const uint8_t key_too_long[] = {0x02, 0x08, 'a', 'b', 0x00};
  assert_guard(&f, key_too_long, sizeof(key_too_long), CX_ERR_MSG_MALFORMED);
  assert_non_null(strstr(f.errstr, "map key length 4 at byte 1 exceeds"));
  const uint8_t key_negative[] = {0x02, 0x03, 'a', 'b', 0x00};
  assert_guard(&f, key_negative, sizeof(key_negative), CX_ERR_MSG_MALFORMED);
  const uint8_t two_keys[] = {0x04, 0x02, 'a', 0x00, 0x00};
  expect_valid_and_every_prefix_rejected(&f, two_keys, sizeof(two_keys));
  fixture_done(&f);
}

static const char *linked_list_schema =
  "{\"type\":\"record\",\"name\":\"Node\",\"fields\":["
  "{\"name\":\"value\",\"type\":\"long\"},"
  "{\"name\":\"next\",\"type\":[\"null\",\"Node\"]}]}";

/* A list of node_count nodes; node k is a record at depth 2k-1 whose union
 * sits at depth 2k, so the list nests 2 * node_count deep. */
static size_t encode_linked_list(fixture_t *f, size_t node_count, uint8_t *buf, size_t cap) {
  avro_value_t node = f->value, field, branch;
  assert_int_equal(avro_value_reset(&f->value), 0);
  for (size_t k = 1; k <= node_count; k++) {
    field_of(&node, "value", &field);
    assert_int_equal(avro_value_set_long(&field, (int64_t)k), 0);
    field_of(&node, "next", &field);
    assert_int_equal(avro_value_set_branch(&field, k < node_count ? 1 : 0, &branch), 0);
    if (k == node_count)
      assert_int_equal(avro_value_set_null(&branch), 0);
    node = branch;
  }
  return write_value(f, buf, cap);
}

static void test_accepts_recursive_schema_within_max_depth(void **state) {
  (void)state;
  fixture_t f;
  uint8_t buf[MAX_MESSAGE];
  cx_avro_guard_limits_t limits;
  cx_avro_guard_limits_default(&limits);
  limits.max_depth = 8;
  fixture_init_json(&f, linked_list_schema, &limits);
  for (size_t nodes = 1; nodes <= 4; nodes++) {
    size_t len = encode_linked_list(&f, nodes, buf, sizeof(buf));
    expect_valid_and_every_prefix_rejected(&f, buf, len);
  }
  fixture_done(&f);
}

static void test_rejects_recursive_schema_deeper_than_max_depth(void **state) {
  (void)state;
  fixture_t f;
  uint8_t buf[MAX_MESSAGE];
  cx_avro_guard_limits_t limits;
  cx_avro_guard_limits_default(&limits);
  limits.max_depth = 8;
  fixture_init_json(&f, linked_list_schema, &limits);
  size_t len = encode_linked_list(&f, 5, buf, sizeof(buf));
  assert_guard(&f, buf, len, CX_ERR_MSG_LIMIT);
  assert_string_equal(f.errstr, "record at byte 8 nests 9 deep, more than the limit of 8");
  fixture_done(&f);

  limits.max_depth = 9;
  fixture_init_json(&f, linked_list_schema, &limits);
  len = encode_linked_list(&f, 5, buf, sizeof(buf));
  assert_guard(&f, buf, len, CX_ERR_MSG_LIMIT);
  assert_string_equal(f.errstr, "union at byte 9 nests 10 deep, more than the limit of 9");
  fixture_done(&f);

  /* With the default depth of 32, 16 nodes pass and 17 do not; a hand-made
   * list of 2048 nodes stops at the limit too, long before its end. */
  fixture_init_json(&f, linked_list_schema, NULL);
  len = encode_linked_list(&f, 16, buf, sizeof(buf));
  assert_guard(&f, buf, len, CX_OK);
  len = encode_linked_list(&f, 17, buf, sizeof(buf));
  assert_guard(&f, buf, len, CX_ERR_MSG_LIMIT);
  uint8_t deep[MAX_MESSAGE];
  for (size_t i = 0; i < sizeof(deep); i += 2) {
    deep[i] = 0x00;
    deep[i + 1] = 0x02;
  }
  assert_guard(&f, deep, sizeof(deep), CX_ERR_MSG_LIMIT);
  fixture_done(&f);
}

static void test_rejects_message_larger_than_max_message_bytes(void **state) {
  (void)state;
  fixture_t f;
  uint8_t buf[MAX_MESSAGE];
  cx_avro_guard_limits_t limits;
  event_fixture(&f, NULL);
  size_t len = encode_event(&f, &typical_event, buf, sizeof(buf));
  fixture_done(&f);
  cx_avro_guard_limits_default(&limits);
  limits.max_message_bytes = len;
  event_fixture(&f, &limits);
  encode_event(&f, &typical_event, buf, sizeof(buf));
  assert_guard(&f, buf, len, CX_OK);
  buf[len] = 0;
  assert_int_equal(run_guard(&f, buf, len + 1), CX_ERR_MSG_TOO_LARGE);
  char expected[128];
  snprintf(expected, sizeof(expected), "message of %zu bytes exceeds the limit of %zu bytes", len + 1, len);
  assert_string_equal(f.errstr, expected);
  fixture_done(&f);
}

/* Every kind, a named type used twice (the second use is an AVRO_LINK),
 * records nested in arrays and maps of arrays. */
static const char *all_kinds_schema =
  "{\"type\":\"record\",\"name\":\"All\",\"fields\":["
  "{\"name\":\"n\",\"type\":\"null\"},"
  "{\"name\":\"b\",\"type\":\"boolean\"},"
  "{\"name\":\"i\",\"type\":\"int\"},"
  "{\"name\":\"l\",\"type\":\"long\"},"
  "{\"name\":\"f\",\"type\":\"float\"},"
  "{\"name\":\"d\",\"type\":\"double\"},"
  "{\"name\":\"by\",\"type\":\"bytes\"},"
  "{\"name\":\"s\",\"type\":\"string\"},"
  "{\"name\":\"h\",\"type\":{\"type\":\"fixed\",\"name\":\"Hash\",\"size\":3}},"
  "{\"name\":\"h2\",\"type\":\"Hash\"},"
  "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"Color\",\"symbols\":[\"RED\",\"GREEN\"]}},"
  "{\"name\":\"pts\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"Point\","
  "\"fields\":[{\"name\":\"x\",\"type\":\"int\"},{\"name\":\"c\",\"type\":[\"null\",\"Color\"]}]}}},"
  "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":\"long\"}}},"
  "{\"name\":\"u\",\"type\":[\"null\",\"Point\",{\"type\":\"map\",\"values\":\"string\"}]}"
  "]}";

static size_t encode_all_kinds(fixture_t *f, int variant, uint8_t *buf, size_t cap) {
  avro_value_t *record = &f->value;
  avro_value_t field, item, sub, branch;
  assert_int_equal(avro_value_reset(record), 0);
  field_of(record, "n", &field);
  assert_int_equal(avro_value_set_null(&field), 0);
  field_of(record, "b", &field);
  assert_int_equal(avro_value_set_boolean(&field, variant & 1), 0);
  field_of(record, "i", &field);
  assert_int_equal(avro_value_set_int(&field, variant ? -70000 : 0), 0);
  field_of(record, "l", &field);
  assert_int_equal(avro_value_set_long(&field, variant ? INT64_MIN : 1), 0);
  field_of(record, "f", &field);
  assert_int_equal(avro_value_set_float(&field, 1.5f), 0);
  field_of(record, "d", &field);
  assert_int_equal(avro_value_set_double(&field, -2.25), 0);
  field_of(record, "by", &field);
  assert_int_equal(avro_value_set_bytes(&field, (void *)"\0\1\2", variant ? 3 : 0), 0);
  field_of(record, "s", &field);
  assert_int_equal(avro_value_set_string(&field, variant ? "text" : ""), 0);
  field_of(record, "h", &field);
  assert_int_equal(avro_value_set_fixed(&field, (void *)"abc", 3), 0);
  field_of(record, "h2", &field);
  assert_int_equal(avro_value_set_fixed(&field, (void *)"\xff\0\x80", 3), 0);
  field_of(record, "e", &field);
  assert_int_equal(avro_value_set_enum(&field, variant & 1), 0);
  field_of(record, "pts", &field);
  for (int k = 0; k < variant; k++) {
    assert_int_equal(avro_value_append(&field, &item, NULL), 0);
    field_of(&item, "x", &sub);
    assert_int_equal(avro_value_set_int(&sub, k * 1000), 0);
    field_of(&item, "c", &sub);
    assert_int_equal(avro_value_set_branch(&sub, k & 1, &branch), 0);
    assert_int_equal((k & 1) ? avro_value_set_enum(&branch, 1) : avro_value_set_null(&branch), 0);
  }
  field_of(record, "m", &field);
  for (int k = 0; k < variant; k++) {
    char key[16];
    snprintf(key, sizeof(key), "k%d", k);
    assert_int_equal(avro_value_add(&field, key, &item, NULL, NULL), 0);
    for (int j = 0; j < k; j++) {
      assert_int_equal(avro_value_append(&item, &sub, NULL), 0);
      assert_int_equal(avro_value_set_long(&sub, j - 1), 0);
    }
  }
  field_of(record, "u", &field);
  assert_int_equal(avro_value_set_branch(&field, variant % 3, &branch), 0);
  if (variant % 3 == 0) {
    assert_int_equal(avro_value_set_null(&branch), 0);
  } else if (variant % 3 == 1) {
    field_of(&branch, "x", &sub);
    assert_int_equal(avro_value_set_int(&sub, 7), 0);
    field_of(&branch, "c", &sub);
    assert_int_equal(avro_value_set_branch(&sub, 0, &item), 0);
    assert_int_equal(avro_value_set_null(&item), 0);
  } else {
    assert_int_equal(avro_value_add(&branch, "only", &sub, NULL, NULL), 0);
    assert_int_equal(avro_value_set_string(&sub, "value"), 0);
  }
  return write_value(f, buf, cap);
}

static void test_accepts_every_schema_kind_and_named_references(void **state) {
  (void)state;
  fixture_t f;
  uint8_t buf[MAX_MESSAGE];
  fixture_init_json(&f, all_kinds_schema, NULL);
  for (int variant = 0; variant < 6; variant++) {
    size_t len = encode_all_kinds(&f, variant, buf, sizeof(buf));
    expect_valid_and_every_prefix_rejected(&f, buf, len);
  }
  fixture_done(&f);
}

/* Every single-byte substitution at every position (a superset of random
 * single-byte mutations), then random multi-byte ones: the guard returns one
 * of its codes and never crashes (ASan and UBSan watch), and Avro-C reads
 * whatever it accepts, to the last byte. */
static void mutate_and_compare_with_avro(fixture_t *f, const uint8_t *valid, size_t len,
                                         size_t *accepted) {
  uint8_t copy[MAX_MESSAGE];
  for (size_t pos = 0; pos < len; pos++) {
    for (unsigned byte = 0; byte < 256; byte++) {
      if (byte == valid[pos])
        continue;
      memcpy(copy, valid, len);
      copy[pos] = (uint8_t)byte;
      cx_err_t err = run_guard(f, copy, len);
      assert_true(err == CX_OK || err == CX_ERR_MSG_MALFORMED || err == CX_ERR_MSG_TRAILING ||
                  err == CX_ERR_MSG_TOO_LARGE || err == CX_ERR_MSG_LIMIT);
      if (err == CX_OK) {
        ++*accepted;
        if (!avro_reads_exactly(f, copy, len))
          print_message("byte %zu set to 0x%02x: guard accepts, Avro-C does not\n", pos, byte);
        assert_true(avro_reads_exactly(f, copy, len));
      }
    }
  }
  for (int round = 0; round < 3000; round++) {
    size_t mutated_len = len;
    memcpy(copy, valid, len);
    size_t changes = 1 + random_below(4);
    for (size_t k = 0; k < changes; k++)
      copy[random_below(len)] = (uint8_t)random_next();
    if (random_below(4) == 0)
      mutated_len = random_below(len + 1);
    cx_err_t err = run_guard(f, copy, mutated_len);
    assert_true(err == CX_OK || err == CX_ERR_MSG_MALFORMED || err == CX_ERR_MSG_TRAILING ||
                err == CX_ERR_MSG_TOO_LARGE || err == CX_ERR_MSG_LIMIT);
    if (err == CX_OK) {
      ++*accepted;
      assert_true(avro_reads_exactly(f, copy, mutated_len));
    }
  }
}

static void test_single_byte_mutations_never_crash_and_what_passes_avro_c_reads(void **state) {
  (void)state;
  fixture_t f;
  uint8_t buf[MAX_MESSAGE];
  size_t accepted = 0;
  event_fixture(&f, NULL);
  const sample_event_t *events[] = {&minimal_event, &typical_event, &extreme_event};
  for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
    size_t len = encode_event(&f, events[i], buf, sizeof(buf));
    mutate_and_compare_with_avro(&f, buf, len, &accepted);
  }
  fixture_done(&f);
  /* Many mutations (inside strings, floats, longs) stay valid: make sure the
   * comparison with Avro-C really ran. */
  assert_true(accepted > 1000);

  accepted = 0;
  fixture_init_json(&f, all_kinds_schema, NULL);
  for (int variant = 0; variant < 6; variant++) {
    size_t len = encode_all_kinds(&f, variant, buf, sizeof(buf));
    mutate_and_compare_with_avro(&f, buf, len, &accepted);
  }
  fixture_done(&f);
  assert_true(accepted > 1000);

  accepted = 0;
  fixture_init_json(&f, linked_list_schema, NULL);
  size_t len = encode_linked_list(&f, 6, buf, sizeof(buf));
  mutate_and_compare_with_avro(&f, buf, len, &accepted);
  fixture_done(&f);
  assert_true(accepted > 100);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_limits_default_are_1mib_10000_elements_depth_32),
    cmocka_unit_test(test_new_rejects_null_schema_and_depth_out_of_range),
    cmocka_unit_test(test_destroy_null_is_a_noop),
    cmocka_unit_test(test_guard_outlives_the_schema_it_was_compiled_from),
    cmocka_unit_test(test_accepts_interaction_events_written_by_avro_c),
    cmocka_unit_test(test_accepts_hand_encoded_minimal_interaction_event),
    cmocka_unit_test(test_accepts_random_valid_interaction_events),
    cmocka_unit_test(test_rejects_every_truncation_of_valid_interaction_events),
    cmocka_unit_test(test_rejects_string_length_larger_than_message),
    cmocka_unit_test(test_rejects_customer_id_length_larger_than_message),
    cmocka_unit_test(test_rejects_negative_string_and_bytes_lengths),
    cmocka_unit_test(test_rejects_enum_index_5_and_minus_1_for_5_symbols),
    cmocka_unit_test(test_rejects_outcome_enum_out_of_range_inside_interaction_event),
    cmocka_unit_test(test_rejects_array_of_16m_nulls_beyond_max_elements),
    cmocka_unit_test(test_counts_elements_across_blocks_and_nested_containers),
    cmocka_unit_test(test_rejects_block_count_larger_than_bytes_can_hold),
    cmocka_unit_test(test_accepts_negative_block_count_followed_by_matching_byte_size),
    cmocka_unit_test(test_rejects_block_byte_size_that_is_negative_too_large_or_wrong),
    cmocka_unit_test(test_rejects_trailing_bytes_after_the_datum),
    cmocka_unit_test(test_check_takes_a_null_buffer_only_when_empty),
    cmocka_unit_test(test_rejects_union_branch_out_of_range),
    cmocka_unit_test(test_rejects_overlong_varints),
    cmocka_unit_test(test_rejects_boolean_byte_2),
    cmocka_unit_test(test_rejects_truncated_float_double_and_fixed),
    cmocka_unit_test(test_checks_map_keys_as_strings),
    cmocka_unit_test(test_accepts_recursive_schema_within_max_depth),
    cmocka_unit_test(test_rejects_recursive_schema_deeper_than_max_depth),
    cmocka_unit_test(test_rejects_message_larger_than_max_message_bytes),
    cmocka_unit_test(test_accepts_every_schema_kind_and_named_references),
    cmocka_unit_test(test_single_byte_mutations_never_crash_and_what_passes_avro_c_reads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
