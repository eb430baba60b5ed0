/* libFuzzer target, differential: the specialised decoder (cx_event_decode)
 * against Avro-C's generic path (avro_value_read + cx_event_from_avro), which
 * event_avro.h says it equals for every input. The first byte picks the
 * writer schema (modulo 3: the current interaction_event.avsc, v0, or
 * tests/fuzz/interaction_event_newer.avsc, a later writer with reordered
 * fields, unknown fields of every kind and other enum symbols); the rest is a
 * record body. Bytes the guard refuses are skipped (both
 * decoders run after the guard); for the others both must succeed or both
 * fail, with equal events. Inputs the fast decoder hands to the generic path
 * (more attributes than the event holds) are only checked not to crash. */
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

typedef struct writer_s {
  avro_schema_t schema;          /* writer schema */
  cx_avro_guard_t *guard;        /* its guard */
  cx_event_decoder_t *decoder;   /* the specialised decoder */
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
        cx_event_layout_init(&w->layout, w->schema, errstr, sizeof(errstr))) {
      fprintf(stderr, "fuzz: %s: %s (run from the repository root)\n", path, errstr);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!reader)
    writers_init();
  if (size < 1)
    return 0;
  writer_t *w = &writers[data[0] % WRITER_COUNT];
  const uint8_t *body = data + 1;
  size_t len = size - 1;
  char errstr[512];
  if (cx_avro_guard_check(w->guard, body, len, errstr, sizeof(errstr)) != CX_OK)
    return 0;
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
  if (fast_err == CX_OK && generic)
    return 0;
  if (fast_err != slow_err) {
    fprintf(stderr, "fuzz: fast decoder says %s, generic path says %s\n", cx_err2code(fast_err),
            cx_err2code(slow_err));
    abort();
  }
  if (fast_err == CX_OK && !events_equal(&fast, &slow)) {
    fprintf(stderr, "fuzz: the fast decoder's event differs from the generic path's\n");
    abort();
  }
  return 0;
}
