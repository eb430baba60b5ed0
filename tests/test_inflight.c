/* The order of at-least-once batches in flight (stream/inflight.c): a
 * batch's state records go out only after its outputs are acknowledged and
 * after every earlier batch's records; its offsets are stored only after
 * its records are acknowledged and every earlier batch is done; a failed
 * delivery moves nothing any more. Deliveries are simulated by setting the
 * tallies, as the producer's delivery reports do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../stream/inflight.h"

/* What the hooks did, in order: "R<n>" records of batch n sent, "D<n>" batch n done. */
typedef struct trace_s {
  char text[512];
  bool refuse_records;  /* the producer refuses the records at once */
} trace_t;

static void send_records(cx_inflight_batch_t *batch, void *opaque) {
  trace_t *trace = opaque;
  size_t len = strlen(trace->text);
  snprintf(trace->text + len, sizeof(trace->text) - len, "R%lld ", (long long)batch->messages);
  if (trace->refuse_records)
    batch->records.failed++;
  else
    batch->records.pending += batch->held.count;
}

static void done(cx_inflight_batch_t *batch, void *opaque) {
  trace_t *trace = opaque;
  size_t len = strlen(trace->text);
  snprintf(trace->text + len, sizeof(trace->text) - len, "D%lld ", (long long)batch->messages);
}

/* Opens and seals batch n with outputs outputs in flight and records held records. */
static cx_inflight_batch_t *batch(cx_inflight_t *inflight, int n, uint64_t outputs,
                                  size_t records) {
  cx_inflight_batch_t *b = cx_inflight_open(inflight);
  assert_non_null(b);
  b->messages = n;
  b->outputs.pending = outputs;
  b->held.count = records;
  cx_inflight_seal(inflight);
  return b;
}

static void test_records_wait_for_the_outputs_and_offsets_for_the_records(void **unused) {
  (void)unused;
  cx_inflight_t inflight = {0};
  trace_t trace = {0};
  cx_inflight_hooks_t hooks = {send_records, done, &trace};
  cx_inflight_batch_t *b1 = batch(&inflight, 1, 2, 3);
  assert_int_equal(cx_inflight_advance(&inflight, &hooks), 0);
  assert_string_equal(trace.text, ""); /* outputs not acknowledged yet */
  b1->outputs.pending = 1;
  assert_int_equal(cx_inflight_advance(&inflight, &hooks), 0);
  assert_string_equal(trace.text, "");
  b1->outputs.pending = 0;
  assert_int_equal(cx_inflight_advance(&inflight, &hooks), 0);
  assert_string_equal(trace.text, "R1 "); /* records out, offsets wait for them */
  assert_int_equal(inflight.sealed, 1);
  b1->records.pending = 0;
  assert_int_equal(cx_inflight_advance(&inflight, &hooks), 0);
  assert_string_equal(trace.text, "R1 D1 ");
  assert_int_equal(inflight.sealed, 0);
  cx_inflight_free(&inflight);
}

static void test_batches_go_in_order_whatever_the_acknowledgements(void **unused) {
  (void)unused;
  cx_inflight_t inflight = {0};
  trace_t trace = {0};
  cx_inflight_hooks_t hooks = {send_records, done, &trace};
  cx_inflight_batch_t *b1 = batch(&inflight, 1, 1, 1);
  cx_inflight_batch_t *b2 = batch(&inflight, 2, 1, 1);
  cx_inflight_batch_t *b3 = batch(&inflight, 3, 0, 0); /* no output, no record */
  b2->outputs.pending = 0; /* batch 2 acknowledged before batch 1 */
  assert_int_equal(cx_inflight_advance(&inflight, &hooks), 0);
  assert_string_equal(trace.text, ""); /* batch 2's records wait for batch 1's */
  b1->outputs.pending = 0;
  assert_int_equal(cx_inflight_advance(&inflight, &hooks), 0);
  assert_string_equal(trace.text, "R1 R2 R3 ");
  b2->records.pending = 0; /* batch 2's records acknowledged first */
  assert_int_equal(cx_inflight_advance(&inflight, &hooks), 0);
  assert_string_equal(trace.text, "R1 R2 R3 "); /* its offsets wait for batch 1 */
  b1->records.pending = 0;
  assert_int_equal(cx_inflight_advance(&inflight, &hooks), 0);
  assert_string_equal(trace.text, "R1 R2 R3 D1 D2 D3 ");
  assert_int_equal(inflight.sealed, 0);
  (void)b3;
  cx_inflight_free(&inflight);
}

static void test_a_failed_output_moves_nothing_any_more(void **unused) {
  (void)unused;
  cx_inflight_t inflight = {0};
  trace_t trace = {0};
  cx_inflight_hooks_t hooks = {send_records, done, &trace};
  cx_inflight_batch_t *b1 = batch(&inflight, 1, 1, 1);
  cx_inflight_batch_t *b2 = batch(&inflight, 2, 2, 1);
  b1->outputs.pending = 0;
  assert_int_equal(cx_inflight_advance(&inflight, &hooks), 0);
  assert_string_equal(trace.text, "R1 ");
  b2->outputs.pending = 0; /* both reported, one of them failed */
  b2->outputs.failed = 1;
  b1->records.pending = 0;
  assert_int_equal(cx_inflight_advance(&inflight, &hooks), -1);
  assert_string_equal(trace.text, "R1 "); /* no record of batch 2, no offset at all */
  assert_int_equal(cx_inflight_advance(&inflight, &hooks), -1);
  assert_string_equal(trace.text, "R1 ");
  cx_inflight_free(&inflight);
}

static void test_records_refused_at_once_store_no_offset(void **unused) {
  (void)unused;
  cx_inflight_t inflight = {0};
  trace_t trace = {.refuse_records = true};
  cx_inflight_hooks_t hooks = {send_records, done, &trace};
  batch(&inflight, 1, 0, 2);
  batch(&inflight, 2, 0, 2);
  assert_int_equal(cx_inflight_advance(&inflight, &hooks), -1);
  assert_string_equal(trace.text, "R1 "); /* batch 2's records are not sent after a refusal */
  cx_inflight_free(&inflight);
}

/* Whichever slot a batch opens in, it gets the largest buffer of the
 * batches done before it, never one of a sealed batch (the producer borrows
 * its records until they are acknowledged): with every other batch still
 * in flight when the next opens, two buffers serve them all, and a sealed
 * batch's records stay as they were until it is done. */
static void test_an_opened_batch_reuses_the_largest_done_buffer(void **unused) {
  (void)unused;
  cx_inflight_t inflight = {0};
  trace_t trace = {0};
  cx_inflight_hooks_t hooks = {send_records, done, &trace};
  cx_inflight_batch_t *in_flight = NULL;
  for (int n = 1; n <= 3 * CX_INFLIGHT_MAX; n++) {
    cx_inflight_batch_t *b = cx_inflight_open(&inflight);
    assert_non_null(b);
    assert_int_equal(b->held.bytes.len, 0);
    if (in_flight)
      assert_ptr_not_equal(b->held.bytes.data, in_flight->held.bytes.data);
    char record[24];
    snprintf(record, sizeof(record), "record %d", n);
    assert_int_equal(cx_buf_append(&b->held.bytes, record, sizeof(record)), 0);
    b->held.count = 1;
    b->messages = n;
    cx_inflight_seal(&inflight);
    assert_int_equal(cx_inflight_advance(&inflight, &hooks), 0); /* records sent */
    if (in_flight) { /* the earlier batch's records are acknowledged now */
      assert_int_equal(in_flight->held.count, 1);
      in_flight->records.pending = 0;
    }
    if (n % 2) { /* this one's records are acknowledged at once */
      b->records.pending = 0;
      in_flight = NULL;
    } else {
      in_flight = b;
    }
    assert_int_equal(cx_inflight_advance(&inflight, &hooks), 0);
  }
  int with_memory = 0;
  for (int k = 0; k < CX_INFLIGHT_MAX; k++)
    with_memory += inflight.batches[k].held.bytes.capacity > 0;
  assert_int_equal(with_memory, 2);
  cx_inflight_free(&inflight);
}

static void test_the_ring_is_bounded(void **unused) {
  (void)unused;
  cx_inflight_t inflight = {0};
  trace_t trace = {0};
  cx_inflight_hooks_t hooks = {send_records, done, &trace};
  cx_inflight_batch_t *first = NULL;
  for (int n = 1; n <= CX_INFLIGHT_MAX; n++) {
    cx_inflight_batch_t *b = batch(&inflight, n, 1, 0);
    if (n == 1)
      first = b;
  }
  assert_int_equal(inflight.sealed, CX_INFLIGHT_MAX);
  assert_null(cx_inflight_open(&inflight)); /* full until the oldest is done */
  first->outputs.pending = 0;
  assert_int_equal(cx_inflight_advance(&inflight, &hooks), 0);
  assert_string_equal(trace.text, "R1 D1 ");
  cx_inflight_batch_t *again = cx_inflight_open(&inflight);
  assert_ptr_equal(again, first); /* its slot, emptied */
  assert_int_equal(again->outputs.pending, 0);
  assert_int_equal(again->messages, 0);
  cx_inflight_free(&inflight);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_records_wait_for_the_outputs_and_offsets_for_the_records),
    cmocka_unit_test(test_batches_go_in_order_whatever_the_acknowledgements),
    cmocka_unit_test(test_a_failed_output_moves_nothing_any_more),
    cmocka_unit_test(test_records_refused_at_once_store_no_offset),
    cmocka_unit_test(test_the_ring_is_bounded),
    cmocka_unit_test(test_an_opened_batch_reuses_the_largest_done_buffer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
