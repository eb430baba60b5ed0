/* Journey generator (the model is in journey.h). Time advances one period, an
 * hour of event time, at a time: customers whose next episode starts in the
 * period come out of a calendar of buckets, each episode is planned whole,
 * its events inside the period go to a buffer and later ones to a min-heap;
 * the buffer is then radix-sorted by time, stably so that equal times keep
 * planning order, and handed out one event per call. Every random draw comes
 * from a splitmix64 stream seeded by (seed, customer, episode start), so the
 * stream depends on nothing but the config. */
#include "journey.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  X(order_status)

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
                                              "analytics_granted", "profiling_withdrawn"};
static const char *const usage_kinds[] = {"data", "voice", "streaming", "roaming"};
static const char *const products[] = {"add_on", "device", "plan_upgrade", "insurance"};

/* An event's one optional detail attribute: kind in the high 3 bits, index
 * into the kind's values in the low 5. */
enum {
  DETAIL_NONE, DETAIL_ELEMENT, DETAIL_ERROR, DETAIL_PAYMENT, DETAIL_CANCEL,
  DETAIL_CONSENT, DETAIL_USAGE, DETAIL_PRODUCT, DETAIL__COUNT
};
#define DETAIL(kind, index) ((uint8_t)((kind) << 5 | (index)))

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

/* Plans the customer's episode starting at next_s and schedules the next. */
static void plan_episode(cx_journey_t *journey, uint32_t customer) {
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
    const detail_kind_t *kind = &detail_kinds[planned->detail >> 5];
    event->attribute_keys[count] = cx_str(kind->key);
    event->attribute_values[count++] = cx_str(kind->values[planned->detail & 31]);
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
  for (uint32_t customer = 0; customer < config->customers; customer++) {
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
