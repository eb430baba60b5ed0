/* Journey generator (the model is in journey.h). Time advances one period, an
 * hour of event time, at a time: customers whose next episode starts in the
 * period come out of a calendar of buckets, each episode is planned whole,
 * its events inside the period go to a buffer and later ones to a min-heap;
 * the buffer is then radix-sorted by time, stably so that equal times keep
 * planning order, and handed out one event per call. Every random draw comes
 * from a splitmix64 stream seeded by (seed, customer, episode start), so the
 * stream depends on nothing but the config. Labelled mode (its own section
 * below) reuses this machinery with one episode per customer and day. */
#include "journey.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../operators/rules.h"

#define DAY_MS 86400000LL
#define PERIOD_MS 3600000LL        /* one period of the calendar: an hour */
#define PERIOD_S 3600u
#define RING_BUCKETS 4096u         /* calendar length in periods (170 days) */
#define NO_CUSTOMER UINT32_MAX     /* end of a bucket list */
#define NEVER UINT32_MAX           /* next_s of a customer with nothing left */
#define AGENTS 1200u               /* agent ids A0001 .. */
#define DEFAULT_START_MS 1767571200000LL /* 2026-01-05T00:00:00Z */
#define LONG_WAIT_MS 600000
#define SECOND 1000LL
#define MINUTE 60000LL
#define HOUR 3600000LL
#define PREFETCH_AHEAD 16          /* events fetched ahead in cx_journey_next() */
#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* ---- tables of names ---- */

#define TOPIC_MAP(X) \
  X(billing) X(technical) X(installation) X(plan_change) X(account_access) \
  X(payment) X(outage) X(device) X(moving) X(cancellation) X(roaming) \
  X(order_status) X(billing_dispute)

enum {
  TOPIC_NONE,
#define CX__X(name) TOPIC_##name,
  TOPIC_MAP(CX__X)
#undef CX__X
  TOPIC__COUNT
};

static const char *const topic_names[] = {
  NULL,
#define CX__X(name) #name,
  TOPIC_MAP(CX__X)
#undef CX__X
};

#define ELEMENT_MAP(X) \
  X(home) X(billing) X(plan) X(usage) X(support) X(pay) X(login) X(offers) \
  X(profile) X(devices) X(cancel) X(search)

enum {
#define CX__X(name) ELEMENT_##name,
  ELEMENT_MAP(CX__X)
#undef CX__X
  ELEMENT__COUNT
};

static const char *const element_names[] = {
#define CX__X(name) #name,
  ELEMENT_MAP(CX__X)
#undef CX__X
};

static const char *const error_codes[] = {"E500", "E503", "TIMEOUT", "PAYMENT_GATEWAY",
                                          "SESSION_EXPIRED"};
static const char *const payment_reasons[] = {"card_declined", "insufficient_funds",
                                              "expired_card", "bank_timeout"};
static const char *const cancel_reasons[] = {"price", "competitor_offer", "moving",
                                             "service_quality", "no_longer_needed"};
static const char *const consent_changes[] = {"marketing_granted", "marketing_withdrawn",
                                              "profiling_granted", "profiling_withdrawn"};
static const char *const usage_kinds[] = {"data", "voice", "streaming", "roaming"};
static const char *const products[] = {"add_on", "device", "plan_upgrade", "insurance"};
static const char *const promises[] = {"broken", "callback_missed"};
static const char *const intents[] = {"cancel", "port_out"};
static const char *const competitors[] = {"northwind_mobile", "vireo_telecom", "skyline_fibre",
                                          "fibrix"};
static const char *const disputes[] = {"chargeback", "double_charge", "unknown_charge"};

/* An event's one optional detail attribute: kind in the high 4 bits, index
 * into the kind's values in the low 4. */
enum {
  DETAIL_NONE, DETAIL_ELEMENT, DETAIL_ERROR, DETAIL_PAYMENT, DETAIL_CANCEL,
  DETAIL_CONSENT, DETAIL_USAGE, DETAIL_PRODUCT, DETAIL_PROMISE, DETAIL_INTENT,
  DETAIL_COMPETITOR, DETAIL_DISPUTE, DETAIL__COUNT
};
#define DETAIL(kind, index) ((uint8_t)((kind) << 4 | (index)))
_Static_assert(DETAIL__COUNT <= 16 && ELEMENT__COUNT <= 16, "a detail is 4 + 4 bits");

typedef struct detail_kind_s {
  const char *key;                 /* attribute key */
  const char *const *values;       /* attribute values */
  uint32_t count;                  /* values */
} detail_kind_t;

static const detail_kind_t detail_kinds[DETAIL__COUNT] = {
  [DETAIL_ELEMENT] = {"element", element_names, COUNT(element_names)},
  [DETAIL_ERROR] = {"error_code", error_codes, COUNT(error_codes)},
  [DETAIL_PAYMENT] = {"reason", payment_reasons, COUNT(payment_reasons)},
  [DETAIL_CANCEL] = {"reason", cancel_reasons, COUNT(cancel_reasons)},
  [DETAIL_CONSENT] = {"consent", consent_changes, COUNT(consent_changes)},
  [DETAIL_USAGE] = {"usage", usage_kinds, COUNT(usage_kinds)},
  [DETAIL_PRODUCT] = {"product", products, COUNT(products)},
  [DETAIL_PROMISE] = {"promise", promises, COUNT(promises)},
  [DETAIL_INTENT] = {"intent", intents, COUNT(intents)},
  [DETAIL_COMPETITOR] = {"competitor", competitors, COUNT(competitors)},
  [DETAIL_DISPUTE] = {"dispute", disputes, COUNT(disputes)},
};

/* Share (per mille) of episodes kept at each UTC hour: Poisson thinning that
 * makes nights quiet and days busy. */
static const uint16_t hour_accept[24] = {
  150, 150, 150, 150, 150, 150, 400, 700, 1000, 1000, 1000, 1000,
  1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 850, 600, 350,
};

/* Digital episodes per 1000 days by activity tier; tier k has probability
 * 2^-(k+1) (the last one 2^-7), a power-law tail. */
static const uint32_t tier_digital_per_kday[8] = {150, 350, 800, 1800, 4000, 9000, 18000,
                                                  30000};

/* ---- state ---- */

enum {
  PLANNED_WAIT = 1,       /* wait_ms is set */
  PLANNED_HANDLE = 2,     /* handle_ms is set */
  PLANNED_SENTIMENT = 4,  /* sentiment_centi is set */
};

/* One planned event, 40 bytes; strings are made only when it is emitted. */
typedef struct planned_s {
  int64_t at_ms;          /* occurred_at */
  uint32_t customer;      /* customer index (id number = index + 1) */
  uint32_t case_number;   /* the customer's case number, 0 = none */
  uint32_t session;       /* digital session id, 0 = none */
  uint32_t wait_ms;       /* with PLANNED_WAIT */
  uint32_t handle_ms;     /* with PLANNED_HANDLE */
  uint16_t agent;         /* agent number, 0 = none */
  int8_t sentiment_centi; /* sentiment * 100, with PLANNED_SENTIMENT */
  int8_t nps;             /* 0 .. 10, -1 = none */
  uint8_t csat;           /* 1 .. 5, 0 = none */
  uint8_t channel;        /* cx_channel_t */
  uint8_t type;           /* cx_event_type_t */
  uint8_t outcome;        /* cx_outcome_t */
  uint8_t topic;          /* TOPIC_*, TOPIC_NONE = none */
  uint8_t detail;         /* DETAIL(kind, index), 0 = none */
  uint8_t flags;          /* PLANNED_* */
} planned_t;

_Static_assert(sizeof(planned_t) == 40, "planned_t is meant to stay 40 bytes");

/* An event planned for a later period, waiting in the heap. */
typedef struct pending_s {
  planned_t event;        /* the planned event */
  uint64_t serial;        /* planning order; breaks ties of at_ms */
} pending_t;

/* Per-customer state: 16 bytes, everything else is derived from the seed. */
typedef struct customer_s {
  uint32_t next_s;        /* start of the next episode, s after start_ms; NEVER */
  uint32_t link;          /* next customer in the same calendar bucket */
  uint32_t seq;           /* events emitted so far */
  uint32_t cases;         /* cases opened so far */
} customer_t;

/* A customer's traits, recomputed from (seed, customer) when needed. */
typedef struct persona_s {
  uint32_t digital_per_kday;  /* app/web episodes per 1000 days */
  uint32_t service_per_kday;  /* service episodes per 1000 days */
  uint32_t trouble_per_kday;  /* trouble bursts per 1000 days */
  uint32_t patience_ms;       /* mean patience in a queue */
  uint32_t app_per_mille;     /* share of digital sessions in the app, rest web */
  cx_channel_t favourite;     /* preferred assisted channel */
  bool frustrated;            /* one of the frustrated minority */
  uint32_t leaves_s;          /* s after start_ms from which activity drops; NEVER */
} persona_t;

typedef struct rng_s {
  uint64_t state;             /* splitmix64 counter */
} rng_t;

struct cx_journey_s {
  cx_journey_config_t config; /* as given */
  uint64_t seed_key;          /* mixed seed, the root of every random stream */
  int64_t end_ms;             /* first instant not simulated */
  uint32_t end_s;             /* the same, in s after start_ms */
  customer_t *customers;      /* config.customers entries */
  uint32_t *buckets;          /* RING_BUCKETS calendar heads */
  uint32_t period;            /* index of the next period to plan */
  int64_t period_end_ms;      /* end of the period being planned or emitted */
  planned_t *plans;           /* this period's events, in planning order */
  size_t plan_count;          /* used entries of plans */
  size_t plan_cap;            /* allocated entries of plans, keys and scratch */
  uint64_t *keys;             /* sorted (time in period << 32 | plan index) */
  uint64_t *scratch;          /* radix sort's second array */
  size_t cursor;              /* next entry of keys to emit */
  pending_t *heap;            /* later events, min-heap on (at_ms, serial) */
  size_t heap_count;          /* used entries of heap */
  size_t heap_cap;            /* allocated entries of heap */
  uint64_t serial;            /* events sent to the heap so far */
  uint64_t emitted;           /* events returned so far */
  uint64_t active_customers;  /* customers with seq > 0 */
  int64_t first_ms;           /* first event returned */
  int64_t last_ms;            /* last event returned */
  cx_err_t error;             /* why the stream stopped early, or CX_OK */
  size_t event_id_prefix_len; /* bytes of "gen-<seed>-" in event_id */
  char event_id[48];          /* "gen-<seed>-<n>" */
  char customer_id[24];       /* "C000123" */
  char case_id[40];           /* "C000123-K2" */
  char agent_id[8];           /* "A0042" */
  char seq[12];               /* the "seq" attribute */
  char session[12];           /* the "session" attribute */
  /* labelled mode */
  uint64_t role_multiplier;   /* customer index -> role slot: (m * index + offset) % customers */
  uint64_t role_offset;       /* the permutation's offset */
  uint64_t story_customers;   /* slots below this are story customers */
  uint64_t label_customer;    /* next customer whose labels cx_journey_next_label() reads */
  size_t label_count;         /* labels of the customer being read */
  size_t label_cursor;        /* next of them to return */
  const char *label_story;    /* their story */
  struct {
    uint8_t rule;             /* cx_rule_t */
    int64_t at_ms;            /* trigger time */
  } labels[8];                /* the customer's labels, by time */
  char label_customer_id[24]; /* "C000123" of the labels */
};

/* ---- randomness ---- */

static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static uint64_t rng_next(rng_t *rng) {
  rng->state += 0x9e3779b97f4a7c15ULL;
  return mix64(rng->state);
}

/* Uniform in [0, n), n <= 2^32. */
static uint32_t rng_below(rng_t *rng, uint64_t n) {
  return (uint32_t)(((rng_next(rng) >> 32) * n) >> 32);
}

static bool rng_chance(rng_t *rng, uint32_t per_mille) {
  return rng_below(rng, 1000) < per_mille;
}

/* -ln(u) for u uniform in (0, 1], from plain double arithmetic (no libm), so
 * it gives the same bits on every IEEE-754 machine as long as multiply-adds
 * are not fused (-std=c11 implies -ffp-contract=off): u = x * 2^-53 with
 * x = m * 2^e, m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s) as a series
 * (within 2e-15 of libm's log). */
static double neg_log_unit(uint64_t random) {
  uint64_t x = (random >> 11) + 1;
  int e = 63 - __builtin_clzll(x);
  double m = (double)x / (double)(1ULL << e);
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e++;
  }
  double s = (m - 1.0) / (m + 1.0), s2 = s * s;
  double series = 1.0 / 17;
  for (int k = 15; k >= 1; k -= 2)
    series = 1.0 / k + s2 * series;
  double result = (53 - e) * 0.6931471805599453 - 2.0 * s * series;
  return result > 0 ? result : 0;
}

/* Exponential with the given mean (any unit). */
static int64_t rng_exp(rng_t *rng, int64_t mean) {
  return (int64_t)((double)mean * neg_log_unit(rng_next(rng)));
}

/* Roughly normal (Irwin-Hall of 4 uniforms), mean and spread in hundredths,
 * clipped to -100 .. 100. */
static int8_t rng_sentiment(rng_t *rng, int mean_centi, int spread_centi) {
  int sum = 0;
  for (int k = 0; k < 4; k++)
    sum += (int)rng_below(rng, 1001);
  int value = mean_centi + (sum - 2000) * spread_centi / 580;
  return (int8_t)(value < -100 ? -100 : value > 100 ? 100 : value);
}

/* ---- customers ---- */

static persona_t persona_of(const cx_journey_t *journey, uint32_t customer) {
  rng_t rng = {journey->seed_key ^ mix64(0x706572736f6e61ULL + customer)};
  persona_t persona;
  uint32_t tier = (uint32_t)__builtin_ctzll(rng_next(&rng) | (1ULL << 7));
  persona.digital_per_kday = tier_digital_per_kday[tier] * (750 + rng_below(&rng, 501)) / 1000;
  persona.frustrated = rng_chance(&rng, 70);
  persona.service_per_kday = 100 + rng_below(&rng, 201) + 20 * tier;
  persona.trouble_per_kday = 0;
  if (persona.frustrated) {
    persona.service_per_kday = persona.service_per_kday * 3 / 2 + 100;
    persona.trouble_per_kday = 200 + rng_below(&rng, 201);
  }
  persona.patience_ms = persona.frustrated
                            ? (uint32_t)(6 * MINUTE + rng_below(&rng, 14 * MINUTE))
                            : (uint32_t)(10 * MINUTE + rng_below(&rng, 20 * MINUTE));
  persona.app_per_mille = rng_below(&rng, 1001);
  /* Some frustrated customers drift away: at a random moment of the period
   * their activity drops to a fraction (what engagement_drop looks for). */
  persona.leaves_s = NEVER;
  if (persona.frustrated && rng_chance(&rng, 400))
    persona.leaves_s = rng_below(&rng, journey->end_s < 365 * 86400u ? journey->end_s
                                                                     : 365 * 86400u);
  uint32_t r = rng_below(&rng, 100);
  persona.favourite = r < 40   ? CX_CHANNEL_PHONE
                      : r < 62 ? CX_CHANNEL_CHAT
                      : r < 74 ? CX_CHANNEL_EMAIL
                      : r < 84 ? CX_CHANNEL_MESSAGING
                      : r < 88 ? CX_CHANNEL_SMS
                      : r < 92 ? CX_CHANNEL_SOCIAL
                               : CX_CHANNEL_STORE;
  return persona;
}

/* The persona as it is at now_s: after leaves_s, a fraction of the activity. */
static void persona_at(persona_t *persona, uint32_t now_s) {
  if (now_s < persona->leaves_s)
    return;
  persona->digital_per_kday = persona->digital_per_kday / 8 + 1;
  persona->service_per_kday = persona->service_per_kday / 2 + 1;
  persona->trouble_per_kday = 0;
}

static uint32_t episodes_per_kday(const persona_t *persona) {
  return persona->digital_per_kday + persona->service_per_kday + persona->trouble_per_kday;
}

/* Start of the episode after from_s (s after start_ms), or NEVER past the end. */
static uint32_t next_episode_s(const cx_journey_t *journey, rng_t *rng,
                               const persona_t *persona, uint32_t from_s) {
  int64_t mean_s = 86400000LL / episodes_per_kday(persona);
  int64_t t = from_s;
  for (;;) {
    t += 1 + rng_exp(rng, mean_s);
    if (t >= journey->end_s)
      return NEVER;
    int64_t hour = (journey->config.start_ms + t * SECOND) / HOUR % 24;
    if (rng_chance(rng, hour_accept[hour]))
      return (uint32_t)t;
  }
}

static void calendar_insert(cx_journey_t *journey, uint32_t customer) {
  customer_t *state = &journey->customers[customer];
  uint32_t bucket = (state->next_s / PERIOD_S) % RING_BUCKETS;
  state->link = journey->buckets[bucket];
  journey->buckets[bucket] = customer;
}

/* ---- planning ---- */

static bool plans_reserve(cx_journey_t *journey) {
  if (journey->plan_count < journey->plan_cap)
    return true;
  size_t cap = journey->plan_cap ? journey->plan_cap * 2 : 4096;
  planned_t *plans = realloc(journey->plans, cap * sizeof(*plans));
  if (!plans)
    return false;
  journey->plans = plans;
  uint64_t *keys = realloc(journey->keys, cap * sizeof(*keys));
  if (!keys)
    return false;
  journey->keys = keys;
  uint64_t *scratch = realloc(journey->scratch, cap * sizeof(*scratch));
  if (!scratch)
    return false;
  journey->scratch = scratch;
  journey->plan_cap = cap;
  return true;
}

static bool pending_less(const pending_t *a, const pending_t *b) {
  return a->event.at_ms < b->event.at_ms ||
         (a->event.at_ms == b->event.at_ms && a->serial < b->serial);
}

static bool heap_push(cx_journey_t *journey, const planned_t *event) {
  if (journey->heap_count == journey->heap_cap) {
    size_t cap = journey->heap_cap ? journey->heap_cap * 2 : 1024;
    pending_t *heap = realloc(journey->heap, cap * sizeof(*heap));
    if (!heap)
      return false;
    journey->heap = heap;
    journey->heap_cap = cap;
  }
  pending_t item = {*event, journey->serial++};
  size_t at = journey->heap_count++;
  while (at > 0) {
    size_t parent = (at - 1) / 2;
    if (!pending_less(&item, &journey->heap[parent]))
      break;
    journey->heap[at] = journey->heap[parent];
    at = parent;
  }
  journey->heap[at] = item;
  return true;
}

static void heap_pop(cx_journey_t *journey) {
  pending_t last = journey->heap[--journey->heap_count];
  size_t at = 0, count = journey->heap_count;
  for (;;) {
    size_t child = 2 * at + 1;
    if (child >= count)
      break;
    if (child + 1 < count && pending_less(&journey->heap[child + 1], &journey->heap[child]))
      child++;
    if (!pending_less(&journey->heap[child], &last))
      break;
    journey->heap[at] = journey->heap[child];
    at = child;
  }
  if (count)
    journey->heap[at] = last;
}

/* Events of the current period go to the buffer, later ones to the heap,
 * those past the end nowhere. */
static void journey_plan(cx_journey_t *journey, const planned_t *event) {
  if (event->at_ms >= journey->end_ms || journey->error)
    return;
  if (event->at_ms >= journey->period_end_ms) {
    if (!heap_push(journey, event))
      journey->error = CX_ERR_NOMEM;
    return;
  }
  if (!plans_reserve(journey)) {
    journey->error = CX_ERR_NOMEM;
    return;
  }
  journey->plans[journey->plan_count++] = *event;
}

/* What one episode needs: where to plan, randomness, the customer. */
typedef struct episode_s {
  cx_journey_t *journey;      /* where planned events go */
  rng_t rng;                  /* the episode's random stream */
  persona_t persona;          /* the customer's traits */
  uint32_t customer;          /* customer index */
} episode_t;

static planned_t event_at(const episode_t *episode, int64_t at_ms, cx_channel_t channel,
                          cx_event_type_t type) {
  planned_t event;
  memset(&event, 0, sizeof(event));
  event.at_ms = at_ms;
  event.customer = episode->customer;
  event.channel = (uint8_t)channel;
  event.type = (uint8_t)type;
  event.nps = -1;
  return event;
}

static void plan(episode_t *episode, const planned_t *event) {
  journey_plan(episode->journey, event);
}

static uint32_t clamp_u32(int64_t value) {
  return value < 0 ? 0 : value > UINT32_MAX ? UINT32_MAX : (uint32_t)value;
}

static void set_wait(planned_t *event, int64_t wait_ms) {
  event->wait_ms = clamp_u32(wait_ms);
  event->flags |= PLANNED_WAIT;
}

static void set_handle(planned_t *event, int64_t handle_ms) {
  event->handle_ms = clamp_u32(handle_ms);
  event->flags |= PLANNED_HANDLE;
}

static void set_sentiment(planned_t *event, int8_t centi) {
  event->sentiment_centi = centi;
  event->flags |= PLANNED_SENTIMENT;
}

static uint8_t pick_detail(episode_t *episode, int kind) {
  return DETAIL(kind, rng_below(&episode->rng, detail_kinds[kind].count));
}

static uint16_t pick_agent(episode_t *episode) {
  return (uint16_t)(1 + rng_below(&episode->rng, AGENTS));
}

static uint8_t pick_topic(episode_t *episode) {
  static const uint8_t weighted[] = {
    TOPIC_billing, TOPIC_billing, TOPIC_billing, TOPIC_technical, TOPIC_technical,
    TOPIC_technical, TOPIC_installation, TOPIC_plan_change, TOPIC_plan_change,
    TOPIC_account_access, TOPIC_payment, TOPIC_outage, TOPIC_device, TOPIC_device,
    TOPIC_moving, TOPIC_roaming, TOPIC_order_status, TOPIC_order_status,
  };
  return weighted[rng_below(&episode->rng, COUNT(weighted))];
}

static uint8_t pick_trouble_topic(episode_t *episode) {
  static const uint8_t weighted[] = {
    TOPIC_technical, TOPIC_technical, TOPIC_billing, TOPIC_billing, TOPIC_installation,
    TOPIC_outage, TOPIC_account_access, TOPIC_payment, TOPIC_device,
  };
  return weighted[rng_below(&episode->rng, COUNT(weighted))];
}

/* The customer's favourite assisted channel most of the time, another one
 * otherwise (channel hopping). */
static cx_channel_t pick_assisted(episode_t *episode, uint32_t favourite_per_mille) {
  static const cx_channel_t mix[] = {
    CX_CHANNEL_PHONE, CX_CHANNEL_PHONE, CX_CHANNEL_PHONE, CX_CHANNEL_PHONE,
    CX_CHANNEL_CHAT, CX_CHANNEL_CHAT, CX_CHANNEL_CHAT, CX_CHANNEL_EMAIL,
    CX_CHANNEL_EMAIL, CX_CHANNEL_MESSAGING, CX_CHANNEL_MESSAGING, CX_CHANNEL_SMS,
    CX_CHANNEL_SOCIAL, CX_CHANNEL_STORE,
  };
  if (rng_chance(&episode->rng, favourite_per_mille))
    return episode->persona.favourite;
  return mix[rng_below(&episode->rng, COUNT(mix))];
}

static cx_channel_t pick_digital(episode_t *episode) {
  return rng_chance(&episode->rng, episode->persona.app_per_mille) ? CX_CHANNEL_APP
                                                                   : CX_CHANNEL_WEB;
}

/* Queue wait a contact is offered (a mix of exponentials: mostly short, a
 * heavy tail), or -1 for channels without a live queue. */
static int64_t offered_wait_ms(episode_t *episode, cx_channel_t channel, bool trouble) {
  uint32_t r = rng_below(&episode->rng, 1000);
  int64_t mean;
  switch (channel) {
  case CX_CHANNEL_PHONE:
    mean = r < 750 ? 45 * SECOND : r < 950 ? 3 * MINUTE : 12 * MINUTE;
    break;
  case CX_CHANNEL_CHAT:
  case CX_CHANNEL_MESSAGING:
    mean = r < 800 ? 30 * SECOND : r < 970 ? 150 * SECOND : 9 * MINUTE;
    break;
  case CX_CHANNEL_STORE:
    mean = r < 900 ? 4 * MINUTE : 15 * MINUTE;
    break;
  default:
    return -1;
  }
  if (trouble)
    mean = mean * 5 / 2;
  return SECOND + rng_exp(&episode->rng, mean);
}

static int64_t handle_time_ms(episode_t *episode, cx_channel_t channel) {
  rng_t *rng = &episode->rng;
  switch (channel) {
  case CX_CHANNEL_PHONE: return 45 * SECOND + rng_exp(rng, 5 * MINUTE);
  case CX_CHANNEL_CHAT:
  case CX_CHANNEL_MESSAGING: return 3 * MINUTE + rng_exp(rng, 7 * MINUTE);
  case CX_CHANNEL_EMAIL: return 3 * MINUTE + rng_exp(rng, 6 * MINUTE);
  case CX_CHANNEL_SMS: return MINUTE + rng_exp(rng, 3 * MINUTE);
  case CX_CHANNEL_SOCIAL: return 2 * MINUTE + rng_exp(rng, 5 * MINUTE);
  case CX_CHANNEL_STORE: return 5 * MINUTE + rng_exp(rng, 10 * MINUTE);
  case CX_CHANNEL_FIELD: return 20 * MINUTE + rng_exp(rng, 40 * MINUTE);
  default: return MINUTE + rng_exp(rng, 2 * MINUTE);
  }
}

static uint32_t sentiment_per_mille(cx_channel_t channel) {
  switch (channel) {
  case CX_CHANNEL_CHAT: case CX_CHANNEL_MESSAGING: case CX_CHANNEL_SOCIAL:
  case CX_CHANNEL_EMAIL: case CX_CHANNEL_SMS:
    return 700; /* text analytics */
  case CX_CHANNEL_PHONE:
    return 300; /* speech analytics on some calls */
  default:
    return 0;
  }
}

typedef struct contact_s {
  int64_t end_ms;             /* when the customer is done */
  bool served;                /* reached an agent */
  bool long_wait;             /* waited >= 10 min somewhere */
} contact_t;

/* One CONTACT at arrival time at_ms: queue and patience decide between
 * ABANDONED (wait_ms = patience) and served; served contacts may be
 * transferred (TRANSFER events) or escalated. */
static contact_t plan_contact(episode_t *episode, int64_t at_ms, cx_channel_t channel,
                              uint8_t topic, uint32_t case_number, bool trouble) {
  rng_t *rng = &episode->rng;
  contact_t result = {at_ms, false, false};
  planned_t contact = event_at(episode, at_ms, channel, CX_EVENT_CONTACT);
  contact.topic = topic;
  contact.case_number = case_number;
  int64_t wait = offered_wait_ms(episode, channel, trouble);
  if (wait >= 0) {
    int64_t patience_mean = episode->persona.patience_ms;
    if (channel == CX_CHANNEL_STORE)
      patience_mean *= 3;
    int64_t patience = 5 * SECOND + rng_exp(rng, patience_mean);
    if (patience < wait) {
      contact.outcome = CX_OUTCOME_ABANDONED;
      set_wait(&contact, patience);
      plan(episode, &contact);
      result.end_ms = at_ms + patience;
      result.long_wait = patience >= LONG_WAIT_MS;
      return result;
    }
    set_wait(&contact, wait);
    result.long_wait = wait >= LONG_WAIT_MS;
  } else {
    wait = 0;
  }
  int64_t handle = handle_time_ms(episode, channel);
  set_handle(&contact, handle);
  contact.agent = pick_agent(episode);
  bool live = channel == CX_CHANNEL_PHONE || channel == CX_CHANNEL_CHAT ||
              channel == CX_CHANNEL_MESSAGING;
  if (live && rng_chance(rng, trouble ? 350 : 70))
    contact.outcome = CX_OUTCOME_TRANSFERRED;
  else if (rng_chance(rng, trouble ? 60 : 12))
    contact.outcome = CX_OUTCOME_ESCALATED;
  else
    contact.outcome = CX_OUTCOME_COMPLETED;
  if (rng_chance(rng, sentiment_per_mille(channel)))
    set_sentiment(&contact, rng_sentiment(rng, trouble ? -45 : 25, 35));
  plan(episode, &contact);

  int64_t t = at_ms + wait + handle;
  bool more = contact.outcome == CX_OUTCOME_TRANSFERRED;
  for (int transfers = 0; more; transfers++) {
    planned_t transfer = event_at(episode, t, channel, CX_EVENT_TRANSFER);
    transfer.topic = topic;
    transfer.case_number = case_number;
    transfer.agent = pick_agent(episode);
    int64_t transfer_wait = SECOND + rng_exp(rng, trouble ? 150 * SECOND : 40 * SECOND);
    int64_t transfer_handle = handle_time_ms(episode, channel);
    set_wait(&transfer, transfer_wait);
    set_handle(&transfer, transfer_handle);
    result.long_wait |= transfer_wait >= LONG_WAIT_MS;
    more = transfers < 4 && rng_chance(rng, trouble ? 450 : 250);
    transfer.outcome = more ? CX_OUTCOME_TRANSFERRED : CX_OUTCOME_COMPLETED;
    plan(episode, &transfer);
    t += transfer_wait + transfer_handle;
  }
  result.end_ms = t;
  result.served = true;
  return result;
}

/* A SURVEY after an experience: CSAT, NPS and sometimes a comment's
 * sentiment, worse after trouble or a long wait. */
static void plan_survey(episode_t *episode, int64_t at_ms, uint8_t topic,
                        uint32_t case_number, bool trouble, bool long_wait) {
  static const uint8_t good[20] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 3, 3, 2, 2, 1};
  static const uint8_t bad[20] = {5, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1};
  rng_t *rng = &episode->rng;
  cx_channel_t channel = rng_chance(rng, 600) ? CX_CHANNEL_EMAIL : CX_CHANNEL_SMS;
  planned_t survey = event_at(episode, at_ms, channel, CX_EVENT_SURVEY);
  survey.topic = topic;
  survey.case_number = case_number;
  int csat = (trouble ? bad : good)[rng_below(rng, 20)];
  if (long_wait && csat > 1)
    csat--;
  static const uint8_t nps_low[6] = {0, 0, 2, 5, 7, 9};
  static const uint8_t nps_span[6] = {0, 5, 5, 4, 3, 2};
  survey.csat = (uint8_t)csat;
  survey.nps = (int8_t)(nps_low[csat] + rng_below(rng, nps_span[csat]));
  if (rng_chance(rng, 500))
    set_sentiment(&survey, rng_sentiment(rng, (csat - 3) * 40, 20));
  plan(episode, &survey);
}

static uint32_t next_case(episode_t *episode) {
  return ++episode->journey->customers[episode->customer].cases;
}

/* CASE_OPENED now, CASE_RESOLVED hours to days later (a tail past any SLA),
 * sometimes CASE_REOPENED with a follow-up contact and a second resolution. */
static uint32_t plan_case(episode_t *episode, int64_t at_ms, cx_channel_t channel,
                          uint8_t topic, bool trouble) {
  rng_t *rng = &episode->rng;
  uint32_t case_number = next_case(episode);
  planned_t opened = event_at(episode, at_ms, channel, CX_EVENT_CASE_OPENED);
  opened.topic = topic;
  opened.case_number = case_number;
  plan(episode, &opened);

  uint32_t r = rng_below(rng, 1000);
  int64_t delay = r < (trouble ? 400u : 700u)   ? 30 * MINUTE + rng_exp(rng, 6 * HOUR)
                  : r < (trouble ? 850u : 950u) ? DAY_MS + rng_exp(rng, DAY_MS)
                                                : 3 * DAY_MS + rng_exp(rng, 3 * DAY_MS);
  planned_t resolved = opened;
  resolved.type = CX_EVENT_CASE_RESOLVED;
  resolved.outcome = CX_OUTCOME_COMPLETED;
  resolved.at_ms = at_ms + delay;
  plan(episode, &resolved);

  if (rng_chance(rng, trouble ? 300 : 80)) {
    planned_t reopened = opened;
    reopened.type = CX_EVENT_CASE_REOPENED;
    reopened.at_ms = resolved.at_ms + 2 * HOUR + rng_exp(rng, DAY_MS);
    plan(episode, &reopened);
    int64_t end_ms = reopened.at_ms;
    if (rng_chance(rng, 600)) {
      contact_t follow_up = plan_contact(episode, reopened.at_ms + 10 * MINUTE +
                                         rng_exp(rng, 2 * HOUR),
                                         pick_assisted(episode, 700), topic, case_number,
                                         trouble);
      end_ms = follow_up.end_ms;
    }
    resolved.at_ms = end_ms + HOUR + rng_exp(rng, DAY_MS);
    plan(episode, &resolved);
  }
  return case_number;
}

/* Phone calls often pass the IVR first: routed to an agent, not a failure. */
static int64_t plan_ivr_routing(episode_t *episode, int64_t at_ms, uint8_t topic) {
  planned_t ivr = event_at(episode, at_ms, CX_CHANNEL_IVR, CX_EVENT_SELF_SERVICE);
  ivr.topic = topic;
  ivr.outcome = CX_OUTCOME_TRANSFERRED;
  plan(episode, &ivr);
  return at_ms + 20 * SECOND + rng_exp(&episode->rng, 50 * SECOND);
}

/* An assisted contact and what follows it: a retry after abandoning (maybe on
 * another channel), a case, a survey. Returns when the customer is done. */
static int64_t plan_assisted(episode_t *episode, int64_t at_ms, cx_channel_t channel,
                             uint8_t topic, uint32_t case_number, bool trouble, int depth) {
  rng_t *rng = &episode->rng;
  if (channel == CX_CHANNEL_PHONE && rng_chance(rng, 500))
    at_ms = plan_ivr_routing(episode, at_ms, topic);
  contact_t contact = plan_contact(episode, at_ms, channel, topic, case_number, trouble);
  if (!contact.served) {
    if (depth < 3 && rng_chance(rng, trouble ? 850 : 600)) {
      cx_channel_t next = rng_chance(rng, trouble ? 500 : 250) ? pick_assisted(episode, 0)
                                                               : channel;
      return plan_assisted(episode, contact.end_ms + MINUTE + rng_exp(rng, 8 * MINUTE), next,
                           topic, case_number, trouble, depth + 1);
    }
    return contact.end_ms;
  }
  if (case_number == 0 && rng_chance(rng, 220))
    plan_case(episode, contact.end_ms + 1, channel, topic, trouble);
  if (rng_chance(rng, trouble ? 300 : 120))
    plan_survey(episode, contact.end_ms + 5 * MINUTE + rng_exp(rng, HOUR), topic, case_number,
                trouble, contact.long_wait);
  return contact.end_ms;
}

/* SELF_SERVICE on IVR, app or web; COMPLETED or FAILED. */
static bool plan_self_service(episode_t *episode, int64_t at_ms, cx_channel_t channel,
                              uint8_t topic, bool trouble, int64_t *end_ms) {
  rng_t *rng = &episode->rng;
  planned_t attempt = event_at(episode, at_ms, channel, CX_EVENT_SELF_SERVICE);
  attempt.topic = topic;
  if (channel != CX_CHANNEL_IVR)
    attempt.session = (uint32_t)rng_next(rng) | 1;
  bool completed = rng_chance(rng, trouble ? 250 : 720);
  attempt.outcome = completed ? CX_OUTCOME_COMPLETED : CX_OUTCOME_FAILED;
  plan(episode, &attempt);
  *end_ms = at_ms + 20 * SECOND + rng_exp(rng, 90 * SECOND);
  return completed;
}

/* An app or web session: sometimes failed logins first, then clicks (rage
 * clicks now and then: several on one element within a second), errors, a
 * purchase or a consent change. */
static int64_t plan_session(episode_t *episode, int64_t at_ms, cx_channel_t channel,
                            bool trouble, int focus_element) {
  rng_t *rng = &episode->rng;
  uint32_t session = (uint32_t)rng_next(rng) | 1;
  int64_t t = at_ms;
  if (rng_chance(rng, trouble ? 300 : 50)) {
    uint32_t failures = 1 + rng_below(rng, trouble ? 4 : 2);
    for (uint32_t k = 0; k < failures; k++) {
      planned_t login = event_at(episode, t, channel, CX_EVENT_LOGIN_FAILED);
      login.session = session;
      login.detail = DETAIL(DETAIL_ELEMENT, ELEMENT_login);
      plan(episode, &login);
      t += 4 * SECOND + rng_exp(rng, 12 * SECOND);
    }
    if (failures >= 2 && rng_chance(rng, 400))
      return t; /* gave up */
  }
  uint32_t clicks = 1;
  while (clicks < 25 && rng_chance(rng, 700))
    clicks++;
  bool rage = rng_chance(rng, trouble ? 150 : 20);
  uint32_t rage_at = rng_below(rng, clicks);
  for (uint32_t k = 0; k < clicks; k++) {
    int element = focus_element >= 0 && rng_chance(rng, 500)
                      ? focus_element
                      : (int)rng_below(rng, ELEMENT__COUNT);
    planned_t click = event_at(episode, t, channel, CX_EVENT_CLICK);
    click.session = session;
    click.detail = DETAIL(DETAIL_ELEMENT, element);
    plan(episode, &click);
    if (rage && k == rage_at) {
      uint32_t repeats = 2 + rng_below(rng, 3);
      for (uint32_t n = 0; n < repeats; n++) {
        click.at_ms += 100 + rng_below(rng, 200);
        plan(episode, &click);
      }
      t = click.at_ms;
    }
    if (rng_chance(rng, trouble ? 60 : 8)) {
      planned_t error = event_at(episode, t + 200 + rng_below(rng, 1300), channel,
                                 CX_EVENT_ERROR);
      error.session = session;
      error.detail = pick_detail(episode, DETAIL_ERROR);
      plan(episode, &error);
      t = error.at_ms;
    }
    t += 2 * SECOND + rng_exp(rng, 12 * SECOND);
  }
  if (rng_chance(rng, 20)) {
    planned_t purchase = event_at(episode, t, channel, CX_EVENT_PURCHASE);
    purchase.session = session;
    purchase.detail = pick_detail(episode, DETAIL_PRODUCT);
    plan(episode, &purchase);
    t += SECOND;
  }
  if (rng_chance(rng, 5)) {
    planned_t consent = event_at(episode, t, channel, CX_EVENT_CONSENT);
    consent.session = session;
    consent.detail = pick_detail(episode, DETAIL_CONSENT);
    plan(episode, &consent);
    t += SECOND;
  }
  return t;
}

/* A visit to the cancellation page: clicks on "cancel", then CANCEL_INTENT. */
static void plan_cancel_page(episode_t *episode, int64_t at_ms) {
  int64_t t = plan_session(episode, at_ms, CX_CHANNEL_WEB, false, ELEMENT_cancel);
  planned_t intent = event_at(episode, t, CX_CHANNEL_WEB, CX_EVENT_CANCEL_INTENT);
  intent.detail = pick_detail(episode, DETAIL_CANCEL);
  intent.topic = TOPIC_cancellation;
  plan(episode, &intent);
}

static void plan_digital(episode_t *episode, int64_t at_ms) {
  rng_t *rng = &episode->rng;
  if (rng_chance(rng, 150)) {
    planned_t usage = event_at(episode, at_ms, CX_CHANNEL_APP, CX_EVENT_USAGE);
    usage.detail = pick_detail(episode, DETAIL_USAGE);
    plan(episode, &usage);
    return;
  }
  if (rng_chance(rng, 2)) {
    plan_cancel_page(episode, at_ms);
    return;
  }
  plan_session(episode, at_ms, pick_digital(episode), episode->persona.frustrated, -1);
}

static void plan_review(episode_t *episode, int64_t at_ms, bool negative) {
  rng_t *rng = &episode->rng;
  planned_t review = event_at(episode, at_ms,
                              rng_chance(rng, 600) ? CX_CHANNEL_SOCIAL : CX_CHANNEL_WEB,
                              CX_EVENT_REVIEW);
  review.csat = (uint8_t)(negative ? 1 + rng_below(rng, 2) : 3 + rng_below(rng, 3));
  set_sentiment(&review, rng_sentiment(rng, negative ? -65 : 45, 25));
  plan(episode, &review);
}

static void plan_trouble(episode_t *episode, int64_t at_ms, bool mini);

/* One service need: self-service, an assisted contact, a payment failure, a
 * store visit or technician appointment, a survey, a review, ... */
static void plan_service(episode_t *episode, int64_t at_ms) {
  rng_t *rng = &episode->rng;
  bool trouble = episode->persona.frustrated;
  uint8_t topic = pick_topic(episode);
  uint32_t r = rng_below(rng, 1000);
  int64_t end_ms;
  if (r < 330) {
    static const cx_channel_t self_channels[] = {CX_CHANNEL_IVR, CX_CHANNEL_IVR,
                                                 CX_CHANNEL_APP, CX_CHANNEL_WEB};
    cx_channel_t channel = self_channels[rng_below(rng, COUNT(self_channels))];
    if (!plan_self_service(episode, at_ms, channel, topic, trouble, &end_ms) &&
        rng_chance(rng, trouble ? 900 : 550))
      plan_assisted(episode, end_ms + 3 * MINUTE + rng_exp(rng, 15 * MINUTE),
                    pick_assisted(episode, 700), topic, 0, trouble, 0);
  } else if (r < 750) {
    plan_assisted(episode, at_ms, pick_assisted(episode, 700), topic, 0, trouble, 0);
  } else if (r < 820) {
    planned_t failed = event_at(episode, at_ms,
                                rng_chance(rng, 500) ? CX_CHANNEL_OTHER : pick_digital(episode),
                                CX_EVENT_PAYMENT_FAILED);
    failed.topic = TOPIC_payment;
    failed.detail = pick_detail(episode, DETAIL_PAYMENT);
    plan(episode, &failed);
    if (rng_chance(rng, 350))
      plan_assisted(episode, at_ms + 30 * MINUTE + rng_exp(rng, 4 * HOUR),
                    pick_assisted(episode, 700), TOPIC_billing, 0, trouble, 0);
    else if (rng_chance(rng, 600))
      plan_session(episode, at_ms + 10 * MINUTE + rng_exp(rng, 6 * HOUR), pick_digital(episode),
                   trouble, ELEMENT_pay);
  } else if (r < 850) {
    plan_assisted(episode, at_ms, CX_CHANNEL_STORE, topic, 0, trouble, 0);
  } else if (r < 870) {
    /* a technician appointment, sometimes missed (a broken promise) */
    int64_t appointment = at_ms + DAY_MS + rng_exp(rng, DAY_MS);
    if (rng_chance(rng, 100)) {
      planned_t missed = event_at(episode, appointment, CX_CHANNEL_FIELD,
                                  CX_EVENT_APPOINTMENT_MISSED);
      missed.topic = TOPIC_installation;
      plan(episode, &missed);
      plan_assisted(episode, appointment + 20 * MINUTE + rng_exp(rng, HOUR), CX_CHANNEL_PHONE,
                    TOPIC_installation, 0, true, 0);
    } else {
      plan_assisted(episode, appointment, CX_CHANNEL_FIELD, TOPIC_installation, 0, trouble, 0);
    }
  } else if (r < 910) {
    plan_survey(episode, at_ms, TOPIC_NONE, 0, trouble, false);
  } else if (r < 940) {
    plan_review(episode, at_ms, trouble ? rng_chance(rng, 600) : rng_chance(rng, 150));
  } else if (r < 960) {
    plan_cancel_page(episode, at_ms);
  } else if (r < 970) {
    planned_t complaint = event_at(episode, at_ms, CX_CHANNEL_EMAIL, CX_EVENT_COMPLAINT);
    complaint.topic = topic;
    plan(episode, &complaint);
  } else if (r < 980) {
    planned_t consent = event_at(episode, at_ms, pick_digital(episode), CX_EVENT_CONSENT);
    consent.detail = pick_detail(episode, DETAIL_CONSENT);
    plan(episode, &consent);
  } else {
    plan_trouble(episode, at_ms, true);
  }
}

/* A problem that does not go away: a failing digital attempt, then repeated
 * contacts within hours, across channels, with long waits, abandonments and
 * transfers; then a case, bad surveys, maybe a complaint, a review or a
 * cancellation intent. A mini burst (any customer, rarely) is shorter. */
static void plan_trouble(episode_t *episode, int64_t at_ms, bool mini) {
  rng_t *rng = &episode->rng;
  uint8_t topic = pick_trouble_topic(episode);
  int64_t t = at_ms;
  if (rng_chance(rng, 600)) {
    int64_t end_ms;
    if (rng_chance(rng, 500)) {
      end_ms = plan_session(episode, t, pick_digital(episode), true, ELEMENT_support);
    } else {
      static const cx_channel_t self_channels[] = {CX_CHANNEL_IVR, CX_CHANNEL_APP,
                                                   CX_CHANNEL_WEB};
      plan_self_service(episode, t, self_channels[rng_below(rng, COUNT(self_channels))], topic,
                        true, &end_ms);
    }
    t = end_ms + 2 * MINUTE + rng_exp(rng, 15 * MINUTE);
  }
  uint32_t attempts = mini ? 2 + rng_below(rng, 2) : 3 + rng_below(rng, 4);
  uint32_t case_number = 0;
  cx_channel_t channel = pick_assisted(episode, 800);
  bool long_wait = false;
  for (uint32_t k = 0; k < attempts && t - at_ms < 20 * HOUR; k++) {
    if (k > 0 && rng_chance(rng, 350))
      channel = pick_assisted(episode, 0);
    int64_t arrival = t;
    if (channel == CX_CHANNEL_PHONE && rng_chance(rng, 500))
      arrival = plan_ivr_routing(episode, t, topic);
    contact_t contact = plan_contact(episode, arrival, channel, topic, case_number, true);
    long_wait |= contact.long_wait;
    if (contact.served && case_number == 0 && rng_chance(rng, 800))
      case_number = plan_case(episode, contact.end_ms + 1, channel, topic, true);
    t = contact.end_ms + (contact.served ? 15 * MINUTE + rng_exp(rng, HOUR)
                                         : MINUTE + rng_exp(rng, 6 * MINUTE));
  }
  if (rng_chance(rng, 450))
    plan_survey(episode, t + rng_exp(rng, 2 * HOUR), topic, case_number, true, long_wait);
  if (rng_chance(rng, mini ? 80 : 250)) {
    planned_t complaint = event_at(episode, t + 10 * MINUTE + rng_exp(rng, 3 * HOUR),
                                   CX_CHANNEL_EMAIL, CX_EVENT_COMPLAINT);
    complaint.topic = topic;
    complaint.case_number = case_number;
    complaint.outcome = CX_OUTCOME_ESCALATED;
    plan(episode, &complaint);
  }
  if (rng_chance(rng, mini ? 60 : 220)) {
    int64_t when = t + HOUR + rng_exp(rng, DAY_MS);
    if (rng_chance(rng, 500)) {
      plan_cancel_page(episode, when);
    } else {
      int64_t end_ms = plan_assisted(episode, when, CX_CHANNEL_PHONE, TOPIC_cancellation, 0,
                                     false, 0);
      planned_t intent = event_at(episode, end_ms + 1, CX_CHANNEL_PHONE,
                                  CX_EVENT_CANCEL_INTENT);
      intent.topic = TOPIC_cancellation;
      intent.detail = pick_detail(episode, DETAIL_CANCEL);
      plan(episode, &intent);
    }
  }
  if (rng_chance(rng, mini ? 30 : 100))
    plan_review(episode, t + HOUR + rng_exp(rng, 12 * HOUR), true);
}

/* ---- labelled mode ----
 *
 * A labelled set (journey.h) has story customers and ordinary customers.
 * Every customer gets one episode a day, planned at the start of the day:
 * calm background (app/web sessions; now and then a contact day) and, on the
 * story's first day, the whole scripted story. A story's script is a pure
 * function of (seed, customer), so cx_journey_next_label() runs it again
 * without planning to read the labels. The background of a story customer
 * leaves the story's days alone (see role_of()), so nothing but the script
 * decides when the story's rules fire.
 *
 * Why ordinary customers never fire, rule by rule (docs/rules.md, defaults),
 * although some come close on purpose (near misses keep precision honest):
 * repeat_contact, abandonment: contact days are at least 4 days apart and
 * have one contact, or an abandoned one and its retry: at most 2 assisted
 * contacts and 1 abandonment in any 24 h. long_wait: waits at most 9.5 min
 * (most under 5), abandoned ones at most 4: under 10 min each, 30 in all.
 * channel_hopping: a customer uses one assisted channel and one self-service
 * channel (the IVR for callers). transfer_loop: at most one hand-off (written
 * both ways: a TRANSFERRED contact and a TRANSFER) per contact day.
 * self_service_fallout: self-service that fails comes at least 65 min before
 * the contact that follows it. digital_friction: at most two ERROR or
 * LOGIN_FAILED events per session (each has its own "session"), clicks at
 * least 2 s apart. negative_voice: sentiment >= -0.45, CSAT >= 3, NPS >= 7.
 * escalation: no complaint, no ESCALATED outcome, reviews with CSAT >= 3 and
 * sentiment >= -0.45. unresolved_case: cases resolved within 70 h, never
 * reopened. broken_promise, cancellation_intent, payment_friction,
 * frustration_then_intent: none of their events, attributes or topics (a
 * topic "payment" is not "billing_dispute"). engagement_drop: app/web use
 * is regular, k sessions every day (k = 1..3) or one session every 2 or 3
 * days, 4 to 8 events each, so any 7 days hold at least 0.3 times the daily
 * rate of any 28 days (the rule needs 0.25). */

#define LABELLED_AGENTS 400u   /* agent ids of the labelled set */
#define STORY_CASES 2u         /* story cases are K1 and K2; background ones follow */
#define STORY_MAX_LABELS 8     /* labels one story may carry */
_Static_assert(STORY_MAX_LABELS == sizeof(((cx_journey_t *)0)->labels) /
                                       sizeof(((cx_journey_t *)0)->labels[0]),
               "cx_journey_t keeps one story's labels");
#define DIGITAL_LOG_MAX 1024u  /* app/web events a drop story may make */
#define ENGAGEMENT_DAYS_MAX 128 /* UTC days the drop simulation looks at */
#define QUIET_MARGIN_DAYS 8u   /* background keeps this far from a story */
#define STORY_SPAN_DAYS 8u     /* every other story ends within this many days */
#define SENTIMENT_NONE 127     /* no sentiment */

/* The story kinds, each planned by story_<name>() (some have variants, each
 * with its own story name in the labels): one kind per rule, then a public
 * bad review and the three seed stories. Story customers take the kinds in
 * turn. */
#define STORY_MAP(X) \
  X(REPEAT_CONTACT, repeat_contact) X(LONG_WAIT, long_wait) X(ABANDONMENT, abandonment) \
  X(CHANNEL_HOPPING, channel_hopping) X(TRANSFER_LOOP, transfer_loop) \
  X(SELF_SERVICE_FALLOUT, self_service_fallout) X(DIGITAL_FRICTION, digital_friction) \
  X(NEGATIVE_VOICE, negative_voice) X(UNRESOLVED_CASE, unresolved_case) \
  X(BROKEN_PROMISE, broken_promise) X(CANCELLATION_INTENT, cancellation_intent) \
  X(ENGAGEMENT_DROP, engagement_drop) X(ESCALATION, escalation) \
  X(PAYMENT_FRICTION, payment_friction) X(FRUSTRATION_THEN_INTENT, frustration_then_intent) \
  X(BAD_REVIEW, bad_review) X(INSTALLATION, installation) \
  X(SELF_SERVICE_BEFORE_CALL, self_service_before_call) X(QUIET_CANCEL_PAGE, quiet_cancel_page)

enum {
#define CX__X(id, name) STORY_##id,
  STORY_MAP(CX__X)
#undef CX__X
  STORY__COUNT
};

/* What a customer is in the labelled set; derived from (seed, customer). */
typedef struct role_s {
  bool story;                 /* a story customer */
  uint32_t kind;              /* STORY_*, when story */
  uint32_t day;               /* the day its story is planned (its first event's day) */
  uint32_t quiet_from;        /* no background contacts, cases, ... on days quiet_from .. */
  uint32_t quiet_to;          /* ... quiet_to (inclusive) */
  bool own_digital;           /* the story makes all of the customer's app/web events */
} role_t;

/* An ordinary customer's habits (story customers have them too, for their
 * background). */
typedef struct habits_s {
  uint32_t digital_period;    /* 0 = no app/web; 1 = sessions every day; 2, 3 = every 2 or 3 days */
  uint32_t digital_phase;     /* day % digital_period of the session days */
  uint32_t sessions_per_day;  /* 1 .. 3, with digital_period 1 */
  uint32_t app_per_mille;     /* share of sessions in the app, the rest on the web */
  uint32_t contact_period;    /* 4 .. 10: contact days are day % contact_period == phase */
  uint32_t contact_phase;     /* the phase */
  cx_channel_t favourite;     /* the one assisted channel */
  cx_channel_t self_channel;  /* the one self-service channel: IVR, APP or WEB */
} habits_t;

/* Planning of a story or of a background day. */
typedef struct script_s {
  cx_journey_t *journey;      /* where events go */
  uint32_t customer;          /* customer index */
  rng_t rng;                  /* the script's random stream */
  bool emit;                  /* plan the events; false: only work out the labels */
  const char *story;          /* the story's name, for the labels */
  size_t label_count;         /* labels so far */
  struct {
    uint8_t rule;             /* cx_rule_t */
    int64_t at_ms;            /* event time at which the rule must first fire */
  } labels[STORY_MAX_LABELS]; /* the story's labels */
  int64_t *digital_ms;        /* app/web event times planned, or NULL: not kept */
  size_t digital_count;       /* entries of digital_ms */
} script_t;

static int64_t between(rng_t *rng, int64_t low, int64_t high) {
  assert(high >= low && high - low < (1LL << 32));
  return low + (int64_t)rng_below(rng, (uint64_t)(high - low + 1));
}

static int64_t day_start_ms(const cx_journey_t *journey, uint32_t day) {
  return journey->config.start_ms + (int64_t)day * DAY_MS;
}

/* Some time between 08:00 and 18:00 of the day (hours after start_ms). */
static int64_t office_hours(script_t *s, int64_t day_ms) {
  return day_ms + 8 * HOUR + between(&s->rng, 0, 10 * HOUR);
}

static void story_label(script_t *s, cx_rule_t rule, int64_t at_ms) {
  for (size_t k = 0; k < s->label_count; k++) {
    if (s->labels[k].rule == rule) {
      if (at_ms < s->labels[k].at_ms)
        s->labels[k].at_ms = at_ms;
      return;
    }
  }
  assert(s->label_count < STORY_MAX_LABELS);
  s->labels[s->label_count].rule = (uint8_t)rule;
  s->labels[s->label_count++].at_ms = at_ms;
}

static planned_t lab_event(const script_t *s, int64_t at_ms, cx_channel_t channel,
                           cx_event_type_t type, uint8_t topic, uint32_t case_number) {
  planned_t event;
  memset(&event, 0, sizeof(event));
  event.at_ms = at_ms;
  event.customer = s->customer;
  event.channel = (uint8_t)channel;
  event.type = (uint8_t)type;
  event.topic = topic;
  event.case_number = case_number;
  event.nps = -1;
  return event;
}

static void lab_plan(script_t *s, const planned_t *event) {
  if (s->digital_ms && (event->channel == CX_CHANNEL_APP || event->channel == CX_CHANNEL_WEB)) {
    assert(s->digital_count < DIGITAL_LOG_MAX);
    if (s->digital_count < DIGITAL_LOG_MAX)
      s->digital_ms[s->digital_count++] = event->at_ms;
  }
  if (s->emit)
    journey_plan(s->journey, event);
}

static void lab_simple(script_t *s, int64_t at_ms, cx_channel_t channel, cx_event_type_t type,
                       uint8_t topic, uint32_t case_number, uint8_t detail) {
  planned_t event = lab_event(s, at_ms, channel, type, topic, case_number);
  event.detail = detail;
  lab_plan(s, &event);
}

static bool has_queue(cx_channel_t channel) {
  return channel == CX_CHANNEL_PHONE || channel == CX_CHANNEL_CHAT ||
         channel == CX_CHANNEL_MESSAGING || channel == CX_CHANNEL_STORE;
}

/* A calm queue wait: at most 5 min (the store), 4 min (phone); -1 where
 * there is no live queue. */
static int64_t calm_wait(script_t *s, cx_channel_t channel) {
  switch (channel) {
  case CX_CHANNEL_PHONE: return between(&s->rng, 10 * SECOND, 4 * MINUTE);
  case CX_CHANNEL_CHAT:
  case CX_CHANNEL_MESSAGING: return between(&s->rng, 5 * SECOND, 2 * MINUTE);
  case CX_CHANNEL_STORE: return between(&s->rng, 30 * SECOND, 5 * MINUTE);
  default: return -1;
  }
}

static int64_t lab_handle(script_t *s, cx_channel_t channel) {
  switch (channel) {
  case CX_CHANNEL_PHONE: return between(&s->rng, 2 * MINUTE, 12 * MINUTE);
  case CX_CHANNEL_CHAT:
  case CX_CHANNEL_MESSAGING: return between(&s->rng, 4 * MINUTE, 15 * MINUTE);
  case CX_CHANNEL_STORE: return between(&s->rng, 5 * MINUTE, 20 * MINUTE);
  case CX_CHANNEL_FIELD: return between(&s->rng, 40 * MINUTE, 90 * MINUTE);
  default: return between(&s->rng, 2 * MINUTE, 8 * MINUTE);
  }
}

/* A CONTACT, not yet planned: ABANDONED after wait_ms without an agent, or
 * served (an agent, a handle time) after wait_ms (none when < 0). */
static planned_t lab_contact(script_t *s, int64_t at_ms, cx_channel_t channel, uint8_t topic,
                             uint32_t case_number, int64_t wait_ms, cx_outcome_t outcome) {
  planned_t contact = lab_event(s, at_ms, channel, CX_EVENT_CONTACT, topic, case_number);
  contact.outcome = (uint8_t)outcome;
  if (wait_ms >= 0)
    set_wait(&contact, wait_ms);
  if (outcome != CX_OUTCOME_ABANDONED) {
    set_handle(&contact, lab_handle(s, channel));
    contact.agent = (uint16_t)(1 + rng_below(&s->rng, LABELLED_AGENTS));
  }
  return contact;
}

/* A TRANSFER to another agent, not yet planned. */
static planned_t lab_transfer(script_t *s, int64_t at_ms, cx_channel_t channel, uint8_t topic,
                              uint32_t case_number, int64_t wait_ms, cx_outcome_t outcome) {
  planned_t transfer = lab_contact(s, at_ms, channel, topic, case_number, wait_ms, outcome);
  transfer.type = CX_EVENT_TRANSFER;
  return transfer;
}

/* When the customer is done with a contact or transfer. */
static int64_t lab_end(const planned_t *event) {
  int64_t end = event->at_ms;
  if (event->flags & PLANNED_WAIT)
    end += event->wait_ms;
  if (event->flags & PLANNED_HANDLE)
    end += event->handle_ms;
  return end;
}

/* Phone calls may pass the IVR first: routed, not a failure. */
static int64_t lab_ivr_routing(script_t *s, int64_t at_ms, uint8_t topic) {
  planned_t ivr = lab_event(s, at_ms, CX_CHANNEL_IVR, CX_EVENT_SELF_SERVICE, topic, 0);
  ivr.outcome = CX_OUTCOME_TRANSFERRED;
  lab_plan(s, &ivr);
  return at_ms + between(&s->rng, 20 * SECOND, 60 * SECOND);
}

static uint32_t new_session(script_t *s) {
  return (uint32_t)rng_next(&s->rng) | 1;
}

/* CLICKs of one session, 2 to 15 s apart (never a rage click), on random
 * elements, the last one on focus_element when >= 0. Returns the time after. */
static int64_t lab_clicks(script_t *s, int64_t at_ms, cx_channel_t channel, uint32_t session,
                          uint32_t clicks, int focus_element) {
  int64_t t = at_ms;
  for (uint32_t k = 0; k < clicks; k++) {
    int element = focus_element >= 0 && k + 1 == clicks ? focus_element
                                                        : (int)rng_below(&s->rng, ELEMENT__COUNT);
    planned_t click = lab_event(s, t, channel, CX_EVENT_CLICK, TOPIC_NONE, 0);
    click.session = session;
    click.detail = DETAIL(DETAIL_ELEMENT, element);
    lab_plan(s, &click);
    t += between(&s->rng, 2 * SECOND, 15 * SECOND);
  }
  return t;
}

/* A SURVEY; sentiment_centi SENTIMENT_NONE = no comment. */
static void lab_survey(script_t *s, int64_t at_ms, uint8_t topic, uint32_t case_number, int csat,
                       int nps, int sentiment_centi) {
  cx_channel_t channel = rng_chance(&s->rng, 600) ? CX_CHANNEL_EMAIL : CX_CHANNEL_SMS;
  planned_t survey = lab_event(s, at_ms, channel, CX_EVENT_SURVEY, topic, case_number);
  survey.csat = (uint8_t)csat;
  survey.nps = (int8_t)nps;
  if (sentiment_centi != SENTIMENT_NONE)
    set_sentiment(&survey, (int8_t)sentiment_centi);
  lab_plan(s, &survey);
}

static uint8_t calm_topic(script_t *s) {
  static const uint8_t topics[] = {
    TOPIC_billing, TOPIC_billing, TOPIC_technical, TOPIC_technical, TOPIC_plan_change,
    TOPIC_account_access, TOPIC_device, TOPIC_moving, TOPIC_roaming, TOPIC_order_status,
    TOPIC_payment, TOPIC_installation,
  };
  return topics[rng_below(&s->rng, COUNT(topics))];
}

static cx_channel_t pick_channel(script_t *s, const cx_channel_t *channels, size_t count) {
  return channels[rng_below(&s->rng, count)];
}
#define PICK(s, array) pick_channel((s), (array), COUNT(array))

/* A web visit to the cancellation page: a few clicks, the last on "cancel",
 * then CANCEL_INTENT (a reason attribute). Returns the intent's time. */
static int64_t lab_cancel_page(script_t *s, int64_t at_ms) {
  uint32_t session = new_session(s);
  int64_t t = lab_clicks(s, at_ms, CX_CHANNEL_WEB, session, 2 + rng_below(&s->rng, 3),
                         ELEMENT_cancel);
  planned_t intent = lab_event(s, t, CX_CHANNEL_WEB, CX_EVENT_CANCEL_INTENT, TOPIC_cancellation,
                               0);
  intent.session = session;
  intent.detail = DETAIL(DETAIL_CANCEL, rng_below(&s->rng, COUNT(cancel_reasons)));
  lab_plan(s, &intent);
  return t;
}

/* ---- labelled mode: engagement_drop ---- */

/* When engagement_drop must first fire for a customer whose app/web events
 * are times[0 .. count) (sorted), by docs/rules.md: digital events counted
 * per UTC day; checks on each digital event (its day counted up to and with
 * it) and at the end of every UTC day from the first digital day on (the
 * day-end timer, at the day's last millisecond, so that the check belongs to
 * the day whose 7 days it measures, as operators/detect_digital.c reads "the
 * end of each day"); recent = the 7 days up
 * to the check, baseline = the 28 before them, the history reaching back to
 * the baseline's first day; fires when baseline / 28 >= 1 and recent / 7 <=
 * 0.25 * baseline / 28, that is 16 * recent <= baseline. Returns -1 when it
 * does not fire up to until_ms. */
static int64_t engagement_first_fire(const int64_t *times, size_t count, int64_t until_ms) {
  if (count == 0)
    return -1;
  uint32_t per_day[ENGAGEMENT_DAYS_MAX] = {0};
  int64_t first_day = times[0] / DAY_MS;
  size_t next = 0;
  for (int64_t day = first_day; day - first_day < ENGAGEMENT_DAYS_MAX; day++) {
    int64_t index = day - first_day;
    /* one check per event of the day, then one at its end */
    for (;;) {
      bool at_event = next < count && times[next] / DAY_MS == day;
      int64_t check_ms = at_event ? times[next] : (day + 1) * DAY_MS - 1;
      if (check_ms > until_ms)
        return -1;
      if (at_event)
        per_day[index]++;
      if (index >= 34) {
        uint64_t recent = 0, baseline = 0;
        for (int64_t d = index - 6; d <= index; d++)
          recent += per_day[d];
        for (int64_t d = index - 34; d <= index - 7; d++)
          baseline += per_day[d];
        if (baseline >= 28 && 16 * recent <= baseline)
          return check_ms;
      }
      if (!at_event)
        break;
      next++;
    }
  }
  return -1;
}

/* Regular app (or web) use on days [0, days) from day_ms: one or two sessions
 * a day of 3 to 6 clicks, so 3 to 12 events a day. */
static void steady_use(script_t *s, int64_t day_ms, uint32_t days) {
  cx_channel_t channel = rng_chance(&s->rng, 700) ? CX_CHANNEL_APP : CX_CHANNEL_WEB;
  for (uint32_t day = 0; day < days; day++) {
    int64_t start = day_ms + (int64_t)day * DAY_MS;
    lab_clicks(s, start + between(&s->rng, 7 * HOUR, 13 * HOUR), channel, new_session(s),
               3 + rng_below(&s->rng, 4), -1);
    if (rng_chance(&s->rng, 500))
      lab_clicks(s, start + between(&s->rng, 15 * HOUR, 22 * HOUR), channel, new_session(s),
                 3 + rng_below(&s->rng, 4), -1);
  }
}

/* ---- labelled mode: stories ----
 *
 * Each story plans from day_ms (00:00 of its first day) on and labels the
 * rules it must trigger by docs/rules.md, with the time they first fire.
 * The comment above each says which rules and why, and why no other. Common
 * to all: story customers have no background contacts, cases, surveys or
 * self-service within QUIET_MARGIN_DAYS of the story, and their background
 * app/web use never fires anything (see above). */

/* repeat_contact ("three_contacts_in_a_day"): three CONTACTs on one assisted
 * channel, 1 to 5 h apart (the first sometimes abandoned): the third is the
 * 3rd assisted contact in 24 h. Not long_wait: waits <= 4 min (12 min in
 * all). Not abandonment: one abandonment. Not channel_hopping: one channel,
 * plus the IVR in front of calls. */
static void story_repeat_contact(script_t *s, int64_t day_ms) {
  static const cx_channel_t channels[] = {CX_CHANNEL_PHONE, CX_CHANNEL_CHAT,
                                          CX_CHANNEL_MESSAGING, CX_CHANNEL_EMAIL};
  static const uint8_t topics[] = {TOPIC_technical, TOPIC_billing, TOPIC_outage, TOPIC_device};
  s->story = "three_contacts_in_a_day";
  cx_channel_t channel = PICK(s, channels);
  uint8_t topic = topics[rng_below(&s->rng, COUNT(topics))];
  int64_t t = office_hours(s, day_ms);
  for (int k = 0; k < 3; k++) {
    if (channel == CX_CHANNEL_PHONE && rng_chance(&s->rng, 500))
      t = lab_ivr_routing(s, t, topic);
    bool abandoned = k == 0 && has_queue(channel) && rng_chance(&s->rng, 300);
    planned_t contact = lab_contact(s, t, channel, topic, 0,
                                    abandoned ? between(&s->rng, 30 * SECOND, 4 * MINUTE)
                                              : calm_wait(s, channel),
                                    abandoned ? CX_OUTCOME_ABANDONED : CX_OUTCOME_COMPLETED);
    lab_plan(s, &contact);
    if (k == 2)
      story_label(s, CX_RULE_REPEAT_CONTACT, t);
    t = lab_end(&contact) + between(&s->rng, HOUR, 5 * HOUR);
  }
}

/* long_wait ("long_hold"): one contact that waits 11 to 45 min in the queue
 * and is answered, or gives up after 11 to 20 min: a wait >= 10 min fires
 * at it. One contact: nothing else (one abandonment is not two). */
static void story_long_wait(script_t *s, int64_t day_ms) {
  static const cx_channel_t channels[] = {CX_CHANNEL_PHONE, CX_CHANNEL_PHONE, CX_CHANNEL_CHAT,
                                          CX_CHANNEL_STORE};
  s->story = "long_hold";
  cx_channel_t channel = PICK(s, channels);
  int64_t t = office_hours(s, day_ms);
  bool gives_up = rng_chance(&s->rng, 300);
  planned_t contact = lab_contact(s, t, channel, calm_topic(s), 0,
                                  gives_up ? between(&s->rng, 11 * MINUTE, 20 * MINUTE)
                                           : between(&s->rng, 11 * MINUTE, 45 * MINUTE),
                                  gives_up ? CX_OUTCOME_ABANDONED : CX_OUTCOME_COMPLETED);
  lab_plan(s, &contact);
  story_label(s, CX_RULE_LONG_WAIT, t);
}

/* abandonment ("gave_up_twice"): two phone calls abandoned after 1 to 4 min,
 * 10 min to 2 h apart: the 2nd ABANDONED contact in 24 h fires. The customer
 * gets through 25 to 30 h after the first try. Not repeat_contact: at most 2
 * assisted contacts in any 24 h. Not long_wait: waits <= 4 min. */
static void story_abandonment(script_t *s, int64_t day_ms) {
  s->story = "gave_up_twice";
  uint8_t topic = calm_topic(s);
  int64_t first = office_hours(s, day_ms), t = first;
  for (int k = 0; k < 2; k++) {
    if (rng_chance(&s->rng, 500))
      t = lab_ivr_routing(s, t, topic);
    planned_t call = lab_contact(s, t, CX_CHANNEL_PHONE, topic, 0,
                                 between(&s->rng, MINUTE, 4 * MINUTE), CX_OUTCOME_ABANDONED);
    lab_plan(s, &call);
    if (k == 1)
      story_label(s, CX_RULE_ABANDONMENT, t);
    t = lab_end(&call) + between(&s->rng, 10 * MINUTE, 2 * HOUR);
  }
  planned_t served = lab_contact(s, t + between(&s->rng, 25 * HOUR, 30 * HOUR), CX_CHANNEL_PHONE,
                                 topic, 0, calm_wait(s, CX_CHANNEL_PHONE),
                                 CX_OUTCOME_COMPLETED);
  lab_plan(s, &served);
}

/* channel_hopping ("web_then_chat_then_phone"): one topic, no case:
 * self-service on the web or app (completed), 2 to 8 h later a chat, email or
 * message, 12 to 30 h later a call or store visit: 3 distinct channels of
 * that topic within 48 h fire at the third. Not repeat_contact: 2 assisted
 * contacts. No IVR in front of the call (it would be a 3rd channel earlier). */
static void story_channel_hopping(script_t *s, int64_t day_ms) {
  static const cx_channel_t written[] = {CX_CHANNEL_CHAT, CX_CHANNEL_EMAIL,
                                         CX_CHANNEL_MESSAGING};
  static const cx_channel_t spoken[] = {CX_CHANNEL_PHONE, CX_CHANNEL_PHONE, CX_CHANNEL_STORE};
  static const uint8_t topics[] = {TOPIC_plan_change, TOPIC_roaming, TOPIC_moving,
                                   TOPIC_order_status};
  s->story = "web_then_chat_then_phone";
  uint8_t topic = topics[rng_below(&s->rng, COUNT(topics))];
  int64_t t = office_hours(s, day_ms);
  cx_channel_t digital = rng_chance(&s->rng, 500) ? CX_CHANNEL_WEB : CX_CHANNEL_APP;
  planned_t self_service = lab_event(s, t, digital, CX_EVENT_SELF_SERVICE, topic, 0);
  self_service.outcome = CX_OUTCOME_COMPLETED;
  self_service.session = new_session(s);
  lab_plan(s, &self_service);
  cx_channel_t second = PICK(s, written);
  planned_t contact = lab_contact(s, t + between(&s->rng, 2 * HOUR, 8 * HOUR), second, topic, 0,
                                  calm_wait(s, second), CX_OUTCOME_COMPLETED);
  lab_plan(s, &contact);
  cx_channel_t third = PICK(s, spoken);
  int64_t at = lab_end(&contact) + between(&s->rng, 12 * HOUR, 30 * HOUR);
  contact = lab_contact(s, at, third, topic, 0, calm_wait(s, third), CX_OUTCOME_COMPLETED);
  lab_plan(s, &contact);
  story_label(s, CX_RULE_CHANNEL_HOPPING, at);
}

/* transfer_loop ("passed_between_agents", "..._on_a_case"): one call passed
 * around in a loop, each leg within minutes: the CONTACT is TRANSFERRED to a
 * 2nd agent, that TRANSFER leg is TRANSFERRED to a 3rd, that one TRANSFERRED
 * back to the first agent, who completes it. A hand-off is written both
 * ways (outcome TRANSFERRED on the leg handed off, a TRANSFER event for the
 * new leg); the count is the larger of the two counts, so the 3rd hand-off
 * is recorded, and fires, at the 2nd TRANSFER (3 TRANSFERRED outcomes) of
 * the contact episode, or, when the call is about case K1 (opened after a
 * chat the day before), of the case in 7 days. Not long_wait: waits <= 4
 * min; not channel_hopping: chat and phone; not unresolved_case: K1
 * resolved hours after the call. */
static void story_transfer_loop(script_t *s, int64_t day_ms) {
  uint8_t topic = calm_topic(s);
  uint32_t case_number = 0;
  int64_t t = office_hours(s, day_ms);
  if (rng_chance(&s->rng, 500)) {
    s->story = "passed_between_agents_on_a_case";
    case_number = 1;
    planned_t chat = lab_contact(s, t, CX_CHANNEL_CHAT, topic, 1, calm_wait(s, CX_CHANNEL_CHAT),
                                 CX_OUTCOME_COMPLETED);
    lab_plan(s, &chat);
    lab_simple(s, lab_end(&chat) + SECOND, CX_CHANNEL_CHAT, CX_EVENT_CASE_OPENED, topic, 1, 0);
    t = office_hours(s, day_ms + DAY_MS);
  } else {
    s->story = "passed_between_agents";
  }
  planned_t call = lab_contact(s, t, CX_CHANNEL_PHONE, topic, case_number,
                               between(&s->rng, 30 * SECOND, 3 * MINUTE),
                               CX_OUTCOME_TRANSFERRED);
  lab_plan(s, &call);
  t = lab_end(&call);
  for (int k = 0; k < 3; k++) {
    planned_t transfer = lab_transfer(s, t, CX_CHANNEL_PHONE, topic, case_number,
                                      between(&s->rng, 20 * SECOND, 4 * MINUTE),
                                      k < 2 ? CX_OUTCOME_TRANSFERRED : CX_OUTCOME_COMPLETED);
    if (k == 2)
      transfer.agent = call.agent; /* back where it started */
    lab_plan(s, &transfer);
    if (k == 1)
      story_label(s, CX_RULE_TRANSFER_LOOP, t);
    t = lab_end(&transfer);
  }
  if (case_number)
    lab_simple(s, t + between(&s->rng, HOUR, 5 * HOUR), CX_CHANNEL_PHONE, CX_EVENT_CASE_RESOLVED,
               topic, 1, 0);
}

/* self_service_fallout ("failed_self_service_then_contact"): a self-service
 * attempt on the web, app or IVR that FAILS (or is ABANDONED), then 3 to 45
 * min later an assisted contact on the same topic: a failed attempt in the
 * hour before an assisted contact fires at the contact. Two channels: not
 * channel_hopping. */
static void story_self_service_fallout(script_t *s, int64_t day_ms) {
  static const cx_channel_t self_channels[] = {CX_CHANNEL_WEB, CX_CHANNEL_APP, CX_CHANNEL_IVR};
  static const cx_channel_t assisted[] = {CX_CHANNEL_CHAT, CX_CHANNEL_EMAIL,
                                          CX_CHANNEL_MESSAGING, CX_CHANNEL_PHONE};
  s->story = "failed_self_service_then_contact";
  uint8_t topic = calm_topic(s);
  int64_t t = office_hours(s, day_ms);
  cx_channel_t self_channel = PICK(s, self_channels);
  planned_t attempt = lab_event(s, t, self_channel, CX_EVENT_SELF_SERVICE, topic, 0);
  attempt.outcome = rng_chance(&s->rng, 700) ? CX_OUTCOME_FAILED : CX_OUTCOME_ABANDONED;
  if (self_channel != CX_CHANNEL_IVR)
    attempt.session = new_session(s);
  lab_plan(s, &attempt);
  cx_channel_t channel = self_channel == CX_CHANNEL_IVR ? CX_CHANNEL_PHONE : PICK(s, assisted);
  int64_t at = t + between(&s->rng, 3 * MINUTE, 45 * MINUTE);
  planned_t contact = lab_contact(s, at, channel, topic, 0, calm_wait(s, channel),
                                  CX_OUTCOME_COMPLETED);
  lab_plan(s, &contact);
  story_label(s, CX_RULE_SELF_SERVICE_FALLOUT, at);
}

/* digital_friction ("app_errors"): in one app/web session, two failed logins,
 * a few clicks, then an ERROR: the session's 3rd ERROR/LOGIN_FAILED fires.
 * ("rage_clicks"): in one session, clicks on assorted elements, then three
 * clicks on one element within 0.3 to 0.7 s: a rage-click burst fires at the
 * third. Nothing else: digital events only. */
static void story_digital_friction(script_t *s, int64_t day_ms) {
  cx_channel_t channel = rng_chance(&s->rng, 600) ? CX_CHANNEL_APP : CX_CHANNEL_WEB;
  uint32_t session = new_session(s);
  int64_t t = office_hours(s, day_ms);
  if (rng_chance(&s->rng, 500)) {
    s->story = "app_errors";
    for (int k = 0; k < 2; k++) {
      planned_t login = lab_event(s, t, channel, CX_EVENT_LOGIN_FAILED, TOPIC_NONE, 0);
      login.session = session;
      login.detail = DETAIL(DETAIL_ELEMENT, ELEMENT_login);
      lab_plan(s, &login);
      t += between(&s->rng, 5 * SECOND, 20 * SECOND);
    }
    t = lab_clicks(s, t, channel, session, 1 + rng_below(&s->rng, 4), -1);
    planned_t error = lab_event(s, t, channel, CX_EVENT_ERROR, TOPIC_NONE, 0);
    error.session = session;
    error.detail = DETAIL(DETAIL_ERROR, rng_below(&s->rng, COUNT(error_codes)));
    lab_plan(s, &error);
    story_label(s, CX_RULE_DIGITAL_FRICTION, t);
    lab_clicks(s, t + between(&s->rng, 2 * SECOND, 10 * SECOND), channel, session,
               rng_below(&s->rng, 3), -1);
  } else {
    s->story = "rage_clicks";
    int element = rng_chance(&s->rng, 500) ? ELEMENT_pay : ELEMENT_login;
    t = lab_clicks(s, t, channel, session, 2 + rng_below(&s->rng, 4), ELEMENT_home);
    planned_t click = lab_event(s, t, channel, CX_EVENT_CLICK, TOPIC_NONE, 0);
    click.session = session;
    click.detail = DETAIL(DETAIL_ELEMENT, element);
    for (int k = 0; k < 3; k++) {
      lab_plan(s, &click);
      if (k == 2)
        story_label(s, CX_RULE_DIGITAL_FRICTION, click.at_ms);
      click.at_ms += between(&s->rng, 150, 350);
    }
    lab_clicks(s, click.at_ms + between(&s->rng, 3 * SECOND, 10 * SECOND), channel, session,
               1 + rng_below(&s->rng, 3), -1);
  }
}

/* negative_voice ("bad_survey"): a calm contact, then a survey with CSAT 1-2,
 * NPS 0-6 and sometimes a comment with sentiment -0.6 to -0.95; ("detractor"):
 * the survey has CSAT 3 but NPS 0-5; ("angry_chat"): a chat whose sentiment
 * is -0.55 to -0.95. The survey or chat fires. One contact: nothing else. */
static void story_negative_voice(script_t *s, int64_t day_ms) {
  uint8_t topic = calm_topic(s);
  int64_t t = office_hours(s, day_ms);
  uint32_t variant = rng_below(&s->rng, 3);
  if (variant == 2) {
    s->story = "angry_chat";
    planned_t chat = lab_contact(s, t, CX_CHANNEL_CHAT, topic, 0, calm_wait(s, CX_CHANNEL_CHAT),
                                 CX_OUTCOME_COMPLETED);
    set_sentiment(&chat, (int8_t)-between(&s->rng, 55, 95));
    lab_plan(s, &chat);
    story_label(s, CX_RULE_NEGATIVE_VOICE, t);
    return;
  }
  cx_channel_t channel = rng_chance(&s->rng, 600) ? CX_CHANNEL_PHONE : CX_CHANNEL_CHAT;
  planned_t contact = lab_contact(s, t, channel, topic, 0, calm_wait(s, channel),
                                  CX_OUTCOME_COMPLETED);
  lab_plan(s, &contact);
  int64_t at = lab_end(&contact) + between(&s->rng, 10 * MINUTE, 90 * MINUTE);
  if (variant == 0) {
    s->story = "bad_survey";
    lab_survey(s, at, topic, 0, (int)between(&s->rng, 1, 2), (int)between(&s->rng, 0, 6),
               rng_chance(&s->rng, 500) ? -(int)between(&s->rng, 60, 95) : SENTIMENT_NONE);
  } else {
    s->story = "detractor";
    lab_survey(s, at, topic, 0, 3, (int)between(&s->rng, 0, 5), SENTIMENT_NONE);
  }
  story_label(s, CX_RULE_NEGATIVE_VOICE, at);
}

/* unresolved_case ("case_past_sla"): a contact opens case K1 (CASE_OPENED),
 * a status call 20 to 40 h later, the case is resolved 74 to 100 h after it
 * opened: the SLA timer fires at opened + 72 h (the resolution itself moves
 * the watermark past it). ("case_reopened"): K1 opened, resolved 2 to 20 h
 * later, CASE_REOPENED 4 to 24 h after that fires at once; a follow-up
 * contact; resolved again 2 to 20 h later, within both SLAs. Contacts are a
 * day apart on at most two channels: nothing else. */
static void story_unresolved_case(script_t *s, int64_t day_ms) {
  static const uint8_t topics[] = {TOPIC_technical, TOPIC_outage, TOPIC_device,
                                   TOPIC_account_access};
  uint8_t topic = topics[rng_below(&s->rng, COUNT(topics))];
  cx_channel_t channel = rng_chance(&s->rng, 600) ? CX_CHANNEL_PHONE : CX_CHANNEL_CHAT;
  planned_t contact = lab_contact(s, office_hours(s, day_ms), channel, topic, 0,
                                  calm_wait(s, channel), CX_OUTCOME_COMPLETED);
  lab_plan(s, &contact);
  int64_t opened = lab_end(&contact) + SECOND;
  lab_simple(s, opened, channel, CX_EVENT_CASE_OPENED, topic, 1, 0);
  if (rng_chance(&s->rng, 500)) {
    s->story = "case_past_sla";
    planned_t status = lab_contact(s, opened + between(&s->rng, 20 * HOUR, 40 * HOUR), channel,
                                   topic, 1, calm_wait(s, channel), CX_OUTCOME_COMPLETED);
    lab_plan(s, &status);
    lab_simple(s, opened + between(&s->rng, 74 * HOUR, 100 * HOUR), channel,
               CX_EVENT_CASE_RESOLVED, topic, 1, 0);
    story_label(s, CX_RULE_UNRESOLVED_CASE, opened + 72 * HOUR);
  } else {
    s->story = "case_reopened";
    int64_t resolved = opened + between(&s->rng, 2 * HOUR, 20 * HOUR);
    lab_simple(s, resolved, channel, CX_EVENT_CASE_RESOLVED, topic, 1, 0);
    int64_t reopened = resolved + between(&s->rng, 4 * HOUR, 24 * HOUR);
    lab_simple(s, reopened, channel, CX_EVENT_CASE_REOPENED, topic, 1, 0);
    story_label(s, CX_RULE_UNRESOLVED_CASE, reopened);
    planned_t follow_up = lab_contact(s, reopened + between(&s->rng, 10 * MINUTE, HOUR), channel,
                                      topic, 1, calm_wait(s, channel), CX_OUTCOME_COMPLETED);
    lab_plan(s, &follow_up);
    lab_simple(s, reopened + between(&s->rng, 2 * HOUR, 20 * HOUR), channel,
               CX_EVENT_CASE_RESOLVED, topic, 1, 0);
  }
}

/* broken_promise ("technician_no_show"): a call books a technician; the next
 * morning APPOINTMENT_MISSED fires; the customer calls; the technician comes a
 * day later. ("callback_not_made"): a contact, and the next day a call whose
 * "promise" attribute is "callback_missed" fires. At most 2 assisted contacts
 * in 24 h, phone and field only: nothing else. */
static void story_broken_promise(script_t *s, int64_t day_ms) {
  if (rng_chance(&s->rng, 500)) {
    s->story = "technician_no_show";
    int64_t booked = day_ms + between(&s->rng, 13 * HOUR, 17 * HOUR);
    planned_t booking = lab_contact(s, booked, CX_CHANNEL_PHONE, TOPIC_installation, 0,
                                    calm_wait(s, CX_CHANNEL_PHONE), CX_OUTCOME_COMPLETED);
    lab_plan(s, &booking);
    int64_t missed = day_ms + DAY_MS + between(&s->rng, 8 * HOUR, 12 * HOUR);
    lab_simple(s, missed, CX_CHANNEL_FIELD, CX_EVENT_APPOINTMENT_MISSED, TOPIC_installation, 0, 0);
    story_label(s, CX_RULE_BROKEN_PROMISE, missed);
    planned_t call = lab_contact(s, missed + between(&s->rng, 30 * MINUTE, 2 * HOUR),
                                 CX_CHANNEL_PHONE, TOPIC_installation, 0,
                                 calm_wait(s, CX_CHANNEL_PHONE), CX_OUTCOME_COMPLETED);
    lab_plan(s, &call);
    planned_t visit = lab_contact(s, day_ms + 2 * DAY_MS + between(&s->rng, 8 * HOUR, 12 * HOUR),
                                  CX_CHANNEL_FIELD, TOPIC_installation, 0, -1,
                                  CX_OUTCOME_COMPLETED);
    lab_plan(s, &visit);
  } else {
    s->story = "callback_not_made";
    uint8_t topic = calm_topic(s);
    cx_channel_t channel = rng_chance(&s->rng, 500) ? CX_CHANNEL_PHONE : CX_CHANNEL_CHAT;
    planned_t first = lab_contact(s, office_hours(s, day_ms), channel, topic, 0,
                                  calm_wait(s, channel), CX_OUTCOME_COMPLETED);
    lab_plan(s, &first);
    int64_t at = office_hours(s, day_ms + DAY_MS);
    planned_t call = lab_contact(s, at, CX_CHANNEL_PHONE, topic, 0,
                                 calm_wait(s, CX_CHANNEL_PHONE), CX_OUTCOME_COMPLETED);
    call.detail = DETAIL(DETAIL_PROMISE, 1); /* callback_missed */
    lab_plan(s, &call);
    story_label(s, CX_RULE_BROKEN_PROMISE, at);
  }
}

/* cancellation_intent ("cancel_page"): a web visit that ends with
 * CANCEL_INTENT; ("competitor_offer"): a call with a "competitor" attribute;
 * ("port_out_request"): a chat whose "intent" is "port_out". Fires at that
 * event. No frustration before it: not frustration_then_intent. */
static void story_cancellation_intent(script_t *s, int64_t day_ms) {
  int64_t t = office_hours(s, day_ms);
  uint32_t variant = rng_below(&s->rng, 3);
  if (variant == 0) {
    s->story = "cancel_page";
    story_label(s, CX_RULE_CANCELLATION_INTENT, lab_cancel_page(s, t));
    return;
  }
  bool competitor = variant == 1;
  s->story = competitor ? "competitor_offer" : "port_out_request";
  cx_channel_t channel = competitor ? CX_CHANNEL_PHONE : CX_CHANNEL_CHAT;
  planned_t contact = lab_contact(s, t, channel,
                                  competitor ? TOPIC_plan_change : TOPIC_cancellation, 0,
                                  calm_wait(s, channel), CX_OUTCOME_COMPLETED);
  contact.detail = competitor
                       ? DETAIL(DETAIL_COMPETITOR, rng_below(&s->rng, COUNT(competitors)))
                       : DETAIL(DETAIL_INTENT, 1); /* port_out */
  lab_plan(s, &contact);
  story_label(s, CX_RULE_CANCELLATION_INTENT, t);
}

/* engagement_drop ("silent_leaver"): app or web use every day from the
 * first day of the set for 36 to 39 days (3 to 12 events a day), then none;
 * one store visit about a device 10 to 12 days later. The drop fires at the
 * first check where the last 7 days hold at most a 16th of the 28 days
 * before (engagement_first_fire()), by the day-end timer some 6 days into
 * the silence. The story makes all of the customer's app/web events. */
static void story_engagement_drop(script_t *s, int64_t day_ms) {
  s->story = "silent_leaver";
  uint32_t active_days = 36 + rng_below(&s->rng, 4);
  steady_use(s, day_ms, active_days);
  int64_t visit = office_hours(s, day_ms + (int64_t)(active_days + 10 + rng_below(&s->rng, 3)) *
                                              DAY_MS);
  planned_t store = lab_contact(s, visit, CX_CHANNEL_STORE, TOPIC_device, 0,
                                calm_wait(s, CX_CHANNEL_STORE), CX_OUTCOME_COMPLETED);
  lab_plan(s, &store);
  int64_t fires = engagement_first_fire(s->digital_ms, s->digital_count, visit);
  assert(fires > 0);
  story_label(s, CX_RULE_ENGAGEMENT_DROP, fires);
}

/* escalation ("complaint"): a calm contact, the next day a COMPLAINT by
 * e-mail; ("escalated_chat"): a chat that ends ESCALATED (to a supervisor).
 * Fires at the complaint or chat; no scores, no sentiment: nothing else. */
static void story_escalation(script_t *s, int64_t day_ms) {
  uint8_t topic = calm_topic(s);
  int64_t t = office_hours(s, day_ms);
  if (rng_chance(&s->rng, 500)) {
    s->story = "complaint";
    cx_channel_t channel = rng_chance(&s->rng, 500) ? CX_CHANNEL_PHONE : CX_CHANNEL_CHAT;
    planned_t contact = lab_contact(s, t, channel, topic, 0, calm_wait(s, channel),
                                    CX_OUTCOME_COMPLETED);
    lab_plan(s, &contact);
    int64_t at = office_hours(s, day_ms + DAY_MS);
    lab_simple(s, at, CX_CHANNEL_EMAIL, CX_EVENT_COMPLAINT, topic, 0, 0);
    story_label(s, CX_RULE_ESCALATION, at);
  } else {
    s->story = "escalated_chat";
    planned_t chat = lab_contact(s, t, CX_CHANNEL_CHAT, topic, 0, calm_wait(s, CX_CHANNEL_CHAT),
                                 CX_OUTCOME_ESCALATED);
    lab_plan(s, &chat);
    story_label(s, CX_RULE_ESCALATION, t);
  }
}

/* payment_friction ("payment_failed"): a PAYMENT_FAILED, then an app session
 * on "pay" hours later; ("billing_dispute"): a contact on topic
 * billing_dispute; ("chargeback"): an e-mail with a "dispute" attribute. The
 * first payment problem in 30 days fires. Nothing else. */
static void story_payment_friction(script_t *s, int64_t day_ms) {
  int64_t t = office_hours(s, day_ms);
  uint32_t variant = rng_below(&s->rng, 3);
  if (variant == 0) {
    s->story = "payment_failed";
    lab_simple(s, t, rng_chance(&s->rng, 500) ? CX_CHANNEL_OTHER : CX_CHANNEL_APP,
               CX_EVENT_PAYMENT_FAILED, TOPIC_payment, 0,
               DETAIL(DETAIL_PAYMENT, rng_below(&s->rng, COUNT(payment_reasons))));
    lab_clicks(s, t + between(&s->rng, HOUR, 5 * HOUR), CX_CHANNEL_APP, new_session(s),
               2 + rng_below(&s->rng, 3), ELEMENT_pay);
  } else if (variant == 1) {
    s->story = "billing_dispute";
    cx_channel_t channel = rng_chance(&s->rng, 500) ? CX_CHANNEL_PHONE : CX_CHANNEL_CHAT;
    planned_t contact = lab_contact(s, t, channel, TOPIC_billing_dispute, 0,
                                    calm_wait(s, channel), CX_OUTCOME_COMPLETED);
    lab_plan(s, &contact);
  } else {
    s->story = "chargeback";
    planned_t mail = lab_contact(s, t, CX_CHANNEL_EMAIL, TOPIC_billing, 0, -1,
                                 CX_OUTCOME_COMPLETED);
    mail.detail = DETAIL(DETAIL_DISPUTE, rng_below(&s->rng, COUNT(disputes)));
    lab_plan(s, &mail);
  }
  story_label(s, CX_RULE_PAYMENT_FRICTION, t);
}

/* frustration_then_intent ("frustrated_then_cancels"): one frustration, then
 * 26 h to 5 days later a cancellation intent (the web cancellation page, or a
 * call whose "intent" is "cancel"): the intent fires cancellation_intent and,
 * with a frustration alert in the 7 days before, frustration_then_intent.
 * The frustration is one of: a 12 to 30 min wait (long_wait), two abandoned
 * calls (abandonment), a bad survey (negative_voice), a missed appointment
 * (broken_promise), each as in its own story. The intent call is a day after
 * the last contact: at most 2 contacts in 24 h; its topic differs. */
static void story_frustration_then_intent(script_t *s, int64_t day_ms) {
  s->story = "frustrated_then_cancels";
  uint8_t topic = calm_topic(s);
  int64_t t = office_hours(s, day_ms), frustrated = t, last = t;
  switch (rng_below(&s->rng, 4)) {
  case 0: {
    planned_t call = lab_contact(s, t, CX_CHANNEL_PHONE, topic, 0,
                                 between(&s->rng, 12 * MINUTE, 30 * MINUTE),
                                 CX_OUTCOME_COMPLETED);
    lab_plan(s, &call);
    story_label(s, CX_RULE_LONG_WAIT, t);
    last = lab_end(&call);
    break;
  }
  case 1:
    for (int k = 0; k < 2; k++) {
      planned_t call = lab_contact(s, t, CX_CHANNEL_PHONE, topic, 0,
                                   between(&s->rng, MINUTE, 4 * MINUTE), CX_OUTCOME_ABANDONED);
      lab_plan(s, &call);
      frustrated = t;
      last = lab_end(&call);
      t = last + between(&s->rng, 10 * MINUTE, 90 * MINUTE);
    }
    story_label(s, CX_RULE_ABANDONMENT, frustrated);
    break;
  case 2: {
    planned_t chat = lab_contact(s, t, CX_CHANNEL_CHAT, topic, 0, calm_wait(s, CX_CHANNEL_CHAT),
                                 CX_OUTCOME_COMPLETED);
    lab_plan(s, &chat);
    frustrated = lab_end(&chat) + between(&s->rng, 10 * MINUTE, HOUR);
    lab_survey(s, frustrated, topic, 0, (int)between(&s->rng, 1, 2), (int)between(&s->rng, 0, 4),
               SENTIMENT_NONE);
    story_label(s, CX_RULE_NEGATIVE_VOICE, frustrated);
    last = frustrated;
    break;
  }
  default:
    lab_simple(s, t, CX_CHANNEL_FIELD, CX_EVENT_APPOINTMENT_MISSED, TOPIC_installation, 0, 0);
    story_label(s, CX_RULE_BROKEN_PROMISE, t);
    break;
  }
  int64_t at = last + between(&s->rng, 26 * HOUR, 5 * DAY_MS);
  if (rng_chance(&s->rng, 500)) {
    at = lab_cancel_page(s, at);
  } else {
    planned_t call = lab_contact(s, at, CX_CHANNEL_PHONE, TOPIC_cancellation, 0,
                                 calm_wait(s, CX_CHANNEL_PHONE), CX_OUTCOME_COMPLETED);
    call.detail = DETAIL(DETAIL_INTENT, 0); /* cancel */
    lab_plan(s, &call);
  }
  story_label(s, CX_RULE_CANCELLATION_INTENT, at);
  story_label(s, CX_RULE_FRUSTRATION_THEN_INTENT, at);
}

/* bad_review ("public_bad_review"): a calm chat, then hours later a REVIEW
 * with CSAT 1-2 and sentiment -0.6 to -0.95: a public negative review fires
 * escalation, and its CSAT and sentiment fire negative_voice. */
static void story_bad_review(script_t *s, int64_t day_ms) {
  s->story = "public_bad_review";
  uint8_t topic = calm_topic(s);
  planned_t chat = lab_contact(s, office_hours(s, day_ms), CX_CHANNEL_CHAT, topic, 0,
                               calm_wait(s, CX_CHANNEL_CHAT), CX_OUTCOME_COMPLETED);
  lab_plan(s, &chat);
  int64_t at = lab_end(&chat) + between(&s->rng, HOUR, 6 * HOUR);
  planned_t review = lab_event(s, at, CX_CHANNEL_SOCIAL, CX_EVENT_REVIEW, topic, 0);
  review.csat = (uint8_t)between(&s->rng, 1, 2);
  set_sentiment(&review, (int8_t)-between(&s->rng, 60, 95));
  lab_plan(s, &review);
  story_label(s, CX_RULE_ESCALATION, at);
  story_label(s, CX_RULE_NEGATIVE_VOICE, at);
}

/* The installation that needs a technician, three agents and a long evening
 * ("installation_long_evening"), all on case K1 (topic installation):
 *   day 0, 09-12 h: a call books the installation; CASE_OPENED K1.
 *   day 1, 08-11 h: APPOINTMENT_MISSED                   -> broken_promise
 *   day 1, 17:30-19 h: call 1 waits 12-25 min            -> long_wait (>= 10 min)
 *     and is TRANSFERRED to a 2nd agent (a TRANSFER leg), who TRANSFERS to a
 *     3rd, who TRANSFERS back to the first, who completes it: the 2nd TRANSFER
 *     records the 3rd hand-off of K1 in 7 days (3 TRANSFERRED outcomes, the
 *     larger count)                                       -> transfer_loop
 *   40-80 min later call 2 (waits 4-8 min); 30-60 min later call 3
 *                                                        -> repeat_contact (3
 *     assisted contacts in 24 h; the booking was > 24 h before)
 *   day 2, 08-10 h: survey CSAT 1, NPS 0-3, sentiment -0.6..-0.9 -> negative_voice
 *   day 2, 11-14 h: the technician (FIELD contact); K1 resolved after it,
 *     < 72 h after it opened: not unresolved_case.
 * Phone and field only (no IVR, no chat): not channel_hopping; no abandonment,
 * escalation or intent. */
static void story_installation(script_t *s, int64_t day_ms) {
  s->story = "installation_long_evening";
  const uint8_t topic = TOPIC_installation;
  const cx_channel_t phone = CX_CHANNEL_PHONE;
  planned_t booking = lab_contact(s, day_ms + between(&s->rng, 9 * HOUR, 12 * HOUR), phone, topic,
                                  1, between(&s->rng, MINUTE, 3 * MINUTE), CX_OUTCOME_COMPLETED);
  lab_plan(s, &booking);
  lab_simple(s, lab_end(&booking) + SECOND, phone, CX_EVENT_CASE_OPENED, topic, 1, 0);
  int64_t missed = day_ms + DAY_MS + between(&s->rng, 8 * HOUR, 11 * HOUR);
  lab_simple(s, missed, CX_CHANNEL_FIELD, CX_EVENT_APPOINTMENT_MISSED, topic, 1, 0);
  story_label(s, CX_RULE_BROKEN_PROMISE, missed);

  int64_t t = day_ms + DAY_MS + between(&s->rng, 17 * HOUR + 30 * MINUTE, 19 * HOUR);
  planned_t call = lab_contact(s, t, phone, topic, 1, between(&s->rng, 12 * MINUTE, 25 * MINUTE),
                               CX_OUTCOME_TRANSFERRED);
  lab_plan(s, &call);
  story_label(s, CX_RULE_LONG_WAIT, t);
  t = lab_end(&call);
  for (int k = 0; k < 3; k++) {
    planned_t transfer = lab_transfer(s, t, phone, topic, 1,
                                      between(&s->rng, 2 * MINUTE, 6 * MINUTE),
                                      k < 2 ? CX_OUTCOME_TRANSFERRED : CX_OUTCOME_COMPLETED);
    if (k == 2)
      transfer.agent = call.agent; /* back to the first agent */
    lab_plan(s, &transfer);
    if (k == 1)
      story_label(s, CX_RULE_TRANSFER_LOOP, t);
    t = lab_end(&transfer);
  }
  t += between(&s->rng, 40 * MINUTE, 80 * MINUTE);
  call = lab_contact(s, t, phone, topic, 1, between(&s->rng, 4 * MINUTE, 8 * MINUTE),
                     CX_OUTCOME_COMPLETED);
  lab_plan(s, &call);
  t = lab_end(&call) + between(&s->rng, 30 * MINUTE, 60 * MINUTE);
  call = lab_contact(s, t, phone, topic, 1, between(&s->rng, MINUTE, 5 * MINUTE),
                     CX_OUTCOME_COMPLETED);
  lab_plan(s, &call);
  story_label(s, CX_RULE_REPEAT_CONTACT, t);

  int64_t surveyed = day_ms + 2 * DAY_MS + between(&s->rng, 8 * HOUR, 10 * HOUR);
  lab_survey(s, surveyed, topic, 1, 1, (int)between(&s->rng, 0, 3),
             -(int)between(&s->rng, 60, 90));
  story_label(s, CX_RULE_NEGATIVE_VOICE, surveyed);
  planned_t visit = lab_contact(s, day_ms + 2 * DAY_MS + between(&s->rng, 11 * HOUR, 14 * HOUR),
                                CX_CHANNEL_FIELD, topic, 1, -1, CX_OUTCOME_COMPLETED);
  lab_plan(s, &visit);
  lab_simple(s, lab_end(&visit) + between(&s->rng, 5 * MINUTE, 20 * MINUTE), CX_CHANNEL_FIELD,
             CX_EVENT_CASE_RESOLVED, topic, 1, 0);
}

/* Self-service that fails before a call ("self_service_fails_before_call"):
 * in the app a failed login, clicks, then self-service on billing FAILS
 * twice; 8 to 30 min later the customer calls (no IVR): failed self-service
 * in the hour before an assisted contact -> self_service_fallout. One
 * LOGIN_FAILED: not digital_friction; app and phone: not channel_hopping. */
static void story_self_service_before_call(script_t *s, int64_t day_ms) {
  s->story = "self_service_fails_before_call";
  uint32_t session = new_session(s);
  int64_t t = office_hours(s, day_ms);
  planned_t login = lab_event(s, t, CX_CHANNEL_APP, CX_EVENT_LOGIN_FAILED, TOPIC_NONE, 0);
  login.session = session;
  login.detail = DETAIL(DETAIL_ELEMENT, ELEMENT_login);
  lab_plan(s, &login);
  t = lab_clicks(s, t + between(&s->rng, 10 * SECOND, 30 * SECOND), CX_CHANNEL_APP, session,
                 2 + rng_below(&s->rng, 3), ELEMENT_billing);
  for (int k = 0; k < 2; k++) {
    planned_t attempt = lab_event(s, t, CX_CHANNEL_APP, CX_EVENT_SELF_SERVICE, TOPIC_billing, 0);
    attempt.session = session;
    attempt.outcome = CX_OUTCOME_FAILED;
    lab_plan(s, &attempt);
    t += between(&s->rng, MINUTE, 3 * MINUTE);
  }
  int64_t at = t + between(&s->rng, 8 * MINUTE, 30 * MINUTE);
  planned_t call = lab_contact(s, at, CX_CHANNEL_PHONE, TOPIC_billing, 0,
                               between(&s->rng, MINUTE, 4 * MINUTE), CX_OUTCOME_COMPLETED);
  lab_plan(s, &call);
  story_label(s, CX_RULE_SELF_SERVICE_FALLOUT, at);
}

/* A quiet customer who visits the cancellation page
 * ("quiet_customer_cancel_page"): daily app/web use for 36 to 39 days, then
 * quiet: one usage event 2 days later, nothing else until a web visit to
 * the cancellation page 8 to 11 days into the quiet. engagement_drop fires
 * when the last 7 days hold at most a 16th of the 28 before (the day-end
 * timer, some 6 days into the quiet; engagement_first_fire()); the visit's
 * CANCEL_INTENT fires cancellation_intent. No frustration: not
 * frustration_then_intent. */
static void story_quiet_cancel_page(script_t *s, int64_t day_ms) {
  s->story = "quiet_customer_cancel_page";
  uint32_t active_days = 36 + rng_below(&s->rng, 4);
  steady_use(s, day_ms, active_days);
  int64_t quiet_ms = day_ms + (int64_t)active_days * DAY_MS;
  lab_simple(s, office_hours(s, quiet_ms + 2 * DAY_MS), CX_CHANNEL_APP, CX_EVENT_USAGE,
             TOPIC_NONE, 0, DETAIL(DETAIL_USAGE, rng_below(&s->rng, COUNT(usage_kinds))));
  int64_t visit = office_hours(s, quiet_ms + (int64_t)(8 + rng_below(&s->rng, 4)) * DAY_MS);
  int64_t intent = lab_cancel_page(s, visit);
  story_label(s, CX_RULE_CANCELLATION_INTENT, intent);
  int64_t fires = engagement_first_fire(s->digital_ms, s->digital_count, intent);
  assert(fires > 0);
  story_label(s, CX_RULE_ENGAGEMENT_DROP, fires);
}

typedef void (*story_plan_t)(script_t *s, int64_t day_ms);

static const story_plan_t story_plans[STORY__COUNT] = {
#define CX__X(id, name) story_##name,
  STORY_MAP(CX__X)
#undef CX__X
};

static bool story_owns_digital(uint32_t kind) {
  return kind == STORY_ENGAGEMENT_DROP || kind == STORY_QUIET_CANCEL_PAGE;
}

/* ---- labelled mode: roles and the background ---- */

static uint64_t gcd_u64(uint64_t a, uint64_t b) {
  while (b) {
    uint64_t r = a % b;
    a = b;
    b = r;
  }
  return a;
}

/* A permutation of the customers (multiplier coprime to the count) puts the
 * story customers at places that change with the seed; 2 in 5 customers
 * (at least one per story, when there are enough) have a story. */
static void roles_init(cx_journey_t *journey) {
  uint64_t customers = journey->config.customers;
  rng_t rng = {journey->seed_key ^ mix64(0x726f6c6573ULL)};
  uint64_t multiplier = 1 + rng_next(&rng) % customers;
  while (gcd_u64(multiplier, customers) != 1)
    multiplier = multiplier % customers + 1;
  journey->role_multiplier = multiplier;
  journey->role_offset = rng_next(&rng) % customers;
  uint64_t stories = customers * 2 / 5;
  if (stories < STORY__COUNT)
    stories = customers < STORY__COUNT ? customers : STORY__COUNT;
  journey->story_customers = stories;
}

static role_t role_of(const cx_journey_t *journey, uint32_t customer) {
  role_t role;
  memset(&role, 0, sizeof(role));
  uint64_t customers = journey->config.customers;
  /* multiplier * customer < 2^27 * 2^27: no overflow */
  uint64_t slot = (journey->role_multiplier * customer + journey->role_offset) % customers;
  if (slot >= journey->story_customers)
    return role;
  role.story = true;
  role.kind = (uint32_t)(slot % STORY__COUNT);
  uint32_t days = journey->config.days;
  if (story_owns_digital(role.kind)) {
    role.day = 0;
    role.quiet_from = 0;
    role.quiet_to = days; /* the whole set: the story is all there is */
    role.own_digital = true;
    return role;
  }
  rng_t rng = {journey->seed_key ^ mix64(0x73746f7279646179ULL + customer)};
  role.day = 2 + rng_below(&rng, days - STORY_SPAN_DAYS - 5);
  role.quiet_from = role.day < QUIET_MARGIN_DAYS ? 0 : role.day - QUIET_MARGIN_DAYS;
  role.quiet_to = role.day + STORY_SPAN_DAYS + QUIET_MARGIN_DAYS;
  return role;
}

static habits_t habits_of(const cx_journey_t *journey, uint32_t customer) {
  rng_t rng = {journey->seed_key ^ mix64(0x6f7264696e617279ULL + customer)};
  habits_t habits;
  uint32_t r = rng_below(&rng, 100);
  habits.digital_period = r < 20 ? 0 : r < 35 ? 2 : r < 50 ? 3 : 1;
  habits.digital_phase = habits.digital_period > 1 ? rng_below(&rng, habits.digital_period) : 0;
  habits.sessions_per_day = 1 + rng_below(&rng, 3);
  habits.app_per_mille = rng_below(&rng, 1001);
  habits.contact_period = 4 + rng_below(&rng, 7);
  habits.contact_phase = rng_below(&rng, habits.contact_period);
  r = rng_below(&rng, 100);
  habits.favourite = r < 40   ? CX_CHANNEL_PHONE
                     : r < 62 ? CX_CHANNEL_CHAT
                     : r < 74 ? CX_CHANNEL_EMAIL
                     : r < 84 ? CX_CHANNEL_MESSAGING
                     : r < 88 ? CX_CHANNEL_SMS
                     : r < 92 ? CX_CHANNEL_SOCIAL
                              : CX_CHANNEL_STORE;
  habits.self_channel = habits.favourite == CX_CHANNEL_PHONE ? CX_CHANNEL_IVR
                        : rng_chance(&rng, habits.app_per_mille) ? CX_CHANNEL_APP
                                                                 : CX_CHANNEL_WEB;
  return habits;
}

/* One calm app/web session of 4 to 8 events: clicks 2 to 15 s apart, at most
 * two failures (a failed login first, an error in the middle), sometimes a
 * purchase. */
static void calm_session(script_t *s, int64_t at_ms, cx_channel_t channel) {
  uint32_t session = new_session(s);
  uint32_t events = 4 + rng_below(&s->rng, 5);
  bool login_failed = rng_chance(&s->rng, 60);
  uint32_t failure = rng_chance(&s->rng, 80) ? events / 2 : events;
  int64_t t = at_ms;
  for (uint32_t k = 0; k < events; k++) {
    planned_t event = lab_event(s, t, channel, CX_EVENT_CLICK, TOPIC_NONE, 0);
    event.session = session;
    if (k == 0 && login_failed) {
      event.type = CX_EVENT_LOGIN_FAILED;
      event.detail = DETAIL(DETAIL_ELEMENT, ELEMENT_login);
    } else if (k == failure) {
      event.type = CX_EVENT_ERROR;
      event.detail = DETAIL(DETAIL_ERROR, rng_below(&s->rng, COUNT(error_codes)));
    } else if (k + 1 == events && k > 1 && rng_chance(&s->rng, 40)) {
      event.type = CX_EVENT_PURCHASE;
      event.detail = DETAIL(DETAIL_PRODUCT, rng_below(&s->rng, COUNT(products)));
    } else {
      event.detail = DETAIL(DETAIL_ELEMENT, rng_below(&s->rng, ELEMENT__COUNT));
    }
    lab_plan(s, &event);
    t += between(&s->rng, 2 * SECOND, 15 * SECOND);
  }
}

static void background_digital(script_t *s, const habits_t *habits, uint32_t day, int64_t day_ms) {
  uint32_t sessions = habits->digital_period == 0   ? 0
                      : habits->digital_period == 1 ? habits->sessions_per_day
                      : day % habits->digital_period == habits->digital_phase ? 1 : 0;
  /* 07:00 .. 23:00 in equal slots, one session in each */
  int64_t slot = 16 * HOUR / (sessions ? sessions : 1);
  for (uint32_t k = 0; k < sessions; k++) {
    cx_channel_t channel = rng_chance(&s->rng, habits->app_per_mille) ? CX_CHANNEL_APP
                                                                       : CX_CHANNEL_WEB;
    calm_session(s, day_ms + 7 * HOUR + (int64_t)k * slot + between(&s->rng, 0, slot - 10 * MINUTE),
                 channel);
  }
}

/* A queue wait of a calm contact day: calm_wait(), now and then 6 to 9.5
 * min (under long_wait's 10). */
static int64_t background_wait(script_t *s, cx_channel_t channel) {
  int64_t wait = calm_wait(s, channel);
  if (wait >= 0 && rng_chance(&s->rng, 60))
    wait = between(&s->rng, 6 * MINUTE, 9 * MINUTE + 30 * SECOND);
  return wait;
}

/* A calm contact day: maybe self-service first (which may settle it; when it
 * fails, the contact comes more than an hour later), the IVR in front of
 * calls, sometimes an abandoned try and a retry, sometimes a transfer, a
 * case resolved within 70 h, a good survey. */
static void calm_contact_day(script_t *s, const habits_t *habits, int64_t day_ms) {
  cx_journey_t *journey = s->journey;
  uint8_t topic = calm_topic(s);
  cx_channel_t channel = habits->favourite;
  int64_t t = office_hours(s, day_ms);
  if (rng_chance(&s->rng, 300)) {
    planned_t attempt = lab_event(s, t, habits->self_channel, CX_EVENT_SELF_SERVICE, topic, 0);
    bool failed = rng_chance(&s->rng, 150);
    attempt.outcome = failed ? CX_OUTCOME_FAILED : CX_OUTCOME_COMPLETED;
    if (habits->self_channel != CX_CHANNEL_IVR)
      attempt.session = new_session(s);
    lab_plan(s, &attempt);
    if (!failed && rng_chance(&s->rng, 500))
      return;
    t += failed ? between(&s->rng, 65 * MINUTE, 3 * HOUR) : between(&s->rng, 2 * MINUTE,
                                                                     20 * MINUTE);
  }
  if (channel == CX_CHANNEL_PHONE && rng_chance(&s->rng, 500))
    t = lab_ivr_routing(s, t, topic);
  if (has_queue(channel) && rng_chance(&s->rng, 80)) {
    planned_t gave_up = lab_contact(s, t, channel, topic, 0, between(&s->rng, 30 * SECOND,
                                    4 * MINUTE), CX_OUTCOME_ABANDONED);
    lab_plan(s, &gave_up);
    t = lab_end(&gave_up) + between(&s->rng, 5 * MINUTE, 30 * MINUTE);
  }
  bool live = channel == CX_CHANNEL_PHONE || channel == CX_CHANNEL_CHAT ||
              channel == CX_CHANNEL_MESSAGING;
  bool transferred = live && rng_chance(&s->rng, 80);
  planned_t contact = lab_contact(s, t, channel, topic, 0, background_wait(s, channel),
                                  transferred ? CX_OUTCOME_TRANSFERRED : CX_OUTCOME_COMPLETED);
  if (channel != CX_CHANNEL_PHONE && channel != CX_CHANNEL_STORE && rng_chance(&s->rng, 500))
    set_sentiment(&contact, (int8_t)between(&s->rng, -45, 80));
  lab_plan(s, &contact);
  int64_t end = lab_end(&contact);
  if (transferred) {
    planned_t transfer = lab_transfer(s, end, channel, topic, 0,
                                      between(&s->rng, 10 * SECOND, 2 * MINUTE),
                                      CX_OUTCOME_COMPLETED);
    lab_plan(s, &transfer);
    end = lab_end(&transfer);
  }
  if (rng_chance(&s->rng, 150)) {
    uint32_t case_number = ++journey->customers[s->customer].cases;
    lab_simple(s, end + SECOND, channel, CX_EVENT_CASE_OPENED, topic, case_number, 0);
    int64_t open_for = rng_chance(&s->rng, 100) ? between(&s->rng, 48 * HOUR, 70 * HOUR)
                                                : between(&s->rng, HOUR, 40 * HOUR);
    lab_simple(s, end + SECOND + open_for, channel, CX_EVENT_CASE_RESOLVED, topic, case_number, 0);
  }
  if (rng_chance(&s->rng, 250)) {
    static const uint8_t csats[] = {3, 4, 4, 5, 5, 5};
    lab_survey(s, end + between(&s->rng, 10 * MINUTE, 90 * MINUTE), topic, 0,
               csats[rng_below(&s->rng, COUNT(csats))], (int)between(&s->rng, 7, 10),
               rng_chance(&s->rng, 500) ? (int)between(&s->rng, 10, 90) : SENTIMENT_NONE);
  }
}

static void background_service(script_t *s, const habits_t *habits, uint32_t day,
                               int64_t day_ms) {
  if (day % habits->contact_period == habits->contact_phase && rng_chance(&s->rng, 600)) {
    calm_contact_day(s, habits, day_ms);
  } else if (rng_chance(&s->rng, 15)) {
    /* a review: mostly good, sometimes lukewarm (CSAT 3, mildly negative) */
    planned_t review = lab_event(s, office_hours(s, day_ms),
                                 rng_chance(&s->rng, 600) ? CX_CHANNEL_SOCIAL : CX_CHANNEL_WEB,
                                 CX_EVENT_REVIEW, TOPIC_NONE, 0);
    bool lukewarm = rng_chance(&s->rng, 300);
    review.csat = (uint8_t)(lukewarm ? 3 : between(&s->rng, 4, 5));
    set_sentiment(&review, (int8_t)(lukewarm ? between(&s->rng, -45, -10)
                                             : between(&s->rng, 30, 90)));
    lab_plan(s, &review);
  } else if (rng_chance(&s->rng, 10)) {
    /* marketing or analytics consent; profiling consent is left alone */
    lab_simple(s, office_hours(s, day_ms),
               rng_chance(&s->rng, habits->app_per_mille) ? CX_CHANNEL_APP : CX_CHANNEL_WEB,
               CX_EVENT_CONSENT, TOPIC_NONE, 0, DETAIL(DETAIL_CONSENT, rng_below(&s->rng, 3)));
  } else if (rng_chance(&s->rng, 10)) {
    lab_simple(s, office_hours(s, day_ms), CX_CHANNEL_STORE, CX_EVENT_PURCHASE, TOPIC_NONE, 0,
               DETAIL(DETAIL_PRODUCT, rng_below(&s->rng, COUNT(products))));
  }
}

static void script_init(script_t *s, cx_journey_t *journey, uint32_t customer, uint64_t key,
                        bool emit) {
  memset(s, 0, sizeof(*s));
  s->journey = journey;
  s->customer = customer;
  s->rng.state = journey->seed_key ^ key;
  s->emit = emit;
}

/* Runs the customer's story (planning it when emit); digital_ms has room for
 * DIGITAL_LOG_MAX times. */
static void run_story(script_t *s, const role_t *role, int64_t *digital_ms) {
  s->rng.state = s->journey->seed_key ^ mix64(0x73746f7279ULL + s->customer);
  s->digital_ms = digital_ms;
  s->digital_count = 0;
  story_plans[role->kind](s, day_start_ms(s->journey, role->day));
}

/* The labelled mode's episode: the customer's day (see the top of this
 * section). */
static void plan_labelled_day(cx_journey_t *journey, uint32_t customer) {
  customer_t *state = &journey->customers[customer];
  uint32_t day = state->next_s / 86400u;
  int64_t day_ms = day_start_ms(journey, day);
  role_t role = role_of(journey, customer);
  script_t script;
  if (role.story && day == role.day) {
    int64_t digital_ms[DIGITAL_LOG_MAX];
    script_init(&script, journey, customer, 0, true);
    run_story(&script, &role, digital_ms);
  }
  habits_t habits = habits_of(journey, customer);
  script_init(&script, journey, customer, mix64(mix64(0x646179ULL + customer) + day), true);
  if (!role.own_digital)
    background_digital(&script, &habits, day, day_ms);
  if (!role.story || day < role.quiet_from || day > role.quiet_to)
    background_service(&script, &habits, day, day_ms);
  state->next_s = day + 1 < journey->config.days ? (day + 1) * 86400u : NEVER;
}

/* Plans the customer's episode starting at next_s and schedules the next. */
static void plan_episode(cx_journey_t *journey, uint32_t customer) {
  if (journey->config.labelled) {
    plan_labelled_day(journey, customer);
    return;
  }
  customer_t *state = &journey->customers[customer];
  episode_t episode = {journey, {journey->seed_key ^ mix64(((uint64_t)customer << 32) |
                                                          state->next_s)},
                       persona_of(journey, customer), customer};
  persona_t *persona = &episode.persona;
  persona_at(persona, state->next_s);
  int64_t at_ms = journey->config.start_ms + (int64_t)state->next_s * SECOND +
                  rng_below(&episode.rng, 1000);
  uint32_t r = rng_below(&episode.rng, episodes_per_kday(persona));
  if (r < persona->digital_per_kday)
    plan_digital(&episode, at_ms);
  else if (r < persona->digital_per_kday + persona->service_per_kday)
    plan_service(&episode, at_ms);
  else
    plan_trouble(&episode, at_ms, false);
  state->next_s = next_episode_s(journey, &episode.rng, persona, state->next_s);
}

/* ---- periods ---- */

/* Sorts keys (time in period << 32 | plan index): equal times keep planning
 * order. LSD radix sort on the 22 time bits, insertion sort when few. */
static void sort_period(cx_journey_t *journey, int64_t period_start_ms) {
  size_t count = journey->plan_count;
  uint64_t *keys = journey->keys, *scratch = journey->scratch;
  for (size_t k = 0; k < count; k++) {
    int64_t offset_ms = journey->plans[k].at_ms - period_start_ms;
    assert(offset_ms >= 0 && offset_ms < PERIOD_MS);
    keys[k] = (uint64_t)offset_ms << 32 | k;
  }
  if (count <= 64) { /* quiet hours: insertion sort beats clearing the counters */
    for (size_t k = 1; k < count; k++) {
      uint64_t key = keys[k];
      size_t at = k;
      for (; at > 0 && keys[at - 1] > key; at--)
        keys[at] = keys[at - 1];
      keys[at] = key;
    }
    return;
  }
  for (int shift = 32; shift < 54; shift += 11) {
    size_t counts[2048] = {0};
    for (size_t k = 0; k < count; k++)
      counts[(keys[k] >> shift) & 2047]++;
    size_t total = 0;
    for (size_t b = 0; b < 2048; b++) {
      size_t n = counts[b];
      counts[b] = total;
      total += n;
    }
    for (size_t k = 0; k < count; k++)
      scratch[counts[(keys[k] >> shift) & 2047]++] = keys[k];
    uint64_t *swap = keys;
    keys = scratch;
    scratch = swap;
  }
  /* an even number of passes leaves the result in journey->keys */
}

/* Plans the next period and sorts it; false at the end of the stream. */
static bool next_period(cx_journey_t *journey) {
  int64_t period_start_ms = journey->config.start_ms + (int64_t)journey->period * PERIOD_MS;
  if (period_start_ms >= journey->end_ms || journey->error)
    return false;
  journey->period_end_ms = period_start_ms + PERIOD_MS;
  journey->plan_count = 0;
  journey->cursor = 0;
  while (journey->heap_count && journey->heap[0].event.at_ms < journey->period_end_ms) {
    planned_t event = journey->heap[0].event;
    heap_pop(journey);
    journey_plan(journey, &event);
  }
  uint32_t bucket = journey->period % RING_BUCKETS;
  uint32_t customer = journey->buckets[bucket];
  journey->buckets[bucket] = NO_CUSTOMER;
  while (customer != NO_CUSTOMER) {
    customer_t *state = &journey->customers[customer];
    uint32_t next = state->link;
    if (next != NO_CUSTOMER)
      __builtin_prefetch(&journey->customers[next]);
    while (state->next_s != NEVER && state->next_s / PERIOD_S == journey->period)
      plan_episode(journey, customer);
    if (state->next_s != NEVER)
      calendar_insert(journey, customer); /* a later lap of the ring, or a later period */
    customer = next;
  }
  journey->period++;
  if (journey->error)
    return false;
  sort_period(journey, period_start_ms);
  return true;
}

/* ---- emission ---- */

static char *put_u64(char *out, uint64_t value) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = (char)('0' + value % 10);
    value /= 10;
  } while (value);
  while (n)
    *out++ = digits[--n];
  return out;
}

static char *put_u64_width(char *out, uint64_t value, int width) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = (char)('0' + value % 10);
    value /= 10;
  } while (value || n < width);
  while (n)
    *out++ = digits[--n];
  return out;
}

static cx_str_t slice(const char *start, const char *end) {
  cx_str_t s = {start, (size_t)(end - start)};
  return s;
}

static void fill_event(cx_journey_t *journey, const planned_t *planned, cx_event_t *event) {
  static const char hex[] = "0123456789abcdef";
  customer_t *state = &journey->customers[planned->customer];
  if (state->seq++ == 0)
    journey->active_customers++;
  if (journey->emitted++ == 0)
    journey->first_ms = planned->at_ms;
  journey->last_ms = planned->at_ms;

  char *end = put_u64(journey->event_id + journey->event_id_prefix_len, journey->emitted);
  event->event_id = slice(journey->event_id, end);
  end = put_u64_width(journey->customer_id + 1, (uint64_t)planned->customer + 1, 6);
  event->customer_id = slice(journey->customer_id, end);
  event->occurred_at_ms = planned->at_ms;
  event->channel = (cx_channel_t)planned->channel;
  event->type = (cx_event_type_t)planned->type;
  event->outcome = (cx_outcome_t)planned->outcome;
  event->case_id.ptr = NULL;
  event->case_id.len = 0;
  if (planned->case_number) {
    size_t len = event->customer_id.len;
    memcpy(journey->case_id, journey->customer_id, len);
    journey->case_id[len] = '-';
    journey->case_id[len + 1] = 'K';
    end = put_u64(journey->case_id + len + 2, planned->case_number);
    event->case_id = slice(journey->case_id, end);
  }
  event->topic = cx_str(topic_names[planned->topic]);
  event->agent_id.ptr = NULL;
  event->agent_id.len = 0;
  if (planned->agent) {
    end = put_u64_width(journey->agent_id + 1, planned->agent, 4);
    event->agent_id = slice(journey->agent_id, end);
  }
  event->has_wait_ms = planned->flags & PLANNED_WAIT;
  event->wait_ms = event->has_wait_ms ? planned->wait_ms : 0;
  event->has_handle_ms = planned->flags & PLANNED_HANDLE;
  event->handle_ms = event->has_handle_ms ? planned->handle_ms : 0;
  event->has_sentiment = planned->flags & PLANNED_SENTIMENT;
  event->sentiment = event->has_sentiment ? (float)planned->sentiment_centi / 100.0f : 0.0f;
  event->has_csat = planned->csat != 0;
  event->csat = planned->csat;
  event->has_nps = planned->nps >= 0;
  event->nps = event->has_nps ? planned->nps : 0;

  static const cx_str_t seq_key = {"seq", 3}, session_key = {"session", 7};
  size_t count = 0;
  end = put_u64(journey->seq, state->seq);
  event->attribute_keys[count] = seq_key;
  event->attribute_values[count++] = slice(journey->seq, end);
  if (planned->session) {
    char *s = journey->session;
    *s++ = 'S';
    for (int shift = 28; shift >= 0; shift -= 4)
      *s++ = hex[(planned->session >> shift) & 15];
    event->attribute_keys[count] = session_key;
    event->attribute_values[count++] = slice(journey->session, s);
  }
  if (planned->detail) {
    const detail_kind_t *kind = &detail_kinds[planned->detail >> 4];
    event->attribute_keys[count] = cx_str(kind->key);
    event->attribute_values[count++] = cx_str(kind->values[planned->detail & 15]);
  }
  event->attribute_count = count;
}

/* ---- contract ---- */

void cx_journey_config_default(cx_journey_config_t *config) {
  config->customers = 10000;
  config->events = 0;
  config->days = 7;
  config->seed = 1;
  config->start_ms = DEFAULT_START_MS;
  config->labelled = false;
}

cx_err_t cx_journey_new(const cx_journey_config_t *config, cx_journey_t **out,
                        char *errstr, size_t errstr_size) {
  if (!config || !out) {
    snprintf(errstr, errstr_size, "cx_journey_new: config and journey must not be NULL");
    return CX_ERR_INVALID_ARG;
  }
  if (config->customers < 1 || config->customers > CX_JOURNEY_MAX_CUSTOMERS) {
    snprintf(errstr, errstr_size, "customers: %llu: expected 1 .. %llu",
             (unsigned long long)config->customers, (unsigned long long)CX_JOURNEY_MAX_CUSTOMERS);
    return CX_ERR_CONFIG;
  }
  if (config->days > CX_JOURNEY_MAX_DAYS) {
    snprintf(errstr, errstr_size, "days: %u: expected 0 .. %u (0 = until events)",
             config->days, CX_JOURNEY_MAX_DAYS);
    return CX_ERR_CONFIG;
  }
  if (config->days == 0 && config->events == 0) {
    snprintf(errstr, errstr_size,
             "days: 0 means unbounded, which needs an events limit: set days or events");
    return CX_ERR_CONFIG;
  }
  if (config->start_ms < 0 || config->start_ms > CX_JOURNEY_MAX_START_MS) {
    snprintf(errstr, errstr_size,
             "start_ms: %lld: expected 0 .. %lld (1970-01-01 .. 9999-12-31 UTC)",
             (long long)config->start_ms, (long long)CX_JOURNEY_MAX_START_MS);
    return CX_ERR_CONFIG;
  }
  if (config->labelled && config->events) {
    snprintf(errstr, errstr_size,
             "events: %llu: a labelled set is generated whole (its labels need every event); "
             "leave events at 0",
             (unsigned long long)config->events);
    return CX_ERR_CONFIG;
  }
  if (config->labelled && config->days < CX_JOURNEY_LABELLED_MIN_DAYS) {
    snprintf(errstr, errstr_size,
             "days: %u: a labelled set needs at least %u days (engagement_drop needs 35 days "
             "of history before a drop)",
             config->days, CX_JOURNEY_LABELLED_MIN_DAYS);
    return CX_ERR_CONFIG;
  }
  if (config->labelled && config->customers > UINT32_MAX / 2) {
    snprintf(errstr, errstr_size, "customers: %llu: expected at most %u in a labelled set",
             (unsigned long long)config->customers, UINT32_MAX / 2);
    return CX_ERR_CONFIG;
  }
  cx_journey_t *journey = calloc(1, sizeof(*journey));
  if (!journey)
    goto nomem;
  journey->config = *config;
  journey->seed_key = mix64(config->seed ^ 0x6a6f75726e657973ULL);
  uint32_t days = config->days ? config->days : CX_JOURNEY_MAX_DAYS;
  journey->end_ms = config->start_ms + (int64_t)days * DAY_MS;
  journey->end_s = (uint32_t)((int64_t)days * DAY_MS / SECOND);
  journey->customers = malloc(config->customers * sizeof(*journey->customers));
  journey->buckets = malloc(RING_BUCKETS * sizeof(*journey->buckets));
  if (!journey->customers || !journey->buckets)
    goto nomem;
  for (uint32_t b = 0; b < RING_BUCKETS; b++)
    journey->buckets[b] = NO_CUSTOMER;
  if (config->labelled)
    roles_init(journey);
  for (uint32_t customer = 0; config->labelled && customer < config->customers; customer++) {
    customer_t *state = &journey->customers[customer];
    state->seq = 0;
    state->cases = role_of(journey, customer).story ? STORY_CASES : 0;
    state->next_s = 0; /* every customer plans each day at its start */
    calendar_insert(journey, customer);
  }
  for (uint32_t customer = 0; !config->labelled && customer < config->customers; customer++) {
    customer_t *state = &journey->customers[customer];
    persona_t persona = persona_of(journey, customer);
    persona_at(&persona, 0);
    rng_t rng = {journey->seed_key ^ mix64(0x6669727374ULL + customer)};
    state->seq = 0;
    state->cases = 0;
    state->next_s = next_episode_s(journey, &rng, &persona, 0);
    if (state->next_s != NEVER)
      calendar_insert(journey, customer);
  }
  char *end = journey->event_id;
  memcpy(end, "gen-", 4);
  end = put_u64(end + 4, config->seed);
  *end++ = '-';
  journey->event_id_prefix_len = (size_t)(end - journey->event_id);
  journey->customer_id[0] = 'C';
  journey->agent_id[0] = 'A';
  *out = journey;
  return CX_OK;

nomem:
  cx_journey_destroy(journey);
  snprintf(errstr, errstr_size,
           "out of memory for %llu customers (about 16 bytes each): use fewer customers",
           (unsigned long long)config->customers);
  return CX_ERR_NOMEM;
}

bool cx_journey_next(cx_journey_t *journey, cx_event_t *event) {
  if (journey->config.events && journey->emitted >= journey->config.events)
    return false;
  while (journey->cursor >= journey->plan_count) {
    if (!next_period(journey))
      return false;
  }
  /* The buffer is read in time order, that is at random: fetch ahead the
   * records and the customers' states the next calls will touch. */
  size_t cursor = journey->cursor++;
  const uint64_t *keys = journey->keys;
  if (cursor + PREFETCH_AHEAD < journey->plan_count)
    __builtin_prefetch(&journey->plans[keys[cursor + PREFETCH_AHEAD] & 0xffffffffu]);
  if (cursor + PREFETCH_AHEAD / 2 < journey->plan_count) {
    const planned_t *soon = &journey->plans[keys[cursor + PREFETCH_AHEAD / 2] & 0xffffffffu];
    __builtin_prefetch(&journey->customers[soon->customer]);
  }
  const planned_t *planned = &journey->plans[keys[cursor] & 0xffffffffu];
  fill_event(journey, planned, event);
  return true;
}

/* Labels of one customer, by time then rule. */
static void load_labels(cx_journey_t *journey, uint32_t customer) {
  journey->label_count = 0;
  journey->label_cursor = 0;
  role_t role = role_of(journey, customer);
  if (!role.story)
    return;
  script_t script;
  int64_t digital_ms[DIGITAL_LOG_MAX];
  script_init(&script, journey, customer, 0, false);
  run_story(&script, &role, digital_ms);
  for (size_t k = 0; k < script.label_count; k++) {
    size_t at = k;
    for (; at > 0 && (journey->labels[at - 1].at_ms > script.labels[k].at_ms ||
                      (journey->labels[at - 1].at_ms == script.labels[k].at_ms &&
                       journey->labels[at - 1].rule > script.labels[k].rule));
         at--)
      journey->labels[at] = journey->labels[at - 1];
    journey->labels[at].rule = script.labels[k].rule;
    journey->labels[at].at_ms = script.labels[k].at_ms;
  }
  journey->label_count = script.label_count;
  journey->label_story = script.story;
  char *end = put_u64_width(journey->label_customer_id + 1, (uint64_t)customer + 1, 6);
  journey->label_customer_id[0] = 'C';
  *end = '\0';
}

bool cx_journey_next_label(cx_journey_t *journey, cx_journey_label_t *label) {
  if (!journey->config.labelled)
    return false;
  while (journey->label_cursor >= journey->label_count) {
    if (journey->label_customer >= journey->config.customers)
      return false;
    load_labels(journey, (uint32_t)journey->label_customer++);
  }
  size_t k = journey->label_cursor++;
  label->customer_id = cx_str(journey->label_customer_id);
  label->rule = cx_rule_name((cx_rule_t)journey->labels[k].rule);
  label->story = journey->label_story;
  label->trigger_ms = journey->labels[k].at_ms;
  return true;
}

void cx_journey_stats(const cx_journey_t *journey, cx_journey_stats_t *stats) {
  stats->events = journey->emitted;
  stats->active_customers = journey->active_customers;
  stats->first_ms = journey->first_ms;
  stats->last_ms = journey->last_ms;
  stats->error = journey->error;
}

void cx_journey_destroy(cx_journey_t *journey) {
  if (!journey)
    return;
  free(journey->customers);
  free(journey->buckets);
  free(journey->plans);
  free(journey->keys);
  free(journey->scratch);
  free(journey->heap);
  free(journey);
}
