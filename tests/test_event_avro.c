/* Reading events written with other schema versions: resolution by field
 * name, defaults for missing fields, unknown enum symbols, type promotion,
 * and refusal of schemas that cannot be read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../stream/event_avro.h"

/* A newer producer: fields reordered, an extra field, an extra channel symbol, wait_ms an int. */
static const char *newer_schema =
  "{\"type\":\"record\",\"name\":\"InteractionEvent\",\"namespace\":\"io.cxstream\",\"fields\":["
  "{\"name\":\"customer_id\",\"type\":\"string\"},"
  "{\"name\":\"region\",\"type\":\"string\"},"
  "{\"name\":\"event_id\",\"type\":\"string\"},"
  "{\"name\":\"occurred_at\",\"type\":\"long\"},"
  "{\"name\":\"channel\",\"type\":{\"type\":\"enum\",\"name\":\"Channel\",\"symbols\":[\"VIDEO\",\"PHONE\"]}},"
  "{\"name\":\"type\",\"type\":{\"type\":\"enum\",\"name\":\"EventType\",\"symbols\":[\"CONTACT\"]}},"
  "{\"name\":\"wait_ms\",\"type\":[\"null\",\"int\"]}]}";

static void fill(avro_value_t *record, int channel, int wait) {
  avro_value_t field, branch;
  avro_value_get_by_name(record, "customer_id", &field, NULL);
  avro_value_set_string(&field, "C9");
  avro_value_get_by_name(record, "region", &field, NULL);
  avro_value_set_string(&field, "north");
  avro_value_get_by_name(record, "event_id", &field, NULL);
  avro_value_set_string(&field, "n-1");
  avro_value_get_by_name(record, "occurred_at", &field, NULL);
  avro_value_set_long(&field, 77);
  avro_value_get_by_name(record, "channel", &field, NULL);
  avro_value_set_enum(&field, channel);
  avro_value_get_by_name(record, "type", &field, NULL);
  avro_value_set_enum(&field, 0);
  avro_value_get_by_name(record, "wait_ms", &field, NULL);
  avro_value_set_branch(&field, 1, &branch);
  avro_value_set_int(&branch, wait);
}

static void test_newer_writer_reads_by_name_with_unknown_symbol_as_other(void **unused) {
  (void)unused;
  char errstr[256];
  avro_schema_t schema;
  assert_int_equal(avro_schema_from_json_length(newer_schema, strlen(newer_schema), &schema), 0);
  cx_event_layout_t layout;
  assert_int_equal(cx_event_layout_init(&layout, schema, errstr, sizeof(errstr)), CX_OK);
  avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
  avro_value_t record;
  avro_generic_value_new(iface, &record);
  cx_event_t event;

  fill(&record, 0, 42000);
  assert_int_equal(cx_event_from_avro(&layout, &record, &event, errstr, sizeof(errstr)), CX_OK);
  assert_memory_equal(event.event_id.ptr, "n-1", 3);
  assert_memory_equal(event.customer_id.ptr, "C9", 2);
  assert_int_equal(event.occurred_at_ms, 77);
  assert_int_equal(event.channel, CX_CHANNEL_OTHER); /* VIDEO is unknown to this reader */
  assert_int_equal(event.type, CX_EVENT_CONTACT);
  assert_true(event.has_wait_ms && event.wait_ms == 42000);
  assert_int_equal(event.outcome, CX_OUTCOME_NONE);
  assert_false(event.has_sentiment);
  assert_int_equal(event.attribute_count, 0);

  fill(&record, 1, 0);
  assert_int_equal(cx_event_from_avro(&layout, &record, &event, errstr, sizeof(errstr)), CX_OK);
  assert_int_equal(event.channel, CX_CHANNEL_PHONE);

  avro_value_decref(&record);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
}

static void test_layout_refuses_schemas_without_required_fields_or_wrong_types(void **unused) {
  (void)unused;
  char errstr[256];
  cx_event_layout_t layout;
  const char *no_customer =
    "{\"type\":\"record\",\"name\":\"E\",\"fields\":[{\"name\":\"event_id\",\"type\":\"string\"}]}";
  const char *wrong_type =
    "{\"type\":\"record\",\"name\":\"E\",\"fields\":[{\"name\":\"event_id\",\"type\":\"string\"},"
    "{\"name\":\"customer_id\",\"type\":\"long\"}]}";
  const char *not_record = "\"string\"";
  const char *texts[] = {no_customer, wrong_type, not_record};
  for (size_t i = 0; i < 3; i++) {
    avro_schema_t schema;
    assert_int_equal(avro_schema_from_json_length(texts[i], strlen(texts[i]), &schema), 0);
    assert_int_equal(cx_event_layout_init(&layout, schema, errstr, sizeof(errstr)),
                     CX_ERR_MSG_INCOMPATIBLE);
    assert_true(strlen(errstr) > 0);
    avro_schema_decref(schema);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_newer_writer_reads_by_name_with_unknown_symbol_as_other),
    cmocka_unit_test(test_layout_refuses_schemas_without_required_fields_or_wrong_types),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
