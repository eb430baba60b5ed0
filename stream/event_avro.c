/* cx_event_t <-> Avro value of InteractionEvent. The reader schema's field
 * order is fixed (schemas/interaction_event.avsc), so fields are addressed by
 * index when writing; reading goes through a per-writer-schema layout. */
#include "event_avro.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  F_EVENT_ID, F_CUSTOMER_ID, F_OCCURRED_AT, F_CHANNEL, F_TYPE, F_OUTCOME,
  F_CASE_ID, F_TOPIC, F_AGENT_ID, F_WAIT_MS, F_HANDLE_MS, F_SENTIMENT,
  F_CSAT, F_NPS, F_ATTRIBUTES, F__COUNT
};

cx_err_t cx_schema_load_file(const char *path, avro_schema_t *schema,
                             char *errstr, size_t errstr_size) {
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    snprintf(errstr, errstr_size, "cannot open schema %s: %s", path, strerror(errno));
    return CX_ERR_IO;
  }
  char *text = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 4096 + 1 > cap) {
      cap = cap ? cap * 2 : 8192;
      char *grown = realloc(text, cap);
      if (!grown) {
        free(text);
        fclose(fp);
        return CX_ERR_NOMEM;
      }
      text = grown;
    }
    size_t n = fread(text + len, 1, 4096, fp);
    len += n;
    if (n < 4096)
      break;
  }
  fclose(fp);
  text[len] = '\0';
  avro_schema_error_t unused;
  int rc = avro_schema_from_json(text, (int32_t)len, schema, &unused);
  free(text);
  if (rc) {
    snprintf(errstr, errstr_size, "schema %s is not a valid Avro schema: %s", path,
             avro_strerror());
    return CX_ERR_SCHEMA;
  }
  return CX_OK;
}

cx_err_t cx_event_schema_load(const char *schema_dir, avro_schema_t *schema,
                              char *errstr, size_t errstr_size) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/interaction_event.avsc", schema_dir);
  return cx_schema_load_file(path, schema, errstr, errstr_size);
}

static const char *const field_names[F__COUNT] = {
  "event_id", "customer_id", "occurred_at", "channel", "type", "outcome", "case_id",
  "topic", "agent_id", "wait_ms", "handle_ms", "sentiment", "csat", "nps", "attributes",
};

/* What the reader accepts for each field: the value's type(s), whether it
 * must be present, and the enum it maps to. */
static bool type_ok(int field_index, avro_type_t type) {
  switch (field_index) {
  case F_EVENT_ID: case F_CUSTOMER_ID: case F_CASE_ID: case F_TOPIC: case F_AGENT_ID:
    return type == AVRO_STRING;
  case F_OCCURRED_AT: case F_WAIT_MS: case F_HANDLE_MS:
    return type == AVRO_INT64 || type == AVRO_INT32;
  case F_CHANNEL: case F_TYPE: case F_OUTCOME:
    return type == AVRO_ENUM;
  case F_SENTIMENT:
    return type == AVRO_FLOAT || type == AVRO_DOUBLE || type == AVRO_INT32 || type == AVRO_INT64;
  case F_CSAT: case F_NPS:
    return type == AVRO_INT32;
  case F_ATTRIBUTES:
    return type == AVRO_MAP;
  default:
    return false;
  }
}

static bool required(int field_index) {
  return field_index <= F_TYPE;
}

/* Maps each writer symbol to the reader enum value whose name(value) equals
 * it, for values offset .. offset + name_count - 1; others get fallback. */
static cx_err_t map_symbols(avro_schema_t writer_enum, int8_t *out, int *count,
                            const char *(*name)(int value), int name_count, int fallback,
                            int offset, char *errstr, size_t errstr_size) {
  int symbols = avro_schema_enum_number_of_symbols(writer_enum);
  if (symbols > CX_EVENT_LAYOUT_MAX_SYMBOLS) {
    snprintf(errstr, errstr_size, "enum %s has more than %d symbols",
             avro_schema_name(writer_enum), CX_EVENT_LAYOUT_MAX_SYMBOLS);
    return CX_ERR_MSG_INCOMPATIBLE;
  }
  *count = symbols;
  for (int i = 0; i < symbols; i++) {
    const char *symbol = avro_schema_enum_get(writer_enum, i);
    out[i] = (int8_t)fallback;
    for (int k = offset; k < offset + name_count; k++)
      if (symbol && !strcmp(symbol, name(k)))
        out[i] = (int8_t)k;
  }
  return CX_OK;
}

static const char *channel_name(int value) { return cx_channel_name((cx_channel_t)value); }
static const char *type_name(int value) { return cx_event_type_name((cx_event_type_t)value); }
static const char *outcome_name(int value) { return cx_outcome_name((cx_outcome_t)value); }

static avro_schema_t unlink_schema(avro_schema_t schema) {
  while (schema && avro_typeof(schema) == AVRO_LINK)
    schema = avro_schema_link_target(schema);
  return schema;
}

cx_err_t cx_event_layout_init(cx_event_layout_t *layout, avro_schema_t writer_schema,
                              char *errstr, size_t errstr_size) {
  memset(layout, 0, sizeof(*layout));
  writer_schema = unlink_schema(writer_schema);
  if (!writer_schema || avro_typeof(writer_schema) != AVRO_RECORD) {
    snprintf(errstr, errstr_size, "writer schema is not a record");
    return CX_ERR_MSG_INCOMPATIBLE;
  }
  for (int f = 0; f < F__COUNT; f++) {
    cx_event_field_t *field = &layout->fields[f];
    field->index = avro_schema_record_field_get_index(writer_schema, field_names[f]);
    field->null_branch = field->value_branch = -1;
    if (field->index < 0) {
      if (required(f)) {
        snprintf(errstr, errstr_size, "writer schema has no field %s", field_names[f]);
        return CX_ERR_MSG_INCOMPATIBLE;
      }
      continue;
    }
    avro_schema_t type = unlink_schema(avro_schema_record_field_get_by_index(writer_schema, field->index));
    if (avro_typeof(type) == AVRO_UNION) {
      size_t branches = avro_schema_union_size(type);
      avro_schema_t value_type = NULL;
      for (size_t b = 0; b < branches; b++) {
        avro_schema_t branch = unlink_schema(avro_schema_union_branch(type, (int)b));
        if (avro_typeof(branch) == AVRO_NULL && field->null_branch < 0) {
          field->null_branch = (int)b;
        } else if (type_ok(f, avro_typeof(branch)) && field->value_branch < 0) {
          field->value_branch = (int)b;
          value_type = branch;
        } else {
          snprintf(errstr, errstr_size, "field %s: union branch %zu has a type the reader "
                   "cannot use", field_names[f], b);
          return CX_ERR_MSG_INCOMPATIBLE;
        }
      }
      if (!value_type || (required(f) && field->null_branch >= 0)) {
        snprintf(errstr, errstr_size, "field %s: the writer's union does not fit the reader",
                 field_names[f]);
        return CX_ERR_MSG_INCOMPATIBLE;
      }
      type = value_type;
    } else if (!type_ok(f, avro_typeof(type))) {
      snprintf(errstr, errstr_size, "field %s has a type the reader cannot use", field_names[f]);
      return CX_ERR_MSG_INCOMPATIBLE;
    }
    field->type = avro_typeof(type);
    cx_err_t err = CX_OK;
    if (f == F_CHANNEL)
      err = map_symbols(type, layout->channel_of, &layout->channel_symbols, channel_name,
                        CX_CHANNEL__COUNT, CX_CHANNEL_OTHER, 0, errstr, errstr_size);
    else if (f == F_TYPE)
      err = map_symbols(type, layout->type_of, &layout->type_symbols, type_name,
                        CX_EVENT_TYPE__COUNT, CX_EVENT_OTHER, 0, errstr, errstr_size);
    else if (f == F_OUTCOME)
      err = map_symbols(type, layout->outcome_of, &layout->outcome_symbols, outcome_name,
                        CX_OUTCOME__COUNT - 1, -1, 1, errstr, errstr_size);
    else if (f == F_ATTRIBUTES &&
             avro_typeof(unlink_schema(avro_schema_map_values(type))) != AVRO_STRING) {
      snprintf(errstr, errstr_size, "field attributes: map values must be strings");
      err = CX_ERR_MSG_INCOMPATIBLE;
    }
    if (err)
      return err;
  }
  return CX_OK;
}

/* Avro-C strings count their NUL terminator in their size. */
static void get_str(avro_value_t *value, cx_str_t *out) {
  const char *ptr = NULL;
  size_t size = 0;
  if (avro_value_get_string(value, &ptr, &size) || !ptr) {
    out->ptr = "";
    out->len = 0;
    return;
  }
  out->ptr = ptr;
  out->len = size ? size - 1 : 0;
}

/* The value of field f, or false when absent or null. */
static bool get_field(const cx_event_layout_t *layout, avro_value_t *record, int f,
                      avro_value_t *out) {
  const cx_event_field_t *field = &layout->fields[f];
  if (field->index < 0 || avro_value_get_by_index(record, (size_t)field->index, out, NULL))
    return false;
  if (field->value_branch < 0)
    return true;
  int discriminant = -1;
  avro_value_t branch;
  if (avro_value_get_discriminant(out, &discriminant) || discriminant != field->value_branch ||
      avro_value_get_current_branch(out, &branch))
    return false;
  *out = branch;
  return true;
}

static bool get_long(const cx_event_field_t *field, avro_value_t *value, int64_t *out) {
  if (field->type == AVRO_INT32) {
    int32_t i;
    if (avro_value_get_int(value, &i))
      return false;
    *out = i;
    return true;
  }
  return avro_value_get_long(value, out) == 0;
}

static int get_enum(avro_value_t *value, const int8_t *map, int symbols) {
  int index = -1;
  if (avro_value_get_enum(value, &index) || index < 0 || index >= symbols)
    return -1;
  return map[index];
}

cx_err_t cx_event_from_avro(const cx_event_layout_t *layout, avro_value_t *record,
                            cx_event_t *event, char *errstr, size_t errstr_size) {
  avro_value_t value;
  int symbol;
  cx_event_clear(event);

  if (get_field(layout, record, F_EVENT_ID, &value))
    get_str(&value, &event->event_id);
  if (event->event_id.len == 0) {
    snprintf(errstr, errstr_size, "event_id is empty");
    return CX_ERR_MSG_NO_EVENT_ID;
  }
  if (get_field(layout, record, F_CUSTOMER_ID, &value))
    get_str(&value, &event->customer_id);
  if (event->customer_id.len == 0) {
    snprintf(errstr, errstr_size, "customer_id is empty (event %.*s)",
             (int)(event->event_id.len > 64 ? 64 : event->event_id.len), event->event_id.ptr);
    return CX_ERR_MSG_NO_CUSTOMER;
  }
  if (!get_field(layout, record, F_OCCURRED_AT, &value) ||
      !get_long(&layout->fields[F_OCCURRED_AT], &value, &event->occurred_at_ms))
    goto bad;
  if (!get_field(layout, record, F_CHANNEL, &value) ||
      (symbol = get_enum(&value, layout->channel_of, layout->channel_symbols)) < 0)
    goto bad;
  event->channel = (cx_channel_t)symbol;
  if (!get_field(layout, record, F_TYPE, &value) ||
      (symbol = get_enum(&value, layout->type_of, layout->type_symbols)) < 0)
    goto bad;
  event->type = (cx_event_type_t)symbol;
  if (get_field(layout, record, F_OUTCOME, &value)) {
    if ((symbol = get_enum(&value, layout->outcome_of, layout->outcome_symbols)) < 0) {
      snprintf(errstr, errstr_size, "outcome symbol is not one the reader knows");
      return CX_ERR_MSG_BAD_VALUE;
    }
    event->outcome = (cx_outcome_t)symbol;
  }
  if (get_field(layout, record, F_CASE_ID, &value))
    get_str(&value, &event->case_id);
  if (get_field(layout, record, F_TOPIC, &value))
    get_str(&value, &event->topic);
  if (get_field(layout, record, F_AGENT_ID, &value))
    get_str(&value, &event->agent_id);
  if (get_field(layout, record, F_WAIT_MS, &value)) {
    if (!get_long(&layout->fields[F_WAIT_MS], &value, &event->wait_ms))
      goto bad;
    event->has_wait_ms = true;
  }
  if (get_field(layout, record, F_HANDLE_MS, &value)) {
    if (!get_long(&layout->fields[F_HANDLE_MS], &value, &event->handle_ms))
      goto bad;
    event->has_handle_ms = true;
  }
  if (get_field(layout, record, F_SENTIMENT, &value)) {
    const cx_event_field_t *field = &layout->fields[F_SENTIMENT];
    if (field->type == AVRO_FLOAT) {
      if (avro_value_get_float(&value, &event->sentiment))
        goto bad;
    } else if (field->type == AVRO_DOUBLE) {
      double d;
      if (avro_value_get_double(&value, &d))
        goto bad;
      event->sentiment = (float)d;
    } else {
      int64_t l;
      if (!get_long(field, &value, &l))
        goto bad;
      event->sentiment = (float)l;
    }
    event->has_sentiment = true;
  }
  if (get_field(layout, record, F_CSAT, &value)) {
    if (avro_value_get_int(&value, &event->csat))
      goto bad;
    event->has_csat = true;
  }
  if (get_field(layout, record, F_NPS, &value)) {
    if (avro_value_get_int(&value, &event->nps))
      goto bad;
    event->has_nps = true;
  }
  if (get_field(layout, record, F_ATTRIBUTES, &value)) {
    size_t count = 0;
    if (avro_value_get_size(&value, &count))
      goto bad;
    event->attribute_count = count;
    for (size_t k = 0; k < count && k < CX_EVENT_MAX_ATTRIBUTES; k++) {
      avro_value_t element;
      const char *key = NULL;
      if (avro_value_get_by_index(&value, k, &element, &key))
        goto bad;
      event->attribute_keys[k] = cx_str(key);
      get_str(&element, &event->attribute_values[k]);
    }
  }
  return CX_OK;

bad:
  snprintf(errstr, errstr_size, "a field does not hold the type its schema declares");
  return CX_ERR_MSG_INCOMPATIBLE;
}

static cx_err_t field(avro_value_t *record, int index, avro_value_t *out,
                      char *errstr, size_t errstr_size) {
  if (avro_value_get_by_index(record, (size_t)index, out, NULL)) {
    snprintf(errstr, errstr_size, "record has no field %d: %s", index, avro_strerror());
    return CX_ERR_SCHEMA;
  }
  return CX_OK;
}

/* Avro-C wants NUL-terminated strings and counts the NUL in the size. */
static int set_str(avro_value_t *value, cx_str_t s) {
  char stack[256];
  char *buf = s.len < sizeof(stack) ? stack : malloc(s.len + 1);
  if (!buf)
    return ENOMEM;
  if (s.len)
    memcpy(buf, s.ptr, s.len);
  buf[s.len] = '\0';
  int rc = avro_value_set_string_len(value, buf, s.len + 1);
  if (buf != stack)
    free(buf);
  return rc;
}

/* Selects branch 0 (null) or 1 (the value) of an optional field. */
static int set_optional(avro_value_t *field_value, bool present, avro_value_t *branch) {
  if (!present)
    return avro_value_set_branch(field_value, 0, branch) || avro_value_set_null(branch);
  return avro_value_set_branch(field_value, 1, branch);
}

cx_err_t cx_event_to_avro(const cx_event_t *event, avro_value_t *record,
                          char *errstr, size_t errstr_size) {
  avro_value_t value, branch;
  cx_err_t err;
  int rc = 0;

#define FIELD(idx) \
  if ((err = field(record, idx, &value, errstr, errstr_size))) return err

  FIELD(F_EVENT_ID);
  rc |= set_str(&value, event->event_id);
  FIELD(F_CUSTOMER_ID);
  rc |= set_str(&value, event->customer_id);
  FIELD(F_OCCURRED_AT);
  rc |= avro_value_set_long(&value, event->occurred_at_ms);
  FIELD(F_CHANNEL);
  rc |= avro_value_set_enum(&value, (int)event->channel);
  FIELD(F_TYPE);
  rc |= avro_value_set_enum(&value, (int)event->type);
  FIELD(F_OUTCOME);
  rc |= set_optional(&value, event->outcome != CX_OUTCOME_NONE, &branch);
  if (event->outcome != CX_OUTCOME_NONE)
    rc |= avro_value_set_enum(&branch, (int)event->outcome - 1);
  FIELD(F_CASE_ID);
  rc |= set_optional(&value, event->case_id.ptr != NULL, &branch);
  if (event->case_id.ptr)
    rc |= set_str(&branch, event->case_id);
  FIELD(F_TOPIC);
  rc |= set_optional(&value, event->topic.ptr != NULL, &branch);
  if (event->topic.ptr)
    rc |= set_str(&branch, event->topic);
  FIELD(F_AGENT_ID);
  rc |= set_optional(&value, event->agent_id.ptr != NULL, &branch);
  if (event->agent_id.ptr)
    rc |= set_str(&branch, event->agent_id);
  FIELD(F_WAIT_MS);
  rc |= set_optional(&value, event->has_wait_ms, &branch);
  if (event->has_wait_ms)
    rc |= avro_value_set_long(&branch, event->wait_ms);
  FIELD(F_HANDLE_MS);
  rc |= set_optional(&value, event->has_handle_ms, &branch);
  if (event->has_handle_ms)
    rc |= avro_value_set_long(&branch, event->handle_ms);
  FIELD(F_SENTIMENT);
  rc |= set_optional(&value, event->has_sentiment, &branch);
  if (event->has_sentiment)
    rc |= avro_value_set_float(&branch, event->sentiment);
  FIELD(F_CSAT);
  rc |= set_optional(&value, event->has_csat, &branch);
  if (event->has_csat)
    rc |= avro_value_set_int(&branch, event->csat);
  FIELD(F_NPS);
  rc |= set_optional(&value, event->has_nps, &branch);
  if (event->has_nps)
    rc |= avro_value_set_int(&branch, event->nps);
  FIELD(F_ATTRIBUTES);
  rc |= avro_value_reset(&value);
  for (size_t k = 0; k < event->attribute_count && k < CX_EVENT_MAX_ATTRIBUTES; k++) {
    char key[256];
    cx_str_t ks = event->attribute_keys[k];
    size_t klen = ks.len < sizeof(key) - 1 ? ks.len : sizeof(key) - 1;
    memcpy(key, ks.ptr, klen);
    key[klen] = '\0';
    avro_value_t element;
    rc |= avro_value_add(&value, key, &element, NULL, NULL);
    if (!rc)
      rc |= set_str(&element, event->attribute_values[k]);
  }
#undef FIELD
  if (rc) {
    snprintf(errstr, errstr_size, "cannot set event fields: %s", avro_strerror());
    return CX_ERR_SCHEMA;
  }
  return CX_OK;
}

cx_err_t cx_event_check_ranges(const cx_event_t *event, int64_t now_ms, int64_t max_future_ms,
                               char *errstr, size_t errstr_size) {
  int64_t t = event->occurred_at_ms;
  if (t < 0) {
    snprintf(errstr, errstr_size, "occurred_at %lld is before 1970", (long long)t);
    return CX_ERR_MSG_BAD_TIME;
  }
  if (t > now_ms && t - now_ms > max_future_ms) {
    snprintf(errstr, errstr_size,
             "occurred_at %lld is %lld ms past the wall clock (input.max.future.ms=%lld)",
             (long long)t, (long long)(t - now_ms), (long long)max_future_ms);
    return CX_ERR_MSG_BAD_TIME;
  }
  const char *problem = NULL;
  if (event->has_wait_ms && event->wait_ms < 0)
    problem = "wait_ms is negative";
  else if (event->has_handle_ms && event->handle_ms < 0)
    problem = "handle_ms is negative";
  else if (event->has_sentiment &&
           (isnan(event->sentiment) || event->sentiment < -1.0f || event->sentiment > 1.0f))
    problem = "sentiment is not a number from -1 to 1";
  else if (event->has_csat && (event->csat < 1 || event->csat > 5))
    problem = "csat is not from 1 to 5";
  else if (event->has_nps && (event->nps < 0 || event->nps > 10))
    problem = "nps is not from 0 to 10";
  if (problem) {
    snprintf(errstr, errstr_size, "%s", problem);
    return CX_ERR_MSG_BAD_VALUE;
  }
  return CX_OK;
}

/* The specialised decoder. Each writer field is one step; a step that feeds
 * a reader field reads its value where the layout says, a step for a field
 * the reader does not know skips it by its writer schema. Values land in the
 * event as they are read; the checks of cx_event_from_avro run afterwards in
 * the same order, so both report the same first error. */
enum {
  STEP_SKIP, STEP_STRING, STEP_LONG, STEP_INT, STEP_FLOAT, STEP_DOUBLE, STEP_ENUM, STEP_MAP
};

typedef struct decode_step_s {
  int8_t reader_field;  /* F_*, or -1 for a field the reader skips */
  uint8_t kind;         /* STEP_*: the encoding of the value (after any union) */
  int16_t null_branch;  /* union branch of null; -1 when none or not a union */
  int16_t value_branch; /* union branch of the value; -1 when not a union */
  avro_schema_t skip;   /* writer schema of a skipped field (borrowed) */
} decode_step_t;

struct cx_event_decoder_s {
  cx_event_layout_t layout;  /* resolution: enum maps, which fields exist */
  bool canonical;            /* the writer schema is laid out as the reader's (parse_canonical) */
  size_t step_count;         /* writer fields */
  decode_step_t steps[];     /* in writer field order */
};

static uint8_t step_kind(avro_type_t type) {
  switch (type) {
  case AVRO_STRING: return STEP_STRING;
  case AVRO_INT64: return STEP_LONG;
  case AVRO_INT32: return STEP_INT;
  case AVRO_FLOAT: return STEP_FLOAT;
  case AVRO_DOUBLE: return STEP_DOUBLE;
  case AVRO_ENUM: return STEP_ENUM;
  case AVRO_MAP: return STEP_MAP;
  default: return STEP_SKIP;
  }
}

/* The encodings parse_canonical assumes, by reader field: the first five
 * plain, the others unions of null (branch 0) and the value (branch 1), the
 * attributes a plain map. */
static const uint8_t canonical_kinds[F__COUNT] = {
  STEP_STRING, STEP_STRING, STEP_LONG, STEP_ENUM, STEP_ENUM, STEP_ENUM, STEP_STRING,
  STEP_STRING, STEP_STRING, STEP_LONG, STEP_LONG, STEP_FLOAT, STEP_INT, STEP_INT, STEP_MAP,
};

/* True when the writer's fields are the reader's, in its order, with its
 * encodings (the enums' symbols may differ: they map through the layout). */
static bool is_canonical(const cx_event_decoder_t *decoder) {
  if (decoder->step_count != F__COUNT)
    return false;
  for (int f = 0; f < F__COUNT; f++) {
    const decode_step_t *step = &decoder->steps[f];
    bool optional = f > F_TYPE && f != F_ATTRIBUTES;
    if (step->reader_field != f || step->kind != canonical_kinds[f] ||
        step->null_branch != (optional ? 0 : -1) || step->value_branch != (optional ? 1 : -1))
      return false;
  }
  return true;
}

cx_err_t cx_event_decoder_new(avro_schema_t writer_schema, cx_event_decoder_t **out,
                              char *errstr, size_t errstr_size) {
  *out = NULL;
  avro_schema_t record = unlink_schema(writer_schema);
  if (!record || avro_typeof(record) != AVRO_RECORD) {
    snprintf(errstr, errstr_size, "writer schema is not a record");
    return CX_ERR_MSG_INCOMPATIBLE;
  }
  size_t count = avro_schema_record_size(record);
  cx_event_decoder_t *decoder = calloc(1, sizeof(*decoder) + count * sizeof(decode_step_t));
  if (!decoder)
    return CX_ERR_NOMEM;
  cx_err_t err = cx_event_layout_init(&decoder->layout, record, errstr, errstr_size);
  if (err) {
    free(decoder);
    return err;
  }
  decoder->step_count = count;
  for (size_t i = 0; i < count; i++) {
    decode_step_t *step = &decoder->steps[i];
    step->reader_field = -1;
    step->null_branch = step->value_branch = -1;
    step->skip = avro_schema_record_field_get_by_index(record, (int)i);
  }
  for (int f = 0; f < F__COUNT; f++) {
    const cx_event_field_t *field = &decoder->layout.fields[f];
    if (field->index < 0)
      continue;
    decode_step_t *step = &decoder->steps[field->index];
    step->reader_field = (int8_t)f;
    step->kind = step_kind(field->type);
    step->null_branch = (int16_t)field->null_branch;
    step->value_branch = (int16_t)field->value_branch;
    step->skip = NULL;
  }
  decoder->canonical = is_canonical(decoder);
  *out = decoder;
  return CX_OK;
}

cx_err_t cx_event_decoder_new_steps(avro_schema_t writer_schema, cx_event_decoder_t **decoder,
                                    char *errstr, size_t errstr_size) {
  cx_err_t err = cx_event_decoder_new(writer_schema, decoder, errstr, errstr_size);
  if (!err)
    (*decoder)->canonical = false;
  return err;
}

bool cx_event_decoder_is_canonical(const cx_event_decoder_t *decoder) {
  return decoder->canonical;
}

void cx_event_decoder_destroy(cx_event_decoder_t *decoder) {
  free(decoder);
}

/* Avro's zig-zag varints, as strict as the guard: a long in at most 10
 * bytes whose 10th is at most 0x01 (64 bits), an int in at most 5 bytes
 * whose 5th is at most 0x0f (32 bits). */
static inline bool read_varint_max(const uint8_t **pos, const uint8_t *end, unsigned max_bytes,
                                   uint8_t last_byte_max, int64_t *out) {
  const uint8_t *p = *pos;
  if (p < end && *p < 0x80) {
    *pos = p + 1;
    *out = (int64_t)(*p >> 1) ^ -(int64_t)(*p & 1);
    return true;
  }
  uint64_t value = 0;
  for (unsigned i = 0; i < max_bytes; i++) {
    if (p >= end)
      return false;
    uint8_t byte = *p++;
    value |= (uint64_t)(byte & 0x7f) << (7 * i);
    if (!(byte & 0x80)) {
      if (i == max_bytes - 1 && byte > last_byte_max)
        return false;
      *pos = p;
      *out = (int64_t)((value >> 1) ^ (~(value & 1) + 1));
      return true;
    }
  }
  return false;
}

static inline bool read_varint(const uint8_t **pos, const uint8_t *end, int64_t *out) {
  return read_varint_max(pos, end, 10, 0x01, out);
}

static inline bool read_int(const uint8_t **pos, const uint8_t *end, int64_t *out) {
  return read_varint_max(pos, end, 5, 0x0f, out);
}

static inline bool read_bytes(const uint8_t **pos, const uint8_t *end, cx_str_t *out) {
  int64_t length;
  if (!read_varint(pos, end, &length) || length < 0 || length > end - *pos)
    return false;
  out->ptr = (const char *)*pos;
  out->len = (size_t)length;
  *pos += length;
  return true;
}

static inline uint64_t read_le(const uint8_t *p, int bytes) {
  uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; i--)
    value = value << 8 | p[i];
  return value;
}

/* Skips one value of any writer schema (fields the reader does not read). */
static bool skip_value(avro_schema_t schema, const uint8_t **pos, const uint8_t *end, int depth) {
  int64_t n;
  cx_str_t unused;
  schema = unlink_schema(schema);
  if (!schema || depth > 64)
    return false;
  switch (avro_typeof(schema)) {
  case AVRO_NULL:
    return true;
  case AVRO_BOOLEAN:
    if (end - *pos < 1)
      return false;
    *pos += 1;
    return true;
  case AVRO_INT32: case AVRO_INT64: case AVRO_ENUM:
    return read_varint(pos, end, &n);
  case AVRO_FLOAT: case AVRO_DOUBLE: case AVRO_FIXED: {
    int64_t size = avro_typeof(schema) == AVRO_FLOAT ? 4 : avro_typeof(schema) == AVRO_DOUBLE
                       ? 8 : avro_schema_fixed_size(schema);
    if (end - *pos < size)
      return false;
    *pos += size;
    return true;
  }
  case AVRO_STRING: case AVRO_BYTES:
    return read_bytes(pos, end, &unused);
  case AVRO_RECORD:
    for (size_t i = 0; i < avro_schema_record_size(schema); i++)
      if (!skip_value(avro_schema_record_field_get_by_index(schema, (int)i), pos, end, depth + 1))
        return false;
    return true;
  case AVRO_UNION:
    if (!read_varint(pos, end, &n) || n < 0 || (size_t)n >= avro_schema_union_size(schema))
      return false;
    return skip_value(avro_schema_union_branch(schema, (int)n), pos, end, depth + 1);
  case AVRO_ARRAY: case AVRO_MAP: {
    bool map = avro_typeof(schema) == AVRO_MAP;
    avro_schema_t items = map ? avro_schema_map_values(schema) : avro_schema_array_items(schema);
    for (;;) {
      if (!read_varint(pos, end, &n))
        return false;
      if (n == 0)
        return true;
      if (n < 0) {
        int64_t block_bytes;
        if (n == INT64_MIN || !read_varint(pos, end, &block_bytes))
          return false;
        n = -n;
      }
      for (int64_t i = 0; i < n; i++)
        if ((map && !read_bytes(pos, end, &unused)) || !skip_value(items, pos, end, depth + 1))
          return false;
    }
  }
  default:
    return false;
  }
}

/* Attributes as Avro-C's generic map keeps them: keys as C strings (up to a
 * NUL byte), in order of first appearance, a repeated key taking the later
 * value. Returns false when a key would not fit in the event. */
static bool add_attribute(cx_event_t *event, cx_str_t key, cx_str_t value) {
  const char *nul = memchr(key.ptr, '\0', key.len);
  if (nul)
    key.len = (size_t)(nul - key.ptr);
  for (size_t k = 0; k < event->attribute_count; k++) {
    cx_str_t old = event->attribute_keys[k];
    if (old.len == key.len && !memcmp(old.ptr, key.ptr, key.len)) {
      event->attribute_values[k] = value;
      return true;
    }
  }
  if (event->attribute_count >= CX_EVENT_MAX_ATTRIBUTES)
    return false;
  event->attribute_keys[event->attribute_count] = key;
  event->attribute_values[event->attribute_count++] = value;
  return true;
}

/* What parsing the bytes gave. */
typedef enum { PARSED, PARSE_BAD, PARSE_GENERIC } parse_result_t;

/* Enum indexes as read, resolved after the parse (the checks' order). */
typedef struct enums_s {
  int64_t channel, type, outcome; /* writer symbol indexes; -1 = not read */
  bool has_outcome;               /* outcome was not null */
} enums_t;

/* The writer schema laid out as the reader's (is_canonical), as every
 * producer of schemas/interaction_event.avsc writes it: the fields in a
 * fixed order, read by straight-line code instead of the step loop, and
 * the event written field by field (no clearing first). The same results as
 * parse for the same bytes, guard or not (tests/test_fast_decode.c and the
 * event_decode fuzz target compare both). */

/* A long varint's raw value (before zig-zag), as strict as read_varint:
 * at most 10 bytes, the 10th at most 0x01. With 10 bytes left it needs no
 * bound check per byte. */
static inline __attribute__((always_inline)) bool varint_raw(const uint8_t **pos,
                                                             const uint8_t *end,
                                                             unsigned max_bytes,
                                                             uint8_t last_byte_max,
                                                             uint64_t *out) {
  const uint8_t *p = *pos;
  if (__builtin_expect(p < end && *p < 0x80, 1)) {
    *out = *p;
    *pos = p + 1;
    return true;
  }
  if (end - p < (ptrdiff_t)max_bytes) {
    int64_t value;
    if (!read_varint_max(pos, end, max_bytes, last_byte_max, &value))
      return false;
    *out = (uint64_t)value << 1 ^ (uint64_t)(value >> 63); /* back to the raw value */
    return true;
  }
  uint64_t value = 0;
  for (unsigned i = 0; i < max_bytes; i++) {
    uint64_t byte = p[i];
    value |= (byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      if (i == max_bytes - 1 && byte > last_byte_max)
        return false;
      *pos = p + i + 1;
      *out = value;
      return true;
    }
  }
  return false;
}

static inline int64_t zigzag(uint64_t raw) {
  return (int64_t)((raw >> 1) ^ (~(raw & 1) + 1));
}

static inline __attribute__((always_inline)) bool canonical_long(const uint8_t **pos,
                                                                 const uint8_t *end,
                                                                 int64_t *out) {
  uint64_t raw;
  if (!varint_raw(pos, end, 10, 0x01, &raw))
    return false;
  *out = zigzag(raw);
  return true;
}

static inline __attribute__((always_inline)) bool canonical_string(const uint8_t **pos,
                                                                   const uint8_t *end,
                                                                   cx_str_t *out) {
  uint64_t raw;
  if (!varint_raw(pos, end, 10, 0x01, &raw))
    return false;
  /* zig-zag: an odd raw value is negative; raw >> 1 is the length */
  if ((raw & 1) || raw >> 1 > (uint64_t)(end - *pos))
    return false;
  int64_t length = (int64_t)(raw >> 1);
  out->ptr = (const char *)*pos;
  out->len = (size_t)length;
  *pos += length;
  return true;
}

/* A union of null (branch 0) and a value (branch 1): 1 for the value, 0
 * for null, -1 for bytes that are neither. */
static inline __attribute__((always_inline)) int canonical_branch(const uint8_t **pos,
                                                                  const uint8_t *end) {
  uint64_t raw;
  if (!varint_raw(pos, end, 10, 0x01, &raw))
    return -1;
  return raw == 2 ? 1 : raw == 0 ? 0 : -1; /* zig-zag: 1 is 2, 0 is 0 */
}

/* An optional long (["null","long"]): *has and *value (0 for null). */
static inline __attribute__((always_inline)) bool canonical_optional_long(const uint8_t **pos,
                                                                          const uint8_t *end,
                                                                          bool *has,
                                                                          int64_t *value) {
  int branch = canonical_branch(pos, end);
  if (branch < 0)
    return false;
  *has = branch;
  *value = 0;
  return !branch || canonical_long(pos, end, value);
}

/* An optional int (["null","int"]): *has and *value (0 for null). */
static inline __attribute__((always_inline)) bool canonical_optional_int(const uint8_t **pos,
                                                                         const uint8_t *end,
                                                                         bool *has,
                                                                         int32_t *value) {
  uint64_t raw;
  int branch = canonical_branch(pos, end);
  if (branch < 0)
    return false;
  *has = branch;
  *value = 0;
  if (!branch)
    return true;
  if (!varint_raw(pos, end, 5, 0x0f, &raw))
    return false;
  *value = (int32_t)zigzag(raw);
  return true;
}

/* add_attribute without library calls: Avro-C's map keys end at a NUL byte;
 * a repeated key takes the later value in place. A key of up to 8 bytes
 * with 8 bytes readable from its start (all of this datum's earlier keys
 * then are too) is scanned and compared as one little-endian word. */
static inline __attribute__((always_inline)) bool canonical_attribute(cx_event_t *event,
                                                                      cx_str_t key,
                                                                      cx_str_t value,
                                                                      const uint8_t *end) {
  size_t count = event->attribute_count;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (key.len <= 8 && end - (const uint8_t *)key.ptr >= 8) {
    uint64_t word, mask = key.len == 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * key.len)) - 1;
    memcpy(&word, key.ptr, sizeof(word));
    /* The lowest flagged byte is the first NUL (flags above it may be false). */
    uint64_t nul = (word - UINT64_C(0x0101010101010101)) & ~word &
                   UINT64_C(0x8080808080808080) & mask;
    if (nul) {
      key.len = (size_t)__builtin_ctzll(nul) / 8;
      mask = (UINT64_C(1) << (8 * key.len)) - 1;
    }
    word &= mask;
    for (size_t k = 0; k < count; k++) {
      cx_str_t old = event->attribute_keys[k];
      uint64_t old_word;
      if (old.len != key.len)
        continue;
      memcpy(&old_word, old.ptr, sizeof(old_word));
      if ((old_word & mask) == word) {
        event->attribute_values[k] = value;
        return true;
      }
    }
  } else
#endif
  {
    for (size_t i = 0; i < key.len; i++) {
      if (key.ptr[i] == '\0') {
        key.len = i;
        break;
      }
    }
    for (size_t k = 0; k < count; k++) {
      cx_str_t old = event->attribute_keys[k];
      if (old.len != key.len)
        continue;
      size_t i = 0;
      while (i < key.len && old.ptr[i] == key.ptr[i])
        i++;
      if (i == key.len) {
        event->attribute_values[k] = value;
        return true;
      }
    }
  }
  if (count >= CX_EVENT_MAX_ATTRIBUTES)
    return false;
  event->attribute_keys[count] = key;
  event->attribute_values[count] = value;
  event->attribute_count = count + 1;
  return true;
}

static inline __attribute__((always_inline)) parse_result_t
parse_canonical(const cx_event_decoder_t *decoder, bool guarded, size_t elements_left,
                const uint8_t *start, const uint8_t *end, const uint8_t **pos_out,
                cx_event_t *event, enums_t *enums) {
  const uint8_t *pos = start;
  const cx_event_layout_t *layout = &decoder->layout;
  int64_t number;
  int branch;

  if (!canonical_string(&pos, end, &event->event_id) ||
      !canonical_string(&pos, end, &event->customer_id) ||
      !canonical_long(&pos, end, &event->occurred_at_ms))
    return PARSE_BAD;
  if (!canonical_long(&pos, end, &enums->channel) ||
      (guarded && (uint64_t)enums->channel >= (uint64_t)layout->channel_symbols))
    return PARSE_BAD;
  if (!canonical_long(&pos, end, &enums->type) ||
      (guarded && (uint64_t)enums->type >= (uint64_t)layout->type_symbols))
    return PARSE_BAD;
  event->outcome = CX_OUTCOME_NONE;
  enums->outcome = 0;
  if ((branch = canonical_branch(&pos, end)) < 0)
    return PARSE_BAD;
  enums->has_outcome = branch;
  if (branch && (!canonical_long(&pos, end, &enums->outcome) ||
                 (guarded && (uint64_t)enums->outcome >= (uint64_t)layout->outcome_symbols)))
    return PARSE_BAD;

  cx_str_t *const strings[3] = {&event->case_id, &event->topic, &event->agent_id};
  for (int i = 0; i < 3; i++) {
    if ((branch = canonical_branch(&pos, end)) < 0)
      return PARSE_BAD;
    *strings[i] = (cx_str_t){NULL, 0};
    if (branch && !canonical_string(&pos, end, strings[i]))
      return PARSE_BAD;
  }

  if (!canonical_optional_long(&pos, end, &event->has_wait_ms, &event->wait_ms) ||
      !canonical_optional_long(&pos, end, &event->has_handle_ms, &event->handle_ms))
    return PARSE_BAD;

  if ((branch = canonical_branch(&pos, end)) < 0)
    return PARSE_BAD;
  event->has_sentiment = branch;
  event->sentiment = 0;
  if (branch) {
    if (end - pos < 4)
      return PARSE_BAD;
    uint32_t raw32 = (uint32_t)read_le(pos, 4);
    memcpy(&event->sentiment, &raw32, sizeof(raw32));
    pos += 4;
  }
  if (!canonical_optional_int(&pos, end, &event->has_csat, &event->csat) ||
      !canonical_optional_int(&pos, end, &event->has_nps, &event->nps))
    return PARSE_BAD;

  event->attribute_count = 0;
  for (;;) {
    if (!canonical_long(&pos, end, &number))
      return PARSE_BAD;
    if (number == 0)
      break;
    uint64_t items = number < 0 ? 0 - (uint64_t)number : (uint64_t)number;
    const uint8_t *block_end = NULL;
    if (number < 0) {
      int64_t block_bytes;
      if (!canonical_long(&pos, end, &block_bytes) || block_bytes < 0 || block_bytes > end - pos)
        return PARSE_BAD;
      block_end = pos + block_bytes;
    }
    /* Each entry takes at least 2 bytes: a key length and a value length. */
    if (items > elements_left || items > (uint64_t)(end - pos) / 2)
      return PARSE_BAD;
    elements_left -= (size_t)items;
    for (uint64_t k = 0; k < items; k++) {
      cx_str_t key, value;
      if (!canonical_string(&pos, end, &key) || !canonical_string(&pos, end, &value))
        return PARSE_BAD;
      if (!canonical_attribute(event, key, value, end))
        return PARSE_GENERIC;
    }
    if (guarded && block_end && pos != block_end)
      return PARSE_BAD; /* Avro-C does not look at the block size */
  }
  *pos_out = pos;
  return PARSED;
}

/* One pass over a record's bytes into *event. With a guard (compiled from
 * the same writer schema), PARSE_BAD exactly when cx_avro_guard_check_prefix
 * would refuse the bytes: the same rules (strict varints, lengths and counts
 * against the bytes left, enum and branch ranges, nesting, the element budget,
 * map block sizes) for the fields read here, the guard's own check for the
 * fields skipped. Without one, fields the reader does not know are skipped by
 * their schema with the same bounds but no element budget. */
static parse_result_t parse(const cx_event_decoder_t *decoder, const cx_avro_guard_t *guard,
                            const uint8_t *start, const uint8_t *end, const uint8_t **pos_out,
                            cx_event_t *event, enums_t *enums) {
  const uint8_t *pos = start;
  size_t elements_left = SIZE_MAX, max_depth = SIZE_MAX;
  if (guard) {
    elements_left = cx_avro_guard_limits(guard)->max_elements;
    max_depth = cx_avro_guard_limits(guard)->max_depth;
  }
  /* The canonical layout nests its unions and map at depth 2. */
  if (decoder->canonical && max_depth >= 2)
    return guard ? parse_canonical(decoder, true, elements_left, start, end, pos_out, event, enums)
                 : parse_canonical(decoder, false, elements_left, start, end, pos_out, event,
                                   enums);
  /* Every field but the attribute arrays, which are read only up to
   * attribute_count: clearing their 1 KB per event was 2% of the hot path. */
  memset(event, 0, offsetof(cx_event_t, attribute_keys));
  event->outcome = CX_OUTCOME_NONE;
  enums->channel = enums->type = -1;
  enums->outcome = 0;
  enums->has_outcome = false;

  for (size_t i = 0; i < decoder->step_count; i++) {
    const decode_step_t *step = &decoder->steps[i];
    if (step->reader_field < 0) {
      if (guard) {
        if (cx_avro_guard_check_field(guard, i, start, end, &pos, &elements_left, NULL, 0))
          return PARSE_BAD;
      } else if (!skip_value(step->skip, &pos, end, 0)) {
        return PARSE_BAD;
      }
      continue;
    }
    size_t depth = 2; /* the record's fields (the record is depth 1) */
    if (step->value_branch >= 0) {
      int64_t branch;
      if (depth > max_depth || !read_varint(&pos, end, &branch))
        return PARSE_BAD;
      if (branch != step->value_branch) {
        if (branch < 0 || branch != step->null_branch)
          return PARSE_BAD;
        continue; /* null: the field stays absent */
      }
      depth++;
    }
    int64_t number = 0;
    cx_str_t text;
    switch (step->kind) {
    case STEP_STRING:
      if (!read_bytes(&pos, end, &text))
        return PARSE_BAD;
      switch (step->reader_field) {
      case F_EVENT_ID: event->event_id = text; break;
      case F_CUSTOMER_ID: event->customer_id = text; break;
      case F_CASE_ID: event->case_id = text; break;
      case F_TOPIC: event->topic = text; break;
      case F_AGENT_ID: event->agent_id = text; break;
      default: break;
      }
      break;
    case STEP_LONG: case STEP_INT:
      if (!(step->kind == STEP_INT ? read_int(&pos, end, &number)
                                   : read_varint(&pos, end, &number)))
        return PARSE_BAD;
      if (step->kind == STEP_INT)
        number = (int32_t)number;
      switch (step->reader_field) {
      case F_OCCURRED_AT: event->occurred_at_ms = number; break;
      case F_WAIT_MS: event->wait_ms = number; event->has_wait_ms = true; break;
      case F_HANDLE_MS: event->handle_ms = number; event->has_handle_ms = true; break;
      case F_SENTIMENT: event->sentiment = (float)number; event->has_sentiment = true; break;
      case F_CSAT: event->csat = (int32_t)number; event->has_csat = true; break;
      case F_NPS: event->nps = (int32_t)number; event->has_nps = true; break;
      default: break;
      }
      break;
    case STEP_FLOAT: case STEP_DOUBLE: {
      int bytes = step->kind == STEP_FLOAT ? 4 : 8;
      if (end - pos < bytes)
        return PARSE_BAD;
      uint64_t raw = read_le(pos, bytes);
      pos += bytes;
      if (step->kind == STEP_FLOAT) {
        uint32_t raw32 = (uint32_t)raw;
        memcpy(&event->sentiment, &raw32, sizeof(raw32));
      } else {
        double d;
        memcpy(&d, &raw, sizeof(d));
        event->sentiment = (float)d;
      }
      event->has_sentiment = true;
      break;
    }
    case STEP_ENUM: {
      int symbols;
      if (!read_varint(&pos, end, &number))
        return PARSE_BAD;
      if (step->reader_field == F_CHANNEL) {
        enums->channel = number;
        symbols = decoder->layout.channel_symbols;
      } else if (step->reader_field == F_TYPE) {
        enums->type = number;
        symbols = decoder->layout.type_symbols;
      } else {
        enums->outcome = number;
        enums->has_outcome = true;
        symbols = decoder->layout.outcome_symbols;
      }
      /* Without the guard an index out of range is left to finish(), as
       * cx_event_from_avro reports it. */
      if (guard && (number < 0 || number >= symbols))
        return PARSE_BAD;
      break;
    }
    case STEP_MAP:
      if (depth > max_depth)
        return PARSE_BAD;
      for (;;) {
        int64_t count;
        if (!read_varint(&pos, end, &count))
          return PARSE_BAD;
        if (count == 0)
          break;
        uint64_t items = count < 0 ? 0 - (uint64_t)count : (uint64_t)count;
        const uint8_t *block_end = NULL;
        if (count < 0) {
          int64_t block_bytes;
          if (!read_varint(&pos, end, &block_bytes) || block_bytes < 0 ||
              block_bytes > end - pos)
            return PARSE_BAD;
          block_end = pos + block_bytes;
        }
        /* Each entry takes at least 2 bytes: a key length and a value length. */
        if (items > elements_left || items > (uint64_t)(end - pos) / 2)
          return PARSE_BAD;
        elements_left -= (size_t)items;
        for (uint64_t k = 0; k < items; k++) {
          cx_str_t key, value;
          if (!read_bytes(&pos, end, &key) || !read_bytes(&pos, end, &value))
            return PARSE_BAD;
          if (!add_attribute(event, key, value))
            return PARSE_GENERIC;
        }
        if (guard && block_end && pos != block_end)
          return PARSE_BAD; /* Avro-C does not look at the block size */
      }
      break;
    default:
      return PARSE_BAD;
    }
  }
  *pos_out = pos;
  return PARSED;
}

/* The checks of cx_event_from_avro, in its order, once the bytes parsed. */
static inline cx_err_t finish(const cx_event_layout_t *layout, const enums_t *enums, cx_event_t *event,
                       char *errstr, size_t errstr_size) {
  if (event->event_id.len == 0) {
    snprintf(errstr, errstr_size, "event_id is empty");
    return CX_ERR_MSG_NO_EVENT_ID;
  }
  if (event->customer_id.len == 0) {
    snprintf(errstr, errstr_size, "customer_id is empty (event %.*s)",
             (int)(event->event_id.len > 64 ? 64 : event->event_id.len), event->event_id.ptr);
    return CX_ERR_MSG_NO_CUSTOMER;
  }
  if (enums->channel < 0 || enums->channel >= layout->channel_symbols || enums->type < 0 ||
      enums->type >= layout->type_symbols) {
    snprintf(errstr, errstr_size, "a field does not hold the type its schema declares");
    return CX_ERR_MSG_INCOMPATIBLE;
  }
  event->channel = (cx_channel_t)layout->channel_of[enums->channel];
  event->type = (cx_event_type_t)layout->type_of[enums->type];
  if (enums->has_outcome) {
    int64_t outcome = enums->outcome;
    int symbol = outcome >= 0 && outcome < layout->outcome_symbols ? layout->outcome_of[outcome]
                                                                   : -1;
    if (symbol < 0) {
      snprintf(errstr, errstr_size, "outcome symbol is not one the reader knows");
      return CX_ERR_MSG_BAD_VALUE;
    }
    event->outcome = (cx_outcome_t)symbol;
  }
  return CX_OK;
}

static cx_err_t malformed(char *errstr, size_t errstr_size) {
  snprintf(errstr, errstr_size, "Avro decode failed: the bytes do not match the writer schema");
  return CX_ERR_MSG_MALFORMED;
}

cx_err_t cx_event_decode(const cx_event_decoder_t *decoder, const void *buf, size_t len,
                         cx_event_t *event, bool *generic, char *errstr, size_t errstr_size) {
  const uint8_t *start = buf, *pos = NULL;
  enums_t enums;
  parse_result_t result = parse(decoder, NULL, start, start + len, &pos, event, &enums);
  *generic = result == PARSE_GENERIC;
  if (result == PARSE_GENERIC)
    return CX_OK;
  if (result == PARSE_BAD)
    return malformed(errstr, errstr_size);
  return finish(&decoder->layout, &enums, event, errstr, errstr_size);
}

/* The guard's reason for bytes the fused parse refused (a cold path: the
 * guard's own messages, with byte offsets). */
static cx_err_t guard_reason(const cx_avro_guard_t *guard, const void *buf, size_t len,
                             size_t *used, char *errstr, size_t errstr_size) {
  size_t datum_len; /* *used stays 0: the datum did not pass */
  cx_err_t err = used ? cx_avro_guard_check_prefix(guard, buf, len, &datum_len, errstr,
                                                   errstr_size)
                      : cx_avro_guard_check(guard, buf, len, errstr, errstr_size);
  return err ? err : malformed(errstr, errstr_size);
}

cx_err_t cx_event_decode_guarded(const cx_event_decoder_t *decoder, const cx_avro_guard_t *guard,
                                 const void *buf, size_t len, size_t *used, cx_event_t *event,
                                 bool *generic, char *errstr, size_t errstr_size) {
  const uint8_t *start = buf, *pos = NULL;
  size_t max_bytes = cx_avro_guard_limits(guard)->max_message_bytes;
  enums_t enums;
  *generic = false;
  if (used)
    *used = 0;
  if ((!used && len > max_bytes) || (!buf && len))
    return guard_reason(guard, buf, len, used, errstr, errstr_size);
  static const uint8_t empty[1];
  if (!start)
    start = empty;
  /* The canonical layout's parse inline here: the usual message costs no
   * second call and no dispatch. */
  const cx_avro_guard_limits_t *limits = cx_avro_guard_limits(guard);
  parse_result_t result =
      decoder->canonical && limits->max_depth >= 2
          ? parse_canonical(decoder, true, limits->max_elements, start, start + len, &pos, event,
                            &enums)
          : parse(decoder, guard, start, start + len, &pos, event, &enums);
  if (result == PARSE_GENERIC) {
    /* The parse stopped early: the guard checks the whole datum. */
    size_t datum_len = 0;
    cx_err_t err = used ? cx_avro_guard_check_prefix(guard, start, len, &datum_len, errstr,
                                                     errstr_size)
                        : cx_avro_guard_check(guard, start, len, errstr, errstr_size);
    *generic = err == CX_OK;
    if (used && !err)
      *used = datum_len;
    return err;
  }
  if (result == PARSE_BAD || (size_t)(pos - start) > max_bytes || (!used && pos != start + len))
    return guard_reason(guard, start, len, used, errstr, errstr_size);
  if (used)
    *used = (size_t)(pos - start);
  return finish(&decoder->layout, &enums, event, errstr, errstr_size);
}
