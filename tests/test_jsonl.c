/* JSON-lines output: exact bytes of alert and profile lines, escaping,
 * invalid UTF-8. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <inttypes.h>

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

static void test_jsonl_profile_line_is_exact(void **unused) {
  (void)unused;
  cx_profile_t profile;
  memset(&profile, 0, sizeof(profile));
  profile.customer_id = cx_str("C\"1");
  profile.updated_at_ms = 90000000;
  profile.first_seen_ms = 3600000;
  profile.events_total = 12;
  profile.contacts_24h = 2;
  profile.abandoned_24h = 1;
  profile.wait_ms_24h = 720000;
  profile.channels_48h_count = 2;
  profile.channels_48h[0] = "PHONE";
  profile.channels_48h[1] = "WEB";
  profile.preferred_channel = "PHONE";
  profile.frustration_score = 45;
  profile.frustration_band = CX_SEVERITY_MEDIUM;
  profile.churn_score = 0;
  profile.churn_band = CX_SEVERITY_LOW;
  profile.reason_count = 2;
  profile.reasons[0] = (cx_profile_reason_t){"repeat_contact", CX_KIND_FRUSTRATION, 25, 2.0 / 3};
  profile.reasons[1] = (cx_profile_reason_t){"long_wait", CX_KIND_FRUSTRATION, 13, 1.0 / 3};
  profile.open_alert_count = 1;
  profile.open_alerts[0] = "repeat_contact";
  profile.consent_granted = true;
  profile.contacts_7d = 3;
  profile.contacts_30d = 5;
  profile.channel_count = 2;
  profile.channels[0] = (cx_profile_channel_t){"PHONE", 3, 4};
  profile.channels[1] = (cx_profile_channel_t){"CHAT", 0, 1};
  profile.last_contact_ms = 89000000;
  profile.last_contact_channel = "PHONE";
  profile.open_cases = 1;
  profile.repeat_contacts_7d = 2;
  profile.has_avg_wait = true;
  profile.avg_wait_ms_30d = 144000;
  profile.has_sentiment = true;
  profile.sentiment = -0.3f;
  profile.sentiment_at_ms = 88000000;
  profile.has_nps = true;
  profile.nps = 6;
  profile.nps_at_ms = 87000000;
  cx_buf_t buf = {0};
  assert_int_equal(cx_jsonl_append_profile(&buf, &profile), 0);
  assert_string_equal(as_text(&buf),
    "{\"type\":\"profile\",\"customer_id\":\"C\\\"1\",\"updated_at\":90000000,"
    "\"first_seen\":3600000,\"events_total\":12,\"contacts_24h\":2,\"abandoned_24h\":1,"
    "\"wait_ms_24h\":720000,\"channels_48h\":[\"PHONE\",\"WEB\"],"
    "\"preferred_channel\":\"PHONE\",\"frustration_score\":45,"
    "\"frustration_band\":\"medium\",\"churn_score\":0,\"churn_band\":\"low\","
    "\"reasons\":[{\"code\":\"repeat_contact\",\"value\":25,\"weight\":0.6667,"
    "\"kind\":\"frustration\"},{\"code\":\"long_wait\",\"value\":13,\"weight\":0.3333,"
    "\"kind\":\"frustration\"}],\"open_alerts\":[\"repeat_contact\"],\"consent\":true,"
    "\"contacts_7d\":3,\"contacts_30d\":5,\"channel_contacts\":["
    "{\"channel\":\"PHONE\",\"contacts_7d\":3,\"contacts_30d\":4},"
    "{\"channel\":\"CHAT\",\"contacts_7d\":0,\"contacts_30d\":1}],"
    "\"last_contact_at\":89000000,\"last_contact_channel\":\"PHONE\",\"open_cases\":1,"
    "\"repeat_contacts_7d\":2,\"avg_wait_ms_30d\":144000,\"last_sentiment\":-0.3000,"
    "\"last_sentiment_at\":88000000,\"last_csat\":null,\"last_csat_at\":null,"
    "\"last_nps\":6,\"last_nps_at\":87000000}\n");
  cx_buf_free(&buf);
}

static void test_jsonl_profile_writes_absent_fields_as_null_and_empty(void **unused) {
  (void)unused;
  cx_profile_t profile;
  memset(&profile, 0, sizeof(profile));
  profile.customer_id = cx_str("C2");
  profile.updated_at_ms = 5;
  profile.first_seen_ms = 5;
  profile.events_total = 1;
  profile.has_sentiment = true;
  profile.sentiment = -0.0f; /* prints as 0.0000, never -0.0000 */
  profile.sentiment_at_ms = 5;
  cx_buf_t buf = {0};
  assert_int_equal(cx_jsonl_append_profile(&buf, &profile), 0);
  assert_string_equal(as_text(&buf),
    "{\"type\":\"profile\",\"customer_id\":\"C2\",\"updated_at\":5,\"first_seen\":5,"
    "\"events_total\":1,\"contacts_24h\":0,\"abandoned_24h\":0,\"wait_ms_24h\":0,"
    "\"channels_48h\":[],\"preferred_channel\":null,\"frustration_score\":0,"
    "\"frustration_band\":\"low\",\"churn_score\":0,\"churn_band\":\"low\","
    "\"reasons\":[],\"open_alerts\":[],\"consent\":null,\"contacts_7d\":0,"
    "\"contacts_30d\":0,\"channel_contacts\":[],\"last_contact_at\":null,"
    "\"last_contact_channel\":null,\"open_cases\":0,\"repeat_contacts_7d\":0,"
    "\"avg_wait_ms_30d\":null,\"last_sentiment\":0.0000,\"last_sentiment_at\":5,"
    "\"last_csat\":null,\"last_csat_at\":null,\"last_nps\":null,\"last_nps_at\":null}\n");
  cx_buf_free(&buf);
}

static void test_jsonl_deleted_profile_line_is_exact(void **unused) {
  (void)unused;
  cx_profile_t profile;
  memset(&profile, 0, sizeof(profile));
  profile.deleted = true;
  profile.customer_id = cx_str("d833789ef1820bc39f16deae664901ba");
  profile.updated_at_ms = 7;
  profile.contacts_24h = 3; /* ignored: a tombstone says nothing else */
  cx_buf_t buf = {0};
  assert_int_equal(cx_jsonl_append_profile(&buf, &profile), 0);
  assert_string_equal(as_text(&buf),
    "{\"type\":\"profile\",\"customer_id\":\"d833789ef1820bc39f16deae664901ba\","
    "\"updated_at\":7,\"deleted\":true}\n");
  cx_buf_free(&buf);
}

/* Regression (found by tests/fuzz/fuzz_jsonl): a weight printed with "%.4f"
 * into a 32-byte buffer, then appended with snprintf's would-be length, read
 * past the buffer for weights of 1e31 and more; NaN and infinities printed
 * as "nan"/"inf", which are not JSON. */
static void test_jsonl_huge_and_non_finite_numbers_stay_in_bounds_and_valid(void **unused) {
  (void)unused;
  cx_alert_t alert = {0};
  strcpy(alert.alert_id, "a");
  alert.customer_id = cx_str("C");
  alert.rule = "long_wait";
  alert.trigger_event_id = cx_str("e");
  alert.reason_count = 3;
  alert.reasons[0] = (cx_reason_t){"big", 1, 1e40};
  alert.reasons[1] = (cx_reason_t){"nan", 2, NAN};
  alert.reasons[2] = (cx_reason_t){"inf", 3, -INFINITY};
  cx_buf_t buf = {0};
  assert_int_equal(cx_jsonl_append_alert(&buf, &alert), 0);
  const char *text = as_text(&buf);
  assert_non_null(strstr(text, "\"code\":\"big\",\"value\":1,\"weight\":"
                               "10000000000000000303786028427003666890752.0000}"));
  assert_non_null(strstr(text, "\"code\":\"nan\",\"value\":2,\"weight\":null}"));
  assert_non_null(strstr(text, "\"code\":\"inf\",\"value\":3,\"weight\":null}"));
  cx_buf_free(&buf);

  cx_profile_t profile;
  memset(&profile, 0, sizeof(profile));
  profile.customer_id = cx_str("C");
  profile.reason_count = 1;
  profile.reasons[0] = (cx_profile_reason_t){"big", CX_KIND_CHURN, 7, -1e300};
  profile.has_sentiment = true;
  profile.sentiment = NAN;
  assert_int_equal(cx_jsonl_append_profile(&buf, &profile), 0);
  text = as_text(&buf);
  assert_non_null(strstr(text, "\"weight\":-1000000000000000052504760255204420248704468581108159154"));
  assert_non_null(strstr(text, "\"last_sentiment\":null,"));
  cx_buf_free(&buf);
}

/* Strings are looked at 8 bytes at a time: a byte to escape (or an invalid
 * UTF-8 one) is found at every position of a word and of the tail, and the
 * bytes just outside the escaped set pass as they are. */
static void test_jsonl_escapes_a_special_byte_at_any_position(void **unused) {
  (void)unused;
  static const struct {
    unsigned char byte;
    const char *escaped;
  } cases[] = {{0x01, "\\u0001"}, {0x1f, "\\u001f"}, {'"', "\\\""}, {'\\', "\\\\"},
               {0x80, "\\ufffd"}, {0xff, "\\ufffd"}, {0x7f, "\x7f"}, {0x20, " "},
               {'!', "!"}, {'#', "#"}, {'[', "["}, {']', "]"}, {'\n', "\\n"}};
  cx_buf_t buf = {0};
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    for (size_t len = 1; len <= 19; len++) {
      for (size_t at = 0; at < len; at++) {
        char in[32], want[64];
        memset(in, 'a', len);
        in[at] = (char)cases[c].byte;
        snprintf(want, sizeof(want), "\"%.*s%s%.*s\"", (int)at, in, cases[c].escaped,
                 (int)(len - at - 1), in + at + 1);
        buf.len = 0;
        assert_int_equal(cx_jsonl_append_string(&buf, in, len), 0);
        assert_string_equal(as_text(&buf), want);
      }
    }
  }
  cx_buf_free(&buf);
}

/* Integers print the bytes "%" PRId64 gives: both ends of int64, each
 * count of digits, negative ones. */
static void test_jsonl_integers_are_the_bytes_printf_gives(void **unused) {
  (void)unused;
  int64_t values[] = {0, 1, -1, 9, 10, 11, 99, 100, 101, 999, 1000, -10, -100, 1767571201107,
                      -1767571201107, INT64_MAX, INT64_MIN, INT64_MIN + 1, 1000000000000000000};
  cx_buf_t buf = {0};
  for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
    for (int64_t step = 0; step < 3; step++) {
      int64_t value = values[i] > 0 && values[i] < INT64_MAX - 2 ? values[i] + step : values[i];
      cx_alert_t alert = {0};
      strcpy(alert.alert_id, "a");
      alert.customer_id = cx_str("C");
      alert.rule = "long_wait";
      alert.trigger_event_id = cx_str("e");
      alert.event_time_ms = value;
      buf.len = 0;
      assert_int_equal(cx_jsonl_append_alert(&buf, &alert), 0);
      char want[64];
      snprintf(want, sizeof(want), ",\"event_time\":%" PRId64 ",", value);
      if (!strstr(as_text(&buf), want))
        fail_msg("%s not in %s", want, as_text(&buf));
    }
  }
  cx_buf_free(&buf);
}

/* The weight of an alert's reason as the line prints it. */
static const char *printed_weight(cx_buf_t *buf, double weight, char *out, size_t size) {
  cx_alert_t alert = {0};
  strcpy(alert.alert_id, "a");
  alert.customer_id = cx_str("C");
  alert.rule = "long_wait";
  alert.trigger_event_id = cx_str("e");
  alert.reason_count = 1;
  alert.reasons[0] = (cx_reason_t){"w", 1, weight};
  buf->len = 0;
  assert_int_equal(cx_jsonl_append_alert(buf, &alert), 0);
  const char *text = as_text(buf);
  const char *at = strstr(text, "\"weight\":") + strlen("\"weight\":");
  size_t len = strcspn(at, "}");
  snprintf(out, size, "%.*s", (int)len, at);
  return out;
}

/* Numbers are formatted without printf: every weight prints the bytes
 * "%.4f" gives, including values next to a rounding tie (x.xxxx5), large
 * ones, negative ones and those that round to zero ("-0.0000"). */
static void test_jsonl_decimals_are_the_bytes_printf_gives(void **unused) {
  (void)unused;
  cx_buf_t buf = {0};
  char got[400], want[400];
  double fixed[] = {0.0, -0.0, 1.0, -1.0, 0.4444, 0.5556, 0.00005, -0.00005, 0.00004999,
                    0.12345, 2.5e-5, 1.5e-4, 399999.99995, 400000.00005, 4e5, 123456.78905,
                    -7.00015, 1e-300, -1e-300, 0.99995, 9.99995, 1e15, 4294967296.5};
  for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
    snprintf(want, sizeof(want), "%.4f", fixed[i]);
    assert_string_equal(printed_weight(&buf, fixed[i], got, sizeof(got)), want);
  }
  uint64_t state = 88172645463325252ull; /* xorshift64 */
  for (int i = 0; i < 200000; i++) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    double scale[] = {1e-5, 1e-3, 1.0, 100.0, 1e5, 5e5};
    double value = (double)(state >> 11) / 9007199254740992.0 * scale[i % 6];
    if (i % 3 == 0) /* a tie's neighbourhood: k / 10000 + 0.00005, a few ulps off */
      value = (double)(state % 4000000000u) / 10000.0 + 0.00005 +
              (double)((int)(state >> 60) - 8) * 1e-17;
    if (i & 1)
      value = -value;
    snprintf(want, sizeof(want), "%.4f", value);
    assert_string_equal(printed_weight(&buf, value, got, sizeof(got)), want);
  }
  cx_buf_free(&buf);
}

/* A profile's weights and sentiment never print "-0.0000". */
static void test_jsonl_profile_numbers_never_print_negative_zero(void **unused) {
  (void)unused;
  cx_profile_t profile;
  memset(&profile, 0, sizeof(profile));
  profile.customer_id = cx_str("C");
  profile.reason_count = 1;
  profile.reasons[0] = (cx_profile_reason_t){"r", CX_KIND_CHURN, 7, -0.00001};
  profile.has_sentiment = true;
  profile.sentiment = -0.0;
  cx_buf_t buf = {0};
  assert_int_equal(cx_jsonl_append_profile(&buf, &profile), 0);
  const char *text = as_text(&buf);
  assert_null(strstr(text, "-0.0000"));
  assert_non_null(strstr(text, "\"weight\":0.0000,"));
  assert_non_null(strstr(text, "\"last_sentiment\":0.0000,"));
  cx_buf_free(&buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_jsonl_escapes_quotes_backslashes_and_controls),
    cmocka_unit_test(test_jsonl_keeps_utf8_and_replaces_invalid_bytes),
    cmocka_unit_test(test_jsonl_alert_line_is_exact),
    cmocka_unit_test(test_jsonl_profile_line_is_exact),
    cmocka_unit_test(test_jsonl_profile_writes_absent_fields_as_null_and_empty),
    cmocka_unit_test(test_jsonl_deleted_profile_line_is_exact),
    cmocka_unit_test(test_jsonl_huge_and_non_finite_numbers_stay_in_bounds_and_valid),
    cmocka_unit_test(test_jsonl_decimals_are_the_bytes_printf_gives),
    cmocka_unit_test(test_jsonl_integers_are_the_bytes_printf_gives),
    cmocka_unit_test(test_jsonl_escapes_a_special_byte_at_any_position),
    cmocka_unit_test(test_jsonl_profile_numbers_never_print_negative_zero),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
