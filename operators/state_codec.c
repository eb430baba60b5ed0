/* Customer state records (see state_codec.h). Every field is written on its
 * own with an explicit encoding; times are small varints relative to the
 * customer's last event; defaults (no cooldown, empty sub-states) cost little
 * or nothing, because a field missing at the end of a section decodes to its
 * default. The decoder trusts nothing: it checks every count, length and enum
 * against the bytes and the arrays it fills before it allocates or indexes. */
#include "state_codec.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Record, version 1. Byte order is little-endian throughout.
 *
 *   varint  LEB128: 7 bits a byte, low groups first, high bit = more follow;
 *           at most 10 bytes.
 *   zigzag  a signed value as a varint: 0, -1, 1, -2 ... -> 0, 1, 2, 3 ...
 *   u8      one byte.          le32/le64  fixed 4/8 bytes (hashes, float bits).
 *   time    a time relative to a base, as a varint code:
 *             0 = INT64_MIN (none), 1 = INT64_MAX (never),
 *             2 = le64 of the time follows (far from the base),
 *             n >= 3: base + unzigzag(n - 3), wrapping in 64 bits.
 *           The base is last_event_ms unless said otherwise ("rel prev":
 *           the previous entry's time).
 *
 *   +---------+---------------+-----------+-----------+-----+----------------+
 *   | version | section_count | section 0 | section 1 | ... | section count-1|
 *   | u8 = 1  | varint (8)    |           |           |     |                |
 *   +---------+---------------+-----------+-----------+-----+----------------+
 *   section := +----------------+---------------------------+
 *              | length: varint | fields: length bytes      |
 *              +----------------+---------------------------+
 *
 * Sections come in this order; a newer writer appends sections (skipped
 * here) and appends fields at the end of a section (skipped here; an
 * array-shaped addition goes after the array, one more column). A section
 * that ends early leaves its remaining fields at their defaults (INT64_MIN
 * for the customer's times and cooldowns, 0 otherwise), so an all-default
 * sub-state is an empty section. Bytes after the last section are an error.
 *
 *   0 customer     key_len varint | key bytes | last_event_ms time (base 0)
 *                  | first_event_ms time | event_count varint | consent varint
 *                  | [next_offset varint] (input offset after the customer's
 *                  last event; added in version 1 later, absent when 0)
 *   1 scores       scores_at_ms time | last_frustration_alert_ms time
 *                  | rule_count varint | rule_count x
 *                    ( rule varint (CX_RULE_MAP index, increasing)
 *                    | quiet_until_ms time | alerted_band varint
 *                    | contribution le32 (float bits) )
 *                  only rules with a cooldown, band or contribution are listed
 *   2 interactions count varint | count x, oldest first
 *                    ( at_ms time (rel prev) | type u8 | channel u8 | outcome u8
 *                    | flags u8 | present u8 | [wait_ms zigzag]
 *                    | [handle_ms zigzag] | [case_hash le64] | [topic_hash le64]
 *                    | id_len varint | id bytes )
 *                  present: bit 0..3 = wait_ms, handle_ms, case_hash,
 *                  topic_hash are non-zero and follow
 *   3 journey      (no fields in version 1)
 *   4 signals      payment_count varint | payment_ms time (rel prev) x count
 *                  | broken_promise_count varint | broken_promise_ms time (rel prev) x count
 *   5 digital      session_count varint | session_count x
 *                    ( slot varint (increasing) | present u8 | [hash le64]
 *                    | first_ms time | last_ms time | [element_hash le64]
 *                    | click_last_ms time | gap_count varint
 *                    | click_gaps_ms zigzag x gap_count | failures varint
 *                    | run_clicks varint | flags u8 )
 *                  present: bit 0, 1 = hash, element_hash are non-zero;
 *                  gap_count: gaps up to the last non-zero one
 *                  | days.newest_day zigzag (from the day of last_event_ms)
 *                  | day_mask varint (bit i: counts[i] != 0)
 *                  | counts[i] varint for each bit set, i ascending
 *                  | first_day zigzag (from newest_day) | last_ms time
 *                  | check_day zigzag (from newest_day) | check_token varint
 *                  | engagement_flags u8 | last_id len varint | last_id bytes
 *                  only slots with a non-zero field are listed
 *   6 cases        slot_count varint | slot_count x
 *                    ( slot varint (increasing) | case_hash le64 | opened_ms time
 *                    | resolved_ms time | generation varint | flags u8
 *                    | reopened u8 | opened_id len varint | opened_id bytes )
 *                  only slots with a non-zero field are listed
 *   7 profile      present varint | the fields whose bit is set, in this order:
 *                  emitted_at_ms time | digest le64 | sentiment_at_ms time
 *                  | csat_at_ms time | nps_at_ms time | frustration_score le32
 *                  | churn_score le32 | sentiment le32 | csat zigzag | nps zigzag
 *                  | bands u8 | flags u8          (bit i: field i is non-zero)
 *
 * Rules are stored by index, so CX_RULE_MAP may only grow at its end; a rule
 * index this build does not know (a newer build's rule) is skipped.
 */

_Static_assert(CX_RULE__COUNT == 15,
               "rule indexes are part of the state record: append new rules at the end of "
               "CX_RULE_MAP, then update this count");

enum {
  SECTION_CUSTOMER,
  SECTION_SCORES,
  SECTION_INTERACTIONS,
  SECTION_JOURNEY,
  SECTION_SIGNALS,
  SECTION_DIGITAL,
  SECTION_CASES,
  SECTION_PROFILE,
  SECTION__COUNT
};

static const char *const section_names[SECTION__COUNT] = {
    "customer", "scores", "interactions", "journey", "signals", "digital", "cases", "profile"};

enum { TIME_NONE, TIME_NEVER, TIME_WIDE, TIME__FIRST_DELTA };

enum {
  INTERACTION_HAS_WAIT = 1 << 0,
  INTERACTION_HAS_HANDLE = 1 << 1,
  INTERACTION_HAS_CASE = 1 << 2,
  INTERACTION_HAS_TOPIC = 1 << 3,
};

enum { SESSION_HAS_HASH = 1 << 0, SESSION_HAS_ELEMENT = 1 << 1 };

enum {
  PROFILE_EMITTED_AT, PROFILE_DIGEST, PROFILE_SENTIMENT_AT, PROFILE_CSAT_AT, PROFILE_NPS_AT,
  PROFILE_FRUSTRATION, PROFILE_CHURN, PROFILE_SENTIMENT, PROFILE_CSAT, PROFILE_NPS,
  PROFILE_BANDS, PROFILE_FLAGS
};

/* The smallest encoded interaction: at, type, channel, outcome, flags,
 * present, id_len; bounds the count before the array is allocated. */
#define INTERACTION_MIN_BYTES 7

static uint64_t zigzag(int64_t value) {
  return (uint64_t)value << 1 ^ (value < 0 ? UINT64_MAX : 0);
}

/* Two's complement reinterpretation without implementation-defined casts. */
static int64_t to_signed(uint64_t value) {
  return value <= INT64_MAX ? (int64_t)value : -(int64_t)(UINT64_MAX - value) - 1;
}

static int64_t unzigzag(uint64_t value) {
  return to_signed(value >> 1 ^ (value & 1 ? UINT64_MAX : 0));
}

static uint32_t float_bits(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof(bits));
  return bits;
}

static float bits_float(uint32_t bits) {
  float value;
  memcpy(&value, &bits, sizeof(value));
  return value;
}


typedef struct writer_s {
  cx_state_codec_buf_t *buf; /* appended to */
  bool failed;               /* out of memory: later puts do nothing */
} writer_t;

void cx_state_codec_buf_free(cx_state_codec_buf_t *buf) {
  if (!buf)
    return;
  free(buf->bytes);
  memset(buf, 0, sizeof(*buf));
}

/* Grows the buffer to hold more bytes past len (the slow path of reserve). */
static bool grow(writer_t *w, size_t more) {
  cx_state_codec_buf_t *buf = w->buf;
  if (w->failed)
    return false;
  size_t capacity = buf->capacity ? buf->capacity : 256;
  while (capacity - buf->len < more) {
    if (capacity > SIZE_MAX / 2) {
      w->failed = true;
      return false;
    }
    capacity *= 2;
  }
  uint8_t *bytes = realloc(buf->bytes, capacity);
  if (!bytes) {
    w->failed = true;
    return false;
  }
  buf->bytes = bytes;
  buf->capacity = capacity;
  return true;
}

/* Room for more bytes past len; false (and nothing written later) when out
 * of memory. Once failed, capacity never grows, so the fast check below
 * cannot succeed for a write that grow refused. */
static inline bool reserve(writer_t *w, size_t more) {
  if (w->buf->capacity - w->buf->len >= more && !w->failed)
    return true;
  return grow(w, more);
}

static inline void put_bytes(writer_t *w, const void *bytes, size_t len) {
  if (!len || !reserve(w, len))
    return;
  memcpy(w->buf->bytes + w->buf->len, bytes, len);
  w->buf->len += len;
}

static inline void put_u8(writer_t *w, uint8_t value) {
  if (!reserve(w, 1))
    return;
  w->buf->bytes[w->buf->len++] = value;
}

static size_t varint_size(uint64_t value) {
  size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    size++;
  }
  return size;
}

/* At most 10 bytes, written in place. */
static inline void put_varint(writer_t *w, uint64_t value) {
  if (!reserve(w, 10))
    return;
  w->buf->len += cx_state_codec_varint_put(w->buf->bytes + w->buf->len, value);
}

static inline void put_zigzag(writer_t *w, int64_t value) {
  put_varint(w, zigzag(value));
}

static inline void put_le(writer_t *w, uint64_t value, size_t size) {
  if (!reserve(w, size))
    return;
  uint8_t *out = w->buf->bytes + w->buf->len;
  for (size_t i = 0; i < size; i++)
    out[i] = (uint8_t)(value >> (8 * i));
  w->buf->len += size;
}

/* The wrapping difference value - base, which base + it restores exactly. */
static inline int64_t delta(int64_t value, int64_t base) {
  return to_signed((uint64_t)value - (uint64_t)base);
}

static inline void put_time(writer_t *w, int64_t t, int64_t base) {
  if (t == INT64_MIN) {
    put_u8(w, TIME_NONE);
  } else if (t == INT64_MAX) {
    put_u8(w, TIME_NEVER);
  } else {
    uint64_t code = zigzag(delta(t, base));
    if (code <= UINT64_MAX - TIME__FIRST_DELTA) {
      put_varint(w, code + TIME__FIRST_DELTA);
    } else {
      put_u8(w, TIME_WIDE);
      put_le(w, (uint64_t)t, 8);
    }
  }
}

static inline void put_string(writer_t *w, cx_str_t s) {
  put_varint(w, s.len);
  put_bytes(w, s.ptr, s.len);
}

/* A section's fields are written after a one-byte gap for its length (most
 * sections are shorter than 128 bytes); section_end puts the length there,
 * moving the fields on when it takes more bytes. Returns where the gap is. */
static size_t section_begin(writer_t *w) {
  size_t start = w->buf->len;
  put_u8(w, 0);
  return start;
}

static void section_end(writer_t *w, size_t start) {
  if (w->failed)
    return;
  size_t length = w->buf->len - start - 1;
  size_t size = varint_size(length);
  if (size > 1) {
    if (!reserve(w, size - 1))
      return;
    uint8_t *body = w->buf->bytes + start + 1;
    memmove(body + size - 1, body, length);
    w->buf->len += size - 1;
  }
  cx_state_codec_varint_put(w->buf->bytes + start, length);
}

static void write_customer(writer_t *w, const cx_customer_t *c) {
  put_string(w, cx_customer_key(c));
  put_time(w, c->last_event_ms, 0);
  put_time(w, c->first_event_ms, c->last_event_ms);
  put_varint(w, c->event_count);
  put_zigzag(w, c->consent);
  if (c->next_offset > 0) /* left out at its default, like any last field */
    put_varint(w, (uint64_t)c->next_offset);
}

static bool rule_is_default(const cx_customer_rules_t *rules, int rule) {
  return rules->quiet_until_ms[rule] == INT64_MIN && cx_customer_rules_band(rules, rule) == 0 &&
         float_bits(rules->contribution[rule]) == 0;
}

static void write_scores(writer_t *w, const cx_customer_t *c) {
  const cx_customer_rules_t *rules = cx_customer_rules(c);
  uint32_t listed = 0; /* bit rule: not at its defaults */
  for (int rule = 0; rule < CX_RULE__COUNT; rule++)
    listed |= (uint32_t)!rule_is_default(rules, rule) << rule;
  if (!listed && c->scores_at_ms == INT64_MIN &&
      rules->last_frustration_alert_ms == INT64_MIN)
    return;
  put_time(w, c->scores_at_ms, c->last_event_ms);
  put_time(w, rules->last_frustration_alert_ms, c->last_event_ms);
  put_varint(w, (uint64_t)__builtin_popcount(listed));
  for (int rule = 0; rule < CX_RULE__COUNT; rule++) {
    if (!(listed >> rule & 1))
      continue;
    put_varint(w, (uint64_t)rule);
    put_time(w, rules->quiet_until_ms[rule], c->last_event_ms);
    put_varint(w, cx_customer_rules_band(rules, rule));
    put_le(w, float_bits(rules->contribution[rule]), 4);
  }
}

static void write_interactions(writer_t *w, const cx_customer_t *c) {
  if (!cx_customer_interaction_count(c))
    return;
  put_varint(w, cx_customer_interaction_count(c));
  int64_t previous = c->last_event_ms;
  for (uint32_t i = 0; i < cx_customer_interaction_count(c); i++) {
    const cx_interaction_t *entry = &cx_customer_interactions(c)[i];
    int64_t wait_ms = cx_interaction_wait_ms(c, entry);
    int64_t handle_ms = cx_interaction_handle_ms(c, entry);
    uint8_t present = (uint8_t)((wait_ms ? INTERACTION_HAS_WAIT : 0) |
                                (handle_ms ? INTERACTION_HAS_HANDLE : 0) |
                                (entry->case_hash ? INTERACTION_HAS_CASE : 0) |
                                (entry->topic_hash ? INTERACTION_HAS_TOPIC : 0));
    put_time(w, entry->at_ms, previous);
    previous = entry->at_ms;
    put_u8(w, entry->type);
    put_u8(w, entry->channel);
    put_u8(w, entry->outcome);
    put_u8(w, entry->flags);
    put_u8(w, present);
    if (present & INTERACTION_HAS_WAIT)
      put_zigzag(w, wait_ms);
    if (present & INTERACTION_HAS_HANDLE)
      put_zigzag(w, handle_ms);
    if (present & INTERACTION_HAS_CASE)
      put_le(w, entry->case_hash, 8);
    if (present & INTERACTION_HAS_TOPIC)
      put_le(w, entry->topic_hash, 8);
    put_string(w, cx_interaction_id(c, entry));
  }
}

static void write_times(writer_t *w, const int64_t *times, uint8_t count, int64_t base) {
  if (count > CX_SIGNALS_MAX_TIMES)
    count = CX_SIGNALS_MAX_TIMES; /* never in a sound state; keeps the record readable */
  put_varint(w, count);
  for (uint8_t i = 0; i < count; i++) {
    put_time(w, times[i], base);
    base = times[i];
  }
}

static void write_signals(writer_t *w, const cx_customer_t *c) {
  const cx_signals_state_t *s = cx_customer_signals(c);
  if (!s->payment_count && !s->broken_promise_count)
    return;
  write_times(w, s->payment_ms, s->payment_count, c->last_event_ms);
  write_times(w, s->broken_promise_ms, s->broken_promise_count, c->last_event_ms);
}

static bool session_is_zero(const cx_digital_session_t *s) {
  for (int i = 0; i < CX_DIGITAL_RAGE_MAX - 1; i++)
    if (s->click_gaps_ms[i])
      return false;
  return !s->hash && !s->first_ms && !s->last_ms && !s->element_hash && !s->click_last_ms &&
         !s->failures && !s->run_clicks && !s->flags;
}

/* The day counts and which are non-zero (bit i: counts[i] != 0). */
static uint64_t day_counts(const cx_window_days_t *days, uint32_t counts[CX_WINDOW_DAYS]) {
  uint64_t mask = 0;
  for (int i = 0; i < CX_WINDOW_DAYS; i++) {
    counts[i] = cx_window_days_count(days, (size_t)i);
    mask |= (uint64_t)(counts[i] != 0) << i;
  }
  return mask;
}

static void write_kept_id(writer_t *w, const cx_case_kept_id_t *id) {
  size_t len = id->len <= CX_CASE_ID_INLINE ? id->len : CX_CASE_ID_INLINE;
  put_varint(w, len);
  put_bytes(w, id->bytes, len);
}

static void write_digital(writer_t *w, const cx_customer_t *c) {
  const cx_digital_state_t *d = cx_customer_digital(c);
  unsigned listed = 0; /* bit i: session slot i is not zero */
  for (int i = 0; i < CX_DIGITAL_SESSIONS; i++)
    listed |= (unsigned)!session_is_zero(cx_customer_session(c, i)) << i;
  uint32_t counts[CX_WINDOW_DAYS];
  uint64_t day_mask = day_counts(&d->days, counts);
  if (!listed && !day_mask && !d->days.newest_day && !d->first_day && !d->last_ms &&
      !d->check_day && !d->check_token && !d->engagement_flags && !d->last_id_len)
    return;
  put_varint(w, (uint64_t)__builtin_popcount(listed));
  for (int i = 0; i < CX_DIGITAL_SESSIONS; i++) {
    const cx_digital_session_t *s = cx_customer_session(c, i);
    if (!(listed >> i & 1))
      continue;
    uint8_t present = (uint8_t)((s->hash ? SESSION_HAS_HASH : 0) |
                                (s->element_hash ? SESSION_HAS_ELEMENT : 0));
    put_varint(w, (uint64_t)i);
    put_u8(w, present);
    if (present & SESSION_HAS_HASH)
      put_le(w, s->hash, 8);
    put_time(w, s->first_ms, c->last_event_ms);
    put_time(w, s->last_ms, c->last_event_ms);
    if (present & SESSION_HAS_ELEMENT)
      put_le(w, s->element_hash, 8);
    put_time(w, s->click_last_ms, c->last_event_ms);
    int gap_count = CX_DIGITAL_RAGE_MAX - 1;
    while (gap_count > 0 && !s->click_gaps_ms[gap_count - 1])
      gap_count--;
    put_varint(w, (uint64_t)gap_count);
    for (int g = 0; g < gap_count; g++)
      put_zigzag(w, s->click_gaps_ms[g]);
    put_varint(w, s->failures);
    put_varint(w, s->run_clicks);
    put_u8(w, s->flags);
  }
  put_zigzag(w, delta(d->days.newest_day, cx_window_day(c->last_event_ms)));
  put_varint(w, day_mask);
  for (int i = 0; i < CX_WINDOW_DAYS; i++)
    if (day_mask >> i & 1)
      put_varint(w, counts[i]);
  put_zigzag(w, delta(d->first_day, d->days.newest_day));
  put_time(w, d->last_ms, c->last_event_ms);
  put_zigzag(w, delta(d->check_day, d->days.newest_day));
  put_varint(w, d->check_token);
  put_u8(w, d->engagement_flags);
  put_varint(w, d->last_id_len);
  put_bytes(w, d->last_id, d->last_id_len);
}

static bool case_slot_is_zero(const cx_case_slot_t *s) {
  return !s->case_hash && !s->opened_ms && !s->resolved_ms && !s->generation && !s->flags &&
         !s->reopened && !s->opened_id.len;
}

static void write_cases(writer_t *w, const cx_customer_t *c) {
  unsigned listed = 0; /* bit i: case slot i is not zero */
  for (int i = 0; i < CX_CASE_SLOTS; i++)
    listed |= (unsigned)!case_slot_is_zero(cx_customer_case(c, i)) << i;
  if (!listed)
    return;
  put_varint(w, (uint64_t)__builtin_popcount(listed));
  for (int i = 0; i < CX_CASE_SLOTS; i++) {
    const cx_case_slot_t *s = cx_customer_case(c, i);
    if (!(listed >> i & 1))
      continue;
    put_varint(w, (uint64_t)i);
    put_le(w, s->case_hash, 8);
    put_time(w, s->opened_ms, c->last_event_ms);
    put_time(w, s->resolved_ms, c->last_event_ms);
    put_varint(w, s->generation);
    put_u8(w, s->flags);
    put_u8(w, s->reopened);
    write_kept_id(w, &s->opened_id);
  }
}

static void write_profile(writer_t *w, const cx_customer_t *c) {
  const cx_profile_state_t *p = cx_customer_profile(c);
  int64_t base = c->last_event_ms;
  uint64_t present = 0;
  present |= (uint64_t)(p->emitted_at_ms != 0) << PROFILE_EMITTED_AT;
  present |= (uint64_t)(p->digest != 0) << PROFILE_DIGEST;
  present |= (uint64_t)(p->sentiment_at_ms != 0) << PROFILE_SENTIMENT_AT;
  present |= (uint64_t)(p->csat_at_ms != 0) << PROFILE_CSAT_AT;
  present |= (uint64_t)(p->nps_at_ms != 0) << PROFILE_NPS_AT;
  present |= (uint64_t)(float_bits(p->frustration_score) != 0) << PROFILE_FRUSTRATION;
  present |= (uint64_t)(float_bits(p->churn_score) != 0) << PROFILE_CHURN;
  present |= (uint64_t)(float_bits(p->sentiment) != 0) << PROFILE_SENTIMENT;
  present |= (uint64_t)(p->csat != 0) << PROFILE_CSAT;
  present |= (uint64_t)(p->nps != 0) << PROFILE_NPS;
  present |= (uint64_t)(p->bands != 0) << PROFILE_BANDS;
  present |= (uint64_t)(p->flags != 0) << PROFILE_FLAGS;
  if (!present)
    return;
  put_varint(w, present);
  if (present >> PROFILE_EMITTED_AT & 1)
    put_time(w, p->emitted_at_ms, base);
  if (present >> PROFILE_DIGEST & 1)
    put_le(w, p->digest, 8);
  if (present >> PROFILE_SENTIMENT_AT & 1)
    put_time(w, p->sentiment_at_ms, base);
  if (present >> PROFILE_CSAT_AT & 1)
    put_time(w, p->csat_at_ms, base);
  if (present >> PROFILE_NPS_AT & 1)
    put_time(w, p->nps_at_ms, base);
  if (present >> PROFILE_FRUSTRATION & 1)
    put_le(w, float_bits(p->frustration_score), 4);
  if (present >> PROFILE_CHURN & 1)
    put_le(w, float_bits(p->churn_score), 4);
  if (present >> PROFILE_SENTIMENT & 1)
    put_le(w, float_bits(p->sentiment), 4);
  if (present >> PROFILE_CSAT & 1)
    put_zigzag(w, p->csat);
  if (present >> PROFILE_NPS & 1)
    put_zigzag(w, p->nps);
  if (present >> PROFILE_BANDS & 1)
    put_u8(w, p->bands);
  if (present >> PROFILE_FLAGS & 1)
    put_u8(w, p->flags);
}

int cx_state_codec_encode(const cx_customer_t *customer, cx_state_codec_buf_t *out) {
  static void (*const writers[SECTION__COUNT])(writer_t *, const cx_customer_t *) = {
      write_customer, write_scores, write_interactions, NULL,
      write_signals,  write_digital, write_cases,       write_profile};
  cx_customer_prefetch_blocks(customer); /* the sections read them one after the other */
  writer_t w = {out, false};
  size_t start_len = out->len;
  put_u8(&w, CX_STATE_CODEC_VERSION);
  put_varint(&w, SECTION__COUNT);
  for (int section = 0; section < SECTION__COUNT; section++) {
    size_t start = section_begin(&w);
    if (writers[section]) /* journey has no fields yet */
      writers[section](&w, customer);
    section_end(&w, start);
  }
  if (w.failed) {
    out->len = start_len;
    return -1;
  }
  return 0;
}

typedef struct reader_s {
  const uint8_t *at;    /* next byte */
  const uint8_t *end;   /* end of the current section (or record) */
  const char *section;  /* for messages */
  char *errstr;         /* the caller's */
  size_t errstr_size;   /* its size */
} reader_t;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static bool fail(reader_t *r, const char *format, ...) {
  if (!r->errstr || !r->errstr_size)
    return false;
  int n = snprintf(r->errstr, r->errstr_size, "state record: %s%s", r->section ? r->section : "",
                   r->section ? ": " : "");
  if (n < 0 || (size_t)n >= r->errstr_size)
    return false;
  va_list args;
  va_start(args, format);
  vsnprintf(r->errstr + n, r->errstr_size - (size_t)n, format, args);
  va_end(args);
  return false;
}

static size_t remaining(const reader_t *r) {
  return (size_t)(r->end - r->at);
}

static bool get_bytes(reader_t *r, const char *field, void *out, size_t len) {
  if (remaining(r) < len)
    return fail(r, "%s: truncated (needs %zu bytes, %zu left)", field, len, remaining(r));
  memcpy(out, r->at, len);
  r->at += len;
  return true;
}

static bool get_u8(reader_t *r, const char *field, uint8_t *out) {
  return get_bytes(r, field, out, 1);
}

static bool get_varint(reader_t *r, const char *field, uint64_t *out) {
  uint64_t value = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (r->at == r->end)
      return fail(r, "%s: truncated inside a varint", field);
    uint8_t byte = *r->at++;
    if (shift == 63 && byte > 1)
      return fail(r, "%s: varint overflows 64 bits", field);
    value |= (uint64_t)(byte & 0x7f) << shift;
    if (!(byte & 0x80)) {
      *out = value;
      return true;
    }
  }
  return fail(r, "%s: varint longer than 10 bytes", field);
}

/* An unsigned field that must not exceed max. */
static bool get_bounded(reader_t *r, const char *field, uint64_t max, uint64_t *out) {
  if (!get_varint(r, field, out))
    return false;
  if (*out > max)
    return fail(r, "%s: %llu is out of range (at most %llu)", field, (unsigned long long)*out,
                (unsigned long long)max);
  return true;
}

static bool get_zigzag(reader_t *r, const char *field, int64_t *out) {
  uint64_t value;
  if (!get_varint(r, field, &value))
    return false;
  *out = unzigzag(value);
  return true;
}

/* A signed field that must lie in [min, max]. */
static bool get_zigzag_in(reader_t *r, const char *field, int64_t min, int64_t max,
                          int64_t *out) {
  if (!get_zigzag(r, field, out))
    return false;
  if (*out < min || *out > max)
    return fail(r, "%s: %lld is out of range (%lld..%lld)", field, (long long)*out,
                (long long)min, (long long)max);
  return true;
}

static bool get_le(reader_t *r, const char *field, size_t size, uint64_t *out) {
  uint8_t bytes[8];
  if (!get_bytes(r, field, bytes, size))
    return false;
  *out = 0;
  for (size_t i = 0; i < size; i++)
    *out |= (uint64_t)bytes[i] << (8 * i);
  return true;
}

static bool get_float(reader_t *r, const char *field, float *out) {
  uint64_t bits;
  if (!get_le(r, field, 4, &bits))
    return false;
  *out = bits_float((uint32_t)bits);
  return true;
}

static bool get_time(reader_t *r, const char *field, int64_t base, int64_t *out) {
  uint64_t code;
  if (!get_varint(r, field, &code))
    return false;
  if (code == TIME_NONE) {
    *out = INT64_MIN;
  } else if (code == TIME_NEVER) {
    *out = INT64_MAX;
  } else if (code == TIME_WIDE) {
    uint64_t bits;
    if (!get_le(r, field, 8, &bits))
      return false;
    *out = to_signed(bits);
  } else {
    *out = to_signed((uint64_t)base + (uint64_t)unzigzag(code - TIME__FIRST_DELTA));
  }
  return true;
}

/* A value stored as zigzag(value - base), wrapping. */
static bool get_delta(reader_t *r, const char *field, int64_t base, int64_t *out) {
  int64_t difference;
  if (!get_zigzag(r, field, &difference))
    return false;
  *out = to_signed((uint64_t)base + (uint64_t)difference);
  return true;
}

static bool get_kept_id(reader_t *r, const char *field, cx_case_kept_id_t *id) {
  uint64_t len;
  if (!get_bounded(r, field, CX_CASE_ID_INLINE, &len))
    return false;
  id->len = (uint8_t)len;
  return get_bytes(r, field, id->bytes, id->len);
}

/* A section's fields in order; a section that ends before a field leaves it
 * and all later ones at their defaults (the caller set them). */
#define FIELD(read) \
  do { \
    if (r->at == r->end) \
      return true; \
    if (!(read)) \
      return false; \
  } while (0)

static bool read_customer(reader_t *r, cx_customer_t *c) {
  uint64_t key_len;
  int64_t consent;
  FIELD(get_bounded(r, "key_len", UINT32_MAX, &key_len));
  if (!key_len)
    return fail(r, "key_len: the customer key is empty");
  if (key_len > remaining(r))
    return fail(r, "key: truncated (needs %llu bytes, %zu left)", (unsigned long long)key_len,
                remaining(r));
  if (key_len >= CX_STATE_KEY_INLINE) {
    c->key.heap_key = malloc(key_len);
    if (!c->key.heap_key)
      return fail(r, "key: out of memory for %llu bytes", (unsigned long long)key_len);
  }
  c->key_len = (uint32_t)key_len;
  memcpy(key_len >= CX_STATE_KEY_INLINE ? c->key.heap_key : c->key.inline_key, r->at, key_len);
  r->at += key_len;
  FIELD(get_time(r, "last_event_ms", 0, &c->last_event_ms));
  FIELD(get_time(r, "first_event_ms", c->last_event_ms, &c->first_event_ms));
  FIELD(get_varint(r, "event_count", &c->event_count));
  FIELD(get_zigzag_in(r, "consent", CX_CONSENT_UNKNOWN, CX_CONSENT_WITHDRAWN, &consent));
  c->consent = (int8_t)consent;
  if (remaining(r)) { /* records written before next_offset existed end here */
    uint64_t next_offset;
    FIELD(get_bounded(r, "next_offset", INT64_MAX, &next_offset));
    c->next_offset = (int64_t)next_offset;
  }
  return true;
}

/* A decoded block, allocated at its defaults when a section has it. */
#define NEED_BLOCK(r, c, name) \
  do { \
    if (!cx_customer_##name##_mut(c)) \
      return fail(r, "out of memory"); \
  } while (0)

static bool read_scores(reader_t *r, cx_customer_t *c) {
  uint64_t rule_count;
  int64_t last_frustration_alert_ms;
  FIELD(get_time(r, "scores_at_ms", c->last_event_ms, &c->scores_at_ms));
  FIELD(get_time(r, "last_frustration_alert_ms", c->last_event_ms,
                 &last_frustration_alert_ms));
  if (last_frustration_alert_ms != INT64_MIN) {
    NEED_BLOCK(r, c, rules);
    c->rules->last_frustration_alert_ms = last_frustration_alert_ms;
  }
  FIELD(get_varint(r, "rule_count", &rule_count));
  if (rule_count > remaining(r))
    return fail(r, "rule_count: %llu rules cannot fit in the %zu bytes left",
                (unsigned long long)rule_count, remaining(r));
  int previous = -1;
  for (uint64_t i = 0; i < rule_count; i++) {
    uint64_t rule, band;
    int64_t quiet_until;
    float contribution;
    if (!get_bounded(r, "rule", UINT8_MAX, &rule))
      return false;
    if ((int)rule <= previous)
      return fail(r, "rule: %llu listed twice or out of order", (unsigned long long)rule);
    previous = (int)rule;
    if (!get_time(r, "quiet_until_ms", c->last_event_ms, &quiet_until) ||
        !get_bounded(r, "alerted_band", CX_SEVERITY_CRITICAL, &band) ||
        !get_float(r, "contribution", &contribution))
      return false;
    if (rule >= CX_RULE__COUNT)
      continue; /* a newer build's rule: not run here */
    NEED_BLOCK(r, c, rules);
    c->rules->quiet_until_ms[rule] = quiet_until;
    cx_customer_rules_set_band(c->rules, (int)rule, (cx_severity_t)band);
    c->rules->contribution[rule] = contribution;
  }
  return true;
}

static bool read_interaction(reader_t *r, int64_t base, cx_interaction_fields_t *entry,
                             cx_str_t *id) {
  uint8_t present = 0;
  uint64_t id_len;
  memset(entry, 0, sizeof(*entry));
  if (!get_time(r, "at_ms", base, &entry->at_ms) ||
      !get_u8(r, "type", &entry->type) || !get_u8(r, "channel", &entry->channel) ||
      !get_u8(r, "outcome", &entry->outcome) || !get_u8(r, "flags", &entry->flags) ||
      !get_u8(r, "present", &present))
    return false;
  if (entry->type >= CX_EVENT_TYPE__COUNT)
    return fail(r, "type: %u is not an event type", entry->type);
  if (entry->channel >= CX_CHANNEL__COUNT)
    return fail(r, "channel: %u is not a channel", entry->channel);
  if (entry->outcome >= CX_OUTCOME__COUNT)
    return fail(r, "outcome: %u is not an outcome", entry->outcome);
  if (entry->flags & ~CX_INTERACTION_FLAGS)
    return fail(r, "flags: %u has bits no interaction has", entry->flags);
  if (((present & INTERACTION_HAS_WAIT) && !get_zigzag(r, "wait_ms", &entry->wait_ms)) ||
      ((present & INTERACTION_HAS_HANDLE) && !get_zigzag(r, "handle_ms", &entry->handle_ms)) ||
      ((present & INTERACTION_HAS_CASE) && !get_le(r, "case_hash", 8, &entry->case_hash)) ||
      ((present & INTERACTION_HAS_TOPIC) && !get_le(r, "topic_hash", 8, &entry->topic_hash)))
    return false;
  if (!get_bounded(r, "id_len", UINT16_MAX, &id_len))
    return false;
  if (id_len > remaining(r))
    return fail(r, "id: truncated (needs %llu bytes, %zu left)", (unsigned long long)id_len,
                remaining(r));
  id->ptr = (const char *)r->at;
  id->len = (size_t)id_len;
  r->at += id_len;
  return true;
}

static bool read_interactions(reader_t *r, cx_customer_t *c) {
  uint64_t count;
  FIELD(get_varint(r, "count", &count));
  if (count > remaining(r) / INTERACTION_MIN_BYTES || count > UINT32_MAX)
    return fail(r, "count: %llu entries cannot fit in the %zu bytes left",
                (unsigned long long)count, remaining(r));
  if (!count)
    return true;
  if (cx_customer_reserve_interactions(c, (uint32_t)count))
    return fail(r, "count: out of memory for %llu entries", (unsigned long long)count);
  int64_t previous = c->last_event_ms; /* the first entry's base */
  for (uint32_t i = 0; i < count; i++) {
    cx_interaction_fields_t entry;
    cx_str_t id;
    if (!read_interaction(r, previous, &entry, &id))
      return false;
    if (i && entry.at_ms < previous)
      return fail(r, "at_ms: entry %u (%lld) is before entry %u (%lld): the log must be in time "
                  "order", i, (long long)entry.at_ms, i - 1, (long long)previous);
    /* In time order, so it goes at the end; nothing is dropped. */
    if (cx_customer_insert_interaction(c, &entry, id) < 0)
      return fail(r, "id: out of memory for %zu bytes", id.len);
    previous = entry.at_ms;
  }
  return true;
}

static bool read_times(reader_t *r, const char *count_field, const char *field, int64_t base,
                       int64_t *times, uint8_t *count) {
  uint64_t n;
  if (!get_bounded(r, count_field, CX_SIGNALS_MAX_TIMES, &n))
    return false;
  for (uint8_t i = 0; i < n; i++) {
    if (!get_time(r, field, base, &times[i]))
      return false;
    if (i && times[i] < times[i - 1])
      return fail(r, "%s: not in time order", field);
    base = times[i];
  }
  *count = (uint8_t)n;
  return true;
}

static bool read_signals(reader_t *r, cx_customer_t *c) {
  if (!remaining(r))
    return true;
  NEED_BLOCK(r, c, signals);
  cx_signals_state_t *s = c->signals;
  FIELD(read_times(r, "payment_count", "payment_ms", c->last_event_ms, s->payment_ms,
                   &s->payment_count));
  FIELD(read_times(r, "broken_promise_count", "broken_promise_ms", c->last_event_ms,
                   s->broken_promise_ms, &s->broken_promise_count));
  return true;
}

static bool read_session(reader_t *r, int64_t base, cx_digital_session_t *s) {
  uint8_t present = 0;
  uint64_t gap_count, failures, run_clicks;
  if (!get_u8(r, "session.present", &present) ||
      ((present & SESSION_HAS_HASH) && !get_le(r, "session.hash", 8, &s->hash)) ||
      !get_time(r, "session.first_ms", base, &s->first_ms) ||
      !get_time(r, "session.last_ms", base, &s->last_ms) ||
      ((present & SESSION_HAS_ELEMENT) &&
       !get_le(r, "session.element_hash", 8, &s->element_hash)) ||
      !get_time(r, "session.click_last_ms", base, &s->click_last_ms) ||
      !get_bounded(r, "session.gap_count", CX_DIGITAL_RAGE_MAX - 1, &gap_count))
    return false;
  for (uint64_t g = 0; g < gap_count; g++) {
    int64_t gap;
    if (!get_zigzag_in(r, "session.click_gaps_ms", INT32_MIN, INT32_MAX, &gap))
      return false;
    s->click_gaps_ms[g] = (int32_t)gap;
  }
  if (!get_bounded(r, "session.failures", UINT16_MAX, &failures) ||
      !get_bounded(r, "session.run_clicks", UINT16_MAX, &run_clicks) ||
      !get_u8(r, "session.flags", &s->flags))
    return false;
  s->failures = (uint16_t)failures;
  s->run_clicks = (uint16_t)run_clicks;
  return true;
}

static bool read_digital(reader_t *r, cx_customer_t *c) {
  uint64_t session_count, day_mask, check_token;
  FIELD(get_bounded(r, "session_count", CX_DIGITAL_SESSIONS, &session_count));
  int64_t previous = -1;
  for (uint64_t i = 0; i < session_count; i++) {
    uint64_t slot;
    if (!get_varint(r, "session.slot", &slot))
      return false;
    if (slot >= CX_DIGITAL_SESSIONS || (int64_t)slot <= previous)
      return fail(r, "session.slot: %llu is out of range or out of order",
                  (unsigned long long)slot);
    previous = (int64_t)slot;
    if (!cx_customer_sessions_mut(c, (int)slot + 1))
      return fail(r, "out of memory");
    if (!read_session(r, c->last_event_ms, &c->sessions[slot]))
      return false;
  }
  if (!remaining(r))
    return true;
  NEED_BLOCK(r, c, digital);
  cx_digital_state_t *d = c->digital;
  FIELD(get_delta(r, "days.newest_day", cx_window_day(c->last_event_ms), &d->days.newest_day));
  FIELD(get_bounded(r, "days.mask", ((uint64_t)1 << CX_WINDOW_DAYS) - 1, &day_mask));
  for (int i = 0; i < CX_WINDOW_DAYS; i++) {
    uint64_t count;
    if (!(day_mask >> i & 1))
      continue;
    if (!get_bounded(r, "days.counts", UINT16_MAX, &count))
      return false;
    if (cx_window_days_set(&d->days, (size_t)i, (uint32_t)count))
      return fail(r, "days.counts: out of memory");
  }
  FIELD(get_delta(r, "first_day", d->days.newest_day, &d->first_day));
  FIELD(get_time(r, "last_ms", c->last_event_ms, &d->last_ms));
  FIELD(get_delta(r, "check_day", d->days.newest_day, &d->check_day));
  FIELD(get_bounded(r, "check_token", UINT32_MAX, &check_token));
  d->check_token = (uint32_t)check_token;
  FIELD(get_u8(r, "engagement_flags", &d->engagement_flags));
  cx_case_kept_id_t last_id;
  FIELD(get_kept_id(r, "last_id", &last_id));
  if (!(d = cx_customer_digital_mut_room(c, last_id.len)))
    return fail(r, "out of memory");
  memcpy(d->last_id, last_id.bytes, last_id.len);
  d->last_id_len = last_id.len;
  return true;
}

static bool read_cases(reader_t *r, cx_customer_t *c) {
  uint64_t slot_count;
  if (!remaining(r))
    return true;
  FIELD(get_bounded(r, "slot_count", CX_CASE_SLOTS, &slot_count));
  int64_t previous = -1;
  for (uint64_t i = 0; i < slot_count; i++) {
    uint64_t slot, generation;
    if (!get_varint(r, "slot", &slot))
      return false;
    if (slot >= CX_CASE_SLOTS || (int64_t)slot <= previous)
      return fail(r, "slot: %llu is out of range or out of order", (unsigned long long)slot);
    previous = (int64_t)slot;
    if (!cx_customer_cases_mut(c, (int)slot + 1))
      return fail(r, "out of memory");
    cx_case_slot_t *s = &c->cases[slot];
    if (!get_le(r, "case_hash", 8, &s->case_hash) ||
        !get_time(r, "opened_ms", c->last_event_ms, &s->opened_ms) ||
        !get_time(r, "resolved_ms", c->last_event_ms, &s->resolved_ms) ||
        !get_bounded(r, "generation", UINT32_MAX, &generation) ||
        !get_u8(r, "flags", &s->flags) || !get_u8(r, "reopened", &s->reopened) ||
        !get_kept_id(r, "opened_id", &s->opened_id))
      return false;
    s->generation = (uint32_t)generation;
  }
  return true;
}

static bool read_profile(reader_t *r, cx_customer_t *c) {
  if (!remaining(r))
    return true;
  NEED_BLOCK(r, c, profile);
  cx_profile_state_t *p = c->profile;
  int64_t base = c->last_event_ms, csat = 0, nps = 0;
  uint64_t present;
  FIELD(get_varint(r, "present", &present));
  if (((present >> PROFILE_EMITTED_AT & 1) &&
       !get_time(r, "emitted_at_ms", base, &p->emitted_at_ms)) ||
      ((present >> PROFILE_DIGEST & 1) && !get_le(r, "digest", 8, &p->digest)) ||
      ((present >> PROFILE_SENTIMENT_AT & 1) &&
       !get_time(r, "sentiment_at_ms", base, &p->sentiment_at_ms)) ||
      ((present >> PROFILE_CSAT_AT & 1) && !get_time(r, "csat_at_ms", base, &p->csat_at_ms)) ||
      ((present >> PROFILE_NPS_AT & 1) && !get_time(r, "nps_at_ms", base, &p->nps_at_ms)) ||
      ((present >> PROFILE_FRUSTRATION & 1) &&
       !get_float(r, "frustration_score", &p->frustration_score)) ||
      ((present >> PROFILE_CHURN & 1) && !get_float(r, "churn_score", &p->churn_score)) ||
      ((present >> PROFILE_SENTIMENT & 1) && !get_float(r, "sentiment", &p->sentiment)) ||
      ((present >> PROFILE_CSAT & 1) && !get_zigzag_in(r, "csat", INT8_MIN, INT8_MAX, &csat)) ||
      ((present >> PROFILE_NPS & 1) && !get_zigzag_in(r, "nps", INT8_MIN, INT8_MAX, &nps)) ||
      ((present >> PROFILE_BANDS & 1) && !get_u8(r, "bands", &p->bands)) ||
      ((present >> PROFILE_FLAGS & 1) && !get_u8(r, "flags", &p->flags)))
    return false;
  p->csat = (int8_t)csat;
  p->nps = (int8_t)nps;
  return true;
}

#undef NEED_BLOCK
#undef FIELD

int cx_state_codec_decode(const uint8_t *bytes, size_t len, cx_customer_t *customer,
                          char *errstr, size_t errstr_size) {
  static bool (*const readers[SECTION__COUNT])(reader_t *, cx_customer_t *) = {
      read_customer, read_scores, read_interactions, NULL,
      read_signals,  read_digital, read_cases,       read_profile};
  reader_t r = {bytes, len ? bytes + len : bytes, NULL, errstr, errstr_size};
  uint8_t version;
  uint64_t section_count;
  memset(customer, 0, sizeof(*customer));
  customer->first_event_ms = INT64_MIN;
  customer->last_event_ms = INT64_MIN;
  customer->scores_at_ms = INT64_MIN;
  if (!len) {
    fail(&r, "empty: expected a version byte");
    goto err;
  }
  if (!get_u8(&r, "version", &version))
    goto err;
  if (version != CX_STATE_CODEC_VERSION) {
    fail(&r, "version %u is not supported: this build reads version %d (written by a %s build?)",
         version, CX_STATE_CODEC_VERSION,
         version > CX_STATE_CODEC_VERSION ? "newer" : "broken or foreign");
    goto err;
  }
  if (!get_varint(&r, "section_count", &section_count))
    goto err;
  for (uint64_t section = 0; section < section_count; section++) {
    uint64_t length;
    r.section = section < SECTION__COUNT ? section_names[section] : "unknown section";
    if (!get_varint(&r, "length", &length))
      goto err;
    if (length > remaining(&r)) {
      fail(&r, "length: %llu bytes, but only %zu are left: the record is truncated",
           (unsigned long long)length, remaining(&r));
      goto err;
    }
    const uint8_t *record_end = r.end;
    r.end = r.at + length;
    if (section < SECTION__COUNT && readers[section] && !readers[section](&r, customer))
      goto err;
    r.at = r.end; /* fields of a newer writer: skipped */
    r.end = record_end;
  }
  r.section = NULL;
  if (r.at != r.end) {
    fail(&r, "%zu trailing bytes after the last section", remaining(&r));
    goto err;
  }
  if (!customer->key_len) {
    fail(&r, "no customer key: the customer section is missing or empty");
    goto err;
  }
  return 0;
err:
  cx_customer_release(customer);
  return -1;
}

int cx_state_codec_peek(const uint8_t *bytes, size_t len, cx_str_t *key,
                        int64_t *last_event_ms) {
  reader_t r = {bytes, bytes + len, NULL, NULL, 0};
  uint8_t version;
  uint64_t section_count, length, key_len;
  if (!len || !get_u8(&r, "version", &version) || version != CX_STATE_CODEC_VERSION ||
      !get_varint(&r, "section_count", &section_count) || !section_count ||
      !get_varint(&r, "length", &length) || length > remaining(&r))
    return -1;
  r.end = r.at + length;
  if (!get_varint(&r, "key_len", &key_len) || !key_len || key_len > remaining(&r))
    return -1;
  key->ptr = (const char *)r.at;
  key->len = (size_t)key_len;
  r.at += key_len;
  *last_event_ms = INT64_MIN;
  if (r.at != r.end && !get_time(&r, "last_event_ms", 0, last_event_ms))
    return -1;
  return 0;
}
