/* The interaction event as the operators see it: a fixed struct with borrowed
 * string slices, filled by the codec without heap allocation. Strings point
 * into the decoder's buffers and are valid only until the next decode; an
 * operator that keeps one must copy it. Mirrors schemas/interaction_event.avsc. */
#ifndef CX_EVENT_H
#define CX_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CX_CHANNEL_MAP(X) \
  X(PHONE) X(IVR) X(CHAT) X(EMAIL) X(SMS) X(MESSAGING) X(SOCIAL) X(APP) \
  X(WEB) X(STORE) X(FIELD) X(OTHER)

#define CX_EVENT_TYPE_MAP(X) \
  X(CONTACT) X(SELF_SERVICE) X(TRANSFER) X(CASE_OPENED) X(CASE_RESOLVED) \
  X(CASE_REOPENED) X(SURVEY) X(REVIEW) X(APPOINTMENT_MISSED) \
  X(CANCEL_INTENT) X(COMPLAINT) X(PAYMENT_FAILED) X(USAGE) X(PURCHASE) \
  X(CLICK) X(ERROR) X(LOGIN_FAILED) X(CONSENT) X(OTHER)

#define CX_OUTCOME_MAP(X) \
  X(COMPLETED) X(ABANDONED) X(FAILED) X(TRANSFERRED) X(ESCALATED)

/* Enum values follow the Avro symbol order, so symbol index == enum value. */
typedef enum {
#define CX__X(name) CX_CHANNEL_##name,
  CX_CHANNEL_MAP(CX__X)
#undef CX__X
  CX_CHANNEL__COUNT
} cx_channel_t;

typedef enum {
#define CX__X(name) CX_EVENT_##name,
  CX_EVENT_TYPE_MAP(CX__X)
#undef CX__X
  CX_EVENT_TYPE__COUNT
} cx_event_type_t;

/* CX_OUTCOME_NONE is the Avro null; the others are symbol index + 1. */
typedef enum {
  CX_OUTCOME_NONE = 0,
#define CX__X(name) CX_OUTCOME_##name,
  CX_OUTCOME_MAP(CX__X)
#undef CX__X
  CX_OUTCOME__COUNT
} cx_outcome_t;

/* A borrowed string: ptr == NULL means the Avro null (absent). */
typedef struct cx_str_s {
  const char *ptr; /* not NUL-terminated in general; NULL when absent */
  size_t len;      /* bytes, without any terminator */
} cx_str_t;

/* Attributes past this many are kept out of the struct (still counted). */
#define CX_EVENT_MAX_ATTRIBUTES 32

typedef struct cx_event_s {
  cx_str_t event_id;          /* unique id, never absent */
  cx_str_t customer_id;       /* the key, never absent or empty */
  int64_t occurred_at_ms;     /* event time, ms since epoch (UTC) */
  cx_channel_t channel;       /* where it happened */
  cx_event_type_t type;       /* what happened */
  cx_outcome_t outcome;       /* how it ended; CX_OUTCOME_NONE when null */
  cx_str_t case_id;           /* optional case link */
  cx_str_t topic;             /* optional reason for contact */
  cx_str_t agent_id;          /* optional agent */
  bool has_wait_ms;           /* wait_ms is set */
  bool has_handle_ms;         /* handle_ms is set */
  bool has_sentiment;         /* sentiment is set */
  bool has_csat;              /* csat is set */
  bool has_nps;               /* nps is set */
  int64_t wait_ms;            /* time in queue, ms */
  int64_t handle_ms;          /* time with an agent, ms */
  float sentiment;            /* -1 .. 1 */
  int32_t csat;               /* 1 .. 5 */
  int32_t nps;                /* 0 .. 10 */
  size_t attribute_count;     /* attributes in the message (may exceed the array) */
  cx_str_t attribute_keys[CX_EVENT_MAX_ATTRIBUTES];   /* first attributes' keys */
  cx_str_t attribute_values[CX_EVENT_MAX_ATTRIBUTES]; /* and their values */
} cx_event_t;

/* Symbol names ("PHONE", "CONTACT", "ABANDONED"; "" for CX_OUTCOME_NONE). */
const char *cx_channel_name(cx_channel_t channel);
const char *cx_event_type_name(cx_event_type_t type);
const char *cx_outcome_name(cx_outcome_t outcome);

/* True for the assisted channels of DESIGN.md section 5. */
bool cx_channel_is_assisted(cx_channel_t channel);

/* A cx_str_t from a NUL-terminated string (NULL gives an absent string). */
cx_str_t cx_str(const char *cstr);

/* Zero the event: all optional fields absent, counts zero. */
void cx_event_clear(cx_event_t *event);

/* Copies the event's strings (ids, case, topic, agent, the attributes in the
 * struct) into one malloc'd block and points the event at it, so it outlives
 * the decoder's buffers. Returns the block (the caller frees it once done
 * with the event), or NULL when out of memory. */
char *cx_event_own_strings(cx_event_t *event);

#endif
