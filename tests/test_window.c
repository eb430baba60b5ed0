/* Sliding windows (t - W, t] and per-day counters at their edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../operators/window.h"

typedef struct { int64_t at; int tag; } entry_t;

static cx_window_range_t window(const entry_t *e, size_t n, int64_t t, int64_t w) {
  return cx_window_sliding(e, n, sizeof(entry_t), offsetof(entry_t, at), t, w);
}

static void test_window_excludes_entry_exactly_width_before(void **state) {
  (void)state;
  entry_t e[] = {{0, 0}, {1, 1}, {100, 2}};
  cx_window_range_t r = window(e, 3, 100, 100);
  assert_int_equal(r.begin, 1); /* t - W = 0 is excluded */
  assert_int_equal(r.end, 3);
}

static void test_window_includes_entries_equal_to_end(void **state) {
  (void)state;
  entry_t e[] = {{10, 0}, {50, 1}, {50, 2}, {60, 3}};
  cx_window_range_t r = window(e, 4, 50, 1000);
  assert_int_equal(r.begin, 0);
  assert_int_equal(r.end, 3);
}

static void test_window_empty_array(void **state) {
  (void)state;
  cx_window_range_t r = window(NULL, 0, 5, 5);
  assert_int_equal(r.begin, 0);
  assert_int_equal(r.end, 0);
}

static void test_window_start_saturates_at_int64_min(void **state) {
  (void)state;
  assert_true(cx_window_start(INT64_MIN + 5, 10) == INT64_MIN);
  assert_true(cx_window_start(100, 30) == 70);
}

static void test_window_all_before_window_is_empty(void **state) {
  (void)state;
  entry_t e[] = {{1, 0}, {2, 1}};
  cx_window_range_t r = window(e, 2, 1000, 10);
  assert_int_equal(r.end - r.begin, 0);
}

#define DAY CX_WINDOW_DAY_MS

static void test_window_day_floors_at_utc_midnight(void **state) {
  (void)state;
  assert_int_equal(cx_window_day(0), 0);
  assert_int_equal(cx_window_day(DAY - 1), 0);
  assert_int_equal(cx_window_day(DAY), 1);
  assert_int_equal(cx_window_day(-1), -1); /* floor, not truncation */
  assert_int_equal(cx_window_day(-DAY), -1);
  assert_int_equal(cx_window_day(-DAY - 1), -2);
  assert_int_equal(cx_window_day_start_ms(3), 3 * DAY);
  assert_int_equal(cx_window_day_end_ms(3), 4 * DAY - 1);
  assert_int_equal(cx_window_day(cx_window_day_end_ms(3)), 3);
}

static void test_window_day_bounds_saturate(void **state) {
  (void)state;
  int64_t last = cx_window_day(INT64_MAX);
  assert_true(cx_window_day_end_ms(last) == INT64_MAX);
  assert_true(cx_window_day_start_ms(last + 1) == INT64_MAX);
  assert_true(cx_window_day_start_ms(INT64_MIN / DAY - 1) == INT64_MIN);
  assert_true(cx_window_day_end_ms(INT64_MIN / DAY - 2) == INT64_MIN);
}

static void test_window_days_zeroed_ring_is_empty(void **state) {
  (void)state;
  cx_window_days_t days;
  memset(&days, 0, sizeof(days));
  assert_int_equal(cx_window_days_sum(&days, -100, 100), 0);
  assert_int_equal(cx_window_days_oldest(&days), -(CX_WINDOW_DAYS - 1));
}

static void test_window_days_sum_includes_both_end_days(void **state) {
  (void)state;
  cx_window_days_t days;
  memset(&days, 0, sizeof(days));
  for (int64_t d = 100; d < 110; d++)
    assert_true(cx_window_days_add(&days, d, (uint32_t)(d - 99))); /* day 100: 1 .. day 109: 10 */
  assert_int_equal(cx_window_days_sum(&days, 100, 109), 55);
  assert_int_equal(cx_window_days_sum(&days, 103, 103), 4);
  assert_int_equal(cx_window_days_sum(&days, 103, 104), 9);
  assert_int_equal(cx_window_days_sum(&days, 104, 103), 0); /* empty range */
  assert_int_equal(cx_window_days_sum(&days, 109, 200), 10); /* days after the newest count 0 */
}

static void test_window_days_forgets_days_that_leave_the_ring(void **state) {
  (void)state;
  cx_window_days_t days;
  memset(&days, 0, sizeof(days));
  assert_true(cx_window_days_add(&days, 1000, 7));
  assert_true(cx_window_days_add(&days, 1000 + CX_WINDOW_DAYS - 1, 1));
  assert_int_equal(cx_window_days_oldest(&days), 1000);
  assert_int_equal(cx_window_days_sum(&days, 0, 5000), 8); /* day 1000 is the oldest held */
  assert_true(cx_window_days_add(&days, 1000 + CX_WINDOW_DAYS, 2));
  assert_int_equal(cx_window_days_oldest(&days), 1001);
  assert_int_equal(cx_window_days_sum(&days, 0, 5000), 3); /* day 1000 left, its slot reused */
  assert_int_equal(cx_window_days_sum(&days, 1000, 1000), 0);
}

static void test_window_days_jump_past_ring_clears_everything(void **state) {
  (void)state;
  cx_window_days_t days;
  memset(&days, 0, sizeof(days));
  for (int64_t d = 10; d < 10 + CX_WINDOW_DAYS; d++)
    assert_true(cx_window_days_add(&days, d, 1));
  assert_true(cx_window_days_add(&days, 10 + 3 * CX_WINDOW_DAYS, 5));
  assert_int_equal(cx_window_days_sum(&days, 0, 1000), 5);
}

static void test_window_days_refuses_day_older_than_ring(void **state) {
  (void)state;
  cx_window_days_t days;
  memset(&days, 0, sizeof(days));
  assert_true(cx_window_days_add(&days, 500, 1));
  assert_true(cx_window_days_add(&days, 500 - (CX_WINDOW_DAYS - 1), 1)); /* the oldest held */
  assert_false(cx_window_days_add(&days, 500 - CX_WINDOW_DAYS, 1));
  assert_int_equal(cx_window_days_sum(&days, 0, 1000), 2);
  assert_int_equal(days.newest_day, 500);
}

static void test_window_days_counters_saturate(void **state) {
  (void)state;
  cx_window_days_t days;
  memset(&days, 0, sizeof(days));
  assert_true(cx_window_days_add(&days, 7, UINT16_MAX - 1));
  assert_true(cx_window_days_add(&days, 7, 1));
  assert_int_equal(cx_window_days_sum(&days, 7, 7), UINT16_MAX);
  assert_true(cx_window_days_add(&days, 7, 1));
  assert_true(cx_window_days_add(&days, 7, UINT32_MAX));
  assert_int_equal(cx_window_days_sum(&days, 7, 7), UINT16_MAX);
  assert_true(cx_window_days_add(&days, 8, UINT32_MAX));
  assert_int_equal(cx_window_days_sum(&days, 7, 8), 2 * UINT16_MAX);
  cx_window_days_release(&days);
}

/* Counts are one byte until one passes 255; then the high bytes come and
 * every count stays exact, also across the ring moving forward. */
static void test_window_days_counts_past_one_byte_stay_exact(void **state) {
  (void)state;
  cx_window_days_t days;
  memset(&days, 0, sizeof(days));
  for (int i = 0; i < 255; i++)
    assert_int_equal(cx_window_days_add(&days, 20, 1), 1);
  assert_null(days.high);
  assert_int_equal(cx_window_days_heap_bytes(&days), 0);
  assert_int_equal(cx_window_days_add(&days, 19, 3), 1);
  assert_int_equal(cx_window_days_add(&days, 20, 1), 1); /* 256 */
  assert_non_null(days.high);
  assert_int_equal(cx_window_days_heap_bytes(&days), CX_WINDOW_DAYS);
  assert_int_equal(cx_window_days_sum(&days, 20, 20), 256);
  assert_int_equal(cx_window_days_sum(&days, 19, 19), 3);
  assert_int_equal(cx_window_days_add(&days, 21, 1000), 1);
  assert_int_equal(cx_window_days_sum(&days, 19, 21), 1259);
  /* day 20 + CX_WINDOW_DAYS reuses day 20's slot: it starts at 0 */
  assert_int_equal(cx_window_days_add(&days, 20 + CX_WINDOW_DAYS, 2), 1);
  assert_int_equal(cx_window_days_sum(&days, 20 + CX_WINDOW_DAYS, 20 + CX_WINDOW_DAYS), 2);
  assert_int_equal(cx_window_days_sum(&days, 21, 21), 1000);
  assert_int_equal(cx_window_days_add(&days, 20 + 3 * CX_WINDOW_DAYS, 300), 1); /* jump: all cleared */
  assert_int_equal(cx_window_days_sum(&days, 0, 1000), 300);
  assert_int_equal(cx_window_days_count(&days, (20 + 3 * CX_WINDOW_DAYS) % CX_WINDOW_DAYS), 300);
  assert_int_equal(cx_window_days_set(&days, 0, UINT16_MAX), 0);
  assert_int_equal(cx_window_days_count(&days, 0), UINT16_MAX);
  cx_window_days_release(&days);
  assert_null(days.high);
}

/* Every range of a full ring whose slots wrap past the ring's end, with
 * counts above one byte, sums as the days one at a time (the sum reads the
 * ring in two straight runs and the high bytes apart). */
static void test_window_days_sum_wrapping_ranges_match_day_by_day(void **state) {
  (void)state;
  cx_window_days_t days;
  memset(&days, 0, sizeof(days));
  const int64_t first = 3 * CX_WINDOW_DAYS + 25; /* slot 25: the ring wraps inside */
  uint32_t expected[CX_WINDOW_DAYS];
  for (int64_t i = 0; i < CX_WINDOW_DAYS; i++) {
    expected[i] = (uint32_t)(i * 37 % 11) + (i % 7 == 3 ? 700 + (uint32_t)i : 0);
    assert_int_equal(cx_window_days_add(&days, first + i, expected[i]), 1);
  }
  assert_non_null(days.high);
  for (int64_t a = first - 2; a < first + CX_WINDOW_DAYS + 2; a++) {
    for (int64_t b = a - 1; b < first + CX_WINDOW_DAYS + 2; b++) {
      uint32_t sum = 0;
      for (int64_t d = a; d <= b; d++)
        if (d >= first && d < first + CX_WINDOW_DAYS)
          sum += expected[d - first];
      assert_int_equal(cx_window_days_sum(&days, a, b), sum);
    }
  }
  cx_window_days_release(&days);
  /* The same without high bytes (their low bytes only). */
  for (int64_t a = first; a < first + CX_WINDOW_DAYS; a++) {
    uint32_t sum = 0;
    for (int64_t d = a; d < first + CX_WINDOW_DAYS; d++)
      sum += expected[d - first] & 0xff;
    assert_int_equal(cx_window_days_sum(&days, a, first + CX_WINDOW_DAYS - 1), sum);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_window_excludes_entry_exactly_width_before),
    cmocka_unit_test(test_window_includes_entries_equal_to_end),
    cmocka_unit_test(test_window_empty_array),
    cmocka_unit_test(test_window_start_saturates_at_int64_min),
    cmocka_unit_test(test_window_all_before_window_is_empty),
    cmocka_unit_test(test_window_day_floors_at_utc_midnight),
    cmocka_unit_test(test_window_day_bounds_saturate),
    cmocka_unit_test(test_window_days_zeroed_ring_is_empty),
    cmocka_unit_test(test_window_days_sum_includes_both_end_days),
    cmocka_unit_test(test_window_days_forgets_days_that_leave_the_ring),
    cmocka_unit_test(test_window_days_jump_past_ring_clears_everything),
    cmocka_unit_test(test_window_days_refuses_day_older_than_ring),
    cmocka_unit_test(test_window_days_counts_past_one_byte_stay_exact),
    cmocka_unit_test(test_window_days_counters_saturate),
    cmocka_unit_test(test_window_days_sum_wrapping_ranges_match_day_by_day),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
