/* Configuration: defaults, durations, unknown keys with suggestions, ranges,
 * kafka.* passthrough, properties files with ${ENV} substitution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../stream/config.h"

static void test_config_defaults_match_design(void **unused) {
  (void)unused;
  cx_config_t *c = cx_config_new();
  assert_non_null(c);
  assert_int_equal(c->processor.lateness_ms, 60000);
  assert_int_equal(c->processor.rules.repeat_contact.window_ms, 24 * 3600000LL);
  assert_int_equal(c->processor.rules.repeat_contact.min_contacts, 3);
  assert_int_equal(c->processor.rules.long_wait.single_wait_ms, 600000);
  assert_int_equal(c->processor.rules.long_wait.total_wait_ms, 1800000);
  assert_int_equal(c->processor.rules.abandonment.min_abandoned, 2);
  assert_int_equal(c->processing_guarantee, CX_GUARANTEE_AT_LEAST_ONCE);
  cx_config_destroy(c);
}

static void test_config_parses_durations_with_units(void **unused) {
  (void)unused;
  int64_t ms;
  assert_int_equal(cx_config_parse_duration("24h", &ms), CX_OK);
  assert_int_equal(ms, 86400000);
  assert_int_equal(cx_config_parse_duration("500ms", &ms), CX_OK);
  assert_int_equal(ms, 500);
  assert_int_equal(cx_config_parse_duration("10m", &ms), CX_OK);
  assert_int_equal(ms, 600000);
  assert_int_equal(cx_config_parse_duration("2d", &ms), CX_OK);
  assert_int_equal(ms, 172800000);
  assert_int_equal(cx_config_parse_duration("1500", &ms), CX_OK);
  assert_int_equal(ms, 1500);
  assert_int_not_equal(cx_config_parse_duration("24x", &ms), CX_OK);
  assert_int_not_equal(cx_config_parse_duration("-5s", &ms), CX_OK);
  assert_int_not_equal(cx_config_parse_duration("99999999999999999999d", &ms), CX_OK);
}

static void test_config_unknown_key_suggests_closest(void **unused) {
  (void)unused;
  char errstr[256];
  cx_config_t *c = cx_config_new();
  assert_int_equal(cx_config_set_pair(c, "rules.long_wait.windw=3h", errstr, sizeof(errstr)),
                   CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, "did you mean 'rules.long_wait.window'"));
  assert_int_equal(cx_config_set_pair(c, "bootstrap.servers=x", errstr, sizeof(errstr)),
                   CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, "unknown configuration key 'bootstrap.servers'"));
  cx_config_destroy(c);
}

static void test_config_bad_value_names_key_and_range(void **unused) {
  (void)unused;
  char errstr[256];
  cx_config_t *c = cx_config_new();
  assert_int_equal(cx_config_set(c, "rules.repeat_contact.window", "24x", errstr, sizeof(errstr)),
                   CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, "rules.repeat_contact.window: '24x': expected a duration"));
  assert_int_equal(cx_config_set(c, "processing.batch.size", "0", errstr, sizeof(errstr)),
                   CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, "from 1 to"));
  assert_int_equal(cx_config_set(c, "processing.guarantee", "twice", errstr, sizeof(errstr)),
                   CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, "at_least_once|exactly_once"));
  assert_int_equal(cx_config_set(c, "rules.abandonment.enabled", "yes", errstr, sizeof(errstr)),
                   CX_ERR_CONFIG);
  cx_config_destroy(c);
}

static void test_config_kafka_keys_pass_through_and_later_wins(void **unused) {
  (void)unused;
  char errstr[256];
  cx_config_t *c = cx_config_new();
  assert_int_equal(cx_config_set_pair(c, "kafka.bootstrap.servers=a:1", errstr, sizeof(errstr)), CX_OK);
  assert_int_equal(cx_config_set_pair(c, "kafka.bootstrap.servers=b:2", errstr, sizeof(errstr)), CX_OK);
  assert_string_equal(cx_config_kafka_get(c, "bootstrap.servers"), "b:2");
  assert_int_equal(c->kafka_count, 1);
  assert_null(cx_config_kafka_get(c, "security.protocol"));
  cx_config_destroy(c);
}

static void test_config_file_with_comments_and_env_substitution(void **unused) {
  (void)unused;
  char path[] = "/tmp/cx_test_config_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *text = "# comment\n! also a comment\n\napplication.id = app-${CX_TEST_SUFFIX}\n"
                     "lateness.ms: 5s\nkafka.sasl.password=${CX_TEST_SECRET}\n";
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  setenv("CX_TEST_SUFFIX", "blue", 1);
  setenv("CX_TEST_SECRET", "s3cr3t", 1);
  char errstr[256];
  cx_config_t *c = cx_config_new();
  assert_int_equal(cx_config_load_file(c, path, errstr, sizeof(errstr)), CX_OK);
  assert_string_equal(c->application_id, "app-blue");
  assert_int_equal(c->processor.lateness_ms, 5000);
  assert_string_equal(cx_config_kafka_get(c, "sasl.password"), "s3cr3t");
  unsetenv("CX_TEST_SECRET");
  assert_int_equal(cx_config_load_file(c, path, errstr, sizeof(errstr)), CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, ":6: kafka.sasl.password: environment variable CX_TEST_SECRET is not set"));
  cx_config_destroy(c);
  unlink(path);
}

static void test_config_file_errors_carry_line_numbers(void **unused) {
  (void)unused;
  char path[] = "/tmp/cx_test_config_XXXXXX";
  int fd = mkstemp(path);
  const char *text = "application.id=x\nthis line has no separator\n";
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  char errstr[256];
  cx_config_t *c = cx_config_new();
  assert_int_equal(cx_config_load_file(c, path, errstr, sizeof(errstr)), CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, ":2: expected key=value"));
  assert_int_equal(cx_config_load_file(c, "/nonexistent/cx.conf", errstr, sizeof(errstr)),
                   CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, "No such file"));
  cx_config_destroy(c);
  unlink(path);
}

static void test_config_validate_exactly_once_needs_the_changelog(void **unused) {
  (void)unused;
  char errstr[256];
  cx_config_t *c = cx_config_new();
  assert_int_equal(cx_config_validate(c, errstr, sizeof(errstr)), CX_OK);
  cx_config_set(c, "processing.guarantee", "exactly_once", errstr, sizeof(errstr));
  assert_int_equal(cx_config_validate(c, errstr, sizeof(errstr)), CX_OK);
  cx_config_set(c, "state.changelog", "false", errstr, sizeof(errstr));
  assert_int_equal(cx_config_validate(c, errstr, sizeof(errstr)), CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, "exactly_once needs state.changelog=true"));
  cx_config_destroy(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_config_defaults_match_design),
    cmocka_unit_test(test_config_parses_durations_with_units),
    cmocka_unit_test(test_config_unknown_key_suggests_closest),
    cmocka_unit_test(test_config_bad_value_names_key_and_range),
    cmocka_unit_test(test_config_kafka_keys_pass_through_and_later_wins),
    cmocka_unit_test(test_config_file_with_comments_and_env_substitution),
    cmocka_unit_test(test_config_file_errors_carry_line_numbers),
    cmocka_unit_test(test_config_validate_exactly_once_needs_the_changelog),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
