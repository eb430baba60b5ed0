/* Message codec (see codec.h). Decoding a message: frame -> writer schema by
 * id -> guard check (lengths, counts, enums, unions, trailing bytes) -> the
 * writer schema's specialised decoder (event_avro.h) reads the bytes straight
 * into a cx_event_t, resolved by field name (Avro-C's generic value and the
 * layout only for maps of more attributes than the event holds) -> field
 * ranges are checked. Nothing is allocated per message once every writer
 * schema has been seen. */
#include "codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>

#include "avro_guard.h"
#include "avro_out.h"
#include "event_avro.h"
#include "frame.h"

typedef struct writer_entry_s {
  int32_t id;                   /* Confluent schema id; -1 for input.format=raw */
  char file[128];               /* file name in schema.dir */
  avro_schema_t schema;         /* writer schema */
  cx_avro_guard_t *guard;       /* validates bytes against schema */
  avro_value_iface_t *iface;    /* generic class of schema */
  bool compatible;              /* layout is usable */
  cx_event_layout_t layout;     /* where the event's fields are in this writer schema */
  cx_event_decoder_t *decoder;  /* bytes -> event for this writer schema; NULL when incompatible */
  avro_value_t raw;             /* reused value of the writer schema */
  char incompatible[256];       /* why it cannot be read as an InteractionEvent */
} writer_entry_t;

struct cx_codec_s {
  const cx_config_t *config;       /* borrowed */
  avro_schema_t event_schema;      /* reader schema */
  writer_entry_t *writers;         /* registry entries */
  size_t writer_count;             /* entries */
  writer_entry_t *raw_writer;      /* for input.format=raw */
  avro_reader_t reader;            /* memory reader, re-pointed per message */
  int64_t now_ms;                  /* wall clock for the future check */
  /* Encoding */
  int32_t event_id, alert_id;      /* schema ids written */
  int32_t profile_id;              /* schema id of customer_profile.avsc */
  avro_value_iface_t *event_iface; /* generic class of the event schema */
  avro_value_t event_value;        /* reused */
  avro_schema_t alert_schema;      /* alert.avsc */
  avro_value_iface_t *alert_iface; /* generic class of alert.avsc */
  avro_value_t alert_value;        /* reused */
  avro_schema_t profile_schema;    /* customer_profile.avsc */
  avro_value_iface_t *profile_iface; /* generic class of customer_profile.avsc */
  avro_value_t profile_value;      /* reused */
  bool alert_by_hand;              /* alert.avsc has avro_out.h's layout: written by it */
  bool profile_by_hand;            /* customer_profile.avsc has it: the same */
  avro_writer_t writer;            /* memory writer, re-pointed per message */
  cx_buf_t scratch;                /* NUL-terminated copies of borrowed strings */
};

static void entry_release(writer_entry_t *entry) {
  cx_event_decoder_destroy(entry->decoder);
  if (entry->raw.iface)
    avro_value_decref(&entry->raw);
  if (entry->iface)
    avro_value_iface_decref(entry->iface);
  cx_avro_guard_destroy(entry->guard);
  if (entry->schema)
    avro_schema_decref(entry->schema);
}

static cx_err_t entry_init(cx_codec_t *codec, writer_entry_t *entry, const char *path,
                           char *errstr, size_t errstr_size) {
  cx_err_t err = cx_schema_load_file(path, &entry->schema, errstr, errstr_size);
  if (err)
    return err;
  cx_avro_guard_limits_t limits;
  cx_avro_guard_limits_default(&limits);
  limits.max_message_bytes = (size_t)codec->config->message_max_bytes;
  if ((err = cx_avro_guard_new(entry->schema, &limits, &entry->guard, errstr, errstr_size)))
    return err;
  entry->iface = avro_generic_class_from_schema(entry->schema);
  if (!entry->iface || avro_generic_value_new(entry->iface, &entry->raw)) {
    snprintf(errstr, errstr_size, "%s: cannot build a value: %s", path, avro_strerror());
    return CX_ERR_SCHEMA;
  }
  /* An incompatible schema is not a config error: messages naming it go to
   * the dead-letter topic with the reason. */
  entry->compatible = cx_event_layout_init(&entry->layout, entry->schema, entry->incompatible,
                                           sizeof(entry->incompatible)) == CX_OK;
  if (entry->compatible &&
      (err = cx_event_decoder_new(entry->schema, &entry->decoder, errstr, errstr_size)))
    return err;
  return CX_OK;
}

static char *trim(char *text) {
  while (*text == ' ' || *text == '\t')
    text++;
  char *end = text + strlen(text);
  while (end > text && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
    *--end = '\0';
  return text;
}

static cx_err_t load_registry(cx_codec_t *codec, char *errstr, size_t errstr_size) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/registry.properties", codec->config->schema_dir);
  FILE *fp = fopen(path, "r");
  if (!fp) {
    snprintf(errstr, errstr_size,
             "cannot open %s: it lists the schema ids of the files in schema.dir "
             "(schema.dir=%s)", path, codec->config->schema_dir);
    return CX_ERR_CONFIG;
  }
  char line[1024];
  int number = 0;
  cx_err_t err = CX_OK;
  while (!err && fgets(line, sizeof(line), fp)) {
    number++;
    char *text = trim(line);
    if (!*text || *text == '#')
      continue;
    char *eq = strchr(text, '=');
    char *end = text;
    long id = eq ? strtol(text, &end, 10) : -1;
    while (end && (*end == ' ' || *end == '\t'))
      end++;
    if (!eq || end == text || end != eq || id < 0 || id > INT32_MAX) {
      snprintf(errstr, errstr_size, "%s:%d: expected <schema id>=<file.avsc>", path, number);
      err = CX_ERR_CONFIG;
      break;
    }
    writer_entry_t *grown = realloc(codec->writers, (codec->writer_count + 1) * sizeof(*grown));
    if (!grown) {
      err = CX_ERR_NOMEM;
      break;
    }
    codec->writers = grown;
    writer_entry_t *entry = &grown[codec->writer_count++];
    memset(entry, 0, sizeof(*entry));
    entry->id = (int32_t)id;
    snprintf(entry->file, sizeof(entry->file), "%s", trim(eq + 1));
    char schema_path[4096 + 128];
    snprintf(schema_path, sizeof(schema_path), "%s/%s", codec->config->schema_dir, entry->file);
    err = entry_init(codec, entry, schema_path, errstr, errstr_size);
  }
  fclose(fp);
  return err;
}

static cx_err_t make_value(avro_schema_t schema, avro_value_iface_t **iface, avro_value_t *value) {
  *iface = avro_generic_class_from_schema(schema);
  if (!*iface || avro_generic_value_new(*iface, value))
    return CX_ERR_SCHEMA;
  return CX_OK;
}

cx_err_t cx_codec_new(const cx_config_t *config, cx_codec_t **out, char *errstr,
                      size_t errstr_size) {
  cx_codec_t *codec = calloc(1, sizeof(*codec));
  if (!codec)
    return CX_ERR_NOMEM;
  codec->config = config;
  codec->now_ms = INT64_MAX / 2;
  cx_err_t err = cx_event_schema_load(config->schema_dir, &codec->event_schema, errstr,
                                      errstr_size);
  if (err)
    goto fail;
  if ((err = load_registry(codec, errstr, errstr_size)))
    goto fail;
  if (config->input_format == CX_INPUT_RAW) {
    codec->raw_writer = calloc(1, sizeof(*codec->raw_writer));
    if (!codec->raw_writer) {
      err = CX_ERR_NOMEM;
      goto fail;
    }
    codec->raw_writer->id = -1;
    char path[4096];
    if (config->input_writer_schema[0])
      snprintf(path, sizeof(path), "%s", config->input_writer_schema);
    else
      snprintf(path, sizeof(path), "%s/interaction_event.avsc", config->schema_dir);
    if ((err = entry_init(codec, codec->raw_writer, path, errstr, errstr_size)))
      goto fail;
    if (!codec->raw_writer->compatible) {
      snprintf(errstr, errstr_size, "input.writer.schema %s cannot be read as an "
               "InteractionEvent: %s", path, codec->raw_writer->incompatible);
      err = CX_ERR_CONFIG;
      goto fail;
    }
  }
  codec->event_id = cx_codec_schema_id(codec, "interaction_event.avsc");
  codec->alert_id = cx_codec_schema_id(codec, "alert.avsc");
  codec->profile_id = cx_codec_schema_id(codec, "customer_profile.avsc");
  if (codec->event_id < 0 || codec->alert_id < 0 || codec->profile_id < 0) {
    snprintf(errstr, errstr_size, "%s/registry.properties must list interaction_event.avsc, "
             "alert.avsc and customer_profile.avsc", config->schema_dir);
    err = CX_ERR_CONFIG;
    goto fail;
  }
  char alert_path[4096];
  snprintf(alert_path, sizeof(alert_path), "%s/alert.avsc", config->schema_dir);
  if ((err = cx_schema_load_file(alert_path, &codec->alert_schema, errstr, errstr_size)))
    goto fail;
  char profile_path[4096];
  snprintf(profile_path, sizeof(profile_path), "%s/customer_profile.avsc", config->schema_dir);
  if ((err = cx_schema_load_file(profile_path, &codec->profile_schema, errstr, errstr_size)))
    goto fail;
  if (make_value(codec->event_schema, &codec->event_iface, &codec->event_value) ||
      make_value(codec->alert_schema, &codec->alert_iface, &codec->alert_value) ||
      make_value(codec->profile_schema, &codec->profile_iface, &codec->profile_value)) {
    snprintf(errstr, errstr_size, "cannot build Avro values: %s", avro_strerror());
    err = CX_ERR_SCHEMA;
    goto fail;
  }
  codec->alert_by_hand = cx_avro_out_alert_layout(codec->alert_schema);
  codec->profile_by_hand = cx_avro_out_profile_layout(codec->profile_schema);
  codec->reader = avro_reader_memory("", 0);
  codec->writer = avro_writer_memory("", 0);
  if (!codec->reader || !codec->writer) {
    err = CX_ERR_NOMEM;
    goto fail;
  }
  *out = codec;
  return CX_OK;
fail:
  cx_codec_destroy(codec);
  return err;
}

void cx_codec_destroy(cx_codec_t *codec) {
  if (!codec)
    return;
  cx_buf_free(&codec->scratch);
  if (codec->writer)
    avro_writer_free(codec->writer);
  if (codec->reader)
    avro_reader_free(codec->reader);
  if (codec->profile_value.iface)
    avro_value_decref(&codec->profile_value);
  if (codec->profile_iface)
    avro_value_iface_decref(codec->profile_iface);
  if (codec->profile_schema)
    avro_schema_decref(codec->profile_schema);
  if (codec->alert_value.iface)
    avro_value_decref(&codec->alert_value);
  if (codec->alert_iface)
    avro_value_iface_decref(codec->alert_iface);
  if (codec->event_value.iface)
    avro_value_decref(&codec->event_value);
  if (codec->event_iface)
    avro_value_iface_decref(codec->event_iface);
  if (codec->alert_schema)
    avro_schema_decref(codec->alert_schema);
  for (size_t i = 0; i < codec->writer_count; i++)
    entry_release(&codec->writers[i]);
  free(codec->writers);
  if (codec->raw_writer) {
    entry_release(codec->raw_writer);
    free(codec->raw_writer);
  }
  if (codec->event_schema)
    avro_schema_decref(codec->event_schema);
  free(codec);
}

void cx_codec_set_now(cx_codec_t *codec, int64_t now_ms) {
  codec->now_ms = now_ms;
}

int32_t cx_codec_schema_id(const cx_codec_t *codec, const char *file_name) {
  for (size_t i = 0; i < codec->writer_count; i++)
    if (!strcmp(codec->writers[i].file, file_name))
      return codec->writers[i].id;
  return -1;
}

/* Ids are kept in state (the key, interaction ids) and written in every
 * alert: a bound per id keeps a customer's memory and an alert's size small
 * whatever the message size limit is. */
static cx_err_t check_id_lengths(const cx_event_t *event, size_t max_bytes, char *errstr,
                                 size_t errstr_size) {
  /* The OR of the lengths is at least the longest: when it fits, all do. */
  if ((event->event_id.len | event->customer_id.len | event->case_id.len | event->topic.len |
       event->agent_id.len) <= max_bytes)
    return CX_OK;
  const struct { const char *name; cx_str_t value; } ids[] = {
    {"event_id", event->event_id}, {"customer_id", event->customer_id},
    {"case_id", event->case_id}, {"topic", event->topic}, {"agent_id", event->agent_id},
  };
  for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
    if (ids[i].value.len > max_bytes) {
      snprintf(errstr, errstr_size, "%s of %zu bytes exceeds input.max.id.bytes=%zu",
               ids[i].name, ids[i].value.len, max_bytes);
      return CX_ERR_MSG_BAD_VALUE;
    }
  }
  return CX_OK;
}

cx_err_t cx_codec_decode(cx_codec_t *codec, const void *buf, size_t len, cx_event_t *event,
                         char *errstr, size_t errstr_size) {
  writer_entry_t *entry = codec->raw_writer;
  const void *payload = buf;
  size_t payload_len = len;
  cx_err_t err;

  if (len > (size_t)codec->config->message_max_bytes) {
    snprintf(errstr, errstr_size, "message of %zu bytes exceeds input.message.max.bytes=%lld",
             len, (long long)codec->config->message_max_bytes);
    return CX_ERR_MSG_TOO_LARGE;
  }
  if (!entry) {
    int32_t id = 0;
    if ((err = cx_frame_parse(buf, len, &id, &payload, &payload_len))) {
      if (err == CX_ERR_MSG_BAD_MAGIC)
        snprintf(errstr, errstr_size, "first byte is 0x%02x, expected the Confluent magic "
                 "byte 0x00 (is the producer using Confluent framing?)",
                 ((const uint8_t *)buf)[0]);
      else
        snprintf(errstr, errstr_size, "message of %zu bytes is shorter than the 5-byte "
                 "Confluent header", len);
      return err;
    }
    for (size_t i = 0; i < codec->writer_count; i++) {
      if (codec->writers[i].id == id) {
        entry = &codec->writers[i];
        break;
      }
    }
    if (!entry) {
      snprintf(errstr, errstr_size, "schema id %d is not in %s/registry.properties", (int)id,
               codec->config->schema_dir);
      return CX_ERR_MSG_UNKNOWN_SCHEMA;
    }
    if (!entry->compatible) {
      snprintf(errstr, errstr_size, "schema id %d (%s) cannot be read as an InteractionEvent: %s",
               (int)id, entry->file, entry->incompatible);
      return CX_ERR_MSG_INCOMPATIBLE;
    }
  }
  /* The guard's checks and the decode in one pass (the guard's reason for
   * bytes it refuses). */
  bool generic = false;
  if ((err = cx_event_decode_guarded(entry->decoder, entry->guard, payload, payload_len, NULL,
                                     event, &generic, errstr, errstr_size)))
    return err;
  if (generic) {
    avro_reader_memory_set_source(codec->reader, payload, (int64_t)payload_len);
    if (avro_value_read(codec->reader, &entry->raw)) {
      snprintf(errstr, errstr_size, "Avro decode failed: %s", avro_strerror());
      return CX_ERR_MSG_MALFORMED;
    }
    if ((err = cx_event_from_avro(&entry->layout, &entry->raw, event, errstr, errstr_size)))
      return err;
  }
  if ((err = cx_event_check_ranges(event, codec->now_ms, codec->config->max_future_ms, errstr,
                                   errstr_size)))
    return err;
  return check_id_lengths(event, (size_t)codec->config->max_id_bytes, errstr, errstr_size);
}

/* Writes value as Avro binary after a Confluent header into out. */
static cx_err_t write_framed(cx_codec_t *codec, avro_value_t *value, int32_t id, cx_buf_t *out,
                             char *errstr, size_t errstr_size) {
  size_t size = 0;
  if (avro_value_sizeof(value, &size)) {
    snprintf(errstr, errstr_size, "cannot size Avro value: %s", avro_strerror());
    return CX_ERR_SCHEMA;
  }
  out->len = 0;
  if (cx_buf_reserve(out, CX_FRAME_HEADER_BYTES + size))
    return CX_ERR_NOMEM;
  cx_frame_write_header(out->data, id);
  avro_writer_memory_set_dest(codec->writer, (char *)out->data + CX_FRAME_HEADER_BYTES,
                              (int64_t)size);
  if (avro_value_write(codec->writer, value)) {
    snprintf(errstr, errstr_size, "cannot encode Avro value: %s", avro_strerror());
    return CX_ERR_SCHEMA;
  }
  out->len = CX_FRAME_HEADER_BYTES + size;
  return CX_OK;
}

cx_err_t cx_codec_encode_event(cx_codec_t *codec, const cx_event_t *event, cx_buf_t *out,
                               char *errstr, size_t errstr_size) {
  cx_err_t err = cx_event_to_avro(event, &codec->event_value, errstr, errstr_size);
  if (err)
    return err;
  return write_framed(codec, &codec->event_value, codec->event_id, out, errstr, errstr_size);
}

/* Avro-C strings must be NUL-terminated; ids and keys are copied into buf. */
static int set_string(avro_value_t *value, cx_str_t s, cx_buf_t *scratch) {
  scratch->len = 0;
  if (cx_buf_append(scratch, s.ptr, s.len) || cx_buf_append(scratch, "", 1))
    return -1;
  return avro_value_set_string_len(value, (const char *)scratch->data, s.len + 1);
}

void cx_codec_use_avro_c(cx_codec_t *codec, bool generic) {
  codec->alert_by_hand = !generic && cx_avro_out_alert_layout(codec->alert_schema);
  codec->profile_by_hand = !generic && cx_avro_out_profile_layout(codec->profile_schema);
}

bool cx_codec_writes_by_hand(const cx_codec_t *codec) {
  return codec->alert_by_hand && codec->profile_by_hand;
}

/* The frame header of id in out, emptied first. */
static cx_err_t start_framed(int32_t id, cx_buf_t *out) {
  out->len = 0;
  if (cx_buf_reserve(out, CX_FRAME_HEADER_BYTES + 256))
    return CX_ERR_NOMEM;
  cx_frame_write_header(out->data, id);
  out->len = CX_FRAME_HEADER_BYTES;
  return CX_OK;
}

cx_err_t cx_codec_encode_alert(cx_codec_t *codec, const cx_alert_t *alert,
                               int64_t emitted_at_ms, cx_buf_t *out, char *errstr,
                               size_t errstr_size) {
  if (codec->alert_by_hand) {
    if (start_framed(codec->alert_id, out) || cx_avro_out_alert(alert, emitted_at_ms, out)) {
      out->len = 0;
      snprintf(errstr, errstr_size, "out of memory encoding an alert");
      return CX_ERR_NOMEM;
    }
    return CX_OK;
  }
  avro_value_t *record = &codec->alert_value;
  avro_value_t field, element, sub;
  cx_buf_t *scratch = &codec->scratch;
  int rc = 0;
  size_t index = 0;

  rc |= avro_value_get_by_name(record, "alert_id", &field, NULL) ||
        avro_value_set_string(&field, alert->alert_id);
  rc |= avro_value_get_by_name(record, "customer_id", &field, NULL) ||
        set_string(&field, alert->customer_id, scratch);
  rc |= avro_value_get_by_name(record, "rule", &field, NULL) ||
        avro_value_set_string(&field, alert->rule);
  rc |= avro_value_get_by_name(record, "kind", &field, NULL) ||
        avro_value_set_enum(&field, (int)alert->kind);
  rc |= avro_value_get_by_name(record, "severity", &field, NULL) ||
        avro_value_set_enum(&field, (int)alert->severity);
  rc |= avro_value_get_by_name(record, "score", &field, NULL) ||
        avro_value_set_int(&field, alert->score);
  rc |= avro_value_get_by_name(record, "trigger_event_id", &field, NULL) ||
        set_string(&field, alert->trigger_event_id, scratch);
  rc |= avro_value_get_by_name(record, "event_time", &field, NULL) ||
        avro_value_set_long(&field, alert->event_time_ms);
  rc |= avro_value_get_by_name(record, "window_start", &field, NULL) ||
        avro_value_set_long(&field, alert->window_start_ms);
  rc |= avro_value_get_by_name(record, "window_end", &field, NULL) ||
        avro_value_set_long(&field, alert->window_end_ms);
  rc |= avro_value_get_by_name(record, "reasons", &field, NULL) || avro_value_reset(&field);
  for (size_t i = 0; !rc && i < alert->reason_count; i++) {
    rc |= avro_value_append(&field, &element, &index);
    rc |= avro_value_get_by_name(&element, "code", &sub, NULL) ||
          avro_value_set_string(&sub, alert->reasons[i].code);
    rc |= avro_value_get_by_name(&element, "value", &sub, NULL) ||
          avro_value_set_long(&sub, alert->reasons[i].value);
    rc |= avro_value_get_by_name(&element, "weight", &sub, NULL) ||
          avro_value_set_double(&sub, alert->reasons[i].weight);
  }
  rc |= avro_value_get_by_name(record, "evidence_event_ids", &field, NULL) ||
        avro_value_reset(&field);
  for (size_t i = 0; !rc && i < alert->evidence_count; i++)
    rc |= avro_value_append(&field, &element, &index) ||
          set_string(&element, alert->evidence[i], scratch);
  rc |= avro_value_get_by_name(record, "recommended_action", &field, NULL) ||
        avro_value_set_string(&field, alert->recommended_action ? alert->recommended_action : "");
  rc |= avro_value_get_by_name(record, "action_channel", &field, NULL);
  if (!rc) {
    if (alert->action_channel)
      rc |= avro_value_set_branch(&field, 1, &sub) ||
            avro_value_set_string(&sub, alert->action_channel);
    else
      rc |= avro_value_set_branch(&field, 0, &sub) || avro_value_set_null(&sub);
  }
  rc |= avro_value_get_by_name(record, "emitted_at", &field, NULL);
  if (!rc) {
    if (emitted_at_ms < 0)
      rc |= avro_value_set_branch(&field, 0, &sub) || avro_value_set_null(&sub);
    else
      rc |= avro_value_set_branch(&field, 1, &sub) || avro_value_set_long(&sub, emitted_at_ms);
  }
  cx_buf_free(scratch);
  if (rc) {
    snprintf(errstr, errstr_size, "cannot fill the alert record: %s", avro_strerror());
    return CX_ERR_SCHEMA;
  }
  return write_framed(codec, record, codec->alert_id, out, errstr, errstr_size);
}

/* Sets a ["null", T] union field: the null branch, or branch 1 for the caller
 * to fill through *value. Returns non-zero on error. */
static int set_optional(avro_value_t *record, const char *name, bool present,
                        avro_value_t *value) {
  avro_value_t field;
  if (avro_value_get_by_name(record, name, &field, NULL))
    return -1;
  if (!present)
    return avro_value_set_branch(&field, 0, value) || avro_value_set_null(value);
  return avro_value_set_branch(&field, 1, value);
}

static int set_optional_long(avro_value_t *record, const char *name, bool present,
                             int64_t number) {
  avro_value_t value;
  return set_optional(record, name, present, &value) ||
         (present && avro_value_set_long(&value, number));
}

static int set_optional_int(avro_value_t *record, const char *name, bool present,
                            int32_t number) {
  avro_value_t value;
  return set_optional(record, name, present, &value) ||
         (present && avro_value_set_int(&value, number));
}

static int set_optional_string(avro_value_t *record, const char *name, const char *text) {
  avro_value_t value;
  return set_optional(record, name, text != NULL, &value) ||
         (text && avro_value_set_string(&value, text));
}

static int set_int(avro_value_t *record, const char *name, int32_t number) {
  avro_value_t field;
  return avro_value_get_by_name(record, name, &field, NULL) || avro_value_set_int(&field, number);
}

static int set_long(avro_value_t *record, const char *name, int64_t number) {
  avro_value_t field;
  return avro_value_get_by_name(record, name, &field, NULL) ||
         avro_value_set_long(&field, number);
}

static int set_string_array(avro_value_t *record, const char *name, const char *const *items,
                            size_t count) {
  avro_value_t field, element;
  size_t index = 0;
  int rc = avro_value_get_by_name(record, name, &field, NULL) || avro_value_reset(&field);
  for (size_t i = 0; !rc && i < count; i++)
    rc = avro_value_append(&field, &element, &index) || avro_value_set_string(&element, items[i]);
  return rc;
}

cx_err_t cx_codec_encode_profile(cx_codec_t *codec, const cx_profile_t *profile,
                                 int64_t emitted_at_ms, cx_buf_t *out, char *errstr,
                                 size_t errstr_size) {
  if (profile->deleted) {
    out->len = 0;
    return CX_OK;
  }
  if (codec->profile_by_hand) {
    if (start_framed(codec->profile_id, out) ||
        cx_avro_out_profile(profile, emitted_at_ms, out)) {
      out->len = 0;
      snprintf(errstr, errstr_size, "out of memory encoding a profile");
      return CX_ERR_NOMEM;
    }
    return CX_OK;
  }
  avro_value_t *record = &codec->profile_value;
  avro_value_t field, element, sub, value;
  cx_buf_t *scratch = &codec->scratch;
  size_t index = 0;
  int rc = 0;

  rc |= avro_value_get_by_name(record, "customer_id", &field, NULL) ||
        set_string(&field, profile->customer_id, scratch);
  rc |= set_long(record, "updated_at", profile->updated_at_ms);
  rc |= set_long(record, "first_seen", profile->first_seen_ms);
  rc |= set_long(record, "events_total", profile->events_total);
  rc |= set_int(record, "contacts_24h", profile->contacts_24h);
  rc |= set_int(record, "abandoned_24h", profile->abandoned_24h);
  rc |= set_long(record, "wait_ms_24h", profile->wait_ms_24h);
  rc |= set_string_array(record, "channels_48h", profile->channels_48h,
                         profile->channels_48h_count);
  rc |= set_optional_string(record, "preferred_channel", profile->preferred_channel);
  rc |= set_int(record, "frustration_score", profile->frustration_score);
  rc |= avro_value_get_by_name(record, "frustration_band", &field, NULL) ||
        avro_value_set_enum(&field, (int)profile->frustration_band);
  rc |= set_int(record, "churn_score", profile->churn_score);
  rc |= avro_value_get_by_name(record, "churn_band", &field, NULL) ||
        avro_value_set_enum(&field, (int)profile->churn_band);
  rc |= avro_value_get_by_name(record, "reasons", &field, NULL) || avro_value_reset(&field);
  for (size_t i = 0; !rc && i < profile->reason_count; i++) {
    const cx_profile_reason_t *reason = &profile->reasons[i];
    rc |= avro_value_append(&field, &element, &index);
    rc |= avro_value_get_by_name(&element, "code", &sub, NULL) ||
          avro_value_set_string(&sub, reason->code);
    rc |= avro_value_get_by_name(&element, "value", &sub, NULL) ||
          avro_value_set_long(&sub, reason->value);
    rc |= avro_value_get_by_name(&element, "weight", &sub, NULL) ||
          avro_value_set_double(&sub, reason->weight);
    rc |= avro_value_get_by_name(&element, "kind", &sub, NULL) ||
          avro_value_set_enum(&sub, (int)reason->kind);
  }
  rc |= set_string_array(record, "open_alerts", profile->open_alerts, profile->open_alert_count);
  rc |= set_optional(record, "consent", profile->consent_granted, &value) ||
        (profile->consent_granted && avro_value_set_boolean(&value, 1));
  rc |= set_int(record, "contacts_7d", profile->contacts_7d);
  rc |= set_int(record, "contacts_30d", profile->contacts_30d);
  rc |= avro_value_get_by_name(record, "channel_contacts", &field, NULL) ||
        avro_value_reset(&field);
  for (size_t i = 0; !rc && i < profile->channel_count; i++) {
    const cx_profile_channel_t *channel = &profile->channels[i];
    rc |= avro_value_append(&field, &element, &index);
    rc |= avro_value_get_by_name(&element, "channel", &sub, NULL) ||
          avro_value_set_string(&sub, channel->channel);
    rc |= set_int(&element, "contacts_7d", channel->contacts_7d);
    rc |= set_int(&element, "contacts_30d", channel->contacts_30d);
  }
  bool has_last_contact = profile->last_contact_channel != NULL;
  rc |= set_optional_long(record, "last_contact_at", has_last_contact, profile->last_contact_ms);
  rc |= set_optional_string(record, "last_contact_channel", profile->last_contact_channel);
  rc |= set_int(record, "open_cases", profile->open_cases);
  rc |= set_int(record, "repeat_contacts_7d", profile->repeat_contacts_7d);
  rc |= set_optional_long(record, "avg_wait_ms_30d", profile->has_avg_wait,
                          profile->avg_wait_ms_30d);
  rc |= set_optional(record, "last_sentiment", profile->has_sentiment, &value) ||
        (profile->has_sentiment && avro_value_set_float(&value, profile->sentiment));
  rc |= set_optional_long(record, "last_sentiment_at", profile->has_sentiment,
                          profile->sentiment_at_ms);
  rc |= set_optional_int(record, "last_csat", profile->has_csat, profile->csat);
  rc |= set_optional_long(record, "last_csat_at", profile->has_csat, profile->csat_at_ms);
  rc |= set_optional_int(record, "last_nps", profile->has_nps, profile->nps);
  rc |= set_optional_long(record, "last_nps_at", profile->has_nps, profile->nps_at_ms);
  rc |= set_optional_long(record, "emitted_at", emitted_at_ms >= 0, emitted_at_ms);
  if (rc) {
    snprintf(errstr, errstr_size, "cannot fill the profile record: %s", avro_strerror());
    return CX_ERR_SCHEMA;
  }
  return write_framed(codec, record, codec->profile_id, out, errstr, errstr_size);
}
