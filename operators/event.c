/* Names and small helpers for the interaction event (see event.h). */
#include "event.h"

#include <stdlib.h>
#include <string.h>

static const char *const channel_names[] = {
#define CX__X(name) #name,
  CX_CHANNEL_MAP(CX__X)
#undef CX__X
};

static const char *const event_type_names[] = {
#define CX__X(name) #name,
  CX_EVENT_TYPE_MAP(CX__X)
#undef CX__X
};

static const char *const outcome_names[] = {
  "",
#define CX__X(name) #name,
  CX_OUTCOME_MAP(CX__X)
#undef CX__X
};

const char *cx_channel_name(cx_channel_t channel) {
  return (unsigned)channel < CX_CHANNEL__COUNT ? channel_names[channel] : "?";
}

const char *cx_event_type_name(cx_event_type_t type) {
  return (unsigned)type < CX_EVENT_TYPE__COUNT ? event_type_names[type] : "?";
}

const char *cx_outcome_name(cx_outcome_t outcome) {
  return (unsigned)outcome < CX_OUTCOME__COUNT ? outcome_names[outcome] : "?";
}

bool cx_channel_is_assisted(cx_channel_t channel) {
  switch (channel) {
  case CX_CHANNEL_PHONE: case CX_CHANNEL_CHAT: case CX_CHANNEL_EMAIL:
  case CX_CHANNEL_SMS: case CX_CHANNEL_MESSAGING: case CX_CHANNEL_SOCIAL:
  case CX_CHANNEL_STORE: case CX_CHANNEL_FIELD:
    return true;
  default:
    return false;
  }
}

cx_str_t cx_str(const char *cstr) {
  cx_str_t s = {cstr, cstr ? strlen(cstr) : 0};
  return s;
}

void cx_event_clear(cx_event_t *event) {
  memset(event, 0, sizeof(*event));
  event->outcome = CX_OUTCOME_NONE;
}

char *cx_event_own_strings(cx_event_t *event) {
  cx_str_t *fields[5 + 2 * CX_EVENT_MAX_ATTRIBUTES];
  size_t count = 0, bytes = 0;
  size_t attributes = event->attribute_count < CX_EVENT_MAX_ATTRIBUTES ? event->attribute_count
                                                                       : CX_EVENT_MAX_ATTRIBUTES;
  fields[count++] = &event->event_id;
  fields[count++] = &event->customer_id;
  fields[count++] = &event->case_id;
  fields[count++] = &event->topic;
  fields[count++] = &event->agent_id;
  for (size_t i = 0; i < attributes; i++) {
    fields[count++] = &event->attribute_keys[i];
    fields[count++] = &event->attribute_values[i];
  }
  for (size_t i = 0; i < count; i++)
    bytes += fields[i]->ptr ? fields[i]->len : 0;
  char *text = malloc(bytes + 1);
  if (!text)
    return NULL;
  char *cursor = text;
  for (size_t i = 0; i < count; i++) {
    if (!fields[i]->ptr)
      continue;
    memcpy(cursor, fields[i]->ptr, fields[i]->len);
    fields[i]->ptr = cursor;
    cursor += fields[i]->len;
  }
  return text;
}
