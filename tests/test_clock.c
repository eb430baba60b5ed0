/* Time parsing for --from, --to and --start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../stream/clock.h"

static int64_t parse(const char *text) {
  int64_t ms = -1;
  assert_int_equal(cx_clock_parse_time(text, &ms), CX_OK);
  return ms;
}

static void test_clock_parses_iso_dates_times_and_offsets(void **unused) {
  (void)unused;
  assert_true(parse("1970-01-01") == 0);
  assert_true(parse("1999-01-01T00:00:31Z") == 915148831000LL);
  assert_true(parse("2026-01-05T10:00:00Z") == 1767607200000LL);
  assert_true(parse("2026-01-05T12:00:00+02:00") == 1767607200000LL);
  assert_true(parse("2026-01-05 10:00Z") == 1767607200000LL);
  assert_true(parse("2026-01-05T10:00:00.250Z") == 1767607200250LL);
  assert_true(parse("2024-02-29") == 1709164800000LL);
}

static void test_clock_parses_epoch_milliseconds(void **unused) {
  (void)unused;
  assert_true(parse("1767607200000") == 1767607200000LL);
  assert_true(parse("0") == 0);
}

static void test_clock_rejects_impossible_or_malformed_times(void **unused) {
  (void)unused;
  int64_t ms;
  const char *bad[] = {"", "bogus", "2026-02-30", "2025-02-29", "2026-13-01", "2026-01-05T24:00Z",
                       "1969-12-31", "2026-01-05T10:00:00X", "-5", "2026-1-5"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(cx_clock_parse_time(bad[i], &ms), CX_ERR_INVALID_ARG);
}

static void test_clock_formats_utc(void **unused) {
  (void)unused;
  char out[40];
  cx_clock_format_utc(1767607200250LL, out, sizeof(out));
  assert_string_equal(out, "2026-01-05T10:00:00.250Z");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_clock_parses_iso_dates_times_and_offsets),
    cmocka_unit_test(test_clock_parses_epoch_milliseconds),
    cmocka_unit_test(test_clock_rejects_impossible_or_malformed_times),
    cmocka_unit_test(test_clock_formats_utc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
