/* The codec on good and hostile bytes: both framings, schema resolution from
 * an older writer, unknown ids, truncation, garbage, trailing bytes, ranges;
 * and alert encoding that a reader can decode back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <avro.h>

#include "../stream/codec.h"
#include "../stream/event_avro.h"
#include "../stream/frame.h"
#include "test_helpers.h"

typedef struct fixture_s {
  cx_config_t *config;
  cx_codec_t *codec;
  cx_buf_t buf;
} fixture_t;

static int setup(void **state) {
  static fixture_t f;
  memset(&f, 0, sizeof(f));
  char errstr[512];
  f.config = cx_config_new();
  if (cx_codec_new(f.config, &f.codec, errstr, sizeof(errstr))) {
    fprintf(stderr, "%s\n", errstr);
    return -1;
  }
  cx_codec_set_now(f.codec, 1800000000000LL);
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  cx_codec_destroy(f->codec);
  cx_config_destroy(f->config);
  cx_buf_free(&f->buf);
  return 0;
}

static cx_event_t sample(void) {
  cx_event_t e = test_contact("C42", "ev-1", 1767607200000LL, CX_CHANNEL_CHAT,
                              CX_OUTCOME_ABANDONED, 12345);
  e.topic = cx_str("billing");
  e.has_sentiment = true;
  e.sentiment = -0.75f;
  e.has_nps = true;
  e.nps = 3;
  e.attribute_count = 1;
  e.attribute_keys[0] = cx_str("seq");
  e.attribute_values[0] = cx_str("7");
  return e;
}

static cx_err_t decode(fixture_t *f, const void *bytes, size_t len, cx_event_t *out) {
  char errstr[512];
  return cx_codec_decode(f->codec, bytes, len, out, errstr, sizeof(errstr));
}

static void test_codec_roundtrips_confluent_framed_event(void **state) {
  fixture_t *f = *state;
  char errstr[512];
  cx_event_t in = sample(), out;
  assert_int_equal(cx_codec_encode_event(f->codec, &in, &f->buf, errstr, sizeof(errstr)), CX_OK);
  assert_int_equal(f->buf.data[0], 0);
  assert_int_equal(f->buf.data[4], 1); /* interaction_event.avsc is id 1 */
  assert_int_equal(decode(f, f->buf.data, f->buf.len, &out), CX_OK);
  assert_int_equal(out.customer_id.len, 3);
  assert_memory_equal(out.customer_id.ptr, "C42", 3);
  assert_memory_equal(out.event_id.ptr, "ev-1", 4);
  assert_true(out.occurred_at_ms == 1767607200000LL);
  assert_int_equal(out.channel, CX_CHANNEL_CHAT);
  assert_int_equal(out.type, CX_EVENT_CONTACT);
  assert_int_equal(out.outcome, CX_OUTCOME_ABANDONED);
  assert_true(out.has_wait_ms && out.wait_ms == 12345);
  assert_false(out.has_handle_ms);
  assert_memory_equal(out.topic.ptr, "billing", 7);
  assert_null(out.case_id.ptr);
  assert_true(out.has_sentiment && out.sentiment == -0.75f);
  assert_true(out.has_nps && out.nps == 3);
  assert_false(out.has_csat);
  assert_int_equal(out.attribute_count, 1);
  assert_memory_equal(out.attribute_values[0].ptr, "7", 1);
}

static void test_codec_rejects_unknown_schema_id(void **state) {
  fixture_t *f = *state;
  char errstr[512];
  cx_event_t in = sample(), out;
  cx_codec_encode_event(f->codec, &in, &f->buf, errstr, sizeof(errstr));
  cx_frame_write_header(f->buf.data, 999);
  assert_int_equal(decode(f, f->buf.data, f->buf.len, &out), CX_ERR_MSG_UNKNOWN_SCHEMA);
}

static void test_codec_rejects_schema_that_is_not_an_event(void **state) {
  fixture_t *f = *state;
  char errstr[512];
  cx_event_t in = sample(), out;
  cx_codec_encode_event(f->codec, &in, &f->buf, errstr, sizeof(errstr));
  cx_frame_write_header(f->buf.data, 2); /* alert.avsc */
  assert_int_equal(decode(f, f->buf.data, f->buf.len, &out), CX_ERR_MSG_INCOMPATIBLE);
}

static void test_codec_rejects_bad_magic_and_short_frames(void **state) {
  fixture_t *f = *state;
  cx_event_t out;
  const uint8_t garbage[] = {0x7b, 0x22, 0x61, 0x22, 0x3a, 0x31, 0x7d};
  assert_int_equal(decode(f, garbage, sizeof(garbage), &out), CX_ERR_MSG_BAD_MAGIC);
  assert_int_equal(decode(f, garbage, 0, &out), CX_ERR_MSG_TOO_SHORT);
  const uint8_t short_frame[] = {0, 0, 0, 1};
  assert_int_equal(decode(f, short_frame, sizeof(short_frame), &out), CX_ERR_MSG_TOO_SHORT);
}

static void test_codec_rejects_every_truncation(void **state) {
  fixture_t *f = *state;
  char errstr[512];
  cx_event_t in = sample(), out;
  cx_codec_encode_event(f->codec, &in, &f->buf, errstr, sizeof(errstr));
  for (size_t len = 0; len < f->buf.len; len++)
    assert_int_not_equal(decode(f, f->buf.data, len, &out), CX_OK);
  assert_int_equal(decode(f, f->buf.data, f->buf.len, &out), CX_OK);
}

static void test_codec_rejects_trailing_bytes(void **state) {
  fixture_t *f = *state;
  char errstr[512];
  cx_event_t in = sample(), out;
  cx_codec_encode_event(f->codec, &in, &f->buf, errstr, sizeof(errstr));
  cx_buf_append(&f->buf, "\x02", 1);
  assert_int_equal(decode(f, f->buf.data, f->buf.len, &out), CX_ERR_MSG_TRAILING);
}

static void test_codec_rejects_huge_declared_string(void **state) {
  fixture_t *f = *state;
  cx_event_t out;
  /* Frame id 1, then a string length of 2^31 (zig-zag varint). */
  const uint8_t bytes[] = {0, 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x10};
  assert_int_equal(decode(f, bytes, sizeof(bytes), &out), CX_ERR_MSG_MALFORMED);
}

static void test_codec_rejects_empty_customer_id(void **state) {
  fixture_t *f = *state;
  char errstr[512];
  cx_event_t in = sample(), out;
  in.customer_id = cx_str("");
  cx_codec_encode_event(f->codec, &in, &f->buf, errstr, sizeof(errstr));
  assert_int_equal(decode(f, f->buf.data, f->buf.len, &out), CX_ERR_MSG_NO_CUSTOMER);
}

static void test_codec_rejects_far_future_and_negative_times(void **state) {
  fixture_t *f = *state;
  char errstr[512];
  cx_event_t in = sample(), out;
  in.occurred_at_ms = 1800000000000LL + 2 * 86400000LL;
  cx_codec_encode_event(f->codec, &in, &f->buf, errstr, sizeof(errstr));
  assert_int_equal(decode(f, f->buf.data, f->buf.len, &out), CX_ERR_MSG_BAD_TIME);
  in.occurred_at_ms = INT64_MIN;
  cx_codec_encode_event(f->codec, &in, &f->buf, errstr, sizeof(errstr));
  assert_int_equal(decode(f, f->buf.data, f->buf.len, &out), CX_ERR_MSG_BAD_TIME);
  in.occurred_at_ms = 1800000000000LL + 86400000LL; /* exactly the limit: accepted */
  cx_codec_encode_event(f->codec, &in, &f->buf, errstr, sizeof(errstr));
  assert_int_equal(decode(f, f->buf.data, f->buf.len, &out), CX_OK);
}

static void test_codec_rejects_nan_sentiment_and_out_of_range_scores(void **state) {
  fixture_t *f = *state;
  char errstr[512];
  cx_event_t in = sample(), out;
  in.sentiment = 0.0f / 0.0f;
  cx_codec_encode_event(f->codec, &in, &f->buf, errstr, sizeof(errstr));
  assert_int_equal(decode(f, f->buf.data, f->buf.len, &out), CX_ERR_MSG_BAD_VALUE);
  in = sample();
  in.has_csat = true;
  in.csat = 9;
  cx_codec_encode_event(f->codec, &in, &f->buf, errstr, sizeof(errstr));
  assert_int_equal(decode(f, f->buf.data, f->buf.len, &out), CX_ERR_MSG_BAD_VALUE);
}

/* A message written with the older writer schema (id 4) reads with defaults. */
static void test_codec_resolves_older_writer_schema(void **state) {
  fixture_t *f = *state;
  char errstr[512];
  avro_schema_t v0;
  assert_int_equal(cx_schema_load_file("schemas/interaction_event_v0.avsc", &v0, errstr,
                                       sizeof(errstr)), CX_OK);
  avro_value_iface_t *iface = avro_generic_class_from_schema(v0);
  avro_value_t record, field, branch;
  avro_generic_value_new(iface, &record);
  avro_value_get_by_name(&record, "event_id", &field, NULL);
  avro_value_set_string(&field, "old-1");
  avro_value_get_by_name(&record, "customer_id", &field, NULL);
  avro_value_set_string(&field, "C7");
  avro_value_get_by_name(&record, "occurred_at", &field, NULL);
  avro_value_set_long(&field, 1000);
  avro_value_get_by_name(&record, "channel", &field, NULL);
  avro_value_set_enum(&field, CX_CHANNEL_PHONE);
  avro_value_get_by_name(&record, "type", &field, NULL);
  avro_value_set_enum(&field, CX_EVENT_CONTACT);
  const char *nulls[] = {"outcome", "case_id", "topic", "wait_ms", "handle_ms"};
  for (size_t i = 0; i < 5; i++) {
    avro_value_get_by_name(&record, nulls[i], &field, NULL);
    avro_value_set_branch(&field, 0, &branch);
    avro_value_set_null(&branch);
  }
  uint8_t bytes[256];
  cx_frame_write_header(bytes, 4);
  avro_writer_t writer = avro_writer_memory((char *)bytes + 5, sizeof(bytes) - 5);
  assert_int_equal(avro_value_write(writer, &record), 0);
  size_t len = 5 + (size_t)avro_writer_tell(writer);
  cx_event_t out;
  assert_int_equal(decode(f, bytes, len, &out), CX_OK);
  assert_memory_equal(out.customer_id.ptr, "C7", 2);
  assert_false(out.has_sentiment);
  assert_null(out.agent_id.ptr);
  assert_int_equal(out.attribute_count, 0);
  avro_writer_free(writer);
  avro_value_decref(&record);
  avro_value_iface_decref(iface);
  avro_schema_decref(v0);
}

static void test_codec_encodes_alert_readable_with_alert_schema(void **state) {
  fixture_t *f = *state;
  char errstr[512];
  cx_alert_t alert = {0};
  cx_alert_make_id(cx_str("C1"), "abandonment", cx_str("e2"), alert.alert_id);
  alert.customer_id = cx_str("C1");
  alert.rule = "abandonment";
  alert.kind = CX_KIND_FRUSTRATION;
  alert.severity = CX_SEVERITY_HIGH;
  alert.score = 80;
  alert.trigger_event_id = cx_str("e2");
  alert.event_time_ms = 5000;
  alert.window_start_ms = 5000 - 86400000LL;
  alert.window_end_ms = 5000;
  alert.reason_count = 1;
  alert.reasons[0] = (cx_reason_t){"abandoned_contacts", 2, 1.0};
  alert.evidence_count = 2;
  alert.evidence[0] = cx_str("e1");
  alert.evidence[1] = cx_str("e2");
  assert_int_equal(cx_codec_encode_alert(f->codec, &alert, -1, &f->buf, errstr, sizeof(errstr)), CX_OK);
  int32_t id;
  const void *payload;
  size_t payload_len;
  assert_int_equal(cx_frame_parse(f->buf.data, f->buf.len, &id, &payload, &payload_len), CX_OK);
  assert_int_equal(id, 2);
  avro_schema_t schema;
  cx_schema_load_file("schemas/alert.avsc", &schema, errstr, sizeof(errstr));
  avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
  avro_value_t record, field, element;
  avro_generic_value_new(iface, &record);
  avro_reader_t reader = avro_reader_memory(payload, (int64_t)payload_len);
  assert_int_equal(avro_value_read(reader, &record), 0);
  const char *text;
  size_t size;
  avro_value_get_by_name(&record, "rule", &field, NULL);
  avro_value_get_string(&field, &text, &size);
  assert_string_equal(text, "abandonment");
  avro_value_get_by_name(&record, "evidence_event_ids", &field, NULL);
  avro_value_get_size(&field, &size);
  assert_int_equal(size, 2);
  avro_value_get_by_index(&field, 1, &element, NULL);
  avro_value_get_string(&element, &text, &size);
  assert_string_equal(text, "e2");
  avro_reader_free(reader);
  avro_value_decref(&record);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
}

/* input.format=raw: bare Avro binary with the configured writer schema. */
static void test_codec_decodes_raw_avro_with_configured_writer_schema(void **state) {
  fixture_t *f = *state;
  char errstr[512];
  cx_config_t *config = cx_config_new();
  assert_int_equal(cx_config_set(config, "input.format", "raw", errstr, sizeof(errstr)), CX_OK);
  assert_int_equal(cx_config_set(config, "input.writer.schema", "schemas/interaction_event.avsc",
                                 errstr, sizeof(errstr)), CX_OK);
  cx_codec_t *raw = NULL;
  assert_int_equal(cx_codec_new(config, &raw, errstr, sizeof(errstr)), CX_OK);
  cx_event_t in = sample(), out;
  cx_codec_encode_event(f->codec, &in, &f->buf, errstr, sizeof(errstr));
  /* The same body without the 5-byte frame. */
  assert_int_equal(cx_codec_decode(raw, f->buf.data + 5, f->buf.len - 5, &out, errstr,
                                   sizeof(errstr)), CX_OK);
  assert_memory_equal(out.customer_id.ptr, "C42", 3);
  assert_int_equal(out.outcome, CX_OUTCOME_ABANDONED);
  /* A framed message is not raw Avro: its extra header bytes do not parse. */
  assert_int_not_equal(cx_codec_decode(raw, f->buf.data, f->buf.len, &out, errstr,
                                       sizeof(errstr)), CX_OK);
  cx_codec_destroy(raw);
  cx_config_destroy(config);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_codec_roundtrips_confluent_framed_event),
    cmocka_unit_test(test_codec_rejects_unknown_schema_id),
    cmocka_unit_test(test_codec_rejects_schema_that_is_not_an_event),
    cmocka_unit_test(test_codec_rejects_bad_magic_and_short_frames),
    cmocka_unit_test(test_codec_rejects_every_truncation),
    cmocka_unit_test(test_codec_rejects_trailing_bytes),
    cmocka_unit_test(test_codec_rejects_huge_declared_string),
    cmocka_unit_test(test_codec_rejects_empty_customer_id),
    cmocka_unit_test(test_codec_rejects_far_future_and_negative_times),
    cmocka_unit_test(test_codec_rejects_nan_sentiment_and_out_of_range_scores),
    cmocka_unit_test(test_codec_resolves_older_writer_schema),
    cmocka_unit_test(test_codec_encodes_alert_readable_with_alert_schema),
    cmocka_unit_test(test_codec_decodes_raw_avro_with_configured_writer_schema),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
