/* Logging: one JSON object per line by default, text on request, the level
 * filter, escaping, secrets replaced wherever they would appear, and
 * librdkafka's own logs routed through the same logger. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "../stream/config.h"
#include "../stream/kafka.h"
#include "../stream/log.h"

static FILE *capture;

static int setup(void **unused) {
  (void)unused;
  capture = tmpfile();
  cx_log_set_output(capture);
  cx_log_set_level(CX_LOG_INFO);
  cx_log_set_format(CX_LOG_FORMAT_JSON);
  cx_log_clear_secrets();
  return capture ? 0 : -1;
}

static int teardown(void **unused) {
  (void)unused;
  cx_log_set_output(NULL);
  cx_log_clear_secrets();
  fclose(capture);
  return 0;
}

/* What was written since setup, NUL-terminated (static). */
static const char *captured(void) {
  static char text[65536];
  fflush(capture);
  long size = ftell(capture);
  rewind(capture);
  size_t n = fread(text, 1, sizeof(text) - 1, capture);
  text[n] = '\0';
  fseek(capture, size, SEEK_SET);
  return text;
}

static void test_log_json_line_has_time_level_logger_and_message(void **unused) {
  (void)unused;
  cx_log(CX_LOG_WARN, "restored %s [%d]", "in", 3);
  const char *text = captured();
  assert_int_equal(strncmp(text, "{\"time\":\"", 9), 0);
  assert_non_null(strstr(text, "Z\",\"level\":\"warn\",\"logger\":\"cxstream\","
                               "\"message\":\"restored in [3]\"}\n"));
  assert_int_equal(strchr(text, '\n') - text + 1, (long)strlen(text)); /* one line */
}

static void test_log_json_escapes_quotes_backslashes_and_control_characters(void **unused) {
  (void)unused;
  cx_log(CX_LOG_ERROR, "bad \"value\" \\ here\nnext\tx");
  assert_non_null(strstr(captured(), "\"message\":\"bad \\\"value\\\" \\\\ here\\nnext\\u0009x\"}\n"));
}

static void test_log_level_filters_less_severe_lines(void **unused) {
  (void)unused;
  cx_log(CX_LOG_DEBUG, "hidden");
  cx_log_set_level(CX_LOG_ERROR);
  cx_log(CX_LOG_WARN, "hidden too");
  cx_log(CX_LOG_ERROR, "shown");
  const char *text = captured();
  assert_null(strstr(text, "hidden"));
  assert_non_null(strstr(text, "shown"));
}

static void test_log_text_format(void **unused) {
  (void)unused;
  cx_log_set_format(CX_LOG_FORMAT_TEXT);
  cx_log(CX_LOG_INFO, "plain");
  cx_log_from(CX_LOG_WARN, "librdkafka", "FAIL", "down");
  const char *text = captured();
  assert_non_null(strstr(text, "Z INFO plain\n"));
  assert_non_null(strstr(text, "Z WARN librdkafka FAIL: down\n"));
}

static void test_log_never_prints_a_registered_secret(void **unused) {
  (void)unused;
  cx_config_t *config = NULL;
  char errstr[256];
  const char *pairs[] = {"kafka.sasl.password=s3cr3t-pw", "kafka.sasl.username=alice",
                         "profiles.pseudonymize.key=pseudo-key-1"};
  assert_int_equal(cx_config_build(NULL, pairs, 3, &config, errstr, sizeof(errstr)), CX_OK);
  cx_config_register_secrets(config);
  cx_log(CX_LOG_ERROR, "auth failed for alice with s3cr3t-pw (twice: s3cr3t-pw) key pseudo-key-1");
  const char *text = captured();
  assert_null(strstr(text, "s3cr3t-pw"));
  assert_null(strstr(text, "pseudo-key-1"));
  assert_non_null(strstr(text, "auth failed for alice with *** (twice: ***) key ***"));
  cx_config_destroy(config);
}

static void test_log_librdkafka_lines_come_through_the_same_logger(void **unused) {
  (void)unused;
  cx_config_t *config = NULL;
  char errstr[256];
  /* Nothing listens on port 1: librdkafka logs the refused connection. */
  const char *pairs[] = {"kafka.bootstrap.servers=127.0.0.1:1", "kafka.sasl.password=hunter2-x"};
  assert_int_equal(cx_config_build(NULL, pairs, 2, &config, errstr, sizeof(errstr)), CX_OK);
  cx_config_register_secrets(config);
  rd_kafka_conf_t *conf = cx_kafka_conf_new(config, NULL, errstr, sizeof(errstr));
  assert_non_null(conf);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  assert_non_null(rk);
  const char *text = "";
  for (int i = 0; i < 100 && !strstr(text, "\"logger\":\"librdkafka\""); i++) {
    rd_kafka_poll(rk, 100);
    text = captured();
  }
  rd_kafka_destroy(rk);
  text = captured();
  assert_non_null(strstr(text, "\"logger\":\"librdkafka\",\"facility\":\""));
  assert_non_null(strstr(text, "127.0.0.1:1"));
  assert_null(strstr(text, "hunter2-x"));
  cx_config_destroy(config);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_log_json_line_has_time_level_logger_and_message, setup, teardown),
    cmocka_unit_test_setup_teardown(test_log_json_escapes_quotes_backslashes_and_control_characters, setup, teardown),
    cmocka_unit_test_setup_teardown(test_log_level_filters_less_severe_lines, setup, teardown),
    cmocka_unit_test_setup_teardown(test_log_text_format, setup, teardown),
    cmocka_unit_test_setup_teardown(test_log_never_prints_a_registered_secret, setup, teardown),
    cmocka_unit_test_setup_teardown(test_log_librdkafka_lines_come_through_the_same_logger, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
