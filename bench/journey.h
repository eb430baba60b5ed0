/* The journey generator: synthetic omnichannel customer journeys, emitted as
 * InteractionEvents in event-time order and deterministic per seed. Pure
 * logic, no I/O.
 *
 * Each customer is a Poisson process of episodes, thinned at night. Activity
 * is skewed: digital rates follow a power law (half the customers have an
 * app/web episode every ten days or so, one in 128 about twenty a day).
 * Episodes are app/web sessions (clicks, sometimes failed logins, errors,
 * rage clicks, purchases), service needs (IVR/app/web self-service that
 * sometimes FAILS and is followed by an assisted contact, contacts on every
 * assisted channel with queue waits, patience and abandonment, transfers,
 * escalations, cases that resolve hours to days later and sometimes reopen,
 * surveys with CSAT/NPS/sentiment, payment failures, technician visits and
 * missed appointments, reviews, complaints, cancellation intents) and, for
 * the 7% of "frustrated" customers, trouble bursts: 3 to 6 contacts within
 * hours across channels with long waits, abandonments and transfers, then
 * bad surveys, complaints or cancellation intents. Some frustrated customers
 * also drift away (activity drops to an eighth) at a random moment. With the
 * section 6 rules, over a week about 7% of customers meet repeat_contact,
 * 3-4% long_wait and 2% abandonment.
 *
 * An episode is planned whole when it starts; events are released one hour
 * of event time at a time, sorted, so memory grows with customers (16 bytes
 * each) and with the events of one hour, never with the whole stream.
 *
 * Labelled mode (config.labelled) writes a ground truth for measuring the
 * rules of docs/rules.md instead: 2 in 5 customers (at least one per story)
 * live a scripted story, the others are ordinary customers whose calm
 * traffic fires no rule at all (a few contacts a week on one assisted
 * channel and one self-service channel, waits under 10 min, good surveys,
 * cases resolved within the SLA, regular app/web use; some come close to a
 * threshold on purpose). Each story fires a
 * known set of rules at known event times: one story per rule, a public bad
 * review, and the three seed stories (an installation that needs a
 * technician, three agents and a long evening; self-service that fails
 * before a call; a quiet customer who visits the cancellation page). The
 * stories, the rules each fires and why are next to their code in
 * journey.c. cx_journey_next_label() lists the expected (customer, rule)
 * pairs with the time the rule must first fire; every other pair must stay
 * quiet. Story customers and their days change with the seed. The set
 * spans at least CX_JOURNEY_LABELLED_MIN_DAYS days (engagement_drop needs 35
 * days of history), and every timer deadline is followed by later events. */
#ifndef CX_JOURNEY_H
#define CX_JOURNEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../operators/event.h"
#include "../stream/err.h"

/* Limits checked by cx_journey_new(). */
#define CX_JOURNEY_MAX_CUSTOMERS 100000000ULL
#define CX_JOURNEY_MAX_DAYS 36500u
#define CX_JOURNEY_MAX_START_MS 253402300799999LL /* 9999-12-31T23:59:59.999Z */

typedef struct cx_journey_config_s {
  uint64_t customers; /* customers C000001.. ; 1 .. CX_JOURNEY_MAX_CUSTOMERS */
  uint64_t events;    /* stop after this many events; 0 = all of the days */
  uint32_t days;      /* simulated days; 0 = unbounded (needs events > 0); also
                       * spreads the moments some frustrated customers leave */
  uint64_t seed;      /* same seed, same config => same events */
  int64_t start_ms;   /* first instant simulated, ms since the epoch (UTC) */
  bool labelled;      /* labelled mode (above): needs days >= CX_JOURNEY_LABELLED_MIN_DAYS
                       * and events = 0 */
} cx_journey_config_t;

#define CX_JOURNEY_LABELLED_MIN_DAYS 56u
#define CX_JOURNEY_LABELLED_DEFAULT_DAYS 60u /* what cxstream-gen --labelled uses */

/* 10000 customers, 7 days, seed 1, all events, start 2026-01-05T00:00:00Z,
 * not labelled. */
void cx_journey_config_default(cx_journey_config_t *config);

typedef struct cx_journey_s cx_journey_t;

/* Checks the config (messages name the field and the accepted range) and
 * allocates the generator; the config is copied. */
cx_err_t cx_journey_new(const cx_journey_config_t *config, cx_journey_t **journey,
                        char *errstr, size_t errstr_size);

/* Next event in event-time order (non-decreasing occurred_at); returns false
 * at the end, or when memory ran out (cx_journey_stats() says which). The
 * event's strings point into the generator and stay valid until the next
 * call. Every event carries the attribute "seq": the customer's 1-based
 * event number, without gaps. When days is set, the stream stops at
 * start_ms + days; when events is set, after that many events (a prefix of
 * the stream the same config gives without the limit). Equal times keep
 * planning order; event_id is "gen-<seed>-<n>" with n counting from 1. */
bool cx_journey_next(cx_journey_t *journey, cx_event_t *event);

typedef struct cx_journey_stats_s {
  uint64_t events;           /* events returned so far */
  uint64_t active_customers; /* customers with at least one event returned */
  int64_t first_ms;          /* occurred_at of the first event (0 before it) */
  int64_t last_ms;           /* occurred_at of the last event returned */
  cx_err_t error;            /* CX_OK, or why the stream ended early (CX_ERR_NOMEM) */
} cx_journey_stats_t;

void cx_journey_stats(const cx_journey_t *journey, cx_journey_stats_t *stats);

/* One expected (customer, rule) pair of a labelled set. */
typedef struct cx_journey_label_s {
  cx_str_t customer_id;  /* "C000123", as in the events */
  const char *rule;      /* rule name, as alerts spell it ("long_wait") */
  const char *story;     /* the customer's story ("installation_long_evening") */
  int64_t trigger_ms;    /* event time of the event (or timer deadline) at which
                          * the rule must first fire for this customer */
} cx_journey_label_t;

/* Next label of a labelled set: customers in id order, each customer's
 * labels by trigger time. False after the last one, and always when the
 * config is not labelled. Independent of cx_journey_next() (labels come from
 * the stories' scripts, not from the events emitted); strings stay valid
 * until the next call. */
bool cx_journey_next_label(cx_journey_t *journey, cx_journey_label_t *label);

/* NULL is a no-op. */
void cx_journey_destroy(cx_journey_t *journey);

#endif
