/* Alerts and profiles as Avro binary (see avro_out.h). Avro binary: int and
 * long are zigzag varints, enums their symbol index as an int, strings a
 * long length then the bytes, float and double IEEE 754 little-endian,
 * boolean one byte, a union the branch index as a long then the branch, an
 * array one block (its item count as a long, the items) when not empty,
 * then a 0 count. */
#include "avro_out.h"

#include <string.h>

/* The layouts the writers below follow, as layout() spells a schema:
 * {field:type,...} a record's fields in order, s string, i int, l long,
 * d double, f float, b boolean, n null, e(symbols) an enum, [items] an
 * array, u(branch|branch) a union. */
static const char ALERT_LAYOUT[] =
    "{alert_id:s,customer_id:s,rule:s,kind:e(frustration,churn),"
    "severity:e(low,medium,high,critical),score:i,trigger_event_id:s,event_time:l,"
    "window_start:l,window_end:l,reasons:[{code:s,value:l,weight:d}],evidence_event_ids:[s],"
    "recommended_action:s,action_channel:u(n|s),emitted_at:u(n|l)}";

static const char PROFILE_LAYOUT[] =
    "{customer_id:s,updated_at:l,first_seen:l,events_total:l,contacts_24h:i,abandoned_24h:i,"
    "wait_ms_24h:l,channels_48h:[s],preferred_channel:u(n|s),frustration_score:i,"
    "frustration_band:e(low,medium,high,critical),churn_score:i,"
    "churn_band:e(low,medium,high,critical),"
    "reasons:[{code:s,value:l,weight:d,kind:e(frustration,churn)}],open_alerts:[s],"
    "consent:u(n|b),contacts_7d:i,contacts_30d:i,"
    "channel_contacts:[{channel:s,contacts_7d:i,contacts_30d:i}],last_contact_at:u(n|l),"
    "last_contact_channel:u(n|s),open_cases:i,repeat_contacts_7d:i,avg_wait_ms_30d:u(n|l),"
    "last_sentiment:u(n|f),last_sentiment_at:u(n|l),last_csat:u(n|i),last_csat_at:u(n|l),"
    "last_nps:u(n|i),last_nps_at:u(n|l),emitted_at:u(n|l)}";

/* Appends schema's layout to out (NUL-terminated while there is room);
 * returns false when it does not fit or has a type the writers never use. */
static bool layout(avro_schema_t schema, char *out, size_t size, size_t *len, int depth) {
  if (depth > 8)
    return false;
  if (is_avro_link(schema))
    schema = avro_schema_link_target(schema);
#define PUT(text) \
  do { \
    size_t n_ = strlen(text); \
    if (*len + n_ >= size) \
      return false; \
    memcpy(out + *len, text, n_ + 1); \
    *len += n_; \
  } while (0)
  switch (avro_typeof(schema)) {
  case AVRO_STRING: PUT("s"); return true;
  case AVRO_INT32: PUT("i"); return true;
  case AVRO_INT64: PUT("l"); return true;
  case AVRO_DOUBLE: PUT("d"); return true;
  case AVRO_FLOAT: PUT("f"); return true;
  case AVRO_BOOLEAN: PUT("b"); return true;
  case AVRO_NULL: PUT("n"); return true;
  case AVRO_RECORD:
    PUT("{");
    for (size_t i = 0; i < avro_schema_record_size(schema); i++) {
      if (i)
        PUT(",");
      PUT(avro_schema_record_field_name(schema, (int)i));
      PUT(":");
      if (!layout(avro_schema_record_field_get_by_index(schema, (int)i), out, size, len,
                  depth + 1))
        return false;
    }
    PUT("}");
    return true;
  case AVRO_ENUM:
    PUT("e(");
    for (int i = 0; i < avro_schema_enum_number_of_symbols(schema); i++) {
      if (i)
        PUT(",");
      PUT(avro_schema_enum_get(schema, i));
    }
    PUT(")");
    return true;
  case AVRO_ARRAY:
    PUT("[");
    if (!layout(avro_schema_array_items(schema), out, size, len, depth + 1))
      return false;
    PUT("]");
    return true;
  case AVRO_UNION:
    PUT("u(");
    for (size_t i = 0; i < avro_schema_union_size(schema); i++) {
      if (i)
        PUT("|");
      if (!layout(avro_schema_union_branch(schema, (int)i), out, size, len, depth + 1))
        return false;
    }
    PUT(")");
    return true;
  default:
    return false;
  }
#undef PUT
}

static bool has_layout(avro_schema_t schema, const char *expected) {
  char text[2048];
  size_t len = 0;
  return schema && layout(schema, text, sizeof(text), &len, 0) && !strcmp(text, expected);
}

bool cx_avro_out_alert_layout(avro_schema_t schema) {
  return has_layout(schema, ALERT_LAYOUT);
}

bool cx_avro_out_profile_layout(avro_schema_t schema) {
  return has_layout(schema, PROFILE_LAYOUT);
}

/* A writer appends to a buffer that reserve() keeps room in; once out of
 * memory, later writes do nothing and the caller gets -1. */
typedef struct writer_s {
  cx_buf_t *out;
  bool failed;
} writer_t;

static inline bool reserve(writer_t *w, size_t more) {
  if (!w->failed && w->out->capacity - w->out->len >= more)
    return true;
  if (w->failed || cx_buf_reserve(w->out, more)) {
    w->failed = true;
    return false;
  }
  return true;
}

static inline void put_long(writer_t *w, int64_t value) {
  if (!reserve(w, 10))
    return;
  uint64_t n = (uint64_t)value << 1 ^ (value < 0 ? UINT64_MAX : 0);
  uint8_t *at = w->out->data + w->out->len;
  size_t i = 0;
  while (n >= 0x80) {
    at[i++] = (uint8_t)(n | 0x80);
    n >>= 7;
  }
  at[i++] = (uint8_t)n;
  w->out->len += i;
}

static inline void put_raw(writer_t *w, const void *bytes, size_t len) {
  if (!reserve(w, len))
    return;
  if (len)
    memcpy(w->out->data + w->out->len, bytes, len);
  w->out->len += len;
}

static inline void put_str(writer_t *w, cx_str_t s) {
  put_long(w, (int64_t)s.len);
  put_raw(w, s.ptr, s.len);
}

static inline void put_cstr(writer_t *w, const char *text) {
  put_str(w, cx_str(text));
}

static inline void put_le(writer_t *w, uint64_t bits, size_t size) {
  if (!reserve(w, size))
    return;
  uint8_t *at = w->out->data + w->out->len;
  for (size_t i = 0; i < size; i++)
    at[i] = (uint8_t)(bits >> (8 * i));
  w->out->len += size;
}

static inline void put_double(writer_t *w, double value) {
  uint64_t bits;
  memcpy(&bits, &value, sizeof(bits));
  put_le(w, bits, 8);
}

static inline void put_float(writer_t *w, float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof(bits));
  put_le(w, bits, 4);
}

/* ["null", T]: the branch index; the caller writes T's value when present. */
static inline bool put_branch(writer_t *w, bool present) {
  put_long(w, present ? 1 : 0);
  return present;
}

static void put_cstr_array(writer_t *w, const char *const *items, size_t count) {
  if (count) {
    put_long(w, (int64_t)count);
    for (size_t i = 0; i < count; i++)
      put_cstr(w, items[i]);
  }
  put_long(w, 0);
}

int cx_avro_out_alert(const cx_alert_t *alert, int64_t emitted_at_ms, cx_buf_t *out) {
  writer_t w = {out, false};
  size_t start = out->len;
  put_cstr(&w, alert->alert_id);
  put_str(&w, alert->customer_id);
  put_cstr(&w, alert->rule);
  put_long(&w, (int)alert->kind);
  put_long(&w, (int)alert->severity);
  put_long(&w, (int32_t)alert->score);
  put_str(&w, alert->trigger_event_id);
  put_long(&w, alert->event_time_ms);
  put_long(&w, alert->window_start_ms);
  put_long(&w, alert->window_end_ms);
  if (alert->reason_count) {
    put_long(&w, (int64_t)alert->reason_count);
    for (size_t i = 0; i < alert->reason_count; i++) {
      put_cstr(&w, alert->reasons[i].code);
      put_long(&w, alert->reasons[i].value);
      put_double(&w, alert->reasons[i].weight);
    }
  }
  put_long(&w, 0);
  if (alert->evidence_count) {
    put_long(&w, (int64_t)alert->evidence_count);
    for (size_t i = 0; i < alert->evidence_count; i++)
      put_str(&w, alert->evidence[i]);
  }
  put_long(&w, 0);
  put_cstr(&w, alert->recommended_action ? alert->recommended_action : "");
  if (put_branch(&w, alert->action_channel != NULL))
    put_cstr(&w, alert->action_channel);
  if (put_branch(&w, emitted_at_ms >= 0))
    put_long(&w, emitted_at_ms);
  if (w.failed) {
    out->len = start;
    return -1;
  }
  return 0;
}

int cx_avro_out_profile(const cx_profile_t *profile, int64_t emitted_at_ms, cx_buf_t *out) {
  writer_t w = {out, false};
  size_t start = out->len;
  put_str(&w, profile->customer_id);
  put_long(&w, profile->updated_at_ms);
  put_long(&w, profile->first_seen_ms);
  put_long(&w, profile->events_total);
  put_long(&w, profile->contacts_24h);
  put_long(&w, profile->abandoned_24h);
  put_long(&w, profile->wait_ms_24h);
  put_cstr_array(&w, profile->channels_48h, profile->channels_48h_count);
  if (put_branch(&w, profile->preferred_channel != NULL))
    put_cstr(&w, profile->preferred_channel);
  put_long(&w, (int32_t)profile->frustration_score);
  put_long(&w, (int)profile->frustration_band);
  put_long(&w, (int32_t)profile->churn_score);
  put_long(&w, (int)profile->churn_band);
  if (profile->reason_count) {
    put_long(&w, (int64_t)profile->reason_count);
    for (size_t i = 0; i < profile->reason_count; i++) {
      const cx_profile_reason_t *reason = &profile->reasons[i];
      put_cstr(&w, reason->code);
      put_long(&w, reason->value);
      put_double(&w, reason->weight);
      put_long(&w, (int)reason->kind);
    }
  }
  put_long(&w, 0);
  put_cstr_array(&w, profile->open_alerts, profile->open_alert_count);
  if (put_branch(&w, profile->consent_granted))
    put_raw(&w, "\1", 1);
  put_long(&w, profile->contacts_7d);
  put_long(&w, profile->contacts_30d);
  if (profile->channel_count) {
    put_long(&w, (int64_t)profile->channel_count);
    for (size_t i = 0; i < profile->channel_count; i++) {
      put_cstr(&w, profile->channels[i].channel);
      put_long(&w, profile->channels[i].contacts_7d);
      put_long(&w, profile->channels[i].contacts_30d);
    }
  }
  put_long(&w, 0);
  if (put_branch(&w, profile->last_contact_channel != NULL))
    put_long(&w, profile->last_contact_ms);
  if (put_branch(&w, profile->last_contact_channel != NULL))
    put_cstr(&w, profile->last_contact_channel);
  put_long(&w, profile->open_cases);
  put_long(&w, profile->repeat_contacts_7d);
  if (put_branch(&w, profile->has_avg_wait))
    put_long(&w, profile->avg_wait_ms_30d);
  if (put_branch(&w, profile->has_sentiment))
    put_float(&w, profile->sentiment);
  if (put_branch(&w, profile->has_sentiment))
    put_long(&w, profile->sentiment_at_ms);
  if (put_branch(&w, profile->has_csat))
    put_long(&w, profile->csat);
  if (put_branch(&w, profile->has_csat))
    put_long(&w, profile->csat_at_ms);
  if (put_branch(&w, profile->has_nps))
    put_long(&w, profile->nps);
  if (put_branch(&w, profile->has_nps))
    put_long(&w, profile->nps_at_ms);
  if (put_branch(&w, emitted_at_ms >= 0))
    put_long(&w, emitted_at_ms);
  if (w.failed) {
    out->len = start;
    return -1;
  }
  return 0;
}
