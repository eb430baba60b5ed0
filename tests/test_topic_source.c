/* The partition merge of topic replay and --from-offsets parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../stream/topic_source.h"

typedef struct item_s {
  int64_t timestamp;
  int32_t partition;
  int64_t offset;
} item_t;

static void push(cx_topic_merge_t *merge, size_t index, item_t *item) {
  assert_int_equal(cx_topic_merge_push(merge, index, item->timestamp, item->offset, item), 0);
}

static item_t *take(cx_topic_merge_t *merge) {
  void *item = NULL;
  size_t index = 99;
  assert_int_equal(cx_topic_merge_next(merge, &item, &index), CX_TOPIC_MERGE_ITEM);
  return item;
}

static void test_merge_orders_by_timestamp_then_partition_then_offset(void **unused) {
  (void)unused;
  const int32_t partitions[] = {0, 1, 2};
  cx_topic_merge_t *merge = cx_topic_merge_new(partitions, 3);
  item_t p0[] = {{10, 0, 0}, {20, 0, 1}, {20, 0, 2}};
  item_t p1[] = {{5, 1, 0}, {20, 1, 1}};
  item_t p2[] = {{20, 2, 7}};
  for (int i = 0; i < 3; i++)
    push(merge, 0, &p0[i]);
  for (int i = 0; i < 2; i++)
    push(merge, 1, &p1[i]);
  push(merge, 2, &p2[0]);
  for (size_t i = 0; i < 3; i++)
    cx_topic_merge_finish(merge, i);
  const item_t *expected[] = {&p1[0], &p0[0], &p0[1], &p0[2], &p1[1], &p2[0]};
  for (size_t i = 0; i < 6; i++)
    assert_ptr_equal(take(merge), expected[i]);
  void *item;
  size_t index;
  assert_int_equal(cx_topic_merge_next(merge, &item, &index), CX_TOPIC_MERGE_END);
  cx_topic_merge_destroy(merge, NULL);
}

static void test_merge_waits_for_an_empty_unfinished_partition(void **unused) {
  (void)unused;
  const int32_t partitions[] = {3, 7};
  cx_topic_merge_t *merge = cx_topic_merge_new(partitions, 2);
  item_t late = {100, 3, 0}, early = {50, 7, 0};
  void *item;
  size_t index;
  push(merge, 0, &late);
  /* Partition 7 might still deliver something older: no item yet. */
  assert_int_equal(cx_topic_merge_next(merge, &item, &index), CX_TOPIC_MERGE_WAIT);
  push(merge, 1, &early);
  assert_ptr_equal(take(merge), &early);
  assert_int_equal(cx_topic_merge_next(merge, &item, &index), CX_TOPIC_MERGE_WAIT);
  cx_topic_merge_finish(merge, 1);
  assert_ptr_equal(take(merge), &late);
  assert_int_equal(cx_topic_merge_next(merge, &item, &index), CX_TOPIC_MERGE_WAIT);
  cx_topic_merge_finish(merge, 0);
  assert_int_equal(cx_topic_merge_next(merge, &item, &index), CX_TOPIC_MERGE_END);
  cx_topic_merge_destroy(merge, NULL);
}

/* The order must not depend on how pushes interleave (fetch timing, batch size). */
static void test_merge_order_is_the_same_for_any_arrival_interleaving(void **unused) {
  (void)unused;
  enum { PER = 600, PARTS = 3 };
  static item_t items[PARTS][PER];
  const int32_t partitions[] = {0, 1, 2};
  for (int p = 0; p < PARTS; p++)
    for (int k = 0; k < PER; k++)
      items[p][k] = (item_t){(k * (p + 2)) / 3, p, k}; /* ascending, with equal timestamps */
  const item_t *first_order[PARTS * PER];
  for (int chunk = 1; chunk <= 300; chunk *= 7) {
    cx_topic_merge_t *merge = cx_topic_merge_new(partitions, PARTS);
    int next[PARTS] = {0};
    size_t taken = 0;
    unsigned round = 0;
    while (taken < PARTS * PER) {
      void *item;
      size_t index;
      cx_topic_merge_status_t status = cx_topic_merge_next(merge, &item, &index);
      if (status == CX_TOPIC_MERGE_ITEM) {
        const item_t *got = item;
        assert_int_equal(got->partition, partitions[index]);
        if (chunk == 1)
          first_order[taken] = got;
        else
          assert_ptr_equal(got, first_order[taken]);
        taken++;
        continue;
      }
      assert_int_equal(status, CX_TOPIC_MERGE_WAIT);
      /* Deliver a chunk from one partition, chosen round-robin with a skew. */
      int p = (int)((round++ * 2654435761u) >> 7) % PARTS;
      for (int k = 0; k < chunk + p && next[p] < PER; k++)
        push(merge, (size_t)p, &items[p][next[p]++]);
      if (next[p] == PER && !cx_topic_merge_finished(merge, (size_t)p))
        cx_topic_merge_finish(merge, (size_t)p);
    }
    cx_topic_merge_destroy(merge, NULL);
  }
  for (size_t i = 1; i < PARTS * PER; i++) {
    const item_t *a = first_order[i - 1], *b = first_order[i];
    assert_true(a->timestamp < b->timestamp ||
                (a->timestamp == b->timestamp &&
                 (a->partition < b->partition ||
                  (a->partition == b->partition && a->offset < b->offset))));
  }
}

static int freed;
static void count_free(void *item) {
  (void)item;
  freed++;
}

static void test_merge_destroy_frees_buffered_items(void **unused) {
  (void)unused;
  const int32_t partitions[] = {0};
  cx_topic_merge_t *merge = cx_topic_merge_new(partitions, 1);
  item_t items[300];
  for (int i = 0; i < 300; i++) {
    items[i] = (item_t){i, 0, i};
    push(merge, 0, &items[i]); /* grows past the first ring size */
  }
  assert_int_equal(cx_topic_merge_buffered(merge, 0), 300);
  assert_ptr_equal(take(merge), &items[0]);
  freed = 0;
  cx_topic_merge_destroy(merge, count_free);
  assert_int_equal(freed, 299);
}

static void test_from_offsets_parses_partition_offset_pairs(void **unused) {
  (void)unused;
  cx_partition_offset_t entries[4];
  size_t count = 0;
  char errstr[256];
  assert_int_equal(cx_topic_source_parse_offsets("0:100,1:250,3:0", entries, 4, &count, errstr,
                                                 sizeof(errstr)), CX_OK);
  assert_int_equal(count, 3);
  assert_int_equal(entries[0].partition, 0);
  assert_true(entries[0].offset == 100);
  assert_int_equal(entries[1].partition, 1);
  assert_true(entries[1].offset == 250);
  assert_int_equal(entries[2].partition, 3);
  assert_true(entries[2].offset == 0);
  assert_int_equal(cx_topic_source_parse_offsets("7:9223372036854775807", entries, 4, &count,
                                                 errstr, sizeof(errstr)), CX_OK);
  assert_true(entries[0].offset == INT64_MAX);
}

static void test_from_offsets_rejects_bad_specs_with_a_clear_error(void **unused) {
  (void)unused;
  static const struct {
    const char *spec;
    const char *says;
  } bad[] = {
    {"", "empty"},
    {"0", "has no ':OFFSET'"},
    {"0:", "bad offset of partition 0"},
    {"0:x", "bad offset of partition 0 at 'x'"},
    {"0:-5", "bad offset"},
    {"-1:5", "bad partition"},
    {"a:5", "bad partition at 'a:5'"},
    {"0:5,", "bad partition"},
    {"0:5,,1:2", "bad partition"},
    {"0:5;1:2", "bad offset"},
    {" 0:5", "bad partition"},
    {"0:5,0:6", "partition 0 given twice"},
    {"2147483648:1", "bad partition"},
    {"0:99999999999999999999", "bad offset"},
    {"0:1,1:1,2:1,3:1,4:1", "more than 4 partitions"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cx_partition_offset_t entries[4];
    size_t count = 0;
    char errstr[256] = "";
    assert_int_equal(cx_topic_source_parse_offsets(bad[i].spec, entries, 4, &count, errstr,
                                                   sizeof(errstr)), CX_ERR_INVALID_ARG);
    if (!strstr(errstr, bad[i].says) || !strstr(errstr, "--from-offsets"))
      fail_msg("spec '%s': error '%s' does not say '%s'", bad[i].spec, errstr, bad[i].says);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_merge_orders_by_timestamp_then_partition_then_offset),
    cmocka_unit_test(test_merge_waits_for_an_empty_unfinished_partition),
    cmocka_unit_test(test_merge_order_is_the_same_for_any_arrival_interleaving),
    cmocka_unit_test(test_merge_destroy_frees_buffered_items),
    cmocka_unit_test(test_from_offsets_parses_partition_offset_pairs),
    cmocka_unit_test(test_from_offsets_rejects_bad_specs_with_a_clear_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
