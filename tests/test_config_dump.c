/* Config operations: the effective-config dump (every key, secrets masked,
 * readable back), which keys are secrets, ${ENV} secrets, and the keys of
 * issue 7 (log.format, metrics.listen, metrics.liveness.timeout). */
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

static char *dump(const cx_config_t *config) {
  static char text[262144];
  FILE *out = tmpfile();
  cx_config_dump(config, out);
  rewind(out);
  size_t n = fread(text, 1, sizeof(text) - 1, out);
  text[n] = '\0';
  fclose(out);
  return text;
}

static void test_config_dump_masks_secrets_and_shows_the_rest(void **unused) {
  (void)unused;
  char errstr[256];
  cx_config_t *config = NULL;
  setenv("CX_TEST_SASL_PASSWORD", "pw-from-env-42", 1);
  char path[] = "/tmp/cx-config-dump-XXXXXX";
  int fd = mkstemp(path);
  FILE *file = fdopen(fd, "w");
  fprintf(file, "application.id=orders\n"
                "kafka.security.protocol=SASL_SSL\n"
                "kafka.sasl.mechanism=SCRAM-SHA-512\n"
                "kafka.sasl.username=cx\n"
                "kafka.sasl.password=${CX_TEST_SASL_PASSWORD}\n"
                "kafka.ssl.key.password=keypw-123\n"
                "profiles.pseudonymize.key=pseudo-secret\n");
  fclose(file);
  const char *pairs[] = {"lateness.ms=2m"};
  assert_int_equal(cx_config_build(path, pairs, 1, &config, errstr, sizeof(errstr)), CX_OK);
  unlink(path);
  assert_string_equal(cx_config_kafka_get(config, "sasl.password"), "pw-from-env-42");
  const char *text = dump(config);
  assert_null(strstr(text, "pw-from-env-42"));
  assert_null(strstr(text, "keypw-123"));
  assert_null(strstr(text, "pseudo-secret"));
  assert_non_null(strstr(text, "\nkafka.sasl.password=********\n"));
  assert_non_null(strstr(text, "\nkafka.ssl.key.password=********\n"));
  assert_non_null(strstr(text, "\nprofiles.pseudonymize.key=********\n"));
  assert_non_null(strstr(text, "\nkafka.sasl.username=cx\n"));
  assert_non_null(strstr(text, "application.id=orders\n"));
  assert_non_null(strstr(text, "\nlateness.ms=2m\n"));
  assert_non_null(strstr(text, "\nlog.format=json\n"));
  assert_non_null(strstr(text, "\nmetrics.listen=127.0.0.1:9464\n"));
  cx_config_destroy(config);
}

static void test_config_dump_reads_back_to_the_same_config(void **unused) {
  (void)unused;
  char errstr[256];
  cx_config_t *config = NULL, *again = NULL;
  const char *pairs[] = {"rules.long_wait.single_wait=15m", "processing.guarantee=exactly_once",
                         "kafka.linger.ms=7"};
  assert_int_equal(cx_config_build(NULL, pairs, 3, &config, errstr, sizeof(errstr)), CX_OK);
  char first[262144];
  snprintf(first, sizeof(first), "%s", dump(config));
  char path[] = "/tmp/cx-config-again-XXXXXX";
  int fd = mkstemp(path);
  assert_int_equal(write(fd, first, strlen(first)), (long)strlen(first));
  close(fd);
  assert_int_equal(cx_config_build(path, NULL, 0, &again, errstr, sizeof(errstr)), CX_OK);
  unlink(path);
  assert_string_equal(dump(again), first);
  assert_int_equal(again->processor.rules.long_wait.single_wait_ms, 15 * 60000);
  cx_config_destroy(config);
  cx_config_destroy(again);
}

static void test_config_secret_keys(void **unused) {
  (void)unused;
  assert_true(cx_config_is_secret("kafka.sasl.password"));
  assert_true(cx_config_is_secret("kafka.ssl.key.password"));
  assert_true(cx_config_is_secret("kafka.ssl.key.pem"));
  assert_true(cx_config_is_secret("kafka.ssl.keystore.password"));
  assert_true(cx_config_is_secret("kafka.sasl.oauthbearer.client.secret"));
  assert_true(cx_config_is_secret("profiles.pseudonymize.key"));
  assert_false(cx_config_is_secret("kafka.sasl.username"));
  assert_false(cx_config_is_secret("kafka.ssl.ca.location"));
  assert_false(cx_config_is_secret("application.id"));
}

static void test_config_log_and_metrics_keys_are_validated(void **unused) {
  (void)unused;
  char errstr[256];
  cx_config_t *config = NULL;
  const char *text_format[] = {"log.format=text", "metrics.listen=0.0.0.0:9000",
                               "metrics.liveness.timeout=30s"};
  assert_int_equal(cx_config_build(NULL, text_format, 3, &config, errstr, sizeof(errstr)), CX_OK);
  assert_int_equal(config->log_format, 1);
  assert_int_equal(config->liveness_timeout_ms, 30000);
  cx_config_destroy(config);
  const char *bad_format[] = {"log.format=xml"};
  assert_int_equal(cx_config_build(NULL, bad_format, 1, &config, errstr, sizeof(errstr)),
                   CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, "log.format: 'xml': expected one of json|text"));
  const char *bad_listen[] = {"metrics.listen=9464"};
  assert_int_equal(cx_config_build(NULL, bad_listen, 1, &config, errstr, sizeof(errstr)),
                   CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, "metrics.listen: '9464': expected HOST:PORT"));
  const char *off[] = {"metrics.listen="};
  assert_int_equal(cx_config_build(NULL, off, 1, &config, errstr, sizeof(errstr)), CX_OK);
  cx_config_destroy(config);
  const char *typo[] = {"log.fromat=json"};
  assert_int_equal(cx_config_build(NULL, typo, 1, &config, errstr, sizeof(errstr)),
                   CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, "did you mean 'log.format'?"));
}

static void test_config_env_reference_with_a_default(void **unused) {
  (void)unused;
  char errstr[256];
  cx_config_t *config = NULL;
  unsetenv("CX_TEST_UNSET");
  setenv("CX_TEST_EMPTY", "", 1);
  setenv("CX_TEST_SET", "orders", 1);
  char path[] = "/tmp/cx-config-env-XXXXXX";
  int fd = mkstemp(path);
  FILE *file = fdopen(fd, "w");
  fprintf(file, "metrics.listen=${CX_TEST_UNSET:-0.0.0.0:9464}\n"
                "kafka.client.id=${CX_TEST_EMPTY:-fallback}\n"
                "application.id=${CX_TEST_SET:-unused}\n"
                "kafka.sasl.password=${CX_TEST_UNSET:-}\n");
  fclose(file);
  assert_int_equal(cx_config_build(path, NULL, 0, &config, errstr, sizeof(errstr)), CX_OK);
  assert_string_equal(config->metrics_listen, "0.0.0.0:9464");
  assert_string_equal(cx_config_kafka_get(config, "client.id"), "fallback");
  assert_string_equal(config->application_id, "orders");
  assert_string_equal(cx_config_kafka_get(config, "sasl.password"), "");
  cx_config_destroy(config);
  file = fopen(path, "w");
  fprintf(file, "application.id=${CX_TEST_UNSET}\n");
  fclose(file);
  assert_int_equal(cx_config_build(path, NULL, 0, &config, errstr, sizeof(errstr)), CX_ERR_CONFIG);
  assert_non_null(strstr(errstr, ":1: application.id: environment variable CX_TEST_UNSET is not set"));
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_config_dump_masks_secrets_and_shows_the_rest),
    cmocka_unit_test(test_config_dump_reads_back_to_the_same_config),
    cmocka_unit_test(test_config_secret_keys),
    cmocka_unit_test(test_config_log_and_metrics_keys_are_validated),
    cmocka_unit_test(test_config_env_reference_with_a_default),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
