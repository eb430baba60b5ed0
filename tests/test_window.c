/* Sliding windows (t - W, t] at their edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_window_excludes_entry_exactly_width_before),
    cmocka_unit_test(test_window_includes_entries_equal_to_end),
    cmocka_unit_test(test_window_empty_array),
    cmocka_unit_test(test_window_start_saturates_at_int64_min),
    cmocka_unit_test(test_window_all_before_window_is_empty),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
