/* Names and small helpers for the interaction event (see event.h). */
#include "event.h"

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
