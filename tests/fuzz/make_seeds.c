/* Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/
 * (run from the repository root: make fuzz-seeds). Seeds are small valid
 * inputs, so the fuzzers start from the interesting paths: events of the
 * current schema and of v0 in both framings, state records of customers a
 * processor built, config files, alert and profile texts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <avro.h>

#include "../../operators/processor.h"
#include "../../operators/state.h"
#include "../../operators/state_codec.h"
#include "../../stream/codec.h"
#include "../../stream/config.h"
#include "../../stream/event_avro.h"

static void write_seed(const char *target, const char *name, const void *bytes, size_t len) {
  char path[512];
  snprintf(path, sizeof(path), "tests/fuzz/corpus/%s", target);
  mkdir("tests/fuzz/corpus", 0755);
  mkdir(path, 0755);
  snprintf(path, sizeof(path), "tests/fuzz/corpus/%s/%s", target, name);
  FILE *fp = fopen(path, "wb");
  if (!fp || fwrite(bytes, 1, len, fp) != len || fclose(fp)) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(1);
  }
}

static cx_event_t sample_event(int i) {
  static char ids[8][32], customers[8][32];
  cx_event_t e;
  cx_event_clear(&e);
  snprintf(ids[i], sizeof(ids[i]), "ev-%d", i);
  snprintf(customers[i], sizeof(customers[i]), i == 7 ? "a-customer-id-longer-than-24" : "C%d", i % 3);
  e.event_id = cx_str(ids[i]);
  e.customer_id = cx_str(customers[i]);
  e.occurred_at_ms = 1700000000000LL + i * 60000LL;
  e.channel = (cx_channel_t)(i % CX_CHANNEL__COUNT);
  e.type = i % 2 ? CX_EVENT_CONTACT : (cx_event_type_t)(i % CX_EVENT_TYPE__COUNT);
  e.outcome = (cx_outcome_t)(i % CX_OUTCOME__COUNT);
  if (i % 2) {
    e.case_id = cx_str("case-1");
    e.topic = cx_str("billing");
    e.has_wait_ms = true;
    e.wait_ms = 700000;
    e.has_handle_ms = true;
    e.handle_ms = 1000;
  }
  if (i % 3 == 0) {
    e.agent_id = cx_str("agent-7");
    e.has_sentiment = true;
    e.sentiment = -0.75f;
    e.has_csat = true;
    e.csat = 2;
    e.has_nps = true;
    e.nps = 3;
    e.attribute_count = 2;
    e.attribute_keys[0] = cx_str("seq");
    e.attribute_values[0] = cx_str("17");
    e.attribute_keys[1] = cx_str("caf\xc3\xa9");
    e.attribute_values[1] = cx_str("");
  }
  return e;
}

/* The v0 encoding of e's fields (v0 has no agent, sentiment, csat, nps or
 * attributes), raw Avro binary, via Avro-C. */
static size_t encode_v0(avro_schema_t v0, const cx_event_t *e, char *out, size_t size) {
  avro_value_iface_t *iface = avro_generic_class_from_schema(v0);
  avro_value_t record, field, branch;
  avro_generic_value_new(iface, &record);
  char text[64];
  avro_value_get_by_name(&record, "event_id", &field, NULL);
  snprintf(text, sizeof(text), "%.*s", (int)e->event_id.len, e->event_id.ptr);
  avro_value_set_string(&field, text);
  avro_value_get_by_name(&record, "customer_id", &field, NULL);
  snprintf(text, sizeof(text), "%.*s", (int)e->customer_id.len, e->customer_id.ptr);
  avro_value_set_string(&field, text);
  avro_value_get_by_name(&record, "occurred_at", &field, NULL);
  avro_value_set_long(&field, e->occurred_at_ms);
  avro_value_get_by_name(&record, "channel", &field, NULL);
  avro_value_set_enum(&field, (int)e->channel);
  avro_value_get_by_name(&record, "type", &field, NULL);
  avro_value_set_enum(&field, (int)e->type);
  avro_value_get_by_name(&record, "outcome", &field, NULL);
  if (e->outcome == CX_OUTCOME_NONE) {
    avro_value_set_branch(&field, 0, &branch);
    avro_value_set_null(&branch);
  } else {
    avro_value_set_branch(&field, 1, &branch);
    avro_value_set_enum(&branch, (int)e->outcome - 1);
  }
  const char *names[] = {"case_id", "topic"};
  const cx_str_t *values[] = {&e->case_id, &e->topic};
  for (int i = 0; i < 2; i++) {
    avro_value_get_by_name(&record, names[i], &field, NULL);
    avro_value_set_branch(&field, values[i]->ptr ? 1 : 0, &branch);
    if (values[i]->ptr) {
      snprintf(text, sizeof(text), "%.*s", (int)values[i]->len, values[i]->ptr);
      avro_value_set_string(&branch, text);
    } else {
      avro_value_set_null(&branch);
    }
  }
  const char *longs[] = {"wait_ms", "handle_ms"};
  bool has[] = {e->has_wait_ms, e->has_handle_ms};
  int64_t longs_v[] = {e->wait_ms, e->handle_ms};
  for (int i = 0; i < 2; i++) {
    avro_value_get_by_name(&record, longs[i], &field, NULL);
    avro_value_set_branch(&field, has[i] ? 1 : 0, &branch);
    if (has[i])
      avro_value_set_long(&branch, longs_v[i]);
    else
      avro_value_set_null(&branch);
  }
  avro_writer_t writer = avro_writer_memory(out, (int64_t)size);
  if (avro_value_write(writer, &record)) {
    fprintf(stderr, "v0 encode: %s\n", avro_strerror());
    exit(1);
  }
  size_t len = (size_t)avro_writer_tell(writer);
  avro_writer_free(writer);
  avro_value_decref(&record);
  avro_value_iface_decref(iface);
  return len;
}

static void no_alert(const cx_alert_t *alert, void *opaque) {
  (void)alert;
  (void)opaque;
}

int main(void) {
  char errstr[512];
  cx_config_t *config = cx_config_new();
  cx_codec_t *codec = NULL;
  if (cx_codec_new(config, &codec, errstr, sizeof(errstr))) {
    fprintf(stderr, "%s\n", errstr);
    return 1;
  }
  avro_schema_t v0;
  if (cx_schema_load_file("schemas/interaction_event_v0.avsc", &v0, errstr, sizeof(errstr))) {
    fprintf(stderr, "%s\n", errstr);
    return 1;
  }
  cx_buf_t buf = {0};
  char name[64], v0_bytes[1024];
  cx_processor_config_t processor_config;
  cx_processor_config_default(&processor_config);
  cx_processor_t *processor = cx_processor_new(&processor_config);
  cx_outputs_t outputs = {no_alert, NULL, NULL};
  for (int i = 0; i < 8; i++) {
    cx_event_t e = sample_event(i);
    cx_processor_process(processor, &e, &outputs);
    if (cx_codec_encode_event(codec, &e, &buf, errstr, sizeof(errstr))) {
      fprintf(stderr, "%s\n", errstr);
      return 1;
    }
    snprintf(name, sizeof(name), "current-%d", i);
    write_seed("codec_confluent", name, buf.data, buf.len);
    /* raw current: selector byte 0, then the body without the header */
    buf.data[4] = 0;
    write_seed("codec_raw", name, buf.data + 4, buf.len - 4);
    write_seed("event_decode", name, buf.data + 4, buf.len - 4);
    size_t len = encode_v0(v0, &e, v0_bytes + 5, sizeof(v0_bytes) - 5);
    memcpy(v0_bytes, "\0\0\0\0\4", 5); /* magic 0, schema id 4 */
    snprintf(name, sizeof(name), "v0-%d", i);
    write_seed("codec_confluent", name, v0_bytes, len + 5);
    v0_bytes[4] = 1; /* raw v0: selector byte 1 */
    write_seed("codec_raw", name, v0_bytes + 4, len + 1);
    write_seed("event_decode", name, v0_bytes + 4, len + 1);
  }
  const char *customers[] = {"C0", "C1", "C2", "a-customer-id-longer-than-24"};
  cx_state_codec_buf_t record = {0};
  for (int i = 0; i < 4; i++) {
    const cx_customer_t *c = cx_processor_find(processor, cx_str(customers[i]));
    if (!c)
      continue;
    record.len = 0;
    if (cx_state_codec_encode(c, &record))
      return 1;
    snprintf(name, sizeof(name), "customer-%d", i);
    write_seed("state_codec", name, record.bytes, record.len);
  }
  const char conf1[] = "application.id=fuzz\ninput.topics=a,b\n# comment\n"
                       "lateness.ms=60s\nrules.repeat_contact.window=24h\n"
                       "kafka.bootstrap.servers=${CX_FUZZ_VAR}\nprocessing.batch.size : 500\n";
  write_seed("config", "file", conf1, sizeof(conf1) - 1);
  const char conf2[] = "application.id=fuzz\n\0input.format=raw\ninput.message.max.bytes=64MB\n"
                       "processing.guarantee=exactly_once\nstate.changelog=true";
  write_seed("config", "file-and-pairs", conf2, sizeof(conf2) - 1);
  const char conf3[] = "\0lateness.ms=1d\nprofiles.enabled=false\nlog.level=debug";
  write_seed("config", "pairs", conf3, sizeof(conf3) - 1);
  const char jsonl1[] = "\x08" "caf\xc3\xa9\"\\\n" "\x04" "abcd" "\x02" "C1" "\x04" "rule"
                        "\0\0\0\0\0\0\0\1" "\0\0\0\0\0\0\0\2" "\0\0\0\0\0\0\0\x50"
                        "\x02" "e9" "\0\0\1\0\0\0\0\0" "\0\0\0\1\0\0\0\0" "\0\0\1\0\0\0\0\0"
                        "\0\0\0\0\0\0\0\1" "\x04" "wait" "\0\0\0\0\0\0\1\0" "\x3f\xe0\0\0\0\0\0\0";
  write_seed("jsonl", "alert", jsonl1, sizeof(jsonl1) - 1);
  const char jsonl2[] = "\x03\xff\xc3\x01";
  write_seed("jsonl", "invalid-utf8", jsonl2, sizeof(jsonl2) - 1);
  cx_state_codec_buf_free(&record);
  cx_processor_destroy(processor);
  avro_schema_decref(v0);
  cx_buf_free(&buf);
  cx_codec_destroy(codec);
  cx_config_destroy(config);
  printf("seeds written to tests/fuzz/corpus/\n");
  return 0;
}
