/* cx_event_t <-> Avro value of InteractionEvent. The reader schema's field
 * order is fixed (schemas/interaction_event.avsc), so fields are addressed by
 * index; a resolved reader over an older writer presents the same indexes. */
#include "event_avro.h"

#include <errno.h>
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

/* For ["null", X] unions: returns the X branch, or false for null. */
static bool get_optional(avro_value_t *field, avro_value_t *branch) {
  int discriminant = 0;
  if (avro_value_get_discriminant(field, &discriminant))
    return false;
  if (avro_value_get_current_branch(field, branch))
    return false;
  return avro_value_get_type(branch) != AVRO_NULL;
}

static cx_err_t field(avro_value_t *record, int index, avro_value_t *out,
                      char *errstr, size_t errstr_size) {
  if (avro_value_get_by_index(record, (size_t)index, out, NULL)) {
    snprintf(errstr, errstr_size, "record has no field %d: %s", index, avro_strerror());
    return CX_ERR_MSG_INCOMPATIBLE;
  }
  return CX_OK;
}

cx_err_t cx_event_from_avro(avro_value_t *record, cx_event_t *event,
                            char *errstr, size_t errstr_size) {
  avro_value_t value, branch;
  cx_err_t err;
  int index;
  int64_t l;
  int32_t i;

  cx_event_clear(event);
#define FIELD(idx) \
  if ((err = field(record, idx, &value, errstr, errstr_size))) return err

  FIELD(F_EVENT_ID);
  get_str(&value, &event->event_id);
  if (event->event_id.len == 0) {
    snprintf(errstr, errstr_size, "event_id is empty");
    return CX_ERR_MSG_NO_EVENT_ID;
  }
  FIELD(F_CUSTOMER_ID);
  get_str(&value, &event->customer_id);
  if (event->customer_id.len == 0) {
    snprintf(errstr, errstr_size, "customer_id is empty (event %.*s)",
             (int)(event->event_id.len > 64 ? 64 : event->event_id.len), event->event_id.ptr);
    return CX_ERR_MSG_NO_CUSTOMER;
  }
  FIELD(F_OCCURRED_AT);
  if (avro_value_get_long(&value, &l))
    goto bad;
  event->occurred_at_ms = l;
  FIELD(F_CHANNEL);
  if (avro_value_get_enum(&value, &index))
    goto bad;
  if (index < 0 || index >= CX_CHANNEL__COUNT) {
    snprintf(errstr, errstr_size, "channel symbol index %d out of range", index);
    return CX_ERR_MSG_BAD_VALUE;
  }
  event->channel = (cx_channel_t)index;
  FIELD(F_TYPE);
  if (avro_value_get_enum(&value, &index))
    goto bad;
  if (index < 0 || index >= CX_EVENT_TYPE__COUNT) {
    snprintf(errstr, errstr_size, "type symbol index %d out of range", index);
    return CX_ERR_MSG_BAD_VALUE;
  }
  event->type = (cx_event_type_t)index;
  FIELD(F_OUTCOME);
  if (get_optional(&value, &branch)) {
    if (avro_value_get_enum(&branch, &index))
      goto bad;
    if (index < 0 || index >= CX_OUTCOME__COUNT - 1) {
      snprintf(errstr, errstr_size, "outcome symbol index %d out of range", index);
      return CX_ERR_MSG_BAD_VALUE;
    }
    event->outcome = (cx_outcome_t)(index + 1);
  }
  FIELD(F_CASE_ID);
  if (get_optional(&value, &branch))
    get_str(&branch, &event->case_id);
  FIELD(F_TOPIC);
  if (get_optional(&value, &branch))
    get_str(&branch, &event->topic);
  FIELD(F_AGENT_ID);
  if (get_optional(&value, &branch))
    get_str(&branch, &event->agent_id);
  FIELD(F_WAIT_MS);
  if (get_optional(&value, &branch)) {
    if (avro_value_get_long(&branch, &l))
      goto bad;
    event->has_wait_ms = true;
    event->wait_ms = l;
  }
  FIELD(F_HANDLE_MS);
  if (get_optional(&value, &branch)) {
    if (avro_value_get_long(&branch, &l))
      goto bad;
    event->has_handle_ms = true;
    event->handle_ms = l;
  }
  FIELD(F_SENTIMENT);
  if (get_optional(&value, &branch)) {
    float f;
    if (avro_value_get_float(&branch, &f))
      goto bad;
    event->has_sentiment = true;
    event->sentiment = f;
  }
  FIELD(F_CSAT);
  if (get_optional(&value, &branch)) {
    if (avro_value_get_int(&branch, &i))
      goto bad;
    event->has_csat = true;
    event->csat = i;
  }
  FIELD(F_NPS);
  if (get_optional(&value, &branch)) {
    if (avro_value_get_int(&branch, &i))
      goto bad;
    event->has_nps = true;
    event->nps = i;
  }
  FIELD(F_ATTRIBUTES);
  {
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
#undef FIELD
  return CX_OK;

bad:
  snprintf(errstr, errstr_size, "unexpected field type: %s", avro_strerror());
  return CX_ERR_MSG_INCOMPATIBLE;
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
