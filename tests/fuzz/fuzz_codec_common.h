/* Shared by the codec fuzz targets: codecs built once from schema.dir
 * (CX_FUZZ_SCHEMA_DIR, default "schemas", so run from the repository root),
 * and the property every decoded event must keep: encoding it and decoding
 * the result gives the same event. */
#ifndef CX_FUZZ_CODEC_COMMON_H
#define CX_FUZZ_CODEC_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../stream/codec.h"
#include "../../stream/config.h"

/* Codecs live for the whole run; they are destroyed at exit, before the leak
 * check, so that only what one message leaks is reported. */
#define FUZZ_MAX_CODECS 4
static cx_codec_t *fuzz_codecs[FUZZ_MAX_CODECS];
static cx_config_t *fuzz_configs[FUZZ_MAX_CODECS];
static size_t fuzz_codec_count;

static void fuzz_codecs_destroy(void) {
  for (size_t i = 0; i < fuzz_codec_count; i++) {
    cx_codec_destroy(fuzz_codecs[i]);
    cx_config_destroy(fuzz_configs[i]);
  }
  fuzz_codec_count = 0;
}

static cx_codec_t *fuzz_codec_new(cx_config_t **config_out, const char *format,
                                  const char *writer_file) {
  const char *dir = getenv("CX_FUZZ_SCHEMA_DIR");
  if (!dir)
    dir = "schemas";
  char errstr[512], path[4096];
  cx_config_t *config = cx_config_new();
  if (!config || cx_config_set(config, "schema.dir", dir, errstr, sizeof(errstr)) ||
      cx_config_set(config, "input.format", format, errstr, sizeof(errstr)))
    abort();
  if (writer_file) {
    snprintf(path, sizeof(path), "%s/%s", dir, writer_file);
    if (cx_config_set(config, "input.writer.schema", path, errstr, sizeof(errstr)))
      abort();
  }
  cx_codec_t *codec = NULL;
  if (cx_codec_new(config, &codec, errstr, sizeof(errstr))) {
    fprintf(stderr, "fuzz: cannot build the codec (run from the repository root or set "
            "CX_FUZZ_SCHEMA_DIR): %s\n", errstr);
    abort();
  }
  if (fuzz_codec_count == 0)
    atexit(fuzz_codecs_destroy);
  if (fuzz_codec_count == FUZZ_MAX_CODECS)
    abort();
  fuzz_codecs[fuzz_codec_count] = codec;
  fuzz_configs[fuzz_codec_count++] = config;
  *config_out = config;
  return codec;
}

static int fuzz_str_equal(cx_str_t a, cx_str_t b) {
  if (!a.ptr || !b.ptr)
    return !a.ptr && !b.ptr;
  return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* A decoded event, encoded with the current schema and decoded again by
 * check_codec (Confluent framing), must come back the same. */
static void fuzz_check_round_trip(cx_codec_t *encoder, cx_codec_t *check_codec,
                                  const cx_event_t *event) {
  static cx_buf_t out;
  char errstr[512];
  cx_event_t copy = *event;
  char *owned = cx_event_own_strings(&copy);
  if (!owned)
    abort();
  if (cx_codec_encode_event(encoder, &copy, &out, errstr, sizeof(errstr))) {
    fprintf(stderr, "fuzz: a decoded event does not encode: %s\n", errstr);
    abort();
  }
  cx_event_t again;
  cx_event_clear(&again);
  if (cx_codec_decode(check_codec, out.data, out.len, &again, errstr, sizeof(errstr))) {
    fprintf(stderr, "fuzz: an encoded event does not decode: %s\n", errstr);
    abort();
  }
  if (!fuzz_str_equal(copy.event_id, again.event_id) ||
      !fuzz_str_equal(copy.customer_id, again.customer_id) ||
      !fuzz_str_equal(copy.case_id, again.case_id) || !fuzz_str_equal(copy.topic, again.topic) ||
      !fuzz_str_equal(copy.agent_id, again.agent_id) ||
      copy.occurred_at_ms != again.occurred_at_ms || copy.channel != again.channel ||
      copy.type != again.type || copy.outcome != again.outcome ||
      copy.has_wait_ms != again.has_wait_ms || (copy.has_wait_ms && copy.wait_ms != again.wait_ms) ||
      copy.has_handle_ms != again.has_handle_ms ||
      (copy.has_handle_ms && copy.handle_ms != again.handle_ms) ||
      copy.has_sentiment != again.has_sentiment ||
      (copy.has_sentiment && copy.sentiment != again.sentiment) ||
      copy.has_csat != again.has_csat || (copy.has_csat && copy.csat != again.csat) ||
      copy.has_nps != again.has_nps || (copy.has_nps && copy.nps != again.nps)) {
    fprintf(stderr, "fuzz: the event changed in an encode/decode round trip\n");
    abort();
  }
  free(owned);
}

#endif
