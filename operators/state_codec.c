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

/* Fields are written in place through a cursor: a writer reserves room for
 * the worst case of a field, an interaction or a section's tail once
 * (open_at), writes the fields with the raw_* helpers, which check nothing,
 * and sets the length past them (close_at). */
#define VARINT_MAX 10 /* bytes of the longest varint */
#define TIME_MAX 10   /* of the longest time: a varint code, or TIME_WIDE and le64 (9) */

/* Where room for bound more bytes starts, or NULL when out of memory (the
 * writer has failed: nothing more is written). */
static inline uint8_t *open_at(writer_t *w, size_t bound) {
  if (!reserve(w, bound))
    return NULL;
  return w->buf->bytes + w->buf->len;
}

/* Keeps the bytes written up to at (from open_at's pointer). */
static inline void close_at(writer_t *w, const uint8_t *at) {
  w->buf->len = (size_t)(at - w->buf->bytes);
}

/* A varint: one byte, one branch, for the small values most fields hold. */
static inline uint8_t *raw_varint(uint8_t *at, uint64_t value) {
  if (value < 0x80) {
    *at = (uint8_t)value;
    return at + 1;
  }
  return at + cx_state_codec_varint_put(at, value);
}

/* One store on a little-endian host (GCC does not merge the byte loop). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_IS_LE 1
#else
#define HOST_IS_LE 0
#endif

/* The low `bytes` bytes of value, little-endian (bytes is a constant at
 * every call, so the copy is one store). */
static inline uint8_t *raw_le(uint8_t *at, uint64_t value, size_t bytes) {
  if (HOST_IS_LE) {
    memcpy(at, &value, bytes);
  } else {
    for (size_t i = 0; i < bytes; i++)
      at[i] = (uint8_t)(value >> (8 * i));
  }
  return at + bytes;
}

static inline uint8_t *raw_le32(uint8_t *at, uint32_t value) {
  return raw_le(at, value, 4);
}

static inline uint8_t *raw_le64(uint8_t *at, uint64_t value) {
  return raw_le(at, value, 8);
}

/* The wrapping difference value - base, which base + it restores exactly. */
static inline int64_t delta(int64_t value, int64_t base) {
  return to_signed((uint64_t)value - (uint64_t)base);
}

/* At most TIME_MAX bytes. */
static inline uint8_t *raw_time(uint8_t *at, int64_t t, int64_t base) {
  if (t == INT64_MIN) {
    *at = TIME_NONE;
    return at + 1;
  }
  if (t == INT64_MAX) {
    *at = TIME_NEVER;
    return at + 1;
  }
  uint64_t code = zigzag(delta(t, base));
  if (code <= UINT64_MAX - TIME__FIRST_DELTA)
    return raw_varint(at, code + TIME__FIRST_DELTA);
  *at = TIME_WIDE;
  return raw_le64(at + 1, (uint64_t)t);
}

/* len bytes; ids are short, so those of 8 to 32 bytes are copied in two or
 * four 8-byte moves (overlapping) instead of a call. */
static inline uint8_t *raw_bytes(uint8_t *at, const void *bytes, size_t len) {
  const uint8_t *from = bytes;
  uint64_t a, b, c, d;
  if (len >= 8 && len <= 16) {
    memcpy(&a, from, 8);
    memcpy(&b, from + len - 8, 8);
    memcpy(at, &a, 8);
    memcpy(at + len - 8, &b, 8);
  } else if (len > 16 && len <= 32) {
    memcpy(&a, from, 8);
    memcpy(&b, from + 8, 8);
    memcpy(&c, from + len - 16, 8);
    memcpy(&d, from + len - 8, 8);
    memcpy(at, &a, 8);
    memcpy(at + 8, &b, 8);
    memcpy(at + len - 16, &c, 8);
    memcpy(at + len - 8, &d, 8);
  } else if (len) {
    memcpy(at, from, len);
  }
  return at + len;
}

/* A string: its length (a varint) and its bytes. */
static inline uint8_t *raw_string(uint8_t *at, const void *bytes, size_t len) {
  return raw_bytes(raw_varint(at, len), bytes, len);
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

/* A section's fields are written after a gap for its length: as many bytes
 * as the least length the section can have takes (one for most sections,
 * shorter than 128 bytes; more for a long interaction log, whose count
 * bounds its length from below); section_end puts the length there, moving
 * the fields on when it takes more bytes. Returns where the gap is. */
static size_t section_begin(writer_t *w, size_t gap) {
  size_t start = w->buf->len;
  if (reserve(w, gap))
    w->buf->len += gap;
  return start;
}

static void section_end(writer_t *w, size_t start, size_t gap) {
  if (w->failed)
    return;
  size_t length = w->buf->len - start - gap;
  size_t size = varint_size(length);
  if (size != gap) { /* larger: gap is the size of a lower bound */
    if (size > gap && !reserve(w, size - gap))
      return;
    uint8_t *body = w->buf->bytes + start + gap;
    memmove(body + size - gap, body, length);
    w->buf->len = start + size + length;
  }
  cx_state_codec_varint_put(w->buf->bytes + start, length);
}

static void write_customer(writer_t *w, const cx_customer_t *c) {
  cx_str_t key = cx_customer_key(c);
  uint8_t *at = open_at(w, VARINT_MAX + key.len + 2 * TIME_MAX + 3 * VARINT_MAX);
  if (!at)
    return;
  at = raw_string(at, key.ptr, key.len);
  at = raw_time(at, c->last_event_ms, 0);
  at = raw_time(at, c->first_event_ms, c->last_event_ms);
  at = raw_varint(at, c->event_count);
  at = raw_varint(at, zigzag(c->consent));
  if (c->next_offset > 0) /* left out at its default, like any last field */
    at = raw_varint(at, (uint64_t)c->next_offset);
  close_at(w, at);
}

static bool rule_is_default(const cx_customer_rules_t *rules, int rule) {
  return rules->quiet_until_ms[rule] == INT64_MIN && cx_customer_rules_band(rules, rule) == 0 &&
         float_bits(rules->contribution[rule]) == 0;
}

/* rule, quiet_until_ms, alerted_band, contribution. */
#define RULE_MAX_BYTES (VARINT_MAX + TIME_MAX + VARINT_MAX + 4)

static void write_scores(writer_t *w, const cx_customer_t *c) {
  if (!c->rules && c->scores_at_ms == INT64_MIN)
    return; /* every field at its default */
  const cx_customer_rules_t *rules = cx_customer_rules(c);
  uint32_t listed = 0; /* bit rule: not at its defaults */
  for (int rule = 0; rule < CX_RULE__COUNT; rule++)
    listed |= (uint32_t)!rule_is_default(rules, rule) << rule;
  if (!listed && c->scores_at_ms == INT64_MIN &&
      rules->last_frustration_alert_ms == INT64_MIN)
    return;
  int count = __builtin_popcount(listed);
  uint8_t *at = open_at(w, 2 * TIME_MAX + VARINT_MAX);
  if (!at)
    return;
  at = raw_time(at, c->scores_at_ms, c->last_event_ms);
  at = raw_time(at, rules->last_frustration_alert_ms, c->last_event_ms);
  close_at(w, raw_varint(at, (uint64_t)count));
  for (uint32_t left = listed; left; left &= left - 1) {
    int rule = __builtin_ctz(left);
    if (!(at = open_at(w, RULE_MAX_BYTES)))
      return;
    at = raw_varint(at, (uint64_t)rule);
    at = raw_time(at, rules->quiet_until_ms[rule], c->last_event_ms);
    at = raw_varint(at, cx_customer_rules_band(rules, rule));
    at = raw_le32(at, float_bits(rules->contribution[rule]));
    close_at(w, at);
  }
}

/* An interaction but its id: at_ms, type, channel, outcome, flags, present,
 * wait_ms, handle_ms, case_hash, topic_hash, id_len (<= UINT16_MAX: 3 bytes). */
#define INTERACTION_MAX_BYTES (TIME_MAX + 5 + 2 * VARINT_MAX + 16 + 3)

static void write_interactions(writer_t *w, const cx_customer_t *c) {
  const cx_interaction_log_t *log = c->log;
  if (!log || !log->count)
    return;
  uint32_t count = log->count;
  const char *area = cx_customer_interaction_bytes(c);
  uint8_t *at = open_at(w, VARINT_MAX);
  if (!at)
    return;
  close_at(w, raw_varint(at, count));
  int64_t previous = c->last_event_ms;
  for (uint32_t i = 0; i < count; i++) {
    const cx_interaction_t *entry = &log->entries[i];
    int64_t wait_ms = entry->wait_ms, handle_ms = entry->handle_ms;
    const char *id = area + entry->bytes_offset;
    if (__builtin_expect(entry->wide != 0, 0)) { /* exact times in the byte area */
      wait_ms = cx_interaction_wait_ms(c, entry);
      handle_ms = cx_interaction_handle_ms(c, entry);
      id = cx_interaction_id(c, entry).ptr;
    }
    size_t id_len = entry->id_len;
    if (!(at = open_at(w, INTERACTION_MAX_BYTES + id_len)))
      return;
    uint8_t present = (uint8_t)((wait_ms ? INTERACTION_HAS_WAIT : 0) |
                                (handle_ms ? INTERACTION_HAS_HANDLE : 0) |
                                (entry->case_hash ? INTERACTION_HAS_CASE : 0) |
                                (entry->topic_hash ? INTERACTION_HAS_TOPIC : 0));
    at = raw_time(at, entry->at_ms, previous);
    previous = entry->at_ms;
    at[0] = (uint8_t)entry->type;
    at[1] = (uint8_t)entry->channel;
    at[2] = (uint8_t)entry->outcome;
    at[3] = (uint8_t)entry->flags;
    at[4] = present;
    at += 5;
    if (present) {
      if (present & INTERACTION_HAS_WAIT)
        at = raw_varint(at, zigzag(wait_ms));
      if (present & INTERACTION_HAS_HANDLE)
        at = raw_varint(at, zigzag(handle_ms));
      if (present & INTERACTION_HAS_CASE)
        at = raw_le64(at, entry->case_hash);
      if (present & INTERACTION_HAS_TOPIC)
        at = raw_le64(at, entry->topic_hash);
    }
    at = raw_string(at, id, id_len);
    close_at(w, at);
  }
}

static uint8_t *raw_times(uint8_t *at, const int64_t *times, uint8_t count, int64_t base) {
  at = raw_varint(at, count);
  for (uint8_t i = 0; i < count; i++) {
    at = raw_time(at, times[i], base);
    base = times[i];
  }
  return at;
}

static void write_signals(writer_t *w, const cx_customer_t *c) {
  const cx_signals_state_t *s = c->signals;
  if (!s || (!s->payment_count && !s->broken_promise_count))
    return;
  /* more than CX_SIGNALS_MAX_TIMES: never in a sound state; kept readable */
  uint8_t payments = s->payment_count <= CX_SIGNALS_MAX_TIMES ? s->payment_count
                                                               : CX_SIGNALS_MAX_TIMES;
  uint8_t broken = s->broken_promise_count <= CX_SIGNALS_MAX_TIMES ? s->broken_promise_count
                                                                    : CX_SIGNALS_MAX_TIMES;
  uint8_t *at = open_at(w, 2 * VARINT_MAX + ((size_t)payments + broken) * TIME_MAX);
  if (!at)
    return;
  at = raw_times(at, s->payment_ms, payments, c->last_event_ms);
  at = raw_times(at, s->broken_promise_ms, broken, c->last_event_ms);
  close_at(w, at);
}

static bool session_is_zero(const cx_digital_session_t *s) {
  for (int i = 0; i < CX_DIGITAL_RAGE_MAX - 1; i++)
    if (s->click_gaps_ms[i])
      return false;
  return !s->hash && !s->first_ms && !s->last_ms && !s->element_hash && !s->click_last_ms &&
         !s->failures && !s->run_clicks && !s->flags;
}

/* Which day counts are non-zero (bit i: counts[i] != 0), 8 days at a time
 * (most are zero), and day i's count, read as cx_window_days_count does. */
static uint64_t day_mask_of(const cx_window_days_t *days) {
  _Static_assert(CX_WINDOW_DAYS % 8 == 0, "the days are read 8 at a time");
  const uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL;
  uint64_t mask = 0;
  for (int word = 0; word < CX_WINDOW_DAYS; word += 8) {
    uint64_t bytes, high = 0;
    memcpy(&bytes, days->low + word, 8);
    if (days->high)
      memcpy(&high, days->high + word, 8);
    bytes |= high;
    if (!bytes)
      continue;
    /* bit 7 of each byte: that byte is non-zero; then byte i's bit to bit
     * 56 + i (the products' bits do not overlap, so nothing carries) */
    uint64_t nonzero = (((bytes & low7) + low7) | bytes) & ~low7;
    uint64_t bits = ((nonzero >> 7) * 0x0102040810204080ULL) >> 56;
    if (!HOST_IS_LE) { /* byte i of the load was day word + 7 - i */
      uint64_t reversed = 0;
      for (int i = 0; i < 8; i++)
        reversed |= (bits >> i & 1) << (7 - i);
      bits = reversed;
    }
    mask |= bits << word;
  }
  return mask;
}

static inline uint32_t day_count(const cx_window_days_t *days, int i) {
  return days->low[i] | (days->high ? (uint32_t)days->high[i] << 8 : 0);
}

/* A session: slot, present, hash, first_ms, last_ms, element_hash,
 * click_last_ms, gap_count, its gaps (int32: 5 bytes), failures, run_clicks,
 * flags. */
#define SESSION_MAX_BYTES \
  (VARINT_MAX + 1 + 8 + 3 * TIME_MAX + 8 + VARINT_MAX + (CX_DIGITAL_RAGE_MAX - 1) * 5 + \
   2 * VARINT_MAX + 1)

static uint8_t *raw_session(uint8_t *at, int slot, const cx_digital_session_t *s, int64_t base) {
  uint8_t present = (uint8_t)((s->hash ? SESSION_HAS_HASH : 0) |
                              (s->element_hash ? SESSION_HAS_ELEMENT : 0));
  at = raw_varint(at, (uint64_t)slot);
  *at++ = present;
  if (present & SESSION_HAS_HASH)
    at = raw_le64(at, s->hash);
  at = raw_time(at, s->first_ms, base);
  at = raw_time(at, s->last_ms, base);
  if (present & SESSION_HAS_ELEMENT)
    at = raw_le64(at, s->element_hash);
  at = raw_time(at, s->click_last_ms, base);
  int gap_count = CX_DIGITAL_RAGE_MAX - 1;
  while (gap_count > 0 && !s->click_gaps_ms[gap_count - 1])
    gap_count--;
  at = raw_varint(at, (uint64_t)gap_count);
  for (int g = 0; g < gap_count; g++)
    at = raw_varint(at, zigzag(s->click_gaps_ms[g]));
  at = raw_varint(at, s->failures);
  at = raw_varint(at, s->run_clicks);
  *at++ = s->flags;
  return at;
}

/* The digital section after its sessions, but the day counts (3 bytes each)
 * and last_id's bytes: newest_day, day_mask, first_day, last_ms, check_day,
 * check_token, engagement_flags, last_id's length. Reserved with what
 * follows, not for the worst case, so that a small record's buffer (the
 * compaction scratch, counted in the state's bytes) stays small. */
#define DIGITAL_TAIL_MAX_BYTES (3 * VARINT_MAX + TIME_MAX + 2 * VARINT_MAX + 1 + VARINT_MAX)

/* The count of the slots listed (a bit each in listed), which come next;
 * false when out of memory. */
static bool write_listed_count(writer_t *w, unsigned listed) {
  uint8_t *at = open_at(w, VARINT_MAX);
  if (!at)
    return false;
  close_at(w, raw_varint(at, (uint64_t)__builtin_popcount(listed)));
  return true;
}

static void write_digital(writer_t *w, const cx_customer_t *c) {
  if (!c->digital && !c->session_slots)
    return; /* every field at its default */
  const cx_digital_state_t *d = cx_customer_digital(c);
  unsigned listed = 0; /* bit i: session slot i is not zero (slots past session_slots are) */
  for (int i = 0; i < c->session_slots && i < CX_DIGITAL_SESSIONS; i++)
    listed |= (unsigned)!session_is_zero(&c->sessions[i]) << i;
  uint64_t day_mask = day_mask_of(&d->days);
  if (!listed && !day_mask && !d->days.newest_day && !d->first_day && !d->last_ms &&
      !d->check_day && !d->check_token && !d->engagement_flags && !d->last_id_len)
    return;
  uint8_t *at;
  if (!write_listed_count(w, listed))
    return;
  for (unsigned left = listed; left; left &= left - 1) {
    int i = __builtin_ctz(left);
    if (!(at = open_at(w, SESSION_MAX_BYTES)))
      return;
    close_at(w, raw_session(at, i, &c->sessions[i], c->last_event_ms));
  }
  if (!(at = open_at(w, DIGITAL_TAIL_MAX_BYTES + (size_t)__builtin_popcountll(day_mask) * 3 +
                            d->last_id_len)))
    return;
  at = raw_varint(at, zigzag(delta(d->days.newest_day, cx_window_day(c->last_event_ms))));
  at = raw_varint(at, day_mask);
  for (uint64_t left = day_mask; left; left &= left - 1)
    at = raw_varint(at, day_count(&d->days, __builtin_ctzll(left)));
  at = raw_varint(at, zigzag(delta(d->first_day, d->days.newest_day)));
  at = raw_time(at, d->last_ms, c->last_event_ms);
  at = raw_varint(at, zigzag(delta(d->check_day, d->days.newest_day)));
  at = raw_varint(at, d->check_token);
  *at++ = d->engagement_flags;
  at = raw_string(at, d->last_id, d->last_id_len);
  close_at(w, at);
}

static bool case_slot_is_zero(const cx_case_slot_t *s) {
  return !s->case_hash && !s->opened_ms && !s->resolved_ms && !s->generation && !s->flags &&
         !s->reopened && !s->opened_id.len;
}

/* A case slot but opened_id's bytes: slot, case_hash, opened_ms, resolved_ms,
 * generation, flags, reopened, opened_id's length. */
#define CASE_MAX_BYTES (VARINT_MAX + 8 + 2 * TIME_MAX + VARINT_MAX + 2 + VARINT_MAX)

static void write_cases(writer_t *w, const cx_customer_t *c) {
  unsigned listed = 0; /* bit i: case slot i is not zero (slots past case_slots are) */
  for (int i = 0; i < c->case_slots && i < CX_CASE_SLOTS; i++)
    listed |= (unsigned)!case_slot_is_zero(&c->cases[i]) << i;
  if (!listed)
    return;
  uint8_t *at;
  if (!write_listed_count(w, listed))
    return;
  for (unsigned left = listed; left; left &= left - 1) {
    int i = __builtin_ctz(left);
    const cx_case_slot_t *s = &c->cases[i];
    size_t len = s->opened_id.len <= CX_CASE_ID_INLINE ? s->opened_id.len : CX_CASE_ID_INLINE;
    if (!(at = open_at(w, CASE_MAX_BYTES + len)))
      return;
    at = raw_varint(at, (uint64_t)i);
    at = raw_le64(at, s->case_hash);
    at = raw_time(at, s->opened_ms, c->last_event_ms);
    at = raw_time(at, s->resolved_ms, c->last_event_ms);
    at = raw_varint(at, s->generation);
    *at++ = s->flags;
    *at++ = s->reopened;
    at = raw_string(at, s->opened_id.bytes, len);
    close_at(w, at);
  }
}

/* present, 4 times, digest, 3 floats, csat, nps, bands, flags. */
#define PROFILE_MAX_BYTES (VARINT_MAX + 4 * TIME_MAX + 8 + 3 * 4 + 2 * VARINT_MAX + 2)

static void write_profile(writer_t *w, const cx_customer_t *c) {
  const cx_profile_state_t *p = c->profile;
  if (!p)
    return; /* every field at its default */
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
  uint8_t *at = open_at(w, PROFILE_MAX_BYTES);
  if (!at)
    return;
  at = raw_varint(at, present);
  if (present >> PROFILE_EMITTED_AT & 1)
    at = raw_time(at, p->emitted_at_ms, base);
  if (present >> PROFILE_DIGEST & 1)
    at = raw_le64(at, p->digest);
  if (present >> PROFILE_SENTIMENT_AT & 1)
    at = raw_time(at, p->sentiment_at_ms, base);
  if (present >> PROFILE_CSAT_AT & 1)
    at = raw_time(at, p->csat_at_ms, base);
  if (present >> PROFILE_NPS_AT & 1)
    at = raw_time(at, p->nps_at_ms, base);
  if (present >> PROFILE_FRUSTRATION & 1)
    at = raw_le32(at, float_bits(p->frustration_score));
  if (present >> PROFILE_CHURN & 1)
    at = raw_le32(at, float_bits(p->churn_score));
  if (present >> PROFILE_SENTIMENT & 1)
    at = raw_le32(at, float_bits(p->sentiment));
  if (present >> PROFILE_CSAT & 1)
    at = raw_varint(at, zigzag(p->csat));
  if (present >> PROFILE_NPS & 1)
    at = raw_varint(at, zigzag(p->nps));
  if (present >> PROFILE_BANDS & 1)
    *at++ = p->bands;
  if (present >> PROFILE_FLAGS & 1)
    *at++ = p->flags;
  close_at(w, at);
}

/* One section: the gap for its length (gap bytes), its fields, its length. */
#define SECTION(w, write, c, gap) \
  do { \
    size_t gap_ = (gap), start_ = section_begin(w, gap_); \
    write(w, c); \
    section_end(w, start_, gap_); \
  } while (0)

static void write_none(writer_t *w, const cx_customer_t *c) {
  (void)w;
  (void)c;
}

int cx_state_codec_encode(const cx_customer_t *customer, cx_state_codec_buf_t *out) {
  cx_customer_prefetch_blocks(customer); /* the sections read them one after the other */
  if (customer->log) /* and the log's ids, at its end */
    cx_prefetch_line(cx_customer_interaction_bytes(customer));
  writer_t w = {out, false};
  size_t start_len = out->len;
  put_u8(&w, CX_STATE_CODEC_VERSION);
  put_u8(&w, SECTION__COUNT); /* a varint of one byte */
  uint32_t interactions = cx_customer_interaction_count(customer);
  SECTION(&w, write_customer, customer, 1);
  SECTION(&w, write_scores, customer, 1);
  SECTION(&w, write_interactions, customer,
          interactions ? varint_size(varint_size(interactions) +
                                     (uint64_t)interactions * INTERACTION_MIN_BYTES)
                       : 1);
  SECTION(&w, write_none, customer, 1); /* journey has no fields yet */
  SECTION(&w, write_signals, customer, 1);
  SECTION(&w, write_digital, customer, 1);
  SECTION(&w, write_cases, customer, 1);
  SECTION(&w, write_profile, customer, 1);
  if (w.failed) {
    out->len = start_len;
    return -1;
  }
  return 0;
}

#undef SECTION

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
