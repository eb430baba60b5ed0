/* Timers fire in (fire time, set order): day-end timers (kept in per-day
 * queues) and others (kept in a heap) interleave exactly as one heap's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../operators/timers.h"
#include "../operators/window.h"

static void push(cx_timers_t *timers, int64_t fire_ms, uint64_t payload) {
  cx_timer_t timer = {.fire_ms = fire_ms, .payload = payload, .record = 7, .generation = 3,
                      .rule = 5};
  assert_int_equal(cx_timers_push(timers, &timer), 0);
}

static uint64_t pop(cx_timers_t *timers, int64_t watermark_ms) {
  cx_timer_t timer;
  assert_true(cx_timers_pop_due(timers, watermark_ms, &timer));
  assert_int_equal(timer.record, 7);
  assert_int_equal(timer.generation, 3);
  assert_int_equal(timer.rule, 5);
  return timer.payload;
}

static void test_timers_day_ends_and_others_interleave_by_time_then_set_order(void **state) {
  (void)state;
  cx_timers_t *timers = cx_timers_new();
  int64_t end = cx_window_day_end_ms(20000); /* a day end */
  push(timers, end, 1);
  push(timers, end + 1, 2);
  push(timers, end - 1, 3);
  push(timers, end, 4);
  push(timers, cx_window_day_end_ms(20001), 5);
  push(timers, end, 6);
  assert_int_equal(cx_timers_count(timers), 6);
  assert_int_equal(cx_timers_next_fire_ms(timers), end - 1);
  cx_timer_t timer;
  assert_false(cx_timers_pop_due(timers, end - 1, &timer)); /* due only once passed */
  assert_int_equal(pop(timers, INT64_MAX), 3);
  assert_int_equal(pop(timers, INT64_MAX), 1);
  push(timers, end, 7); /* the same day end again, set later: after 4 and 6 */
  assert_int_equal(pop(timers, INT64_MAX), 4);
  assert_int_equal(pop(timers, INT64_MAX), 6);
  assert_int_equal(pop(timers, INT64_MAX), 7);
  assert_int_equal(pop(timers, INT64_MAX), 2);
  assert_int_equal(cx_timers_next_fire_ms(timers), cx_window_day_end_ms(20001));
  assert_false(cx_timers_pop_due(timers, cx_window_day_end_ms(20001), &timer));
  assert_int_equal(pop(timers, INT64_MAX), 5);
  assert_int_equal(cx_timers_count(timers), 0);
  assert_int_equal(cx_timers_next_fire_ms(timers), INT64_MAX);
  cx_timers_destroy(timers);
}

/* A reference: the earliest pending (fire_ms, set order) by a linear scan. */
typedef struct { int64_t fire_ms; uint64_t order; uint64_t payload; bool live; } model_t;

static void test_timers_match_one_ordered_list_at_random(void **state) {
  (void)state;
  enum { N = 20000 };
  model_t *model = calloc(N, sizeof(*model));
  assert_non_null(model);
  cx_timers_t *timers = cx_timers_new();
  srand(12345);
  size_t pushed = 0, popped = 0;
  int64_t watermark = 0;
  while (popped < N) {
    if (pushed < N && rand() % 3) {
      int64_t day = 10 + rand() % 12;
      int64_t fire = rand() % 2 ? cx_window_day_end_ms(day)
                                : cx_window_day_start_ms(day) + rand() % 4 * 21600000 +
                                      rand() % 3;
      model[pushed] = (model_t){fire, pushed, pushed * 7 + 1, true};
      push(timers, fire, pushed * 7 + 1);
      pushed++;
      continue;
    }
    watermark += rand() % (CX_WINDOW_DAY_MS / 3);
    if (pushed == N)
      watermark = INT64_MAX;
    for (;;) {
      size_t best = N;
      for (size_t i = 0; i < pushed; i++)
        if (model[i].live && (best == N || model[i].fire_ms < model[best].fire_ms))
          best = i; /* ties: the lower index, set first */
      cx_timer_t timer;
      bool due = best < N && watermark > model[best].fire_ms;
      assert_int_equal(cx_timers_pop_due(timers, watermark, &timer), due);
      if (!due)
        break;
      assert_int_equal(timer.fire_ms, model[best].fire_ms);
      assert_int_equal(timer.payload, model[best].payload);
      model[best].live = false;
      popped++;
    }
    assert_int_equal(cx_timers_count(timers), pushed - popped);
  }
  cx_timers_destroy(timers);
  free(model);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_timers_day_ends_and_others_interleave_by_time_then_set_order),
      cmocka_unit_test(test_timers_match_one_ordered_list_at_random),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
