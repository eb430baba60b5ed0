/* Oversized and adversarial messages through the codec (cx_codec_decode), each
 * with its documented outcome (README "Hostile input"): a 100 MB message, a
 * million tiny attributes, a 1 MB customer id, occurred_at at INT64_MIN and
 * INT64_MAX, NaN and infinite sentiment. Messages are Confluent-framed Avro
 * written by hand (field by field, as interaction_event.avsc orders them), so
 * any size and any value can be built; ASan and valgrind runs of this program
 * check that no failed decode leaks. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../stream/codec.h"
#include "../stream/frame.h"

#define MIB (1024 * 1024)

/* What a test puts in the message; zero means a small valid default. */
typedef struct message_spec_s {
  size_t customer_id_bytes;   /* 0 = "C1" */
  int64_t occurred_at_ms;     /* 0 = 2026-01-05 */
  bool has_sentiment;         /* write sentiment */
  float sentiment;            /* its value (any bits) */
  size_t attribute_count;     /* tiny attributes: key "k<i>", value "" */
  size_t big_value_bytes;     /* one more attribute "big" of this many bytes */
} message_spec_t;

static void put_byte(cx_buf_t *out, uint8_t b) {
  assert_int_equal(cx_buf_append(out, &b, 1), 0);
}

static void put_long(cx_buf_t *out, int64_t value) {
  uint64_t zigzag = ((uint64_t)value << 1) ^ (uint64_t)(value >> 63);
  while (zigzag >= 0x80) {
    put_byte(out, (uint8_t)(zigzag | 0x80));
    zigzag >>= 7;
  }
  put_byte(out, (uint8_t)zigzag);
}

static void put_string(cx_buf_t *out, const char *bytes, size_t len) {
  put_long(out, (int64_t)len);
  assert_int_equal(cx_buf_append(out, bytes, len), 0);
}

static void put_filled(cx_buf_t *out, char fill, size_t len) {
  put_long(out, (int64_t)len);
  assert_int_equal(cx_buf_reserve(out, len), 0);
  memset(out->data + out->len, fill, len);
  out->len += len;
}

/* Confluent frame (schema id 1, interaction_event.avsc) and the record. */
static void build_message(cx_buf_t *out, const message_spec_t *spec) {
  out->len = 0;
  assert_int_equal(cx_buf_reserve(out, CX_FRAME_HEADER_BYTES), 0);
  cx_frame_write_header(out->data, 1);
  out->len = CX_FRAME_HEADER_BYTES;
  put_string(out, "ev-1", 4);
  if (spec->customer_id_bytes)
    put_filled(out, 'c', spec->customer_id_bytes);
  else
    put_string(out, "C1", 2);
  put_long(out, spec->occurred_at_ms ? spec->occurred_at_ms : 1767607200000LL);
  put_long(out, 0);  /* channel PHONE */
  put_long(out, 0);  /* type CONTACT */
  put_long(out, 0);  /* outcome null */
  put_long(out, 0);  /* case_id null */
  put_long(out, 0);  /* topic null */
  put_long(out, 0);  /* agent_id null */
  put_long(out, 0);  /* wait_ms null */
  put_long(out, 0);  /* handle_ms null */
  if (spec->has_sentiment) {
    put_long(out, 1);
    uint32_t bits;
    memcpy(&bits, &spec->sentiment, sizeof(bits));
    for (int i = 0; i < 4; i++) /* little-endian, as Avro floats are */
      put_byte(out, (uint8_t)(bits >> (8 * i)));
  } else {
    put_long(out, 0);
  }
  put_long(out, 0);  /* csat null */
  put_long(out, 0);  /* nps null */
  size_t entries = spec->attribute_count + (spec->big_value_bytes ? 1 : 0);
  if (entries) {
    put_long(out, (int64_t)entries); /* one block */
    char key[24];
    for (size_t i = 0; i < spec->attribute_count; i++) {
      int n = snprintf(key, sizeof(key), "k%zu", i);
      put_string(out, key, (size_t)n);
      put_string(out, "", 0);
    }
    if (spec->big_value_bytes) {
      put_string(out, "big", 3);
      put_filled(out, 'v', spec->big_value_bytes);
    }
  }
  put_long(out, 0);  /* end of the map */
}

typedef struct fixture_s {
  cx_config_t *config;
  cx_codec_t *codec;
  cx_buf_t message;
  cx_event_t event;
  char errstr[512];
} fixture_t;

static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof(*f));
  f->config = cx_config_new();
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  cx_codec_destroy(f->codec);
  cx_config_destroy(f->config);
  cx_buf_free(&f->message);
  free(f);
  return 0;
}

/* Applies key=value settings, then builds the codec. */
static void open_codec(fixture_t *f, const char *const *pairs, size_t pair_count) {
  for (size_t i = 0; i < pair_count; i++)
    assert_int_equal(cx_config_set_pair(f->config, pairs[i], f->errstr, sizeof(f->errstr)),
                     CX_OK);
  assert_int_equal(cx_codec_new(f->config, &f->codec, f->errstr, sizeof(f->errstr)), CX_OK);
  cx_codec_set_now(f->codec, 1800000000000LL);
}

static cx_err_t decode(fixture_t *f, const message_spec_t *spec) {
  build_message(&f->message, spec);
  cx_event_clear(&f->event);
  f->errstr[0] = '\0';
  return cx_codec_decode(f->codec, f->message.data, f->message.len, &f->event, f->errstr,
                         sizeof(f->errstr));
}

static void test_small_valid_message_decodes(void **state) {
  fixture_t *f = *state;
  open_codec(f, NULL, 0);
  message_spec_t spec = {.attribute_count = 3};
  assert_int_equal(decode(f, &spec), CX_OK);
  assert_int_equal(f->event.attribute_count, 3);
  assert_int_equal(f->event.customer_id.len, 2);
}

static void test_100mb_message_is_message_too_large_before_any_parsing(void **state) {
  fixture_t *f = *state;
  open_codec(f, NULL, 0);
  message_spec_t spec = {.big_value_bytes = 100 * MIB};
  assert_int_equal(decode(f, &spec), CX_ERR_MSG_TOO_LARGE);
  assert_non_null(strstr(f->errstr, "exceeds input.message.max.bytes=1048576"));
  assert_string_equal(cx_err2code(CX_ERR_MSG_TOO_LARGE), "message_too_large");
}

static void test_100mb_message_decodes_when_the_limit_allows_it_and_is_released(void **state) {
  fixture_t *f = *state;
  const char *pairs[] = {"input.message.max.bytes=134217728"};
  open_codec(f, pairs, 1);
  message_spec_t spec = {.big_value_bytes = 100 * MIB};
  assert_int_equal(decode(f, &spec), CX_OK);
  assert_int_equal(f->event.attribute_count, 1);
  assert_int_equal(f->event.attribute_values[0].len, 100 * MIB);
  /* The next, small message reuses the codec; teardown frees it all (ASan,
   * valgrind: no leak). */
  message_spec_t small = {0};
  assert_int_equal(decode(f, &small), CX_OK);
  assert_int_equal(f->event.attribute_count, 0);
}

static void test_million_tiny_attributes_is_too_large_at_the_default_size_limit(void **state) {
  fixture_t *f = *state;
  open_codec(f, NULL, 0);
  message_spec_t spec = {.attribute_count = 1000000};
  assert_int_equal(decode(f, &spec), CX_ERR_MSG_TOO_LARGE);
}

static void test_million_tiny_attributes_is_limit_exceeded_when_size_allows(void **state) {
  fixture_t *f = *state;
  const char *pairs[] = {"input.message.max.bytes=67108864"};
  open_codec(f, pairs, 1);
  message_spec_t spec = {.attribute_count = 1000000};
  assert_int_equal(decode(f, &spec), CX_ERR_MSG_LIMIT);
  assert_string_equal(cx_err2code(CX_ERR_MSG_LIMIT), "limit_exceeded");
}

static void test_attributes_at_the_element_limit_decode_and_are_counted(void **state) {
  fixture_t *f = *state;
  open_codec(f, NULL, 0);
  message_spec_t spec = {.attribute_count = 10000};
  assert_int_equal(decode(f, &spec), CX_OK);
  assert_int_equal(f->event.attribute_count, 10000);
  spec.attribute_count = 10001;
  assert_int_equal(decode(f, &spec), CX_ERR_MSG_LIMIT);
}

static void test_1mb_customer_id_is_bad_value_with_its_length(void **state) {
  fixture_t *f = *state;
  open_codec(f, NULL, 0);
  message_spec_t spec = {.customer_id_bytes = 1000000};
  assert_int_equal(decode(f, &spec), CX_ERR_MSG_BAD_VALUE);
  assert_string_equal(f->errstr, "customer_id of 1000000 bytes exceeds input.max.id.bytes=4096");
}

static void test_customer_id_at_max_id_bytes_decodes_one_more_does_not(void **state) {
  fixture_t *f = *state;
  open_codec(f, NULL, 0);
  message_spec_t spec = {.customer_id_bytes = 4096};
  assert_int_equal(decode(f, &spec), CX_OK);
  assert_int_equal(f->event.customer_id.len, 4096);
  spec.customer_id_bytes = 4097;
  assert_int_equal(decode(f, &spec), CX_ERR_MSG_BAD_VALUE);
}

static void test_occurred_at_int64_min_is_bad_timestamp(void **state) {
  fixture_t *f = *state;
  open_codec(f, NULL, 0);
  message_spec_t spec = {.occurred_at_ms = INT64_MIN};
  assert_int_equal(decode(f, &spec), CX_ERR_MSG_BAD_TIME);
  assert_non_null(strstr(f->errstr, "before 1970"));
}

static void test_occurred_at_int64_max_is_bad_timestamp_even_at_the_widest_future(void **state) {
  fixture_t *f = *state;
  const char *pairs[] = {"input.max.future.ms=3650d"};
  open_codec(f, pairs, 1);
  message_spec_t spec = {.occurred_at_ms = INT64_MAX};
  assert_int_equal(decode(f, &spec), CX_ERR_MSG_BAD_TIME);
  assert_non_null(strstr(f->errstr, "past the wall clock"));
}

static void test_nan_and_infinite_sentiment_are_bad_value(void **state) {
  fixture_t *f = *state;
  open_codec(f, NULL, 0);
  const float values[] = {NAN, -NAN, INFINITY, -INFINITY, 1.0000001f};
  for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
    message_spec_t spec = {.has_sentiment = true, .sentiment = values[i]};
    assert_int_equal(decode(f, &spec), CX_ERR_MSG_BAD_VALUE);
    assert_string_equal(f->errstr, "sentiment is not a number from -1 to 1");
  }
  message_spec_t edge = {.has_sentiment = true, .sentiment = -1.0f};
  assert_int_equal(decode(f, &edge), CX_OK);
  assert_true(f->event.has_sentiment);
}

static void test_codec_keeps_working_after_every_refusal(void **state) {
  fixture_t *f = *state;
  open_codec(f, NULL, 0);
  const message_spec_t hostile[] = {
    {.big_value_bytes = 2 * MIB}, {.attribute_count = 20000}, {.customer_id_bytes = 5000},
    {.occurred_at_ms = INT64_MIN}, {.has_sentiment = true, .sentiment = NAN},
  };
  for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
    assert_int_not_equal(decode(f, &hostile[i]), CX_OK);
    message_spec_t ok = {.attribute_count = 2};
    assert_int_equal(decode(f, &ok), CX_OK);
    assert_int_equal(f->event.attribute_count, 2);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_small_valid_message_decodes, setup, teardown),
    cmocka_unit_test_setup_teardown(test_100mb_message_is_message_too_large_before_any_parsing,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(
        test_100mb_message_decodes_when_the_limit_allows_it_and_is_released, setup, teardown),
    cmocka_unit_test_setup_teardown(
        test_million_tiny_attributes_is_too_large_at_the_default_size_limit, setup, teardown),
    cmocka_unit_test_setup_teardown(
        test_million_tiny_attributes_is_limit_exceeded_when_size_allows, setup, teardown),
    cmocka_unit_test_setup_teardown(test_attributes_at_the_element_limit_decode_and_are_counted,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_1mb_customer_id_is_bad_value_with_its_length, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_customer_id_at_max_id_bytes_decodes_one_more_does_not,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_occurred_at_int64_min_is_bad_timestamp, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(
        test_occurred_at_int64_max_is_bad_timestamp_even_at_the_widest_future, setup, teardown),
    cmocka_unit_test_setup_teardown(test_nan_and_infinite_sentiment_are_bad_value, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_codec_keeps_working_after_every_refusal, setup,
                                    teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
