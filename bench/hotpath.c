/* cxstream-hotpath: the in-process hot path without file or network I/O.
 * The events of an OCF are encoded once as Kafka messages (Confluent frame +
 * Avro) into memory; then, timed by CPU time, three passes over them: Avro-C's
 * generic decode (avro_value_read + cx_event_from_avro), the codec's decode
 * (the guard and the specialised decoder in one pass, as `run` does), and
 * the codec's decode followed by one processor (state + detectors) with a
 * null sink that counts alerts; between them, on the Avro bodies alone, the
 * guard then the decoder (two passes) against the fused pass. Prints one
 * JSON object; used by bench/run. --hot-only skips the decode-only passes. With CX_PERF_CTL and CX_PERF_ACK naming perf's
 * control fifos (perf record -D -1 --control fifo:CTL,ACK), events are
 * counted during the third pass only, so a profile shows the hot path alone.
 * The third pass decodes 8 events ahead and prefetches their customers
 * (cx_processor_prefetch, _customer and _blocks: the table slot, the record
 * 4 events ahead, its blocks 2 ahead); CX_HOTPATH_NO_PREFETCH=1 turns that
 * off.
 *
 *   cxstream-hotpath FILE.avro [--hot-only] [-c FILE] [-X key=value ...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <avro.h>

#include "../operators/processor.h"
#include "../stream/avro_guard.h"
#include "../stream/buf.h"
#include "../stream/codec.h"
#include "../stream/config.h"
#include "../stream/event_avro.h"
#include "../stream/frame.h"
#include "../stream/ocf.h"

typedef struct messages_s {
  cx_buf_t bytes;    /* every message, back to back */
  size_t *offsets;   /* start of message i; offsets[count] = bytes.len */
  size_t count;      /* messages */
} messages_t;

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load(const char *path, const cx_config_t *config, cx_codec_t *codec,
                messages_t *messages) {
  char errstr[512];
  cx_ocf_reader_t *reader = NULL;
  if (cx_ocf_reader_open(path, config->schema_dir, &reader, errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream-hotpath: %s\n", errstr);
    return -1;
  }
  size_t capacity = 0;
  cx_buf_t one = {0};
  for (;;) {
    cx_event_t event;
    bool eof = false;
    cx_err_t err = cx_ocf_reader_next(reader, &event, &eof, errstr, sizeof(errstr));
    if (eof)
      break;
    if (err)
      continue; /* not a valid event: replay would count it as a dead letter */
    if (cx_codec_encode_event(codec, &event, &one, errstr, sizeof(errstr))) {
      fprintf(stderr, "cxstream-hotpath: %s\n", errstr);
      cx_ocf_reader_destroy(reader);
      cx_buf_free(&one);
      return -1;
    }
    if (messages->count + 2 > capacity) {
      capacity = capacity ? capacity * 2 : 1 << 16;
      size_t *grown = realloc(messages->offsets, capacity * sizeof(*grown));
      if (!grown)
        return -1;
      messages->offsets = grown;
    }
    messages->offsets[messages->count++] = messages->bytes.len;
    if (cx_buf_append(&messages->bytes, one.data, one.len))
      return -1;
  }
  if (messages->offsets)
    messages->offsets[messages->count] = messages->bytes.len;
  cx_buf_free(&one);
  cx_ocf_reader_destroy(reader);
  return 0;
}

/* Sends "enable" or "disable" to perf's control fifo and waits for its ack. */
static void perf_control(const char *command) {
  const char *ctl_path = getenv("CX_PERF_CTL"), *ack_path = getenv("CX_PERF_ACK");
  if (!ctl_path || !ack_path)
    return;
  FILE *ctl = fopen(ctl_path, "w");
  if (!ctl)
    return;
  fprintf(ctl, "%s\n", command);
  fclose(ctl);
  FILE *ack = fopen(ack_path, "r");
  if (ack) {
    char line[16];
    if (!fgets(line, sizeof(line), ack))
      line[0] = '\0';
    fclose(ack);
  }
}

/* One event decoded ahead of its turn, with its key's hash. */
#define AHEAD 8
#define BLOCKS_AHEAD 2 /* cx_processor_prefetch_blocks this many events before */
typedef struct ahead_s {
  cx_event_t event; /* decoded */
  uint64_t hash;    /* cx_processor_prefetch of its customer_id */
  bool decoded;     /* false: it did not decode (skipped) */
} ahead_t;

static void decode_ahead(cx_processor_t *processor, cx_codec_t *codec, const messages_t *messages,
                         size_t i, ahead_t *slot) {
  char errstr[256];
  slot->decoded = !cx_codec_decode(codec, messages->bytes.data + messages->offsets[i],
                                   messages->offsets[i + 1] - messages->offsets[i], &slot->event,
                                   errstr, sizeof(errstr));
  if (slot->decoded)
    slot->hash = cx_processor_prefetch(processor, slot->event.customer_id);
}

static void count_alert(const cx_alert_t *alert, void *opaque) {
  (void)alert;
  (*(uint64_t *)opaque)++;
}

static void count_profile(const cx_profile_t *profile, void *opaque) {
  (void)profile;
  (void)opaque;
}

int main(int argc, char **argv) {
  const char *input = NULL, *config_file = NULL;
  const char **pairs = calloc((size_t)argc, sizeof(*pairs));
  size_t pair_count = 0;
  bool hot_only = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--hot-only"))
      hot_only = true;
    else if (!strcmp(argv[i], "-X") && i + 1 < argc)
      pairs[pair_count++] = argv[++i];
    else if (!strcmp(argv[i], "-c") && i + 1 < argc)
      config_file = argv[++i];
    else if (argv[i][0] != '-' && !input)
      input = argv[i];
    else {
      fprintf(stderr, "usage: cxstream-hotpath FILE.avro [--hot-only] [-c FILE] [-X key=value ...]\n");
      return 2;
    }
  }
  if (!input) {
    fprintf(stderr, "usage: cxstream-hotpath FILE.avro [--hot-only] [-c FILE] [-X key=value ...]\n");
    return 2;
  }
  char errstr[512];
  cx_config_t *config = NULL;
  if (cx_config_build(config_file, pairs, pair_count, &config, errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream-hotpath: %s\n", errstr);
    return 2;
  }
  cx_codec_t *codec = NULL;
  if (cx_codec_new(config, &codec, errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream-hotpath: %s\n", errstr);
    return 2;
  }
  messages_t messages = {{0}, NULL, 0};
  if (load(input, config, codec, &messages) || messages.count == 0) {
    fprintf(stderr, "cxstream-hotpath: no events read from %s\n", input);
    return 1;
  }

  /* Pass 1: Avro-C's generic decode into a reused value of the writer schema. */
  avro_schema_t schema = NULL;
  if (cx_event_schema_load(config->schema_dir, &schema, errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream-hotpath: %s\n", errstr);
    return 2;
  }
  cx_event_layout_t layout;
  cx_event_layout_init(&layout, schema, errstr, sizeof(errstr));
  avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
  avro_value_t value;
  avro_generic_value_new(iface, &value);
  avro_reader_t reader = avro_reader_memory("", 0);
  uint64_t failures = 0;
  double cpu = cpu_seconds();
  for (size_t i = 0; !hot_only && i < messages.count; i++) {
    const uint8_t *message = messages.bytes.data + messages.offsets[i];
    size_t len = messages.offsets[i + 1] - messages.offsets[i];
    cx_event_t event;
    avro_reader_memory_set_source(reader, (const char *)message + CX_FRAME_HEADER_BYTES,
                                  (int64_t)(len - CX_FRAME_HEADER_BYTES));
    if (avro_value_read(reader, &value) ||
        cx_event_from_avro(&layout, &value, &event, errstr, sizeof(errstr)))
      failures++;
  }
  double generic_cpu = cpu_seconds() - cpu;

  /* Pass 2: the codec (guard + specialised decoder), as run and replay --topic use it. */
  cpu = cpu_seconds();
  for (size_t i = 0; !hot_only && i < messages.count; i++) {
    cx_event_t event;
    if (cx_codec_decode(codec, messages.bytes.data + messages.offsets[i],
                        messages.offsets[i + 1] - messages.offsets[i], &event, errstr,
                        sizeof(errstr)))
      failures++;
  }
  double codec_cpu = cpu_seconds() - cpu;

  /* Passes 2b and 2c: the guard then the decoder (two passes over the
   * bytes, as the codec did before) and the fused guard + decoder, on the
   * bodies alone (no frame, schema lookup or range checks). */
  cx_avro_guard_limits_t limits;
  cx_avro_guard_limits_default(&limits);
  limits.max_message_bytes = (size_t)config->message_max_bytes;
  cx_avro_guard_t *guard = NULL;
  cx_event_decoder_t *decoder = NULL;
  if (cx_avro_guard_new(schema, &limits, &guard, errstr, sizeof(errstr)) ||
      cx_event_decoder_new(schema, &decoder, errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream-hotpath: %s\n", errstr);
    return 2;
  }
  double separate_cpu = 0, fused_cpu = 0;
  for (int fused = 0; fused < 2 && !hot_only; fused++) {
    cpu = cpu_seconds();
    for (size_t i = 0; i < messages.count; i++) {
      const uint8_t *body = messages.bytes.data + messages.offsets[i] + CX_FRAME_HEADER_BYTES;
      size_t len = messages.offsets[i + 1] - messages.offsets[i] - CX_FRAME_HEADER_BYTES;
      cx_event_t event;
      bool generic = false;
      cx_err_t err = fused ? cx_event_decode_guarded(decoder, guard, body, len, NULL, &event,
                                                     &generic, errstr, sizeof(errstr))
                           : cx_avro_guard_check(guard, body, len, errstr, sizeof(errstr));
      if (!fused && !err)
        err = cx_event_decode(decoder, body, len, &event, &generic, errstr, sizeof(errstr));
      failures += err != CX_OK;
    }
    *(fused ? &fused_cpu : &separate_cpu) = cpu_seconds() - cpu;
  }

  /* Pass 3: decode + state + detectors, one processor, alerts counted. */
  cx_processor_t *processor = cx_processor_new(&config->processor);
  uint64_t alerts = 0, late = 0;
  cx_outputs_t outputs = {count_alert, config->processor.profiles.enabled ? count_profile : NULL,
                          &alerts};
  /* Events are decoded AHEAD messages in advance so that the processor can
   * prefetch their customers (cx_processor_prefetch: the table slot at
   * decode; cx_processor_prefetch_customer: the record half-way;
   * cx_processor_prefetch_blocks: its blocks BLOCKS_AHEAD before); with
   * CX_HOTPATH_NO_PREFETCH set, each event is decoded and processed in turn. */
  bool prefetch = !getenv("CX_HOTPATH_NO_PREFETCH");
  static ahead_t ring[AHEAD];
  perf_control("enable");
  double wall = wall_seconds();
  cpu = cpu_seconds();
  for (size_t i = 0; prefetch && i < AHEAD && i < messages.count; i++)
    decode_ahead(processor, codec, &messages, i, &ring[i]);
  for (size_t i = 0; i < messages.count; i++) {
    if (!prefetch) {
      cx_event_t event;
      if (cx_codec_decode(codec, messages.bytes.data + messages.offsets[i],
                          messages.offsets[i + 1] - messages.offsets[i], &event, errstr,
                          sizeof(errstr)))
        continue;
      if (cx_processor_process(processor, &event, &outputs) == CX_PROCESS_LATE)
        late++;
      continue;
    }
    ahead_t *next = &ring[i % AHEAD];
    ahead_t *half = &ring[(i + AHEAD / 2) % AHEAD];
    if (i + AHEAD / 2 < messages.count && half->decoded)
      cx_processor_prefetch_customer(processor, half->hash);
    ahead_t *soon = &ring[(i + BLOCKS_AHEAD) % AHEAD];
    if (i + BLOCKS_AHEAD < messages.count && soon->decoded)
      cx_processor_prefetch_blocks(processor, soon->hash, &soon->event);
    /* Strings of an event past CX_EVENT_MAX_ATTRIBUTES attributes may live in
     * the codec's reused values: such an event is decoded again in turn. */
    if (next->decoded && next->event.attribute_count > CX_EVENT_MAX_ATTRIBUTES)
      decode_ahead(processor, codec, &messages, i, next);
    if (next->decoded &&
        cx_processor_process_hashed(processor, &next->event, -1, next->hash, &outputs) ==
            CX_PROCESS_LATE)
      late++;
    if (i + AHEAD < messages.count)
      decode_ahead(processor, codec, &messages, i + AHEAD, next);
  }
  double hot_cpu = cpu_seconds() - cpu;
  wall = wall_seconds() - wall;
  perf_control("disable");

  double n = (double)messages.count;
  printf("{\"events\": %zu, \"failures\": %llu, \"alerts\": %llu, \"late\": %llu, "
         "\"generic_decode_per_core\": %.0f, \"codec_decode_per_core\": %.0f, "
         "\"guard_then_decoder_per_core\": %.0f, \"fused_decode_per_core\": %.0f, "
         "\"hotpath_per_core\": %.0f, \"hotpath_wall\": %.0f}\n",
         messages.count, (unsigned long long)failures, (unsigned long long)alerts,
         (unsigned long long)late, hot_only ? 0 : n / generic_cpu, hot_only ? 0 : n / codec_cpu,
         hot_only ? 0 : n / separate_cpu, hot_only ? 0 : n / fused_cpu, n / hot_cpu, n / wall);

  cx_processor_destroy(processor);
  cx_event_decoder_destroy(decoder);
  cx_avro_guard_destroy(guard);
  avro_reader_free(reader);
  avro_value_decref(&value);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
  free(messages.offsets);
  cx_buf_free(&messages.bytes);
  cx_codec_destroy(codec);
  cx_config_destroy(config);
  free(pairs);
  return 0;
}
