/* JSON-lines output: exact bytes of an alert line, escaping, invalid UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../stream/jsonl.h"

static char *as_text(cx_buf_t *buf) {
  cx_buf_append(buf, "", 1);
  return (char *)buf->data;
}

static void test_jsonl_escapes_quotes_backslashes_and_controls(void **unused) {
  (void)unused;
  cx_buf_t buf = {0};
  const char in[] = "a\"b\\c\nd\te\x01";
  cx_jsonl_append_string(&buf, in, sizeof(in) - 1);
  assert_string_equal(as_text(&buf), "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
  cx_buf_free(&buf);
}

static void test_jsonl_keeps_utf8_and_replaces_invalid_bytes(void **unused) {
  (void)unused;
  cx_buf_t buf = {0};
  const char in[] = "caf\xc3\xa9 \xff\xc3";
  cx_jsonl_append_string(&buf, in, sizeof(in) - 1);
  assert_string_equal(as_text(&buf), "\"caf\xc3\xa9 \\ufffd\\ufffd\"");
  cx_buf_free(&buf);
}

static void test_jsonl_alert_line_is_exact(void **unused) {
  (void)unused;
  cx_alert_t alert = {0};
  strcpy(alert.alert_id, "0123456789abcdef0123456789abcdef");
  alert.customer_id = cx_str("C\"1");
  alert.rule = "long_wait";
  alert.kind = CX_KIND_FRUSTRATION;
  alert.severity = CX_SEVERITY_CRITICAL;
  alert.score = 100;
  alert.trigger_event_id = cx_str("e9");
  alert.event_time_ms = 90000000;
  alert.window_start_ms = 3600000;
  alert.window_end_ms = 90000000;
  alert.reason_count = 2;
  alert.reasons[0] = (cx_reason_t){"wait_ms", 1200000, 0.5};
  alert.reasons[1] = (cx_reason_t){"total_wait_ms", 3600000, 0.5};
  alert.evidence_count = 2;
  alert.evidence[0] = cx_str("e8");
  alert.evidence[1] = cx_str("e9");
  alert.recommended_action = "priority_callback";
  alert.action_channel = "PHONE";
  cx_buf_t buf = {0};
  assert_int_equal(cx_jsonl_append_alert(&buf, &alert), 0);
  assert_string_equal(as_text(&buf),
    "{\"type\":\"alert\",\"alert_id\":\"0123456789abcdef0123456789abcdef\","
    "\"customer_id\":\"C\\\"1\",\"rule\":\"long_wait\",\"kind\":\"frustration\","
    "\"severity\":\"critical\",\"score\":100,\"trigger_event_id\":\"e9\","
    "\"event_time\":90000000,\"window_start\":3600000,\"window_end\":90000000,"
    "\"reasons\":[{\"code\":\"wait_ms\",\"value\":1200000,\"weight\":0.5000},"
    "{\"code\":\"total_wait_ms\",\"value\":3600000,\"weight\":0.5000}],"
    "\"evidence_event_ids\":[\"e8\",\"e9\"],\"recommended_action\":\"priority_callback\","
    "\"action_channel\":\"PHONE\"}\n");
  cx_buf_free(&buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_jsonl_escapes_quotes_backslashes_and_controls),
    cmocka_unit_test(test_jsonl_keeps_utf8_and_replaces_invalid_bytes),
    cmocka_unit_test(test_jsonl_alert_line_is_exact),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
