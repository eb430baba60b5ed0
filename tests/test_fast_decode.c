/* The specialised decoder (cx_event_decode) against Avro-C's generic one
 * (avro_value_read + cx_event_from_avro) on random records of the reader
 * schema, of the older v0 schema and of a newer schema with reordered and
 * extra fields: same error, and the same event field by field. Prefixes of
 * every record must fail without reading past their end (ASan build). The
 * fused path (cx_event_decode_guarded) against the guard followed by the
 * decoder, on those records and on mutations of them, under the default
 * limits and tight ones: the same error and message, the same length of the
 * datum, the same event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../stream/avro_guard.h"
#include "../stream/event_avro.h"

/* A newer producer: fields reordered, extra fields of every kind, a channel
 * enum in another order with an unknown symbol, outcome with an unknown
 * symbol and the null second, wait_ms an int, sentiment a double. */
static const char *newer_schema =
  "{\"type\":\"record\",\"name\":\"InteractionEvent\",\"namespace\":\"io.cxstream\",\"fields\":["
  "{\"name\":\"region\",\"type\":{\"type\":\"record\",\"name\":\"Region\",\"fields\":["
  "  {\"name\":\"code\",\"type\":\"string\"},{\"name\":\"weight\",\"type\":\"double\"},"
  "  {\"name\":\"flags\",\"type\":{\"type\":\"array\",\"items\":[\"null\",\"int\",\"boolean\"]}}]}},"
  "{\"name\":\"customer_id\",\"type\":\"string\"},"
  "{\"name\":\"digest\",\"type\":{\"type\":\"fixed\",\"name\":\"Digest\",\"size\":5}},"
  "{\"name\":\"event_id\",\"type\":\"string\"},"
  "{\"name\":\"occurred_at\",\"type\":\"long\"},"
  "{\"name\":\"blob\",\"type\":[\"null\",\"bytes\",\"float\"]},"
  "{\"name\":\"channel\",\"type\":{\"type\":\"enum\",\"name\":\"Channel\","
  "  \"symbols\":[\"VIDEO\",\"WEB\",\"PHONE\",\"CHAT\",\"STORE\"]}},"
  "{\"name\":\"type\",\"type\":{\"type\":\"enum\",\"name\":\"EventType\","
  "  \"symbols\":[\"CONTACT\",\"CLICK\",\"HOLOGRAM\"]}},"
  "{\"name\":\"tags\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":\"long\"}}},"
  "{\"name\":\"outcome\",\"type\":[{\"type\":\"enum\",\"name\":\"Outcome\","
  "  \"symbols\":[\"ABANDONED\",\"VANISHED\",\"COMPLETED\"]},\"null\"]},"
  "{\"name\":\"wait_ms\",\"type\":[\"null\",\"int\"]},"
  "{\"name\":\"sentiment\",\"type\":[\"null\",\"double\"]},"
  "{\"name\":\"attributes\",\"type\":{\"type\":\"map\",\"values\":\"string\"}},"
  "{\"name\":\"ok\",\"type\":\"boolean\"},"
  "{\"name\":\"agent_id\",\"type\":[\"null\",\"string\"]}]}";

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static uint64_t below(uint64_t n) {
  return n ? next_random() % n : 0;
}

/* Short strings, sometimes empty, sometimes with bytes past ASCII or a NUL. */
static size_t random_text(char *buf, size_t size) {
  size_t len = below(8) == 0 ? 0 : 1 + below(size > 20 ? 20 : size - 1);
  for (size_t i = 0; i < len; i++) {
    uint64_t r = below(40);
    buf[i] = r == 0 ? '\0' : r == 1 ? (char)0xc3 : (char)('a' + below(6));
  }
  return len;
}

static void fill(avro_value_t *value, avro_schema_t schema, int depth) {
  char text[64];
  while (avro_typeof(schema) == AVRO_LINK)
    schema = avro_schema_link_target(schema);
  switch (avro_typeof(schema)) {
  case AVRO_RECORD:
    for (size_t i = 0; i < avro_schema_record_size(schema); i++) {
      avro_value_t field;
      assert_int_equal(avro_value_get_by_index(value, i, &field, NULL), 0);
      fill(&field, avro_schema_record_field_get_by_index(schema, (int)i), depth + 1);
    }
    break;
  case AVRO_UNION: {
    avro_value_t branch;
    int index = (int)below(avro_schema_union_size(schema));
    assert_int_equal(avro_value_set_branch(value, index, &branch), 0);
    fill(&branch, avro_schema_union_branch(schema, index), depth + 1);
    break;
  }
  case AVRO_STRING: {
    size_t len = random_text(text, sizeof(text));
    text[len] = '\0';
    assert_int_equal(avro_value_set_string_len(value, text, len + 1), 0);
    break;
  }
  case AVRO_BYTES: {
    size_t len = random_text(text, sizeof(text));
    assert_int_equal(avro_value_set_bytes(value, text, len), 0);
    break;
  }
  case AVRO_FIXED: {
    size_t size = (size_t)avro_schema_fixed_size(schema);
    for (size_t i = 0; i < size; i++)
      text[i] = (char)below(256);
    assert_int_equal(avro_value_set_fixed(value, text, size), 0);
    break;
  }
  case AVRO_INT32:
    assert_int_equal(avro_value_set_int(value, below(3) ? (int32_t)below(20) - 5
                                                        : (int32_t)next_random()), 0);
    break;
  case AVRO_INT64:
    assert_int_equal(avro_value_set_long(value, below(3) ? (int64_t)below(4000000000000ull)
                                                         : (int64_t)next_random()), 0);
    break;
  case AVRO_FLOAT:
    assert_int_equal(avro_value_set_float(value, (float)below(2001) / 1000.0f - 1.0f), 0);
    break;
  case AVRO_DOUBLE:
    assert_int_equal(avro_value_set_double(value, (double)below(2001) / 1000.0 - 1.0), 0);
    break;
  case AVRO_BOOLEAN:
    assert_int_equal(avro_value_set_boolean(value, (int)below(2)), 0);
    break;
  case AVRO_NULL:
    assert_int_equal(avro_value_set_null(value), 0);
    break;
  case AVRO_ENUM:
    assert_int_equal(avro_value_set_enum(value,
                                         (int)below(avro_schema_enum_number_of_symbols(schema))), 0);
    break;
  case AVRO_ARRAY: {
    size_t count = depth > 4 ? 0 : below(4);
    for (size_t i = 0; i < count; i++) {
      avro_value_t element;
      assert_int_equal(avro_value_append(value, &element, NULL), 0);
      fill(&element, avro_schema_array_items(schema), depth + 1);
    }
    break;
  }
  case AVRO_MAP: {
    /* Mostly a few entries; now and then more than the event holds. */
    size_t count = below(10) == 0 ? 28 + below(10) : below(4);
    for (size_t i = 0; i < count; i++) {
      char key[32];
      snprintf(key, sizeof(key), "k%llu", (unsigned long long)below(100));
      avro_value_t element;
      assert_int_equal(avro_value_add(value, key, &element, NULL, NULL), 0);
      fill(&element, avro_schema_map_values(schema), depth + 1);
    }
    break;
  }
  default:
    fail_msg("schema type %d not generated", (int)avro_typeof(schema));
  }
}

static void assert_str_equal(cx_str_t a, cx_str_t b) {
  assert_int_equal(a.ptr == NULL, b.ptr == NULL);
  assert_int_equal(a.len, b.len);
  if (a.len)
    assert_memory_equal(a.ptr, b.ptr, a.len);
}

static void assert_events_equal(const cx_event_t *a, const cx_event_t *b) {
  assert_str_equal(a->event_id, b->event_id);
  assert_str_equal(a->customer_id, b->customer_id);
  assert_int_equal(a->occurred_at_ms, b->occurred_at_ms);
  assert_int_equal(a->channel, b->channel);
  assert_int_equal(a->type, b->type);
  assert_int_equal(a->outcome, b->outcome);
  assert_str_equal(a->case_id, b->case_id);
  assert_str_equal(a->topic, b->topic);
  assert_str_equal(a->agent_id, b->agent_id);
  assert_int_equal(a->has_wait_ms, b->has_wait_ms);
  assert_int_equal(a->has_handle_ms, b->has_handle_ms);
  assert_int_equal(a->has_sentiment, b->has_sentiment);
  assert_int_equal(a->has_csat, b->has_csat);
  assert_int_equal(a->has_nps, b->has_nps);
  assert_int_equal(a->wait_ms, b->wait_ms);
  assert_int_equal(a->handle_ms, b->handle_ms);
  assert_memory_equal(&a->sentiment, &b->sentiment, sizeof(a->sentiment));
  assert_int_equal(a->csat, b->csat);
  assert_int_equal(a->nps, b->nps);
  assert_int_equal(a->attribute_count, b->attribute_count);
  for (size_t k = 0; k < a->attribute_count && k < CX_EVENT_MAX_ATTRIBUTES; k++) {
    assert_str_equal(a->attribute_keys[k], b->attribute_keys[k]);
    assert_str_equal(a->attribute_values[k], b->attribute_values[k]);
  }
}

/* Decodes bytes both ways and compares; returns the fast decoder's result. */
static cx_err_t compare_decoders(avro_value_iface_t *iface, const cx_event_layout_t *layout,
                                 const cx_event_decoder_t *decoder, const char *bytes,
                                 size_t size, bool *generic) {
  char errstr[256], fast_errstr[256];
  avro_value_t raw;
  assert_int_equal(avro_generic_value_new(iface, &raw), 0);
  avro_reader_t reader = avro_reader_memory(bytes, (int64_t)size);
  assert_int_equal(avro_value_read(reader, &raw), 0);
  cx_event_t slow, fast;
  cx_err_t slow_err = cx_event_from_avro(layout, &raw, &slow, errstr, sizeof(errstr));
  cx_err_t fast_err = cx_event_decode(decoder, bytes, size, &fast, generic, fast_errstr,
                                      sizeof(fast_errstr));
  if (*generic) {
    assert_int_equal(fast_err, CX_OK);
    assert_true(slow_err != CX_OK || slow.attribute_count > CX_EVENT_MAX_ATTRIBUTES);
  } else {
    assert_int_equal(fast_err, slow_err);
    if (slow_err == CX_OK)
      assert_events_equal(&slow, &fast);
    else
      assert_string_equal(fast_errstr, errstr);
  }
  avro_reader_free(reader);
  avro_value_decref(&raw);
  return fast_err;
}

static void run_random(avro_schema_t schema, int records, bool has_attributes) {
  char errstr[256];
  cx_event_layout_t layout;
  assert_int_equal(cx_event_layout_init(&layout, schema, errstr, sizeof(errstr)), CX_OK);
  cx_event_decoder_t *decoder = NULL;
  assert_int_equal(cx_event_decoder_new(schema, &decoder, errstr, sizeof(errstr)), CX_OK);
  avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
  avro_value_t value;
  assert_int_equal(avro_generic_value_new(iface, &value), 0);
  int ok = 0, errors = 0, generic_count = 0;
  for (int i = 0; i < records; i++) {
    avro_value_reset(&value);
    fill(&value, schema, 0);
    size_t size = 0;
    assert_int_equal(avro_value_sizeof(&value, &size), 0);
    char *bytes = malloc(size ? size : 1);
    avro_writer_t writer = avro_writer_memory(bytes, (int64_t)size);
    assert_int_equal(avro_value_write(writer, &value), 0);
    avro_writer_free(writer);
    bool generic = false;
    cx_err_t err = compare_decoders(iface, &layout, decoder, bytes, size, &generic);
    generic_count += generic;
    ok += !generic && err == CX_OK;
    errors += !generic && err != CX_OK;
    /* Every strict prefix is refused, read only within its length. */
    if (i % 8 == 0) {
      for (size_t cut = 0; cut < size; cut++) {
        char *prefix = malloc(cut ? cut : 1);
        memcpy(prefix, bytes, cut);
        cx_event_t event;
        bool prefix_generic = false;
        cx_err_t prefix_err = cx_event_decode(decoder, prefix, cut, &event, &prefix_generic,
                                              errstr, sizeof(errstr));
        assert_true(prefix_err == CX_ERR_MSG_MALFORMED || prefix_generic);
        free(prefix);
      }
    }
    free(bytes);
  }
  /* The mix must exercise all three outcomes. */
  assert_true(ok > records / 10);
  assert_true(errors > 0);
  assert_true(has_attributes ? generic_count > 0 : generic_count == 0);
  avro_value_decref(&value);
  avro_value_iface_decref(iface);
  cx_event_decoder_destroy(decoder);
}

static avro_schema_t load(const char *file) {
  char errstr[256];
  avro_schema_t schema;
  assert_int_equal(cx_schema_load_file(file, &schema, errstr, sizeof(errstr)), CX_OK);
  return schema;
}

static void test_fast_decoder_equals_generic_on_random_records_of_the_reader_schema(void **unused) {
  (void)unused;
  avro_schema_t schema = load("schemas/interaction_event.avsc");
  run_random(schema, 1500, true);
  avro_schema_decref(schema);
}

static void test_fast_decoder_equals_generic_on_random_records_of_the_v0_schema(void **unused) {
  (void)unused;
  avro_schema_t schema = load("schemas/interaction_event_v0.avsc");
  run_random(schema, 1000, false);
  avro_schema_decref(schema);
}

static void test_fast_decoder_equals_generic_with_reordered_extra_fields_and_symbols(void **unused) {
  (void)unused;
  avro_schema_t schema;
  assert_int_equal(avro_schema_from_json_length(newer_schema, strlen(newer_schema), &schema), 0);
  run_random(schema, 1500, true);
  avro_schema_decref(schema);
}

/* Avro-C's map keeps a repeated key once, where it first came, with the
 * later value; a key is a C string, so it ends at a NUL byte. */
static void test_fast_decoder_keeps_repeated_attribute_keys_as_avro_c_does(void **unused) {
  (void)unused;
  avro_schema_t schema = load("schemas/interaction_event.avsc");
  char errstr[256];
  cx_event_layout_t layout;
  assert_int_equal(cx_event_layout_init(&layout, schema, errstr, sizeof(errstr)), CX_OK);
  cx_event_decoder_t *decoder = NULL;
  assert_int_equal(cx_event_decoder_new(schema, &decoder, errstr, sizeof(errstr)), CX_OK);
  avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
  /* e, c, 5, PHONE, CONTACT, nine nulls, then a map of 4 in two blocks:
   * k=1, j=2 | k=3 (block with its byte size), "j\0x"=4 | end. */
  static const char bytes[] = {
    2, 'e', 2, 'c', 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    4, 2, 'k', 2, '1', 2, 'j', 2, '2',
    3, 18, 2, 'k', 2, '3', 6, 'j', 0, 'x', 2, '4',
    0,
  };
  bool generic = false;
  assert_int_equal(compare_decoders(iface, &layout, decoder, bytes, sizeof(bytes), &generic),
                   CX_OK);
  assert_false(generic);
  cx_event_t event;
  assert_int_equal(cx_event_decode(decoder, bytes, sizeof(bytes), &event, &generic, errstr,
                                   sizeof(errstr)), CX_OK);
  assert_int_equal(event.attribute_count, 2);
  assert_memory_equal(event.attribute_values[0].ptr, "3", 1);
  assert_memory_equal(event.attribute_values[1].ptr, "4", 1);
  avro_value_iface_decref(iface);
  cx_event_decoder_destroy(decoder);
  avro_schema_decref(schema);
}

static void test_fast_decoder_refuses_bad_union_branch_and_long_varint(void **unused) {
  (void)unused;
  avro_schema_t schema = load("schemas/interaction_event.avsc");
  char errstr[256];
  cx_event_decoder_t *decoder = NULL;
  assert_int_equal(cx_event_decoder_new(schema, &decoder, errstr, sizeof(errstr)), CX_OK);
  static const char bad_branch[] = {2, 'e', 2, 'c', 10, 0, 0, 4};
  static const char long_varint[] = {2, 'e', 2, 'c', (char)0xff, (char)0xff, (char)0xff,
                                     (char)0xff, (char)0xff, (char)0xff, (char)0xff, (char)0xff,
                                     (char)0xff, (char)0xff, 1};
  static const char negative_length[] = {3, 'e'};
  cx_event_t event;
  bool generic;
  assert_int_equal(cx_event_decode(decoder, bad_branch, sizeof(bad_branch), &event, &generic,
                                   errstr, sizeof(errstr)), CX_ERR_MSG_MALFORMED);
  assert_int_equal(cx_event_decode(decoder, long_varint, sizeof(long_varint), &event, &generic,
                                   errstr, sizeof(errstr)), CX_ERR_MSG_MALFORMED);
  assert_int_equal(cx_event_decode(decoder, negative_length, sizeof(negative_length), &event,
                                   &generic, errstr, sizeof(errstr)), CX_ERR_MSG_MALFORMED);
  cx_event_decoder_destroy(decoder);
  avro_schema_decref(schema);
}

/* Guard then decoder, against the fused path, on one input: whole message
 * and record at the start of a block. */
static void compare_fused(const cx_avro_guard_t *guard, const cx_event_decoder_t *decoder,
                          const uint8_t *bytes, size_t len, int *accepted, int *refused) {
  char guard_errstr[256] = "", slow_errstr[256] = "", fused_errstr[256] = "";
  cx_event_t slow, fused;
  bool slow_generic = false, fused_generic = true;
  cx_err_t guard_err = cx_avro_guard_check(guard, bytes, len, guard_errstr, sizeof(guard_errstr));
  cx_err_t slow_err = guard_err;
  if (!guard_err)
    slow_err = cx_event_decode(decoder, bytes, len, &slow, &slow_generic, slow_errstr,
                               sizeof(slow_errstr));
  cx_err_t fused_err = cx_event_decode_guarded(decoder, guard, bytes, len, NULL, &fused,
                                               &fused_generic, fused_errstr,
                                               sizeof(fused_errstr));
  assert_int_equal(fused_err, slow_err);
  if (guard_err) {
    assert_string_equal(fused_errstr, guard_errstr);
    (*refused)++;
  } else {
    assert_int_equal(fused_generic, slow_generic);
    if (slow_err)
      assert_string_equal(fused_errstr, slow_errstr);
    else if (!slow_generic)
      assert_events_equal(&slow, &fused);
    (*accepted)++;
  }
  /* As the first record of a block. */
  size_t guard_used = 99, fused_used = 99;
  guard_err = cx_avro_guard_check_prefix(guard, bytes, len, &guard_used, guard_errstr,
                                         sizeof(guard_errstr));
  slow_err = guard_err;
  slow_generic = false;
  if (!guard_err)
    slow_err = cx_event_decode(decoder, bytes, guard_used, &slow, &slow_generic, slow_errstr,
                               sizeof(slow_errstr));
  fused_err = cx_event_decode_guarded(decoder, guard, bytes, len, &fused_used, &fused,
                                      &fused_generic, fused_errstr, sizeof(fused_errstr));
  assert_int_equal(fused_err, slow_err);
  assert_int_equal(fused_used, guard_err ? 0 : guard_used);
  if (guard_err) {
    assert_string_equal(fused_errstr, guard_errstr);
  } else {
    assert_int_equal(fused_generic, slow_generic);
    if (slow_err)
      assert_string_equal(fused_errstr, slow_errstr);
    else if (!slow_generic)
      assert_events_equal(&slow, &fused);
  }
}

/* The same bytes through a decoder and through its step-list twin
 * (cx_event_decoder_new_steps): the same result in every mode (no guard,
 * guarded whole message, guarded prefix), event field by field. For the
 * reader schema this compares the straight-line canonical parse with the
 * steps; for others both are the steps. */
static void compare_steps(const cx_avro_guard_t *guard, const cx_event_decoder_t *decoder,
                          const cx_event_decoder_t *steps, const uint8_t *bytes, size_t len) {
  for (int mode = 0; mode < 3; mode++) {
    char errstr[256] = "", steps_errstr[256] = "";
    cx_event_t event, steps_event;
    bool generic = false, steps_generic = false;
    size_t used = 7, steps_used = 7;
    cx_err_t err, steps_err;
    if (mode == 0) {
      err = cx_event_decode(decoder, bytes, len, &event, &generic, errstr, sizeof(errstr));
      steps_err = cx_event_decode(steps, bytes, len, &steps_event, &steps_generic, steps_errstr,
                                  sizeof(steps_errstr));
    } else {
      err = cx_event_decode_guarded(decoder, guard, bytes, len, mode == 2 ? &used : NULL, &event,
                                    &generic, errstr, sizeof(errstr));
      steps_err = cx_event_decode_guarded(steps, guard, bytes, len,
                                          mode == 2 ? &steps_used : NULL, &steps_event,
                                          &steps_generic, steps_errstr, sizeof(steps_errstr));
    }
    assert_int_equal(err, steps_err);
    assert_string_equal(errstr, steps_errstr);
    assert_int_equal(used, steps_used);
    assert_int_equal(generic, steps_generic);
    if (!err && !generic)
      assert_events_equal(&event, &steps_event);
  }
}

/* One to three random changes: a byte set, a cut, bytes appended or inserted,
 * a varint made long, a run repeated. */
static size_t mutate(uint8_t *bytes, size_t len, size_t capacity) {
  int changes = 1 + (int)below(3);
  for (int c = 0; c < changes; c++) {
    switch (below(7)) {
    case 0: case 1:
      if (len)
        bytes[below(len)] = (uint8_t)(below(4) ? below(256) : below(2) ? 0x80 : 0x01);
      break;
    case 2:
      len = below(len + 1);
      break;
    case 3:
      while (len < capacity && below(3))
        bytes[len++] = (uint8_t)below(256);
      break;
    case 4:
      if (len < capacity) {
        size_t at = below(len + 1);
        memmove(bytes + at + 1, bytes + at, len - at);
        bytes[at] = (uint8_t)(below(2) ? 0x80 | below(128) : below(256));
        len++;
      }
      break;
    case 5:
      if (len) {
        size_t at = below(len);
        for (int k = 0; k < 10 && at + (size_t)k < len; k++)
          bytes[at + (size_t)k] = k == 9 ? (uint8_t)below(4) : 0xff;
      }
      break;
    default:
      if (len) {
        size_t at = below(len), run = 1 + below(8);
        if (at + run > len)
          run = len - at;
        if (len + run <= capacity) {
          memmove(bytes + at + run, bytes + at, len - at);
          len += run;
        }
      }
      break;
    }
  }
  return len;
}

static void run_fused(avro_schema_t schema, const cx_avro_guard_limits_t *limits, int records,
                      bool tight) {
  char errstr[256];
  cx_avro_guard_t *guard = NULL;
  cx_event_decoder_t *decoder = NULL;
  assert_int_equal(cx_avro_guard_new(schema, limits, &guard, errstr, sizeof(errstr)), CX_OK);
  assert_int_equal(cx_event_decoder_new(schema, &decoder, errstr, sizeof(errstr)), CX_OK);
  cx_event_decoder_t *steps = NULL;
  assert_int_equal(cx_event_decoder_new_steps(schema, &steps, errstr, sizeof(errstr)), CX_OK);
  assert_false(cx_event_decoder_is_canonical(steps));
  avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
  avro_value_t value;
  assert_int_equal(avro_generic_value_new(iface, &value), 0);
  int accepted = 0, refused = 0;
  for (int i = 0; i < records; i++) {
    avro_value_reset(&value);
    fill(&value, schema, 0);
    size_t size = 0;
    assert_int_equal(avro_value_sizeof(&value, &size), 0);
    size_t capacity = size + 64;
    uint8_t *bytes = malloc(capacity);
    avro_writer_t writer = avro_writer_memory((char *)bytes, (int64_t)size);
    assert_int_equal(avro_value_write(writer, &value), 0);
    avro_writer_free(writer);
    compare_fused(guard, decoder, bytes, size, &accepted, &refused);
    compare_steps(guard, decoder, steps, bytes, size);
    uint8_t *copy = malloc(capacity);
    for (int m = 0; m < 8; m++) {
      memcpy(copy, bytes, size);
      size_t len = mutate(copy, size, capacity);
      /* Exactly len bytes, so that ASan sees any read past them. */
      uint8_t *exact = malloc(len ? len : 1);
      memcpy(exact, copy, len);
      compare_fused(guard, decoder, exact, len, &accepted, &refused);
      compare_steps(guard, decoder, steps, exact, len);
      free(exact);
    }
    free(copy);
    free(bytes);
  }
  /* Both outcomes must be exercised; tight limits may refuse every record
   * (depth 1 refuses any union). */
  if (!tight)
    assert_true(accepted > records / 2);
  assert_true(refused > records);
  avro_value_decref(&value);
  avro_value_iface_decref(iface);
  cx_event_decoder_destroy(steps);
  cx_event_decoder_destroy(decoder);
  cx_avro_guard_destroy(guard);
}

/* The default limits, then ones the records reach: few elements, shallow
 * nesting (2: a union's map is too deep; 1: any union is), small messages. */
static void run_fused_all_limits(avro_schema_t schema, int records) {
  cx_avro_guard_limits_t limits[5];
  for (int i = 0; i < 5; i++)
    cx_avro_guard_limits_default(&limits[i]);
  limits[1].max_elements = 3;
  limits[2].max_depth = 2;
  limits[3].max_depth = 1;
  limits[4].max_message_bytes = 40;
  for (int i = 0; i < 5; i++)
    run_fused(schema, &limits[i], i == 0 ? records : records / 4, i > 0);
}

/* The reader schema's own layout gets the straight-line parse; the v0 and
 * the reordered newer writer keep the steps. */
static void test_only_the_reader_layout_is_parsed_as_canonical(void **unused) {
  (void)unused;
  char errstr[256];
  avro_schema_t schemas[3] = {load("schemas/interaction_event.avsc"),
                              load("schemas/interaction_event_v0.avsc"), NULL};
  assert_int_equal(avro_schema_from_json_length(newer_schema, strlen(newer_schema), &schemas[2]),
                   0);
  for (int i = 0; i < 3; i++) {
    cx_event_decoder_t *decoder = NULL;
    assert_int_equal(cx_event_decoder_new(schemas[i], &decoder, errstr, sizeof(errstr)), CX_OK);
    assert_int_equal(cx_event_decoder_is_canonical(decoder), i == 0);
    cx_event_decoder_destroy(decoder);
    avro_schema_decref(schemas[i]);
  }
}

/* Edges of the canonical parse's varints, against the steps: a timestamp
 * in 10 bytes (the last 0x01, then 0x02), a long length, an int of 5 bytes
 * (the last 0x0f, then 0x10), near the end of the bytes and far from it,
 * non-minimal encodings, blocks of attributes with byte sizes. */
static void test_canonical_parse_equals_the_steps_at_varint_edges(void **unused) {
  (void)unused;
  avro_schema_t schema = load("schemas/interaction_event.avsc");
  char errstr[256];
  cx_avro_guard_t *guard = NULL;
  cx_event_decoder_t *decoder = NULL, *steps = NULL;
  assert_int_equal(cx_avro_guard_new(schema, NULL, &guard, errstr, sizeof(errstr)), CX_OK);
  assert_int_equal(cx_event_decoder_new(schema, &decoder, errstr, sizeof(errstr)), CX_OK);
  assert_int_equal(cx_event_decoder_new_steps(schema, &steps, errstr, sizeof(errstr)), CX_OK);
  static const uint8_t records[][64] = {
    /* occurred_at: 10 bytes, last 0x01 (INT64_MIN's zig-zag is all ones) */
    {2, 'e', 2, 'c', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    /* the same, last byte 0x02: refused */
    {2, 'e', 2, 'c', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    /* csat of 5 bytes, last 0x0f; nps of 5 bytes, last 0x10 */
    {2, 'e', 2, 'c', 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0},
    {2, 'e', 2, 'c', 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0x10, 0},
    /* non-minimal: event_id length 1 as 0x82 0x00, branch 1 of outcome as 0x82 0x80 0x00 */
    {0x82, 0x00, 'e', 2, 'c', 10, 0, 0, 0x82, 0x80, 0x00, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    /* sentiment present, an outcome out of range (40) */
    {2, 'e', 2, 'c', 10, 0, 0, 2, 40, 0, 0, 0, 0, 0, 2, 0, 0, 0x80, 0xbf, 0, 0, 0},
    /* attributes: a block with its byte size, then a plain block, a repeated key */
    {2, 'e', 2, 'c', 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 16, 2, 'k', 2, '1',
     2, 'j', 2, '2', 2, 2, 'k', 2, '3', 0},
    /* short keys with a NUL ("k\0x" is "k"), a key of exactly 8 bytes twice,
     * a 9-byte key, an empty key twice: the word compare and the bytes */
    {2, 'e', 2, 'c', 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 6, 'k', 0, 'x', 2, '1',
     2, 'k', 2, '2', 16, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 0, 16, 'a', 'b', 'c', 'd',
     'e', 'f', 'g', 'h', 2, '3', 0, 0},
    {2, 'e', 2, 'c', 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 18, 'a', 'b', 'c', 'd', 'e',
     'f', 'g', 'h', 'i', 0, 18, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'j', 0, 0, 2, 'z', 0, 2,
     'y', 0},
    /* a block whose byte size is wrong */
    {2, 'e', 2, 'c', 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 12, 2, 'k', 2, '1', 0},
  };
  for (size_t r = 0; r < sizeof(records) / sizeof(records[0]); r++) {
    /* Every prefix of the zero-padded record (one is the record itself),
     * each an exact copy (ASan sees overreads). */
    for (size_t cut = 0; cut <= sizeof(records[r]); cut++) {
      uint8_t *exact = malloc(cut ? cut : 1);
      memcpy(exact, records[r], cut);
      compare_steps(guard, decoder, steps, exact, cut);
      free(exact);
    }
  }
  cx_event_decoder_destroy(steps);
  cx_event_decoder_destroy(decoder);
  cx_avro_guard_destroy(guard);
  avro_schema_decref(schema);
}

static void test_fused_path_equals_guard_then_decoder_on_the_reader_schema(void **unused) {
  (void)unused;
  avro_schema_t schema = load("schemas/interaction_event.avsc");
  run_fused_all_limits(schema, 1500);
  avro_schema_decref(schema);
}

static void test_fused_path_equals_guard_then_decoder_on_the_v0_schema(void **unused) {
  (void)unused;
  avro_schema_t schema = load("schemas/interaction_event_v0.avsc");
  run_fused_all_limits(schema, 1000);
  avro_schema_decref(schema);
}

static void test_fused_path_equals_guard_then_decoder_with_extra_fields(void **unused) {
  (void)unused;
  avro_schema_t schema;
  assert_int_equal(avro_schema_from_json_length(newer_schema, strlen(newer_schema), &schema), 0);
  run_fused_all_limits(schema, 1500);
  avro_schema_decref(schema);
}

/* The decoder took union index -1 for null when a union has no null branch
 * (null_branch -1): harmless after the guard, which refuses it, but the
 * fused path has no guard before it. */
static void test_fused_path_refuses_a_negative_union_index_without_a_null_branch(void **unused) {
  (void)unused;
  static const char *single =
    "{\"type\":\"record\",\"name\":\"InteractionEvent\",\"fields\":["
    "{\"name\":\"event_id\",\"type\":\"string\"},{\"name\":\"customer_id\",\"type\":\"string\"},"
    "{\"name\":\"occurred_at\",\"type\":\"long\"},"
    "{\"name\":\"channel\",\"type\":{\"type\":\"enum\",\"name\":\"Channel\",\"symbols\":[\"PHONE\"]}},"
    "{\"name\":\"type\",\"type\":{\"type\":\"enum\",\"name\":\"EventType\",\"symbols\":[\"CONTACT\"]}},"
    "{\"name\":\"agent_id\",\"type\":[\"string\"]}]}";
  avro_schema_t schema;
  assert_int_equal(avro_schema_from_json_length(single, strlen(single), &schema), 0);
  char errstr[256];
  cx_avro_guard_t *guard = NULL;
  cx_event_decoder_t *decoder = NULL;
  assert_int_equal(cx_avro_guard_new(schema, NULL, &guard, errstr, sizeof(errstr)), CX_OK);
  assert_int_equal(cx_event_decoder_new(schema, &decoder, errstr, sizeof(errstr)), CX_OK);
  /* "e", "c", 5, PHONE, CONTACT, agent_id branch -1 (zigzag 1). */
  static const uint8_t bytes[] = {2, 'e', 2, 'c', 10, 0, 0, 1};
  static const uint8_t good[] = {2, 'e', 2, 'c', 10, 0, 0, 0, 2, 'a'};
  cx_event_t event;
  bool generic;
  assert_int_equal(cx_event_decode_guarded(decoder, guard, bytes, sizeof(bytes), NULL, &event,
                                           &generic, errstr, sizeof(errstr)),
                   CX_ERR_MSG_MALFORMED);
  assert_non_null(strstr(errstr, "union index -1"));
  assert_int_equal(cx_event_decode_guarded(decoder, guard, good, sizeof(good), NULL, &event,
                                           &generic, errstr, sizeof(errstr)), CX_OK);
  assert_int_equal(event.agent_id.len, 1);
  int accepted = 0, refused = 0;
  compare_fused(guard, decoder, bytes, sizeof(bytes), &accepted, &refused);
  compare_fused(guard, decoder, good, sizeof(good), &accepted, &refused);
  assert_int_equal(accepted, 1);
  assert_int_equal(refused, 1);
  cx_event_decoder_destroy(decoder);
  cx_avro_guard_destroy(guard);
  avro_schema_decref(schema);
}

/* Each guard rule at its edge, through the fused path: the guard's reason. */
static void test_fused_path_gives_the_guards_reasons(void **unused) {
  (void)unused;
  avro_schema_t schema = load("schemas/interaction_event.avsc");
  char errstr[256];
  cx_avro_guard_limits_t limits;
  cx_avro_guard_limits_default(&limits);
  limits.max_elements = 2;
  cx_avro_guard_t *guard = NULL;
  cx_event_decoder_t *decoder = NULL;
  assert_int_equal(cx_avro_guard_new(schema, &limits, &guard, errstr, sizeof(errstr)), CX_OK);
  assert_int_equal(cx_event_decoder_new(schema, &decoder, errstr, sizeof(errstr)), CX_OK);
  /* e, c, 5, PHONE, CONTACT, nine nulls, then the attributes map. */
#define HEAD 2, 'e', 2, 'c', 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
  static const uint8_t two[] = {HEAD, 4, 2, 'a', 0, 2, 'b', 0, 0};
  static const uint8_t three[] = {HEAD, 6, 2, 'a', 0, 2, 'b', 0, 2, 'c', 0, 0};
  static const uint8_t trailing[] = {HEAD, 0, 0};
  static const uint8_t block_size_wrong[] = {HEAD, 1, 2, 2, 'a', 0, 0};
  static const uint8_t channel_out_of_range[] = {2, 'e', 2, 'c', 10, 40, 0, 0, 0, 0, 0, 0, 0,
                                                 0, 0, 0, 0};
  static const uint8_t long_length[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0x02, 'e'};
#undef HEAD
  struct { const uint8_t *bytes; size_t len; cx_err_t err; const char *says; } cases[] = {
    {two, sizeof(two), CX_OK, NULL},
    {three, sizeof(three), CX_ERR_MSG_LIMIT, "limit of 2 elements"},
    {trailing, sizeof(trailing), CX_ERR_MSG_TRAILING, "1 bytes left over"},
    {block_size_wrong, sizeof(block_size_wrong), CX_ERR_MSG_MALFORMED, "declares 1 bytes"},
    {channel_out_of_range, sizeof(channel_out_of_range), CX_ERR_MSG_MALFORMED,
     "enum index 20"},
    {long_length, sizeof(long_length), CX_ERR_MSG_MALFORMED, "does not fit in 64 bits"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    cx_event_t event;
    bool generic;
    cx_err_t err = cx_event_decode_guarded(decoder, guard, cases[i].bytes, cases[i].len, NULL,
                                           &event, &generic, errstr, sizeof(errstr));
    if (err != cases[i].err || (cases[i].says && !strstr(errstr, cases[i].says)))
      fail_msg("case %zu: %s '%s'", i, cx_err2code(err), errstr);
    int accepted = 0, refused = 0;
    compare_fused(guard, decoder, cases[i].bytes, cases[i].len, &accepted, &refused);
  }
  cx_event_decoder_destroy(decoder);
  cx_avro_guard_destroy(guard);
  avro_schema_decref(schema);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_fast_decoder_equals_generic_on_random_records_of_the_reader_schema),
    cmocka_unit_test(test_fast_decoder_equals_generic_on_random_records_of_the_v0_schema),
    cmocka_unit_test(test_fast_decoder_equals_generic_with_reordered_extra_fields_and_symbols),
    cmocka_unit_test(test_fast_decoder_keeps_repeated_attribute_keys_as_avro_c_does),
    cmocka_unit_test(test_fast_decoder_refuses_bad_union_branch_and_long_varint),
    cmocka_unit_test(test_only_the_reader_layout_is_parsed_as_canonical),
    cmocka_unit_test(test_canonical_parse_equals_the_steps_at_varint_edges),
    cmocka_unit_test(test_fused_path_equals_guard_then_decoder_on_the_reader_schema),
    cmocka_unit_test(test_fused_path_equals_guard_then_decoder_on_the_v0_schema),
    cmocka_unit_test(test_fused_path_equals_guard_then_decoder_with_extra_fields),
    cmocka_unit_test(test_fused_path_refuses_a_negative_union_index_without_a_null_branch),
    cmocka_unit_test(test_fused_path_gives_the_guards_reasons),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
