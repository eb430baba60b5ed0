/* libFuzzer target, differential, two properties on every input:
 * - the fused path (cx_event_decode_guarded, what the codec and the OCF
 *   reader run) equals the guard followed by the specialised decoder, as a
 *   whole message and as a record at the start of a block: the same error
 *   and message (the guard's for bytes it refuses), the same datum length,
 *   the same event;
 * - for bytes the guard accepts, the specialised decoder (cx_event_decode)
 *   equals Avro-C's generic path (avro_value_read + cx_event_from_avro),
 *   which event_avro.h says it does.
 * The first byte picks the writer schema (modulo 3: the current
 * interaction_event.avsc, v0, or tests/fuzz/interaction_event_newer.avsc, a
 * later writer with reordered fields, unknown fields of every kind and other
 * enum symbols) and the guard's limits ((byte / 3) % 4: the defaults, 3
 * elements, depth 2, 64 bytes); the rest is a record body. Inputs the fast
 * decoder hands to the generic path (more attributes than the event holds)
 * are checked against the generic path only for not crashing. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>

#include "../../stream/avro_guard.h"
#include "../../stream/event_avro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LIMIT_SETS 4

typedef struct writer_s {
  avro_schema_t schema;          /* writer schema */
  cx_avro_guard_t *guard;        /* its guard (default limits) */
  cx_avro_guard_t *guards[LIMIT_SETS]; /* guards[0] = guard, then tight limits */
  cx_event_decoder_t *decoder;   /* the specialised decoder */
  cx_event_decoder_t *steps;     /* the same, always by its list of steps */
  cx_event_layout_t layout;      /* the generic path's layout */
  avro_value_iface_t *iface;     /* generic class */
  avro_value_t value;            /* reused generic value */
} writer_t;

#define WRITER_COUNT 3

static writer_t writers[WRITER_COUNT];
static avro_reader_t reader;

static void writers_destroy(void) {
  for (int i = 0; i < WRITER_COUNT; i++) {
    avro_value_decref(&writers[i].value);
    avro_value_iface_decref(writers[i].iface);
    cx_event_decoder_destroy(writers[i].decoder);
    cx_event_decoder_destroy(writers[i].steps);
    for (int k = 1; k < LIMIT_SETS; k++)
      cx_avro_guard_destroy(writers[i].guards[k]);
    cx_avro_guard_destroy(writers[i].guard);
    avro_schema_decref(writers[i].schema);
  }
  avro_reader_free(reader);
}

static void writers_init(void) {
  const char *dir = getenv("CX_FUZZ_SCHEMA_DIR");
  const char *files[WRITER_COUNT] = {"interaction_event.avsc", "interaction_event_v0.avsc",
                                     "../tests/fuzz/interaction_event_newer.avsc"};
  char path[4096], errstr[512];
  for (int i = 0; i < WRITER_COUNT; i++) {
    writer_t *w = &writers[i];
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "schemas", files[i]);
    if (cx_schema_load_file(path, &w->schema, errstr, sizeof(errstr)) ||
        cx_avro_guard_new(w->schema, NULL, &w->guard, errstr, sizeof(errstr)) ||
        cx_event_decoder_new(w->schema, &w->decoder, errstr, sizeof(errstr)) ||
        cx_event_decoder_new_steps(w->schema, &w->steps, errstr, sizeof(errstr)) ||
        cx_event_layout_init(&w->layout, w->schema, errstr, sizeof(errstr))) {
      fprintf(stderr, "fuzz: %s: %s (run from the repository root)\n", path, errstr);
      abort();
    }
    w->guards[0] = w->guard;
    for (int k = 1; k < LIMIT_SETS; k++) {
      cx_avro_guard_limits_t limits;
      cx_avro_guard_limits_default(&limits);
      if (k == 1)
        limits.max_elements = 3;
      else if (k == 2)
        limits.max_depth = 2;
      else
        limits.max_message_bytes = 64;
      if (cx_avro_guard_new(w->schema, &limits, &w->guards[k], errstr, sizeof(errstr)))
        abort();
    }
    w->iface = avro_generic_class_from_schema(w->schema);
    if (!w->iface || avro_generic_value_new(w->iface, &w->value))
      abort();
  }
  reader = avro_reader_memory("", 0);
  atexit(writers_destroy);
}

static bool str_equal(cx_str_t a, cx_str_t b) {
  if (!a.ptr || !b.ptr)
    return !a.ptr && !b.ptr;
  return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool events_equal(const cx_event_t *a, const cx_event_t *b) {
  if (!str_equal(a->event_id, b->event_id) || !str_equal(a->customer_id, b->customer_id) ||
      a->occurred_at_ms != b->occurred_at_ms || a->channel != b->channel ||
      a->type != b->type || a->outcome != b->outcome || !str_equal(a->case_id, b->case_id) ||
      !str_equal(a->topic, b->topic) || !str_equal(a->agent_id, b->agent_id) ||
      a->has_wait_ms != b->has_wait_ms || a->has_handle_ms != b->has_handle_ms ||
      a->has_sentiment != b->has_sentiment || a->has_csat != b->has_csat ||
      a->has_nps != b->has_nps || a->attribute_count != b->attribute_count)
    return false;
  if ((a->has_wait_ms && a->wait_ms != b->wait_ms) ||
      (a->has_handle_ms && a->handle_ms != b->handle_ms) ||
      (a->has_sentiment && memcmp(&a->sentiment, &b->sentiment, sizeof(float))) ||
      (a->has_csat && a->csat != b->csat) || (a->has_nps && a->nps != b->nps))
    return false;
  size_t shown = a->attribute_count < CX_EVENT_MAX_ATTRIBUTES ? a->attribute_count
                                                              : CX_EVENT_MAX_ATTRIBUTES;
  for (size_t i = 0; i < shown; i++)
    if (!str_equal(a->attribute_keys[i], b->attribute_keys[i]) ||
        !str_equal(a->attribute_values[i], b->attribute_values[i]))
      return false;
  return true;
}

static void fail(const char *what, cx_err_t a, cx_err_t b) {
  fprintf(stderr, "fuzz: %s (%s / %s)\n", what, cx_err2code(a), cx_err2code(b));
  abort();
}

/* Guard then decoder against the fused path; used NULL = a whole message. */
static void check_fused(const writer_t *w, const cx_avro_guard_t *guard, const uint8_t *body,
                        size_t len, bool prefix) {
  char guard_errstr[512] = "", slow_errstr[512] = "", fused_errstr[512] = "";
  size_t guard_used = 0, fused_used = 0;
  cx_event_t slow, fused;
  cx_event_clear(&slow);
  cx_event_clear(&fused);
  bool slow_generic = false, fused_generic = false;
  cx_err_t guard_err = prefix ? cx_avro_guard_check_prefix(guard, body, len, &guard_used,
                                                           guard_errstr, sizeof(guard_errstr))
                              : cx_avro_guard_check(guard, body, len, guard_errstr,
                                                    sizeof(guard_errstr));
  if (!prefix)
    guard_used = len;
  cx_err_t slow_err = guard_err;
  if (!guard_err)
    slow_err = cx_event_decode(w->decoder, body, guard_used, &slow, &slow_generic, slow_errstr,
                               sizeof(slow_errstr));
  cx_err_t fused_err = cx_event_decode_guarded(w->decoder, guard, body, len,
                                               prefix ? &fused_used : NULL, &fused,
                                               &fused_generic, fused_errstr,
                                               sizeof(fused_errstr));
  if (fused_err != slow_err)
    fail("the fused path's error differs from guard + decoder", fused_err, slow_err);
  if (prefix && fused_used != (guard_err ? 0 : guard_used))
    fail("the fused path's datum length differs from the guard's", fused_err, guard_err);
  if (guard_err) {
    if (strcmp(fused_errstr, guard_errstr))
      fail("the fused path's message differs from the guard's", fused_err, guard_err);
    return;
  }
  if (fused_generic != slow_generic)
    fail("the fused path and the decoder disagree on the generic fallback", fused_err, slow_err);
  if (slow_err && strcmp(fused_errstr, slow_errstr))
    fail("the fused path's message differs from the decoder's", fused_err, slow_err);
  if (!slow_err && !slow_generic && !events_equal(&fused, &slow))
    fail("the fused path's event differs from guard + decoder's", fused_err, slow_err);
}

/* The decoder against its step-list twin: no guard, guarded whole message,
 * guarded prefix. */
static void check_steps(const writer_t *w, const cx_avro_guard_t *guard, const uint8_t *body,
                        size_t len) {
  for (int mode = 0; mode < 3; mode++) {
    char errstr[512] = "", steps_errstr[512] = "";
    cx_event_t event, steps_event;
    cx_event_clear(&event);
    cx_event_clear(&steps_event);
    bool generic = false, steps_generic = false;
    size_t used = 7, steps_used = 7;
    cx_err_t err, steps_err;
    if (mode == 0) {
      err = cx_event_decode(w->decoder, body, len, &event, &generic, errstr, sizeof(errstr));
      steps_err = cx_event_decode(w->steps, body, len, &steps_event, &steps_generic,
                                  steps_errstr, sizeof(steps_errstr));
    } else {
      err = cx_event_decode_guarded(w->decoder, guard, body, len, mode == 2 ? &used : NULL,
                                    &event, &generic, errstr, sizeof(errstr));
      steps_err = cx_event_decode_guarded(w->steps, guard, body, len,
                                          mode == 2 ? &steps_used : NULL, &steps_event,
                                          &steps_generic, steps_errstr, sizeof(steps_errstr));
    }
    if (err != steps_err)
      fail("the decoder's error differs from its steps'", err, steps_err);
    if (strcmp(errstr, steps_errstr) || used != steps_used || generic != steps_generic)
      fail("the decoder's message, length or fallback differs from its steps'", err, steps_err);
    if (!err && !generic && !events_equal(&event, &steps_event))
      fail("the decoder's event differs from its steps'", err, steps_err);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!reader)
    writers_init();
  if (size < 1)
    return 0;
  writer_t *w = &writers[data[0] % WRITER_COUNT];
  const cx_avro_guard_t *limited = w->guards[(data[0] / WRITER_COUNT) % LIMIT_SETS];
  const uint8_t *body = data + 1;
  size_t len = size - 1;
  /* An exact copy, so that a read past len is an ASan error. */
  uint8_t *copy = malloc(len ? len : 1);
  if (!copy)
    return 0;
  memcpy(copy, body, len);
  body = copy;
  check_fused(w, limited, body, len, false);
  check_fused(w, limited, body, len, true);
  check_steps(w, limited, body, len);
  char errstr[512];
  if (cx_avro_guard_check(w->guard, body, len, errstr, sizeof(errstr)) != CX_OK) {
    free(copy);
    return 0;
  }
  cx_event_t fast, slow;
  cx_event_clear(&fast);
  cx_event_clear(&slow);
  bool generic = false;
  cx_err_t fast_err = cx_event_decode(w->decoder, body, len, &fast, &generic, errstr,
                                      sizeof(errstr));
  avro_reader_memory_set_source(reader, (const char *)body, (int64_t)len);
  cx_err_t slow_err = avro_value_read(reader, &w->value)
                          ? CX_ERR_MSG_MALFORMED
                          : cx_event_from_avro(&w->layout, &w->value, &slow, errstr,
                                               sizeof(errstr));
  if (!(fast_err == CX_OK && generic)) {
    if (fast_err != slow_err)
      fail("fast decoder and generic path disagree", fast_err, slow_err);
    if (fast_err == CX_OK && !events_equal(&fast, &slow))
      fail("the fast decoder's event differs from the generic path's", fast_err, slow_err);
  }
  free(copy);
  return 0;
}
