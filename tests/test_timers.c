/* Timers fire in (fire time, set order): day-end timers (kept in per-day
 * queues of 12-byte entries in blocks) and others (kept in a heap)
 * interleave exactly as one heap's, and come back with every field as set. */
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

/* Every field as set, whatever the rule, payload width or block boundary. */
typedef struct {
  cx_timer_t timer;
  bool live;
} full_model_t;

static uint64_t random_payload(void) {
  switch (rand() % 5) {
  case 0: return (uint64_t)rand() << 40 ^ (uint64_t)rand() << 20 ^ (uint64_t)rand(); /* wide */
  case 1: return UINT64_MAX - (uint64_t)(rand() % 3);
  case 2: return (uint64_t)1 << 32 | (uint64_t)rand(); /* just past 32 bits */
  default: return (uint64_t)rand(); /* fits 32 bits */
  }
}

static void test_timers_keep_every_field_across_blocks_at_random(void **state) {
  (void)state;
  enum { N = 12000 };
  full_model_t *model = calloc(N, sizeof(*model));
  assert_non_null(model);
  cx_timers_t *timers = cx_timers_new();
  srand(777);
  size_t pushed = 0, popped = 0;
  int64_t watermark = cx_window_day_start_ms(10);
  while (popped < N) {
    if (pushed < N && rand() % 5) {
      int64_t day = 10 + rand() % 3;
      int64_t fire = rand() % 4 ? cx_window_day_end_ms(day)
                                : cx_window_day_start_ms(day) + rand() % 8 * 10800000 +
                                      rand() % 3;
      cx_timer_t timer = {.fire_ms = fire,
                          .payload = random_payload(),
                          .record = (uint32_t)rand() * 2654435761u,
                          .generation = (uint32_t)rand(),
                          .rule = (uint8_t)(rand() % 8 ? 3 : rand() % 256)};
      model[pushed] = (full_model_t){timer, true};
      assert_int_equal(cx_timers_push(timers, &timer), 0);
      pushed++;
      continue;
    }
    watermark += rand() % (CX_WINDOW_DAY_MS / 500); /* queues grow past blocks */
    if (pushed == N)
      watermark = INT64_MAX;
    for (;;) {
      size_t best = N;
      for (size_t i = 0; i < pushed; i++)
        if (model[i].live && (best == N || model[i].timer.fire_ms < model[best].timer.fire_ms))
          best = i;
      cx_timer_t timer;
      bool due = best < N && watermark > model[best].timer.fire_ms;
      assert_int_equal(cx_timers_pop_due(timers, watermark, &timer), due);
      if (!due)
        break;
      const cx_timer_t *want = &model[best].timer;
      assert_int_equal(timer.fire_ms, want->fire_ms);
      assert_true(timer.payload == want->payload);
      assert_int_equal(timer.record, want->record);
      assert_int_equal(timer.generation, want->generation);
      assert_int_equal(timer.rule, want->rule);
      model[best].live = false;
      popped++;
    }
    assert_int_equal(cx_timers_count(timers), pushed - popped);
  }
  assert_int_equal(cx_timers_next_fire_ms(timers), INT64_MAX);
  cx_timers_destroy(timers);
  free(model);
}

/* A day's queue holds whole blocks: one more only when the last is full,
 * one less once the head has passed it, none once empty; bytes say so. */
static void test_timers_queue_bytes_follow_its_blocks(void **state) {
  (void)state;
  cx_timers_t *timers = cx_timers_new();
  int64_t end = cx_window_day_end_ms(20000);
  size_t empty = cx_timers_bytes(timers);
  push(timers, end, 0);
  size_t one = cx_timers_bytes(timers); /* the queue list and one block */
  for (uint64_t i = 1; i < CX_TIMERS_QUEUE_BLOCK; i++)
    push(timers, end, i);
  assert_int_equal(cx_timers_bytes(timers), one);
  push(timers, end, CX_TIMERS_QUEUE_BLOCK);
  size_t block = cx_timers_bytes(timers) - one;
  assert_true(block >= CX_TIMERS_QUEUE_BLOCK * 12 && block <= CX_TIMERS_QUEUE_BLOCK * 12 + 16);
  assert_true(block <= 16384);
  for (uint64_t i = CX_TIMERS_QUEUE_BLOCK + 1; i < 3 * CX_TIMERS_QUEUE_BLOCK + 5; i++)
    push(timers, end, i);
  assert_int_equal(cx_timers_bytes(timers), one + 3 * block);
  for (uint64_t i = 0; i < CX_TIMERS_QUEUE_BLOCK - 1; i++)
    assert_int_equal(pop(timers, INT64_MAX), i);
  assert_int_equal(cx_timers_bytes(timers), one + 3 * block);
  assert_int_equal(pop(timers, INT64_MAX), CX_TIMERS_QUEUE_BLOCK - 1); /* passes the first */
  assert_int_equal(cx_timers_bytes(timers), one + 2 * block);
  for (uint64_t i = CX_TIMERS_QUEUE_BLOCK; i < 3 * CX_TIMERS_QUEUE_BLOCK + 5; i++)
    assert_int_equal(pop(timers, INT64_MAX), i);
  assert_int_equal(cx_timers_count(timers), 0);
  assert_int_equal(cx_timers_bytes(timers), one - block); /* the queue list is kept */
  assert_true(one - block > empty);
  cx_timers_destroy(timers);
}

/* One day's queue pushed and popped in turn (two pushes a pop): FIFO with
 * every field, through block changes and exceptions reused in place. */
static void test_timers_one_queue_pushed_and_popped_in_turn(void **state) {
  (void)state;
  enum { N = 5 * CX_TIMERS_QUEUE_BLOCK };
  cx_timer_t *model = calloc(N, sizeof(*model));
  assert_non_null(model);
  cx_timers_t *timers = cx_timers_new();
  int64_t end = cx_window_day_end_ms(20000);
  srand(4242);
  size_t pushed = 0, popped = 0;
  while (popped < N) {
    if (pushed < N && (pushed < 2 * popped + 2 || pushed < 50)) {
      model[pushed] = (cx_timer_t){.fire_ms = end,
                                   .payload = random_payload(),
                                   .record = (uint32_t)pushed,
                                   .generation = (uint32_t)rand(),
                                   .rule = (uint8_t)(rand() % 3 ? 9 : rand() % 4)};
      assert_int_equal(cx_timers_push(timers, &model[pushed]), 0);
      pushed++;
      continue;
    }
    cx_timer_t timer;
    assert_false(cx_timers_pop_due(timers, end, &timer));
    assert_true(cx_timers_pop_due(timers, end + 1, &timer));
    const cx_timer_t *want = &model[popped++];
    assert_int_equal(timer.fire_ms, end);
    assert_true(timer.payload == want->payload);
    assert_int_equal(timer.record, want->record);
    assert_int_equal(timer.generation, want->generation);
    assert_int_equal(timer.rule, want->rule);
    assert_int_equal(cx_timers_count(timers), pushed - popped);
  }
  cx_timers_destroy(timers);
  free(model);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_timers_day_ends_and_others_interleave_by_time_then_set_order),
      cmocka_unit_test(test_timers_match_one_ordered_list_at_random),
      cmocka_unit_test(test_timers_keep_every_field_across_blocks_at_random),
      cmocka_unit_test(test_timers_queue_bytes_follow_its_blocks),
      cmocka_unit_test(test_timers_one_queue_pushed_and_popped_in_turn),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
